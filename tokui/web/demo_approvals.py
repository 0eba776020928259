"""Demo authority limits and approvals (稟議), on top of the demo agreements.

Role limits as a sales department sets them (AM 5% / margin 30%, KAM 15% / 20%, head of sales
40% / 5%; administrators unlimited), one personal override (佐藤, a senior KAM, 18%), and three
requests on kam's agreements, made through the same services as the pages: one waiting for the
head of sales (so the head's bell and inbox show it), one approved, and one sent back with a
comment. Idempotent: nothing is added once a request exists.
"""

from decimal import Decimal
from typing import Any, Protocol

from django.db import transaction

from tokui.pricing.approvals import (
    agreement_propose_terms,
    approval_approve,
    approval_return,
    waiting_for,
)
from tokui.pricing.authority import agreement_current_terms
from tokui.pricing.models import Agreement, ApprovalRequest, AuthorityLimit
from tokui.users.constants import Role
from tokui.users.models import User


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


ROLE_LIMITS = (
    (Role.AM, Decimal(5), Decimal(30), Decimal(3_000_000)),
    (Role.KAM, Decimal(15), Decimal(20), Decimal(20_000_000)),
    (Role.HEAD, Decimal(40), Decimal(5), Decimal(200_000_000)),
)


def _with_discount(agreement: Agreement, target: dict[str, Any], percent: str) -> tuple[list, list]:
    prices, discounts = agreement_current_terms(agreement)
    key = "product" if "product" in target else "line"
    kept = [d for d in discounts if d.get(key) != target[key]]
    return prices, [*kept, {**target, "percent": percent}]


def _decider(request: ApprovalRequest, preferred: User) -> User:
    """The head of sales when on the route, else the first approver the route names."""
    waiting = waiting_for(request)
    if preferred.pk in waiting:
        return preferred
    return User.objects.get(pk=waiting[0])


def demo_approvals(*, stdout: _Writer | None = None) -> None:
    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    users = {
        u.username: u for u in User.objects.filter(username__in=["kam", "head", "ito", "sato"])
    }
    with transaction.atomic():
        for role, discount, margin, value in ROLE_LIMITS:
            AuthorityLimit.objects.get_or_create(
                role=role,
                defaults={"max_discount_percent": discount, "min_margin_percent": margin,
                          "max_deal_value": value},
            )  # fmt: skip
        if "sato" in users:
            AuthorityLimit.objects.get_or_create(
                user=users["sato"], defaults={"max_discount_percent": Decimal(18)}
            )
    if ApprovalRequest.objects.exists() or not {"kam", "head", "ito"} <= set(users):
        return
    kam, head, ito = users["kam"], users["head"], users["ito"]
    agreements = list(
        Agreement.objects.filter(account__owner=kam, valid_to__isnull=False)
        .select_related("account")
        .order_by("account_id", "-valid_from")
    )
    latest: dict[int, Agreement] = {}
    for agreement in agreements:
        latest.setdefault(agreement.account_id, agreement)
    current = [a for a in latest.values() if a.prices.exists() or a.discounts.exists()][:3]
    if len(current) < 3:
        say("Demo approvals: load the demo agreements first.")
        return
    first, second, third = current
    with transaction.atomic():
        # Approved: a larger maintenance-parts discount for the second account.
        line = second.discounts.filter(line__isnull=False).first()
        if line is not None:
            prices, discounts = _with_discount(second, {"line": line.line_id}, "20")
            approved = agreement_propose_terms(
                actor=kam, agreement=second, prices=prices, discounts=discounts,
                reason="年間保守契約の更新に合わせて保守部品の値引きを20%に。競合B社は22%を提示。",
            ).request  # fmt: skip
            if approved is not None:
                approval_approve(
                    actor=_decider(approved, head),
                    request=approved,
                    comment="保守契約の継続を条件に了承します。",
                )
        # Sent back: an AM asks for more than 5% on the third account.
        target = third.discounts.first()
        if target is not None:
            ref = {"product": target.product_id} if target.product_id else {"line": target.line_id}
            prices, discounts = _with_discount(third, ref, "12")
            returned = agreement_propose_terms(
                actor=ito, agreement=third, prices=prices, discounts=discounts,
                reason="来期の大口発注（見込み 40台）を確保するため。",
            ).request  # fmt: skip
            if returned is not None:
                approval_return(
                    actor=_decider(returned, head), request=returned,
                    comment="発注見込みの根拠（先方の購買計画や見積依頼）を添付して再申請してください。",
                )  # fmt: skip
        # Waiting for the head of sales: 25% on a sensor for the first account.
        sensor = first.discounts.filter(product__isnull=False).first()
        if sensor is not None:
            prices, discounts = _with_discount(first, {"product": sensor.product_id}, "25")
            agreement_propose_terms(
                actor=kam, agreement=first, prices=prices, discounts=discounts,
                reason="競合A社が同等品を23%引きで提示。年間200個の継続受注を守るため25%を希望します。",
            )  # fmt: skip
    say(f"Demo approvals: {ApprovalRequest.objects.count()} requests, limits for 3 roles.")
