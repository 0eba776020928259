"""The price-check page ("why this price"), the account's Prices section, the product link."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from tokui.pricing.rules import discount_rule_create

D = datetime.date


@pytest.fixture
def setup(head, kam, make_account, make_product):
    account = make_account(kam, name="株式会社山田商事", tier="key")
    product = make_product(list_price=100_000, cost=60_000)
    discount_rule_create(
        actor=head,
        data={"name": "キーアカウント割引", "kind": "tier", "account_tier": "key", "percent": 3},
    )
    discount_rule_create(
        actor=head,
        data={"name": "大口割引", "kind": "volume", "min_quantity": 100, "percent": 5,
              "stackable": True},
    )  # fmt: skip
    return account, product


def test_the_price_check_shows_the_price_the_rule_and_every_candidate(client, kam, setup):
    account, product = setup
    client.force_login(kam)
    url = reverse("pricing:price_check")
    response = client.get(
        url, {"account": account.pk, "product": product.pk, "quantity": 1, "date": "2026-12-01"}
    )
    assert response.status_code == 200
    quote = response.context["quote"]
    assert quote["unit_price"] == Decimal(97_000)
    assert quote["source"] == "discount_rule"
    text = response.content.decode()
    assert "キーアカウント割引" in text and "97,000" in text
    reasons = [c["reason"] for c in quote["candidates"]]
    assert any("100" in r for r in reasons)  # the volume rule needs 100 units
    # The margin floor that did not bite would reveal the cost: a KAM does not see it.
    assert not any(c["source"] == "floor" for c in quote["candidates"])


def test_a_head_sees_the_floor_candidate(client, head, setup):
    account, product = setup
    client.force_login(head)
    response = client.get(
        reverse("pricing:price_check"), {"account": account.pk, "product": product.pk}
    )
    assert any(c["source"] == "floor" for c in response.context["quote"]["candidates"])


def test_the_explanation_is_in_the_readers_language(client, kam, setup):
    account, product = setup
    client.force_login(kam)
    response = client.get(
        reverse("pricing:price_check"),
        {"account": account.pk, "product": product.pk, "quantity": 1},
        headers={"Accept-Language": "ja"},
    )
    assert response.status_code == 200
    assert "円" in response.context["quote"]["explanation"]


def test_the_account_picker_searches_visible_accounts(client, kam, west_am, setup, make_account):
    make_account(west_am, name="株式会社山田物産")
    client.force_login(kam)
    response = client.get(reverse("pricing:price_check"), {"q": "山田"})
    names = [a.name for a in response.context["found"]]
    assert names == ["株式会社山田商事"]
    partial = client.get(
        reverse("pricing:price_check"), {"q": "山田", "picker": "1"}, headers={"HX-Request": "true"}
    )
    assert b"<html" not in partial.content and "山田商事" in partial.content.decode()


def test_an_invisible_account_is_not_found_and_bad_quantities_are_refused(
    client, west_am, kam, setup
):
    account, product = setup
    client.force_login(west_am)
    response = client.get(reverse("pricing:price_check"), {"account": account.pk})
    assert response.status_code == 404
    client.force_login(kam)
    response = client.get(
        reverse("pricing:price_check"),
        {"account": account.pk, "product": product.pk, "quantity": 0},
    )
    assert response.status_code == 422
    assert response.context["quote"] is None


def test_the_account_page_has_the_prices_section_and_the_product_page_a_link(client, kam, setup):
    account, product = setup
    client.force_login(kam)
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert 'id="prices-title"' in page and f'name="account" value="{account.pk}"' in page
    product_page = client.get(reverse("catalog:product_detail", args=[product.pk])).content
    assert f"/prices/check/?product={product.pk}".encode() in product_page
