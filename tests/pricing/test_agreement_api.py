"""/api/v1/agreements: list, get, create, PATCH with version, PUT terms, payment dates."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tokui.pricing.models import Agreement, AgreementPrice, ApprovalRequest, AuthorityLimit
from tokui.pricing.services import agreement_create, agreement_set_terms
from tokui.users.services import api_token_create

D = datetime.date


@pytest.fixture
def account(kam, make_account):
    return make_account(kam, name="株式会社山田商事")


@pytest.fixture
def agreement(kam, account):
    today = timezone.localdate()
    return agreement_create(
        actor=kam,
        account=account,
        data={"name": "今年度 取引条件", "valid_from": today - datetime.timedelta(days=10),
              "valid_to": today + datetime.timedelta(days=300), "closing_day": 0,
              "payment_month_offset": 1, "payment_day": 0},
    )  # fmt: skip


@pytest.fixture
def api(client):
    def call(user, method, path, data=None, **params):
        _token, key = api_token_create(actor=user, user=user)
        headers = {"Authorization": f"Bearer {key}"}
        url = f"/api/v1{path}"
        if method == "get":
            return client.get(url, params, headers=headers)
        return getattr(client, method)(url, data, content_type="application/json", headers=headers)

    return call


def test_list_filters_by_account_and_day_and_hides_invisible(
    api, kam, west_am, account, agreement, make_account
):
    other = make_account(west_am, name="西日本工業")
    agreement_create(actor=west_am, account=other, data={"name": "西", "valid_from": "2020-01-01"})
    body = api(kam, "get", "/agreements").json()
    assert [a["name"] for a in body["items"]] == ["今年度 取引条件"]
    assert body["items"][0]["payment_terms"] == (
        "closing at month end, paid at the end of the next month"
    )
    assert body["items"][0]["state"] == "current"
    assert api(kam, "get", "/agreements", account=account.pk).json()["count"] == 1
    assert api(kam, "get", "/agreements", on="2000-01-01").json()["count"] == 0
    assert api(kam, "get", "/agreements", state="expired").json()["count"] == 0
    assert api(west_am, "get", f"/agreements/{agreement.pk}").status_code == 404


def test_get_has_terms_and_todays_next_payment(api, kam, agreement, make_product, pump_line):
    pump = make_product()
    agreement_set_terms(actor=kam, agreement=agreement,
                        prices=[{"product": pump.pk, "min_quantity": 1, "unit_price": 90_000}],
                        discounts=[{"line": pump_line.pk, "percent": "2.5"}])  # fmt: skip
    body = api(kam, "get", f"/agreements/{agreement.pk}").json()
    assert body["prices"] == [
        {"product": pump.pk, "sku": pump.sku, "min_quantity": 1, "unit_price": "90000.00"}
    ]
    assert body["discounts"][0]["line"] == pump_line.pk
    assert body["discounts"][0]["product"] is None
    assert body["next_payment"]["invoice_date"] == timezone.localdate().isoformat()
    assert body["pending_request"] is None


def test_payment_date_endpoint(api, kam, agreement):
    response = api(
        kam, "get", f"/agreements/{agreement.pk}/payment-date", invoice_date="2026-04-10"
    )
    assert response.status_code == 200
    # April closes on the 30th; May 31 2026 is a Sunday → Monday June 1.
    assert response.json() | {"payment_terms": ""} == {
        "invoice_date": "2026-04-10", "closing_date": "2026-04-30", "due_date": "2026-05-31",
        "payment_date": "2026-06-01", "payment_terms": "",
    }  # fmt: skip
    bad = api(kam, "get", f"/agreements/{agreement.pk}/payment-date", invoice_date="20260410")
    assert bad.status_code == 422 and "invoice_date" in bad.json()["error"]["fields"]
    far = api(kam, "get", f"/agreements/{agreement.pk}/payment-date", invoice_date="9999-12-31")
    assert far.status_code == 422


def test_create_and_patch_with_version(api, kam, account, agreement):
    response = api(kam, "post", "/agreements", {
        "account": account.pk, "name": "来年度", "valid_from": "2040-04-01",
        "closing_day": 20, "payment_month_offset": 1, "payment_day": 10,
        "business_day_rule": "previous"})  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["payment_terms"] == "closing on the 20th, paid on the 10th of the next month"
    patched = api(kam, "patch", f"/agreements/{body['id']}",
                  {"valid_to": "2041-03-31", "version": body["version"]})  # fmt: skip
    assert patched.status_code == 200 and patched.json()["valid_to"] == "2041-03-31"
    stale = api(kam, "patch", f"/agreements/{body['id']}", {"name": "x", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"


def test_bad_input_gets_one_error_shape_and_changes_nothing(api, kam, support, account, agreement):
    today = timezone.localdate().isoformat()
    overlap = api(kam, "post", "/agreements",
                  {"account": account.pk, "name": "重複", "valid_from": today})  # fmt: skip
    assert overlap.status_code == 422
    assert "valid_from" in overlap.json()["error"]["fields"]
    base = {"account": account.pk, "name": "x", "valid_from": "2050-01-01"}
    extra = api(kam, "post", "/agreements", base | {"owner": "kam"})
    assert extra.status_code == 422
    day = api(kam, "post", "/agreements", base | {"closing_day": 31})
    assert day.status_code == 422
    nobody = api(kam, "post", "/agreements", {"account": 999_999, "name": "x",
                                              "valid_from": "2050-01-01"})  # fmt: skip
    assert nobody.status_code == 422 and "account" in nobody.json()["error"]["fields"]
    assert api(support, "patch", f"/agreements/{agreement.pk}", {"name": "y"}).status_code == 403
    assert Agreement.objects.count() == 1


def test_put_terms_applies_within_authority(api, kam, agreement, make_product):
    AuthorityLimit.objects.create(role="kam", max_discount_percent=Decimal(15))
    pump = make_product()
    response = api(kam, "put", f"/agreements/{agreement.pk}/terms", {
        "prices": [{"product": pump.pk, "min_quantity": 1, "unit_price": "95000"}],
        "version": agreement.version})  # fmt: skip
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["applied"] is True and body["request"] is None
    assert body["agreement"]["prices"][0]["unit_price"] == "95000.00"


def test_put_terms_beyond_authority_opens_a_request(api, kam, head, agreement, make_product):
    AuthorityLimit.objects.create(role="kam", max_discount_percent=Decimal(15))
    pump = make_product()
    response = api(kam, "put", f"/agreements/{agreement.pk}/terms", {
        "prices": [{"product": pump.pk, "min_quantity": 1, "unit_price": "70000"}],
        "reason": "競合対策"})  # fmt: skip
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["applied"] is False
    request = ApprovalRequest.objects.get(pk=body["request"])
    assert body["agreement"]["pending_request"] == request.pk
    assert not AgreementPrice.objects.exists()


def test_put_terms_row_errors_name_the_row(api, kam, agreement, make_product):
    pump = make_product()
    response = api(kam, "put", f"/agreements/{agreement.pk}/terms", {
        "prices": [{"product": pump.pk, "min_quantity": 1, "unit_price": "1000"},
                   {"product": pump.pk, "min_quantity": 5, "unit_price": "2000"}],
        "discounts": [{"percent": "5"}]})  # fmt: skip
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert "prices.1.unit_price" in fields and "discounts.0.product" in fields
    assert not AgreementPrice.objects.exists()
