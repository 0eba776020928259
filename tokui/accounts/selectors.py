"""Reads from the customer data bank. Every read starts from what the viewer may see."""

import re
import unicodedata

from django.db import connections
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from tokui.accounts.constants import ACCOUNT_SORTS, CONTACT_SORTS
from tokui.accounts.models import Account, Contact, account_scope
from tokui.core.audit import audit_for_scope
from tokui.core.exceptions import NotFound
from tokui.core.japanese import fold
from tokui.core.models import AuditEvent
from tokui.users.models import User

_PHONE_LIKE = re.compile(r"[\d\-‐−\s()+]{4,}")


def search_terms(query: str) -> list[str]:
    """Split a query into folded terms; a phone-like term keeps its digits only."""
    terms = []
    for raw in unicodedata.normalize("NFKC", query or "").split()[:10]:
        if _PHONE_LIKE.fullmatch(raw) and sum(c.isdigit() for c in raw) >= 4:
            raw = re.sub(r"\D", "", raw)
            if raw.startswith("81") and len(raw) > 10:
                raw = "0" + raw[2:]
        term = fold(raw)
        if term:
            terms.append(term[:100])
    return terms


def _fts_match(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _term_condition(term: str, vendor: str, scopes: dict[str, str]) -> Q:
    """Rows whose folded text holds ``term``, through the fastest index the database has.

    ``scopes`` maps a lookup prefix ("" for the row itself, "account__" for its account) to the
    table whose search text it reaches. SQLite's trigram index needs 3 characters: shorter terms
    scan the column (still folded, so still width- and kana-insensitive).
    """
    condition = Q()
    for prefix, table in scopes.items():
        if vendor == "sqlite" and len(term) >= 3:
            ids = RawSQL(
                f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH %s", [_fts_match(term)]
            )
            condition |= Q(**{f"{prefix}pk__in" if prefix else "pk__in": ids})
        else:
            condition |= Q(**{f"{prefix}search_text__contains": term})
    return condition


def _search(qs: QuerySet, query: str, scopes: dict[str, str]) -> QuerySet:
    vendor = connections[qs.db].vendor
    for term in search_terms(query):
        qs = qs.filter(_term_condition(term, vendor, scopes))
    return qs


def account_list(
    *,
    viewer: User,
    search: str = "",
    kind: str | None = None,
    tier: str | None = None,
    owner: str | None = None,
    archived: bool = False,
    sort: str = "name",
) -> QuerySet[Account]:
    qs: QuerySet[Account] = Account.objects.visible_to(viewer).select_related("owner")
    qs = qs.filter(archived_at__isnull=not archived)
    if search:
        qs = _search(qs, search, {"": "accounts_account"})
    if kind:
        qs = qs.filter(kind=kind)
    if tier:
        qs = qs.filter(tier=tier)
    if owner:
        qs = qs.filter(owner__username=owner)
    # A correlated subquery, not a JOIN with GROUP BY: the page's count() then drops it and
    # stays an index scan, and only the rows on the page pay for counting their contacts.
    contacts = (
        Contact.objects.filter(account=OuterRef("pk"), archived_at__isnull=True)
        .order_by()
        .values("account")
        .annotate(n=Count("id"))
        .values("n")
    )
    qs = qs.annotate(contact_count=Coalesce(Subquery(contacts), 0))
    return qs.order_by(*ACCOUNT_SORTS.get(sort, ACCOUNT_SORTS["name"]))


def account_get(*, viewer: User, account_id: int) -> Account:
    account = (
        Account.objects.visible_to(viewer)
        .select_related("owner", "owner__team")
        .filter(pk=account_id)
        .first()
    )
    if account is None:
        raise NotFound(_("No such account."))
    return account


def account_history(*, viewer: User, account: Account, limit: int = 200) -> QuerySet[AuditEvent]:
    """Audit events of the account and its contacts, newest first. ``account`` must be visible."""
    account_get(viewer=viewer, account_id=account.pk)
    return audit_for_scope(scope=account_scope(account.pk), limit=limit)


def account_counts(*, viewer: User) -> dict[str, int]:
    """Counts for the dashboard, over exactly what the viewer may see."""
    qs = Account.objects.visible_to(viewer).filter(archived_at__isnull=True)
    totals = qs.aggregate(
        total=Count("id"),
        key=Count("id", filter=Q(tier="key")),
        clients=Count("id", filter=Q(kind="client")),
        prospects=Count("id", filter=Q(kind="prospect")),
        mine=Count("id", filter=Q(owner=viewer)),
    )
    return {k: v or 0 for k, v in totals.items()}


def account_recently_updated(*, viewer: User, limit: int = 8) -> QuerySet[Account]:
    return (
        Account.objects.visible_to(viewer)
        .filter(archived_at__isnull=True)
        .select_related("owner")
        .order_by("-updated_at", "-id")[:limit]
    )


def contact_list(
    *,
    viewer: User,
    search: str = "",
    account_id: int | None = None,
    archived: bool = False,
    sort: str = "name",
) -> QuerySet[Contact]:
    qs: QuerySet[Contact] = Contact.objects.visible_to(viewer).select_related("account")
    qs = qs.filter(archived_at__isnull=not archived)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if search:
        qs = _search(qs, search, {"": "accounts_contact", "account__": "accounts_account"})
    return qs.order_by(*CONTACT_SORTS.get(sort, CONTACT_SORTS["name"]))


def contact_get(*, viewer: User, contact_id: int) -> Contact:
    contact = (
        Contact.objects.visible_to(viewer)
        .select_related("account", "account__owner")
        .filter(pk=contact_id)
        .first()
    )
    if contact is None:
        raise NotFound(_("No such contact."))
    return contact


def search_everything(
    *, viewer: User, query: str, limit: int = 10
) -> tuple[list[Account], list[Contact]]:
    """The one search box: accounts and contacts matching every term, visible ones only."""
    if not search_terms(query):
        return [], []
    accounts = list(account_list(viewer=viewer, search=query)[:limit])
    contacts = list(contact_list(viewer=viewer, search=query)[:limit])
    return accounts, contacts
