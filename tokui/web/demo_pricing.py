"""Demo key-account agreements, on top of the demo book (``tokui.web.demo``) and catalog.

The first three key clients of the demo user kam get this fiscal year's agreement (4月1日 to
3月31日): special prices for the pumps with a quantity tier, a discount for the valves' product
line and one for a sensor, and payment terms as Japanese customers agree them (月末締め翌月末払い,
20日締め翌月10日払い, 15日締め当月末払い, with the business-day rules they use); the first also
keeps last year's (expired) agreement, so the list shows history. ``GET /api/v1/prices/quote``
then answers with these terms and names the agreement.

Everything goes through the agreement services as kam (the owner), so the account history shows
it. Deterministic and idempotent: accounts that already have an agreement are left alone.

One 企業グループ too: the first of those accounts becomes the parent company of two of kam's
team's clients without agreements of their own, and its agreement applies to the whole group.
"""

import datetime
import re
from decimal import Decimal
from typing import Any, Protocol

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tokui.accounts.constants import AccountKind, AccountTier
from tokui.accounts.models import Account
from tokui.accounts.services import account_update
from tokui.catalog.models import Product, ProductLine
from tokui.pricing.models import MONTH_END, BusinessDayRule
from tokui.pricing.services import agreement_create, agreement_set_terms, agreement_update
from tokui.users.models import User

_LEGAL_FORMS = re.compile(r"株式会社|有限会社|合同会社|\(株\)|（株）")


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


# (payment terms, special prices (sku, from quantity, price), discounts (sku or line name, %))
AGREEMENTS: tuple[dict[str, Any], ...] = (
    {
        "terms": {"closing_day": MONTH_END, "payment_month_offset": 1, "payment_day": MONTH_END,
                  "business_day_rule": BusinessDayRule.NEXT},
        "notes": "月末締め翌月末払い（休日の場合は翌営業日）。ポンプは年間契約価格。",
        "prices": (("PMP-100A", 1, 256_000), ("PMP-100A", 5, 248_000), ("PMP-150A", 1, 342_000)),
        "discounts": (("line", "バルブ", Decimal(8)), ("product", "SNS-P10", Decimal("12.5"))),
        "last_year": True,
    },
    {
        "terms": {"closing_day": 20, "payment_month_offset": 1, "payment_day": 10,
                  "business_day_rule": BusinessDayRule.NEXT},
        "notes": "20日締め翌月10日払い。保守部品は一律割引。",
        "prices": (("PMP-D25", 1, 118_000),),
        "discounts": (("line", "保守部品", Decimal(10)), ("line", "センサー", Decimal(5))),
    },
    {
        "terms": {"closing_day": 15, "payment_month_offset": 0, "payment_day": MONTH_END,
                  "business_day_rule": BusinessDayRule.PREVIOUS},
        "notes": "15日締め当月末払い（銀行休業日の場合は前営業日）。",
        "prices": (("PMP-150A", 1, 352_000), ("PMP-150A", 3, 345_000)),
        "discounts": (("line", "バルブ", Decimal(5)),),
    },
)  # fmt: skip


def demo_pricing(*, stdout: _Writer | None = None) -> None:
    """Give three of kam's key accounts an agreement for this fiscal year, once."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    kam = User.objects.filter(username="kam").first()
    if kam is None or not Product.objects.exists():
        say("Demo agreements: load the demo users and catalog first.")
        return
    today = timezone.localdate()
    start = datetime.date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    accounts = list(
        Account.objects.filter(
            owner=kam,
            tier=AccountTier.KEY,
            kind=AccountKind.CLIENT,
            archived_at__isnull=True,
            merged_into__isnull=True,
        ).order_by("pk")[: len(AGREEMENTS)]
    )
    products = {p.sku: p for p in Product.objects.all()}
    lines = {line.name: line for line in ProductLine.objects.all()}
    made = 0
    with transaction.atomic():
        for account, spec in zip(accounts, AGREEMENTS, strict=False):
            if account.agreements.exists():
                continue
            agreement = agreement_create(
                actor=kam,
                account=account,
                data={
                    "name": f"{start.year}年度 取引条件",
                    "valid_from": start,
                    "valid_to": datetime.date(start.year + 1, 3, 31),
                    "notes": spec["notes"],
                    **spec["terms"],
                },
            )
            if spec.get("last_year"):
                previous = agreement_create(
                    actor=kam,
                    account=account,
                    data={
                        "name": f"{start.year - 1}年度 取引条件",
                        "valid_from": datetime.date(start.year - 1, 4, 1),
                        "valid_to": start - datetime.timedelta(days=1),
                        "notes": "前年度の条件（期間満了）。",
                        **spec["terms"],
                    },
                )
                # Last year's prices were about 3% higher (rounded to ¥1,000).
                agreement_set_terms(
                    actor=kam,
                    agreement=previous,
                    prices=[
                        {"product": products[sku].pk, "min_quantity": qty,
                         "unit_price": Decimal(round(price * 1.03, -3))}
                        for sku, qty, price in spec["prices"]
                        if sku in products
                    ],
                    discounts=[],
                )  # fmt: skip
            prices = [
                {"product": products[sku].pk, "min_quantity": qty, "unit_price": Decimal(price)}
                for sku, qty, price in spec["prices"]
                if sku in products
            ]
            discounts = [
                {"product": products[name].pk, "percent": pct}
                if kind == "product"
                else {"line": lines[name].pk, "percent": pct}
                for kind, name, pct in spec["discounts"]
                if name in (products if kind == "product" else lines)
            ]
            agreement_set_terms(actor=kam, agreement=agreement, prices=prices, discounts=discounts)
            made += 1
    say(f"Demo agreements: {made} key-account agreements.")
    with transaction.atomic():
        _demo_group(kam=kam, parent=accounts[0] if accounts else None, say=say)


def _stem(name: str) -> str:
    """The company's name without its legal form, e.g. 第一商事 for 株式会社第一商事."""
    return _LEGAL_FORMS.sub("", name).strip()


def _demo_group(*, kam: User, parent: Account | None, say: Any) -> None:
    """One 企業グループ: kam's first key client as the parent company with two subsidiaries
    (companies of kam's team with no agreement of their own, those sharing the parent's name
    first), and the parent's agreement of this year made "for the whole group", so the
    subsidiaries' price check shows the group's terms. Left alone once the parent has any."""
    if parent is None or parent.subsidiaries.exists():
        return
    stem = _stem(parent.name)
    candidates = list(
        Account.objects.visible_to(kam)
        .filter(
            archived_at__isnull=True,
            merged_into__isnull=True,
            parent__isnull=True,
            kind=AccountKind.CLIENT,
            agreements__isnull=True,
        )
        .exclude(pk=parent.pk)
        .order_by("pk")[:200]
    )
    # Companies named like the parent (第一商事 → 第一物流) read as one group.
    candidates.sort(key=lambda a: (not _stem(a.name).startswith(stem[:2]), a.pk))
    subsidiaries = candidates[:2]
    for subsidiary in subsidiaries:
        account_update(actor=kam, account=subsidiary, data={"parent": parent.pk})
    today = timezone.localdate()
    current = (
        parent.agreements.filter(valid_from__lte=today)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .first()
    )
    if current is not None:
        agreement_update(actor=kam, agreement=current, data={"applies_to_group": True})
    say(f"Demo group: {parent.name} with {len(subsidiaries)} subsidiaries.")
