"""An account's timeline: its interactions, its audit events and, later, orders, contracts and
cases, newest first, in one list that pages by keyset.

Each kind of entry comes from a *source* registered in ``timeline_sources``. Apps above
activities add theirs in ``AppConfig.ready()`` without activities importing them::

    from tokui.activities.timeline import TimelineSource, timeline_sources

    timeline_sources.register(TimelineSource(
        name="order",                       # also the tie-break between equal times
        kinds=lambda: [("order", _("Orders"))],
        fetch=orders_for_timeline,          # (TimelineQuery) -> list[TimelineEntry]
        template="orders/_timeline_entry.html",
        serialize=order_timeline_item,      # (entry) -> dict for the API's ``data``
    ))

Paging: the order is (time, source, id) descending, and a cursor is the last entry's triple.
A page asks each source for ``limit + 1`` entries strictly after the cursor (an indexed range
scan, no OFFSET), merges them and keeps ``limit``: the cost of a page does not grow with how
deep it is, and the number of queries is one per source plus the prefetches of the page.
Entries with equal times keep a stable order, so nothing is skipped or repeated between pages.
"""

import base64
import binascii
import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tokui.accounts.models import Account, account_scope
from tokui.activities.constants import InteractionKind
from tokui.activities.models import Interaction
from tokui.activities.selectors import interactions_prepare
from tokui.core.exceptions import ApplicationError, NotFound
from tokui.core.models import AuditEvent
from tokui.users.models import User

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
CHANGES = "changes"  # the filter kind of audit events
# Audit actions left out of the timeline: the interaction itself is shown instead.
HIDDEN_ACTIONS = ("activities.interaction.created", "activities.interaction.recorded")


@dataclass(frozen=True, order=True)
class Cursor:
    """Where a page ended: the last entry's (time, source, id)."""

    at: datetime.datetime
    source: str
    id: int

    def encode(self) -> str:
        raw = f"{self.at.astimezone(datetime.UTC).isoformat()}|{self.source}|{self.id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> "Cursor":
        """A cursor from a query string; anything else is a clear 400, never a crash."""
        invalid = ApplicationError(
            _("This cursor is not valid: start from the first page."), field="cursor"
        )
        if not value or len(value) > 200:
            raise invalid
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            at_text, source, id_text = raw.split("|")
            at = datetime.datetime.fromisoformat(at_text)
            ident = int(id_text)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise invalid from exc
        if timezone.is_naive(at) or not 1900 <= at.year <= 9000:
            raise invalid
        if not source or not 0 <= ident < 2**63:
            raise invalid
        return cls(at=at, source=source, id=ident)


@dataclass
class TimelineEntry:
    at: datetime.datetime
    source: str
    id: int
    kind: str
    obj: Any
    template: str = ""

    @property
    def key(self) -> tuple[datetime.datetime, str, int]:
        return (self.at, self.source, self.id)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.at, self.source, self.id)


@dataclass(frozen=True)
class TimelineQuery:
    """What a source is asked for: entries of ``account`` strictly older than ``before``."""

    viewer: User
    account: Account
    kinds: frozenset[str] | None  # None: every kind
    before: Cursor | None
    limit: int

    def keyset(self, source: str, at_field: str, id_field: str = "id") -> Q:
        """The condition "after the cursor in (time, source, id) descending order" for a
        source whose rows all carry ``source`` (a range on the time index, then the id)."""
        if self.before is None:
            return Q()
        cursor = self.before
        if source < cursor.source:
            return Q(**{f"{at_field}__lte": cursor.at})
        if source > cursor.source:
            return Q(**{f"{at_field}__lt": cursor.at})
        return Q(**{f"{at_field}__lte": cursor.at}) & (
            Q(**{f"{at_field}__lt": cursor.at}) | Q(**{f"{id_field}__lt": cursor.id})
        )

    def wants(self, codes: Iterable[str]) -> list[str] | None:
        """Which of ``codes`` to show: None for all of them, [] for none."""
        if self.kinds is None:
            return None
        return [c for c in codes if c in self.kinds]


@dataclass(frozen=True)
class TimelineSource:
    name: str
    kinds: Callable[[], list[tuple[str, Any]]]
    fetch: Callable[[TimelineQuery], list[TimelineEntry]]
    template: str
    serialize: Callable[[TimelineEntry], dict[str, Any]] | None = None
    # Loads what the entries that made the page show, for all of them at once.
    prepare: Callable[[list[TimelineEntry]], None] | None = None
    order: int = 100


class TimelineRegistry:
    def __init__(self) -> None:
        self._sources: dict[str, TimelineSource] = {}

    def register(self, source: TimelineSource) -> None:
        """Add or replace (by name) a source."""
        if "|" in source.name:
            raise ValueError("A timeline source's name cannot contain '|'.")
        self._sources[source.name] = source

    def unregister(self, name: str) -> None:
        self._sources.pop(name, None)

    def sources(self) -> list[TimelineSource]:
        return sorted(self._sources.values(), key=lambda s: (s.order, s.name))

    def get(self, name: str) -> TimelineSource | None:
        return self._sources.get(name)

    def kinds(self) -> list[tuple[str, str]]:
        """Every filter kind with its label, for the chips and the API."""
        return [(code, str(label)) for s in self.sources() for code, label in s.kinds()]


timeline_sources = TimelineRegistry()


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None
    kinds: frozenset[str] | None = None
    sources: dict[str, TimelineSource] = field(default_factory=dict)


def parse_kinds(values: Iterable[str]) -> frozenset[str] | None:
    """Known filter kinds among ``values``; None (everything) when none is given."""
    known = {code for code, _label in timeline_sources.kinds()}
    chosen = frozenset(v for v in values if v)
    if not chosen:
        return None
    unknown = chosen - known
    if unknown:
        raise ApplicationError(
            _("Unknown kind: %(k)s. Choose from: %(v)s.")
            % {"k": ", ".join(sorted(unknown)), "v": ", ".join(sorted(known))},
            field="kind",
            status=422,
        )
    return chosen


def account_timeline(
    *,
    viewer: User,
    account: Account,
    kinds: frozenset[str] | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> TimelinePage:
    """One page of ``account``'s timeline, newest first. Invisible account: NotFound.

    ``cursor`` is a page's ``next_cursor``; a malformed one is an ApplicationError (400).
    """
    if not Account.objects.visible_to(viewer).filter(pk=account.pk).exists():
        raise NotFound(_("No such account."))
    limit = min(max(limit, 1), MAX_PAGE_SIZE)
    before = Cursor.decode(cursor) if cursor else None
    query = TimelineQuery(viewer=viewer, account=account, kinds=kinds, before=before, limit=limit)
    entries: list[TimelineEntry] = []
    sources = {}
    for source in timeline_sources.sources():
        sources[source.name] = source
        for entry in source.fetch(query):
            entry.template = entry.template or source.template
            entries.append(entry)
    entries.sort(key=lambda e: e.key, reverse=True)
    more = len(entries) > limit
    entries = entries[:limit]
    # Each source prepares only the entries that made the page (one pass per relation).
    for name, source in sources.items():
        mine = [e for e in entries if e.source == name]
        if mine and source.prepare is not None:
            source.prepare(mine)
    next_cursor = entries[-1].cursor.encode() if more and entries else None
    return TimelinePage(entries=entries, next_cursor=next_cursor, kinds=kinds, sources=sources)


# --- The two sources of this app -------------------------------------------------------------


def _interaction_kinds() -> list[tuple[str, Any]]:
    return list(InteractionKind.choices)


def fetch_interactions(query: TimelineQuery) -> list[TimelineEntry]:
    wanted = query.wants(InteractionKind.values)
    if wanted == []:
        return []
    qs: QuerySet[Interaction] = Interaction.objects.filter(
        account_id=query.account.pk, archived_at__isnull=True
    ).filter(query.keyset("interaction", "occurred_at"))
    if wanted is not None:
        qs = qs.filter(kind__in=wanted)
    rows = list(qs.select_related("author").order_by("-occurred_at", "-id")[: query.limit + 1])
    for row in rows:
        row.account = query.account  # the page's account, not one query per row
    return [
        TimelineEntry(at=i.occurred_at, source="interaction", id=i.pk, kind=i.kind, obj=i)
        for i in rows
    ]


def _prepare_interactions(entries: list[TimelineEntry]) -> None:
    interactions_prepare([e.obj for e in entries])


def fetch_changes(query: TimelineQuery) -> list[TimelineEntry]:
    if query.wants([CHANGES]) == []:
        return []
    qs = (
        AuditEvent.objects.filter(scope=account_scope(query.account.pk))
        .exclude(action__in=HIDDEN_ACTIONS)
        .filter(query.keyset("change", "at"))
        .select_related("actor")
        .order_by("-at", "-id")[: query.limit + 1]
    )
    return [TimelineEntry(at=e.at, source="change", id=e.pk, kind=CHANGES, obj=e) for e in qs]


def serialize_interaction(entry: TimelineEntry) -> dict[str, Any]:
    return {"interaction": entry.obj}


def serialize_change(entry: TimelineEntry) -> dict[str, Any]:
    return {"change": entry.obj}


INTERACTIONS_SOURCE = TimelineSource(
    name="interaction",
    kinds=_interaction_kinds,
    fetch=fetch_interactions,
    template="activities/interactions/_entry_interaction.html",
    serialize=serialize_interaction,
    prepare=_prepare_interactions,
    order=10,
)
CHANGES_SOURCE = TimelineSource(
    name="change",
    kinds=lambda: [(CHANGES, gettext_lazy("History"))],
    fetch=fetch_changes,
    template="activities/interactions/_entry_change.html",
    serialize=serialize_change,
    order=90,
)


def register_default_sources() -> None:
    """Called from ``ActivitiesConfig.ready()``."""
    timeline_sources.register(INTERACTIONS_SOURCE)
    timeline_sources.register(CHANGES_SOURCE)
