"""Appointments: booking rules, conflicts, reschedule and cancel on the audit trail, visibility."""

import datetime

import pytest
from django.utils import timezone

from tokui.activities.appointments import (
    AppointmentConflict,
    appointment_book,
    appointment_cancel,
    appointment_conflicts,
    appointment_get,
    appointment_list,
    appointment_mark_held,
    appointment_update,
)
from tokui.activities.constants import AppointmentStatus, InteractionSource
from tokui.activities.models import Appointment, Interaction
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.models import AuditEvent


def at(days: int = 1, hour: int = 10, minute: int = 0) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def account(kam, make_account):
    return make_account(kam, name="株式会社山田商事")


def book(actor, account, **data):
    data.setdefault("title", "定例会議")
    data.setdefault("starts_at", at())
    data.setdefault("ends_at", at(hour=11))
    allow = data.pop("allow_conflicts", False)
    return appointment_book(actor=actor, account=account, data=data, allow_conflicts=allow)


def test_booking_records_the_appointment_and_an_account_scoped_event(kam, account, make_contact):
    contact = make_contact(account)
    appointment = book(
        kam,
        account,
        kind="meeting",
        mode="online",
        meeting_url="meet.example.com/abc",
        contacts=[contact],
        agenda="価格改定の説明",
    )
    assert appointment.organizer == kam
    assert appointment.status == AppointmentStatus.SCHEDULED
    assert appointment.uid.endswith("@tokui")
    assert appointment.meeting_url == "https://meet.example.com/abc"
    assert list(appointment.contacts.all()) == [contact]
    event = AuditEvent.objects.get(action="activities.appointment.booked")
    assert event.scope == f"account:{account.pk}"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"ends_at": at(hour=9)}, "ends_at"),  # before the start
        ({"ends_at": at(hour=10)}, "ends_at"),  # zero length
        ({"ends_at": at(days=2, hour=11)}, "ends_at"),  # longer than 24 hours
        ({"starts_at": at(days=-1), "ends_at": at(days=-1, hour=11)}, "starts_at"),  # past
        ({"meeting_url": "javascript:alert(1)"}, "meeting_url"),
        ({"meeting_url": "ftp://example.com/x"}, "meeting_url"),
        ({"phone_number": "12"}, "phone_number"),
        ({"kind": "lunch"}, "kind"),
        ({"mode": "moon"}, "mode"),
        ({"agenda": "<script>alert(1)</script>"}, "agenda"),
        ({"starts_at": datetime.datetime(9999, 12, 31, 23, 0, tzinfo=datetime.UTC)}, "starts_at"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(kam, account, changes, field):
    with pytest.raises(ApplicationError) as caught:
        book(kam, account, **changes)
    assert field in caught.value.errors
    assert not Appointment.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="activities.").exists()


def test_contacts_must_belong_to_the_account_and_participants_be_active(
    kam, account, make_account, make_contact, make_user
):
    stranger = make_contact(make_account(kam, name="別会社"))
    with pytest.raises(ApplicationError) as caught:
        book(kam, account, contacts=[stranger])
    assert "contacts" in caught.value.errors
    gone = make_user("gone", "am", is_active=False)
    with pytest.raises(ApplicationError) as caught:
        book(kam, account, participants=[gone])
    assert "participants" in caught.value.errors
    assert not Appointment.objects.exists()


def test_support_reads_but_cannot_book(support, account):
    with pytest.raises(PermissionDenied):
        book(support, account)


def test_an_invisible_account_cannot_be_booked(west_am, account):
    with pytest.raises(NotFound):
        book(west_am, account)


def test_overlaps_of_organizer_and_participants_are_conflicts(kam, am, account):
    first = book(kam, account, title="A")
    with pytest.raises(AppointmentConflict) as caught:
        book(am, account, title="B", participants=[kam], starts_at=at(hour=10, minute=30))
    assert [(c.user, c.appointment) for c in caught.value.conflicts] == [(kam, first)]
    assert caught.value.status == 409
    assert Appointment.objects.count() == 1
    # Back to back is fine; "book anyway" books over an overlap.
    book(kam, account, title="C", starts_at=at(hour=11), ends_at=at(hour=12))
    book(
        am,
        account,
        title="D",
        participants=[kam],
        starts_at=at(hour=10, minute=30),
        allow_conflicts=True,
    )
    assert Appointment.objects.count() == 3


def test_cancelled_appointments_do_not_conflict(kam, account):
    first = book(kam, account)
    appointment_cancel(actor=kam, appointment=first, reason="先方都合")
    book(kam, account, title="別件")


def test_conflicts_hide_what_the_viewer_may_not_see(kam, west_am, make_account, account):
    west_account = make_account(west_am, name="西商事")
    secret = book(west_am, west_account, title="極秘の商談")
    found = appointment_conflicts(viewer=kam, starts_at=at(), ends_at=at(hour=11), users=[west_am])
    assert [(c.appointment, c.visible) for c in found] == [(secret, False)]


def test_reschedule_moves_the_time_grows_the_sequence_and_shows_old_and_new(kam, account):
    appointment = book(kam, account)
    uid = appointment.uid
    with pytest.raises(ApplicationError) as caught:
        appointment_update(
            actor=kam,
            appointment=appointment,
            data={"starts_at": at(days=2, hour=14), "ends_at": at(days=2, hour=15)},
            version=appointment.version,
        )
    assert "reason" in caught.value.errors
    appointment.refresh_from_db()
    assert appointment.sequence == 0  # refused: nothing changed
    appointment_update(
        actor=kam,
        appointment=appointment,
        data={"starts_at": at(days=2, hour=14), "ends_at": at(days=2, hour=15)},
        version=appointment.version,
        reason="先方のご都合で午後に変更",
    )
    appointment.refresh_from_db()
    assert appointment.uid == uid
    assert appointment.sequence == 1
    assert appointment.version == 2
    event = AuditEvent.objects.get(action="activities.appointment.rescheduled")
    assert event.scope == f"account:{account.pk}"
    assert event.note == "先方のご都合で午後に変更"
    old, new = event.changes["starts_at"]
    assert old.endswith("10:00") and new.endswith("14:00")


def test_reschedule_into_the_past_and_stale_versions_are_refused(kam, account):
    appointment = book(kam, account)
    with pytest.raises(ApplicationError) as caught:
        appointment_update(
            actor=kam,
            appointment=appointment,
            data={"starts_at": at(days=-2), "ends_at": at(days=-2, hour=11)},
        )
    assert "starts_at" in caught.value.errors
    appointment_update(actor=kam, appointment=appointment, data={"title": "新しい題"}, version=1)
    with pytest.raises(Conflict):
        appointment_update(actor=kam, appointment=appointment, data={"title": "古い"}, version=1)
    appointment.refresh_from_db()
    assert appointment.title == "新しい題"
    assert appointment.starts_at == at()


def test_cancel_needs_a_reason_and_shows_it_on_the_timeline(kam, account):
    appointment = book(kam, account)
    with pytest.raises(ApplicationError) as caught:
        appointment_cancel(actor=kam, appointment=appointment, reason="   ")
    assert "reason" in caught.value.errors
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED
    appointment_cancel(actor=kam, appointment=appointment, reason="先方の都合で延期")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.sequence == 1
    event = AuditEvent.objects.get(action="activities.appointment.cancelled")
    assert event.note == "先方の都合で延期"
    assert event.scope == f"account:{account.pk}"
    # A cancelled appointment cannot be changed or cancelled again.
    with pytest.raises(ApplicationError):
        appointment_update(actor=kam, appointment=appointment, data={"title": "x"})
    with pytest.raises(ApplicationError):
        appointment_cancel(actor=kam, appointment=appointment, reason="again")


def test_mark_held_logs_one_meeting_interaction(kam, account, make_contact):
    contact = make_contact(account)
    appointment = book(kam, account, contacts=[contact], mode="on_site", place="本社会議室")
    # It happened: move it into the past directly (the services refuse booking the past).
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=at(days=-1), ends_at=at(days=-1, hour=11)
    )
    appointment.refresh_from_db()
    appointment_mark_held(
        actor=kam, appointment=appointment, record_interaction=True, notes="合意しました"
    )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.HELD
    interaction = Interaction.objects.get(appointment=appointment)
    assert interaction.kind == "meeting"
    assert interaction.source == InteractionSource.APPOINTMENT
    assert interaction.body == "合意しました"
    assert interaction.location == "本社会議室"
    assert list(interaction.contacts.all()) == [contact]


def test_a_phone_appointment_held_becomes_an_outbound_call(kam, account):
    appointment = book(kam, account, kind="phone", phone_number="03-1234-5678")
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=at(days=-1), ends_at=at(days=-1, minute=30)
    )
    appointment.refresh_from_db()
    appointment_mark_held(actor=kam, appointment=appointment, record_interaction=True)
    call = Interaction.objects.get(appointment=appointment)
    assert (call.kind, call.direction, call.duration_seconds) == ("call", "out", 1800)
    assert call.phone_number == "+81312345678"


def test_a_future_appointment_cannot_be_marked_held(kam, account):
    appointment = book(kam, account)
    with pytest.raises(ApplicationError):
        appointment_mark_held(actor=kam, appointment=appointment)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.SCHEDULED


def test_visibility_follows_the_account_and_invitations(kam, am, west_am, head, account):
    appointment = book(kam, account)
    assert appointment_get(viewer=am, appointment_id=appointment.pk) == appointment  # team
    assert appointment_get(viewer=head, appointment_id=appointment.pk) == appointment
    with pytest.raises(NotFound):
        appointment_get(viewer=west_am, appointment_id=appointment.pk)
    appointment_update(actor=kam, appointment=appointment, data={"participants": [west_am]})
    assert appointment_get(viewer=west_am, appointment_id=appointment.pk) == appointment
    assert list(appointment_list(viewer=west_am, users=[west_am])) == [appointment]
