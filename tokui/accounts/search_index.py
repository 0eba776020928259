"""The database-side search indexes, created and healed after every migration.

SQLite: per searched table, an FTS5 trigram table over ``search_text`` (3+ characters) and an
FTS5 unicode61 table over ``search_bigrams`` (2 characters), both external-content tables kept
in step by triggers. A migration that rebuilds a table (SQLite's ALTER TABLE often does) drops
its triggers silently, so ``ensure_search_indexes`` runs after every ``migrate``: it recreates
what is missing and rebuilds the index when a trigger had been lost.
PostgreSQL: the pg_trgm extension and a GIN index on ``search_text``.
"""

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

SEARCHED_TABLES = ("accounts_account", "accounts_contact")
# (suffix, column, tokenizer)
_SQLITE_INDEXES = (
    ("fts", "search_text", "trigram"),
    ("bigrams", "search_bigrams", "unicode61 remove_diacritics 0"),
)


def _sqlite_statements(table: str, suffix: str, column: str, tokenizer: str) -> list[str]:
    fts = f"{table}_{suffix}"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {column} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); "
        f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
    ]


def ensure_search_indexes(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for table in SEARCHED_TABLES:
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {table}_search_trgm ON {table} "
                    "USING gin (search_text gin_trgm_ops)"
                )
            return
        if connection.vendor != "sqlite":
            return
        existing_tables = set(connection.introspection.table_names(cursor))
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        triggers = {row[0] for row in cursor.fetchall()}
        for table in SEARCHED_TABLES:
            columns = {
                c.name for c in connection.introspection.get_table_description(cursor, table)
            }
            for suffix, column, tokenizer in _SQLITE_INDEXES:
                if column not in columns:
                    continue  # an older schema, mid-migration
                fts = f"{table}_{suffix}"
                created = fts not in existing_tables
                if created:
                    cursor.execute(
                        f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{table}', "
                        f"content_rowid='id', tokenize='{tokenizer}')"
                    )
                lost = any(f"{fts}_{t}" not in triggers for t in ("ai", "ad", "au"))
                for sql in _sqlite_statements(table, suffix, column, tokenizer):
                    cursor.execute(sql)
                if created or lost:
                    cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def heal_search_indexes(sender: Any, *, using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver."""
    from django.db import connections

    ensure_search_indexes(connections[using])
