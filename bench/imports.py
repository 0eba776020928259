"""Benchmark: importing contacts from a CSV, end to end, against a bare SQLite insert.

Builds a temporary SQLite database with some accounts, writes a CSV of N contact rows for
those accounts, imports it through the import service (reader, mapping, matching, validation,
audit, batches) and prints rows per second. For scale it then times bare ``sqlite3`` inserts
and prints the import's ratio to each:

- "plain table": the CSV's cells into a table of text columns without indexes. Nothing that
  validates and indexes rows can come near it; it is kept for comparison with earlier runs.
- "real contact table": the *same final contact rows* the import stored (every column, values as
  stored, read back from the database) into a copy of ``accounts_contact`` with its indexes, its
  foreign key and its two FTS5 search-index triggers: what storing the contacts costs without
  any of Tokui's Python work. The import also writes one audit event per contact, which this
  baseline leaves out. It is timed twice: as one ``executemany`` (the issue's measure) and
  as one multi-row INSERT per batch of rows, which is how the import writes and much faster
  with FTS5 (see ``stored_insert``).

Usage: .venv/bin/python bench/imports.py [--rows 100000] [--accounts 2000] [--mode create]
"""

import argparse
import csv
import os
import random
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TOKUI_VAR_DIR", tempfile.mkdtemp(prefix="tokui-bench-imports-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokui.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from tokui.accounts.imports.runner import import_job_run  # noqa: E402
from tokui.accounts.imports.services import import_job_create  # noqa: E402
from tokui.accounts.models import Account, Contact  # noqa: E402
from tokui.accounts.services import account_derive_fields  # noqa: E402
from tokui.users.constants import Role  # noqa: E402
from tokui.users.models import Team, User  # noqa: E402

FAMILY = [
    ("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"),
    ("田中", "タナカ"), ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山本", "ヤマモト"),
    ("松本", "マツモト"), ("井上", "イノウエ"), ("木村", "キムラ"), ("林", "ハヤシ"),
    ("斎藤", "サイトウ"), ("清水", "シミズ"), ("山口", "ヤマグチ"), ("森", "モリ"),
]  # fmt: skip
GIVEN = [
    ("太郎", "タロウ"), ("花子", "ハナコ"), ("一郎", "イチロウ"), ("美咲", "ミサキ"),
    ("健太", "ケンタ"), ("陽子", "ヨウコ"), ("翔", "ショウ"), ("愛", "アイ"),
    ("大輔", "ダイスケ"), ("由美", "ユミ"), ("誠", "マコト"), ("恵", "メグミ"),
    ("直樹", "ナオキ"), ("裕子", "ユウコ"), ("拓也", "タクヤ"), ("彩", "アヤ"),
    ("浩", "ヒロシ"), ("真由美", "マユミ"), ("隆", "タカシ"), ("明美", "アケミ"),
]  # fmt: skip
TITLES = ["部長", "課長", "係長", "主任", "", "営業担当"]
DEPARTMENTS = ["営業部", "購買部", "総務部", "経営企画室", "技術部", ""]
HEADER = ["会社名", "姓", "名", "姓(カナ)", "名(カナ)", "部署名", "役職", "E-mail", "電話番号"]


def build(accounts: int) -> tuple[User, list[str]]:
    call_command("migrate", verbosity=0)
    team = Team.objects.create(name="East")
    kam = User.objects.create_user("kam", password="x", role=Role.KAM, team=team)
    rng = random.Random(1)
    batch = []
    for i in range(accounts):
        account = Account(
            name=f"株式会社ベンチ{i:05d}",
            name_kana=f"ベンチ{i}",
            owner=kam,
            phone=f"+81312{rng.randrange(10**6):06d}",
        )
        account_derive_fields(account)
        batch.append(account)
    Account.objects.bulk_create(batch, batch_size=2000)
    return kam, [a.name for a in batch]


def rows(n: int, companies: list[str]) -> list[list[str]]:
    rng = random.Random(2)
    out = []
    for i in range(n):
        (family, family_kana), (given, given_kana) = rng.choice(FAMILY), rng.choice(GIVEN)
        out.append(
            [
                rng.choice(companies),
                family,
                given,
                family_kana,
                given_kana,
                rng.choice(DEPARTMENTS),
                rng.choice(TITLES),
                f"person{i}@example{i % 97}.co.jp",
                f"03-{5000 + i // 10000:04d}-{i % 10000:04d}",
            ]
        )
    return out


def bare_insert(data: list[list[str]], directory: Path) -> float:
    """Seconds to insert the same rows into a plain SQLite table with executemany."""
    path = directory / "bare.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    columns = ", ".join(f"c{i} TEXT" for i in range(len(HEADER)))
    connection.execute(f"CREATE TABLE contacts (id INTEGER PRIMARY KEY, {columns})")
    marks = ", ".join("?" for _ in HEADER)
    names = ", ".join(f"c{i}" for i in range(len(HEADER)))
    started = time.perf_counter()
    with connection:
        connection.executemany(f"INSERT INTO contacts ({names}) VALUES ({marks})", data)
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def _schema(source: sqlite3.Connection, table: str) -> list[str]:
    """CREATE statements of ``table``, its indexes, its FTS5 tables and its triggers."""
    own = source.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND tbl_name = ? "
        "ORDER BY type = 'trigger', type = 'index'",
        [table],
    ).fetchall()
    # The search indexes are external-content FTS5 tables over this table (their shadow
    # tables are created with them).
    fts = source.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%' "
        "AND sql LIKE ?",
        [f"%content='{table}'%"],
    ).fetchall()
    statements = [sql for (sql,) in own]
    triggers = [sql for sql in statements if sql.startswith("CREATE TRIGGER")]
    rest = [sql for sql in statements if not sql.startswith("CREATE TRIGGER")]
    return rest + [sql for (sql,) in fts] + triggers


def stored_insert(database: Path, directory: Path, *, batch: int = 0) -> tuple[float, int]:
    """Seconds to insert the contacts exactly as the import stored them into a fresh copy of
    ``accounts_contact`` (indexes, foreign key, search-index triggers), and the row count.

    ``batch=0``: one ``executemany`` in one transaction. Otherwise one multi-row
    ``INSERT … VALUES (…), (…)`` and one transaction per ``batch`` rows, as the import writes.
    The two differ a lot: FTS5 writes its pending index data at the end of every statement,
    so ``executemany`` (one statement per row) pays that per row.
    """
    source = sqlite3.connect(database)
    columns = [row[1] for row in source.execute("PRAGMA table_info(accounts_contact)")]
    columns.remove("id")
    names = ", ".join(f'"{c}"' for c in columns)
    stored = source.execute(f"SELECT {names} FROM accounts_contact ORDER BY id").fetchall()
    account_ids = source.execute("SELECT id FROM accounts_account").fetchall()
    schema = _schema(source, "accounts_contact")
    source.close()

    path = directory / f"bare-contacts-{batch}.sqlite3"
    connection = sqlite3.connect(path)
    # The same settings as Tokui's connections (tokui/settings.py and Django's SQLite backend).
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    # Only what the foreign key looks up; the real accounts table is not written by the import.
    connection.execute("CREATE TABLE accounts_account (id integer NOT NULL PRIMARY KEY)")
    with connection:
        connection.executemany("INSERT INTO accounts_account (id) VALUES (?)", account_ids)
        for sql in schema:
            connection.execute(sql)
    row_marks = "({})".format(", ".join("?" for _ in columns))
    insert = f"INSERT INTO accounts_contact ({names}) VALUES "
    started = time.perf_counter()
    if batch:
        for start in range(0, len(stored), batch):
            chunk = stored[start : start + batch]
            with connection:
                connection.execute(
                    insert + ", ".join([row_marks] * len(chunk)),
                    [value for row in chunk for value in row],
                )
    else:
        with connection:
            connection.executemany(insert + row_marks, stored)
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed, len(stored)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--mode", default="create", choices=["create", "update", "skip"])
    parser.add_argument("--memory", action="store_true", help="Trace peak memory (slower).")
    args = parser.parse_args()
    directory = Path(os.environ["TOKUI_VAR_DIR"])
    kam, companies = build(args.accounts)
    data = rows(args.rows, companies)
    path = directory / "contacts.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(data)
    size = path.stat().st_size
    say = sys.stdout.write
    say(f"{args.rows:,} contact rows ({size / 1e6:.1f} MB), {args.accounts:,} accounts\n")

    if args.memory:
        tracemalloc.start()
    started = time.perf_counter()
    with path.open("rb") as file:
        job = import_job_create(
            actor=kam, file=file, name=path.name, target="contacts", mode=args.mode, preset="cards"
        )
    created = time.perf_counter()
    marks = {"rows": 0, "at": time.perf_counter()}
    step = max(args.rows // 10, 1)

    def progress(running: object) -> None:
        done = getattr(running, "processed_rows", 0)
        if done - marks["rows"] >= step:
            now = time.perf_counter()
            rate = (done - marks["rows"]) / (now - marks["at"])
            sys.stderr.write(f"  rows {marks['rows']:>9,}-{done:<9,} {rate:10,.0f} rows/s\n")
            marks.update(rows=done, at=now)

    job = import_job_run(job_id=job.pk, progress=progress)
    finished = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] if args.memory else 0
    if args.memory:
        tracemalloc.stop()

    total = finished - started
    say(
        f"import: {job.status}, created {job.created_count:,}, merged {job.merged_count:,}, "
        f"rejected {job.rejected_count:,} in {total:.2f}s "
        f"(checking and storing the file {created - started:.2f}s)\n"
    )
    assert Contact.objects.count() == job.created_count
    rate = args.rows / total
    bare = bare_insert(data, directory)
    bare_rate = args.rows / bare
    database = Path(connection.settings_dict["NAME"])
    many_seconds, stored_rows = stored_insert(database, directory)
    many_rate = stored_rows / many_seconds
    size = settings.TOKUI_IMPORT_BATCH_SIZE
    multi_seconds, _rows = stored_insert(database, directory, batch=size)
    multi_rate = stored_rows / multi_seconds
    say(f"import:                  {rate:9,.0f} rows/s\n")
    say("bare sqlite3 inserts of the same rows, and how many times slower the import is:\n")
    say(
        f"  plain table:           {bare_rate:9,.0f} rows/s  {bare_rate / rate:6.1f}x  "
        "(executemany of the CSV cells into text columns, no indexes)\n"
    )
    say(
        f"  real contact table:    {many_rate:9,.0f} rows/s  {many_rate / rate:6.1f}x  "
        "(executemany of the stored contact rows, every column as stored, into a copy of "
        "accounts_contact with its indexes, foreign key and FTS5 search triggers)\n"
    )
    say(
        f"  same, {size}-row INSERTs: {multi_rate:9,.0f} rows/s  {multi_rate / rate:6.1f}x  "
        "(one multi-row INSERT per transaction of a batch, as the import writes them; "
        "the fastest way to store these rows)\n"
    )
    say(
        "  (no baseline writes the import's audit events, one per contact, nor reads the file, "
        "looks for matches or validates)\n"
    )
    if args.memory:
        say(f"peak traced memory during the import: {peak / 1e6:.1f} MB\n")


if __name__ == "__main__":
    main()
