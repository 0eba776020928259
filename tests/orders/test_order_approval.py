# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""Order prices below the price found: within the creator's authority at once, beyond it
through an approval request of kind "order"; above the price found: refused."""

from decimal import Decimal

import pytest

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    limits,
    line,
    make_product,
    pump,
    pump_line,
)
from tokui.core.exceptions import ApplicationError, Conflict
from tokui.core.models import AuditEvent
from tokui.orders.constants import OrderSource, OrderStatus
from tokui.orders.models import Order
from tokui.orders.orders import (
    order_cancel,
    order_confirm,
    order_create,
    order_create_once,
    order_set_line_substitute,
)
from tokui.pricing.approvals import approval_approve, approval_reject, waiting_for
from tokui.pricing.models import ApprovalStatus

D = Decimal


def test_a_discount_within_authority_is_taken_at_once(kam, account, pump, limits):
    order = order_create(actor=kam, account=account, lines=[line(pump, 2, unit_price="95000")])
    row = order.lines.get()
    assert (row.engine_price, row.unit_price, row.amount) == (D(100_000), D(95_000), D(190_000))
    assert "granted by" in row.explanation and kam.get_full_name() in row.explanation
    assert order.approval_id is None and order.subtotal == D(190_000)
    assert order_confirm(actor=kam, order=order).status == OrderStatus.CONFIRMED


def test_a_price_above_the_price_found_is_refused(kam, account, pump, limits):
    with pytest.raises(ApplicationError) as err:
        order_create(actor=kam, account=account, lines=[line(pump, 1, unit_price=D(100_001))])
    assert "above the price found" in err.value.errors["lines.0.unit_price"][0]
    with pytest.raises(ApplicationError) as err:
        order_create(actor=kam, account=account, lines=[line(pump, 1, unit_price="abc")])
    assert "lines.0.unit_price" in err.value.errors
    assert Order.objects.count() == 0


def test_the_price_found_needs_no_approval_even_without_authority(kam, account, pump):
    order = order_create(actor=kam, account=account, lines=[line(pump, 1, unit_price=100_000)])
    assert order.approval_id is None and "granted" not in order.lines.get().explanation


def test_beyond_authority_the_order_waits_for_approval(kam, head, account, pump, limits):
    order, new = order_create_once(
        actor=kam,
        account=account,
        lines=[line(pump, 1, unit_price=D(80_000))],
        idempotency_key="k-1",
        source=OrderSource.API,
    )
    assert new and order.status == OrderStatus.RECEIVED
    request = order.approval
    assert request is not None and request.kind == "order" and request.status == "pending"
    assert head.pk in waiting_for(request)
    assert "needs an approval" in order.lines.get().explanation
    # A retry returns the same order and opens no second request.
    again, new = order_create_once(
        actor=kam,
        account=account,
        lines=[line(pump, 1, unit_price=D(80_000))],
        idempotency_key="k-1",
    )
    assert again.pk == order.pk and not new
    with pytest.raises(Conflict) as err:
        order_confirm(actor=kam, order=order)
    assert f"#{request.pk}" in err.value.message
    approval_approve(actor=head, request=request)
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED and order.lines.get().unit_price == D(80_000)
    assert AuditEvent.objects.filter(action="orders.order.price_approved").count() == 1
    assert order_confirm(actor=kam, order=order).status == OrderStatus.CONFIRMED


def test_a_rejection_leaves_the_order_received(kam, head, account, pump, limits):
    order = order_create(actor=kam, account=account, lines=[line(pump, 1, unit_price=D(70_000))])
    approval_reject(actor=head, request=order.approval, comment="値引きが大きすぎます")
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED
    with pytest.raises(Conflict) as err:
        order_confirm(actor=kam, order=order)
    assert "rejected" in err.value.message
    cancelled = order_cancel(actor=kam, order=order, reason="価格不一致")
    assert cancelled.status == OrderStatus.CANCELLED


def test_cancelling_withdraws_the_open_request(kam, head, account, pump, limits):
    order = order_create(actor=kam, account=account, lines=[line(pump, 1, unit_price=D(70_000))])
    order_cancel(actor=kam, order=order, reason="お客様都合")
    order.approval.refresh_from_db()
    assert order.approval.status == ApprovalStatus.WITHDRAWN


def test_without_any_approver_the_discounted_line_is_refused(kam, head, account, pump):
    # No limits: a KAM may grant nothing, and the only head (who could) has left.
    head.is_active = False
    head.save(update_fields=["is_active"])
    with pytest.raises(ApplicationError) as err:
        order_create(actor=kam, account=account, lines=[line(pump, 1, unit_price=D(90_000))])
    assert "lines.0.unit_price" in err.value.errors
    assert Order.objects.count() == 0


@pytest.fixture
def api(client):
    from tokui.users.services import api_token_create

    def call(user, method, path, data=None):
        _token, key = api_token_create(actor=user, user=user)
        return getattr(client, method)(
            f"/api/v1{path}",
            data,
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )

    return call


def test_the_api_takes_prices_and_names_the_approval(api, kam, head, account, pump, limits):
    body = {"account": account.pk, "lines": [{"product": pump.pk, "quantity": 1}]}
    above = {**body, "lines": [{"product": pump.pk, "quantity": 1, "unit_price": "100001"}]}
    refused = api(kam, "post", "/orders", above)
    assert refused.status_code == 422 and "lines.0.unit_price" in refused.content.decode()
    low = {**body, "lines": [{"product": pump.pk, "quantity": 1, "unit_price": "80000"}]}
    created = api(kam, "post", "/orders", {**low, "idempotency_key": "a-1"})
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["approval"] is not None and data["lines"][0]["engine_price"] == "100000.00"
    confirm = api(kam, "post", f"/orders/{data['id']}/confirm", {})
    assert confirm.status_code == 409 and f"#{data['approval']}" in confirm.content.decode()


def test_replacing_the_discounted_line_withdraws_its_approval(kam, account, make_product, limits):
    """The customer takes a substitute for the line whose discount waited for approval: the
    substitute is at our price, nothing is left to approve, and the order can be confirmed."""
    cheaper = make_product(sku="PMP-090", list_price=D(90_000))
    wanted = make_product(sku="PMP-110", list_price=D(100_000), substitutes=[cheaper.pk])
    order = order_create(actor=kam, account=account, lines=[line(wanted, 1, unit_price=80_000)])
    request = order.approval
    assert request is not None and request.status == "pending"
    with pytest.raises(Conflict):
        order_confirm(actor=kam, order=order)
    changed = order_set_line_substitute(
        actor=kam, order=order, line=order.lines.get(), product=cheaper
    )
    request.refresh_from_db()
    assert request.status == ApprovalStatus.WITHDRAWN
    assert changed.approval_id is None
    assert order_confirm(actor=kam, order=changed).status == OrderStatus.CONFIRMED
