"""/api/v1/tasks: the same selectors and services as the task pages."""

import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tokui.accounts import selectors as account_selectors
from tokui.activities import task_selectors, task_services
from tokui.activities.constants import TaskPriority, TaskStatus
from tokui.activities.models import Task
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.schemas import Strict
from tokui.core.exceptions import ApplicationError
from tokui.core.pagination import MAX_PAGE, page_slice
from tokui.users.models import User
from tokui.users.selectors import user_get_by_username

router = Router(tags=["tasks"])


class TaskOut(Schema):
    id: int
    title: str
    notes: str
    status: TaskStatus
    priority: TaskPriority
    owner: str = Field(description="The owner's user name.")
    created_by: str | None
    account: int | None
    account_name: str | None
    contact: int | None
    due_at: datetime.datetime | None
    remind_at: datetime.datetime | None
    reminded_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    source: str
    version: int = Field(description="Send it back with a PATCH to refuse stale edits.")
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_owner(obj: Task) -> str:
        return obj.owner.username

    @staticmethod
    def resolve_created_by(obj: Task) -> str | None:
        return obj.created_by.username if obj.created_by else None

    @staticmethod
    def resolve_account(obj: Task) -> int | None:
        return obj.account_id

    @staticmethod
    def resolve_account_name(obj: Task) -> str | None:
        return obj.account.name if obj.account else None

    @staticmethod
    def resolve_contact(obj: Task) -> int | None:
        return obj.contact_id


class TaskPage(Schema):
    items: list[TaskOut]
    count: int


class TaskQuery(Schema):
    scope: Literal["mine", "team", "all"] = Field(
        "mine", description="mine; team (yours and your team's); all (everything you may see)."
    )
    status: Literal["open", "done", "cancelled", "any"] = "open"
    due: Literal["overdue", "today", "upcoming"] | None = Field(
        None, description="Open tasks only: overdue, due today, or later / undated."
    )
    owner: str | None = Field(None, max_length=150, description="Owner's user name.")
    account: int | None = Field(None, ge=1, le=2**62)
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=200)


class TaskFields(Strict):
    notes: str = Field("", max_length=20000)
    owner: str | None = Field(None, max_length=150, description="User name; defaults to you.")
    account: int | None = Field(None, ge=1, le=2**62, strict=True)
    contact: int | None = Field(None, ge=1, le=2**62, strict=True)
    due_at: datetime.datetime | None = None
    priority: TaskPriority = TaskPriority.NORMAL
    remind_at: datetime.datetime | None = Field(None, description="When to e-mail a reminder.")


class TaskCreate(TaskFields):
    title: str = Field(..., min_length=1, max_length=300)


class TaskPatch(Strict):
    title: str | None = Field(None, min_length=1, max_length=300)
    notes: str | None = Field(None, max_length=20000)
    owner: str | None = Field(None, max_length=150)
    contact: int | None = Field(None, ge=1, le=2**62, strict=True)
    due_at: datetime.datetime | None = None
    priority: TaskPriority | None = None
    remind_at: datetime.datetime | None = None
    version: int | None = Field(None, ge=1, le=2**31, strict=True)


def _resolve(viewer: User, data: dict[str, Any], current: Task | None) -> dict[str, Any]:
    """User names and ids to records; what the viewer may not see is "no such …" (422)."""
    if "owner" in data:
        name = data.pop("owner")
        if name:
            owner = user_get_by_username(username=name)
            if owner is None:
                raise ApplicationError(
                    _("There is no user named “%(u)s”.") % {"u": name}, field="owner", status=422
                )
            data["owner"] = owner
    if data.get("account") is not None:
        try:
            data["account"] = account_selectors.account_get(
                viewer=viewer, account_id=data["account"]
            )
        except ApplicationError as exc:
            raise ApplicationError(_("No such account."), field="account", status=422) from exc
    if "contact" in data and data["contact"] is not None:
        contact_id = data["contact"]
        try:
            data["contact"] = account_selectors.contact_get(viewer=viewer, contact_id=contact_id)
        except ApplicationError as exc:
            raise ApplicationError(_("No such contact."), field="contact", status=422) from exc
    return data


@router.get("/tasks", response={200: TaskPage, **ERRORS}, summary="List tasks")
def list_tasks(request: HttpRequest, filters: Query[TaskQuery]) -> dict[str, Any]:
    viewer = request_user(request)
    owner = None
    if filters.owner:
        owner = user_get_by_username(username=filters.owner)
        if owner is None:
            return {"items": [], "count": 0}
    due = filters.status if filters.status != "open" else (filters.due or "open")
    qs = task_selectors.task_list(
        viewer=viewer, scope=filters.scope, due=due, owner=owner, account_id=filters.account
    )
    page = page_slice(qs, page=filters.page, page_size=filters.page_size)
    return {"items": page.items, "count": page.count}


@router.post("/tasks", response={201: TaskOut, **ERRORS}, summary="Create a task")
def create_task(request: HttpRequest, payload: TaskCreate) -> Status:
    viewer = request_user(request)
    data = _resolve(viewer, payload.model_dump(), None)
    for key in ("account", "contact", "due_at", "remind_at"):
        if data.get(key) is None:
            data.pop(key, None)
    task = task_services.task_create(actor=viewer, data=data)
    return Status(201, task_selectors.task_get(viewer=viewer, task_id=task.pk))


@router.get("/tasks/{task_id}", response={200: TaskOut, **ERRORS}, summary="Get a task")
def get_task(request: HttpRequest, task_id: int) -> Any:
    return task_selectors.task_get(viewer=request_user(request), task_id=task_id)


@router.patch("/tasks/{task_id}", response={200: TaskOut, **ERRORS}, summary="Change a task")
def update_task(request: HttpRequest, task_id: int, payload: TaskPatch) -> Any:
    viewer = request_user(request)
    task = task_selectors.task_get(viewer=viewer, task_id=task_id)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    # null clears the dates and the contact; for the other fields it means "leave as is".
    data = {
        k: v for k, v in data.items() if v is not None or k in ("due_at", "remind_at", "contact")
    }
    data = _resolve(viewer, data, task)
    task_services.task_update(actor=viewer, task=task, data=data, version=version)
    return task_selectors.task_get(viewer=viewer, task_id=task.pk)


def _state(request: HttpRequest, task_id: int, change: Any) -> Task:
    viewer = request_user(request)
    task = task_selectors.task_get(viewer=viewer, task_id=task_id)
    change(actor=viewer, task=task)
    return task_selectors.task_get(viewer=viewer, task_id=task.pk)


@router.post(
    "/tasks/{task_id}/complete", response={200: TaskOut, **ERRORS}, summary="Complete a task"
)
def complete_task(request: HttpRequest, task_id: int) -> Any:
    return _state(request, task_id, task_services.task_complete)


@router.post("/tasks/{task_id}/reopen", response={200: TaskOut, **ERRORS}, summary="Reopen a task")
def reopen_task(request: HttpRequest, task_id: int) -> Any:
    return _state(request, task_id, task_services.task_reopen)


@router.post("/tasks/{task_id}/cancel", response={200: TaskOut, **ERRORS}, summary="Cancel a task")
def cancel_task(request: HttpRequest, task_id: int) -> Any:
    return _state(request, task_id, task_services.task_cancel)
