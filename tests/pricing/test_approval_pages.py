"""Approvals pages: inbox, detail and decisions, authority limits, chains."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from tokui.pricing.approvals import agreement_propose_terms
from tokui.pricing.models import AgreementDiscount, ApprovalChain, ApprovalStatus, AuthorityLimit
from tokui.pricing.services import agreement_create
from tokui.users.constants import Role

D = Decimal


@pytest.fixture
def pending(kam, head, make_account, make_product):
    for role, discount, margin in ((Role.KAM, "15", "20"), (Role.HEAD, "40", "5")):
        AuthorityLimit.objects.create(
            role=role, max_discount_percent=D(discount), min_margin_percent=D(margin)
        )
    account = make_account(kam, name="株式会社山田商事")
    agreement = agreement_create(
        actor=kam,
        account=account,
        data={"name": "2026年度", "valid_from": datetime.date(2026, 4, 1)},
    )
    product = make_product(list_price=D(100_000), cost=D(50_000))
    return agreement_propose_terms(
        actor=kam, agreement=agreement, prices=[],
        discounts=[{"product": product.pk, "percent": "25"}], reason="競合A社対抗",
    ).request  # fmt: skip


def test_inbox_tabs_and_nav_count(client, kam, head, pending):
    client.force_login(head)
    page = client.get(reverse("pricing:approval_index"))
    assert page.status_code == 200
    assert pending.title in page.text
    assert 'class="nav-count"' in page.text
    client.force_login(kam)
    assert pending.title not in client.get(reverse("pricing:approval_index")).text
    assert pending.title in client.get(reverse("pricing:approval_index") + "?tab=mine").text


def test_detail_shows_the_terms_why_route_and_history(client, kam, head, pending):
    client.force_login(head)
    page = client.get(reverse("pricing:approval_detail", args=[pending.pk]))
    assert page.status_code == 200
    text = page.text
    assert "25% discount is above the requester&#x27;s limit of 15%." in text
    assert "¥100,000" in text and "25%" in text
    assert "Margin" in text  # heads see cost and margin
    assert "競合A社対抗" in text
    assert 'value="approve"' in text
    client.force_login(kam)
    text = client.get(reverse("pricing:approval_detail", args=[pending.pk])).text
    assert 'value="approve"' not in text and 'value="withdraw"' in text
    assert "Margin" not in text


def test_approve_from_the_page_applies_the_terms(client, head, pending):
    client.force_login(head)
    url = reverse("pricing:approval_detail", args=[pending.pk])
    response = client.post(url, {"action": "approve", "version": pending.version, "comment": ""})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == ApprovalStatus.APPROVED
    assert AgreementDiscount.objects.get().percent == D(25)
    again = client.post(url, {"action": "approve", "version": pending.version})
    assert again.status_code == 422 and "already" in again.text


def test_reject_without_comment_is_shown_next_to_the_field(client, head, pending):
    client.force_login(head)
    url = reverse("pricing:approval_detail", args=[pending.pk])
    response = client.post(url, {"action": "reject", "version": pending.version, "comment": ""})
    assert response.status_code == 422
    assert "Say why" in response.text
    pending.refresh_from_db()
    assert pending.status == ApprovalStatus.PENDING


def test_own_request_cannot_be_approved_from_the_page(client, kam, pending):
    client.force_login(kam)
    url = reverse("pricing:approval_detail", args=[pending.pk])
    response = client.post(url, {"action": "approve", "version": pending.version})
    assert response.status_code == 422
    assert "own request" in response.text


def test_invisible_request_is_404(client, west_am, pending):
    client.force_login(west_am)
    assert client.get(reverse("pricing:approval_detail", args=[pending.pk])).status_code == 404


def test_authority_page_edits_role_limits_and_overrides(client, head, kam, admin_user):
    client.force_login(head)
    url = reverse("pricing:authority_index")
    assert client.get(url).status_code == 200
    data = {"role": "am", "am-max_discount_percent": "5", "am-min_margin_percent": "30"}
    response = client.post(url, data)
    assert response.status_code == 302
    assert AuthorityLimit.objects.get(role="am").max_discount_percent == D(5)
    bad = client.post(url, {"role": "am", "am-max_discount_percent": "500"})
    assert bad.status_code == 422 and "below 100%" in bad.text
    response = client.post(url, {"override": "1", "override-user": kam.pk,
                                 "override-max_discount_percent": "20"})  # fmt: skip
    assert response.status_code == 302
    row = AuthorityLimit.objects.get(user=kam)
    assert kam.display_name in client.get(url).text
    client.post(reverse("pricing:authority_override_delete", args=[row.pk]))
    assert not AuthorityLimit.objects.filter(user=kam).exists()
    client.force_login(kam)
    assert client.get(url).status_code == 403


def test_chain_form_refuses_a_person_in_two_steps(client, head, kam, admin_user):
    client.force_login(head)
    url = reverse("pricing:chain_create")
    assert client.get(url).status_code == 200
    data = {"name": "大口", "kind": "agreement_terms", "active": "on",
            "step_0_mode": "any", "step_0_approvers": [head.pk],
            "step_1_mode": "all", "step_1_approvers": [head.pk, admin_user.pk]}  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 422
    assert "one step only" in response.text
    assert not ApprovalChain.objects.exists()
    data["step_1_approvers"] = [admin_user.pk]
    assert client.post(url, data).status_code == 302
    chain = ApprovalChain.objects.get()
    assert [s.mode for s in chain.steps.all()] == ["any", "all"]
    assert "大口" in client.get(reverse("pricing:chain_index")).text
    client.force_login(kam)
    assert client.get(reverse("pricing:chain_index")).status_code == 403
