"""Demo discount rules and bonus programmes, on top of the demo book, catalog and segments.

Rules a Japanese sales department keeps: 3% for key accounts (重点取引先), 5% from 100 units
(stackable, 大口割引), an 8% promotion this month for the sensors (センサー 販促キャンペーン)
and, when the demo segments exist, 2% for 首都圏の製造業. Two key clients of kam get this fiscal
year's volume bonus (年間数量リベート, April–March) with purchases counted from orders, one of
them past its first tier; the first also has last year's programme, settled with its credit note.

Everything goes through the services as head, so the account history shows it. Deterministic
and idempotent: rules are skipped when one of the same name exists, programmes when the account
already has one.
"""

import datetime
from decimal import Decimal
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from tokui.accounts.constants import AccountKind, AccountTier
from tokui.accounts.models import Account, Segment
from tokui.catalog.models import ProductLine
from tokui.pricing.models import DiscountRule, RebateProgramme
from tokui.pricing.rebates import rebate_programme_create, rebate_record_purchase, rebate_settle
from tokui.pricing.rules import discount_rule_create
from tokui.users.models import User

M = 1_000_000
TIERS = (
    {"threshold": 30 * M, "percent": Decimal(1)},
    {"threshold": 50 * M, "percent": Decimal(2)},
    {"threshold": 100 * M, "percent": Decimal(3)},
)
NOTES = "年間購入額に応じて全額に遡及して割戻し。期末にクレジットノートで精算。"
# Monthly purchases (millions of yen) of the two programmes this year: the first passes ¥30M.
MONTHLY = ((4.2, 5.8, 3.9, 6.4, 5.1, 4.7, 6.9, 5.5), (2.1, 1.8, 3.2, 2.6, 2.9, 1.7, 2.4, 2.2))


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


def _month_end(day: datetime.date) -> datetime.date:
    first_next = (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return first_next - datetime.timedelta(days=1)


def _rules(head: User, today: datetime.date) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {"name": "重点取引先割引", "kind": "tier", "account_tier": AccountTier.KEY,
         "percent": Decimal(3), "priority": 10,
         "notes": "重点取引先（キーアカウント）は全商品 3% 引き。"},
        {"name": "大口割引 100台以上", "kind": "volume", "min_quantity": 100,
         "percent": Decimal(5), "stackable": True, "priority": 5,
         "notes": "1 回の注文で 100 単位以上。他の積み上げ可能な割引と併用できます。"},
    ]  # fmt: skip
    sensors = ProductLine.objects.filter(name="センサー").first()
    if sensors is not None:
        rules.append(
            {"name": f"センサー 販促キャンペーン {today.month}月", "kind": "promotion",
             "line": sensors.pk, "percent": Decimal(8),
             "valid_from": today.replace(day=1), "valid_to": _month_end(today),
             "notes": "IoT 監視の提案強化月間。センサー全品 8% 引き。"}
        )  # fmt: skip
    segment = Segment.objects.filter(name="首都圏の製造業", shared=True).first()
    if segment is not None and segment.owner_id is not None:
        rules.append(
            {"name": "首都圏製造業 応援割引", "kind": "segment", "segment": segment.pk,
             "percent": Decimal(2), "stackable": True,
             "notes": "共有セグメント「首都圏の製造業」の取引先。"}
        )  # fmt: skip
    return rules


def demo_pricing_rules(*, stdout: _Writer | None = None) -> None:
    """Add the demo discount rules and bonus programmes, once."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    head = User.objects.filter(username="head").first()
    kam = User.objects.filter(username="kam").first()
    if head is None or kam is None:
        say("Demo discount rules: load the demo users first.")
        return
    today = timezone.localdate()
    start = datetime.date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    end = datetime.date(start.year + 1, 3, 31)
    with transaction.atomic():
        added = 0
        for data in _rules(head, today):
            if DiscountRule.objects.filter(name=data["name"]).exists():
                continue
            discount_rule_create(actor=head, data=data)
            added += 1
        accounts = list(
            Account.objects.filter(
                owner=kam,
                tier=AccountTier.KEY,
                kind=AccountKind.CLIENT,
                archived_at__isnull=True,
                merged_into__isnull=True,
            ).order_by("pk")[:2]
        )
        programmes = 0
        for index, account in enumerate(accounts):
            if RebateProgramme.objects.filter(account=account).exists():
                continue
            if index == 0:
                _last_year(head, account, start, today)
            programme = rebate_programme_create(
                actor=head,
                account=account,
                data={"name": f"{start.year}年度 年間数量リベート", "period_start": start,
                      "period_end": end, "tiers": list(TIERS),
                      "notes": NOTES},
            )  # fmt: skip
            _purchases(programme, start, today, MONTHLY[index], prefix=f"demo-{account.pk}")
            programmes += 1
    say(f"Demo discount rules: {added} rules, {programmes} bonus programmes.")


def _purchases(
    programme: RebateProgramme,
    start: datetime.date,
    until: datetime.date,
    monthly: tuple[float, ...],
    *,
    prefix: str,
) -> None:
    """One order a month from the period start up to ``until`` (amounts in millions of yen)."""
    for n, millions in enumerate(monthly):
        month = start.month + n
        day = datetime.date(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 20)
        if day > until:
            break
        rebate_record_purchase(
            programme=programme,
            on=day,
            amount=Decimal(int(millions * 1000)) * 1000,
            source=f"{prefix}:order:{day:%Y%m}",
            description=f"{day.month}月分 受注合計",
        )


def _last_year(head: User, account: Account, start: datetime.date, today: datetime.date) -> None:
    """Last fiscal year's programme, past its second tier and settled with its credit note."""
    last_start = datetime.date(start.year - 1, 4, 1)
    last_end = datetime.date(start.year, 3, 31)
    programme = rebate_programme_create(
        actor=head,
        account=account,
        data={"name": f"{last_start.year}年度 年間数量リベート", "period_start": last_start,
              "period_end": last_end, "tiers": list(TIERS)},
    )  # fmt: skip
    monthly = (4.8, 5.2, 4.4, 5.9, 4.6, 5.0, 6.1, 4.9, 5.3, 4.2, 3.8, 5.4)
    _purchases(programme, last_start, last_end, monthly, prefix=f"demo-{account.pk}-prev")
    rebate_settle(
        actor=head, programme=programme, on=min(today, start + datetime.timedelta(days=9))
    )
