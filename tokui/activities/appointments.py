"""Appointments: booking, rescheduling, cancelling and holding them (services), and reading them
with the viewer's rights applied (selectors), conflicts included.

Who sees an appointment: whoever may see its account, and its organizer and participants (a
colleague from another team invited to a meeting must see it on their calendar). Who may change
it: users whose role may edit accounts (``may_edit_accounts``) and who see it; the support role
reads only.

Every write records an audit event scoped to the account (``account:<id>``), so the account's
history shows a booking, a reschedule (old → new time) and a cancellation (with its reason).
"""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, Contact, account_scope
from tokui.activities.constants import (
    AppointmentKind,
    AppointmentStatus,
    Direction,
    InteractionKind,
    InteractionSource,
    MeetingMode,
)
from tokui.activities.models import Appointment, Interaction
from tokui.activities.services import interaction_record
from tokui.core.audit import audit_record, check_version
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.japanese import normalize_phone
from tokui.core.models import AuditEvent
from tokui.core.validation import ErrorCollector, check_plain_text, check_text_fields
from tokui.users.constants import ROLES_SEEING_ALL
from tokui.users.models import Team, User

# The fields a form or the API may set; the rest (status, uid, sequence, …) only services set.
APPOINTMENT_FIELDS = (
    "kind",
    "title",
    "agenda",
    "starts_at",
    "ends_at",
    "mode",
    "place",
    "meeting_url",
    "phone_number",
    "contacts",
    "participants",
)
# Changing one of these changes what a subscribed calendar shows: SEQUENCE grows.
_CALENDAR_FIELDS = frozenset(APPOINTMENT_FIELDS) - {"contacts", "participants"}
MAX_DURATION = datetime.timedelta(hours=24)
# A meeting booked as it starts (typed at 10:03 for 10:00) is not "in the past".
PAST_GRACE = datetime.timedelta(minutes=15)
# Times outside these years are typing mistakes (and would overflow time-zone arithmetic).
_YEARS = (2000, 2100)
MAX_CANCEL_REASON = 2000


class AppointmentConflict(Conflict):
    """The slot overlaps other appointments of the organizer or a participant."""

    code = "appointment_conflict"

    def __init__(self, message: Any, *, conflicts: list["ConflictItem"]) -> None:
        super().__init__(message)
        self.conflicts = conflicts


@dataclass(frozen=True)
class ConflictItem:
    """One of ``user``'s other scheduled appointments overlapping the slot.

    ``visible`` is False when the viewer may not see that appointment: then only "busy" and the
    time are shown, never its title or account.
    """

    user: User
    appointment: Appointment
    visible: bool


# --------------------------------------------------------------------------------------------
# Reads


def appointment_visibility(viewer: User) -> Q:
    """The rule as a filter on appointments (see the module docstring)."""
    if not isinstance(viewer, User) or not viewer.is_active:
        return Q(pk__in=[])
    if viewer.role in ROLES_SEEING_ALL:
        return Q()
    scope = Q(account__owner_id=viewer.pk) | Q(organizer_id=viewer.pk)
    if viewer.team_id:
        scope |= Q(account__owner__team_id=viewer.team_id)
    invited = Appointment.participants.through.objects.filter(user_id=viewer.pk).values(
        "appointment_id"
    )
    return scope | Q(pk__in=invited)


def _base(viewer: User) -> QuerySet[Appointment]:
    return Appointment.objects.filter(appointment_visibility(viewer)).select_related(
        "account", "organizer"
    )


def appointment_get(*, viewer: User, appointment_id: int) -> Appointment:
    appointment = (
        _base(viewer).prefetch_related("contacts", "participants").filter(pk=appointment_id).first()
    )
    if appointment is None:
        raise NotFound(_("No such appointment."))
    return appointment


def _users_filter(users: Iterable[User] | None) -> Q:
    if users is None:
        return Q()
    ids = [u.pk for u in users]
    invited = Appointment.participants.through.objects.filter(user_id__in=ids).values(
        "appointment_id"
    )
    return Q(organizer_id__in=ids) | Q(pk__in=invited)


def appointment_list(
    *,
    viewer: User,
    starts_from: datetime.datetime | None = None,
    starts_to: datetime.datetime | None = None,
    users: Iterable[User] | None = None,
    account_id: int | None = None,
    contact_id: int | None = None,
    status: str | Sequence[str] | None = None,
) -> QuerySet[Appointment]:
    """Appointments the viewer may see, oldest first.

    ``users`` keeps those organized by or joined by any of them (a person's or a team's
    calendar); ``starts_from``/``starts_to`` bound the overlap with a period (an appointment
    running into the period counts).
    """
    qs = _base(viewer).filter(_users_filter(users))
    if starts_from is not None:
        qs = qs.filter(ends_at__gt=starts_from)
    if starts_to is not None:
        qs = qs.filter(starts_at__lt=starts_to)
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    if contact_id is not None:
        qs = qs.filter(contacts__id=contact_id)
    if status:
        qs = qs.filter(status__in=[status] if isinstance(status, str) else list(status))
    return qs.prefetch_related("contacts", "participants").order_by("starts_at", "id")


def appointment_upcoming(
    *, viewer: User, account: Account | None = None, contact: Contact | None = None, limit: int = 5
) -> list[Appointment]:
    """The next scheduled appointments of an account or a contact (for their pages)."""
    qs = appointment_list(
        viewer=viewer,
        starts_from=timezone.now(),
        account_id=account.pk if account else None,
        contact_id=contact.pk if contact else None,
        status=AppointmentStatus.SCHEDULED,
    )
    return list(qs[:limit])


def appointment_conflicts(
    *,
    viewer: User,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    users: Iterable[User],
    exclude_id: int | None = None,
) -> list[ConflictItem]:
    """Other scheduled appointments of ``users`` overlapping [starts_at, ends_at), per user.

    Back-to-back appointments (one ends at 10:00, the next starts at 10:00) do not conflict.
    """
    people = {u.pk: u for u in users if u is not None}
    if not people or ends_at <= starts_at:
        return []
    qs = (
        Appointment.objects.filter(
            _users_filter(people.values()),
            status=AppointmentStatus.SCHEDULED,
            starts_at__lt=ends_at,
            ends_at__gt=starts_at,
        )
        .select_related("account", "organizer")
        .prefetch_related("participants")
        .order_by("starts_at", "id")
    )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    found = list(qs[:50])
    visible = set(
        Appointment.objects.filter(
            appointment_visibility(viewer), pk__in=[a.pk for a in found]
        ).values_list("pk", flat=True)
    )
    items = []
    for appointment in found:
        involved = {appointment.organizer_id, *(p.pk for p in appointment.participants.all())}
        for user_id in sorted(involved & set(people), key=lambda pk: people[pk].username):
            items.append(ConflictItem(people[user_id], appointment, appointment.pk in visible))
    return items


# --------------------------------------------------------------------------------------------
# Writes


def _require_editor(actor: User) -> None:
    if not actor.may_edit_accounts:
        raise PermissionDenied(_("Your role can read appointments but not book or change them."))


def _local(value: datetime.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _clean_datetime(value: Any, field: str, errors: ErrorCollector) -> datetime.datetime | None:
    if value is None or value == "":
        errors.add(field, _("Enter a date and time."))
        return None
    if not isinstance(value, datetime.datetime):
        errors.add(field, _("Enter a valid date and time."))
        return None
    if not (_YEARS[0] <= value.year <= _YEARS[1]):
        errors.add(
            field, _("Enter a date between %(a)d and %(b)d.") % {"a": _YEARS[0], "b": _YEARS[1]}
        )
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _clean_url(value: str, errors: ErrorCollector) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if "://" not in value and scheme not in ("http", "https"):
        value = "https://" + value
        scheme = "https"
    try:
        if scheme not in ("http", "https"):
            raise ValidationError("scheme")
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        errors.add(
            "meeting_url",
            _("Enter a web address starting with https:// (e.g. https://meet.example.com/abc)."),
        )
    return value


def _clean(
    *,
    actor: User,
    account: Account,
    data: dict[str, Any],
    current: Appointment | None,
) -> dict[str, Any]:
    """Validate and normalise appointment fields; one ApplicationError lists every problem."""
    unknown = set(data) - set(APPOINTMENT_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    errors = ErrorCollector()
    text = {k: v for k, v in data.items() if isinstance(v, str)}
    check_text_fields(Appointment, text, errors, raw_limits={"phone_number": 30})
    errors.raise_if_any()
    clean: dict[str, Any] = {}
    for key, value in data.items():
        clean[key] = value.strip() if isinstance(value, str) and key != "agenda" else value

    if "title" in clean and not clean["title"]:
        errors.add("title", _("Enter a title, e.g. “Quarterly review”."))
    if "kind" in clean and clean["kind"] not in AppointmentKind.values:
        errors.add("kind", _("Choose a phone appointment or a meeting."))
    if "mode" in clean and clean["mode"] not in ("", *MeetingMode.values):
        errors.add("mode", _("Choose at the customer's, online or at our office."))
    if "agenda" in clean:
        clean["agenda"] = (clean["agenda"] or "").strip()
        check_plain_text("agenda", clean["agenda"], errors)
    if "meeting_url" in clean:
        clean["meeting_url"] = _clean_url(clean["meeting_url"], errors)
        if len(clean["meeting_url"]) > 500:
            errors.add("meeting_url", _("The meeting link is too long."))
    if "phone_number" in clean:
        clean["phone_number"] = (
            errors.run("phone_number", normalize_phone, clean["phone_number"], field="phone_number")
            or ""
        )

    # Times: both are checked together, against the stored one when only one changes.
    times_given = "starts_at" in clean or "ends_at" in clean
    if "starts_at" in clean:
        clean["starts_at"] = _clean_datetime(clean["starts_at"], "starts_at", errors)
    if "ends_at" in clean:
        clean["ends_at"] = _clean_datetime(clean["ends_at"], "ends_at", errors)
    starts = clean.get("starts_at", current.starts_at if current else None)
    ends = clean.get("ends_at", current.ends_at if current else None)
    if times_given and starts and ends and "starts_at" not in errors.errors:
        if ends <= starts:
            errors.add("ends_at", _("The end must be after the start."))
        elif ends - starts > MAX_DURATION:
            errors.add("ends_at", _("An appointment can last at most 24 hours."))
        moved = current is None or starts != current.starts_at
        if moved and starts < timezone.now() - PAST_GRACE:
            errors.add(
                "starts_at",
                _("This time is in the past: choose a time from now on.")
                if current is None
                else _("You cannot move an appointment into the past."),
            )

    if "contacts" in clean:
        wanted = list(clean["contacts"] or [])
        ids = {c.pk if isinstance(c, Contact) else c for c in wanted}
        found = list(Contact.objects.filter(pk__in=[i for i in ids if isinstance(i, int)]))
        strangers = [c for c in found if c.account_id != account.pk]
        if len(found) != len(ids) or strangers:
            errors.add("contacts", _("Choose people of %(account)s.") % {"account": account.name})
        clean["contacts"] = [c for c in found if c.account_id == account.pk]
    if "participants" in clean:
        wanted = list(clean["participants"] or [])
        ids = {u.pk if isinstance(u, User) else u for u in wanted}
        found_users = list(
            User.objects.filter(pk__in=[i for i in ids if isinstance(i, int)], is_active=True)
        )
        if len(found_users) != len(ids):
            errors.add("participants", _("Choose colleagues who can sign in to Tokui."))
        organizer_id = current.organizer_id if current else actor.pk
        clean["participants"] = [u for u in found_users if u.pk != organizer_id]
    errors.raise_if_any()
    return clean


def _raise_on_conflicts(
    *,
    actor: User,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    organizer: User,
    participants: Iterable[User],
    exclude_id: int | None,
) -> None:
    conflicts = appointment_conflicts(
        viewer=actor,
        starts_at=starts_at,
        ends_at=ends_at,
        users=[organizer, *participants],
        exclude_id=exclude_id,
    )
    if conflicts:
        raise AppointmentConflict(
            _("This time overlaps other appointments. Book anyway, or choose another time."),
            conflicts=conflicts,
        )


@transaction.atomic
def appointment_book(
    *,
    actor: User,
    account: Account,
    data: dict[str, Any],
    allow_conflicts: bool = False,
    regarding: models.Model | None = None,
) -> Appointment:
    """Book a phone appointment or a meeting with ``actor`` as the organizer.

    ``regarding``: the record it is about (a deal, later an order or a case), set by the
    higher app's page that books it; the caller has checked that record is the actor's to see.
    Raises AppointmentConflict (409) listing the overlaps unless ``allow_conflicts``.
    """
    _require_editor(actor)
    if not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
        raise NotFound(_("No such account."))
    if account.archived_at is not None:
        raise ApplicationError(_("This account is archived: restore it to book appointments."))
    required = {"title": "", "starts_at": None, "ends_at": None}
    clean = _clean(actor=actor, account=account, data={**required, **data}, current=None)
    contacts = clean.pop("contacts", [])
    participants = clean.pop("participants", [])
    if not allow_conflicts:
        _raise_on_conflicts(
            actor=actor,
            starts_at=clean["starts_at"],
            ends_at=clean["ends_at"],
            organizer=actor,
            participants=participants,
            exclude_id=None,
        )
    now = timezone.now()
    appointment = Appointment(
        account=account, organizer=actor, created_at=now, updated_at=now, **clean
    )
    if regarding is not None:
        appointment.regarding = regarding
    appointment.save()
    appointment.contacts.set(contacts)
    appointment.participants.set(participants)
    audit_record(
        actor=actor,
        action="activities.appointment.booked",
        target=appointment,
        scope=account_scope(account.pk),
        changes={
            "starts_at": [None, _local(appointment.starts_at)],
            "ends_at": [None, _local(appointment.ends_at)],
        },
    )
    return appointment


def _lock_scheduled(appointment: Appointment) -> Appointment:
    locked = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("account", "organizer")
        .get(pk=appointment.pk)
    )
    if locked.status != AppointmentStatus.SCHEDULED:
        raise ApplicationError(
            _("This appointment is %(status)s and can no longer be changed.")
            % {"status": locked.get_status_display().lower()},
            status=409,
            code="conflict",
        )
    return locked


def _require_visible(actor: User, appointment: Appointment) -> None:
    if not Appointment.objects.filter(appointment_visibility(actor), pk=appointment.pk).exists():
        raise NotFound(_("No such appointment."))


@transaction.atomic
def appointment_update(
    *,
    actor: User,
    appointment: Appointment,
    data: dict[str, Any],
    version: int | None = None,
    allow_conflicts: bool = False,
    reason: str = "",
) -> Appointment:
    """Change or reschedule a scheduled appointment.

    A new time is a reschedule and needs a ``reason`` (like a cancellation): the audit event
    shows old → new with the reason, and SEQUENCE grows so that subscribed calendars replace
    their copy (the UID stays).
    """
    _require_visible(actor, appointment)
    _require_editor(actor)
    appointment = _lock_scheduled(appointment)
    check_version(record=appointment, version=version)
    reason = (reason or "").strip()
    clean = _clean(actor=actor, account=appointment.account, data=data, current=appointment)
    moves = any(
        name in clean and clean[name] != getattr(appointment, name)
        for name in ("starts_at", "ends_at")
    )
    errors = ErrorCollector()
    if moves and not reason:
        errors.add("reason", _("Say why the appointment moves."))
    elif len(reason) > MAX_CANCEL_REASON:
        errors.add("reason", _("Keep the reason under 2,000 characters."))
    elif reason:
        check_plain_text("reason", reason, errors)
    errors.raise_if_any()
    contacts = clean.pop("contacts", None)
    participants = clean.pop("participants", None)
    changes: dict[str, list[Any]] = {}
    for name, value in clean.items():
        old = getattr(appointment, name)
        if old != value:
            if isinstance(value, datetime.datetime):
                changes[name] = [_local(old), _local(value)]
            else:
                changes[name] = [old, value]
            setattr(appointment, name, value)
    old_contacts = {c.pk for c in appointment.contacts.all()}
    old_participants = {u.pk for u in appointment.participants.all()}
    if contacts is not None and {c.pk for c in contacts} != old_contacts:
        changes["contacts"] = [
            sorted(str(c) for c in appointment.contacts.all()),
            sorted(str(c) for c in contacts),
        ]
    if participants is not None and {u.pk for u in participants} != old_participants:
        changes["participants"] = [
            sorted(str(u) for u in appointment.participants.all()),
            sorted(str(u) for u in participants),
        ]
    if not changes:
        return appointment
    timing = {"starts_at", "ends_at"} & set(changes)
    if (timing or "participants" in changes) and not allow_conflicts:
        everyone = (
            participants
            if participants is not None
            else list(User.objects.filter(pk__in=old_participants))
        )
        _raise_on_conflicts(
            actor=actor,
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
            organizer=appointment.organizer,
            participants=everyone,
            exclude_id=appointment.pk,
        )
    fields = [name for name in clean if name in changes]
    if set(fields) & _CALENDAR_FIELDS:
        appointment.sequence += 1
        fields.append("sequence")
    appointment.version += 1
    appointment.updated_at = timezone.now()
    appointment.save(update_fields=[*fields, "version", "updated_at"])
    if contacts is not None and "contacts" in changes:
        appointment.contacts.set(contacts)
    if participants is not None and "participants" in changes:
        appointment.participants.set(participants)
    audit_record(
        actor=actor,
        action=(
            "activities.appointment.rescheduled" if timing else "activities.appointment.updated"
        ),
        target=appointment,
        scope=account_scope(appointment.account_id),
        changes=changes,
        note=reason,
    )
    return appointment


@transaction.atomic
def appointment_cancel(
    *, actor: User, appointment: Appointment, reason: str, version: int | None = None
) -> Appointment:
    """Cancel with a reason. The appointment stays (on the timeline and in calendar feeds, where
    it shows as CANCELLED so subscribed calendars remove it)."""
    _require_visible(actor, appointment)
    _require_editor(actor)
    reason = (reason or "").strip()
    errors = ErrorCollector()
    if not reason:
        errors.add("reason", _("Say why the appointment is cancelled."))
    elif len(reason) > MAX_CANCEL_REASON:
        errors.add("reason", _("Keep the reason under 2,000 characters."))
    elif "\x00" in reason:
        errors.add("reason", _("Null characters are not allowed."))
    else:
        check_plain_text("reason", reason, errors)
    errors.raise_if_any()
    appointment = _lock_scheduled(appointment)
    check_version(record=appointment, version=version)
    now = timezone.now()
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancel_reason = reason
    appointment.cancelled_at = now
    appointment.sequence += 1
    appointment.version += 1
    appointment.updated_at = now
    appointment.save(
        update_fields=[
            "status",
            "cancel_reason",
            "cancelled_at",
            "sequence",
            "version",
            "updated_at",
        ]
    )
    audit_record(
        actor=actor,
        action="activities.appointment.cancelled",
        target=appointment,
        scope=account_scope(appointment.account_id),
        changes={"status": [AppointmentStatus.SCHEDULED, AppointmentStatus.CANCELLED]},
        note=reason,
    )
    return appointment


@transaction.atomic
def appointment_mark_held(
    *,
    actor: User,
    appointment: Appointment,
    record_interaction: bool = False,
    notes: str = "",
    version: int | None = None,
) -> Appointment:
    """Mark an appointment held; optionally log the call or meeting on the timeline with it."""
    _require_visible(actor, appointment)
    _require_editor(actor)
    errors = ErrorCollector()
    notes = (notes or "").strip()
    if len(notes) > 20000:
        errors.add("notes", _("Keep the notes under 20,000 characters."))
    check_plain_text("notes", notes, errors)
    errors.raise_if_any()
    appointment = _lock_scheduled(appointment)
    check_version(record=appointment, version=version)
    if appointment.starts_at > timezone.now():
        raise ApplicationError(
            _("This appointment has not started yet: mark it held once it has taken place."),
            status=409,
            code="conflict",
        )
    appointment.status = AppointmentStatus.HELD
    appointment.version += 1
    appointment.updated_at = timezone.now()
    appointment.save(update_fields=["status", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="activities.appointment.held",
        target=appointment,
        scope=account_scope(appointment.account_id),
        changes={"status": [AppointmentStatus.SCHEDULED, AppointmentStatus.HELD]},
    )
    if record_interaction:
        appointment_log_interaction(actor=actor, appointment=appointment, notes=notes)
    return appointment


def appointment_log_interaction(
    *, actor: User, appointment: Appointment, notes: str = ""
) -> Interaction:
    """The call or meeting an appointment became, on the account's timeline."""
    phone = appointment.kind == AppointmentKind.PHONE
    fields: dict[str, Any] = {}
    if phone:
        fields["duration_seconds"] = int(
            (appointment.ends_at - appointment.starts_at).total_seconds()
        )
        if appointment.phone_number:
            fields["phone_number"] = appointment.phone_number
    else:
        if appointment.mode:
            fields["meeting_mode"] = appointment.mode
        if appointment.place:
            fields["location"] = appointment.place
    fields.update(
        occurred_at=appointment.starts_at,
        subject=appointment.title,
        body=notes or appointment.agenda,
        contacts=list(appointment.contacts.all()),
        participants=[appointment.organizer, *appointment.participants.all()],
        appointment=appointment,
    )
    if appointment.regarding_type_id is not None:
        # What the appointment was about (a deal …), the interaction is about too.
        fields["regarding_type"] = appointment.regarding_type
        fields["regarding_id"] = appointment.regarding_id
    if phone:
        fields["direction"] = Direction.OUTBOUND
    return interaction_record(
        actor=actor,
        account=appointment.account,
        kind=InteractionKind.CALL if phone else InteractionKind.MEETING,
        source=InteractionSource.APPOINTMENT,
        data=fields,
        # One interaction per appointment, however often this runs.
        external_id=f"appointment:{appointment.uid}",
    )


@dataclass(frozen=True)
class CalendarChoice:
    """Whose calendar a page shows, and whom the viewer may choose among."""

    people: list[User]
    people_choices: list[User]
    team_choices: list[Team]
    chosen_user: str
    chosen_team: str
    label: str


def calendar_people(*, viewer: User, username: str = "", team: str = "") -> CalendarChoice:
    """The calendar of a person (``username``) or a team (``team``: an id), else the viewer's.

    Heads of sales and administrators choose anyone; others themself or their team. A choice
    the viewer may not make falls back to their own calendar.
    """
    users = User.objects.filter(is_active=True).select_related("team").order_by("username")
    if viewer.role not in ROLES_SEEING_ALL:
        users = (
            users.filter(team_id=viewer.team_id) | users.filter(pk=viewer.pk)
            if viewer.team_id
            else users.filter(pk=viewer.pk)
        )
    teams = (
        Team.objects.all()
        if viewer.role in ROLES_SEEING_ALL
        else Team.objects.filter(members=viewer)
    )
    people, label = [viewer], str(viewer)
    if team.isdecimal():
        found = teams.filter(pk=int(team)).first()
        if found is not None:
            people, label = list(users.filter(team=found)), str(found)
    elif username:
        person = users.filter(username=username).first()
        if person is not None:
            people, label = [person], str(person)
    return CalendarChoice(
        people=people,
        people_choices=list(users),
        team_choices=list(teams),
        chosen_user=username,
        chosen_team=team,
        label=label,
    )


def appointment_history(*, appointment: Appointment, limit: int = 50) -> list[AuditEvent]:
    """The audit events of one appointment (already checked visible), newest first."""
    return list(
        AuditEvent.objects.filter(
            target_type="activities.appointment", target_id=str(appointment.pk)
        )
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )
