"""/api/v1/approvals and /api/v1/authority-limits."""

import datetime
from decimal import Decimal

import pytest

from tokui.pricing.approvals import agreement_propose_terms
from tokui.pricing.models import AgreementDiscount, AuthorityLimit
from tokui.pricing.services import agreement_create
from tokui.users.constants import Role
from tokui.users.services import api_token_create

D = Decimal


def _h(user):
    return {"Authorization": f"Bearer {api_token_create(actor=user, user=user)[1]}"}


@pytest.fixture
def pending(kam, head, make_account, make_product):
    for role, discount in ((Role.KAM, "15"), (Role.HEAD, "40")):
        AuthorityLimit.objects.create(role=role, max_discount_percent=D(discount))
    account = make_account(kam)
    agreement = agreement_create(
        actor=kam, account=account, data={"name": "条件", "valid_from": datetime.date(2026, 4, 1)}
    )
    product = make_product()
    return agreement_propose_terms(
        actor=kam, agreement=agreement, prices=[],
        discounts=[{"product": product.pk, "percent": "25"}],
    ).request  # fmt: skip


def test_list_detail_and_approve(client, kam, head, pending):
    headers = _h(head)
    body = client.get("/api/v1/approvals?waiting_for_me=true", headers=headers).json()
    assert body["count"] == 1 and body["items"][0]["id"] == pending.pk
    assert body["items"][0]["waiting_for"] == [head.pk]
    detail = client.get(f"/api/v1/approvals/{pending.pk}", headers=headers).json()
    assert detail["why"] == ["25% discount is above the requester's limit of 15%."]
    assert detail["route"][0]["approvers"][0]["id"] == head.pk
    url = f"/api/v1/approvals/{pending.pk}/approve"
    stale = client.post(url, {"version": pending.version + 5}, "application/json", headers=headers)
    assert stale.status_code == 409
    done = client.post(url, {"version": pending.version}, "application/json", headers=headers)
    assert done.status_code == 200 and done.json()["status"] == "approved"
    assert AgreementDiscount.objects.get().percent == D(25)
    again = client.post(url, {}, "application/json", headers=headers)
    assert again.status_code == 409


def test_own_request_is_403_and_reject_needs_a_comment(client, kam, head, pending):
    own = client.post(
        f"/api/v1/approvals/{pending.pk}/approve", {}, "application/json", headers=_h(kam)
    )
    assert own.status_code == 403
    reject = client.post(
        f"/api/v1/approvals/{pending.pk}/reject", {"comment": ""}, "application/json",
        headers=_h(head),
    )  # fmt: skip
    assert reject.status_code == 422 and "comment" in reject.json()["error"]["fields"]


def test_invisible_request_is_404(client, west_am, pending):
    response = client.get(f"/api/v1/approvals/{pending.pk}", headers=_h(west_am))
    assert response.status_code == 404


def test_authority_limits_for_heads_only(client, head, kam):
    put = client.put(
        "/api/v1/authority-limits", {"role": "am", "max_discount_percent": "5"},
        "application/json", headers=_h(head),
    )  # fmt: skip
    assert put.status_code == 200 and put.json()["max_discount_percent"] == "5"
    assert client.get("/api/v1/authority-limits", headers=_h(kam)).status_code == 403
    both = client.put(
        "/api/v1/authority-limits", {"role": "am", "user": kam.pk}, "application/json",
        headers=_h(head),
    )  # fmt: skip
    assert both.status_code == 422
