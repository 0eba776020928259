"""Interaction services: validation per kind, rights, soft delete, audit, interaction_record."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from tokui.accounts.models import account_scope
from tokui.accounts.services import account_archive
from tokui.activities.models import Interaction
from tokui.activities.selectors import interaction_get, interaction_list
from tokui.activities.services import (
    AttachmentIn,
    interaction_create,
    interaction_delete,
    interaction_record,
    interaction_update,
)
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.models import AuditEvent


@pytest.fixture
def account(kam, make_account):
    return make_account(kam, name="株式会社北斗製作所")


@pytest.fixture
def contact(account, make_contact):
    return make_contact(account, family_name="佐藤", given_name="花子")


def _call(**extra):
    data = {"kind": "call", "direction": "out", "outcome": "reached", "duration_seconds": 300}
    data.update(extra)
    return data


def test_log_a_call_with_defaults_and_audit(kam, account, contact):
    before = timezone.now()
    interaction = interaction_create(
        actor=kam, account=account, data=_call(body="見積の件で確認", contacts=[contact])
    )
    assert interaction.author == kam
    assert interaction.source == "manual"
    assert before <= interaction.occurred_at <= timezone.now()
    assert list(interaction.contacts.all()) == [contact]
    event = AuditEvent.objects.get(action="activities.interaction.created")
    assert event.scope == account_scope(account.pk)
    assert event.actor == kam
    assert event.changes["kind"] == [None, "call"]
    assert event.changes["contacts"] == [None, [str(contact)]]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "call"}, "direction"),
        ({"kind": "email", "direction": "sideways"}, "direction"),
        ({"kind": "note", "direction": "in"}, "direction"),
        ({"kind": "meeting", "duration_seconds": 60}, "duration_seconds"),
        ({"kind": "note", "outcome": "reached"}, "outcome"),
        (_call(outcome="maybe"), "outcome"),
        (_call(duration_seconds=-1), "duration_seconds"),
        (_call(duration_seconds=25 * 3600), "duration_seconds"),
        (_call(duration_seconds=True), "duration_seconds"),
        ({"kind": "call", "direction": "in", "location": "本社"}, "location"),
        ({"kind": "meeting", "meeting_mode": "moon"}, "meeting_mode"),
        ({"kind": "note", "meeting_mode": "online"}, "meeting_mode"),
        ({"kind": "dance"}, "kind"),
        ({"kind": "note", "subject": "x" * 301}, "subject"),
        ({"kind": "note", "body": "a\x00b"}, "body"),
        ({"kind": "note", "body": "x" * 50_001}, "body"),
        (_call(phone_number="12"), "phone_number"),
        ({"kind": "note", "contacts": ["abc"]}, "contacts"),
        ({"kind": "note", "participants": [999_999]}, "participants"),
        ({"kind": "note", "occurred_at": "yesterday"}, "occurred_at"),
        ({"kind": "note", "occurred_at": datetime.datetime(2024, 1, 1)}, "occurred_at"),
    ],
)
def test_bad_input_is_a_field_error_and_saves_nothing(kam, account, data, field):
    with pytest.raises(ApplicationError) as exc:
        interaction_create(actor=kam, account=account, data=data)
    assert field in exc.value.errors
    assert exc.value.status == 422
    assert not Interaction.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="activities.").exists()


def test_unknown_field_is_refused(kam, account):
    with pytest.raises(ApplicationError, match="Unknown fields: author"):
        interaction_create(actor=kam, account=account, data={"kind": "note", "author": kam})


def test_occurred_at_in_the_future_is_refused_but_clock_skew_is_allowed(kam, account):
    soon = timezone.now() + datetime.timedelta(minutes=2)
    assert interaction_create(
        actor=kam, account=account, data={"kind": "note", "occurred_at": soon}
    )
    later = timezone.now() + datetime.timedelta(hours=1)
    with pytest.raises(ApplicationError) as exc:
        interaction_create(actor=kam, account=account, data={"kind": "note", "occurred_at": later})
    assert "future" in exc.value.errors["occurred_at"][0]


def test_contacts_must_belong_to_the_account(kam, account, make_account, make_contact):
    other = make_contact(make_account(kam, name="株式会社別会社"))
    with pytest.raises(ApplicationError) as exc:
        interaction_create(actor=kam, account=account, data={"kind": "note", "contacts": [other]})
    assert "do not belong" in exc.value.errors["contacts"][0]


def test_participants_must_be_active(kam, am, account):
    am.is_active = False
    am.save()
    with pytest.raises(ApplicationError) as exc:
        interaction_create(
            actor=kam, account=account, data={"kind": "meeting", "participants": [am]}
        )
    assert "participants" in exc.value.errors


def test_meeting_with_mode_place_and_people(kam, am, account, contact):
    meeting = interaction_create(
        actor=kam,
        account=account,
        data={
            "kind": "meeting",
            "meeting_mode": "on_site",
            "location": "本社 3F 会議室",
            "participants": [am],
            "contacts": [contact.pk],
            "subject": "来期の取引条件",
        },
    )
    assert meeting.direction == ""
    assert list(meeting.participants.all()) == [am]


def test_invisible_account_is_not_found(west_am, account):
    with pytest.raises(NotFound):
        interaction_create(actor=west_am, account=account, data={"kind": "note"})
    assert not Interaction.objects.exists()


def test_support_may_log_but_archived_accounts_take_nothing(support, kam, account):
    assert interaction_create(actor=support, account=account, data={"kind": "note"})
    account_archive(actor=kam, account=account)
    with pytest.raises(ApplicationError, match="archived"):
        interaction_create(actor=kam, account=account, data={"kind": "note"})


def test_only_author_owner_or_head_change_and_delete(kam, am, support, head, account):
    by_support = interaction_create(actor=support, account=account, data={"kind": "note"})
    # am is in kam's team: sees the account, but is neither author nor owner.
    with pytest.raises(PermissionDenied):
        interaction_update(actor=am, interaction=by_support, data={"subject": "x"})
    with pytest.raises(PermissionDenied):
        interaction_delete(actor=am, interaction=by_support)
    # The author, the owner and the head of sales may.
    interaction_update(actor=support, interaction=by_support, data={"subject": "a"})
    interaction_update(actor=kam, interaction=by_support, data={"subject": "b"})
    updated = interaction_update(actor=head, interaction=by_support, data={"subject": "c"})
    assert updated.subject == "c"
    assert updated.version == 4


def test_update_audits_changes_and_refuses_stale_versions(kam, account, contact):
    call = interaction_create(actor=kam, account=account, data=_call())
    interaction_update(
        actor=kam, interaction=call, data={"outcome": "voicemail", "contacts": [contact]}, version=1
    )
    event = AuditEvent.objects.get(action="activities.interaction.updated")
    assert event.changes == {"outcome": ["reached", "voicemail"], "contacts": [[], [str(contact)]]}
    assert event.scope == account_scope(account.pk)
    with pytest.raises(Conflict):
        interaction_update(actor=kam, interaction=call, data={"outcome": "busy"}, version=1)
    call.refresh_from_db()
    assert call.outcome == "voicemail"


def test_changing_a_call_into_a_note_asks_to_clear_call_fields(kam, account):
    call = interaction_create(actor=kam, account=account, data=_call())
    with pytest.raises(ApplicationError) as exc:
        interaction_update(actor=kam, interaction=call, data={"kind": "note", "direction": ""})
    assert {"outcome", "duration_seconds"} <= set(exc.value.errors)
    interaction_update(
        actor=kam,
        interaction=call,
        data={"kind": "note", "direction": "", "outcome": "", "duration_seconds": None},
    )
    call.refresh_from_db()
    assert (call.kind, call.outcome, call.duration_seconds) == ("note", "", None)


def test_no_change_writes_no_event(kam, account):
    call = interaction_create(actor=kam, account=account, data=_call())
    interaction_update(actor=kam, interaction=call, data={"outcome": "reached"})
    assert not AuditEvent.objects.filter(action="activities.interaction.updated").exists()
    call.refresh_from_db()
    assert call.version == 1


def test_delete_is_soft_and_hides_it(kam, account):
    note = interaction_create(actor=kam, account=account, data={"kind": "note", "body": "メモ"})
    interaction_delete(actor=kam, interaction=note)
    note.refresh_from_db()
    assert note.archived_at is not None
    assert not interaction_list(viewer=kam, account_id=account.pk).exists()
    with pytest.raises(NotFound):
        interaction_get(viewer=kam, interaction_id=note.pk)
    with pytest.raises(NotFound):
        interaction_delete(actor=kam, interaction=note)
    event = AuditEvent.objects.get(action="activities.interaction.deleted")
    assert event.scope == account_scope(account.pk)


def test_selectors_apply_visibility_and_filters(kam, west_am, head, account, make_account):
    mine = interaction_create(actor=kam, account=account, data=_call())
    theirs_account = make_account(west_am, name="株式会社西日本")
    theirs = interaction_create(actor=west_am, account=theirs_account, data={"kind": "note"})
    assert list(interaction_list(viewer=kam)) == [mine]
    assert set(interaction_list(viewer=head)) == {mine, theirs}
    assert list(interaction_list(viewer=head, kind="note")) == [theirs]
    assert list(interaction_list(viewer=head, author="kam")) == [mine]
    with pytest.raises(NotFound):
        interaction_get(viewer=west_am, interaction_id=mine.pk)


def test_record_is_idempotent_on_message_id(kam, account, contact):
    data = {"direction": "in", "subject": "Re: 見積", "body": "<p>plain</p>", "contacts": [contact]}
    first = interaction_record(
        actor=None,
        account=account,
        kind="email",
        source="mail_in",
        data=data,
        message_id="<abc@example.jp>",
        attachments=[AttachmentIn("見積書.pdf", b"%PDF-1.4", "application/pdf")],
    )
    again = interaction_record(
        actor=None,
        account=account,
        kind="email",
        source="mail_in",
        data={**data, "subject": "changed"},
        message_id="<abc@example.jp>",
    )
    assert again.pk == first.pk
    assert again.subject == "Re: 見積"
    assert Interaction.objects.count() == 1
    attachment = first.attachments.get()
    assert attachment.size == 8 and len(attachment.sha256) == 64
    assert AuditEvent.objects.filter(action="activities.interaction.recorded").count() == 1


def test_record_is_idempotent_on_source_and_external_id(kam, account):
    first = interaction_record(
        actor=kam,
        account=account,
        kind="call",
        source="telephony",
        data={"direction": "in", "duration_seconds": 42},
        external_id="pbx-1",
    )
    again = interaction_record(
        actor=kam,
        account=account,
        kind="call",
        source="telephony",
        data={"direction": "in"},
        external_id="pbx-1",
    )
    assert again.pk == first.pk
    # The same id from another source is another call.
    other = interaction_record(
        actor=kam,
        account=account,
        kind="call",
        source="api",
        data={"direction": "in"},
        external_id="pbx-1",
    )
    assert other.pk != first.pk


def test_record_validates_like_a_person_would(kam, account):
    with pytest.raises(ApplicationError):
        interaction_record(
            actor=kam, account=account, kind="note", source="mail_in", data={"direction": "in"}
        )
    with pytest.raises(ApplicationError):
        interaction_record(actor=kam, account=account, kind="note", source="pigeon", data={})
    assert not Interaction.objects.exists()


def test_record_clamps_a_clock_slightly_ahead(kam, account):
    ahead = timezone.now() + datetime.timedelta(hours=3)
    found = interaction_record(
        actor=None,
        account=account,
        kind="email",
        source="mail_in",
        data={"direction": "in", "occurred_at": ahead},
        message_id="<ahead@example.jp>",
    )
    assert found.occurred_at <= timezone.now()


@pytest.mark.django_db(transaction=True)
def test_record_twice_at_once_keeps_one(kam, make_account):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:"):
        pytest.skip("in-memory SQLite is one connection")
    account = make_account(kam, name="株式会社同時")
    results, errors = [], []

    def record():
        try:
            results.append(
                interaction_record(
                    actor=None,
                    account=account,
                    kind="email",
                    source="mail_in",
                    data={"direction": "in"},
                    message_id="<race@example.jp>",
                ).pk
            )
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(results)) == 1
    assert Interaction.objects.filter(message_id="<race@example.jp>").count() == 1
