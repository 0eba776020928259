"""Referral pages: the account section, the record form (with the referrer picker), the list
with rewards, and the reward rules."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tokui.pipeline import referrals
from tokui.pipeline.models import Deal, Referral, ReferralReward, ReferralRewardRule, Stage


@pytest.fixture
def pair(kam, make_account):
    return (
        make_account(kam, name="株式会社青山商事", name_kana="アオヤマショウジ"),
        make_account(kam, name="株式会社番町工業", name_kana="バンチョウコウギョウ"),
    )


def test_account_page_shows_the_section(client, kam, pair):
    a, b = pair
    referrals.referral_record(actor=kam, account=b, referrer=a, note="社長の紹介")
    client.force_login(kam)
    page = client.get(reverse("accounts:detail", args=[b.pk])).content.decode()
    assert "Referrals" in page and "株式会社青山商事" in page and "社長の紹介" in page
    page = client.get(reverse("accounts:detail", args=[a.pk])).content.decode()
    assert 'class="referral-tree"' in page and "株式会社番町工業" in page


def test_record_form_finds_the_referrer_and_saves(client, kam, pair, make_contact):
    a, b = pair
    person = make_contact(a, family_name="佐藤", given_name="花子")
    client.force_login(kam)
    url = reverse("pipeline:referral_create", args=[b.pk])
    found = client.get(
        url, {"part": "referrer", "referrer_q": "青山"}, headers={"HX-Request": "true"}
    )
    assert found.status_code == 200
    html = found.content.decode()
    assert 'id="referrer-choice"' in html and "株式会社青山商事" in html and "<html" not in html
    chosen = client.get(url, {"part": "referrer", "referrer": a.pk}, headers={"HX-Request": "true"})
    assert "佐藤 花子" in chosen.content.decode()
    today = timezone.localdate().isoformat()
    bad = client.post(url, {"referrer": b.pk, "referred_on": today})
    assert bad.status_code == 422 and "cannot refer itself" in bad.content.decode()
    assert not Referral.objects.exists()
    ok = client.post(
        url, {"referrer": a.pk, "referrer_contact": person.pk, "referred_on": today, "note": "x"}
    )
    assert ok.status_code == 302
    assert Referral.objects.get().referrer_contact == person


def test_support_cannot_open_the_form(client, support, pair):
    client.force_login(support)
    assert client.get(reverse("pipeline:referral_create", args=[pair[1].pk])).status_code == 403


def test_index_and_rewards_mark_paid(client, kam, head, pair):
    a, b = pair
    referrals.reward_rule_create(
        actor=head,
        data={"name": "紹介謝礼", "trigger": "first_deal_won", "kind": "bonus", "amount": "30000"},
    )
    referrals.referral_record(actor=kam, account=b, referrer=a)
    deal = Deal.objects.create(
        account=b, owner=kam, title="t", stage=Stage.objects.get(key="won"), value=Decimal(10**6)
    )
    (reward,) = referrals.referral_rewards_on_deal_won(deal=deal, actor=kam)
    client.force_login(kam)
    page = client.get(reverse("pipeline:referral_index")).content.decode()
    assert "紹介謝礼" in page and "¥1,000,000" in page and "Mark paid" not in page
    assert (
        client.post(reverse("pipeline:referral_reward_paid", args=[reward.pk])).status_code == 403
    )
    client.force_login(head)
    page = client.get(reverse("pipeline:referral_index")).content.decode()
    assert "Mark paid" in page
    done = client.post(reverse("pipeline:referral_reward_paid", args=[reward.pk]))
    assert done.status_code == 302
    assert ReferralReward.objects.get().status == "paid"


def test_rule_pages(client, head, kam):
    client.force_login(head)
    created = client.post(
        reverse("pipeline:referral_rule_create"),
        {"name": "紹介ポイント", "trigger": "first_order_paid", "kind": "points", "points": "",
         "currency": "JPY"},
    )  # fmt: skip
    assert created.status_code == 422 and "need a number of points" in created.content.decode()
    created = client.post(
        reverse("pipeline:referral_rule_create"),
        {"name": "紹介ポイント", "trigger": "first_order_paid", "kind": "points", "points": "500",
         "currency": "JPY"},
    )  # fmt: skip
    assert created.status_code == 302
    rule = ReferralRewardRule.objects.get()
    assert client.get(reverse("pipeline:referral_rule_edit", args=[rule.pk])).status_code == 200
    client.post(reverse("pipeline:referral_rule_activate", args=[rule.pk]), {"active": "0"})
    rule.refresh_from_db()
    assert rule.active is False
    client.force_login(kam)
    listing = client.get(reverse("pipeline:referral_rule_index")).content.decode()
    assert "紹介ポイント" in listing and "New rule" not in listing
    assert client.get(reverse("pipeline:referral_rule_create")).status_code == 403
