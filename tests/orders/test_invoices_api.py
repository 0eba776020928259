# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""/api/v1/invoices: issue (idempotent), list and search, detail, PDF, payments."""

import datetime
import subprocess

import pytest

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    contact,
    make_product,
    pump_line,
)
from tests.orders.test_invoices import deliver, make_order
from tokui.orders.constants import OrderStatus
from tokui.orders.models import Invoice
from tokui.users.services import api_token_create


@pytest.fixture
def api(client):
    def call(user, method, path, data=None, headers=None, **params):
        _token, key = api_token_create(actor=user, user=user)
        headers = {"Authorization": f"Bearer {key}", **(headers or {})}
        url = f"/api/v1{path}"
        if method == "get":
            return client.get(url, params, headers=headers)
        return getattr(client, method)(url, data, content_type="application/json", headers=headers)

    return call


@pytest.fixture
def order(account, kam):
    order = make_order(account, kam, [(1000, 3, "standard"), (1234, 2, "reduced")])
    deliver(order, datetime.date(2026, 11, 5))
    return order


def test_issue_get_list_pay_through_the_api(api, kam, account, company, order):
    body = {"account": account.pk, "orders": [order.pk], "issued_on": "2026-11-10"}
    answer = api(kam, "post", "/invoices", body, headers={"Idempotency-Key": "abc"})
    assert answer.status_code == 201, answer.json()
    data = answer.json()
    assert data["number"] == "INV-2026-00001"
    assert data["honorific"] == "onchu"
    assert data["tax_standard"] == "300" or float(data["tax_standard"]) == 300
    assert float(data["tax_reduced"]) == 197
    assert [line["quantity"] for line in data["lines"]] == [3, 2]
    again = api(kam, "post", "/invoices", body, headers={"Idempotency-Key": "abc"})
    assert again.status_code == 200
    assert again.json()["id"] == data["id"]
    assert Invoice.objects.count() == 1
    field = api(kam, "post", "/invoices", {**body, "idempotency_key": "abc"})
    assert field.status_code == 200

    assert api(kam, "get", f"/invoices/{data['id']}").json()["number"] == data["number"]
    listed = api(kam, "get", "/invoices", q="山田", amount_min="5965", date_from="2026-11-10")
    assert [item["id"] for item in listed.json()["items"]] == [data["id"]]
    assert api(kam, "get", "/invoices", amount_max="100").json()["count"] == 0

    paid = api(kam, "post", f"/invoices/{data['id']}/payments",
               {"amount": "1000", "paid_on": "2026-11-30"})  # fmt: skip
    assert paid.status_code == 201, paid.json()
    assert paid.json()["status"] == "partially_paid"
    over = api(kam, "post", f"/invoices/{data['id']}/payments",
               {"amount": "999999", "paid_on": "2026-11-30"})  # fmt: skip
    assert over.status_code == 422
    assert over.json()["error"]["code"] == "overpayment"
    # A bank feed posting the same payment twice: the key makes it one payment.
    keyed = {"amount": "500", "paid_on": "2026-11-30", "idempotency_key": "bank-20261130-17"}
    first = api(kam, "post", f"/invoices/{data['id']}/payments", keyed)
    again = api(kam, "post", f"/invoices/{data['id']}/payments", keyed)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["paid"] == first.json()["paid"] == "1500.00"
    assert len(again.json()["payments"]) == 2
    rest = api(kam, "post", f"/invoices/{data['id']}/payments",
               {"amount": "4465", "paid_on": "2026-11-30", "method": "transfer"})  # fmt: skip
    assert rest.json()["status"] == "paid"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_undelivered_order_and_errors(api, kam, support, account, company):
    undelivered = make_order(account, kam, [(1000, 1, "standard")])
    answer = api(kam, "post", "/invoices", {"account": account.pk, "orders": [undelivered.pk]})
    assert answer.status_code == 422
    assert "not been delivered" in answer.json()["error"]["message"]
    assert api(kam, "get", "/invoices/999999").status_code == 404
    assert api(kam, "get", "/invoices/999999/pdf").status_code == 404
    forbidden = api(support, "post", "/invoices", {"account": account.pk, "orders": [1]})
    assert forbidden.status_code == 403
    bad = api(kam, "post", "/invoices", {"account": account.pk, "period_end": "2026-11-15"})
    assert bad.status_code == 422


def test_pdf_through_the_api(api, kam, account, company, order):
    made = api(kam, "post", "/invoices", {"account": account.pk, "orders": [order.pk]}).json()
    answer = api(kam, "get", f"/invoices/{made['id']}/pdf")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=answer.content, capture_output=True, check=True
    ).stdout.decode()
    assert "INV-2026-00001" in text
