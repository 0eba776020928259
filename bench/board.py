"""Benchmark: the pipeline board with 5,000 open deals, rendered server-side.

Builds a temporary SQLite (or DATABASE_URL) database with ``tokui seed --scale N`` (2,000
accounts by default, owned by twelve people in two teams), adds 5,000 open deals spread over the
open stages, owners and accounts (plus a few hundred closed this month, for the won and lost
columns), then prints p50/p95 and SQL queries per request for the board page (head of sales, who
sees every deal; a KAM, who sees their team's), a filtered board, a column's "show more"
fragment, the list and the forecast, with the ratio to a baseline measured in the same run (50
deals by primary key through the ORM), so the figures compare across machines.
Target (issue 6): the board with 5,000 open deals renders in under 100 ms p95 server-side.

Usage: python bench/board.py [--scale 2000] [--deals 5000] [--repeat 30]
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TOKUI_VAR_DIR", tempfile.mkdtemp(prefix="tokui-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokui.settings")
os.environ.setdefault("TOKUI_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.signals import request_started  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from tokui.accounts.models import Account  # noqa: E402
from tokui.pipeline.constants import Likelihood, LostReason, StageKind  # noqa: E402
from tokui.pipeline.models import Deal, Stage  # noqa: E402
from tokui.pipeline.selectors import board_columns  # noqa: E402
from tokui.users.constants import Role  # noqa: E402
from tokui.users.models import User  # noqa: E402
from tokui.web.seed import seed  # noqa: E402

# Django clears the query log when a request starts; keep it so queries per page can be counted.
request_started.disconnect(reset_queries)

TITLES = [
    "包装ライン更新",
    "搬送ポンプ入替",
    "冷却設備増設",
    "保守契約更新",
    "省エネ改修",
    "新工場設備",
]


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


@transaction.atomic
def _fill(deals: int, closed: int) -> None:
    rng = random.Random(6)
    accounts = list(Account.objects.exclude(kind="competitor").values_list("pk", "owner_id"))
    open_stages = list(Stage.objects.filter(active=True, kind=StageKind.OPEN))
    won = Stage.objects.get(kind=StageKind.WON, active=True)
    lost = Stage.objects.get(kind=StageKind.LOST, active=True)
    today = timezone.localdate()
    now = timezone.now()
    rows = []
    for n in range(deals + closed):
        account_id, owner_id = rng.choice(accounts)
        is_open = n < deals
        stage = rng.choice(open_stages) if is_open else rng.choice([won, lost])
        rows.append(
            Deal(
                account_id=account_id,
                owner_id=owner_id,
                title=f"{rng.choice(TITLES)} {n}",
                stage=stage,
                stage_entered_at=now - datetime.timedelta(days=rng.randint(0, 90)),
                value=Decimal(rng.randrange(10, 5000) * 10_000),
                likelihood=rng.choice(Likelihood.values),
                expected_close=today + datetime.timedelta(days=rng.randint(-30, 200))
                if rng.random() < 0.95
                else None,
                closed_at=None if is_open else now - datetime.timedelta(hours=rng.randint(0, 48)),
                lost_reason=LostReason.PRICE if stage == lost else "",
            )
        )
    Deal.objects.bulk_create(rows, batch_size=2000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=2_000)
    parser.add_argument("--deals", type=int, default=5_000)
    parser.add_argument("--closed", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    out = sys.stdout
    started = time.perf_counter()
    if Account.objects.count() < args.scale:  # a kept TOKUI_VAR_DIR is reused as it is
        seed(scale=args.scale)
    if not Deal.objects.exists():
        _fill(args.deals, args.closed)
    open_deals = Deal.objects.filter(stage__kind=StageKind.OPEN).count()
    out.write(
        f"database: {connection.vendor}; {Account.objects.count()} accounts, {open_deals} open "
        f"deals, {Deal.objects.count() - open_deals} closed "
        f"(ready in {time.perf_counter() - started:.0f} s)\n\n"
    )
    head = User.objects.filter(username="bench-head").first() or User.objects.create_user(
        "bench-head", password="x", role=Role.HEAD
    )
    kam = User.objects.get(username="bench0")
    clients = {}
    for user in (head, kam):
        client = Client()
        client.force_login(user)
        clients[user.username] = client

    def get(user: User, url: str, htmx: bool = False) -> Callable[[], object]:
        client = clients[user.username]
        headers = {"HX-Request": "true"} if htmx else {}

        def run() -> object:
            response = client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.status_code)
            return response

        return run

    first_stage = (
        Stage.objects.filter(kind=StageKind.OPEN, active=True).order_by("position").first()
    )
    assert first_stage is not None
    month = timezone.localdate().strftime("%Y-%m")
    baseline = measure(lambda: list(Deal.objects.order_by("pk")[:50]), args.repeat)
    rows = [("baseline: ORM, 50 deals by pk", baseline, None)]
    scenarios: list[tuple[str, Callable[[], object], float | None]] = [
        ("selector: board_columns (head)", lambda: board_columns(viewer=head), None),
        ("board page, head of sales (all deals)", get(head, "/deals/board/"), 100),
        ("board page, KAM (team's deals)", get(kam, "/deals/board/"), 100),
        (
            "board page, head, this close month",
            get(head, f"/deals/board/?close_month={month}"),
            100,
        ),
        (
            "show more (htmx, 50 cards)",
            get(head, f"/deals/board/column/{first_stage.pk}/?offset=50", htmx=True),
            None,
        ),
        ("deal list, first page (head)", get(head, "/deals/list/"), None),
        ("forecast (head)", get(head, "/deals/forecast/"), None),
    ]
    for name, fn, target in scenarios:
        rows.append((name, measure(fn, args.repeat), target))

    out.write(f"{'scenario':42} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'×base':>7}  target\n")
    for name, (p50, p95, queries), target in rows:
        verdict = (
            "" if target is None else (f"< {target} ms " + ("ok" if p95 < target else "MISSED"))
        )
        out.write(
            f"{name:42} {p50:8.2f} {p95:8.2f} {queries:8d} {p95 / baseline[1]:7.1f}  {verdict}\n"
        )


if __name__ == "__main__":
    main()
