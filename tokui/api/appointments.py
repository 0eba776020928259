"""/api/v1/appointments: the same selectors and services as the calendar pages."""

import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tokui.accounts import selectors as account_selectors
from tokui.activities import appointments as appts
from tokui.activities.constants import AppointmentKind, AppointmentStatus, MeetingMode
from tokui.activities.models import Appointment
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS, error_body
from tokui.api.schemas import ErrorDetail, Strict
from tokui.core.exceptions import ApplicationError
from tokui.core.pagination import MAX_PAGE, page_slice
from tokui.users.models import User
from tokui.users.selectors import user_get_by_username

router = Router(tags=["appointments"])

ContactId = Annotated[int, Field(ge=1, le=2**62, strict=True)]
UserName = Annotated[str, Field(min_length=1, max_length=150)]


class AppointmentOut(Schema):
    id: int
    uid: str = Field(description="The iCalendar UID: never changes, even when rescheduled.")
    sequence: int = Field(description="The iCalendar SEQUENCE: grows with every change.")
    kind: AppointmentKind
    status: AppointmentStatus
    account: int
    account_name: str
    title: str
    agenda: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    mode: str = Field(description='"on_site", "online", "our_office" or "".')
    place: str
    meeting_url: str
    phone_number: str = Field(description="E.164, e.g. +81312345678.")
    organizer: str = Field(description="The organizer's user name.")
    participants: list[str] = Field(description="Our participants' user names.")
    contacts: list[int] = Field(description="Their participants' contact ids.")
    cancel_reason: str
    cancelled_at: datetime.datetime | None
    version: int = Field(description="Send it back with a PATCH to refuse stale edits.")
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_account(obj: Appointment) -> int:
        return obj.account_id

    @staticmethod
    def resolve_account_name(obj: Appointment) -> str:
        return obj.account.name

    @staticmethod
    def resolve_organizer(obj: Appointment) -> str:
        return obj.organizer.username

    @staticmethod
    def resolve_participants(obj: Appointment) -> list[str]:
        return [u.username for u in obj.participants.all()]

    @staticmethod
    def resolve_contacts(obj: Appointment) -> list[int]:
        return [c.pk for c in obj.contacts.all()]


class AppointmentPage(Schema):
    items: list[AppointmentOut]
    count: int


class ConflictOut(Schema):
    user: str = Field(description="Whose calendar the overlap is on (user name).")
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    appointment: int | None = Field(description="Its id, or null when you may not see it.")
    title: str = Field(description="Its title, or empty when you may not see it.")


class ConflictErrorOut(Schema):
    error: ErrorDetail
    conflicts: list[ConflictOut] = Field(
        default_factory=list,
        description="Overlapping appointments (empty for a stale edit). Send "
        "allow_conflicts=true to book anyway.",
    )


class AppointmentQuery(Schema):
    starts_from: datetime.datetime | None = Field(
        None, alias="from", description="Appointments ending after this time."
    )
    starts_to: datetime.datetime | None = Field(
        None, alias="to", description="Appointments starting before this time."
    )
    user: str | None = Field(None, max_length=150, description="Organizer or participant.")
    account: int | None = Field(None, ge=1, le=2**62)
    status: AppointmentStatus | None = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=200)


class AppointmentFields(Strict):
    kind: AppointmentKind = AppointmentKind.MEETING
    agenda: str = Field("", max_length=20000)
    mode: MeetingMode | None = None
    place: str = Field("", max_length=300)
    meeting_url: str = Field("", max_length=500)
    phone_number: str = Field("", max_length=30)
    contacts: list[ContactId] = Field(
        default_factory=list, max_length=50, description="Contact ids of the account."
    )
    participants: list[UserName] = Field(
        default_factory=list, max_length=50, description="Our participants' user names."
    )
    allow_conflicts: bool = Field(
        False, strict=True, description="Book even when the time overlaps other appointments."
    )


class AppointmentCreate(AppointmentFields):
    account: int = Field(..., ge=1, le=2**62, strict=True)
    title: str = Field(..., min_length=1, max_length=200)
    starts_at: datetime.datetime = Field(description="With a UTC offset; else server local time.")
    ends_at: datetime.datetime


class AppointmentPatch(Strict):
    kind: AppointmentKind | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    agenda: str | None = Field(None, max_length=20000)
    starts_at: datetime.datetime | None = None
    ends_at: datetime.datetime | None = None
    mode: MeetingMode | None = None
    place: str | None = Field(None, max_length=300)
    meeting_url: str | None = Field(None, max_length=500)
    phone_number: str | None = Field(None, max_length=30)
    contacts: list[ContactId] | None = Field(None, max_length=50)
    participants: list[UserName] | None = Field(None, max_length=50)
    allow_conflicts: bool = Field(False, strict=True)
    reason: str = Field(
        "", max_length=2000, description="Why it changes; required when the time changes."
    )
    version: int | None = Field(
        None, ge=1, le=2**31, strict=True, description="The version you loaded."
    )


class CancelIn(Strict):
    reason: str = Field(..., min_length=1, max_length=2000)
    version: int | None = Field(None, ge=1, le=2**31, strict=True)


class HeldIn(Strict):
    record_interaction: bool = Field(
        False, strict=True, description="Also log the call or meeting on the timeline."
    )
    notes: str = Field("", max_length=20000)
    version: int | None = Field(None, ge=1, le=2**31, strict=True)


def _users(names: list[str]) -> list[User]:
    users = []
    for name in names:
        user = user_get_by_username(username=name)
        if user is None:
            raise ApplicationError(
                _("There is no user named “%(u)s”.") % {"u": name[:150]},
                field="participants",
                status=422,
            )
        users.append(user)
    return users


def _data(payload: dict[str, Any]) -> dict[str, Any]:
    data = dict(payload)
    if "participants" in data:
        data["participants"] = _users(data["participants"] or [])
    if "mode" in data:
        data["mode"] = data["mode"] or ""
    return data


def query_time(value: datetime.datetime | None, field: str) -> datetime.datetime | None:
    """A time from a query string, made aware (server local time when it has no offset)."""
    if value is None:
        return None
    if not 2000 <= value.year <= 2100:
        raise ApplicationError(_("Enter a date between 2000 and 2100."), field=field, status=422)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _conflict_response(viewer: User, exc: appts.AppointmentConflict) -> Status:
    return Status(
        409,
        {
            **error_body(exc.code, exc.message),
            "conflicts": [
                {
                    "user": c.user.username,
                    "starts_at": c.appointment.starts_at,
                    "ends_at": c.appointment.ends_at,
                    "appointment": c.appointment.pk if c.visible else None,
                    "title": c.appointment.title if c.visible else "",
                }
                for c in exc.conflicts
            ],
        },
    )


_WRITE = {**ERRORS, 409: ConflictErrorOut}


@router.get("/appointments", response={200: AppointmentPage, **ERRORS}, summary="List appointments")
def list_appointments(request: HttpRequest, filters: Query[AppointmentQuery]) -> dict[str, Any]:
    viewer = request_user(request)
    users = None
    if filters.user:
        user = user_get_by_username(username=filters.user)
        users = [user] if user is not None else []
    qs = appts.appointment_list(
        viewer=viewer,
        starts_from=query_time(filters.starts_from, "from"),
        starts_to=query_time(filters.starts_to, "to"),
        users=users,
        account_id=filters.account,
        status=filters.status,
    )
    page = page_slice(qs, page=filters.page, page_size=filters.page_size)
    return {"items": page.items, "count": page.count}


@router.post("/appointments", response={201: AppointmentOut, **_WRITE}, summary="Book")
def create_appointment(request: HttpRequest, payload: AppointmentCreate) -> Status:
    viewer = request_user(request)
    data = payload.model_dump()
    account_id = data.pop("account")
    allow = data.pop("allow_conflicts")
    try:
        account = account_selectors.account_get(viewer=viewer, account_id=account_id)
    except ApplicationError as exc:
        raise ApplicationError(
            _("No such account: %(id)s.") % {"id": account_id}, field="account", status=422
        ) from exc
    try:
        appointment = appts.appointment_book(
            actor=viewer, account=account, data=_data(data), allow_conflicts=allow
        )
    except appts.AppointmentConflict as exc:
        return _conflict_response(viewer, exc)
    return Status(201, appts.appointment_get(viewer=viewer, appointment_id=appointment.pk))


@router.get(
    "/appointments/{appointment_id}",
    response={200: AppointmentOut, **ERRORS},
    summary="Get an appointment",
)
def get_appointment(request: HttpRequest, appointment_id: int) -> Any:
    return appts.appointment_get(viewer=request_user(request), appointment_id=appointment_id)


@router.patch(
    "/appointments/{appointment_id}",
    response={200: AppointmentOut, **_WRITE},
    summary="Change or reschedule an appointment",
)
def update_appointment(request: HttpRequest, appointment_id: int, payload: AppointmentPatch) -> Any:
    viewer = request_user(request)
    appointment = appts.appointment_get(viewer=viewer, appointment_id=appointment_id)
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    allow = data.pop("allow_conflicts", False)
    reason = data.pop("reason", "")
    # null means "leave as is", except where empty is a value (mode, text fields).
    data = {k: v for k, v in data.items() if v is not None or k == "mode"}
    try:
        appts.appointment_update(
            actor=viewer,
            appointment=appointment,
            data=_data(data),
            version=version,
            allow_conflicts=allow,
            reason=reason,
        )
    except appts.AppointmentConflict as exc:
        return _conflict_response(viewer, exc)
    return appts.appointment_get(viewer=viewer, appointment_id=appointment.pk)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **ERRORS},
    summary="Cancel an appointment (with a reason)",
)
def cancel_appointment(request: HttpRequest, appointment_id: int, payload: CancelIn) -> Any:
    viewer = request_user(request)
    appointment = appts.appointment_get(viewer=viewer, appointment_id=appointment_id)
    appts.appointment_cancel(
        actor=viewer, appointment=appointment, reason=payload.reason, version=payload.version
    )
    return appts.appointment_get(viewer=viewer, appointment_id=appointment.pk)


@router.post(
    "/appointments/{appointment_id}/held",
    response={200: AppointmentOut, **ERRORS},
    summary="Mark an appointment held",
)
def hold_appointment(request: HttpRequest, appointment_id: int, payload: HeldIn) -> Any:
    viewer = request_user(request)
    appointment = appts.appointment_get(viewer=viewer, appointment_id=appointment_id)
    appts.appointment_mark_held(
        actor=viewer,
        appointment=appointment,
        record_interaction=payload.record_interaction,
        notes=payload.notes,
        version=payload.version,
    )
    return appts.appointment_get(viewer=viewer, appointment_id=appointment.pk)
