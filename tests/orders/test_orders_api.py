# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""/api/v1/orders and /api/v1/deliveries."""

import pytest
from django.utils import timezone

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    food,
    make_product,
    pump,
    pump_line,
)
from tokui.orders.models import Delivery, Order
from tokui.users.services import api_token_create


@pytest.fixture
def api(client):
    def call(user, method, path, data=None, headers=None):
        _token, key = api_token_create(actor=user, user=user)
        all_headers = {"Authorization": f"Bearer {key}", **(headers or {})}
        url = f"/api/v1{path}"
        if method == "get":
            return client.get(url, data or {}, headers=all_headers)
        return getattr(client, method)(
            url, data, content_type="application/json", headers=all_headers
        )

    return call


def test_take_confirm_ship_and_read_an_order(api, kam, support, west_am, account, pump, food):
    body = {
        "account": account.pk,
        "lines": [{"product": pump.pk, "quantity": 2}, {"product": food.pk, "quantity": 1}],
        "customer_reference": "PO-77",
    }
    first = api(kam, "post", "/orders", body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["number"].startswith("SO-") and data["source"] == "api"
    retry = api(kam, "post", "/orders", body, headers={"Idempotency-Key": "k-1"})
    assert retry.status_code == 200 and retry.json()["id"] == data["id"]
    field_key = api(kam, "post", "/orders", {**body, "idempotency_key": "k-2"})
    assert field_key.status_code == 201
    assert Order.objects.count() == 2

    order_id = data["id"]
    assert api(support, "get", f"/orders/{order_id}").status_code == 200
    assert api(support, "post", f"/orders/{order_id}/confirm", {}).status_code == 403
    assert api(west_am, "get", f"/orders/{order_id}").status_code == 404
    assert api(kam, "get", "/orders", {"account": account.pk}).json()["count"] == 2

    shipping = {
        "order": order_id,
        "lines": [{"order_line": data["lines"][0]["id"], "quantity": 1}],
        "shipped_on": timezone.localdate().isoformat(),
    }
    assert api(kam, "post", "/deliveries", shipping).status_code == 409  # not confirmed
    confirmed = api(kam, "post", f"/orders/{order_id}/confirm", {"version": data["version"]})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    shipped = api(kam, "post", "/deliveries", shipping, headers={"Idempotency-Key": "d-1"})
    assert shipped.status_code == 201, shipped.content
    again = api(kam, "post", "/deliveries", shipping, headers={"Idempotency-Key": "d-1"})
    assert again.status_code == 200 and again.json()["id"] == shipped.json()["id"]
    assert Delivery.objects.count() == 1
    delivery_id = shipped.json()["id"]
    assert api(kam, "get", f"/deliveries/{delivery_id}").json()["lines"][0]["quantity"] == 1
    assert api(west_am, "get", f"/deliveries/{delivery_id}").status_code == 404
    too_many = api(
        kam, "post", "/deliveries", {**shipping, "lines": [{**shipping["lines"][0], "quantity": 5}]}
    )
    assert too_many.status_code == 422 and "lines.0.quantity" in too_many.json()["error"]["fields"]
    assert api(kam, "get", f"/orders/{order_id}").json()["status"] == "partially_delivered"
    refused = api(kam, "post", f"/orders/{order_id}/cancel", {"reason": "取消"})
    assert refused.status_code == 409


def test_cancel_and_refusals(api, kam, account, pump, make_product):
    gone = make_product(sku="OLD-1", status="discontinued", substitutes=[pump.pk])
    answer = api(
        kam,
        "post",
        "/orders",
        {"account": account.pk, "lines": [{"product": gone.pk, "quantity": 1}]},
    )
    assert answer.status_code == 422
    assert "PMP-100" in answer.json()["error"]["fields"]["lines.0.product"][0]
    made = api(
        kam,
        "post",
        "/orders",
        {"account": account.pk, "lines": [{"product": pump.pk, "quantity": 1}]},
    )
    order_id = made.json()["id"]
    cancelled = api(kam, "post", f"/orders/{order_id}/cancel", {"reason": "予算なし"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert api(kam, "get", "/orders/0").status_code == 404
