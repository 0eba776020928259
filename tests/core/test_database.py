"""The SQLite defaults that let several processes share one file safely."""

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings")
def test_sqlite_uses_wal_immediate_transactions_and_a_busy_timeout(tmp_path, django_db_blocker):
    config = {**settings.DATABASES["default"], "NAME": str(tmp_path / "t.sqlite3")}
    wrapper = DatabaseWrapper(config, alias="wal-check")
    with django_db_blocker.unblock():
        with wrapper.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] >= 5000
        assert wrapper.transaction_mode == "IMMEDIATE"
        wrapper.close()
