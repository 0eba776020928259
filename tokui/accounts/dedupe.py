"""Finding accounts that are probably the same company written twice (duplicates).

The signals are equalities on keys the services keep: ``match_key`` (the name without legal
form, width, kana script and punctuation), ``reading_key``, a contact e-mail
(``Contact.email_key``) on two accounts, and ``phone`` or ``web_domain`` shared by two accounts
whose names are similar. The database groups each key (``GROUP BY key HAVING COUNT(*) > 1``,
an index-only scan for the indexed keys; ``phone`` has no index and costs one table scan) and
only the rows of those groups are read back, so the work grows with the number of duplicates,
not with the square of the accounts. ``bench/dedupe.py`` times it on 100,000 accounts.

A key shared by more than ``GROUP_LIMIT`` of the accounts a viewer sees says nothing about any
two of them (a group's switchboard, a common reading): such groups are left out. Keys held by
more than ``BOOK_LIMIT`` rows of the whole book are not read back at all.

Only accounts the viewer may see take part, and neither archived nor merged accounts do: a pair
is shown only to someone who sees both sides.
"""

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Count, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tokui.accounts.models import Account, Contact
from tokui.accounts.selectors import account_list
from tokui.core.pagination import PageSlice
from tokui.users.models import User

# A key shared by more accounts than this is noise, not a duplicate signal.
GROUP_LIMIT = 25
# Keys held by more rows than this in the whole book are not even read back (a free-mail
# domain, a group's switchboard): it bounds the work, and such keys never pass GROUP_LIMIT.
BOOK_LIMIT = 200


class Reason(StrEnum):
    SAME_NAME = "same_name"
    SAME_READING = "same_reading"
    SHARED_EMAIL = "shared_email"
    SIMILAR_NAME = "similar_name"
    SAME_PHONE = "same_phone"
    SAME_DOMAIN = "same_domain"


# What each reason adds to a pair's score (capped at 100).
REASON_WEIGHTS: dict[Reason, int] = {
    Reason.SAME_NAME: 50,
    Reason.SHARED_EMAIL: 35,
    Reason.SAME_READING: 25,
    Reason.SIMILAR_NAME: 20,
    Reason.SAME_PHONE: 20,
    Reason.SAME_DOMAIN: 20,
}
REASON_LABELS: dict[Reason, Promise] = {
    Reason.SAME_NAME: _("Same name (legal form and spelling aside)"),
    Reason.SAME_READING: _("Same kana reading"),
    Reason.SHARED_EMAIL: _("A contact e-mail address on both"),
    Reason.SIMILAR_NAME: _("Similar name"),
    Reason.SAME_PHONE: _("Same phone number"),
    Reason.SAME_DOMAIN: _("Same website domain"),
}
# Reasons that make a pair on their own; phone and domain only count with a similar name.
_SUFFICIENT = frozenset({Reason.SAME_NAME, Reason.SAME_READING, Reason.SHARED_EMAIL})
_CONTACT_REASONS = frozenset({Reason.SAME_PHONE, Reason.SAME_DOMAIN})
_REASON_ORDER = list(REASON_WEIGHTS)


@dataclass
class DuplicatePair:
    """Two accounts that may be one company; ``a`` is the older (lower id)."""

    a_id: int
    b_id: int
    reasons: list[Reason]
    score: int
    a: Account | None = field(default=None, repr=False)
    b: Account | None = field(default=None, repr=False)

    @property
    def reason_labels(self) -> list[str]:
        return [str(REASON_LABELS[r]) for r in self.reasons]

    def other(self, account_id: int) -> Account | None:
        return self.b if account_id == self.a_id else self.a


def _candidates(viewer: User) -> QuerySet[Account]:
    """Accounts that may take part: visible to the viewer, current and not merged."""
    return (
        Account.objects.visible_to(viewer)
        .filter(archived_at__isnull=True, merged_into__isnull=True)
        .order_by()
    )


def score_of(reasons: Iterable[Reason]) -> int:
    return min(100, sum(REASON_WEIGHTS[r] for r in set(reasons)))


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning ``limit + 1``) once it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def names_similar(a_key: str, a_reading: str, b_key: str, b_reading: str) -> bool:
    """Whether two names (as match keys and reading keys) look like one company's.

    One written in katakana where the other has kanji (the name of one is the reading of the
    other), one name inside the other (山田商事 / 山田商事東京支店), or a typo or two on a
    short name.
    """
    if not a_key or not b_key:
        return False
    if a_key == b_key:
        return True
    if (b_reading and a_key == b_reading) or (a_reading and b_key == a_reading):
        return True
    short, long = sorted((a_key, b_key), key=len)
    if len(short) >= (3 if short.isascii() else 2) and short in long:
        return True
    if len(long) <= 20:
        limit = 1 if len(long) <= 6 else 2
        return len(short) > limit and _edit_distance(a_key, b_key, limit) <= limit
    return False


class _PairCollector:
    def __init__(self) -> None:
        self.reasons: dict[tuple[int, int], set[Reason]] = defaultdict(set)

    def add_group(self, ids: Iterable[int], reason: Reason) -> None:
        for a, b in itertools.combinations(sorted(set(ids)), 2):
            self.reasons[(a, b)].add(reason)

    def load_missing_names(self, names: dict[int, tuple[str, str]]) -> None:
        """Name keys of the accounts found through contacts only (one query)."""
        missing = {pk for pair in self.reasons for pk in pair} - names.keys()
        for start in range(0, len(missing), 2000):
            chunk = sorted(missing)[start : start + 2000]
            for pk, match_key, reading_key in Account.objects.filter(pk__in=chunk).values_list(
                "id", "match_key", "reading_key"
            ):
                names[pk] = (match_key, reading_key)

    def pairs(self, names: dict[int, tuple[str, str]]) -> list[DuplicatePair]:
        """Score the pairs; a shared phone or domain alone is not enough, it needs a similar
        name (or another reason)."""
        found = []
        for (a, b), reasons in self.reasons.items():
            if Reason.SAME_NAME not in reasons:
                a_key, a_reading = names.get(a, ("", ""))
                b_key, b_reading = names.get(b, ("", ""))
                if names_similar(a_key, a_reading, b_key, b_reading):
                    reasons.add(Reason.SIMILAR_NAME)
            if not (reasons & _SUFFICIENT) and Reason.SIMILAR_NAME not in reasons:
                continue
            ordered = [r for r in _REASON_ORDER if r in reasons]
            found.append(DuplicatePair(a, b, ordered, score_of(ordered)))
        found.sort(key=lambda p: (-p.score, p.a_id, p.b_id))
        return found


_ACCOUNT_KEYS = (
    ("match_key", Reason.SAME_NAME),
    ("reading_key", Reason.SAME_READING),
    ("phone", Reason.SAME_PHONE),
    ("web_domain", Reason.SAME_DOMAIN),
)


def _shared_values(qs: QuerySet, key: str) -> QuerySet:
    """Values of ``key`` held by 2 to ``BOOK_LIMIT`` rows of the whole table: ``GROUP BY``.

    Grouped over the whole table, not over what a viewer sees, so the database reads the key's
    index alone (no row look-ups); visibility and ``GROUP_LIMIT`` apply to the rows read back.
    """
    return (
        qs.exclude(**{key: ""})
        .order_by()
        .values(key)
        .annotate(n=Count("*"))
        .filter(n__gt=1, n__lte=BOOK_LIMIT)
        .values(key)
    )


def _add_groups(collector: "_PairCollector", groups: dict[str, set[int]], reason: Reason) -> None:
    for ids in groups.values():
        if 1 < len(ids) <= GROUP_LIMIT:
            collector.add_group(ids, reason)


def duplicate_pairs(*, viewer: User, min_score: int = 0) -> list[DuplicatePair]:
    """Every likely duplicate pair among the accounts the viewer sees, best first.

    One grouped query per key (``match_key``, ``reading_key``, ``phone``, ``web_domain``), one
    through contacts for shared e-mails, one to keep the e-mails' accounts the viewer sees, and
    one for the name keys of accounts found through e-mail only. The accounts themselves are not
    loaded (see :func:`duplicate_page`).
    """
    # Archived (and so merged) accounts are filtered in SQL; ``merged_into`` is checked on the
    # rows read back, because an index on it would lead SQLite away from the key's index.
    visible = Account.objects.visible_to(viewer).filter(archived_at__isnull=True).order_by()
    collector = _PairCollector()
    names: dict[int, tuple[str, str]] = {}
    for key, reason in _ACCOUNT_KEYS:
        rows = visible.filter(**{f"{key}__in": _shared_values(Account.objects.all(), key)})
        groups: dict[str, set[int]] = defaultdict(set)
        for value, pk, match_key, reading_key, merged_into in rows.values_list(
            key, "id", "match_key", "reading_key", "merged_into_id"
        ).iterator(chunk_size=2000):
            if merged_into is None:
                groups[value].add(pk)
                names[pk] = (match_key, reading_key)
        _add_groups(collector, groups, reason)

    shared = (
        Contact.objects.filter(email_key__in=_shared_values(Contact.objects.all(), "email_key"))
        .order_by()
        .values_list("email_key", "account_id")
        .distinct()
    )
    by_email: dict[str, set[int]] = defaultdict(set)
    for email, account_id in shared.iterator(chunk_size=2000):
        by_email[email].add(account_id)
    allowed = _current_ids(viewer, {pk for ids in by_email.values() for pk in ids})
    _add_groups(
        collector,
        {email: ids & allowed for email, ids in by_email.items()},
        Reason.SHARED_EMAIL,
    )

    collector.load_missing_names(names)
    pairs = collector.pairs(names)
    return [p for p in pairs if p.score >= min_score] if min_score else pairs


def _current_ids(viewer: User, ids: set[int]) -> set[int]:
    """Those of ``ids`` that are accounts the viewer sees, neither archived nor merged."""
    found: set[int] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), 2000):
        found.update(
            _candidates(viewer)
            .filter(pk__in=ordered[start : start + 2000])
            .values_list("pk", flat=True)
        )
    return found


def _attach_accounts(pairs: list[DuplicatePair]) -> None:
    ids = {p.a_id for p in pairs} | {p.b_id for p in pairs}
    accounts = Account.objects.filter(pk__in=ids).select_related("owner").in_bulk()
    for pair in pairs:
        pair.a, pair.b = accounts.get(pair.a_id), accounts.get(pair.b_id)


def duplicate_page(
    *, viewer: User, page: int = 1, page_size: int = 50, min_score: int = 0
) -> PageSlice:
    """One page of :func:`duplicate_pairs`, with both accounts (and owners) loaded in one query."""
    pairs = duplicate_pairs(viewer=viewer, min_score=min_score)
    size = max(1, page_size)
    page = max(1, page)
    items = pairs[(page - 1) * size : page * size]
    _attach_accounts(items)
    return PageSlice(items=items, count=len(pairs), page=page, page_size=size)


def account_duplicates(*, viewer: User, account: Account) -> list[DuplicatePair]:
    """Likely duplicates of one account (which the viewer must see), best first.

    Equality lookups on the account's own keys: a handful of indexed queries, whatever the size
    of the book. Empty for an archived or merged account.
    """
    if account.archived_at is not None or account.merged_into_id is not None:
        return []
    candidates = _candidates(viewer)
    if not candidates.filter(pk=account.pk).exists():
        return []
    collector = _PairCollector()
    names: dict[int, tuple[str, str]] = {account.pk: (account.match_key, account.reading_key)}
    for key, reason in _ACCOUNT_KEYS:
        value = getattr(account, key)
        if not value:
            continue
        same = candidates.filter(**{key: value})
        if key == "phone":
            # ``phone`` has no index of its own; the search index holds its national digits.
            digits = "0" + value[3:] if value.startswith("+81") else value.lstrip("+")
            same = same.filter(pk__in=account_list(viewer=viewer, search=digits).values("pk"))
        rows = list(same.values_list("id", "match_key", "reading_key")[: GROUP_LIMIT + 1])
        if len(rows) > GROUP_LIMIT:
            continue  # as common as a free-mail domain: no signal
        for pk, match_key, reading_key in rows:
            names[pk] = (match_key, reading_key)
        collector.add_group([pk for pk, _m, _r in rows], reason)
    emails = list(
        Contact.objects.filter(account=account)
        .exclude(email_key="")
        .order_by()
        .values_list("email_key", flat=True)
        .distinct()
    )
    if emails:
        # By the indexed e-mail key first, then keep the accounts the viewer may see.
        shared = list(
            Contact.objects.filter(email_key__in=emails)
            .order_by()
            .values_list("email_key", "account_id")
            .distinct()[: (GROUP_LIMIT + 1) * len(emails)]
        )
        allowed = set(
            candidates.filter(pk__in={pk for _email, pk in shared}).values_list("pk", flat=True)
        )
        groups: dict[str, list[int]] = defaultdict(list)
        for email, account_id in shared:
            if account_id in allowed:
                groups[email].append(account_id)
        for ids in groups.values():
            if len(ids) <= GROUP_LIMIT:
                collector.add_group(ids, Reason.SHARED_EMAIL)
    collector.load_missing_names(names)
    pairs = [p for p in collector.pairs(names) if account.pk in (p.a_id, p.b_id)]
    _attach_accounts(pairs)
    return pairs


def pair_reasons(*, a: Account, b: Account) -> list[Reason]:
    """What two accounts (already checked to be visible) have in common, strongest first."""
    reasons = {reason for key, reason in _ACCOUNT_KEYS if getattr(a, key) == getattr(b, key) != ""}
    if Reason.SAME_NAME not in reasons and names_similar(
        a.match_key, a.reading_key, b.match_key, b.reading_key
    ):
        reasons.add(Reason.SIMILAR_NAME)
    shared_email = (
        Contact.objects.filter(account=a)
        .exclude(email_key="")
        .filter(email_key__in=Contact.objects.filter(account=b).values("email_key"))
        .exists()
    )
    if shared_email:
        reasons.add(Reason.SHARED_EMAIL)
    return [r for r in _REASON_ORDER if r in reasons]
