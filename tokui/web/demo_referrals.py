"""Demo referrals (紹介) among the demo book, the two usual reward rules, and their rewards.

Chains a sales department knows: one of kam's clients introduced two companies, and one of
those introduced another (紹介の連鎖); a client of the west team introduced a company there too.
The rules are 紹介謝礼 (¥30,000 when the referred account's first deal is won) and 紹介ポイント
(500 points when its first order is paid). Referred accounts that already have a won deal (the
demo deals, when they exist) get their reward through the same service ``deal_win`` calls; with
no won deal the rewards are left out.

Everything goes through the services (head records the referrals, so both accounts' histories
show them). Deterministic and idempotent: rules are skipped when one of the same name exists,
a referral when the account already has one.
"""

import datetime
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from tokui.accounts.constants import AccountKind
from tokui.accounts.models import Account
from tokui.pipeline.constants import StageKind
from tokui.pipeline.models import Deal, Referral, ReferralRewardRule
from tokui.pipeline.referrals import (
    referral_record,
    referral_rewards_on_deal_won,
    reward_rule_create,
)
from tokui.users.models import User

NOTES = (
    "青山社長からのご紹介。業界団体の会合で当社の保守体制を高く評価いただいた。",
    "展示会でお会いした際、同業の工場長をご紹介いただいた。",
    "紹介先の購買部長より、取引先の設備更新計画について情報をいただいた。",
    "西日本の協力会社として紹介を受けた。",
)


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


def _clients(owner: User | None, count: int) -> list[Account]:
    if owner is None:
        return []
    return list(
        Account.objects.filter(owner__team=owner.team, archived_at=None, merged_into=None)
        .exclude(kind=AccountKind.COMPETITOR)
        .order_by("kind", "pk")[:count]
    )


def _record(
    head: User, account: Account, referrer: Account, days_ago: int, note: str, today: datetime.date
) -> bool:
    if Referral.objects.filter(account=account, deal=None).exists() or (
        Referral.objects.filter(account=referrer, referrer=account).exists()
    ):
        return False
    contact = referrer.contacts.filter(archived_at=None).order_by("pk").first()
    referral_record(
        actor=head,
        account=account,
        referrer=referrer,
        referrer_contact=contact,
        referred_on=today - datetime.timedelta(days=days_ago),
        note=note,
    )
    return True


def demo_referrals(*, stdout: _Writer | None = None) -> dict[str, int]:
    """Referral chains, the two reward rules and the rewards already earned."""
    head = User.objects.filter(username="head").first()
    kam = User.objects.filter(username="kam").first()
    west = (
        User.objects.filter(username="west").first()
        or User.objects.filter(team__isnull=False).exclude(team=getattr(kam, "team", None)).first()
    )
    if head is None or kam is None:
        return {"referrals": 0, "rules": 0, "rewards": 0}
    today = timezone.localdate()
    made = rules = rewards = 0
    with transaction.atomic():
        for name, data in (
            (
                "紹介謝礼",
                {"trigger": "first_deal_won", "kind": "bonus", "amount": "30000"},
            ),
            (
                "紹介ポイント",
                {"trigger": "first_order_paid", "kind": "points", "points": 500},
            ),
        ):
            if not ReferralRewardRule.objects.filter(name=name).exists():
                reward_rule_create(actor=head, data={"name": name, **data})
                rules += 1
        east = _clients(kam, 4)
        if len(east) == 4:
            first, second, third, fourth = east
            # first referred second and third; second referred fourth.
            for account, referrer, days, note in (
                (second, first, 150, NOTES[0]),
                (third, first, 75, NOTES[1]),
                (fourth, second, 20, NOTES[2]),
            ):
                made += _record(head, account, referrer, days, note, today)
        west_clients = _clients(west, 2) if west is not None and west.team_id else []
        if len(west_clients) == 2:
            made += _record(head, west_clients[1], west_clients[0], 40, NOTES[3], today)
        # Rewards for referred accounts that already won a deal (the demo deals, if any).
        for referral in Referral.objects.filter(deal=None).select_related("account"):
            won = (
                Deal.objects.filter(account=referral.account, stage__kind=StageKind.WON)
                .order_by("closed_at", "pk")
                .first()
            )
            if won is not None:
                rewards += len(referral_rewards_on_deal_won(deal=won, actor=head))
    if stdout is not None:
        stdout.write(f"Demo: {made} referrals, {rules} reward rules, {rewards} referral rewards.\n")
    return {"referrals": made, "rules": rules, "rewards": rewards}
