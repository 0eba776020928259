# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""Order monitoring: late and at-risk lines (page, filters, visibility), buying rhythm and its
task, the daily digest, the account page's "Orders" section and the dashboard panel."""

import datetime
import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    line,
    make_product,
    pump,
    pump_line,
)
from tokui.activities.models import Task
from tokui.core.models import AuditEvent
from tokui.orders import monitoring
from tokui.orders.constants import OrderStatus
from tokui.orders.deliveries import delivery_create
from tokui.orders.models import Invoice, Order, OrderLine
from tokui.orders.orders import order_confirm, order_create
from tokui.users.constants import Role

_numbers = itertools.count(1)
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def make_order(
    account: Any,
    *,
    ordered_on: datetime.date = TODAY,
    status: str = OrderStatus.CONFIRMED,
    lines: tuple[tuple[int, int, datetime.date | None], ...] = (),
) -> Order:
    """An order with lines (quantity, delivered, promised_on), written directly."""
    order = Order.objects.create(
        account=account,
        number=f"ORD-T-{next(_numbers):05d}",
        owner=account.owner,
        ordered_on=ordered_on,
        status=status,
        total=Decimal("1000"),
    )
    for position, (quantity, delivered, promised) in enumerate(lines, start=1):
        OrderLine.objects.create(
            order=order,
            position=position,
            description=f"ポンプ {position}",
            quantity=quantity,
            delivered_quantity=delivered,
            list_price=Decimal("100"),
            engine_price=Decimal("100"),
            unit_price=Decimal("100"),
            amount=Decimal(100 * quantity),
            promised_on=promised,
            # What the order and delivery services keep: the promise while goods are owed.
            open_promised_on=promised
            if delivered < quantity and status != OrderStatus.CANCELLED
            else None,
        )
    return order


@pytest.fixture
def west(make_user, team_west):
    return make_user("west_kam", Role.KAM, team_west, email="west@example.jp")


@pytest.fixture
def orders(account, west, make_account):
    """Late (5 days), at risk (in 2 days), fine (delivered / far), cancelled, and a late line on
    another team's account."""
    other = make_account(west, name="株式会社西日本")
    return {
        "late": make_order(account, lines=((10, 4, TODAY - 5 * DAY), (5, 5, TODAY - 5 * DAY))),
        "risk": make_order(account, lines=((3, 0, TODAY + 2 * DAY),)),
        "done": make_order(account, status=OrderStatus.DELIVERED, lines=((2, 2, TODAY - DAY),)),
        "far": make_order(account, lines=((2, 0, TODAY + 20 * DAY),)),
        "cancelled": make_order(
            account, status=OrderStatus.CANCELLED, lines=((2, 0, TODAY - DAY),)
        ),
        "west": make_order(other, lines=((1, 0, TODAY - DAY),)),
    }


def test_late_lines_and_counts(kam, orders):
    lines = list(monitoring.late_lines(viewer=kam, today=TODAY))
    assert [(line.order_id, line.position) for line in lines] == [
        (orders["late"].pk, 1),
        (orders["risk"].pk, 1),
    ]
    rows = monitoring.late_line_rows(lines, TODAY)
    assert rows[0]["outstanding"] == 6 and rows[0]["days_late"] == 5 and rows[0]["late"]
    assert rows[1]["days_left"] == 2 and not rows[1]["late"]
    assert monitoring.late_counts(viewer=kam, today=TODAY) == monitoring.LateCounts(1, 1)
    late_only = monitoring.late_lines(viewer=kam, today=TODAY, kind="late")
    assert [line.order_id for line in late_only] == [orders["late"].pk]
    reverse_sorted = monitoring.late_lines(viewer=kam, today=TODAY, sort="-late")
    assert next(line.order_id for line in reverse_sorted) == orders["risk"].pk


def test_late_page_for_kam_and_head(client, kam, head, west, orders):
    client.force_login(kam)
    response = client.get(reverse("orders:late_orders"))
    assert response.status_code == 200
    page = response.content.decode()
    assert orders["late"].number in page and orders["risk"].number in page
    assert orders["west"].number not in page  # another team's account
    assert orders["done"].number not in page and orders["cancelled"].number not in page
    assert 'name="team"' not in page  # filters are for heads
    client.force_login(head)
    page = client.get(reverse("orders:late_orders")).content.decode()
    assert orders["west"].number in page and orders["late"].number in page
    page = client.get(reverse("orders:late_orders"), {"owner": west.pk}).content.decode()
    assert orders["west"].number in page and orders["late"].number not in page
    page = client.get(reverse("orders:late_orders"), {"team": kam.team_id}).content.decode()
    assert orders["west"].number not in page and orders["late"].number in page
    page = client.get(
        reverse("orders:late_orders"), {"kind": "at_risk"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert orders["risk"].number in page and orders["late"].number not in page
    assert "<html" not in page


def test_late_page_empty_state(client, kam, account):
    client.force_login(kam)
    page = client.get(reverse("orders:late_orders")).content.decode()
    assert "Nothing late" in page


def test_late_page_queries_do_not_grow_per_row(client, kam, account, django_assert_max_num_queries):
    for _i in range(30):
        make_order(account, lines=((2, 0, TODAY - DAY),))
    client.force_login(kam)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("orders:late_orders")).status_code == 200


def test_buying_rhythm_numbers(account):
    assert monitoring.buying_rhythm(account, today=TODAY).orders == 0
    for days_ago in (70, 50, 30):
        make_order(account, ordered_on=TODAY - days_ago * DAY)
    make_order(account, ordered_on=TODAY - 5 * DAY, status=OrderStatus.CANCELLED)
    rhythm = monitoring.buying_rhythm(account, today=TODAY)
    assert rhythm.orders == 3
    assert rhythm.average_days == 20
    assert rhythm.days_since == 30
    assert rhythm.last_ordered_on == TODAY - 30 * DAY
    assert rhythm.next_expected_on == TODAY - 10 * DAY
    assert rhythm.overdue is False  # 30 is not above 20 × 1.5
    later = monitoring.buying_rhythm(account, today=TODAY + DAY)
    assert later.overdue is True
    two = monitoring.rhythm_of([TODAY - 100 * DAY, TODAY - 110 * DAY], TODAY)
    assert two.average_days == 10 and two.overdue is False  # fewer than three orders


def test_rhythm_check_raises_one_task(account, kam):
    for days_ago in (70, 50, 40):
        make_order(account, ordered_on=TODAY - days_ago * DAY)
    created = monitoring.rhythm_check(today=TODAY)
    assert len(created) == 1
    task = created[0]
    assert task.owner == kam and task.account_id == account.pk
    assert task.title.startswith("Buying rhythm overdue")
    assert timezone.localtime(task.due_at).date() == TODAY
    assert monitoring.rhythm_check(today=TODAY) == []
    assert monitoring.rhythm_check(today=TODAY + DAY) == []
    assert Task.objects.filter(source=monitoring.RHYTHM_TASK_SOURCE).count() == 1
    call_command("orders", "rhythm", "--date", TODAY.isoformat())
    assert Task.objects.filter(source=monitoring.RHYTHM_TASK_SOURCE).count() == 1


def _overdue_invoice(account: Any) -> Invoice:
    return Invoice.objects.create(
        account=account,
        number=f"INV-T-{next(_numbers):05d}",
        issued_on=TODAY - 40 * DAY,
        due_on=TODAY - 10 * DAY,
        buyer_name=account.name,
        seller_registration_number="T1234567890123",
        total=Decimal("11000"),
    )


def test_digest_goes_to_owners_with_something_once_a_day(
    account, kam, west, head, make_account, django_capture_on_commit_callbacks
):
    kam.email = "kam@example.jp"
    kam.save()
    head.email = "head@example.jp"
    head.save()
    make_account(head, name="株式会社平穏")  # nothing to report for head
    late = make_order(account, lines=((4, 1, TODAY - 3 * DAY),))
    west_account = make_account(west, name="株式会社西日本")
    invoice = _overdue_invoice(west_account)
    with django_capture_on_commit_callbacks(execute=True):
        assert monitoring.order_digest_send(today=TODAY) == 2
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"kam@example.jp", "west@example.jp"}
    assert late.number in by_address["kam@example.jp"].body
    assert "3 days late" in by_address["kam@example.jp"].body
    assert invoice.number in by_address["west@example.jp"].body
    assert late.number not in by_address["west@example.jp"].body
    with django_capture_on_commit_callbacks(execute=True):
        assert monitoring.order_digest_send(today=TODAY) == 0
        call_command("orders", "digest", "--date", TODAY.isoformat())
    assert len(mail.outbox) == 2
    assert AuditEvent.objects.filter(action=monitoring.DIGEST_ACTION).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert monitoring.order_digest_send(today=TODAY + DAY) == 2


def test_digest_survives_a_mail_failure(
    account, kam, django_capture_on_commit_callbacks, monkeypatch
):
    kam.email = "kam@example.jp"
    kam.save()
    make_order(account, lines=((4, 1, TODAY - 3 * DAY),))

    def down(*args: Any, **kwargs: Any) -> int:
        raise OSError("down")

    monkeypatch.setattr("tokui.orders.monitoring.EmailMessage.send", down)
    with django_capture_on_commit_callbacks(execute=True):
        assert monitoring.order_digest_send(today=TODAY) == 1


def test_account_section_shows_orders_rhythm_and_otif(client, kam, account):
    late = make_order(account, ordered_on=TODAY - 10 * DAY, lines=((4, 1, TODAY - 3 * DAY),))
    make_order(account, ordered_on=TODAY - 30 * DAY, status=OrderStatus.DELIVERED)
    overview = monitoring.account_orders_overview(viewer=kam, account=account, today=TODAY)
    assert overview["orders"][0].pk == late.pk
    assert overview["orders"][0].is_late is True
    assert overview["counts"].late == 1
    assert len(overview["otif"]) == 6 and overview["otif"][-1].month == TODAY.replace(day=1)
    this_month = overview["otif"][-1] if (TODAY - 3 * DAY).month == TODAY.month else None
    if this_month is not None:
        assert this_month.orders == 1 and this_month.share == 0
    client.force_login(kam)
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert 'id="orders-title"' in page
    assert late.number in page
    assert "On time in full" in page


def test_dashboard_panel(client, kam, account):
    late = make_order(account, lines=((4, 1, TODAY - 3 * DAY),))
    client.force_login(kam)
    page = client.get(reverse("web:dashboard")).content.decode()
    assert 'id="late-orders-title"' in page
    assert late.number in page


def test_otif_report_by_month_and_worst_accounts(
    client, kam, head, make_user, team_west, make_account, pump
):
    """The head sees every account's OTIF, the KAM their own; months count orders with a
    line promised in them, and accounts with the fewest orders on time in full come first."""
    last_month = (TODAY.replace(day=1) - DAY).replace(day=1)
    promised = last_month + 5 * DAY

    def orders(account, late_ones, count=3):
        for n in range(count):
            order = order_create(
                actor=account.owner,
                account=account,
                lines=[line(pump, 2, promised_on=promised)],
                ordered_on=last_month - 10 * DAY,
            )
            order_confirm(actor=account.owner, order=order)
            delivery_create(
                actor=account.owner,
                order=order,
                lines=[{"order_line": order.lines.get().pk, "quantity": 2}],
                shipped_on=promised + (2 * DAY if n < late_ones else -DAY),
            )

    mixed = make_account(kam, name="株式会社遅延商事")
    punctual = make_account(kam, name="株式会社定刻工業")
    west = make_user("west_kam2", Role.KAM, team_west)
    hidden = make_account(west, name="西日本遅延株式会社")
    orders(mixed, late_ones=1)
    orders(punctual, late_ones=0)
    orders(hidden, late_ones=3)

    mine = monitoring.book_otif(viewer=kam, today=TODAY)
    month = next(m for m in mine.months if m.month == last_month)
    assert (month.orders, month.on_time_in_full, month.share) == (6, 5, Decimal("83.3"))
    assert [(a.name, a.share) for a in mine.accounts] == [
        ("株式会社遅延商事", Decimal("66.7")),
        ("株式会社定刻工業", Decimal("100.0")),
    ]
    everyone = monitoring.book_otif(viewer=head, today=TODAY)
    assert everyone.accounts[0].name == "西日本遅延株式会社"
    assert everyone.accounts[0].share == 0
    client.force_login(kam)
    page = client.get(reverse("orders:otif")).content.decode()
    assert "株式会社遅延商事" in page and "西日本遅延株式会社" not in page
    assert "83.3%" in page
