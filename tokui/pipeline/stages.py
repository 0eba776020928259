"""Stage and playbook settings: the work cycle an administrator shapes (ARCHITECTURE rule 6).

Administrators add, rename, reorder, retire and reactivate stages and edit each stage's
playbook; heads of sales read the settings. Invariants every write keeps:

- at least one active stage of each kind (open, won, lost) — deals need somewhere to go;
- open stages come before the won and lost stages (a forward move follows the order);
- a stage with deals in it is never retired while the deals are open, and never changes kind
  (a won deal must stay in a won stage);
- stages are never deleted (deals and their history point at them).

Structural writes lock every stage row, so two administrators reordering at once serialise.
Every write is audited under the scope ``pipeline:stages``.
"""

import re
import unicodedata
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.core.audit import audit_record, check_version, diff, snapshot
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.validation import ErrorCollector, check_plain_text
from tokui.pipeline.constants import Requirement, StageKind
from tokui.pipeline.models import Deal, PlaybookStep, Stage
from tokui.users.constants import Role
from tokui.users.models import User

STAGES_SCOPE = "pipeline:stages"
NAME_LIMIT = 100
STEP_LIMIT = 200
DESCRIPTION_LIMIT = 2000
STAGE_FIELDS = ("name", "name_ja", "description", "description_ja", "kind")
STEP_FIELDS = ("text", "text_ja", "requirement", "required")


def may_read_stages(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role in (Role.ADMIN, Role.HEAD)


def may_edit_stages(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.ADMIN


def _check_admin(actor: User) -> None:
    if not may_edit_stages(actor):
        raise PermissionDenied(_("Only an administrator changes the stages and their playbooks."))


def stage_settings_list(*, viewer: User) -> list[Stage]:
    """Every stage (retired ones too) in order, with its steps and its open-deal count."""
    if not may_read_stages(viewer):
        raise PermissionDenied(_("Only administrators and heads of sales see the stage settings."))
    stages = list(Stage.objects.prefetch_related("steps").order_by("position", "pk"))
    counts = _deal_counts()
    for stage in stages:
        stage.deal_count = counts.get(stage.pk, 0)  # type: ignore[attr-defined]
    return stages


def stage_list(*, viewer: User) -> list[Stage]:
    """Every stage in order with its steps: any signed-in user reads the work cycle."""
    return list(Stage.objects.prefetch_related("steps").order_by("position", "pk"))


def stage_get(*, viewer: User, stage_id: int) -> Stage:
    if not may_read_stages(viewer):
        raise PermissionDenied(_("Only administrators and heads of sales see the stage settings."))
    stage = Stage.objects.filter(pk=stage_id).first()
    if stage is None:
        raise NotFound(_("No such stage."))
    return stage


def step_get(*, viewer: User, step_id: int) -> PlaybookStep:
    if not may_read_stages(viewer):
        raise PermissionDenied(_("Only administrators and heads of sales see the stage settings."))
    step = PlaybookStep.objects.select_related("stage").filter(pk=step_id).first()
    if step is None:
        raise NotFound(_("No such playbook step."))
    return step


def _deal_counts() -> dict[int, int]:
    from django.db.models import Count

    rows = (
        Deal.objects.filter(archived_at=None).values("stage_id").annotate(n=Count("pk")).order_by()
    )
    return {row["stage_id"]: row["n"] for row in rows}


def _lock_all() -> list[Stage]:
    return list(Stage.objects.select_for_update().order_by("position", "pk"))


def _audit(actor: User, action: str, target: Any, changes: Any = None, note: str = "") -> None:
    audit_record(
        actor=actor, action=action, target=target, changes=changes, scope=STAGES_SCOPE, note=note
    )


def _renumber(stages: list[Stage]) -> None:
    """Positions 10, 20, 30 … in the given order, open stages first; saves only what moved."""
    ordered = [s for s in stages if s.kind == StageKind.OPEN] + [
        s for s in stages if s.kind != StageKind.OPEN
    ]
    now = timezone.now()
    for index, stage in enumerate(ordered, start=1):
        position = index * 10
        if stage.position != position:
            stage.position = position
            stage.updated_at = now
            stage.save(update_fields=["position", "updated_at"])


def _unique_key(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:30] or "stage"
    key, n = base, 2
    while Stage.objects.filter(key=key).exists():
        key = f"{base}_{n}"
        n += 1
    return key


def _clean_text(
    errors: ErrorCollector, field: str, value: Any, limit: int, *, required: str = ""
) -> str:
    text = str(value or "").strip()
    if not text and required:
        errors.add(field, required)
    elif len(text) > limit:
        errors.add(field, _("At most %(limit)d characters.") % {"limit": limit})
    else:
        check_plain_text(field, text, errors)
    return text


def _clean_stage(data: dict[str, Any]) -> dict[str, Any]:
    errors = ErrorCollector()
    unknown = set(data) - set(STAGE_FIELDS)
    if unknown:
        errors.add(
            "__all__", _("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    clean: dict[str, Any] = {}
    if "name" in data:
        clean["name"] = _clean_text(
            errors,
            "name",
            data["name"],
            NAME_LIMIT,
            required=_("Give the stage a name, such as 'Trial delivery'."),
        )
    if "name_ja" in data:
        clean["name_ja"] = _clean_text(errors, "name_ja", data["name_ja"], NAME_LIMIT)
    for field in ("description", "description_ja"):
        if field in data:
            description = str(data[field] or "").replace("\r\n", "\n").strip()
            if len(description) > DESCRIPTION_LIMIT:
                errors.add(field, _("At most %(limit)d characters.") % {"limit": DESCRIPTION_LIMIT})
            clean[field] = description
    if "kind" in data:
        if data["kind"] not in StageKind.values:
            errors.add("kind", _("Choose open, won or lost."))
        else:
            clean["kind"] = str(data["kind"])
    errors.raise_if_any()
    return clean


def _check_kinds_remain(stages: list[Stage]) -> None:
    """At least one active stage of every kind must remain (``stages`` as they would be)."""
    missing = [
        StageKind(kind).label
        for kind in StageKind.values
        if not any(s.active and s.kind == kind for s in stages)
    ]
    if missing:
        raise ApplicationError(
            _(
                "At least one open, one won and one lost stage must stay in use; this would "
                "leave none of kind: %(kinds)s."
            )
            % {"kinds": ", ".join(str(k) for k in missing)},
            status=409,
            code="conflict",
        )


@transaction.atomic
def stage_create(*, actor: User, data: dict[str, Any]) -> Stage:
    """Add a stage; an open stage goes after the last open stage, won and lost at the end."""
    _check_admin(actor)
    stages = _lock_all()
    data = {"kind": StageKind.OPEN, **data}
    clean = _clean_stage({"name": "", **data})
    stage = Stage(key=_unique_key(clean["name"]), position=0, **clean)
    # Placed at the end of its group; _renumber keeps open stages first.
    stage.position = (max((s.position for s in stages), default=0) or 0) + 10
    stage.save()
    ordered = [s for s in stages if s.kind == StageKind.OPEN]
    if stage.kind == StageKind.OPEN:
        ordered.append(stage)
    ordered += [s for s in stages if s.kind != StageKind.OPEN]
    if stage.kind != StageKind.OPEN:
        ordered.append(stage)
    _renumber(ordered)
    _audit(actor, "pipeline.stage.created", stage, diff({}, snapshot(stage, clean)), stage.name)
    return stage


@transaction.atomic
def stage_update(
    *, actor: User, stage: Stage | int, data: dict[str, Any], version: int | None = None
) -> Stage:
    """Rename a stage, describe it, or change its kind (only while no deal is in it)."""
    _check_admin(actor)
    stages = _lock_all()
    stage_id = stage if isinstance(stage, int) else stage.pk
    found = next((s for s in stages if s.pk == stage_id), None)
    if found is None:
        raise NotFound(_("No such stage."))
    check_version(record=found, version=version)
    clean = _clean_stage(data)
    if "kind" in clean and clean["kind"] != found.kind:
        in_use = Deal.objects.filter(stage=found).count()
        if in_use:
            raise ApplicationError(
                _(
                    "%(n)d deals are in “%(stage)s”: its kind cannot change while deals use it. "
                    "Add a new stage instead."
                )
                % {"n": in_use, "stage": found.label},
                field="kind",
            )
    before = snapshot(found, clean.keys())
    for key, value in clean.items():
        setattr(found, key, value)
    changes = diff(before, snapshot(found, clean.keys()))
    if not changes:
        return found
    if "kind" in changes:
        _check_kinds_remain(stages)
    found.version += 1
    found.updated_at = timezone.now()
    found.save(update_fields=[*clean.keys(), "version", "updated_at"])
    if "kind" in changes:
        _renumber(stages)
    _audit(actor, "pipeline.stage.updated", found, changes, found.name)
    return found


@transaction.atomic
def stage_move(*, actor: User, stage: Stage | int, up: bool) -> Stage:
    """Move a stage one place up or down among the stages of its group (open, or won/lost)."""
    _check_admin(actor)
    stages = _lock_all()
    stage_id = stage if isinstance(stage, int) else stage.pk
    found = next((s for s in stages if s.pk == stage_id), None)
    if found is None:
        raise NotFound(_("No such stage."))
    is_open = found.kind == StageKind.OPEN
    group = [s for s in stages if (s.kind == StageKind.OPEN) == is_open]
    index = group.index(found)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(group):
        raise ApplicationError(
            _("“%(stage)s” is already the first of its group.")
            if up
            else _("“%(stage)s” is already the last of its group."),
        )
    # Open stages always come before won and lost: the order follows the work cycle.
    group[index], group[other] = group[other], group[index]
    before = found.position
    rest = [s for s in stages if (s.kind == StageKind.OPEN) != is_open]
    _renumber(group + rest if is_open else rest + group)
    _audit(
        actor,
        "pipeline.stage.moved",
        found,
        {"position": [before, found.position]},
        found.name,
    )
    return found


@transaction.atomic
def stage_set_active(*, actor: User, stage: Stage | int, active: bool) -> Stage:
    """Retire a stage (it leaves the board and the forms) or bring it back.

    An open stage with deals in it is not retired: the refusal says how many and where to move
    them (the stage before it, or after it).
    """
    _check_admin(actor)
    stages = _lock_all()
    stage_id = stage if isinstance(stage, int) else stage.pk
    found = next((s for s in stages if s.pk == stage_id), None)
    if found is None:
        raise NotFound(_("No such stage."))
    if found.active == active:
        return found
    if not active:
        in_use = Deal.objects.filter(stage=found, archived_at=None).count()
        if in_use and found.kind == StageKind.OPEN:
            opens = [s for s in stages if s.active and s.kind == StageKind.OPEN]
            index = opens.index(found) if found in opens else 0
            neighbour = opens[index - 1] if index > 0 else (opens[1] if len(opens) > 1 else None)
            message = _(
                "%(n)d open deals are in “%(stage)s”. Move them to another stage first"
                " (for example “%(other)s”), then retire it."
            ) % {"n": in_use, "stage": found.label, "other": neighbour.label if neighbour else "—"}
            raise ApplicationError(message, status=409, code="conflict")
        found.active = False
        _check_kinds_remain(stages)
    else:
        found.active = True
    found.version += 1
    found.updated_at = timezone.now()
    found.save(update_fields=["active", "version", "updated_at"])
    _audit(
        actor,
        "pipeline.stage.reactivated" if active else "pipeline.stage.retired",
        found,
        {"active": [not active, active]},
        found.name,
    )
    return found


# -- playbook steps -----------------------------------------------------------------------------


def _clean_step(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    errors = ErrorCollector()
    unknown = set(data) - set(STEP_FIELDS)
    if unknown:
        errors.add(
            "__all__", _("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    clean: dict[str, Any] = {}
    if "text" in data or creating:
        clean["text"] = _clean_text(
            errors,
            "text",
            data.get("text"),
            STEP_LIMIT,
            required=_("Say what is to be done, such as 'Samples sent'."),
        )
    if "text_ja" in data:
        clean["text_ja"] = _clean_text(errors, "text_ja", data["text_ja"], STEP_LIMIT)
    if "requirement" in data:
        if data["requirement"] not in Requirement.values:
            errors.add("requirement", _("Choose how the step is checked."))
        else:
            clean["requirement"] = str(data["requirement"])
    if "required" in data:
        clean["required"] = bool(data["required"])
    errors.raise_if_any()
    return clean


@transaction.atomic
def step_add(*, actor: User, stage: Stage | int, data: dict[str, Any]) -> PlaybookStep:
    _check_admin(actor)
    stage_id = stage if isinstance(stage, int) else stage.pk
    found = Stage.objects.select_for_update().filter(pk=stage_id).first()
    if found is None:
        raise NotFound(_("No such stage."))
    clean = _clean_step(data, creating=True)
    last = found.steps.aggregate(m=Max("position"))["m"] or 0
    step = PlaybookStep.objects.create(stage=found, position=last + 10, **clean)
    _audit(actor, "pipeline.stage.step_added", found, {"step": ["", step.text]}, found.name)
    return step


@transaction.atomic
def step_update(*, actor: User, step: PlaybookStep | int, data: dict[str, Any]) -> PlaybookStep:
    _check_admin(actor)
    step_id = step if isinstance(step, int) else step.pk
    found = PlaybookStep.objects.select_for_update().filter(pk=step_id).first()
    if found is None:
        raise NotFound(_("No such playbook step."))
    clean = _clean_step(data, creating=False)
    before = snapshot(found, clean.keys())
    for key, value in clean.items():
        setattr(found, key, value)
    changes = diff(before, snapshot(found, clean.keys()))
    if changes:
        found.save(update_fields=list(clean.keys()))
        stage = found.stage
        _audit(actor, "pipeline.stage.step_changed", stage, changes, f"{stage.name}: {found.text}")
    return found


@transaction.atomic
def step_remove(*, actor: User, step: PlaybookStep | int) -> None:
    """Remove a step; deals lose its tick (the audit keeps that it was there)."""
    _check_admin(actor)
    step_id = step if isinstance(step, int) else step.pk
    found = PlaybookStep.objects.select_for_update().filter(pk=step_id).first()
    if found is None:
        raise NotFound(_("No such playbook step."))
    stage = found.stage
    text = found.text
    found.delete()
    _audit(actor, "pipeline.stage.step_removed", stage, {"step": [text, ""]}, stage.name)


@transaction.atomic
def step_move(*, actor: User, step: PlaybookStep | int, up: bool) -> PlaybookStep:
    _check_admin(actor)
    step_id = step if isinstance(step, int) else step.pk
    found = PlaybookStep.objects.filter(pk=step_id).first()
    if found is None:
        raise NotFound(_("No such playbook step."))
    steps = list(
        PlaybookStep.objects.select_for_update()
        .filter(stage_id=found.stage_id)
        .order_by("position", "pk")
    )
    index = next(i for i, s in enumerate(steps) if s.pk == found.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(steps):
        raise ApplicationError(
            _("This step is already the first.") if up else _("This step is already the last.")
        )
    steps[index], steps[other] = steps[other], steps[index]
    for number, item in enumerate(steps, start=1):
        if item.position != number * 10:
            item.position = number * 10
            item.save(update_fields=["position"])
    moved = steps[other]
    _audit(
        actor,
        "pipeline.stage.step_moved",
        moved.stage,
        {"position": [index + 1, other + 1]},
        f"{moved.stage.name}: {moved.text}",
    )
    return moved
