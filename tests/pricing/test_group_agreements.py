"""Group agreements (企業グループ): an agreement "for the whole group" prices the subsidiaries."""

import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from tokui.accounts.services import account_update
from tokui.core.models import AuditEvent
from tokui.pricing.engine import Source
from tokui.pricing.models import ApprovalRequest, ApprovalStatus
from tokui.pricing.quotes import price_quote
from tokui.pricing.services import agreement_create, agreement_set_terms, agreement_update
from tokui.users.services import api_token_create

D = datetime.date
ON = D(2026, 6, 1)


@pytest.fixture
def group(kam, make_account):
    """山田HD → 山田産業 → 山田物流 (top, middle, lowest)."""
    top = make_account(kam, name="山田ホールディングス株式会社")
    middle = make_account(kam, name="山田産業株式会社")
    low = make_account(kam, name="山田物流株式会社")
    account_update(actor=kam, account=middle, data={"parent": top.pk})
    account_update(actor=kam, account=low, data={"parent": middle.pk})
    return top, middle, low


@pytest.fixture
def product(make_product):
    return make_product(list_price=100_000, cost=50_000)


def _agreement(kam, account, product, price, *, group=False, name="2026年度取引条件"):
    agreement = agreement_create(
        actor=kam,
        account=account,
        data={"name": name, "valid_from": D(2026, 4, 1), "valid_to": D(2027, 3, 31),
              "applies_to_group": group},
    )  # fmt: skip
    return agreement_set_terms(
        actor=kam,
        agreement=agreement,
        prices=[{"product": product.pk, "min_quantity": 1, "unit_price": price}],
        discounts=[],
    )


def _quote(viewer, account, product, on=ON):
    return price_quote(
        viewer=viewer, account_id=account.pk, product_id=product.pk, quantity=1, on=on
    )


def test_a_subsidiary_without_an_agreement_gets_the_parents_group_price(kam, group, product):
    top, middle, _low = group
    parent_terms = _agreement(kam, top, product, 80_000, group=True, name="グループ共通条件")
    quote = _quote(kam, middle, product)
    assert (quote.unit_price, quote.winner.source) == (Decimal(80_000), Source.SPECIAL_PRICE)
    assert quote.winner.id == parent_terms.prices.get().pk
    assert "グループ共通条件" in quote.text and top.name in quote.text
    # Outside the agreement's period nothing is inherited.
    assert _quote(kam, middle, product, on=D(2027, 6, 1)).unit_price == Decimal(100_000)


def test_the_subsidiarys_own_agreement_wins(kam, group, product):
    top, middle, _low = group
    _agreement(kam, top, product, 80_000, group=True)
    _agreement(kam, middle, product, 90_000, name="山田産業 個別条件")
    quote = _quote(kam, middle, product)
    assert quote.unit_price == Decimal(90_000)
    assert "山田産業 個別条件" in quote.text and "group" not in quote.text


def test_a_parents_agreement_not_for_the_group_does_not_apply(kam, group, product):
    top, middle, _low = group
    _agreement(kam, top, product, 80_000, group=False)
    assert _quote(kam, middle, product).unit_price == Decimal(100_000)
    assert _quote(kam, top, product).unit_price == Decimal(80_000)


def test_a_grandparents_group_agreement_applies_through_a_middle_company(kam, group, product):
    top, middle, low = group
    _agreement(kam, top, product, 80_000, group=True, name="グループ共通条件")
    quote = _quote(kam, low, product)
    assert quote.unit_price == Decimal(80_000)
    assert top.name in quote.text
    # The nearest group agreement wins: the middle company's own group terms, once it has them.
    _agreement(kam, middle, product, 85_000, group=True, name="山田産業グループ条件")
    quote = _quote(kam, low, product)
    assert quote.unit_price == Decimal(85_000)
    assert middle.name in quote.text


def test_the_approved_floor_of_the_group_agreement_applies(kam, group, product):
    top, middle, _low = group
    terms = _agreement(kam, top, product, 45_000, group=True)  # below cost (50,000)
    assert _quote(kam, middle, product).unit_price == Decimal(50_000)  # floored
    approval = ApprovalRequest.objects.create(
        kind="agreement_terms", title="特別価格", requester=kam, account=top,
        agreement=terms, status=ApprovalStatus.APPROVED,
    )  # fmt: skip
    terms.approved_by = approval
    terms.save(update_fields=["approved_by"])
    quote = _quote(kam, middle, product)
    assert (quote.unit_price, quote.winner.source) == (Decimal(45_000), Source.SPECIAL_PRICE)


def test_the_group_flag_is_validated_and_audited(kam, group):
    top, _middle, _low = group
    agreement = agreement_create(
        actor=kam, account=top, data={"name": "条件", "valid_from": D(2026, 4, 1)}
    )
    assert agreement.applies_to_group is False
    agreement_update(actor=kam, agreement=agreement, data={"applies_to_group": True})
    agreement.refresh_from_db()
    assert agreement.applies_to_group is True
    event = AuditEvent.objects.filter(action="pricing.agreement.updated").latest("id")
    assert event.changes == {"applies_to_group": [False, True]}
    with pytest.raises(Exception) as exc:
        agreement_update(actor=kam, agreement=agreement, data={"applies_to_group": "yes"})
    assert "applies_to_group" in exc.value.errors
    agreement.refresh_from_db()
    assert agreement.applies_to_group is True


def test_pages_show_the_group_flag_and_the_inherited_agreement(client, kam, group, product):
    top, middle, _low = group
    client.force_login(kam)
    response = client.post(
        reverse("pricing:agreement_create", args=[top.pk]),
        {"name": "グループ共通条件", "currency": "JPY", "valid_from": "2026-04-01",
         "closing_day": 0, "payment_month_offset": 1, "payment_day": 0,
         "business_day_rule": "next", "applies_to_group": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    agreement = top.agreements.get()
    assert agreement.applies_to_group
    detail = client.get(reverse("pricing:agreement_detail", args=[agreement.pk]))
    assert "group-flag" in detail.content.decode()
    page = client.get(reverse("accounts:detail", args=[middle.pk])).content.decode()
    assert "group-agreement" in page and "グループ共通条件" in page
    assert reverse("pricing:agreement_detail", args=[agreement.pk]) in page


def test_the_api_reads_and_writes_the_group_flag(client, kam, group):
    top, _middle, _low = group
    _token, key = api_token_create(actor=kam, user=kam)
    headers = {"Authorization": f"Bearer {key}"}
    created = client.post(
        "/api/v1/agreements",
        json.dumps({"account": top.pk, "name": "グループ共通条件", "valid_from": "2026-04-01",
                    "applies_to_group": True}),
        content_type="application/json", headers=headers,
    )  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["applies_to_group"] is True
    changed = client.patch(
        f"/api/v1/agreements/{created.json()['id']}",
        json.dumps({"applies_to_group": False}),
        content_type="application/json",
        headers=headers,
    )
    assert changed.status_code == 200 and changed.json()["applies_to_group"] is False


def test_the_demo_has_a_group_whose_subsidiaries_get_the_group_terms(db):
    import io

    from django.utils import timezone

    from tokui.accounts.models import Account
    from tokui.catalog.models import Product
    from tokui.users.models import User
    from tokui.web.demo import demo_load
    from tokui.web.demo_catalog import demo_catalog
    from tokui.web.demo_pricing import demo_pricing

    demo_load(accounts=120)
    demo_catalog(stdout=io.StringIO())
    demo_pricing(stdout=io.StringIO())
    demo_pricing(stdout=io.StringIO())  # idempotent
    parent = Account.objects.filter(subsidiaries__isnull=False).distinct().get()
    subsidiaries = list(parent.subsidiaries.all())
    assert len(subsidiaries) == 2
    assert parent.agreements.filter(applies_to_group=True).exists()
    kam = User.objects.get(username="kam")
    pump = Product.objects.get(sku="PMP-100A")
    quote = price_quote(
        viewer=kam, account_id=subsidiaries[0].pk, product_id=pump.pk, quantity=5,
        on=timezone.localdate(),
    )  # fmt: skip
    assert quote.unit_price == 248_000
    assert parent.name in quote.text
