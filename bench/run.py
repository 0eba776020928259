"""Benchmarks for the customer data bank: list pages, the API and search on a large book.

Builds a temporary SQLite (or DATABASE_URL) database with ``tokui seed --scale N`` (N accounts,
3·N contacts), then prints p50/p95 per scenario, the number of SQL queries, and the ratio to a
baseline measured in the same run (one page of accounts by primary key through the ORM), so the
figures compare across machines. Targets (issue 3, 100,000 accounts on SQLite): search p95 < 20 ms,
list page and API page p95 < 30 ms with a constant number of queries.

Usage: python bench/run.py [--scale 100000] [--repeat 30]
"""

import argparse
import os
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
from django.core.signals import request_started  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tokui.accounts.models import Account  # noqa: E402
from tokui.accounts.selectors import search_everything  # noqa: E402
from tokui.users.constants import Role  # noqa: E402
from tokui.users.models import Team, User  # noqa: E402
from tokui.web.seed import seed  # noqa: E402

# Django clears the query log when a request starts; keep it so queries per page can be counted.
request_started.disconnect(reset_queries)


def measure(fn: Callable[[], object], repeat: int) -> tuple[float, float, int]:
    fn()  # warm up
    with CaptureQueriesContext(connection) as queries:
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    return statistics.median(times), p95, len(queries.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if Account.objects.count() < args.scale:  # a kept TOKUI_VAR_DIR is reused as it is
        seed(scale=args.scale)
    out = sys.stdout
    out.write(
        f"database: {connection.vendor}; seeded {Account.objects.count()} accounts and "
        f"{3 * args.scale} contacts in {time.perf_counter() - started:.0f} s\n\n"
    )
    head = User.objects.filter(username="bench-head").first() or User.objects.create_user(
        "bench-head", password="x", role=Role.HEAD
    )
    kam = User.objects.filter(username="bench-kam").first() or User.objects.create_user(
        "bench-kam", password="x", role=Role.KAM, team=Team.objects.get(name="Bench East")
    )
    clients = {}
    for user in (head, kam):
        clients[user.username] = Client()
        clients[user.username].force_login(user)

    def get(who: str, url: str) -> Callable[[], object]:
        def run() -> object:
            response = clients[who].get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        return run

    def search(who: User, query: str) -> Callable[[], object]:
        return lambda: search_everything(viewer=who, query=query, limit=20)

    rows = []
    baseline = measure(lambda: list(Account.objects.order_by("pk")[:50]), args.repeat)
    rows.append(("baseline: ORM, 50 accounts by pk", baseline, None))
    scenarios: list[tuple[str, Callable[[], object], float | None]] = [
        ("list page: head, first page", get("bench-head", "/accounts/"), 30),
        ("list page: kam (team only)", get("bench-kam", "/accounts/"), 30),
        ("list page: head, page 200", get("bench-head", "/accounts/?page=200"), None),
        ("API page: GET /api/v1/accounts (head)", get("bench-head", "/api/v1/accounts"), 30),
        ("API page: GET /api/v1/contacts (kam)", get("bench-kam", "/api/v1/contacts"), 30),
    ]
    for label, query in [
        ("2 chars JA", "山田"),
        ("3 chars JA", "ヤマダ"),
        ("6 chars JA", "やまだしょうじ"[:6]),
        ("2 chars Latin", "co"),
        ("3 chars Latin", "wind"[:3]),
        ("6 chars Latin", "northw"),
        ("phone as dialled", "03-1234"),
    ]:
        scenarios.append((f"search {label} '{query}' (head)", search(head, query), 20))
        scenarios.append((f"search {label} '{query}' (kam)", search(kam, query), 20))
    scenarios.append(
        ("search page /search/?q=山田 (kam)", get("bench-kam", "/search/?q=山田"), None)
    )
    for name, fn, target in scenarios:
        rows.append((name, measure(fn, args.repeat), target))

    out.write(f"{'scenario':46} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'×base':>7}  target\n")
    for name, (p50, p95, queries), target in rows:
        verdict = (
            "" if target is None else (f"< {target} ms " + ("ok" if p95 < target else "MISSED"))
        )
        out.write(
            f"{name:46} {p50:8.2f} {p95:8.2f} {queries:8d} {p95 / baseline[1]:7.1f}  {verdict}\n"
        )


if __name__ == "__main__":
    main()
