"""/api/v1/discount-rules and /api/v1/rebates."""

import json

import pytest

from tokui.pricing.models import CreditNote, DiscountRule, RebatePurchase
from tokui.users.services import api_token_create


@pytest.fixture
def api(client):
    def make(user):
        _token, key = api_token_create(actor=user, user=user)
        auth = {"Authorization": f"Bearer {key}"}

        def call(method, path, body=None, **params):
            url = f"/api/v1{path}"
            if method == "get":
                return client.get(url, params, headers=auth)
            return getattr(client, method)(
                url, json.dumps(body or {}), content_type="application/json", headers=auth
            )

        return call

    return make


def test_discount_rules_list_create_patch(api, head, kam):
    as_head, as_kam = api(head), api(kam)
    created = as_head("post", "/discount-rules", {"name": "大口割引", "kind": "volume",
                                                 "min_quantity": 100, "percent": "5",
                                                 "stackable": True})  # fmt: skip
    assert created.status_code == 201, created.content
    rule = created.json()
    assert (rule["percent"], rule["min_quantity"], rule["version"]) == ("5.00", 100, 1)
    # The kind's condition is required.
    bad = as_head("post", "/discount-rules", {"name": "x", "kind": "segment", "percent": "3"})
    assert bad.status_code == 422 and "segment" in bad.json()["error"]["fields"]
    # Everyone reads; only heads and administrators write.
    assert [r["name"] for r in as_kam("get", "/discount-rules").json()] == ["大口割引"]
    assert as_kam("patch", f"/discount-rules/{rule['id']}", {"percent": "9"}).status_code == 403
    changed = as_head("patch", f"/discount-rules/{rule['id']}", {"active": False, "version": 1})
    assert changed.status_code == 200 and changed.json()["active"] is False
    stale = as_head("patch", f"/discount-rules/{rule['id']}", {"percent": "6", "version": 1})
    assert stale.status_code == 409
    assert DiscountRule.objects.get().percent == 5


def test_rebates_create_purchases_and_settle(api, head, kam, make_account):
    account = make_account(kam, tier="key")
    as_head = api(head)
    created = as_head("post", "/rebates", {
        "account": account.pk, "name": "FY2025 数量リベート", "period_start": "2025-04-01",
        "period_end": "2026-03-31", "tiers": [{"threshold": "50000000", "percent": "2"}],
    })  # fmt: skip
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    path = f"/rebates/{pid}/purchases"
    body = {"on": "2025-06-01", "amount": "30000000", "source": "order:1"}
    assert as_head("post", path, body).status_code == 201
    assert as_head("post", path, body).status_code == 200  # the same source again
    assert as_head("post", path, {**body, "amount": "1"}).status_code == 409
    assert (
        as_head("post", path, {**body, "source": "order:2", "amount": "25000000"}).status_code
        == 201
    )
    outside = as_head("post", path, {**body, "source": "order:3", "on": "2026-04-01"})
    assert outside.status_code == 422
    got = as_head("get", f"/rebates/{pid}").json()
    assert got["progress"]["accrued"] == "1100000" and got["progress"]["percent"] == "2.00"
    early = as_head("post", f"/rebates/{pid}/settle", {"on": "2026-03-30"})
    assert early.status_code == 422
    settled = as_head("post", f"/rebates/{pid}/settle", {"on": "2026-04-02"})
    assert settled.status_code == 200
    assert settled.json()["credit_note"]["number"] == "CN-2026-0001"
    assert as_head("post", f"/rebates/{pid}/settle", {"on": "2026-04-03"}).status_code == 409
    assert CreditNote.objects.count() == 1 and RebatePurchase.objects.count() == 2
    listed = api(kam)("get", "/rebates", account=account.pk).json()
    assert [p["id"] for p in listed] == [pid]
    # A KAM reads but does not feed purchases by hand.
    denied = api(kam)("post", path, {**body, "source": "order:9"})
    assert denied.status_code == 403
