"""Segments (saved filters over accounts) and tags on accounts: their services and selectors.

A segment stores the same filters the account list takes, in one canonical shape (see
``segment_clean_filters``). Lists and exports apply a segment *on top of* what the viewer may
see, so a segment shared by a head of sales never widens anyone's view.
"""

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tokui.accounts.constants import AccountKind, AccountRank, AccountTier
from tokui.accounts.models import Account, Segment, Tag, account_scope
from tokui.core.audit import audit_record
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.validation import ErrorCollector
from tokui.users.constants import Role
from tokui.users.models import User
from tokui.users.selectors import user_get_by_username

# The 47 prefectures in their official (JIS X 0401) order: the "region" of a segment.
PREFECTURES = (
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
)

TAG_MAX_LENGTH = 50
TAGS_PER_ACCOUNT = 20
EMPLOYEES_LIMIT = 10_000_000

# The filters a segment may hold, with their labels (also the account list's query parameters).
SEGMENT_FILTER_LABELS = {
    "search": gettext_lazy("Search"),
    "kind": gettext_lazy("Kind"),
    "tier": gettext_lazy("Tier"),
    "owner": gettext_lazy("Owner"),
    "industry": gettext_lazy("Industry"),
    "prefecture": gettext_lazy("Prefecture"),
    "employees_min": gettext_lazy("Employees from"),
    "employees_max": gettext_lazy("Employees up to"),
    "rank": gettext_lazy("Rank"),
    "tag": gettext_lazy("Tag"),
}
SEGMENT_FILTER_KEYS = tuple(SEGMENT_FILTER_LABELS)
# Filters holding several values (a row matches any one of them), with how many they take.
_LIST_LIMITS = {"kind": 10, "tier": 10, "industry": 20, "prefecture": 47, "rank": 10, "tag": 20}
_TEXT_LIMITS = {"search": 200, "owner": 150, "industry": 100, "tag": TAG_MAX_LENGTH}
_CHOICES = {
    "kind": AccountKind.values,
    "tier": AccountTier.values,
    "rank": AccountRank.values,
    "prefecture": list(PREFECTURES),
}
_SEPARATORS = re.compile(r"[,、]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _require_editor(actor: User) -> None:
    if not actor.may_edit_accounts:
        raise PermissionDenied(_("Your role can read accounts but not change them."))


def _normalize_label(text: str) -> str:
    """NFKC with single spaces: ``展示会２０２６`` and ``展示会2026`` are one tag."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def split_names(text: str) -> list[str]:
    """``"展示会2026、海外展開, 新規開拓"`` → three names (half- and full-width commas, 、)."""
    parts = _SEPARATORS.split(unicodedata.normalize("NFKC", text or ""))
    return [name for name in map(_normalize_label, parts) if name]


# Tags -------------------------------------------------------------------------------------


def tag_clean_names(names: Iterable[Any], *, field: str = "tags") -> list[str]:
    """Validate tag names: normalised, without duplicates (ignoring case), at most 50
    characters each and 20 in all. Raises one ApplicationError naming every problem."""
    errors = ErrorCollector()
    clean: list[str] = []
    seen: set[str] = set()
    for raw in names:
        if not isinstance(raw, str):
            errors.add(field, _("A tag is a piece of text."))
            continue
        if _CONTROL.search(raw):
            errors.add(field, _("Tags cannot hold control characters."))
            continue
        name = _normalize_label(raw)
        if not name or name.casefold() in seen:
            continue
        if len(name) > TAG_MAX_LENGTH:
            errors.add(
                field,
                _("The tag “%(tag)s…” is too long: at most %(limit)d characters.")
                % {"tag": name[:20], "limit": TAG_MAX_LENGTH},
            )
            continue
        seen.add(name.casefold())
        clean.append(name)
    if len(clean) > TAGS_PER_ACCOUNT:
        errors.add(
            field,
            _("An account can have at most %(limit)d tags (these are %(n)d).")
            % {"limit": TAGS_PER_ACCOUNT, "n": len(clean)},
        )
    errors.raise_if_any()
    return clean


def account_tag_names(account: Account) -> list[str]:
    """The account's tag names in name order (those attached by account_tags_attach, if any)."""
    attached = getattr(account, "tag_names", None)
    if attached is not None:
        return list(attached)
    return sorted(t.name for t in account.tags.all())


def account_tags_attach(accounts: Iterable[Account]) -> None:
    """Set ``tag_names`` (sorted) on each account of a page, in one query.

    Plain (account, name) rows rather than ``prefetch_related("tags")``, which builds a
    related manager and a Tag object per row: on a page of fifty accounts that costs more
    than the query.
    """
    accounts = list(accounts)
    names: dict[int, list[str]] = {a.pk: [] for a in accounts}
    rows = (
        Account.tags.through.objects.filter(account_id__in=list(names))
        .order_by("tag__name")
        .values_list("account_id", "tag__name")
    )
    for account_id, name in rows:
        names[account_id].append(name)
    for account in accounts:
        account.tag_names = names[account.pk]  # type: ignore[attr-defined]


@transaction.atomic
def account_set_tags(*, actor: User, account: Account, names: list[str]) -> Account:
    """Replace the account's tags by ``names``, creating tags that do not exist yet.

    An existing tag is reused when only its case differs. An unchanged list writes nothing;
    a change bumps the account's version and records ``{"tags": [old, new]}`` in its history.
    """
    _require_editor(actor)
    clean = tag_clean_names(names)
    locked = Account.objects.visible_to(actor).select_for_update().filter(pk=account.pk).first()
    if locked is None:
        raise NotFound(_("No such account."))
    if locked.is_archived:
        raise ApplicationError(_("This account is archived: restore it before changing it."))
    before = account_tag_names(locked)
    tags = []
    for name in clean:
        tag = Tag.objects.filter(name__iexact=name).order_by("pk").first()
        if tag is None:
            tag, _created = Tag.objects.get_or_create(name=name)
        tags.append(tag)
    after = sorted(t.name for t in tags)
    if after == before:
        return locked
    locked.tags.set(tags)
    locked.version += 1
    locked.updated_at = timezone.now()
    locked.save(update_fields=["version", "updated_at"])
    audit_record(
        actor=actor,
        action="accounts.account.updated",
        target=locked,
        changes={"tags": [before, after]},
        scope=account_scope(locked.pk),
    )
    return locked


def tag_list(*, viewer: User) -> QuerySet[Tag]:
    """Tags on accounts the viewer may see (a tag used only elsewhere is not offered)."""
    used = Account.tags.through.objects.values("tag_id")
    if not viewer.sees_all_accounts:
        # Driven from the (small) tag links: listing every visible account would scan the book.
        scope = Q(account__owner_id=viewer.pk)
        if viewer.team_id:
            scope |= Q(account__owner__team_id=viewer.team_id)
        used = used.filter(scope)
    return Tag.objects.filter(pk__in=used).order_by("name")


# Segments ---------------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return split_names(value)
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def segment_clean_filters(filters: Any) -> dict[str, Any]:
    """Validate segment filters and return them in their stored shape.

    Text filters (``search``, ``owner``) are strings; ``employees_min``/``employees_max`` are
    whole numbers; the others are lists of strings (a comma-separated string is accepted).
    Empty filters are dropped; at least one must remain. Errors are reported per filter key.
    """
    if not isinstance(filters, dict):
        raise ApplicationError(_("Filters must be an object."), field="filters", status=422)
    unknown = sorted(str(k) for k in set(filters) - set(SEGMENT_FILTER_KEYS))
    if unknown:
        raise ApplicationError(
            _("Unknown filters: %(f)s. Use: %(allowed)s.")
            % {"f": ", ".join(unknown), "allowed": ", ".join(SEGMENT_FILTER_KEYS)},
            field="filters",
            status=422,
        )
    errors = ErrorCollector()
    clean: dict[str, Any] = {}
    for key in SEGMENT_FILTER_KEYS:
        value = filters.get(key)
        if value is None or value == "" or value == []:
            continue
        if key in ("search", "owner"):
            if not isinstance(value, str):
                errors.add(key, _("Enter text."))
                continue
            text = value.strip()
            if _CONTROL.search(text):
                errors.add(key, _("Control characters are not allowed."))
            elif len(text) > _TEXT_LIMITS[key]:
                errors.add(key, _("At most %(limit)d characters.") % {"limit": _TEXT_LIMITS[key]})
            elif key == "owner" and text and user_get_by_username(username=text) is None:
                errors.add(key, _("There is no user named “%(u)s”.") % {"u": text[:40]})
            elif text:
                clean[key] = text
        elif key in ("employees_min", "employees_max"):
            if isinstance(value, str) and value.strip().isdecimal():
                value = int(value.strip())
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= EMPLOYEES_LIMIT
            ):
                errors.add(key, _("Enter a number of employees between 0 and 10,000,000."))
            else:
                clean[key] = value
        else:
            values: list[str] = []
            for item in _as_list(value):
                if not isinstance(item, str):
                    errors.add(key, _("Enter text."))
                    break
                item = _normalize_label(item)
                if not item:
                    continue
                if _CONTROL.search(item):
                    errors.add(key, _("Control characters are not allowed."))
                    break
                limit = _TEXT_LIMITS.get(key)
                if limit and len(item) > limit:
                    errors.add(key, _("At most %(limit)d characters.") % {"limit": limit})
                    break
                if key in _CHOICES and item not in _CHOICES[key]:
                    errors.add(
                        key,
                        _("“%(value)s” is not one of the choices.") % {"value": item[:40]},
                    )
                    break
                if item not in values:
                    values.append(item)
            if len(values) > _LIST_LIMITS[key]:
                errors.add(key, _("At most %(limit)d values.") % {"limit": _LIST_LIMITS[key]})
            elif values:
                clean[key] = values
    low, high = clean.get("employees_min"), clean.get("employees_max")
    if low is not None and high is not None and low > high:
        errors.add("employees_max", _("The upper bound is below the lower bound."))
    errors.raise_if_any()
    if not clean:
        raise ApplicationError(
            _("Choose at least one filter for the segment."), field="filters", status=422
        )
    return clean


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ApplicationError(_("Enter a name for the segment."), field="name", status=422)
    name = _normalize_label(name)
    if _CONTROL.search(name):
        raise ApplicationError(_("Control characters are not allowed."), field="name", status=422)
    if len(name) > 100:
        raise ApplicationError(
            _("A segment name has at most 100 characters."), field="name", status=422
        )
    return name


def _check_name_free(*, owner: User, name: str, exclude: int | None = None) -> None:
    taken = Segment.objects.filter(owner=owner, name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ApplicationError(
            _("You already have a segment named “%(name)s”.") % {"name": name},
            field="name",
            status=422,
        )


def _usable(viewer: User) -> Q:
    return Q(owner_id=viewer.pk) | Q(shared=True)


def segment_list(*, viewer: User) -> QuerySet[Segment]:
    """The viewer's own segments and those others shared, by name."""
    if not isinstance(viewer, User) or not viewer.is_active:
        return Segment.objects.none()
    return Segment.objects.filter(_usable(viewer)).select_related("owner").order_by("name", "id")


def segment_get(*, viewer: User, segment_id: int) -> Segment:
    """A segment the viewer may use (their own or a shared one); anything else is a 404."""
    segment = segment_list(viewer=viewer).filter(pk=segment_id).first()
    if segment is None:
        raise NotFound(_("No such segment."))
    return segment


def segment_may_change(*, viewer: User, segment: Segment) -> bool:
    """The owner changes a segment; an administrator may also tidy up shared ones."""
    return viewer.may_edit_accounts and (
        segment.owner_id == viewer.pk or (segment.shared and viewer.role == Role.ADMIN)
    )


def _collect(errors: ErrorCollector, func: Any, *args: Any) -> Any:
    """Run a cleaner; its per-field errors join the others (all are reported at once)."""
    try:
        return func(*args)
    except ApplicationError as exc:
        for field, messages in (exc.errors or {"request": [exc.message]}).items():
            for message in messages:
                errors.add(field, message)
        return None


def _locked_changeable(*, actor: User, segment: Segment) -> Segment:
    _require_editor(actor)
    locked = Segment.objects.filter(_usable(actor)).select_for_update().filter(pk=segment.pk)
    found = locked.first()
    if found is None:
        raise NotFound(_("No such segment."))
    if not segment_may_change(viewer=actor, segment=found):
        raise PermissionDenied(_("Only the segment's owner can change it."))
    return found


@transaction.atomic
def segment_create(
    *, actor: User, name: str, filters: dict[str, Any], shared: bool = False
) -> Segment:
    """Save filters as a segment of the actor's. Names are unique per owner."""
    _require_editor(actor)
    errors = ErrorCollector()
    clean_name = _collect(errors, _clean_name, name)
    clean_filters = _collect(errors, segment_clean_filters, filters)
    if not isinstance(shared, bool):
        errors.add("shared", _("Answer yes or no."))
    errors.raise_if_any()
    # Serialise this owner's segment writes so two tabs cannot save the same name twice.
    User.objects.select_for_update().filter(pk=actor.pk).first()
    _check_name_free(owner=actor, name=clean_name)
    segment = Segment.objects.create(
        name=clean_name, owner=actor, shared=shared, filters=clean_filters
    )
    audit_record(
        actor=actor,
        action="accounts.segment.created",
        target=segment,
        changes={
            "name": [None, clean_name],
            "shared": [None, shared],
            "filters": [None, clean_filters],
        },
    )
    return segment


@transaction.atomic
def segment_update(*, actor: User, segment: Segment, data: dict[str, Any]) -> Segment:
    """Change a segment's ``name``, ``shared`` flag or ``filters`` (replaced as a whole)."""
    unknown = set(data) - {"name", "shared", "filters"}
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    segment = _locked_changeable(actor=actor, segment=segment)
    errors = ErrorCollector()
    clean: dict[str, Any] = {}
    if "name" in data:
        clean["name"] = _collect(errors, _clean_name, data["name"])
    if "filters" in data:
        clean["filters"] = _collect(errors, segment_clean_filters, data["filters"])
    if "shared" in data:
        if isinstance(data["shared"], bool):
            clean["shared"] = data["shared"]
        else:
            errors.add("shared", _("Answer yes or no."))
    errors.raise_if_any()
    if "name" in clean:
        _check_name_free(owner=segment.owner, name=clean["name"], exclude=segment.pk)
    changes = {
        key: [getattr(segment, key), value]
        for key, value in clean.items()
        if getattr(segment, key) != value
    }
    if not changes:
        return segment
    for key, (_old, new) in changes.items():
        setattr(segment, key, new)
    segment.updated_at = timezone.now()
    segment.save(update_fields=[*changes, "updated_at"])
    audit_record(actor=actor, action="accounts.segment.updated", target=segment, changes=changes)
    return segment


@transaction.atomic
def segment_delete(*, actor: User, segment: Segment) -> None:
    """Delete a segment. Its audit events keep its name and filters."""
    segment = _locked_changeable(actor=actor, segment=segment)
    audit_record(
        actor=actor,
        action="accounts.segment.deleted",
        target=segment,
        changes={
            "name": [segment.name, None],
            "shared": [segment.shared, None],
            "filters": [segment.filters, None],
        },
    )
    segment.delete()


def segment_filter_summary(filters: dict[str, Any]) -> list[tuple[str, str]]:
    """The filters as (label, values) pairs for people, in a fixed order."""
    labels = {
        "kind": dict(AccountKind.choices),
        "tier": dict(AccountTier.choices),
    }
    rows = []
    for key in SEGMENT_FILTER_KEYS:
        if key not in filters:
            continue
        value = filters[key]
        values = value if isinstance(value, list) else [value]
        shown = [str(labels.get(key, {}).get(v, v)) for v in values]
        rows.append((str(SEGMENT_FILTER_LABELS[key]), ", ".join(shown)))
    return rows
