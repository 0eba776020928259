"""Referrals: recording them (self, contacts, deals, one per account, loops), the tree, the
revenue, reward rules and their automatic application."""

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from tokui.accounts.models import Account
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.pipeline import referrals
from tokui.pipeline.models import Deal, Referral, ReferralReward, ReferralRewardRule, Stage
from tokui.users.models import Notification, User


@pytest.fixture
def accounts(kam: User, make_account: Callable[..., Account]) -> dict[str, Account]:
    return {
        key: make_account(kam, name=f"株式会社{name}", name_kana="テスト")
        for key, name in (
            ("a", "青山商事"),
            ("b", "番町工業"),
            ("c", "千代田物産"),
            ("d", "銀座電機"),
        )
    }


@pytest.fixture
def won_deal(kam: User) -> Callable[..., Deal]:
    def make(account: Account, value: int = 1_000_000, **data: Any) -> Deal:
        data.setdefault("title", "ポンプ更新")
        data.setdefault("closed_at", timezone.now())
        return Deal.objects.create(
            account=account,
            owner=kam,
            stage=Stage.objects.get(key="won"),
            value=Decimal(value),
            **data,
        )

    return make


@pytest.fixture
def bonus_rule(head: User) -> ReferralRewardRule:
    return referrals.reward_rule_create(
        actor=head,
        data={
            "name": "紹介謝礼",
            "trigger": "first_deal_won",
            "kind": "bonus",
            "amount": "30000",
        },
    )


def _refer(actor: User, account: Account, referrer: Account, **kw: Any) -> Referral:
    return referrals.referral_record(actor=actor, account=account, referrer=referrer, **kw)


# -- recording -------------------------------------------------------------------------------


def test_record_referral_audits_both_accounts(kam, accounts, make_contact):
    person = make_contact(accounts["a"], family_name="佐藤")
    referral = _refer(
        kam, accounts["b"], accounts["a"], referrer_contact=person, note="ゴルフで紹介"
    )
    assert referral.referrer == accounts["a"]
    assert referral.referrer_contact == person
    scopes = set(
        AuditEvent.objects.filter(action="pipeline.referral.recorded").values_list(
            "scope", flat=True
        )
    )
    assert scopes == {f"account:{accounts['a'].pk}", f"account:{accounts['b'].pk}"}
    # Each history may be read by people who cannot see the other account: the events name
    # neither side, nor the person or the note (the referral sections show them to those who may).
    for event in AuditEvent.objects.filter(action="pipeline.referral.recorded"):
        assert event.target_repr == f"Referral #{referral.pk}"
        text = f"{event.changes}"
        for private in ("青山商事", "番町工業", "佐藤", "ゴルフ"):
            assert private not in text


def test_self_referral_is_refused(kam, accounts):
    with pytest.raises(ApplicationError) as exc:
        _refer(kam, accounts["a"], accounts["a"])
    assert "referrer" in exc.value.errors
    assert not Referral.objects.exists()


def test_contact_of_another_account_is_refused(kam, accounts, make_contact):
    stranger = make_contact(accounts["c"])
    with pytest.raises(ApplicationError) as exc:
        _refer(kam, accounts["b"], accounts["a"], referrer_contact=stranger)
    assert "referrer_contact" in exc.value.errors
    assert not Referral.objects.exists()


def test_deal_of_another_account_is_refused(kam, accounts, won_deal):
    other = won_deal(accounts["c"])
    with pytest.raises(ApplicationError) as exc:
        _refer(kam, accounts["b"], accounts["a"], deal=other)
    assert "deal" in exc.value.errors
    assert not Referral.objects.exists()


def test_one_referral_per_account_but_deals_may_have_their_own(kam, accounts, won_deal):
    _refer(kam, accounts["b"], accounts["a"])
    with pytest.raises(ApplicationError) as exc:
        _refer(kam, accounts["b"], accounts["c"])
    assert "deal" in exc.value.errors
    deal = won_deal(accounts["b"])
    _refer(kam, accounts["b"], accounts["c"], deal=deal)
    assert Referral.objects.filter(account=accounts["b"]).count() == 2
    with pytest.raises(ApplicationError):
        _refer(kam, accounts["b"], accounts["d"], deal=deal)  # the deal has one already


def test_direct_and_longer_cycles_are_refused(kam, accounts):
    _refer(kam, accounts["b"], accounts["a"])  # A referred B
    with pytest.raises(ApplicationError) as exc:
        _refer(kam, accounts["a"], accounts["b"])  # B referred A
    assert "loop" in exc.value.errors["referrer"][0]
    _refer(kam, accounts["c"], accounts["b"])  # B referred C
    with pytest.raises(ApplicationError):
        _refer(kam, accounts["a"], accounts["c"])  # C referred A: A → B → C → A
    assert Referral.objects.count() == 2


def test_future_date_and_html_note_are_refused(kam, accounts):
    with pytest.raises(ApplicationError) as exc:
        _refer(
            kam,
            accounts["b"],
            accounts["a"],
            referred_on=timezone.localdate() + datetime.timedelta(days=3),
            note="<script>x</script>",
        )
    assert set(exc.value.errors) == {"referred_on", "note"}
    assert not Referral.objects.exists()


def test_support_may_not_record_and_invisible_accounts_are_not_found(
    support, west_am, kam, accounts, make_account
):
    with pytest.raises(PermissionDenied):
        _refer(support, accounts["b"], accounts["a"])
    west = make_account(west_am)
    with pytest.raises(ApplicationError) as exc:
        _refer(kam, accounts["b"], west)
    assert "referrer" in exc.value.errors
    with pytest.raises(NotFound):
        _refer(kam, west, accounts["a"])
    assert not Referral.objects.exists()


def test_update_and_delete(kam, accounts):
    referral = _refer(kam, accounts["b"], accounts["a"])
    referral = referrals.referral_update(
        actor=kam,
        referral=referral,
        data={"referrer": accounts["c"].pk, "note": "展示会で"},
        version=referral.version,
    )
    assert referral.referrer == accounts["c"] and referral.version == 2
    with pytest.raises(Conflict):
        referrals.referral_update(actor=kam, referral=referral, data={"note": "x"}, version=1)
    referrals.referral_delete(actor=kam, referral=referral)
    assert not Referral.objects.exists()
    assert AuditEvent.objects.filter(
        action="pipeline.referral.deleted", scope=f"account:{accounts['c'].pk}"
    ).exists()


def test_delete_refused_once_a_reward_was_granted(kam, accounts, won_deal, bonus_rule):
    referral = _refer(kam, accounts["b"], accounts["a"])
    referrals.referral_rewards_on_deal_won(deal=won_deal(accounts["b"]), actor=kam)
    with pytest.raises(ApplicationError):
        referrals.referral_delete(actor=kam, referral=referral)
    with pytest.raises(ApplicationError):
        referrals.referral_update(actor=kam, referral=referral, data={"referrer": accounts["c"].pk})
    assert Referral.objects.filter(pk=referral.pk, referrer=accounts["a"]).exists()


# -- rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "bonus"}, "amount"),
        ({"kind": "bonus", "amount": "-5"}, "amount"),
        ({"kind": "percent"}, "percent"),
        ({"kind": "percent", "percent": "120"}, "percent"),
        ({"kind": "points"}, "points"),
        ({"kind": "points", "points": 0}, "points"),
        (
            {"kind": "bonus", "amount": "1", "valid_from": "2026-05-01", "valid_to": "2026-04-01"},
            "valid_to",
        ),
        ({"kind": "wrong"}, "kind"),
    ],
)
def test_rule_validation_per_kind(head, data, field):
    with pytest.raises(ApplicationError) as exc:
        referrals.reward_rule_create(
            actor=head, data={"name": "紹介謝礼", "trigger": "first_deal_won", **data}
        )
    assert field in exc.value.errors
    assert not ReferralRewardRule.objects.exists()


def test_only_heads_and_admins_write_rules(kam, head):
    data = {"name": "x", "trigger": "first_deal_won", "kind": "points", "points": 5}
    with pytest.raises(PermissionDenied):
        referrals.reward_rule_create(actor=kam, data=data)
    rule = referrals.reward_rule_create(actor=head, data={**data, "amount": "100"})
    assert rule.points == 5 and rule.amount is None  # only the chosen kind's value is kept
    rule = referrals.reward_rule_deactivate(actor=head, rule=rule)
    assert rule.active is False
    assert AuditEvent.objects.filter(action="pipeline.reward_rule.updated").exists()


# -- rewards ---------------------------------------------------------------------------------


def test_reward_granted_once_on_the_first_won_deal_only(kam, head, accounts, won_deal, bonus_rule):
    _refer(kam, accounts["b"], accounts["a"])
    first = won_deal(accounts["b"])
    granted = referrals.referral_rewards_on_deal_won(deal=first, actor=kam)
    assert [(r.amount, r.currency, r.source) for r in granted] == [
        (Decimal(30000), "JPY", f"deal:{first.pk}")
    ]
    # Called twice: nothing new.
    assert referrals.referral_rewards_on_deal_won(deal=first, actor=kam) == []
    # The second won deal grants nothing either.
    second = won_deal(accounts["b"], title="増設")
    assert referrals.referral_rewards_on_deal_won(deal=second, actor=kam) == []
    assert ReferralReward.objects.count() == 1
    event = AuditEvent.objects.get(action="pipeline.referral.reward_granted")
    assert event.scope == f"account:{accounts['a'].pk}"
    note = Notification.objects.get(user=accounts["a"].owner)
    assert "紹介謝礼" in note.title


def test_no_reward_without_referral_or_when_not_won(kam, accounts, won_deal, bonus_rule):
    assert referrals.referral_rewards_on_deal_won(deal=won_deal(accounts["b"]), actor=kam) == []
    _refer(kam, accounts["c"], accounts["a"])
    deal = Deal.objects.create(
        account=accounts["c"],
        owner=kam,
        title="見込み",
        stage=Stage.objects.get(key="first_contact"),
        value=Decimal(5),
    )
    assert referrals.referral_rewards_on_deal_won(deal=deal, actor=kam) == []
    assert not ReferralReward.objects.exists()


def test_percent_of_the_deal_value_and_points(kam, head, accounts, won_deal):
    referrals.reward_rule_create(
        actor=head,
        data={"name": "紹介料", "trigger": "first_deal_won", "kind": "percent", "percent": "2.5"},
    )
    referrals.reward_rule_create(
        actor=head,
        data={"name": "紹介ポイント", "trigger": "first_deal_won", "kind": "points", "points": 500},
    )
    _refer(kam, accounts["b"], accounts["a"])
    deal = won_deal(accounts["b"], value=1_234_567)
    granted = {r.rule.name: r for r in referrals.referral_rewards_on_deal_won(deal=deal, actor=kam)}
    assert granted["紹介料"].amount == Decimal(30864)  # 2.5% of ¥1,234,567, rounded half up
    assert granted["紹介ポイント"].points == 500 and granted["紹介ポイント"].amount is None


def test_deal_own_referral_is_preferred(kam, accounts, won_deal, bonus_rule):
    _refer(kam, accounts["b"], accounts["a"])
    deal = won_deal(accounts["b"])
    _refer(kam, accounts["b"], accounts["c"], deal=deal)
    (reward,) = referrals.referral_rewards_on_deal_won(deal=deal, actor=kam)
    assert reward.referral.referrer == accounts["c"]


def test_rule_validity_dates(kam, head, accounts, won_deal):
    today = timezone.localdate()
    referrals.reward_rule_create(
        actor=head,
        data={
            "name": "過去のキャンペーン",
            "trigger": "first_deal_won",
            "kind": "bonus",
            "amount": "10000",
            "valid_from": today - datetime.timedelta(days=60),
            "valid_to": today - datetime.timedelta(days=30),
        },
    )
    current = referrals.reward_rule_create(
        actor=head,
        data={
            "name": "今期",
            "trigger": "first_deal_won",
            "kind": "bonus",
            "amount": "20000",
            "valid_from": today - datetime.timedelta(days=5),
        },
    )
    stopped = referrals.reward_rule_create(
        actor=head,
        data={"name": "停止", "trigger": "first_deal_won", "kind": "bonus", "amount": "1"},
    )
    referrals.reward_rule_deactivate(actor=head, rule=stopped)
    _refer(kam, accounts["b"], accounts["a"])
    granted = referrals.referral_rewards_on_deal_won(deal=won_deal(accounts["b"]), actor=kam)
    assert [r.rule_id for r in granted] == [current.pk]


def test_first_order_paid_trigger(kam, head, accounts):
    rule = referrals.reward_rule_create(
        actor=head,
        data={
            "name": "紹介ポイント",
            "trigger": "first_order_paid",
            "kind": "points",
            "points": 500,
        },
    )
    percent = referrals.reward_rule_create(
        actor=head,
        data={"name": "紹介料", "trigger": "first_order_paid", "kind": "percent", "percent": "10"},
    )
    _refer(kam, accounts["b"], accounts["a"])
    today = timezone.localdate()
    granted = referrals.referral_rewards_on_order_paid(
        account=accounts["b"], order_ref="7", amount=Decimal(50000), paid_on=today, actor=None
    )
    by_rule = {r.rule_id: r for r in granted}
    assert by_rule[rule.pk].points == 500 and by_rule[rule.pk].source == "order:7"
    assert by_rule[percent.pk].amount == Decimal(5000)
    again = referrals.referral_rewards_on_order_paid(
        account=accounts["b"], order_ref="8", amount=Decimal(90000), paid_on=today, actor=None
    )
    assert again == []
    # A deal won does not trigger order rules, and an account without referral gets nothing.
    assert (
        referrals.referral_rewards_on_order_paid(
            account=accounts["c"], order_ref="9", amount=Decimal(1), paid_on=today, actor=None
        )
        == []
    )
    assert ReferralReward.objects.count() == 2


def test_mark_paid_and_cancel(kam, head, accounts, won_deal, bonus_rule):
    _refer(kam, accounts["b"], accounts["a"])
    (reward,) = referrals.referral_rewards_on_deal_won(deal=won_deal(accounts["b"]), actor=kam)
    with pytest.raises(PermissionDenied):
        referrals.reward_mark_paid(actor=kam, reward=reward)
    reward = referrals.reward_mark_paid(actor=head, reward=reward)
    assert reward.status == "paid"
    with pytest.raises(ApplicationError):
        referrals.reward_cancel(actor=head, reward=reward)
    reward.refresh_from_db()
    assert reward.status == "paid"
    assert AuditEvent.objects.filter(
        action="pipeline.referral.reward_paid", scope=f"account:{accounts['a'].pk}"
    ).exists()


# -- tree and revenue ------------------------------------------------------------------------


def test_tree_up_and_down_with_hidden_accounts(kam, head, west_am, accounts, make_account):
    west = make_account(west_am, name="株式会社西日本運輸")
    # west (invisible to kam) referred A; A referred B and C; B referred D.
    head_user = head
    referrals.referral_record(actor=head_user, account=accounts["a"], referrer=west)
    _refer(kam, accounts["b"], accounts["a"])
    _refer(kam, accounts["c"], accounts["a"])
    _refer(kam, accounts["d"], accounts["b"])
    tree = referrals.referral_tree(viewer=kam, account=accounts["a"])
    assert [n.name for n in tree.referrers] == [None]  # "an account you cannot see"
    assert [n.name for n in tree.referred] == ["株式会社番町工業", "株式会社千代田物産"]
    assert [c.name for c in tree.referred[0].children] == ["株式会社銀座電機"]
    assert tree.referred_count == 3
    seen_by_head = referrals.referral_tree(viewer=head_user, account=accounts["d"])
    assert [n.name for n in seen_by_head.referrers] == [
        "株式会社番町工業",
        "株式会社青山商事",
        "株式会社西日本運輸",
    ]


def test_tree_ends_on_a_loop_written_by_hand(kam, accounts):
    _refer(kam, accounts["b"], accounts["a"])
    Referral.objects.create(account=accounts["a"], referrer=accounts["b"], deal=None)  # by hand
    tree = referrals.referral_tree(viewer=kam, account=accounts["a"])
    assert [n.name for n in tree.referred] == ["株式会社番町工業"]
    assert tree.referred[0].children == []


def test_revenue_sums_won_deals_per_referrer(kam, west_am, accounts, won_deal, make_account):
    _refer(kam, accounts["b"], accounts["a"])
    _refer(kam, accounts["c"], accounts["a"])
    own = won_deal(accounts["d"], value=700)
    _refer(kam, accounts["d"], accounts["b"], deal=own)
    won_deal(accounts["b"], value=1000)
    won_deal(accounts["b"], value=2000)
    won_deal(accounts["c"], value=500)
    won_deal(accounts["d"], value=9999)  # not referred: D only had its deal referred
    Deal.objects.create(
        account=accounts["c"],
        owner=kam,
        title="open",
        stage=Stage.objects.get(key="first_contact"),
        value=Decimal(100_000),
    )
    revenue = referrals.referral_revenue(viewer=kam)
    by_referrer = {r.referrer_id: (r.amount, r.deals, r.accounts) for r in revenue.rows}
    assert by_referrer == {
        accounts["a"].pk: (Decimal(3500), 3, 2),
        accounts["b"].pk: (Decimal(700), 1, 1),
    }
    assert revenue.totals == {"JPY": Decimal(4200)}
    only_a = referrals.referral_revenue(viewer=kam, account=accounts["a"])
    assert only_a.totals == {"JPY": Decimal(3500)}
    # Somebody who sees none of these accounts sees no revenue.
    assert referrals.referral_revenue(viewer=west_am).is_empty


def test_list_visibility(kam, west_am, accounts):
    _refer(kam, accounts["b"], accounts["a"])
    assert referrals.referral_list(viewer=west_am).count() == 0
    assert referrals.referral_list(viewer=kam).count() == 1
    with pytest.raises(NotFound):
        referrals.referral_get(viewer=west_am, referral_id=Referral.objects.get().pk)


def test_merge_check_refuses_accounts_linked_by_a_referral(kam, accounts):
    _refer(kam, accounts["b"], accounts["a"])
    with pytest.raises(Conflict):
        referrals.referral_merge_check(survivor=accounts["a"], merged=accounts["b"])
    referrals.referral_merge_check(survivor=accounts["c"], merged=accounts["d"])


def test_first_won_deal_counts_by_close_time(kam, accounts, won_deal, bonus_rule):
    _refer(kam, accounts["b"], accounts["a"])
    now = timezone.now()
    first = won_deal(accounts["b"], closed_at=now - datetime.timedelta(days=10))
    later = won_deal(accounts["b"], closed_at=now)
    assert referrals.referral_rewards_on_deal_won(deal=later, actor=kam) == []
    assert len(referrals.referral_rewards_on_deal_won(deal=first, actor=kam)) == 1
