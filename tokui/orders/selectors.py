"""Reads of quotes (見積書): a person sees a quote exactly when they may see its account."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from tokui.accounts.models import Account
from tokui.accounts.selectors import account_get, account_list
from tokui.core.exceptions import NotFound
from tokui.orders.constants import QuoteStatus
from tokui.orders.models import Quote
from tokui.users.models import User

# "expired" is not stored: a sent or ready quote whose validity has passed.
LIST_STATUSES = (*QuoteStatus.values, "expired")


def quote_may_edit(*, viewer: Any) -> bool:
    """Who may make and change quotes: those who may edit accounts (support staff read them)."""
    return isinstance(viewer, User) and viewer.may_edit_accounts


def _visible(viewer: Any) -> QuerySet[Quote]:
    return Quote.objects.filter(account__in=Account.objects.visible_to(viewer).values("pk"))


def quote_list(
    *,
    viewer: Any,
    status: str | None = None,
    owner_id: int | None = None,
    search: str = "",
    account_id: int | None = None,
    latest_only: bool = False,
    today: Any = None,
) -> QuerySet[Quote]:
    """Quotes the viewer may see, newest first. ``status`` may also be "expired" (validity
    passed while still out with the customer); ``latest_only`` hides superseded versions."""
    qs = _visible(viewer).select_related("account", "contact", "owner", "regarding_type")
    if status == "expired":
        qs = qs.filter(status__in=[QuoteStatus.APPROVED, QuoteStatus.SENT], valid_until__lt=today)
    elif status in QuoteStatus.values:
        qs = qs.filter(status=status)
    if latest_only and status != QuoteStatus.SUPERSEDED:
        qs = qs.exclude(status=QuoteStatus.SUPERSEDED)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    if account_id:
        qs = qs.filter(account_id=account_id)
    search = (search or "").strip()[:200]
    if search:
        number = Q(number__icontains=search) | Q(title__icontains=search)
        qs = qs.filter(
            number | Q(account_id__in=account_list(viewer=viewer, search=search).values("pk"))
        )
    return qs.order_by("-issued_on", "-number", "-revision", "-id")


def quote_get(*, viewer: Any, quote_id: int) -> Quote:
    quote = (
        _visible(viewer)
        .select_related("account", "contact", "owner", "approval", "previous", "created_by")
        .prefetch_related(models.Prefetch("lines"))
        .filter(pk=quote_id)
        .first()
    )
    if quote is None:
        raise NotFound(_("No such quote."))
    return quote


def quote_versions(*, quote: Quote) -> list[Quote]:
    """Every revision of the quote's number, oldest first (the same account, so visible)."""
    return list(
        Quote.objects.filter(number=quote.number).select_related("owner").order_by("revision")
    )


def quote_for_account(*, viewer: Any, account: Account, limit: int = 10) -> list[Quote]:
    """The account's latest quotes (not the superseded versions), for its page."""
    return list(
        quote_list(viewer=viewer, account_id=account.pk, latest_only=True).select_related("owner")[
            :limit
        ]
    )


def quote_regarding(*, viewer: Any, obj: models.Model) -> QuerySet[Quote]:
    """Quotes made regarding ``obj`` (a deal), every version, newest first."""
    content_type = ContentType.objects.get_for_model(obj)
    return quote_list(viewer=viewer).filter(regarding_type=content_type, regarding_id=obj.pk)


def visible_account(actor: User, account: Account | int) -> Account:
    """The account (an instance or its id) if ``actor`` may see it, else NotFound: the order
    side's services start from it."""
    return account_get(
        viewer=actor, account_id=account.pk if isinstance(account, Account) else account
    )
