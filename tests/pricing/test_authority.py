"""Authority limits: role rows, personal overrides, defaults, breaches, and what terms need."""

import datetime
from decimal import Decimal

import pytest

from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.pricing.authority import (
    Authority,
    Needs,
    agreement_terms_needs,
    authority_for,
    authority_limit_delete,
    authority_limit_set,
    breaches,
)
from tokui.pricing.models import AuthorityLimit
from tokui.pricing.services import agreement_create
from tokui.users.constants import Role

D = Decimal


@pytest.fixture
def limits(db):
    for role, discount, margin in (
        (Role.AM, "5", "30"),
        (Role.KAM, "15", "20"),
        (Role.HEAD, "40", "5"),
    ):
        AuthorityLimit.objects.create(
            role=role, max_discount_percent=D(discount), min_margin_percent=D(margin)
        )


def test_role_row_applies_and_a_person_overrides_field_by_field(limits, kam, am):
    assert authority_for(kam) == Authority(D(15), D(20), None)
    AuthorityLimit.objects.create(user=am, max_discount_percent=D("8"))
    assert authority_for(am) == Authority(D(8), D(30), None)  # margin kept from the role


def test_defaults_without_rows_fail_closed_for_sales_and_open_for_admins(kam, admin_user, head):
    assert authority_for(kam).max_discount_percent == 0
    assert breaches(authority_for(kam), Needs(discount_percent=D("0.5")))
    assert authority_for(admin_user) == Authority()
    assert not breaches(authority_for(head), Needs(discount_percent=D(60), margin_percent=D(-5)))


def test_an_inactive_person_has_no_authority(limits, head):
    head.is_active = False
    assert authority_for(head).max_discount_percent == 0


def test_breaches_say_what_and_by_how_much(limits, kam):
    reasons = breaches(
        authority_for(kam), Needs(discount_percent=D(25), margin_percent=D(12), deal_value=None)
    )
    assert reasons == [
        "25% discount is above your limit of 15%.",
        "12% margin is below your minimum of 20%.",
    ]
    assert breaches(authority_for(kam), Needs(discount_percent=D(15), margin_percent=D(20))) == []
    capped = Authority(max_deal_value=D(50_000_000))
    assert "¥60,000,000" in breaches(capped, Needs(deal_value=D(60_000_000)))[0]


def test_terms_needs_take_the_largest_discount_and_the_lowest_margin(
    kam, make_account, make_product, pump_line
):
    account = make_account(kam)
    agreement = agreement_create(
        actor=kam, account=account, data={"name": "条件", "valid_from": datetime.date(2026, 4, 1)}
    )
    a = make_product()  # list 100,000, cost 60,000
    b = make_product(cost=None)
    needs = agreement_terms_needs(
        agreement,
        [{"product": a.pk, "min_quantity": 1, "unit_price": "90000"},
         {"product": a.pk, "min_quantity": 10, "unit_price": D(75000)}],
        [{"product": b, "percent": "30"}],
    )  # fmt: skip
    assert needs.discount_percent == D(30)  # b's discount; b has no cost so no margin from it
    assert needs.margin_percent == D(20)  # (75,000 − 60,000) / 75,000
    line_needs = agreement_terms_needs(agreement, [], [{"line": pump_line.pk, "percent": 10}])
    assert line_needs.discount_percent == D(10)
    assert line_needs.margin_percent == D("33.33")  # 90,000 against a's cost
    assert agreement_terms_needs(agreement, [], []) == Needs()


def test_heads_set_role_limits_and_overrides_audited(head, kam):
    row = authority_limit_set(actor=head, role=Role.KAM, data={"max_discount_percent": "15"})
    assert row.max_discount_percent == D(15)
    override = authority_limit_set(actor=head, user=kam, data={"max_discount_percent": "20"})
    assert authority_for(kam).max_discount_percent == D(20)
    assert AuditEvent.objects.filter(action="pricing.authority.changed").count() == 2
    authority_limit_delete(actor=head, limit_id=override.pk)
    assert authority_for(kam).max_discount_percent == D(15)
    assert AuditEvent.objects.filter(action="pricing.authority.removed").count() == 1


def test_bad_limits_are_refused_and_change_nothing(head):
    authority_limit_set(actor=head, role=Role.AM, data={"max_discount_percent": "5"})
    with pytest.raises(ApplicationError) as exc:
        authority_limit_set(
            actor=head,
            role=Role.AM,
            data={"max_discount_percent": "150", "min_margin_percent": "abc",
                  "max_deal_value": "-1"},
        )  # fmt: skip
    assert set(exc.value.errors) == {
        "max_discount_percent",
        "min_margin_percent",
        "max_deal_value",
    }
    assert AuthorityLimit.objects.get(role=Role.AM).max_discount_percent == D(5)


def test_sales_people_cannot_raise_their_own_limits(kam):
    with pytest.raises(PermissionDenied):
        authority_limit_set(actor=kam, user=kam, data={"max_discount_percent": "90"})
    assert not AuthorityLimit.objects.exists()
