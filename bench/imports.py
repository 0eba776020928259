"""Benchmark: importing contacts from a CSV, end to end, against a bare SQLite insert.

Builds a temporary SQLite database with some accounts, writes a CSV of N contact rows for
those accounts, imports it through the import service (reader, mapping, matching, validation,
audit, batches) and prints rows per second. For scale it then inserts the same rows with
``sqlite3`` ``executemany`` into a plain table (no validation, no indexes) and prints the ratio.

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

from django.core.management import call_command  # noqa: E402

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
    say(f"import:      {rate:12,.0f} rows/s\n")
    say(f"bare insert: {bare_rate:12,.0f} rows/s (sqlite3 executemany, plain table)\n")
    say(f"ratio:       {bare_rate / rate:12.1f}x slower than the bare insert\n")
    if args.memory:
        say(f"peak traced memory during the import: {peak / 1e6:.1f} MB\n")


if __name__ == "__main__":
    main()
