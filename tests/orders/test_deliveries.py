# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""Delivery services: partial then complete, over-delivery refused, idempotency, concurrency."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    food,
    line,
    make_product,
    pump,
    pump_line,
)
from tokui.core.exceptions import ApplicationError, Conflict, PermissionDenied
from tokui.orders.constants import DeliveryStatus, OrderStatus
from tokui.orders.deliveries import delivery_create, delivery_create_once, delivery_mark_delivered
from tokui.orders.models import Delivery, Order, OrderLine
from tokui.orders.orders import order_cancel, order_confirm, order_create


def _confirmed(kam, account, *lines):
    order = order_create(actor=kam, account=account, lines=list(lines))
    return order_confirm(actor=kam, order=order)


def _ship(kam, order, *pairs, **extra):
    return delivery_create(
        actor=kam,
        order=order,
        lines=[{"order_line": ol.pk, "quantity": q} for ol, q in pairs],
        shipped_on=extra.pop("shipped_on", timezone.localdate()),
        **extra,
    )


def test_partial_then_complete(kam, account, pump, food):
    order = _confirmed(kam, account, line(pump, 3), line(food, 2))
    first, second = order.lines.order_by("position")
    delivery = _ship(kam, order, (first, 2), carrier="ヤマト運輸")
    year = timezone.localdate().year
    assert delivery.number == f"DN-{year}-00001"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PARTIALLY_DELIVERED
    _ship(kam, order, (first, 1), (second, 1))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PARTIALLY_DELIVERED
    _ship(kam, order, (second, 1))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    assert [x.delivered_quantity for x in order.lines.order_by("position")] == [3, 2]
    arrived = delivery_mark_delivered(actor=kam, delivery=delivery, version=delivery.version)
    assert arrived.status == DeliveryStatus.DELIVERED and arrived.delivered_on is not None
    with pytest.raises(Conflict):
        delivery_mark_delivered(actor=kam, delivery=delivery)


def test_over_delivery_is_refused_naming_what_is_left_and_nothing_changes(kam, account, pump):
    order = _confirmed(kam, account, line(pump, 3))
    only = order.lines.get()
    _ship(kam, order, (only, 2))
    version = Order.objects.get(pk=order.pk).version
    with pytest.raises(ApplicationError) as err:
        _ship(kam, order, (only, 2))
    message = err.value.errors["lines.0.quantity"][0]
    assert "1" in message and "PMP-100" in message
    with pytest.raises(ApplicationError) as err:
        _ship(kam, order, (only, 0))
    assert "lines.0.quantity" in err.value.errors
    assert OrderLine.objects.get(pk=only.pk).delivered_quantity == 2
    assert Delivery.objects.count() == 1
    assert Order.objects.get(pk=order.pk).version == version


def test_unconfirmed_and_cancelled_orders_do_not_ship(kam, support, account, pump):
    order = order_create(actor=kam, account=account, lines=[line(pump)])
    with pytest.raises(Conflict) as err:
        _ship(kam, order, (order.lines.get(), 1))
    assert "confirm" in err.value.message
    order_cancel(actor=kam, order=order, reason="重複注文")
    with pytest.raises(Conflict):
        _ship(kam, order, (order.lines.get(), 1))
    other = _confirmed(kam, account, line(pump))
    with pytest.raises(PermissionDenied):
        _ship(support, other, (other.lines.get(), 1))


def test_the_same_key_returns_the_first_delivery(kam, account, pump):
    order = _confirmed(kam, account, line(pump, 5))
    only = order.lines.get()
    args = {
        "actor": kam,
        "order": order,
        "lines": [{"order_line": only.pk, "quantity": 1}],
        "shipped_on": timezone.localdate(),
        "idempotency_key": "ship-1",
    }
    first, new = delivery_create_once(**args)
    again, again_new = delivery_create_once(**args)
    assert new and not again_new and first.pk == again.pk
    assert OrderLine.objects.get(pk=only.pk).delivered_quantity == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs two real connections (PostgreSQL)"
)
def test_two_concurrent_deliveries_of_the_last_units_one_wins(kam, account, pump):
    order = _confirmed(kam, account, line(pump, 3))
    only = order.lines.get()
    _ship(kam, order, (only, 1))
    barrier = threading.Barrier(2)
    outcomes: list[int] = []

    def ship() -> None:
        try:
            barrier.wait()
            _ship(kam, order.pk, (only, 2))
            outcomes.append(201)
        except ApplicationError as exc:
            outcomes.append(exc.status)
        finally:
            connection.close()

    threads = [threading.Thread(target=ship) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # The loser waits for the order's lock, then finds the order delivered.
    assert sorted(outcomes) == [201, 409]
    assert OrderLine.objects.get(pk=only.pk).delivered_quantity == 3
    assert Delivery.objects.count() == 2
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
