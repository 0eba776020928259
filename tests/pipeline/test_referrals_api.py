"""/api/v1/referrals, the referral tree, rewards and reward rules."""

import json
from decimal import Decimal

import pytest
from django.utils import timezone

from tokui.pipeline import referrals
from tokui.pipeline.models import Deal, Referral, Stage
from tokui.users.services import api_token_create


@pytest.fixture
def api(client):
    def make(user):
        _token, key = api_token_create(actor=user, user=user)
        auth = {"Authorization": f"Bearer {key}"}

        def call(method, path, body=None, **params):
            url = f"/api/v1{path}"
            if method in ("get", "delete"):
                return getattr(client, method)(url, params, headers=auth)
            return getattr(client, method)(
                url, json.dumps(body or {}), content_type="application/json", headers=auth
            )

        return call

    return make


def test_record_list_get_delete(api, kam, west_am, make_account, make_contact):
    a, b = make_account(kam, name="株式会社青山商事"), make_account(kam, name="株式会社番町工業")
    person = make_contact(a)
    as_kam = api(kam)
    created = as_kam(
        "post",
        "/referrals",
        {"account": b.pk, "referrer": a.pk, "referrer_contact": person.pk, "note": "紹介"},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["account_name"], body["referrer_name"], body["referrer_contact"]) == (
        "株式会社番町工業",
        "株式会社青山商事",
        person.pk,
    )
    listed = as_kam("get", "/referrals", referrer=a.pk).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == body["id"]
    # Self-referral and a loop are refused with the field named.
    self_ref = as_kam("post", "/referrals", {"account": a.pk, "referrer": a.pk})
    assert self_ref.status_code == 422 and "referrer" in self_ref.json()["error"]["fields"]
    loop = as_kam("post", "/referrals", {"account": a.pk, "referrer": b.pk})
    assert loop.status_code == 422 and "referrer" in loop.json()["error"]["fields"]
    # Somebody in another team neither sees nor deletes it.
    as_west = api(west_am)
    assert as_west("get", f"/referrals/{body['id']}").status_code == 404
    assert as_west("get", "/referrals").json()["count"] == 0
    assert as_west("delete", f"/referrals/{body['id']}").status_code == 404
    assert as_kam("delete", f"/referrals/{body['id']}").status_code == 204
    assert not Referral.objects.exists()


def test_tree_hides_accounts_the_caller_cannot_see(api, kam, head, west_am, make_account):
    a = make_account(kam, name="株式会社青山商事")
    b = make_account(kam, name="株式会社番町工業")
    west = make_account(west_am, name="株式会社西日本運輸")
    referrals.referral_record(actor=head, account=b, referrer=a)
    referrals.referral_record(actor=head, account=west, referrer=b)
    tree = api(kam)("get", f"/accounts/{a.pk}/referral-tree").json()
    assert tree["referred"][0]["name"] == "株式会社番町工業"
    assert tree["referred"][0]["children"] == [
        {"account": None, "name": None, "referred_on": str(timezone.localdate()), "deals": [],
         "children": []}
    ]  # fmt: skip
    assert api(west_am)("get", f"/accounts/{a.pk}/referral-tree").status_code == 404


def test_rules_and_rewards(api, kam, head, make_account):
    as_head, as_kam = api(head), api(kam)
    assert (
        as_kam(
            "post",
            "/referral-reward-rules",
            {"name": "x", "trigger": "first_deal_won", "kind": "points", "points": 5},
        ).status_code
        == 403
    )
    missing = as_head(
        "post",
        "/referral-reward-rules",
        {"name": "x", "trigger": "first_deal_won", "kind": "bonus"},
    )
    assert missing.status_code == 422 and "amount" in missing.json()["error"]["fields"]
    rule = as_head(
        "post",
        "/referral-reward-rules",
        {"name": "紹介謝礼", "trigger": "first_deal_won", "kind": "bonus", "amount": "30000"},
    )
    assert rule.status_code == 201, rule.content
    assert [r["name"] for r in as_kam("get", "/referral-reward-rules").json()] == ["紹介謝礼"]
    a, b = make_account(kam), make_account(kam)
    referrals.referral_record(actor=kam, account=b, referrer=a)
    deal = Deal.objects.create(
        account=b, owner=kam, title="t", stage=Stage.objects.get(key="won"), value=Decimal(9)
    )
    referrals.referral_rewards_on_deal_won(deal=deal, actor=kam)
    rewards = as_kam("get", "/referral-rewards", status="granted").json()
    assert rewards["count"] == 1
    item = rewards["items"][0]
    assert (item["referrer"], item["amount"], item["source"]) == (
        a.pk,
        "30000.00",
        f"deal:{deal.pk}",
    )
