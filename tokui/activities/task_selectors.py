"""Reads of tasks. Every read starts from what the viewer may see.

A viewer sees their own tasks (owned or created by them), the tasks of accounts they may see,
and, without an account, the tasks of their team; heads of sales and administrators see all.
"""

import datetime

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.models import Account
from tokui.activities.constants import TaskStatus
from tokui.activities.models import Task
from tokui.core.exceptions import NotFound
from tokui.users.constants import Role
from tokui.users.models import User

# The lists a person picks between on the tasks page and in the API.
TASK_SCOPES = ("mine", "team", "all")
TASK_FILTERS = ("open", "overdue", "today", "upcoming", "done", "cancelled", "any")
HEAD_ROLES = frozenset({Role.HEAD, Role.ADMIN})


def task_visibility(viewer: User) -> Q:
    if not isinstance(viewer, User) or not viewer.is_active:
        return Q(pk__in=[])
    if viewer.role in HEAD_ROLES:
        return Q()
    scope = Q(owner_id=viewer.pk) | Q(created_by_id=viewer.pk)
    scope |= Q(account_id__in=Account.objects.visible_to(viewer).values("pk"))
    if viewer.team_id:
        scope |= Q(account__isnull=True, owner__team_id=viewer.team_id)
    return scope


def day_bounds(day: datetime.date | None = None) -> tuple[datetime.datetime, datetime.datetime]:
    """Start and end of a local calendar day (today by default) as aware datetimes."""
    day = day or timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    )


def task_list(
    *,
    viewer: User,
    scope: str = "mine",
    due: str = "open",
    owner: User | None = None,
    account_id: int | None = None,
) -> QuerySet[Task]:
    """Tasks for a list: ``scope`` mine / team / all (all only means more for heads), ``due``
    one of TASK_FILTERS. Open lists are ordered by due time (no due date last), done lists by
    completion, newest first."""
    qs = Task.objects.filter(task_visibility(viewer)).select_related(
        "owner", "account", "contact", "created_by"
    )
    if owner is not None:
        qs = qs.filter(owner_id=owner.pk)
    elif scope == "mine" or scope not in TASK_SCOPES:
        qs = qs.filter(owner_id=viewer.pk)
    elif scope == "team":
        if viewer.team_id:
            qs = qs.filter(Q(owner_id=viewer.pk) | Q(owner__team_id=viewer.team_id))
        else:
            qs = qs.filter(owner_id=viewer.pk)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    now = timezone.now()
    start, end = day_bounds()
    if due == "done":
        return qs.filter(status=TaskStatus.DONE).order_by("-completed_at", "-id")
    if due == "cancelled":
        return qs.filter(status=TaskStatus.CANCELLED).order_by("-updated_at", "-id")
    if due == "any":
        return qs.order_by("status", F("due_at").asc(nulls_last=True), "id")
    qs = qs.filter(status=TaskStatus.OPEN)
    if due == "overdue":
        qs = qs.filter(due_at__lt=now)
    elif due == "today":
        qs = qs.filter(due_at__gte=start, due_at__lt=end)
    elif due == "upcoming":
        qs = qs.filter(Q(due_at__gte=end) | Q(due_at__isnull=True))
    # Tasks without a due date after the dated ones, on every database.
    return qs.order_by(F("due_at").asc(nulls_last=True), "id")


def task_get(*, viewer: User, task_id: int) -> Task:
    task = (
        Task.objects.filter(task_visibility(viewer))
        .select_related("owner", "account", "contact", "created_by")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise NotFound(_("No such task."))
    return task


def task_due_reminders(*, viewer: User) -> list[Task]:
    """The in-app "due" list: the viewer's open tasks whose reminder time has come."""
    return list(
        Task.objects.filter(
            owner_id=viewer.pk, status=TaskStatus.OPEN, remind_at__lte=timezone.now()
        )
        .select_related("account")
        .order_by("remind_at", "id")[:20]
    )


def task_open_for_account(*, viewer: User, account: Account, limit: int = 20) -> list[Task]:
    return list(task_list(viewer=viewer, scope="all", due="open", account_id=account.pk)[:limit])
