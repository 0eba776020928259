"""Benchmark: the account's orders and the late-orders dashboard with 500,000 orders.

Builds a temporary SQLite (or DATABASE_URL) database with ``tokui seed --scale N`` (5,000
accounts by default, owned by twelve people in two teams) and 500,000 orders of one to three
lines over three years: nearly all delivered (and invoiced, paid), a thin front of open ones
promised around today — a few thousand lines late or at risk, as a busy sales office has. Then
prints p50/p95 and SQL queries per request for the pages an account manager opens all day: one
account's order list, the account page with its orders section, and the late-orders dashboard
(head of sales, who sees every account; a KAM, who sees their team's), with the ratio to a
baseline measured in the same run (50 orders by primary key through the ORM), so the figures
compare across machines.
Target (issue 7): the account's order list and the late-orders dashboard under 50 ms p95 with
500,000 orders on SQLite.

Usage: python bench/orders.py [--scale 5000] [--orders 500000] [--repeat 30]
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
from tokui.catalog.models import Product, ProductLine  # noqa: E402
from tokui.orders.constants import OrderSource, OrderStatus  # noqa: E402
from tokui.orders.models import Order, OrderLine  # noqa: E402
from tokui.orders.selectors_orders import late_orders  # noqa: E402
from tokui.users.constants import Role  # noqa: E402
from tokui.users.models import User  # noqa: E402
from tokui.web.seed import seed  # noqa: E402

# Django clears the query log when a request starts; keep it so queries per page can be counted.
request_started.disconnect(reset_queries)

DAYS = 3 * 365
BATCH = 20_000


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


def _products() -> list[Product]:
    if not Product.objects.filter(sku__startswith="BENCH-").exists():
        line, _ = ProductLine.objects.get_or_create(name="ベンチ用部品")
        Product.objects.bulk_create(
            Product(
                sku=f"BENCH-{n:03d}",
                name=f"ベンチ用部品 {n:03d}",
                line=line,
                list_price=Decimal(1_000 + 500 * n),
                currency="JPY",
            )
            for n in range(60)
        )
    return list(Product.objects.filter(sku__startswith="BENCH-"))


def _status(ordered: datetime.date, today: datetime.date, rng: random.Random) -> str:
    age = (today - ordered).days
    if age > 60:
        return OrderStatus.PAID if rng.random() < 0.97 else OrderStatus.CANCELLED
    if age > 25:
        return rng.choice([OrderStatus.PAID, OrderStatus.INVOICED, OrderStatus.DELIVERED])
    # The open front: most ship on time, some are late, the newest are not confirmed yet.
    return rng.choice(
        [
            OrderStatus.RECEIVED,
            OrderStatus.CONFIRMED,
            OrderStatus.IN_FULFILMENT,
            OrderStatus.IN_FULFILMENT,
            OrderStatus.PARTIALLY_DELIVERED,
            OrderStatus.DELIVERED,
            OrderStatus.DELIVERED,
            OrderStatus.DELIVERED,
        ]
    )


def _fill(orders: int) -> None:
    """Orders straight into the tables (the services would take hours for half a million);
    numbers, totals and delivered quantities consistent with each status."""
    rng = random.Random(7)
    accounts = list(Account.objects.exclude(kind="competitor").values_list("pk", "owner_id"))
    products = _products()
    creator = User.objects.order_by("pk").first()
    today = timezone.localdate()
    open_statuses = {
        OrderStatus.RECEIVED,
        OrderStatus.CONFIRMED,
        OrderStatus.IN_FULFILMENT,
        OrderStatus.PARTIALLY_DELIVERED,
    }
    next_pk = (Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    made = 0
    while made < orders:
        size = min(BATCH, orders - made)
        heads, lines = [], []
        for n in range(size):
            pk = next_pk + made + n
            account_id, owner_id = rng.choice(accounts)
            # Recent days are busier than old ones: sales grew.
            ordered = today - datetime.timedelta(days=int(DAYS * rng.random() ** 1.3))
            status = _status(ordered, today, rng)
            subtotal = Decimal(0)
            for position in range(1, rng.randint(1, 3) + 1):
                product = rng.choice(products)
                quantity = rng.randint(1, 40)
                if status in open_statuses:
                    delivered = rng.randint(0, quantity) if status == "partially_delivered" else 0
                elif status == OrderStatus.CANCELLED:
                    delivered = 0
                else:
                    delivered = quantity
                amount = product.list_price * quantity
                subtotal += amount
                promised = ordered + datetime.timedelta(days=rng.randint(7, 30))
                owed = status in open_statuses and delivered < quantity
                lines.append(
                    OrderLine(
                        order_id=pk,
                        position=position,
                        product_id=product.pk,
                        sku=product.sku,
                        description=product.name,
                        quantity=quantity,
                        delivered_quantity=delivered,
                        list_price=product.list_price,
                        engine_price=product.list_price,
                        unit_price=product.list_price,
                        amount=amount,
                        promised_on=promised,
                        open_promised_on=promised if owed else None,
                    )
                )
            tax = (subtotal / 10).quantize(Decimal(1))
            heads.append(
                Order(
                    pk=pk,
                    account_id=account_id,
                    owner_id=owner_id,
                    number=f"SO-{ordered.year}-B{pk:07d}",
                    source=rng.choice(OrderSource.values),
                    currency="JPY",
                    ordered_on=ordered,
                    status=status,
                    subtotal=subtotal,
                    tax=tax,
                    total=subtotal + tax,
                    created_by=creator,
                )
            )
        with transaction.atomic():
            Order.objects.bulk_create(heads, batch_size=2_000)
            OrderLine.objects.bulk_create(lines, batch_size=2_000)
        made += size
        sys.stdout.write(f"  {made:,} orders\r")
    sys.stdout.write("\n")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "ANALYZE orders_order")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=5_000)
    parser.add_argument("--orders", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    out = sys.stdout
    started = time.perf_counter()
    if Account.objects.count() < args.scale:  # a kept TOKUI_VAR_DIR is reused as it is
        seed(scale=args.scale)
    if not Order.objects.exists():
        _fill(args.orders)
    today = timezone.localdate()
    head = User.objects.filter(username="bench-head").first() or User.objects.create_user(
        "bench-head", password="x", role=Role.HEAD
    )
    kam = User.objects.get(username="bench0")
    late_lines = OrderLine.objects.filter(
        promised_on__lt=today,
        delivered_quantity__lt=django.db.models.F("quantity"),
    ).exclude(order__status=OrderStatus.CANCELLED)
    out.write(
        f"database: {connection.vendor}; {Account.objects.count()} accounts, "
        f"{Order.objects.count():,} orders, {OrderLine.objects.count():,} lines, "
        f"{late_lines.count():,} lines late (ready in {time.perf_counter() - started:.0f} s)\n\n"
    )
    # The busiest of the KAM's accounts: the list a key account manager opens most.
    busiest = (
        Order.objects.filter(account__owner=kam)
        .values("account_id")
        .annotate(n=django.db.models.Count("pk"))
        .order_by("-n")
        .first()
    )
    assert busiest is not None
    account_id = busiest["account_id"]
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

    baseline = measure(lambda: list(Order.objects.order_by("pk")[:50]), args.repeat)
    rows = [("baseline: ORM, 50 orders by pk", baseline, None)]
    scenarios: list[tuple[str, Callable[[], object], float | None]] = [
        (
            "selector: late_orders (head, first 50)",
            lambda: list(late_orders(viewer=head, today=today)[:50]),
            None,
        ),
        (
            f"account's orders, KAM ({busiest['n']} orders)",
            get(kam, f"/orders/?account={account_id}"),
            50,
        ),
        ("account's orders, head", get(head, f"/orders/?account={account_id}"), 50),
        ("account page with its orders (KAM)", get(kam, f"/accounts/{account_id}/"), None),
        ("late-orders dashboard, head", get(head, "/orders/late/"), 50),
        ("late-orders dashboard, KAM", get(kam, "/orders/late/"), 50),
        ("order list, first page (head)", get(head, "/orders/"), None),
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
