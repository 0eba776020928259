"""Benchmarks: server-side time of the account list, search and API on a large book.

Prints p50/p95 per scenario and its ratio to a baseline measured in the same run (fetching one
page of accounts by primary key through the ORM), so figures compare across machines.
Usage: python bench/run.py [--accounts 50000] [--repeat 30]
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
os.environ.setdefault("TOKUI_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from tokui.accounts.models import Account  # noqa: E402
from tokui.accounts.services import _refresh_derived_account  # noqa: E402
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


def build(n: int) -> tuple[User, User]:
    call_command("migrate", verbosity=0)
    east, west = Team.objects.create(name="East"), Team.objects.create(name="West")
    head = User.objects.create_user("head", password="x", role=Role.HEAD)
    kam = User.objects.create_user("kam", password="x", role=Role.KAM, team=east)
    others = [
        User.objects.create_user(f"u{i}", password="x", role=Role.AM, team=east if i < 2 else west)
        for i in range(10)
    ]
    owners = [kam, *others]
    rng = random.Random(1)
    batch = []
    for i in range(n):
        (p, pk), (c, ck) = rng.choice(PARTS), rng.choice(CORES)
        account = Account(
            name=f"株式会社{p}{c}{i}",
            name_kana=f"{pk}{ck}",
            owner=rng.choice(owners),
            kind=rng.choice(["client", "prospect"]),
            phone=f"+8131234{i:04d}"[:13],
        )
        _refresh_derived_account(account)
        batch.append(account)
        if len(batch) == 5000:
            Account.objects.bulk_create(batch)
            batch = []
    Account.objects.bulk_create(batch)
    return head, kam


def measure(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    started = time.perf_counter()
    head, kam = build(args.accounts)
    sys.stdout.write(f"built {args.accounts} accounts in {time.perf_counter() - started:.1f}s\n")
    clients = {}
    for user in (head, kam):
        clients[user.username] = Client()
        clients[user.username].force_login(user)

    def get(who: str, url: str) -> Callable[[], object]:
        def run() -> object:
            response = clients[who].get(url)
            assert response.status_code == 200, response.status_code
            return response

        return run

    baseline = measure(lambda: list(Account.objects.order_by("pk")[:50]), args.repeat)
    scenarios = {
        "page: accounts, head, first page": get("head", "/accounts/"),
        "page: accounts, kam (team filter)": get("kam", "/accounts/"),
        "page: accounts, head, page 500": get("head", "/accounts/?page=500"),
        "page: search 'やまだ' (head)": get("head", "/accounts/?q=やまだ"),
        "page: search '山田商事' (kam)": get("kam", "/accounts/?q=山田商事"),
        "api: GET /api/v1/accounts (head)": get("head", "/api/v1/accounts"),
    }
    sys.stdout.write(f"{'scenario':42} {'p50 ms':>8} {'p95 ms':>8} {'p95/baseline':>13}\n")
    sys.stdout.write(
        f"{'baseline: ORM, 50 rows by pk':42} {baseline[0]:8.2f} {baseline[1]:8.2f} {1:13.1f}\n"
    )
    for name, fn in scenarios.items():
        p50, p95 = measure(fn, args.repeat)
        sys.stdout.write(f"{name:42} {p50:8.2f} {p95:8.2f} {p95 / baseline[1]:13.1f}\n")


if __name__ == "__main__":
    main()
