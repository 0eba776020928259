"""POST /price-lists, PATCH /price-lists/{id}, PUT /price-lists/{id}/items."""

import json
from decimal import Decimal

import pytest

from tokui.catalog.models import PriceList, PriceListItem
from tokui.core.models import AuditEvent
from tokui.users.services import api_token_create


class Api:
    def __init__(self, client, user):
        _token, key = api_token_create(actor=user, user=user)
        self.client, self.headers = client, {"Authorization": f"Bearer {key}"}

    def send(self, method, path, body):
        return getattr(self.client, method)(
            f"/api/v1{path}",
            json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )


@pytest.fixture
def head_api(client, head):
    return Api(client, head)


@pytest.fixture
def kam_api(client, kam):
    return Api(client, kam)


def _error(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


STANDARD = {
    "name": "標準価格表 2026年度",
    "currency": "JPY",
    "valid_from": "2026-04-01",
    "valid_to": "2027-03-31",
    "is_default": True,
}


def test_create_patch_and_set_items(head_api, make_product):
    pump = make_product(sku="PMP-100A", list_price=Decimal(285_000))
    response = head_api.send("post", "/price-lists", STANDARD)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["is_default"] is True and body["items"] == [] and body["version"] == 1
    list_id = body["id"]

    response = head_api.send("patch", f"/price-lists/{list_id}", {"valid_to": None, "version": 1})
    assert response.status_code == 200, response.content
    assert response.json()["valid_to"] is None and response.json()["version"] == 2

    items = [
        {"product": pump.pk, "min_quantity": 1, "unit_price": "285000"},
        {"product": pump.pk, "min_quantity": 10, "unit_price": "270750"},
    ]
    response = head_api.send("put", f"/price-lists/{list_id}/items", {"items": items, "version": 2})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(i["min_quantity"], Decimal(i["unit_price"])) for i in body["items"]] == [
        (1, Decimal(285_000)),
        (10, Decimal(270_750)),
    ]
    assert body["version"] == 3 and body["item_count"] == 2
    assert AuditEvent.objects.filter(action="catalog.price_list.items_changed").count() == 1


def test_a_stale_version_is_a_409_and_changes_nothing(head_api, make_product):
    pump = make_product()
    list_id = head_api.send("post", "/price-lists", STANDARD).json()["id"]
    head_api.send("patch", f"/price-lists/{list_id}", {"name": "改定", "version": 1})
    error = _error(
        head_api.send("patch", f"/price-lists/{list_id}", {"name": "古い編集", "version": 1}), 409
    )
    assert error["code"] == "conflict"
    items = {"items": [{"product": pump.pk, "unit_price": "1000"}], "version": 1}
    _error(head_api.send("put", f"/price-lists/{list_id}/items", items), 409)
    price_list = PriceList.objects.get()
    assert price_list.name == "改定" and not PriceListItem.objects.exists()


def test_overlapping_default_lists_are_a_422_on_valid_from(head_api):
    head_api.send("post", "/price-lists", STANDARD)
    error = _error(
        head_api.send(
            "post", "/price-lists", {**STANDARD, "name": "重複", "valid_from": "2026-10-01"}
        ),
        422,
    )
    assert "may not overlap" in error["fields"]["valid_from"][0]
    assert PriceList.objects.count() == 1


def test_tiers_must_be_monotonic_and_errors_name_the_row(head_api, make_product):
    pump = make_product(sku="PMP-1")
    list_id = head_api.send("post", "/price-lists", STANDARD).json()["id"]
    items = [
        {"product": pump.pk, "min_quantity": 1, "unit_price": "1000"},
        {"product": pump.pk, "min_quantity": 10, "unit_price": "1200"},
        {"product": 999_999, "min_quantity": 1, "unit_price": "5"},
        {"product": pump.pk, "min_quantity": 20, "unit_price": "1.5"},
    ]
    error = _error(head_api.send("put", f"/price-lists/{list_id}/items", {"items": items}), 422)
    assert (
        "higher quantities get the same or a lower price"
        in error["fields"]["items.1.unit_price"][0]
    )
    assert "items.2.product" in error["fields"]
    assert "no minor unit" in error["fields"]["items.3.unit_price"][0]
    assert not PriceListItem.objects.exists()
    assert PriceList.objects.get().version == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/price-lists", {**STANDARD, "colour": "red"}),
        ("post", "/price-lists", {**STANDARD, "valid_from": "2026-13-01"}),
        ("post", "/price-lists", {**STANDARD, "is_default": "yes"}),
        ("post", "/price-lists", {**STANDARD, "currency": "XYZ"}),
        ("post", "/price-lists", {k: v for k, v in STANDARD.items() if k != "name"}),
        ("patch", "/price-lists/{id}", {"valid_to": "2020-01-01"}),
        ("put", "/price-lists/{id}/items", {"items": [{"product": 1, "unit_price": "-1"}]}),
        ("put", "/price-lists/{id}/items", {"items": [{"product": 1, "price": "1"}]}),
        ("put", "/price-lists/{id}/items", {"rows": []}),
    ],
)
def test_bad_input_is_a_422_with_field_errors(head_api, method, path, body):
    list_id = head_api.send("post", "/price-lists", STANDARD).json()["id"]
    error = _error(head_api.send(method, path.format(id=list_id), body), 422)
    assert error["fields"]
    price_list = PriceList.objects.get()
    assert price_list.version == 1 and price_list.valid_to is not None


def test_a_kam_reads_but_cannot_write(head_api, kam_api):
    list_id = head_api.send("post", "/price-lists", STANDARD).json()["id"]
    _error(kam_api.send("post", "/price-lists", {**STANDARD, "is_default": False}), 403)
    _error(kam_api.send("patch", f"/price-lists/{list_id}", {"name": "x"}), 403)
    _error(kam_api.send("put", f"/price-lists/{list_id}/items", {"items": []}), 403)
    assert PriceList.objects.count() == 1
    assert PriceList.objects.get().name == STANDARD["name"]


def test_unknown_lists_are_404(head_api):
    _error(head_api.send("patch", "/price-lists/999999", {"name": "x"}), 404)
    _error(head_api.send("put", "/price-lists/999999/items", {"items": []}), 404)
