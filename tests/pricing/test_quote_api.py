"""GET /api/v1/prices/quote: the engine answering from the catalog's records."""

import datetime
import json

import pytest

from tokui.catalog.services import price_list_create, price_list_set_items
from tokui.users.services import api_token_create

D = datetime.date


@pytest.fixture
def quote(client, kam):
    _token, key = api_token_create(actor=kam, user=kam)

    def get(**params):
        return client.get(
            "/api/v1/prices/quote", params, headers={"Authorization": f"Bearer {key}"}
        )

    return get


@pytest.fixture
def priced(head, kam, make_account, make_product):
    account = make_account(kam, name="株式会社山田商事")
    pump = make_product(list_price=100_000)
    standard = price_list_create(
        actor=head,
        data={"name": "標準価格表", "currency": "JPY", "valid_from": D(2026, 4, 1),
              "valid_to": D(2027, 3, 31), "is_default": True},
    )  # fmt: skip
    price_list_set_items(
        actor=head,
        price_list=standard,
        items=[
            {"product": pump.pk, "min_quantity": 1, "unit_price": 98_000},
            {"product": pump.pk, "min_quantity": 10, "unit_price": 92_000},
        ],
    )
    return account, pump


def test_the_quote_names_the_tier_that_set_the_price(quote, priced):
    account, pump = priced
    body = quote(account=account.pk, product=pump.pk, quantity=12, date="2026-12-01").json()
    assert (body["unit_price"], body["currency"]) == ("92000", "JPY")
    assert body["rule"]["source"] == "price_tier"
    assert "標準価格表" in body["explanation"]
    lost = {c["source"]: c["outcome"] for c in body["candidates"]}
    assert lost["list_price"] == "lost"
    one = quote(account=account.pk, product=pump.pk, quantity=1, date="2026-12-01").json()
    assert one["unit_price"] == "98000"


def test_outside_the_price_lists_validity_the_list_price_applies(quote, priced):
    account, pump = priced
    body = quote(account=account.pk, product=pump.pk, quantity=12, date="2027-06-01").json()
    assert (body["unit_price"], body["rule"]["source"]) == ("100000", "list_price")


def test_bad_input_and_invisible_accounts(quote, priced, west_am, make_account):
    account, pump = priced
    assert quote(account=account.pk, product=pump.pk, quantity=0).status_code == 422
    assert quote(account=account.pk, product=pump.pk, date="0").status_code == 422
    theirs = make_account(west_am, name="株式会社他チーム")
    hidden = quote(account=theirs.pk, product=pump.pk)
    assert hidden.status_code == 404
    assert json.loads(hidden.content)["error"]["code"] == "not_found"
    assert quote(account=account.pk, product=999_999).status_code == 404
