"""Discount rules: the services, and how quotes use them (segments, tiers, volume, floors)."""

import datetime
from decimal import Decimal

import pytest

from tokui.accounts.segments import segment_create
from tokui.core.exceptions import ApplicationError, Conflict, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.pricing.engine import Outcome, Source
from tokui.pricing.models import ApprovalRequest, ApprovalStatus, DiscountRule
from tokui.pricing.quotes import price_quote
from tokui.pricing.rules import (
    discount_rule_create,
    discount_rule_deactivate,
    discount_rule_list,
    discount_rule_scope,
    discount_rule_update,
)
from tokui.pricing.services import agreement_create, agreement_set_terms

D = datetime.date
ON = D(2026, 12, 1)


def _rule(head, **data):
    data.setdefault("name", "キーアカウント割引")
    data.setdefault("kind", "tier")
    data.setdefault("account_tier", "key")
    data.setdefault("percent", Decimal(3))
    return discount_rule_create(actor=head, data=data)


def test_a_head_creates_a_rule_with_an_audit_event(head):
    rule = _rule(head)
    assert rule.active and rule.percent == Decimal(3)
    event = AuditEvent.objects.get(action="pricing.discount_rule.created")
    assert event.scope == discount_rule_scope(rule.pk) == f"pricing:discount_rule:{rule.pk}"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "segment"}, "segment"),
        ({"kind": "tier", "account_tier": ""}, "account_tier"),
        ({"kind": "product_line"}, "line"),
        ({"kind": "volume", "min_quantity": 1}, "min_quantity"),
        ({"kind": "promotion", "valid_from": D(2026, 12, 1)}, "valid_to"),
        ({"percent": Decimal(100)}, "percent"),
        ({"percent": Decimal(0)}, "percent"),
        ({"percent": "abc"}, "percent"),
        ({"valid_from": D(2026, 12, 2), "valid_to": D(2026, 12, 1)}, "valid_to"),
        ({"account_tier": "gold"}, "account_tier"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_rules_are_refused_with_the_field_named(head, data, field):
    with pytest.raises(ApplicationError) as exc:
        _rule(head, **data)
    assert field in exc.value.errors
    assert not DiscountRule.objects.exists()


def test_only_heads_and_admins_write_rules_but_everyone_reads(head, kam):
    rule = _rule(head)
    with pytest.raises(PermissionDenied):
        _rule(kam)
    with pytest.raises(PermissionDenied):
        discount_rule_update(actor=kam, rule=rule, data={"percent": 50})
    rule.refresh_from_db()
    assert rule.percent == 3
    assert list(discount_rule_list(viewer=kam)) == [rule]


def test_a_stale_edit_is_refused(head):
    rule = _rule(head)
    discount_rule_update(actor=head, rule=rule, data={"percent": "4"}, version=1)
    with pytest.raises(Conflict):
        discount_rule_update(actor=head, rule=rule, data={"percent": "5"}, version=1)
    rule.refresh_from_db()
    assert (rule.percent, rule.version) == (Decimal(4), 2)


def test_deactivated_rules_list_last_and_stop_applying(head, kam, make_account, make_product):
    account = make_account(kam, tier="key")
    product = make_product(list_price=100_000)
    rule = _rule(head)
    later = _rule(head, name="別の割引", percent=Decimal(1))
    assert price_quote(
        viewer=kam, account_id=account.pk, product_id=product.pk, quantity=1, on=ON
    ).unit_price == Decimal(97_000)
    discount_rule_deactivate(actor=head, rule=rule)
    assert list(discount_rule_list(viewer=kam)) == [later, rule]
    found = price_quote(viewer=kam, account_id=account.pk, product_id=product.pk, quantity=1, on=ON)
    assert found.unit_price == Decimal(99_000)
    assert AuditEvent.objects.filter(action="pricing.discount_rule.deactivated").count() == 1


def test_tier_volume_and_promotion_rules_in_a_quote(
    head, kam, make_account, make_product, pump_line
):
    key = make_account(kam, tier="key")
    standard = make_account(kam)
    product = make_product(list_price=100_000)
    _rule(head)  # 3% for key accounts
    _rule(head, name="100台以上", kind="volume", account_tier="", min_quantity=100,
          percent=Decimal(5), stackable=True)  # fmt: skip
    promo = _rule(head, name="年末キャンペーン", kind="promotion", account_tier="",
                  line=pump_line.pk, valid_from=D(2026, 12, 1), valid_to=D(2026, 12, 31),
                  percent=Decimal(8))  # fmt: skip

    def quote(account, quantity, on=ON):
        return price_quote(
            viewer=kam, account_id=account.pk, product_id=product.pk, quantity=quantity, on=on
        )

    # The promotion beats the tier rule for a key account in December.
    found = quote(key, 1)
    assert (found.unit_price, found.winner.source, found.winner.id) == (
        Decimal(92_000),
        Source.DISCOUNT_RULE,
        promo.pk,
    )
    assert "年末キャンペーン" in found.text
    # In November only the tier rule applies; the volume rule needs 100 units.
    november = quote(key, 1, D(2026, 11, 30))
    assert november.unit_price == Decimal(97_000)
    needs = [c for c in november.candidates if c.outcome is Outcome.NOT_APPLICABLE]
    assert any("quantity" in c.reason.render() for c in needs)
    # A standard account never sees the key-account rule.
    assert quote(standard, 1, D(2026, 11, 30)).unit_price == Decimal(100_000)
    assert quote(standard, 100, D(2026, 11, 30)).unit_price == Decimal(95_000)


def test_a_segment_rule_applies_to_its_members_whoever_asks(
    head, kam, west_am, make_account, make_product
):
    # A private segment of the head: the rule still prices the same for the KAM.
    segment = segment_create(actor=head, name="東京の顧客", filters={"prefecture": ["東京都"]})
    tokyo = make_account(kam, prefecture="東京都")
    osaka = make_account(kam, prefecture="大阪府")
    product = make_product(list_price=100_000)
    _rule(head, name="東京割", kind="segment", account_tier="", segment=segment.pk, percent=4)
    for account, price in ((tokyo, 96_000), (osaka, 100_000)):
        found = price_quote(
            viewer=kam, account_id=account.pk, product_id=product.pk, quantity=1, on=ON
        )
        assert found.unit_price == Decimal(price)


def test_the_margin_floor_keeps_rules_above_cost(head, kam, make_account, make_product, settings):
    account = make_account(kam, tier="key")
    product = make_product(list_price=100_000, cost=60_000)
    _rule(head, percent=Decimal(50))
    found = price_quote(viewer=kam, account_id=account.pk, product_id=product.pk, quantity=1, on=ON)
    assert (found.unit_price, found.winner.source) == (Decimal(60_000), Source.FLOOR)
    settings.TOKUI_PRICE_FLOOR_MARGIN_PERCENT = Decimal(20)
    found = price_quote(viewer=kam, account_id=account.pk, product_id=product.pk, quantity=1, on=ON)
    assert found.unit_price == Decimal(75_000)  # 60,000 / (1 - 0.2)
    assert "minimum margin" in found.text


def _agreement(kam, account, product):
    agreement = agreement_create(
        actor=kam, account=account, data={"name": "2026年度取引条件", "valid_from": D(2026, 4, 1)}
    )
    return agreement_set_terms(
        actor=kam,
        agreement=agreement,
        prices=[{"product": product.pk, "min_quantity": 1, "unit_price": 55_000}],
        discounts=[],
    )


def test_an_agreement_price_below_cost_is_floored_unless_approved(
    head, kam, make_account, make_product
):
    account = make_account(kam)
    product = make_product(list_price=100_000, cost=60_000)
    agreement = _agreement(kam, account, product)
    found = price_quote(viewer=kam, account_id=account.pk, product_id=product.pk, quantity=1, on=ON)
    assert (found.unit_price, found.winner.source) == (Decimal(60_000), Source.FLOOR)
    # A 稟議 approved the ¥55,000: it takes effect, and is the floor for everything else.
    approval = ApprovalRequest.objects.create(
        kind="agreement_terms", title="特別価格", requester=kam, account=account,
        agreement=agreement, status=ApprovalStatus.APPROVED,
    )  # fmt: skip
    agreement.approved_by = approval
    agreement.save(update_fields=["approved_by"])
    found = price_quote(viewer=kam, account_id=account.pk, product_id=product.pk, quantity=1, on=ON)
    assert (found.unit_price, found.winner.source) == (Decimal(55_000), Source.SPECIAL_PRICE)
    floor = next(c for c in found.candidates if c.source is Source.FLOOR)
    assert (floor.id, floor.unit_price, floor.outcome) == (
        approval.pk,
        Decimal(55_000),
        Outcome.NOT_APPLICABLE,
    )
