"""Reads from the customer data bank. Every read starts from what the viewer may see."""

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from django.db import connections
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from tokui.accounts.constants import ACCOUNT_SORTS, CONTACT_SORTS
from tokui.accounts.models import Account, Contact, Segment, account_scope
from tokui.accounts.segments import SEGMENT_FILTER_KEYS, segment_get
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


def _matching_ids(table: str, term: str, vendor: str) -> tuple[str, list[str]]:
    """SQL selecting the ids of ``table`` rows whose folded search text holds ``term``.

    SQLite: the trigram FTS index for 3+ characters, the bigram FTS index for 2 letters or
    digits, a scan for the rest (1 character, or 2 with punctuation). PostgreSQL: LIKE, which
    the pg_trgm GIN index serves.
    """
    if vendor == "sqlite" and len(term) >= 3:
        return f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH %s", [_fts_match(term)]
    if vendor == "sqlite" and len(term) == 2 and term.isalnum():
        return (
            f"SELECT rowid FROM {table}_bigrams WHERE {table}_bigrams MATCH %s",
            [_fts_match(term)],
        )
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return f"SELECT id FROM {table} WHERE search_text LIKE %s ESCAPE '\\'", [pattern]


def _search(qs: QuerySet, query: str, *, with_account: bool = False) -> QuerySet:
    """Rows matching every term of ``query``; contacts also match through their company."""
    vendor = connections[qs.db].vendor
    table = qs.model._meta.db_table
    for term in search_terms(query):
        sql, params = _matching_ids(table, term, vendor)
        if with_account:
            account_sql, account_params = _matching_ids("accounts_account", term, vendor)
            sql = f"{sql} UNION SELECT id FROM {table} WHERE account_id IN ({account_sql})"
            params = [*params, *account_params]
        qs = qs.filter(pk__in=RawSQL(sql, params))
    return qs


# A filter value: one value, several (any of them matches), or nothing.
Values = str | Sequence[str] | None


def _values(value: Values) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [v for v in value if v not in (None, "")]


def _filter_accounts(
    qs: QuerySet,
    *,
    prefix: str,
    search: str | None = None,
    kind: Values = None,
    tier: Values = None,
    owner: str | None = None,
    industry: Values = None,
    prefecture: Values = None,
    employees_min: int | None = None,
    employees_max: int | None = None,
    rank: Values = None,
    tag: Values = None,
) -> QuerySet:
    """Account filters for a queryset of accounts (``prefix=""``) or of rows that belong to
    an account (``prefix="account__"``): the list filters and a segment's saved ones alike."""
    if search:
        if prefix:
            vendor = connections[qs.db].vendor
            for term in search_terms(search):
                sql, params = _matching_ids("accounts_account", term, vendor)
                qs = qs.filter(**{f"{prefix}pk__in": RawSQL(sql, params)})
        else:
            qs = _search(qs, search)
    for key, value in (
        ("kind", kind),
        ("tier", tier),
        ("prefecture", prefecture),
        ("rank", rank),
    ):
        values = _values(value)
        if values:
            qs = qs.filter(**{f"{prefix}{key}__in": values})
    industries = _values(industry)
    if industries:
        # Part of the industry: 製造業 finds 食品製造業 and 金属製品製造業 as well.
        condition = Q()
        for term in industries:
            condition |= Q(**{f"{prefix}industry__icontains": term})
        qs = qs.filter(condition)
    if owner:
        qs = qs.filter(**{f"{prefix}owner__username": owner})
    if employees_min is not None:
        qs = qs.filter(**{f"{prefix}employees__gte": employees_min})
    if employees_max is not None:
        qs = qs.filter(**{f"{prefix}employees__lte": employees_max})
    tags = _values(tag)
    if tags:
        tagged = Account.tags.through.objects.filter(tag__name__in=tags).values("account_id")
        qs = qs.filter(**{f"{prefix}pk__in": tagged})
    return qs


def _segment_filters(*, viewer: User, segment: Segment | int) -> dict[str, Any]:
    """The saved filters of a segment the viewer may use (own or shared); else NotFound."""
    segment_id = segment.pk if isinstance(segment, Segment) else int(segment)
    found = segment_get(viewer=viewer, segment_id=segment_id)
    return {k: v for k, v in (found.filters or {}).items() if k in SEGMENT_FILTER_KEYS}


def account_segment_ids(*, account_id: int, segments: Sequence[Segment]) -> frozenset[int]:
    """The segments among ``segments`` whose saved filters select the account, whoever asks.

    For rules that must not depend on the viewer (a discount rule for a segment prices the same
    for everyone), so no visibility or segment-ownership check: the caller decides who may see
    the answer. Archived accounts match too. One query per segment.
    """
    found: set[int] = set()
    for segment in segments:
        filters = {k: v for k, v in (segment.filters or {}).items() if k in SEGMENT_FILTER_KEYS}
        qs = _filter_accounts(Account.objects.filter(pk=account_id), prefix="", **filters)
        if qs.exists():
            found.add(segment.pk)
    return frozenset(found)


def account_list(
    *,
    viewer: User,
    search: str = "",
    kind: str | None = None,
    tier: str | None = None,
    owner: str | None = None,
    archived: bool = False,
    sort: str = "name",
    industry: Values = None,
    prefecture: Values = None,
    employees_min: int | None = None,
    employees_max: int | None = None,
    rank: Values = None,
    tag: Values = None,
    segment: Segment | int | None = None,
    for_count: bool = False,
) -> QuerySet[Account]:
    """Visible accounts, filtered. A ``segment`` (own or shared) narrows the other filters
    further.
    ``for_count``: the same rows in the shape that counts fast (only ``.count()`` it)."""
    qs: QuerySet[Account] = Account.objects.visible_to(viewer, for_count=for_count)
    qs = qs.filter(archived_at__isnull=not archived)
    qs = _filter_accounts(
        qs,
        prefix="",
        search=search,
        kind=kind,
        tier=tier,
        owner=owner,
        industry=industry,
        prefecture=prefecture,
        employees_min=employees_min,
        employees_max=employees_max,
        rank=rank,
        tag=tag,
    )
    if segment is not None:
        filters = _segment_filters(viewer=viewer, segment=segment)
        qs = _filter_accounts(qs, prefix="", **filters)
    if for_count:
        return qs.order_by()
    qs = qs.select_related("owner")
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
        .prefetch_related("tags")
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
    kind: Values = None,
    tier: Values = None,
    owner: str | None = None,
    industry: Values = None,
    prefecture: Values = None,
    employees_min: int | None = None,
    employees_max: int | None = None,
    rank: Values = None,
    tag: Values = None,
    segment: Segment | int | None = None,
    for_count: bool = False,
) -> QuerySet[Contact]:
    """Visible contacts, filtered; the account filters and ``segment`` apply to their account.
    ``for_count``: the same rows in the shape that counts fast (only ``.count()`` it)."""
    qs: QuerySet[Contact] = Contact.objects.visible_to(viewer, for_count=for_count)
    qs = qs.filter(archived_at__isnull=not archived)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if search:
        qs = _search(qs, search, with_account=True)
    qs = _filter_accounts(
        qs,
        prefix="account__",
        kind=kind,
        tier=tier,
        owner=owner,
        industry=industry,
        prefecture=prefecture,
        employees_min=employees_min,
        employees_max=employees_max,
        rank=rank,
        tag=tag,
    )
    if segment is not None:
        filters = _segment_filters(viewer=viewer, segment=segment)
        qs = _filter_accounts(qs, prefix="account__", **filters)
    if for_count:
        return qs.order_by()
    qs = qs.select_related("account")
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
    """The one search box: accounts and contacts matching every term, visible ones only.

    Accounts come newest first. Contacts come in order of relevance: people whose own details
    match (newest first), then people at companies that match (newest company first), then —
    for a query of several terms — people matched partly by their own details and partly by
    their company's ("山田商事 太郎").
    """
    if not search_terms(query):
        return [], []
    # Newest first: the database walks its primary key and stops at ``limit`` matches, where
    # sorting by reading would first collect and sort every match of a common query ("山田").
    accounts = list(account_list(viewer=viewer, search=query).order_by("-id")[:limit])
    contacts = list(_search(contact_list(viewer=viewer), query).order_by("-id")[:limit])
    if len(contacts) < limit:
        contacts += _contacts_at_matching_accounts(
            viewer=viewer, query=query, limit=limit - len(contacts), skip={c.pk for c in contacts}
        )
    if len(contacts) < limit and len(search_terms(query)) > 1:
        mixed = contact_list(viewer=viewer, search=query).exclude(pk__in=[c.pk for c in contacts])
        contacts += list(mixed.order_by("-id")[: limit - len(contacts)])
    return accounts, contacts


def _contacts_at_matching_accounts(
    *, viewer: User, query: str, limit: int, skip: set[int]
) -> list[Contact]:
    """Contacts of the visible accounts matching ``query``, newest account first.

    Accounts are taken from the search index a few dozen at a time (newest first, stopping
    early) and only their contacts are read. Asking for "contacts whose account is among the
    matches" in one query would first list every contact of every matching account: thirty
    thousand rows for "co" in a large book.
    """
    found: list[Contact] = []
    matching = (
        account_list(viewer=viewer, search=query).order_by("-id").values_list("pk", flat=True)
    )
    batch, before = 50, None
    while len(found) < limit:
        page = matching if before is None else matching.filter(pk__lt=before)
        ids = list(page[:batch])
        if not ids:
            break
        people = (
            contact_list(viewer=viewer)
            .filter(account_id__in=ids)
            .exclude(pk__in=skip)
            .order_by("-account_id", "-id")
        )
        found += people[: limit - len(found)]
        before, batch = ids[-1], batch * 4
    return found
