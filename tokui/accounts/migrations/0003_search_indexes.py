"""Substring search indexes: SQLite FTS5 trigram tables kept by triggers; PostgreSQL pg_trgm.

SQLite: an external-content FTS5 table per searched table, tokenised in trigrams, kept in step
by triggers so every write path (services, bulk loads, imports) is indexed. PostgreSQL: a GIN
``gin_trgm_ops`` index on ``search_text`` serves ``LIKE '%term%'`` for queries of two or more
characters.
"""

from django.db import migrations

TABLES = ("accounts_account", "accounts_contact")


def sqlite_sql(table: str) -> list[str]:
    fts = f"{table}_fts"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table}', "
        f"content_rowid='id', tokenize='trigram')",
        f"INSERT INTO {fts}(rowid, search_text) SELECT id, search_text FROM {table}",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search_text ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
    ]


def sqlite_reverse(table: str) -> list[str]:
    fts = f"{table}_fts"
    return [
        f"DROP TRIGGER IF EXISTS {fts}_ai",
        f"DROP TRIGGER IF EXISTS {fts}_ad",
        f"DROP TRIGGER IF EXISTS {fts}_au",
        f"DROP TABLE IF EXISTS {fts}",
    ]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        if vendor == "sqlite":
            for table in TABLES:
                for sql in sqlite_sql(table):
                    cursor.execute(sql)
        elif vendor == "postgresql":
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for table in TABLES:
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {table}_search_trgm ON {table} "
                    "USING gin (search_text gin_trgm_ops)"
                )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            if vendor == "sqlite":
                for sql in sqlite_reverse(table):
                    cursor.execute(sql)
            elif vendor == "postgresql":
                cursor.execute(f"DROP INDEX IF EXISTS {table}_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_identity_import_screening_segments")]
    operations = [migrations.RunPython(forwards, backwards)]
