"""Discount rules beyond their writer's authority go through approval (稟議)."""

import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from tokui.core.exceptions import ApplicationError, Conflict, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.pricing.approvals import (
    approval_approve,
    approval_kinds,
    approval_title,
    rule_propose,
)
from tokui.pricing.models import ApprovalRequest, ApprovalStatus, AuthorityLimit, DiscountRule
from tokui.pricing.quotes import price_quote
from tokui.pricing.rules import discount_rule_create, discount_rule_scope, discount_rule_update
from tokui.users.constants import Role
from tokui.users.services import api_token_create

D = Decimal
DAY = datetime.date(2026, 6, 1)


@pytest.fixture
def head_limit(db):
    """Heads of sales decide up to 40% alone; administrators keep their default (no limit)."""
    AuthorityLimit.objects.create(role=Role.HEAD, max_discount_percent=D(40))


def _tier_rule(percent, **extra):
    return {"name": "キーアカウント特別割引", "kind": "tier", "account_tier": "key",
            "percent": percent, **extra}  # fmt: skip


def test_within_authority_the_rule_applies_at_once(head_limit, head, admin_user):
    outcome = rule_propose(actor=head, data=_tier_rule("40"))
    assert outcome.applied and outcome.request is None
    assert outcome.rule is not None and outcome.rule.percent == D(40)
    assert not ApprovalRequest.objects.exists()


def test_beyond_authority_a_new_rule_is_routed_to_an_administrator(
    head_limit, head, admin_user, kam, make_account, make_product
):
    outcome = rule_propose(actor=head, data=_tier_rule("45"), reason="大型案件の競合対策")
    assert not outcome.applied and outcome.rule is None
    assert not DiscountRule.objects.exists()
    request = outcome.request
    assert request is not None
    assert (request.kind, request.status) == ("discount_rule", ApprovalStatus.PENDING)
    assert request.route == [{"mode": "any", "approvers": [admin_user.pk]}]
    assert request.subject_key.startswith("discount_rule:new:")
    assert request.proposal["data"]["percent"] == "45" and request.proposal["rule"] is None
    json.dumps(request.proposal)  # JSON-safe
    assert "キーアカウント特別割引" in approval_title(request)

    # Approving writes the rule as the requester; the price check then uses it.
    approval_approve(actor=admin_user, request=request)
    rule = DiscountRule.objects.get()
    assert (rule.percent, rule.account_tier) == (D(45), "key")
    events = list(AuditEvent.objects.filter(scope=discount_rule_scope(rule.pk)).order_by("id"))
    assert [(e.action, e.actor) for e in events] == [
        ("pricing.discount_rule.created", head),
        ("pricing.discount_rule.approved", admin_user),
    ]
    account = make_account(kam, name="株式会社山田商事", tier="key")
    product = make_product(list_price=D(100_000), cost=D(20_000))
    quote = price_quote(viewer=kam, account_id=account.pk, product_id=product.pk, quantity=1,
                        on=DAY)  # fmt: skip
    assert quote.unit_price == D(55_000)
    assert quote.winner.source == "discount_rule" and quote.winner.id == rule.pk


def test_another_head_with_enough_authority_is_asked_first(head_limit, head, make_user):
    senior = make_user("senior_head", Role.HEAD)
    AuthorityLimit.objects.create(user=senior, max_discount_percent=D(60))
    outcome = rule_propose(actor=head, data=_tier_rule("55"))
    assert outcome.request is not None
    assert outcome.request.route == [{"mode": "any", "approvers": [senior.pk]}]


def test_nobody_able_to_approve_is_a_clear_422_and_nothing_is_kept(head_limit, head, admin_user):
    AuthorityLimit.objects.create(role=Role.ADMIN, max_discount_percent=D(50))
    with pytest.raises(ApplicationError, match="Nobody has the authority") as caught:
        rule_propose(actor=head, data=_tier_rule("70"))
    assert caught.value.status == 422
    assert not ApprovalRequest.objects.exists() and not DiscountRule.objects.exists()


def test_the_requester_cannot_approve_their_own_request(head_limit, head, admin_user):
    request = rule_propose(actor=head, data=_tier_rule("45")).request
    with pytest.raises(PermissionDenied):
        approval_approve(actor=head, request=request)
    assert not DiscountRule.objects.exists()


def test_bad_data_is_refused_before_any_request(head_limit, head, admin_user):
    with pytest.raises(ApplicationError) as caught:
        rule_propose(actor=head, data={"name": "販促", "kind": "segment", "percent": "45"})
    assert set(caught.value.errors) == {"segment"} and caught.value.status == 422
    with pytest.raises(ApplicationError) as caught:
        rule_propose(actor=head, data=_tier_rule("45"), reason="<script>x</script>")
    assert "reason" in caught.value.errors
    assert not ApprovalRequest.objects.exists() and not DiscountRule.objects.exists()


def test_an_update_changed_meanwhile_is_refused_at_approval(head_limit, head, admin_user):
    rule = discount_rule_create(actor=head, data=_tier_rule("10"))
    outcome = rule_propose(actor=head, rule=rule, data={"percent": "50"}, version=1)
    request = outcome.request
    assert request is not None and not outcome.applied
    assert request.subject_key == f"discount_rule:{rule.pk}"
    assert request.proposal["rule_version"] == 1
    assert request.proposal["before"]["percent"] == "10.00"
    rows = approval_kinds.get("discount_rule").describe(request, admin_user)
    assert (rows[0]["current"], rows[0]["proposed"]) == ("10%", "50%")
    # Someone changes the rule in the meantime (here an administrator, directly).
    discount_rule_update(actor=admin_user, rule=rule, data={"priority": 5})
    with pytest.raises(Conflict, match="changed after this request"):
        approval_approve(actor=admin_user, request=request)
    rule.refresh_from_db()
    request.refresh_from_db()
    assert rule.percent == D(10) and request.status == ApprovalStatus.PENDING


def test_an_approved_update_applies_and_a_second_request_is_refused(
    head_limit, head, admin_user, make_user
):
    other_head = make_user("other_head", Role.HEAD)
    rule = discount_rule_create(actor=admin_user, data=_tier_rule("10"))
    request = rule_propose(actor=head, rule=rule, data={"percent": "50"}).request
    with pytest.raises(Conflict, match=f"#{request.pk}"):
        rule_propose(actor=other_head, rule=rule, data={"percent": "20"})
    approval_approve(actor=admin_user, request=request)
    rule.refresh_from_db()
    assert (rule.percent, rule.version) == (D(50), 2)


def test_stopping_or_renaming_a_rule_never_needs_approval(head_limit, head, admin_user):
    rule = discount_rule_create(actor=admin_user, data=_tier_rule("60"))
    renamed = rule_propose(actor=head, rule=rule, data={"name": "特別割引（旧）"}, version=1)
    assert renamed.applied
    stopped = rule_propose(actor=head, rule=rule, data={"active": False}, version=2)
    assert stopped.applied and stopped.rule is not None and not stopped.rule.active
    # Starting it again does.
    again = rule_propose(actor=head, rule=rule, data={"active": True}, version=3)
    assert not again.applied and again.request is not None
    assert not ApprovalRequest.objects.exclude(pk=again.request.pk).exists()


def test_only_rule_writers_propose(head_limit, kam):
    with pytest.raises(PermissionDenied):
        rule_propose(actor=kam, data=_tier_rule("5"))


# -- pages --------------------------------------------------------------------------------------


def _form(**data):
    base = {"name": "キーアカウント特別割引", "kind": "tier", "account_tier": "key",
            "percent": "45", "min_quantity": "1", "priority": "0"}  # fmt: skip
    return {**base, **data}


def test_the_form_sends_a_rule_for_approval_and_the_list_shows_it(
    client, head_limit, head, admin_user
):
    client.force_login(head)
    response = client.post(reverse("pricing:rule_create"), _form(reason="競合対策"), follow=True)
    request = ApprovalRequest.objects.get()
    assert request.reason == "競合対策"
    page = response.content.decode()
    url = reverse("pricing:approval_detail", args=[request.pk])
    assert f'href="{url}"' in page and f"#{request.pk}" in page
    assert "キーアカウント特別割引" in page  # listed among new rules waiting for approval
    assert not DiscountRule.objects.exists()


def test_the_list_marks_a_rule_with_a_change_waiting(client, head_limit, head, admin_user, kam):
    rule = discount_rule_create(actor=admin_user, data=_tier_rule("10"))
    client.force_login(head)
    response = client.post(
        reverse("pricing:rule_edit", args=[rule.pk]), _form(percent="50", version="1")
    )
    assert response.status_code == 302
    request = ApprovalRequest.objects.get()
    listing = client.get(reverse("pricing:rule_index")).content.decode()
    assert "change waiting for approval" in listing
    assert reverse("pricing:approval_detail", args=[request.pk]) in listing
    client.force_login(kam)
    listing = client.get(reverse("pricing:rule_index")).content.decode()
    assert "change waiting for approval" in listing
    assert reverse("pricing:approval_detail", args=[request.pk]) not in listing
    client.force_login(admin_user)
    detail = client.get(reverse("pricing:approval_detail", args=[request.pk]))
    assert detail.status_code == 200
    text = detail.content.decode()
    assert "10%" in text and "50%" in text


# -- API ----------------------------------------------------------------------------------------


@pytest.fixture
def api(client):
    def make(user):
        _token, key = api_token_create(actor=user, user=user)
        auth = {"Authorization": f"Bearer {key}"}

        def call(method, path, body=None):
            return getattr(client, method)(
                f"/api/v1{path}", json.dumps(body or {}), content_type="application/json",
                headers=auth,
            )  # fmt: skip

        return call

    return make


def test_the_api_answers_202_with_the_request(api, head_limit, head, admin_user):
    as_head = api(head)
    queued = as_head("post", "/discount-rules", {**_tier_rule("45"), "reason": "競合対策"})
    assert queued.status_code == 202, queued.content
    request_id = queued.json()["approval_request"]
    assert ApprovalRequest.objects.get(pk=request_id).reason == "競合対策"
    created = as_head("post", "/discount-rules", _tier_rule("30"))
    assert created.status_code == 201
    rule = created.json()
    changed = as_head("patch", f"/discount-rules/{rule['id']}", {"percent": "48", "version": 1})
    assert changed.status_code == 202 and changed.json()["approval_request"] != request_id
    bad = as_head("patch", f"/discount-rules/{rule['id']}", {"kind": "segment"})
    assert bad.status_code == 422 and ApprovalRequest.objects.count() == 2
    stopped = as_head("patch", f"/discount-rules/{rule['id']}", {"active": False})
    assert stopped.status_code == 200 and stopped.json()["active"] is False
    nobody = api(admin_user)("post", "/discount-rules", _tier_rule("99"))
    assert nobody.status_code == 201  # administrators have no limit by default
    AuthorityLimit.objects.create(role=Role.ADMIN, max_discount_percent=D(50))
    refused = as_head("post", "/discount-rules", _tier_rule("70"))
    assert refused.status_code == 422 and "Nobody" in refused.json()["error"]["message"]
