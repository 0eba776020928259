"""Two-character search on SQLite: a bigram column, backfilled, indexed by FTS5 (unicode61)."""

import re

from django.db import migrations, models

TABLES = ("accounts_account", "accounts_contact")


def _bigrams(folded: str) -> str:
    pieces: set[str] = set()
    for run in re.findall(r"[^\W_]+", folded):
        pieces.update(run[i : i + 2] for i in range(len(run) - 1))
    return " ".join(sorted(pieces))


def forwards(apps, schema_editor):
    for model_name in ("Account", "Contact"):
        model = apps.get_model("accounts", model_name)
        batch = []
        for row in model.objects.only("id", "search_text").iterator(chunk_size=2000):
            row.search_bigrams = _bigrams(row.search_text)
            batch.append(row)
            if len(batch) >= 2000:
                model.objects.bulk_update(batch, ["search_bigrams"])
                batch = []
        model.objects.bulk_update(batch, ["search_bigrams"])
    from tokui.accounts.search_index import ensure_search_indexes

    # Creates the bigram tables and restores the trigram triggers the table rebuild dropped.
    ensure_search_indexes(schema_editor.connection)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            fts = f"{table}_bigrams"
            for trigger in ("ai", "ad", "au"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {fts}_{trigger}")
            cursor.execute(f"DROP TABLE IF EXISTS {fts}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_search_indexes")]
    operations = [
        migrations.AddField(
            model_name="account",
            name="search_bigrams",
            field=models.TextField(default="", editable=False),
        ),
        migrations.AddField(
            model_name="contact",
            name="search_bigrams",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(forwards, backwards),
    ]
