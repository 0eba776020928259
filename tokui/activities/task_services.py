"""Writes of tasks: create, change, complete, reopen, cancel.

Anyone who signs in may keep tasks for themself (the service department included). Giving a
task to someone else is for heads of sales and administrators (anyone active) and, within
their own team, for everyone else. A task may hang off an account the actor may see (and one of
its contacts). Its owner, its creator and whoever may edit its account may change it.
Each write records an audit event, under the account's scope when there is one.
"""

import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, Contact, account_scope
from tokui.activities.constants import TaskPriority, TaskStatus
from tokui.activities.models import Task
from tokui.activities.task_selectors import HEAD_ROLES, task_visibility
from tokui.core.audit import audit_record, check_version
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.validation import ErrorCollector, check_plain_text, check_text_fields
from tokui.users.models import User

TASK_FIELDS = (
    "title",
    "notes",
    "owner",
    "account",
    "contact",
    "due_at",
    "priority",
    "remind_at",
)
_YEARS = (2000, 2100)
MAX_NOTES = 20_000


def task_assignable_owners(*, actor: User) -> QuerySet[User]:
    """Users ``actor`` may give a task to (see the module docstring)."""
    qs = User.objects.filter(is_active=True).select_related("team").order_by("username")
    if actor.role in HEAD_ROLES:
        return qs
    if actor.team_id:
        return qs.filter(team_id=actor.team_id) | qs.filter(pk=actor.pk)
    return qs.filter(pk=actor.pk)


def task_may_change(*, actor: User, task: Task) -> bool:
    if not actor.is_active:
        return False
    if actor.pk in (task.owner_id, task.created_by_id) or actor.role in HEAD_ROLES:
        return True
    if task.account_id is None or not actor.may_edit_accounts:
        return False
    return Account.objects.visible_to(actor).filter(pk=task.account_id).exists()


def _scope(task: Task) -> str:
    return account_scope(task.account_id) if task.account_id else ""


def _shown(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if value is None or isinstance(value, str | int):
        return value
    return str(value)


def _clean_when(value: Any, field: str, errors: ErrorCollector) -> datetime.datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, datetime.datetime):
        errors.add(field, _("Enter a valid date and time."))
        return None
    if not (_YEARS[0] <= value.year <= _YEARS[1]):
        errors.add(
            field, _("Enter a date between %(a)d and %(b)d.") % {"a": _YEARS[0], "b": _YEARS[1]}
        )
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _clean(*, actor: User, data: dict[str, Any], current: Task | None) -> dict[str, Any]:
    unknown = set(data) - set(TASK_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    errors = ErrorCollector()
    text = {k: v for k, v in data.items() if isinstance(v, str)}
    check_text_fields(Task, {k: v for k, v in text.items() if k != "notes"}, errors)
    errors.raise_if_any()
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    if "title" in clean and not clean["title"]:
        errors.add("title", _("Say what is to be done, e.g. “Send the revised quote”."))
    if "notes" in clean:
        notes = clean["notes"] or ""
        if len(notes) > MAX_NOTES or "\x00" in notes:
            errors.add("notes", _("Keep the notes under 20,000 characters of plain text."))
        check_plain_text("notes", notes, errors)
    if "priority" in clean and clean["priority"] not in TaskPriority.values:
        errors.add("priority", _("Choose one of: %(v)s.") % {"v": ", ".join(TaskPriority.values)})
    for field in ("due_at", "remind_at"):
        if field in clean:
            clean[field] = _clean_when(clean[field], field, errors)
    due = clean.get("due_at", current.due_at if current else None)
    remind = clean.get("remind_at", current.remind_at if current else None)
    if "remind_at" in clean and remind is not None and due is not None and remind > due:
        errors.add("remind_at", _("Remind before the task is due, not after."))
    if "owner" in clean:
        owner = clean["owner"]
        if not isinstance(owner, User):
            errors.add("owner", _("Choose an owner."))
        elif not task_assignable_owners(actor=actor).filter(pk=owner.pk).exists():
            errors.add(
                "owner",
                _("You cannot give a task to %(user)s: choose yourself or someone in your team.")
                % {"user": owner.username},
            )
    account = clean.get("account", current.account if current else None)
    if (
        "account" in clean
        and account is not None
        and not (
            isinstance(account, Account)
            and Account.objects.visible_to(actor).filter(pk=account.pk).exists()
        )
    ):
        errors.add("account", _("No such account."))
        account = None
    if "contact" in clean or "account" in clean:
        contact = clean.get("contact", current.contact if current else None)
        if contact is not None and (
            not isinstance(contact, Contact)
            or not isinstance(account, Account)
            or contact.account_id != account.pk
        ):
            errors.add("contact", _("Choose a person of the task's account."))
    errors.raise_if_any()
    return clean


@transaction.atomic
def task_create(
    *,
    actor: User,
    data: dict[str, Any],
    source: str = "",
) -> Task:
    """Create a task; the owner defaults to the actor."""
    if not actor.is_active:
        raise PermissionDenied(_("Your account is inactive."))
    clean = _clean(actor=actor, data={"title": "", **data}, current=None)
    clean.setdefault("owner", actor)
    now = timezone.now()
    task = Task(created_by=actor, source=source[:30], created_at=now, updated_at=now, **clean)
    task.save()
    audit_record(
        actor=actor,
        action="activities.task.created",
        target=task,
        scope=_scope(task),
        changes={
            "owner": [None, str(task.owner)],
            "due_at": [None, _shown(task.due_at)],
        },
    )
    return task


def _locked(actor: User, task: Task) -> Task:
    if not Task.objects.filter(task_visibility(actor), pk=task.pk).exists():
        raise NotFound(_("No such task."))
    locked = (
        Task.objects.select_for_update(of=("self",))
        .select_related("owner", "account")
        .get(pk=task.pk)
    )
    if not task_may_change(actor=actor, task=locked):
        raise PermissionDenied(_("Only the task's owner, its creator or a manager may change it."))
    return locked


@transaction.atomic
def task_update(
    *, actor: User, task: Task, data: dict[str, Any], version: int | None = None
) -> Task:
    """Change a task. A new reminder time arms the reminder again."""
    task = _locked(actor, task)
    check_version(record=task, version=version)
    clean = _clean(actor=actor, data=data, current=task)
    changes: dict[str, list[Any]] = {}
    for name, value in clean.items():
        old = getattr(task, name)
        if old != value:
            changes[name] = [_shown(old), _shown(value)]
            setattr(task, name, value)
    if not changes:
        return task
    fields = list(changes)
    if "remind_at" in changes:
        task.reminded_at = None
        fields.append("reminded_at")
    task.version += 1
    task.updated_at = timezone.now()
    task.save(update_fields=[*fields, "version", "updated_at"])
    audit_record(
        actor=actor,
        action="activities.task.updated",
        target=task,
        scope=_scope(task),
        changes=changes,
    )
    return task


def _set_status(
    *, actor: User, task: Task, status: str, allowed_from: tuple[str, ...], action: str
) -> Task:
    task = _locked(actor, task)
    if task.status == status:
        return task  # completing twice (a double click) is harmless
    if task.status not in allowed_from:
        raise ApplicationError(
            _("This task is %(status)s.") % {"status": task.get_status_display().lower()},
            status=409,
            code="conflict",
        )
    before = task.status
    task.status = status
    task.completed_at = timezone.now() if status == TaskStatus.DONE else None
    task.version += 1
    task.updated_at = timezone.now()
    task.save(update_fields=["status", "completed_at", "version", "updated_at"])
    audit_record(
        actor=actor,
        action=action,
        target=task,
        scope=_scope(task),
        changes={"status": [before, status]},
    )
    return task


@transaction.atomic
def task_complete(*, actor: User, task: Task) -> Task:
    return _set_status(
        actor=actor,
        task=task,
        status=TaskStatus.DONE,
        allowed_from=(TaskStatus.OPEN,),
        action="activities.task.completed",
    )


@transaction.atomic
def task_reopen(*, actor: User, task: Task) -> Task:
    return _set_status(
        actor=actor,
        task=task,
        status=TaskStatus.OPEN,
        allowed_from=(TaskStatus.DONE, TaskStatus.CANCELLED),
        action="activities.task.reopened",
    )


@transaction.atomic
def task_cancel(*, actor: User, task: Task) -> Task:
    return _set_status(
        actor=actor,
        task=task,
        status=TaskStatus.CANCELLED,
        allowed_from=(TaskStatus.OPEN,),
        action="activities.task.cancelled",
    )
