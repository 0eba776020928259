"""Benchmark: the duplicate-pair query on a large book with planted duplicates.

Builds N accounts (unique names, readings, phones and domains, one contact each) and plants
duplicates of five kinds: the legal form written differently, the same reading, a shared contact
e-mail, a similar name with the same phone, and the name in katakana with the same website.
Then times ``duplicate_pairs`` for a head of sales (everything) and a KAM (their team), and
``account_duplicates`` for one account, and checks that every planted pair is found.

Usage: python bench/dedupe.py [--accounts 100000] [--planted 1000] [--repeat 5]
On a throwaway PostgreSQL (the database is created when missing):
scripts/with-postgres .venv/bin/python bench/dedupe.py
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TOKUI_VAR_DIR", tempfile.mkdtemp(prefix="tokui-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokui.settings")


def _ensure_postgres_database() -> None:
    """Create the database DATABASE_URL names when it does not exist yet (a fresh server)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg

    base, _sep, name = url.rpartition("/")
    try:
        psycopg.connect(url).close()
    except psycopg.OperationalError:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')


_ensure_postgres_database()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from tokui.accounts.dedupe import account_duplicates, duplicate_pairs  # noqa: E402
from tokui.accounts.models import Account, Contact  # noqa: E402
from tokui.accounts.services import account_derive_fields, contact_derive_fields  # noqa: E402
from tokui.users.constants import Role  # noqa: E402
from tokui.users.models import Team, User  # noqa: E402

PARTS = [
    ("山田", "ヤマダ"),
    ("東洋", "トウヨウ"),
    ("大和", "ダイワ"),
    ("北斗", "ホクト"),
    ("富士", "フジ"),
    ("朝日", "アサヒ"),
    ("三和", "サンワ"),
    ("中央", "チュウオウ"),
]
CORES = [("商事", "ショウジ"), ("工業", "コウギョウ"), ("精機", "セイキ"), ("物産", "ブッサン")]
# Digits written in kana and kanji, so every name and reading is unique and still plausible.
KANA_DIGITS = "アイウエオカキクケコ"
KANJI_DIGITS = "〇一二三四五六七八九"
BATCH = 5000


def _number(i: int, digits: str) -> str:
    return "".join(digits[int(d)] for d in str(i))


def _account(i: int, owner: User, rng: random.Random) -> Account:
    (p, pk), (c, ck) = rng.choice(PARTS), rng.choice(CORES)
    account = Account(
        name=f"株式会社{p}{_number(i, KANJI_DIGITS)}{c}",
        name_kana=f"{pk}{_number(i, KANA_DIGITS)}{ck}",
        owner=owner,
        kind=rng.choice(["client", "prospect"]),
        phone=f"+8135{i:08d}",
        website=f"https://www.c{i}.example",
    )
    account_derive_fields(account)
    return account


def _planted(kind: int, source: Account, owner: User) -> tuple[Account, str | None]:
    """A second entry of ``source``; the e-mail its contact shares, if that is the signal."""
    core = source.name.removeprefix("株式会社")
    shared_email = None
    if kind == 0:  # 山田一商事(株)
        twin = Account(name=f"{core}(株)", name_kana="", owner=owner)
    elif kind == 1:  # the reading, another kanji
        twin = Account(name=f"株式会社{core}興業", name_kana=source.name_kana, owner=owner)
    elif kind == 2:  # a contact already on file
        twin = Account(name=f"{core}ホールディングス", owner=owner)
        shared_email = f"info@{source.web_domain}"
    elif kind == 3:  # a branch with the same switchboard
        twin = Account(name=f"{core}大阪支店", owner=owner, phone=source.phone)
    else:  # the name in katakana, the same website
        twin = Account(name=source.name_kana, owner=owner, website=f"http://{source.web_domain}/")
    account_derive_fields(twin)
    return twin, shared_email


def _contact(account: Account, email: str, n: int) -> Contact:
    contact = Contact(account=account, family_name="山田", given_name=f"{n}", email=email)
    contact_derive_fields(contact)
    return contact


def build(n: int, planted: int) -> tuple[User, User, list[tuple[int, int]]]:
    call_command("migrate", verbosity=0)
    east, west = Team.objects.create(name="East"), Team.objects.create(name="West")
    head = User.objects.create_user("head", password="x", role=Role.HEAD)
    kam = User.objects.create_user("kam", password="x", role=Role.KAM, team=east)
    others = [
        User.objects.create_user(f"u{i}", password="x", role=Role.AM, team=east if i < 2 else west)
        for i in range(10)
    ]
    owners = [kam, *others]
    rng = random.Random(3)
    for start in range(0, n - planted, BATCH):
        batch = [
            _account(i, rng.choice(owners), rng)
            for i in range(start, min(n - planted, start + BATCH))
        ]
        created = Account.objects.bulk_create(batch)
        Contact.objects.bulk_create([_contact(a, f"k{a.pk}@{a.web_domain}", a.pk) for a in created])
    sources = list(Account.objects.order_by("?")[:planted])
    pairs: list[tuple[int, int]] = []
    for start in range(0, len(sources), BATCH):
        chunk = sources[start : start + BATCH]
        twins, emails = [], []
        for k, source in enumerate(chunk):
            twin, email = _planted((start + k) % 5, source, source.owner)
            twins.append(twin)
            emails.append(email)
        created = Account.objects.bulk_create(twins)
        contacts = []
        for source, twin, email in zip(chunk, created, emails, strict=True):
            pairs.append((min(source.pk, twin.pk), max(source.pk, twin.pk)))
            if email:
                contacts += [_contact(source, email, 1), _contact(twin, email, 2)]
        Contact.objects.bulk_create(contacts)
    if connection.vendor == "postgresql":
        # What autovacuum does to a table that has been written: statistics and the visibility
        # map (which lets the grouping read the key's index alone).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return head, kam, pairs


def measure(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--planted", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    head, kam, planted = build(args.accounts, args.planted)
    sys.stdout.write(
        f"built {Account.objects.count()} accounts, {Contact.objects.count()} contacts "
        f"({len(planted)} planted duplicates) on {connection.vendor} "
        f"in {time.perf_counter() - started:.1f}s\n"
    )
    found = {(p.a_id, p.b_id) for p in duplicate_pairs(viewer=head)}
    missed = [p for p in planted if p not in found]
    sys.stdout.write(
        f"planted pairs found: {len(planted) - len(missed)}/{len(planted)}; "
        f"pairs reported: {len(found)}\n"
    )
    one = Account.objects.get(pk=planted[0][0])
    scenarios = {
        "duplicate_pairs, head (all accounts)": lambda: duplicate_pairs(viewer=head),
        "duplicate_pairs, kam (team filter)": lambda: duplicate_pairs(viewer=kam),
        "account_duplicates, one account": lambda: account_duplicates(viewer=head, account=one),
    }
    sys.stdout.write(f"{'scenario':40} {'median ms':>10} {'max ms':>10}\n")
    for name, fn in scenarios.items():
        median, worst = measure(fn, args.repeat)
        sys.stdout.write(f"{name:40} {median:10.1f} {worst:10.1f}\n")
    if missed:
        sys.stdout.write(f"MISSED {len(missed)} planted pairs, e.g. {missed[:5]}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
