"""Demo tags and segments, on top of the demo customer book (``tokui.web.demo``).

About 30% of the accounts get one to three tags a sales team really uses (展示会2026, 既存深耕,
新規開拓 …), and kam and head get the segments they would save: 首都圏の製造業, 展示会2026 の
フォロー, 重点取引先 (A ランク以上), 従業員300名以上. The demo book has no company sizes or
ranks of its own, and segments by size and rank need them, so accounts without either get a
plausible size (and clients a rank) first, through the account services like everything else.

Deterministic (its own ``random.Random``) and idempotent: each step is skipped when its data
is already there, so calling it again changes nothing.
"""

import random
from typing import Any, Protocol

from django.db import transaction

from tokui.accounts.constants import AccountKind, AccountTier
from tokui.accounts.models import Account, Segment
from tokui.accounts.segments import account_set_tags, segment_create
from tokui.accounts.services import account_update
from tokui.users.models import User

DEMO_SEGMENTS_SEED = 20263

TAGS_BY_KIND: dict[str, tuple[str, ...]] = {
    AccountKind.CLIENT: ("既存深耕", "品質重視", "価格重視", "展示会2026", "紹介案件", "海外展開"),
    AccountKind.PROSPECT: ("新規開拓", "展示会2026", "紹介案件", "価格重視", "品質重視"),
    AccountKind.PARTNER: ("協業候補", "展示会2026", "紹介案件"),
    AccountKind.CONTRACTOR: ("品質重視", "価格重視"),
    AccountKind.COMPETITOR: ("価格競合", "海外展開"),
}

GREATER_TOKYO = ["東京都", "神奈川県", "埼玉県", "千葉県"]
SEGMENTS: tuple[tuple[str, str, bool, dict[str, Any]], ...] = (
    ("kam", "首都圏の製造業", True, {"prefecture": GREATER_TOKYO, "industry": ["製造業"]}),
    ("kam", "展示会2026 フォロー", False, {"tag": ["展示会2026"], "kind": ["prospect", "client"]}),
    ("head", "重点取引先 Aランク以上", True, {"rank": ["S", "A"]}),
    ("head", "従業員300名以上", False, {"employees_min": 300}),
)


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


def _employees(rng: random.Random) -> int:
    low, high = rng.choices(
        ((8, 49), (50, 299), (300, 999), (1000, 6000)), weights=(30, 40, 20, 10)
    )[0]
    number = rng.randint(low, high)
    return number if number < 100 else round(number, -1)


def _rank(rng: random.Random, account: Account) -> str:
    if account.tier == AccountTier.KEY:
        return rng.choice("SAA")
    return rng.choices("ABC", weights=(20, 45, 35))[0]


def _fill_sizes_and_ranks(rng: random.Random, accounts: list[Account]) -> int:
    if any(a.employees is not None or a.rank for a in accounts):
        return 0
    changed = 0
    for account in accounts:
        data: dict[str, Any] = {}
        # Japanese companies (with a prefecture) have a known size; foreign ones mostly not.
        if account.prefecture and rng.random() < 0.85:
            data["employees"] = _employees(rng)
        if account.kind == AccountKind.CLIENT:
            data["rank"] = _rank(rng, account)
        if data:
            account_update(actor=account.owner, account=account, data=data)
            changed += 1
    return changed


def _tag_accounts(rng: random.Random, accounts: list[Account]) -> int:
    if Account.tags.through.objects.exists():
        return 0
    tagged = 0
    for account in accounts:
        if rng.random() >= 0.3:
            continue
        choices = list(TAGS_BY_KIND.get(account.kind, TAGS_BY_KIND[AccountKind.CLIENT]))
        if not account.prefecture and "海外展開" not in choices:
            choices.append("海外展開")
        count = min(len(choices), rng.choices((1, 2, 3), weights=(50, 35, 15))[0])
        account_set_tags(actor=account.owner, account=account, names=rng.sample(choices, count))
        tagged += 1
    return tagged


def demo_segments(*, stdout: _Writer | None = None) -> None:
    """Tag about 30% of the demo accounts and save kam's and head's segments; idempotent."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    users = {u.username: u for u in User.objects.filter(username__in=("kam", "head"))}
    if len(users) < 2:
        say("Demo segments: the demo users kam and head are missing; load the demo first.")
        return
    rng = random.Random(DEMO_SEGMENTS_SEED)
    with transaction.atomic():
        accounts = list(
            Account.objects.filter(archived_at__isnull=True, merged_into__isnull=True)
            .select_related("owner")
            .order_by("pk")
        )
        sized = _fill_sizes_and_ranks(rng, accounts)
        if sized:
            accounts = list(
                Account.objects.filter(pk__in=[a.pk for a in accounts])
                .select_related("owner")
                .order_by("pk")
            )
        tagged = _tag_accounts(rng, accounts)
        created = 0
        for username, name, shared, filters in SEGMENTS:
            owner = users[username]
            if not Segment.objects.filter(owner=owner, name=name).exists():
                segment_create(actor=owner, name=name, filters=filters, shared=shared)
                created += 1
    if sized or tagged or created:
        say(
            f"Demo: sizes and ranks for {sized} accounts, tags on {tagged} accounts, "
            f"{created} segments."
        )
