# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""The promise still owed on each line (what the late and at-risk lists read) follows the
order through the services: set when taken, kept while goods are owed, gone once delivered in
full or cancelled."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    food,
    line,
    make_product,
    pump,
    pump_line,
)
from tokui.orders.deliveries import delivery_create
from tokui.orders.models import OrderLine
from tokui.orders.monitoring import late_counts
from tokui.orders.orders import order_cancel, order_confirm, order_create
from tokui.orders.selectors_orders import late_orders

TODAY = timezone.localdate()
PAST = TODAY - datetime.timedelta(days=3)


def _owed(order):
    return list(order.lines.order_by("position").values_list("open_promised_on", flat=True))


def test_delivered_in_full_leaves_the_late_list(kam, account, pump, food):
    order = order_create(
        actor=kam,
        account=account,
        lines=[line(pump, 3, promised_on=PAST), line(food, 2, promised_on=PAST)],
        ordered_on=PAST - datetime.timedelta(days=10),
    )
    order_confirm(actor=kam, order=order)
    assert _owed(order) == [PAST, PAST]
    assert list(late_orders(viewer=kam, today=TODAY)) == [order]
    first, second = order.lines.order_by("position")

    delivery_create(
        actor=kam,
        order=order,
        lines=[{"order_line": first.pk, "quantity": 3}, {"order_line": second.pk, "quantity": 1}],
        shipped_on=TODAY,
    )
    assert _owed(order) == [None, PAST]  # the pumps are all there; one case of water is owed
    assert late_counts(viewer=kam, today=TODAY).late == 1

    delivery_create(
        actor=kam, order=order, lines=[{"order_line": second.pk, "quantity": 1}], shipped_on=TODAY
    )
    assert _owed(order) == [None, None]
    assert list(late_orders(viewer=kam, today=TODAY)) == []


def test_a_cancelled_order_owes_nothing(kam, account, pump):
    order = order_create(actor=kam, account=account, lines=[line(pump, 2, promised_on=PAST)])
    order_cancel(actor=kam, order=order, reason="先方都合")
    assert _owed(order) == [None]
    assert late_counts(viewer=kam, today=TODAY).late == 0


def test_the_database_refuses_a_promise_that_is_not_the_line_s(kam, account, pump):
    order = order_create(actor=kam, account=account, lines=[line(pump, 2, promised_on=PAST)])
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.filter(order=order).update(open_promised_on=TODAY)
