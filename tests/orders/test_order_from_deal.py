# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""An order from a won deal (tokui.pipeline.deal_orders): re-priced today, or at its accepted
quote's prices; idempotent; refused for deals not won; the "Take the order" button."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    limits,
    line,
    make_product,
    pump,
    pump_line,
)
from tokui.core.exceptions import ApplicationError, Conflict
from tokui.orders.constants import OrderSource
from tokui.orders.models import Order
from tokui.orders.orders import order_cancel
from tokui.orders.quotes import quote_accept, quote_create, quote_issue, quote_mark_sent
from tokui.pipeline.deal_orders import deal_order, order_from_deal
from tokui.pipeline.models import Deal, DealLine, Stage

D = Decimal


def _deal(kam, account, *lines, stage="won"):
    deal = Deal.objects.create(
        account=account,
        owner=kam,
        title="ポンプ更新",
        stage=Stage.objects.get(key=stage),
        value=D(1),
        closed_at=timezone.now() if stage == "won" else None,
    )
    for position, (product, quantity, price) in enumerate(lines, start=1):
        DealLine.objects.create(
            deal=deal,
            position=position,
            product=product,
            sku=product.sku,
            description=product.name,
            quantity=quantity,
            unit_price=D(price),
            amount=D(price) * quantity,
            priced_on=timezone.localdate(),
        )
    return deal


def test_a_won_deal_becomes_one_order_priced_today(kam, account, pump):
    deal = _deal(kam, account, (pump, 2, 90_000))
    order = order_from_deal(actor=kam, deal=deal)
    assert order.source == OrderSource.DEAL
    assert order.regarding_type == ContentType.objects.get_for_model(Deal)
    assert order.regarding_id == deal.pk
    assert order.lines.get().unit_price == D(100_000)  # the engine's price today
    assert order_from_deal(actor=kam, deal=deal.pk).pk == order.pk
    assert Order.objects.count() == 1 and deal_order(deal=deal) == order
    order_cancel(actor=kam, order=order, reason="取り直し")
    assert order_from_deal(actor=kam, deal=deal).pk != order.pk


def test_a_deal_not_won_or_without_lines_is_refused(kam, account, pump):
    with pytest.raises(Conflict):
        order_from_deal(actor=kam, deal=_deal(kam, account, (pump, 1, 100_000), stage="lost"))
    with pytest.raises(ApplicationError):
        order_from_deal(actor=kam, deal=_deal(kam, account))
    assert Order.objects.count() == 0


def test_the_accepted_quote_gives_its_prices(kam, account, pump, limits, company):
    deal = _deal(kam, account, (pump, 1, 100_000))
    quote = quote_create(
        actor=kam,
        account=account,
        title="ポンプ",
        lines=[line(pump, 2, unit_price=D(95_000))],
        regarding=deal,
    )
    quote_issue(actor=kam, quote=quote)
    quote_mark_sent(actor=kam, quote=quote)
    quote_accept(actor=kam, quote=quote)
    order = order_from_deal(actor=kam, deal=deal)
    assert order.quote_id == quote.pk and order.source == OrderSource.DEAL
    assert order.regarding_id == deal.pk
    assert (order.lines.get().quantity, order.subtotal) == (2, D(190_000))


def test_the_take_order_button(client, kam, account, pump):
    deal = _deal(kam, account, (pump, 1, 100_000))
    client.force_login(kam)
    page = client.get(reverse("pipeline:deal_detail", args=[deal.pk]))
    assert reverse("pipeline:deal_order", args=[deal.pk]) in page.content.decode()
    response = client.post(reverse("pipeline:deal_order", args=[deal.pk]))
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:order_detail", args=[order.pk])
    assert client.get(reverse("pipeline:deal_order", args=[deal.pk])).status_code == 405
    open_deal = _deal(kam, account, (pump, 1, 100_000), stage="appointment")
    assert client.post(reverse("pipeline:deal_order", args=[open_deal.pk])).status_code == 409
