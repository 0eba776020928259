"""Reads of key-account agreements.

Whoever may see an account sees its agreements (``Account.objects.visible_to``); an agreement
of an invisible account does not exist for them (NotFound). Editing is decided by the services
(``may_edit_accounts`` and the account visible); ``agreement_may_edit`` answers the same for
pages that show or hide their buttons.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from tokui.accounts.models import Account
from tokui.core.exceptions import NotFound
from tokui.core.japanese import fold
from tokui.pricing.models import (
    Agreement,
    AgreementDiscount,
    AgreementPrice,
    ApprovalRequest,
    ApprovalStatus,
)
from tokui.users.models import User

AGREEMENT_STATES = ("current", "upcoming", "expired")


def agreement_state(agreement: Agreement, on: datetime.date) -> str:
    """``current``, ``upcoming`` or ``expired`` on the day ``on``."""
    if agreement.valid_from > on:
        return "upcoming"
    if agreement.valid_to is not None and agreement.valid_to < on:
        return "expired"
    return "current"


def _valid_on(on: datetime.date) -> Q:
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))


def agreement_list(
    *,
    viewer: User,
    on: datetime.date,
    state: str | None = None,
    account_id: int | None = None,
    search: str = "",
) -> QuerySet[Agreement]:
    """Agreements of accounts the viewer sees; ``state`` is judged on the day ``on``.

    ``search`` matches the account's name or reading (kana- and width-folded) or the agreement's
    name. Newest period first within each account, accounts in 50音順.
    """
    qs = Agreement.objects.filter(account__in=Account.objects.visible_to(viewer)).select_related(
        "account", "account__owner"
    )
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if state == "current":
        qs = qs.filter(_valid_on(on))
    elif state == "upcoming":
        qs = qs.filter(valid_from__gt=on)
    elif state == "expired":
        qs = qs.filter(valid_to__lt=on)
    folded = fold(search)
    if folded:
        qs = qs.filter(Q(account__search_text__contains=folded) | Q(name__icontains=search))
    return qs.annotate(
        price_count=Count("prices", distinct=True),
        discount_count=Count("discounts", distinct=True),
    ).order_by("account__sort_key", "account_id", "-valid_from", "pk")


def agreement_get(*, viewer: User, agreement_id: int) -> Agreement:
    """One agreement with its account, prices (with products) and discounts."""
    agreement = (
        Agreement.objects.filter(account__in=Account.objects.visible_to(viewer))
        .select_related("account", "account__owner", "approved_by")
        .prefetch_related(
            Prefetch(
                "prices",
                queryset=AgreementPrice.objects.select_related("product", "product__line").order_by(
                    "product__sku", "min_quantity"
                ),
            ),
            Prefetch(
                "discounts",
                queryset=AgreementDiscount.objects.select_related("product", "line").order_by(
                    "line__sort_order", "line__name", "product__sku", "pk"
                ),
            ),
        )
        .filter(pk=agreement_id)
        .first()
    )
    if agreement is None:
        raise NotFound(_("No such agreement."))
    return agreement


def agreement_for_account(*, viewer: User, account: Account) -> list[Agreement]:
    """The account's agreements (the account is already visible to the viewer)."""
    return list(
        Agreement.objects.filter(account=account)
        .annotate(
            price_count=Count("prices", distinct=True),
            discount_count=Count("discounts", distinct=True),
        )
        .order_by("-valid_from", "pk")
    )


def agreement_may_edit(*, viewer: User, agreement_or_account: Agreement | Account) -> bool:
    """Whether the services would let ``viewer`` change it (a visible account, an editor)."""
    account = (
        agreement_or_account.account
        if isinstance(agreement_or_account, Agreement)
        else agreement_or_account
    )
    return bool(viewer.may_edit_accounts) and not account.is_archived


@dataclass(frozen=True)
class OpenRequest:
    request: ApprovalRequest
    waiting_for: list[str]


def agreement_open_request(*, agreement: Agreement) -> OpenRequest | None:
    """The agreement's approval request still open (waiting or sent back), with who it waits for."""
    request = (
        ApprovalRequest.objects.filter(
            agreement=agreement, status__in=[ApprovalStatus.PENDING, ApprovalStatus.RETURNED]
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if request is None:
        return None
    return OpenRequest(request=request, waiting_for=approval_waiting_for(request))


def approval_waiting_for(request: ApprovalRequest) -> list[str]:
    """Names of the approvers of the request's current step (the requester when sent back)."""
    if request.status == ApprovalStatus.RETURNED:
        return [str(request.requester)]
    route: list[Any] = request.route if isinstance(request.route, list) else []
    if not 0 <= request.step < len(route):
        return []
    step = route[request.step]
    ids = [i for i in (step.get("approvers") or []) if isinstance(i, int)]
    return [str(u) for u in User.objects.filter(pk__in=ids).order_by("pk")]
