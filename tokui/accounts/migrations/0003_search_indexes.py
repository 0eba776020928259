"""Substring search indexes (see tokui/accounts/search_index.py, which also heals them after
every migrate): SQLite FTS5 tables kept by triggers; PostgreSQL pg_trgm."""

from django.db import migrations


def forwards(apps, schema_editor):
    from tokui.accounts.search_index import ensure_search_indexes

    ensure_search_indexes(schema_editor.connection)


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for table in ("accounts_account", "accounts_contact"):
            if connection.vendor == "sqlite":
                for suffix in ("fts", "bigrams"):
                    for trigger in ("ai", "ad", "au"):
                        cursor.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}_{trigger}")
                    cursor.execute(f"DROP TABLE IF EXISTS {table}_{suffix}")
            elif connection.vendor == "postgresql":
                cursor.execute(f"DROP INDEX IF EXISTS {table}_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_identity_import_screening_segments")]
    operations = [migrations.RunPython(forwards, backwards)]
