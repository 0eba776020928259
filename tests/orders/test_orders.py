# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""Order services and selectors: pricing, the assortment check, idempotency, status moves,
substitutes, late / at-risk orders, OTIF, visibility."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    contact,
    food,
    limits,
    line,
    make_product,
    pump,
    pump_line,
)
from tokui.accounts.models import account_scope
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.orders.constants import OrderSource, OrderStatus
from tokui.orders.deliveries import delivery_create
from tokui.orders.models import Order
from tokui.orders.orders import (
    order_cancel,
    order_confirm,
    order_create,
    order_create_once,
    order_from_quote,
    order_reorder,
    order_set_line_substitute,
    order_start_fulfilment,
)
from tokui.orders.quotes import quote_accept, quote_create, quote_issue, quote_mark_sent
from tokui.orders.selectors_orders import (
    at_risk_orders,
    late_orders,
    order_get,
    order_list,
    otif,
)

D = Decimal


def _order(kam, account, *lines, **extra):
    return order_create(actor=kam, account=account, lines=list(lines), **extra)


def test_an_order_is_priced_numbered_and_taxed_per_rate(kam, account, pump, food):
    order = _order(kam, account, line(pump, 2), line(food, 3), customer_reference="PO-1")
    year = timezone.localdate().year
    assert order.number == f"SO-{year}-00001"
    assert order.status == OrderStatus.RECEIVED and order.source == OrderSource.MANUAL
    lines = list(order.lines.order_by("position"))
    assert [(x.sku, x.quantity, x.unit_price, x.amount) for x in lines] == [
        ("PMP-100", 2, D(100_000), D(200_000)),
        ("WTR-500", 3, D(1234), D(3702)),
    ]
    # 10% of 200,000 + 8% of 3,702 (296.16 → 296, rounded down once per rate).
    assert (order.subtotal, order.tax, order.total) == (D(203_702), D(20_296), D(223_998))
    assert _order(kam, account, line(pump)).number == f"SO-{year}-00002"
    assert AuditEvent.objects.filter(
        action="orders.order.created", scope=account_scope(account.pk)
    ).exists()


def test_bad_lines_are_refused_each_by_name(kam, account, pump):
    with pytest.raises(ApplicationError) as err:
        _order(kam, account, line(pump, 0), {"product": 999_999, "quantity": 1})
    assert set(err.value.errors) == {"lines.0.quantity", "lines.1.product"}
    with pytest.raises(ApplicationError) as err:
        _order(kam, account, line(pump, 1, unit_price=D(110_000)))  # above the price found
    assert "lines.0.unit_price" in err.value.errors
    assert Order.objects.count() == 0


def test_mixed_currencies_are_refused(kam, account, pump, make_product):
    dollars = make_product(sku="USD-1", currency="USD", list_price=D(100))
    with pytest.raises(ApplicationError) as err:
        _order(kam, account, line(pump), line(dollars))
    assert "one currency" in err.value.errors["lines"][0]


def test_the_assortment_check_names_lead_time_and_substitutes(kam, account, pump, make_product):
    new = make_product(sku="PMP-200", name="渦巻ポンプ 200")
    old = make_product(
        sku="PMP-050", status="unavailable", lead_time_days=45, substitutes=[new.pk, pump.pk]
    )
    gone = make_product(sku="PMP-010", status="discontinued", substitutes=[new.pk])
    with pytest.raises(ApplicationError) as err:
        _order(kam, account, line(old), line(gone))
    first = err.value.errors["lines.0.product"][0]
    assert "PMP-050" in first and "45" in first and "PMP-200" in first and "PMP-100" in first
    second = err.value.errors["lines.1.product"][0]
    assert "discontinued" in second and "PMP-200" in second


def test_the_same_idempotency_key_returns_the_first_order(kam, am, account, pump):
    first, new = order_create_once(
        actor=kam, account=account, lines=[line(pump)], idempotency_key="abc"
    )
    again, again_new = order_create_once(
        actor=kam, account=account, lines=[line(pump, 5)], idempotency_key="abc"
    )
    assert new and not again_new and again.pk == first.pk
    assert Order.objects.count() == 1
    # Another user's key is their own.
    other = order_create(actor=am, account=account, lines=[line(pump)], idempotency_key="abc")
    assert other.pk != first.pk


def test_support_cannot_write_and_others_cannot_see(kam, support, west_am, account, pump):
    with pytest.raises(PermissionDenied):
        _order(support, account, line(pump))
    with pytest.raises(NotFound):
        _order(west_am, account, line(pump))
    order = _order(kam, account, line(pump))
    assert order_get(viewer=support, order_id=order.pk) == order
    with pytest.raises(PermissionDenied):
        order_confirm(actor=support, order=order)
    with pytest.raises(NotFound):
        order_get(viewer=west_am, order_id=order.pk)
    assert list(order_list(viewer=west_am)) == []
    assert list(order_list(viewer=kam, account=account)) == [order]


def test_status_moves_check_their_rules_and_versions(kam, account, pump):
    order = _order(kam, account, line(pump))
    with pytest.raises(Conflict):
        order_start_fulfilment(actor=kam, order=order)
    confirmed = order_confirm(actor=kam, order=order, version=order.version)
    with pytest.raises(Conflict):
        order_confirm(actor=kam, order=order, version=order.version)  # stale version
    moving = order_start_fulfilment(actor=kam, order=order, version=confirmed.version)
    assert moving.status == OrderStatus.IN_FULFILMENT
    with pytest.raises(ApplicationError) as err:
        order_cancel(actor=kam, order=order, reason=" ")
    assert "reason" in err.value.errors
    cancelled = order_cancel(actor=kam, order=order, reason="予算凍結")
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.cancel_reason == "予算凍結"


def test_cancel_is_refused_once_something_was_delivered(kam, account, pump):
    order = _order(kam, account, line(pump, 2))
    order_confirm(actor=kam, order=order)
    delivery_create(
        actor=kam,
        order=order,
        lines=[{"order_line": order.lines.get().pk, "quantity": 1}],
        shipped_on=timezone.localdate(),
    )
    with pytest.raises(Conflict):
        order_cancel(actor=kam, order=order, reason="やめた")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PARTIALLY_DELIVERED


def test_a_line_takes_one_of_its_substitutes(kam, account, pump, make_product):
    cheaper = make_product(sku="PMP-090", list_price=D(90_000))
    stranger = make_product(sku="XYZ-1")
    pump_with_subs = make_product(sku="PMP-110", substitutes=[cheaper.pk])
    order = _order(kam, account, line(pump_with_subs, 2), line(pump))
    first = order.lines.get(position=1)
    with pytest.raises(ApplicationError):
        order_set_line_substitute(actor=kam, order=order, line=first, product=stranger)
    changed = order_set_line_substitute(
        actor=kam, order=order, line=first, product=cheaper, version=order.version
    )
    first.refresh_from_db()
    assert first.product_id == cheaper.pk and first.substitute_for_id == pump_with_subs.pk
    assert first.amount == D(180_000) and changed.subtotal == D(280_000)
    assert changed.version == order.version + 1
    assert AuditEvent.objects.filter(action="orders.order.line_substituted").count() == 1


def test_an_order_from_an_accepted_quote_keeps_its_prices(kam, account, pump, limits, company):
    quote = quote_create(
        actor=kam,
        account=account,
        title="ポンプ",
        lines=[line(pump, 2, unit_price=D(95_000))],
    )
    with pytest.raises(Conflict):
        order_from_quote(actor=kam, quote=quote)
    quote_issue(actor=kam, quote=quote)
    quote_mark_sent(actor=kam, quote=quote)
    quote_accept(actor=kam, quote=quote)
    order = order_from_quote(actor=kam, quote=quote, customer_reference="PO-9")
    assert order.quote_id == quote.pk and order.source == OrderSource.QUOTE
    assert order.lines.get().unit_price == D(95_000) and order.subtotal == D(190_000)


def test_a_reorder_copies_the_lines_priced_today(kam, account, pump, food):
    old = _order(kam, account, line(pump, 2), line(food, 1), ordered_on=datetime.date(2025, 1, 10))
    new = order_reorder(actor=kam, order=old)
    assert new.reorder_of_id == old.pk and new.ordered_on == timezone.localdate()
    assert [(x.sku, x.quantity) for x in new.lines.order_by("position")] == [
        ("PMP-100", 2),
        ("WTR-500", 1),
    ]


def test_late_and_at_risk_orders_and_otif(kam, west_am, account, pump, food):
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    late = _order(kam, account, line(pump, 2, promised_on=today - day))
    soon = _order(kam, account, line(pump, 1, promised_on=today + 2 * day))
    later = _order(kam, account, line(pump, 1, promised_on=today + 10 * day))
    on_time = _order(kam, account, line(food, 1, promised_on=today - 2 * day))
    for order in (late, soon, later, on_time):
        order_confirm(actor=kam, order=order)
    delivery_create(
        actor=kam,
        order=on_time,
        lines=[{"order_line": on_time.lines.get().pk, "quantity": 1}],
        shipped_on=today - 3 * day,
    )
    delivery_create(
        actor=kam,
        order=late,
        lines=[{"order_line": late.lines.get().pk, "quantity": 1}],
        shipped_on=today - 2 * day,
    )
    assert list(late_orders(viewer=kam, today=today)) == [late]
    assert list(at_risk_orders(viewer=kam, today=today)) == [soon]
    assert list(at_risk_orders(viewer=kam, today=today, days=10)) == [soon, later]
    assert list(late_orders(viewer=west_am, today=today)) == []
    month = (today - 2 * day).replace(day=1)
    result = otif(viewer=kam, month=month, account=account)
    in_month = [
        o for o in (late, soon, later, on_time) if o.lines.get().promised_on.month == month.month
    ]
    assert result.orders == len(in_month) and result.on_time_in_full >= 1
    assert otif(viewer=west_am, month=month).orders == 0
