"""Merging two accounts that are one company, and undoing a merge within 30 days.

A merge keeps the *survivor* and retires the *merged* account:

- the survivor takes, field by field, the value chosen from either side (validated exactly as
  an edit of the survivor would be);
- every record registered in :data:`tokui.core.registry.account_relations` (contacts,
  screening checks, and whatever later apps register) moves from the merged account to the
  survivor, and the merged account's tags are added to the survivor's;
- the merged account is archived with ``merged_into`` pointing at the survivor; it keeps its
  own history, and its page (old links included) says where it went;
- the merged account's subsidiaries move under the survivor; if the survivor sat under the
  merged account (or under one of those subsidiaries) its parent is cleared, so no loop is left
  (recorded under ``_parent`` in ``survivor_before``, and put back by an undo);
- a :class:`MergeRecord` keeps the survivor's values before the merge and the ids of the moved
  records, which is what :func:`account_merge_undo` needs; one audit event
  (``accounts.account.merged``) goes into each account's history.

``MergeRecord.survivor_before`` holds the survivor's stored values of the fields the merge
changed (``owner`` as the user id) and, under ``_merged_corporate_number``, the merged account's
法人番号 when it moved to the survivor (the number is unique, so the merged account gives it up).
``MergeRecord.moved`` maps a relation (see ``Relation.key``) to the moved ids, plus
``accounts.account_tags`` for the tags the survivor gained.
"""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.constants import ACCOUNT_EDITABLE_FIELDS
from tokui.accounts.groups import group_ancestor_ids
from tokui.accounts.models import Account, MergeRecord, account_scope
from tokui.accounts.services import (
    ACCOUNT_DERIVED_FIELDS,
    account_clean_data,
    account_derive_fields,
)
from tokui.core.audit import audit_record, diff, snapshot
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.core.registry import Relation, account_relations
from tokui.users.models import User

MERGE_UNDO_DAYS = 30
MERGE_FIELDS = ACCOUNT_EDITABLE_FIELDS
SURVIVOR, MERGED = "survivor", "merged"
MERGED_ACTION = "accounts.account.merged"
UNDONE_ACTION = "accounts.account.merge_undone"
TAGS_KEY = "accounts.account_tags"
_MERGED_NUMBER_KEY = "_merged_corporate_number"
_PARENT_KEY = "_parent"  # the survivor's parent company, cleared because it closed a loop
_CHUNK = 500


def _require_editor(actor: User) -> None:
    if not actor.may_edit_accounts:
        raise PermissionDenied(_("Your role can read accounts but not change them."))


def _raw(account: Account, name: str) -> Any:
    """A field's stored value, JSON-safe (the owner as its id)."""
    return account.owner_id if name == "owner" else getattr(account, name)


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


def merge_differing_fields(*, survivor: Account, merged: Account) -> list[str]:
    """The editable fields whose values differ between the two accounts, in form order."""
    return [f for f in MERGE_FIELDS if _raw(survivor, f) != _raw(merged, f)]


def merge_default_choices(*, survivor: Account, merged: Account) -> dict[str, str]:
    """The survivor's value for every field, except where it is empty and the other's is not."""
    return {
        name: MERGED
        if _is_empty(_raw(survivor, name)) and not _is_empty(_raw(merged, name))
        else SURVIVOR
        for name in MERGE_FIELDS
    }


def _resolve_choices(
    *, survivor: Account, merged: Account, choices: Mapping[str, str] | None
) -> dict[str, str]:
    given = dict(choices or {})
    errors: dict[str, list[str]] = {}
    for name, side in given.items():
        if name not in MERGE_FIELDS:
            errors.setdefault(name, []).append(_("This field cannot be chosen in a merge."))
        elif side not in (SURVIVOR, MERGED):
            errors.setdefault(name, []).append(_("Choose “survivor” or “merged”."))
    if errors:
        raise ApplicationError(
            _("Some merge choices are not valid: %(f)s.") % {"f": ", ".join(sorted(errors))},
            errors=errors,
            status=422,
        )
    return merge_default_choices(survivor=survivor, merged=merged) | given


def _lock_accounts(*, actor: User, ids: list[int]) -> dict[int, Account]:
    """Lock the accounts in id order (so two merges over the same accounts cannot deadlock).

    Only accounts the actor may see are locked; the caller turns a missing one into a 404.
    """
    locked = (
        Account.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
    )
    return {account.pk: account for account in locked}


def _check_mergeable(account: Account, *, role: str) -> None:
    if account.merged_into_id is not None:
        raise ApplicationError(
            _("“%(name)s” has already been merged into another account.") % {"name": account},
            field=role,
            status=409,
            code="conflict",
        )
    if account.is_archived:
        raise ApplicationError(
            _("“%(name)s” is archived: restore it before merging.") % {"name": account},
            field=role,
            status=409,
            code="conflict",
        )


def _check_version(account: Account, version: int | None) -> None:
    if version is not None and version != account.version:
        raise Conflict(
            _(
                "“%(name)s” was changed while you were comparing. Nothing was merged: reload "
                "the comparison and choose again."
            )
            % {"name": account}
        )


def _closes_group_loop(survivor: Account) -> bool:
    """Whether the survivor's parent chain, as stored now, comes back to the survivor."""
    parent_id = Account.objects.filter(pk=survivor.pk).values_list("parent_id", flat=True).first()
    survivor.parent_id = parent_id
    if parent_id is None:
        return False
    return parent_id == survivor.pk or survivor.pk in group_ancestor_ids(
        survivor.pk, parent_id=parent_id
    )


def _json_id(pk: Any) -> Any:
    return pk if isinstance(pk, int) else str(pk)


def _move(relation: Relation, ids: list[Any], *, to_id: int, from_id: int) -> None:
    manager = relation.model._base_manager
    for start in range(0, len(ids), _CHUNK):
        manager.filter(pk__in=ids[start : start + _CHUNK], **{relation.fk_field: from_id}).update(
            **{relation.fk_field: to_id}
        )


@transaction.atomic
def account_merge(
    *,
    actor: User,
    survivor: Account,
    merged: Account,
    choices: Mapping[str, str] | None = None,
    survivor_version: int | None = None,
    merged_version: int | None = None,
) -> MergeRecord:
    """Merge ``merged`` into ``survivor``; see the module docstring for everything it does.

    ``choices`` maps an editable field to ``"survivor"`` or ``"merged"``; fields left out take
    the default of :func:`merge_default_choices`. The versions, when given, are what the person
    compared: a change since then refuses the merge. Either all of it happens or none of it.
    """
    _require_editor(actor)
    if survivor.pk == merged.pk:
        raise ApplicationError(_("An account cannot be merged into itself."), status=422)
    locked = _lock_accounts(actor=actor, ids=[survivor.pk, merged.pk])
    if survivor.pk not in locked or merged.pk not in locked:
        raise NotFound(_("No such account."))
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    _check_mergeable(merged, role="merged")
    _check_mergeable(survivor, role="survivor")
    _check_version(survivor, survivor_version)
    _check_version(merged, merged_version)
    chosen = _resolve_choices(survivor=survivor, merged=merged, choices=choices)
    # Records that cannot simply move (e.g. overlapping agreements) refuse before anything does.
    account_relations.check_merge(survivor=survivor, merged=merged)

    now = timezone.now()
    taken = {
        name: merged.owner if name == "owner" else getattr(merged, name)
        for name, side in chosen.items()
        if side == MERGED and _raw(merged, name) != _raw(survivor, name)
    }
    # A change of 法人番号 or entity type re-checks the invoice number that goes with it.
    if {"corporate_number", "entity_type"} & taken.keys():
        invoice_side = merged if chosen["invoice_registration_number"] == MERGED else survivor
        taken.setdefault("invoice_registration_number", invoice_side.invoice_registration_number)
    survivor_before: dict[str, Any] = {name: _raw(survivor, name) for name in taken}
    merged_changes: dict[str, list[Any]] = {}
    if taken.get("corporate_number") and merged.corporate_number:
        # The number is unique: the merged account gives it up before the survivor takes it.
        survivor_before[_MERGED_NUMBER_KEY] = merged.corporate_number
        merged_changes["corporate_number"] = [merged.corporate_number, None]
        merged.corporate_number = None
        merged.save(update_fields=["corporate_number"])
    clean = account_clean_data(actor=actor, data=taken, current=survivor) if taken else {}
    before = snapshot(survivor, clean.keys())
    for name, value in clean.items():
        setattr(survivor, name, value)
    changes = diff(before, snapshot(survivor, clean.keys()))
    survivor_before = {
        k: v for k, v in survivor_before.items() if k in changes or k == _MERGED_NUMBER_KEY
    }

    parent_before = survivor.parent_id  # a move below may point it at the survivor itself
    moved: dict[str, list[Any]] = {}
    try:
        with transaction.atomic():
            for relation in account_relations.relations():
                ids = [
                    _json_id(pk)
                    for pk in relation.model._base_manager.filter(
                        **{relation.fk_field: merged.pk}
                    ).values_list("pk", flat=True)
                ]
                _move(relation, ids, to_id=survivor.pk, from_id=merged.pk)
                moved[relation.key] = ids
            survivor_tags = set(survivor.tags.values_list("pk", flat=True))
            added_tags = sorted(set(merged.tags.values_list("pk", flat=True)) - survivor_tags)
            survivor.tags.add(*added_tags)
            moved[TAGS_KEY] = added_tags
    except IntegrityError as exc:
        raise ApplicationError(
            _("The merged account's records could not be moved to the survivor (%(e)s).")
            % {"e": exc},
            status=409,
            code="conflict",
        ) from exc

    # The merged account's subsidiaries moved to the survivor (``accounts.account.parent``).
    # When the survivor sat under the merged account, or under one of those subsidiaries, that
    # closed a loop: the survivor leaves its parent (recorded, and restored by an undo).
    parent_fields: list[str] = []
    if _closes_group_loop(survivor):
        old_parent = parent_before or 0
        survivor_before[_PARENT_KEY] = old_parent
        changes["parent"] = [
            Account.objects.filter(pk=old_parent).values_list("name", flat=True).first(),
            None,
        ]
        survivor.parent_id = None
        parent_fields = ["parent"]
    account_derive_fields(survivor)
    survivor.version += 1
    survivor.updated_at = now
    survivor.save(
        update_fields=[
            *clean.keys(),
            *parent_fields,
            *ACCOUNT_DERIVED_FIELDS,
            "version",
            "updated_at",
        ]
    )
    merged.merged_into = survivor
    merged.archived_at = now
    merged.version += 1
    merged.updated_at = now
    merged.save(update_fields=["merged_into", "archived_at", "version", "updated_at"])

    # Notes are stored, so they stay language-neutral; pages show the merge from its record.
    note = f"#{merged.pk} {merged.name} → #{survivor.pk} {survivor.name}"
    counts = ", ".join(f"{key} {len(ids)}" for key, ids in moved.items() if ids)
    if counts:
        note += f" (moved: {counts})"
    event = audit_record(
        actor=actor,
        action=MERGED_ACTION,
        target=survivor,
        changes=changes,
        scope=account_scope(survivor.pk),
        note=note,
    )
    merged_event = audit_record(
        actor=actor,
        action=MERGED_ACTION,
        target=merged,
        changes={
            **merged_changes,
            "merged_into": [None, survivor.name],
            "archived": [False, True],
        },
        scope=account_scope(merged.pk),
        note=note,
    )
    # The record and both events share one timestamp: that is how a history entry finds its
    # merge (see merge_record_for_event).
    AuditEvent.objects.filter(pk=merged_event.pk).update(at=event.at)
    return MergeRecord.objects.create(
        survivor=survivor,
        merged=merged,
        actor=actor,
        at=event.at,
        survivor_before=survivor_before,
        moved=moved,
    )


def merge_undo_blocker(record: MergeRecord, *, now: Any = None) -> str:
    """Why this merge can no longer be undone, or ``""`` when it can."""
    now = now or timezone.now()
    if record.undone_at is not None:
        return _("This merge was already undone on %(when)s.") % {
            "when": timezone.localtime(record.undone_at).strftime("%Y-%m-%d %H:%M")
        }
    if now - record.at > timedelta(days=MERGE_UNDO_DAYS):
        return _("A merge can be undone for %(days)d days only; this one was on %(when)s.") % {
            "days": MERGE_UNDO_DAYS,
            "when": timezone.localtime(record.at).strftime("%Y-%m-%d"),
        }
    ids = [record.survivor_id, record.merged_id]
    later = (
        MergeRecord.objects.filter(Q(survivor_id__in=ids) | Q(merged_id__in=ids))
        .filter(pk__gt=record.pk, undone_at__isnull=True)
        .select_related("survivor", "merged")
        .order_by("pk")
        .first()
    )
    if later is not None:
        return _(
            "A later merge involves these accounts (“%(merged)s” into “%(survivor)s”, %(when)s): "
            "undo that one first."
        ) % {
            "merged": later.merged.name,
            "survivor": later.survivor.name,
            "when": timezone.localtime(later.at).strftime("%Y-%m-%d %H:%M"),
        }
    return ""


def merge_undo_deadline(record: MergeRecord) -> Any:
    return record.at + timedelta(days=MERGE_UNDO_DAYS)


@transaction.atomic
def account_merge_undo(*, actor: User, merge_record: MergeRecord) -> MergeRecord:
    """Undo a merge: the survivor's earlier values back, moved records back, the merged account
    current again. Refused after 30 days, when already undone, or when a later merge involved
    either account (that one must be undone first)."""
    _require_editor(actor)
    record = MergeRecord.objects.filter(pk=merge_record.pk).first()
    if record is None:
        raise NotFound(_("No such merge."))
    locked = _lock_accounts(actor=actor, ids=[record.survivor_id, record.merged_id])
    if record.survivor_id not in locked or record.merged_id not in locked:
        raise NotFound(_("No such merge."))
    record = MergeRecord.objects.select_for_update().get(pk=record.pk)
    survivor, merged = locked[record.survivor_id], locked[record.merged_id]
    blocker = merge_undo_blocker(record)
    if blocker:
        raise ApplicationError(blocker, status=409, code="conflict")

    before_values = {k: v for k, v in record.survivor_before.items() if k in MERGE_FIELDS}
    merged_number = record.survivor_before.get(_MERGED_NUMBER_KEY)
    wanted = [before_values.get("corporate_number"), merged_number]
    clash = (
        Account.objects.filter(corporate_number__in=[n for n in wanted if n])
        .exclude(pk__in=[survivor.pk, merged.pk])
        .first()
    )
    if clash is not None:
        raise ApplicationError(
            _(
                "Corporate number %(n)s now belongs to “%(name)s”: change that account first, "
                "then undo the merge."
            )
            % {"n": clash.corporate_number, "name": clash.name},
            field="corporate_number",
            status=409,
            code="conflict",
        )

    now = timezone.now()
    fields = list(before_values)
    shown_before = snapshot(survivor, fields)
    for name, value in before_values.items():
        setattr(survivor, "owner_id" if name == "owner" else name, value)
    if "owner" in before_values:
        survivor.owner = User.objects.get(pk=before_values["owner"])
    changes = diff(shown_before, snapshot(survivor, fields))
    account_derive_fields(survivor)
    survivor.version += 1
    survivor.updated_at = now
    survivor.save(update_fields=[*fields, *ACCOUNT_DERIVED_FIELDS, "version", "updated_at"])

    relations = {r.key: r for r in account_relations.relations()}
    for key, ids in record.moved.items():
        if key == TAGS_KEY:
            survivor.tags.remove(*ids)
        elif key in relations:
            _move(relations[key], list(ids), to_id=merged.pk, from_id=survivor.pk)
    _restore_parent(survivor, record.survivor_before.get(_PARENT_KEY), changes)

    merged_changes: dict[str, list[Any]] = {
        "merged_into": [survivor.name, None],
        "archived": [True, False],
    }
    update_fields = ["merged_into", "archived_at", "version", "updated_at"]
    if merged_number:
        merged.corporate_number = merged_number
        merged_changes["corporate_number"] = [None, merged_number]
        update_fields.append("corporate_number")
    merged.merged_into = None
    merged.archived_at = None
    merged.version += 1
    merged.updated_at = now
    merged.save(update_fields=update_fields)
    record.undone_at = now
    record.save(update_fields=["undone_at"])

    note = f"#{merged.pk} {merged.name} → #{survivor.pk} {survivor.name} (undone)"
    audit_record(
        actor=actor,
        action=UNDONE_ACTION,
        target=survivor,
        changes=changes,
        scope=account_scope(survivor.pk),
        note=note,
    )
    audit_record(
        actor=actor,
        action=UNDONE_ACTION,
        target=merged,
        changes=merged_changes,
        scope=account_scope(merged.pk),
        note=note,
    )
    return record


def _restore_parent(survivor: Account, parent_id: Any, changes: dict[str, list[Any]]) -> None:
    """Put back the parent company a merge cleared, unless it is gone or would make a loop."""
    if not isinstance(parent_id, int) or survivor.parent_id is not None:
        return
    parent = Account.objects.filter(pk=parent_id).first()
    if parent is None or survivor.pk in [parent.pk, *group_ancestor_ids(parent.pk)]:
        return
    survivor.parent = parent
    survivor.save(update_fields=["parent"])
    changes["parent"] = [None, parent.name]


# Reads ------------------------------------------------------------------------------------


def merge_preview_moves(*, merged: Account) -> list[tuple[str, int]]:
    """What a merge would move from ``merged``: (records' plural name, how many), non-zero only."""
    found = []
    for relation in account_relations.relations():
        count = relation.model._base_manager.filter(**{relation.fk_field: merged.pk}).count()
        if count:
            found.append((str(relation.model._meta.verbose_name_plural), count))
    tags = merged.tags.count()
    if tags:
        found.append((_("tags"), tags))
    return found


def merge_moved_counts(record: MergeRecord) -> list[tuple[str, int]]:
    """What a merge moved: (records' plural name, how many), non-zero only."""
    relations = {r.key: r for r in account_relations.relations()}
    found = []
    for key, ids in record.moved.items():
        if not ids:
            continue
        if key == TAGS_KEY:
            found.append((_("tags"), len(ids)))
        elif key in relations:
            found.append((str(relations[key].model._meta.verbose_name_plural), len(ids)))
    return found


def merge_event(record: MergeRecord) -> AuditEvent | None:
    """The survivor's history entry of a merge (its field changes)."""
    return AuditEvent.objects.filter(
        action=MERGED_ACTION,
        target_type="accounts.account",
        target_id=str(record.survivor_id),
        at=record.at,
    ).first()


def merge_record_get(*, viewer: User, merge_id: int) -> MergeRecord:
    """A merge the viewer may see: both its accounts must be visible to them."""
    record = MergeRecord.objects.select_related("survivor", "merged", "actor").filter(pk=merge_id)
    found = record.first()
    if found is None:
        raise NotFound(_("No such merge."))
    visible = Account.objects.visible_to(viewer).filter(pk__in=[found.survivor_id, found.merged_id])
    if visible.count() != (1 if found.survivor_id == found.merged_id else 2):
        raise NotFound(_("No such merge."))
    return found


def merge_record_for_event(*, viewer: User, event_id: int) -> MergeRecord:
    """The merge a history entry (``accounts.account.merged`` event) stands for."""
    event = AuditEvent.objects.filter(
        pk=event_id, action=MERGED_ACTION, target_type="accounts.account"
    ).first()
    if event is None or not event.target_id.isdigit():
        raise NotFound(_("No such merge."))
    target = int(event.target_id)
    record = (
        MergeRecord.objects.filter(Q(survivor_id=target) | Q(merged_id=target), at=event.at)
        .values_list("pk", flat=True)
        .first()
    )
    if record is None:
        raise NotFound(_("No such merge."))
    return merge_record_get(viewer=viewer, merge_id=record)
