import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tokui.catalog.models import Product
from tokui.catalog.services import price_list_create, price_list_set_items
from tokui.core.models import AuditEvent
from tokui.users.services import api_token_create


class Api:
    def __init__(self, client, user):
        _token, key = api_token_create(actor=user, user=user)
        self.client, self.headers = client, {"Authorization": f"Bearer {key}"}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

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


def test_a_head_creates_and_patches_a_product(head_api, pump_line):
    response = head_api.send(
        "post",
        "/products",
        {
            "sku": "pmp-100a",
            "name": "渦巻ポンプ 100A",
            "line": pump_line.pk,
            "list_price": "285000",
            "cost": "171000",
            "unit": "台",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sku"] == "PMP-100A"
    assert Decimal(body["cost"]) == 171000
    assert Decimal(body["margin"]) == Decimal("40.0")
    path = f"/products/{body['id']}"
    response = head_api.send("patch", path, {"status": "unavailable", "version": 1})
    assert response.status_code == 200 and response.json()["version"] == 2
    error = _error(head_api.send("patch", path, {"name": "古い", "version": 1}), 409)
    assert error["code"] == "conflict"
    assert Product.objects.get().name == "渦巻ポンプ 100A"
    assert AuditEvent.objects.filter(scope=f"catalog:product:{body['id']}").count() == 2


def test_cost_is_hidden_from_others_in_the_api(kam_api, make_product):
    product = make_product(cost=Decimal(60_000))
    for response in (kam_api.get("/products"), kam_api.get(f"/products/{product.pk}")):
        assert response.status_code == 200
        assert "60000" not in response.text
    body = kam_api.get(f"/products/{product.pk}").json()
    assert body["cost"] is None and body["margin"] is None


def test_a_kam_reads_but_cannot_write(kam_api, make_product, pump_line):
    product = make_product()
    body = {"sku": "X-1", "name": "x", "line": pump_line.pk, "list_price": "1"}
    assert _error(kam_api.send("post", "/products", body), 403)["code"] == "forbidden"
    assert _error(kam_api.send("patch", f"/products/{product.pk}", {"name": "y"}), 403)
    assert _error(kam_api.send("post", "/product-lines", {"name": "y"}), 403)
    assert Product.objects.count() == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"list_price": "-1"},
        {"list_price": "1000000000000"},
        {"list_price": "12.5"},
        {"line": 999999},
        {"sku": "bad sku!"},
        {"unexpected": 1},
        {"substitutes": [999999]},
    ],
)
def test_bad_input_is_a_422_and_saves_nothing(head_api, pump_line, changes):
    body = {"sku": "OK-1", "name": "ok", "line": pump_line.pk, "list_price": "1000", **changes}
    error = _error(head_api.send("post", "/products", body), 422)
    assert error["code"] == "invalid"
    assert not Product.objects.exists()


def test_list_filters_and_constant_queries(kam_api, make_product, pump_line):
    make_product(sku="PMP-1", name="渦巻ポンプ", name_kana="ウズマキポンプ")
    kam_api.get("/products")  # the first call also notes the token's use
    with CaptureQueriesContext(connection) as small:
        kam_api.get("/products")
    for _ in range(10):
        make_product(name="ギヤポンプ", name_kana="ギヤポンプ")
    with CaptureQueriesContext(connection) as large:
        body = kam_api.get("/products").json()
    assert body["count"] == 11
    assert len(large.captured_queries) == len(small.captured_queries)
    assert kam_api.get("/products", q="うずまき").json()["count"] == 1
    assert kam_api.get("/products", line=pump_line.pk, status="active").json()["count"] == 11
    assert kam_api.get("/products", status="nonsense").status_code == 422
    assert _error(kam_api.get("/products/999999"), 404)["code"] == "not_found"


def test_product_lines_and_price_lists(head, head_api, kam_api, make_product):
    pump = make_product()
    response = head_api.send("post", "/product-lines", {"name": "バルブ", "name_kana": "ばるぶ"})
    assert response.status_code == 201 and response.json()["name_kana"] == "バルブ"
    lines = kam_api.get("/product-lines").json()
    assert {line["name"]: line["product_count"] for line in lines} == {
        "産業用ポンプ": 1,
        "バルブ": 0,
    }
    price_list = price_list_create(
        actor=head,
        data={"name": "標準", "valid_from": datetime.date(2026, 4, 1), "is_default": True},
    )
    price_list_set_items(
        actor=head,
        price_list=price_list,
        items=[
            {"product": pump.pk, "min_quantity": 1, "unit_price": 100000},
            {"product": pump.pk, "min_quantity": 5, "unit_price": 95000},
        ],
    )
    lists = kam_api.get("/price-lists").json()
    assert [(pl["name"], pl["item_count"], pl["is_default"]) for pl in lists] == [("標準", 2, True)]
    detail = kam_api.get(f"/price-lists/{price_list.pk}").json()
    assert [(i["sku"], i["min_quantity"], Decimal(i["unit_price"])) for i in detail["items"]] == [
        (pump.sku, 1, 100000),
        (pump.sku, 5, 95000),
    ]
    assert kam_api.get("/price-lists/999999").status_code == 404
