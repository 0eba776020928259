"""The iCalendar feed, its token, the subscription page, the calendar pages and the command."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from tokui.activities.appointments import appointment_book, appointment_cancel, appointment_update
from tokui.activities.calendar_feed import (
    calendar_feed_by_token,
    calendar_feed_get_or_create,
    calendar_feed_rotate,
)
from tokui.activities.models import Appointment, CalendarFeed
from tokui.core.exceptions import NotFound
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
    return appointment_book(actor=actor, account=account, data=data, allow_conflicts=True)


def feed_events(client, feed):
    response = client.get(reverse("activities:calendar_feed", args=[feed.token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    return cal, {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_feed_parses_and_keeps_uids_across_reschedules(client, kam, am, account, make_contact):
    contact = make_contact(account)
    mine = book(kam, account, contacts=[contact], agenda="見積の説明", place="本社")
    invited = book(
        am, account, title="同行訪問", participants=[kam], starts_at=at(3), ends_at=at(3, 11)
    )
    book(am, account, title="他人の予定", starts_at=at(4), ends_at=at(4, 11))  # not kam's
    feed = calendar_feed_get_or_create(actor=kam, user=kam)
    cal, events = feed_events(client, feed)
    assert str(cal["x-wr-calname"]).endswith("Kei Kamiya")
    assert set(events) == {mine.uid, invited.uid}
    event = events[mine.uid]
    assert event["status"] == "CONFIRMED"
    assert event["sequence"] == 0
    assert event.decoded("dtstart") == mine.starts_at
    assert event.decoded("dtstart").utcoffset() == datetime.timedelta(0)  # written in UTC
    assert "見積の説明" in str(event["description"])
    assert "株式会社山田商事" in str(event["description"])
    assert "山田" in str(event["description"])
    assert str(event["location"]) == "本社"
    for name in ("dtstamp", "last-modified", "dtend"):
        assert name in event

    appointment_update(
        actor=kam,
        appointment=mine,
        data={"starts_at": at(days=2), "ends_at": at(days=2, hour=11)},
        reason="先方のご都合",
    )
    _cal, events = feed_events(client, feed)
    assert set(events) >= {mine.uid}
    assert events[mine.uid]["sequence"] == 1
    assert events[mine.uid].decoded("dtstart") == at(days=2)


def test_a_cancelled_appointment_stays_in_the_feed_as_cancelled(client, kam, account):
    appointment = book(kam, account)
    appointment_cancel(actor=kam, appointment=appointment, reason="延期")
    feed = calendar_feed_get_or_create(actor=kam, user=kam)
    _cal, events = feed_events(client, feed)
    assert events[appointment.uid]["status"] == "CANCELLED"
    assert events[appointment.uid]["sequence"] == 1


def test_feed_window_is_90_days_back_to_a_year_ahead(client, kam, account):
    inside = book(kam, account)
    old = book(kam, account, title="昔")
    far = book(kam, account, title="遠い先")
    Appointment.objects.filter(pk=old.pk).update(starts_at=at(-100), ends_at=at(-100, 11))
    Appointment.objects.filter(pk=far.pk).update(starts_at=at(400), ends_at=at(400, 11))
    _cal, events = feed_events(client, calendar_feed_get_or_create(actor=kam, user=kam))
    assert set(events) == {inside.uid}


def test_unknown_revoked_and_malformed_tokens_are_404(client, kam, account):
    book(kam, account)
    feed = calendar_feed_get_or_create(actor=kam, user=kam)
    assert calendar_feed_get_or_create(actor=kam, user=kam) == feed  # one live feed
    new = calendar_feed_rotate(actor=kam, user=kam)
    assert new.token != feed.token
    for token in (feed.token, feed.token[:-1] + ("A" if feed.token[-1] != "A" else "B"), "x" * 30):
        response = client.get(f"/calendar/{token}.ics")
        assert response.status_code == 404
    for odd in ("/calendar/%00.ics", "/calendar/..%2f.ics", "/calendar/" + "a" * 200 + ".ics"):
        assert client.get(odd).status_code == 404
    assert client.get(f"/calendar/{new.token}.ics").status_code == 200
    assert client.post(f"/calendar/{new.token}.ics").status_code == 405
    assert client.head(f"/calendar/{new.token}.ics").status_code == 200
    assert AuditEvent.objects.filter(action="activities.calendar_feed.rotated").count() == 1


def test_an_inactive_users_feed_is_gone(client, kam):
    feed = calendar_feed_get_or_create(actor=kam, user=kam)
    kam.is_active = False
    kam.save(update_fields=["is_active"])
    with pytest.raises(NotFound):
        calendar_feed_by_token(token=feed.token)


def test_feed_answers_not_modified_to_a_repeated_poll(client, kam, account):
    book(kam, account)
    feed = calendar_feed_get_or_create(actor=kam, user=kam)
    first = client.get(f"/calendar/{feed.token}.ics")
    again = client.get(f"/calendar/{feed.token}.ics", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    feed.refresh_from_db()
    assert feed.last_used_at is not None


def test_subscription_page_shows_the_link_and_reset_replaces_it(client, kam):
    client.force_login(kam)
    page = client.get(reverse("activities:calendar_subscription"))
    assert page.status_code == 200
    feed = CalendarFeed.objects.get(user=kam, revoked_at=None)
    assert f"/calendar/{feed.token}.ics" in page.text
    response = client.post(reverse("activities:calendar_subscription_reset"))
    assert response.status_code == 302
    new = CalendarFeed.objects.get(user=kam, revoked_at=None)
    assert new.token != feed.token
    assert new.token in client.get(reverse("activities:calendar_subscription")).text


def test_command_prints_and_rotates_the_feed_url(kam, settings):
    settings.TOKUI_BASE_URL = "https://crm.example.co.jp"
    out = io.StringIO()
    call_command("calendar", "url", "--user", "kam", stdout=out)
    url = out.getvalue().strip()
    feed = CalendarFeed.objects.get(user=kam, revoked_at=None)
    assert url == f"https://crm.example.co.jp/calendar/{feed.token}.ics"
    out = io.StringIO()
    call_command("calendar", "url", "--user", "kam", stdout=out)
    assert out.getvalue().strip() == url  # the same feed, not a new one
    out = io.StringIO()
    call_command("calendar", "url", "--user", "kam", "--rotate", stdout=out)
    assert out.getvalue().strip() != url
    assert CalendarFeed.objects.filter(user=kam).count() == 2


def test_calendar_pages(client, kam, am, west_am, account):
    appointment = book(kam, account, title="週次定例")
    client.force_login(kam)
    # Tomorrow may be in next week (on a Sunday): show the appointment's week.
    day = timezone.localdate(appointment.starts_at).isoformat()
    week = client.get(reverse("activities:calendar") + f"?week={day}")
    assert week.status_code == 200
    assert "週次定例" in week.text
    assert 'data-cal-key="ArrowLeft"' in week.text
    agenda = client.get(reverse("activities:calendar_agenda"))
    assert "週次定例" in agenda.text
    # Junk in the query falls back to this week.
    assert client.get(reverse("activities:calendar") + "?week=9999-99-99").status_code == 200
    detail = client.get(reverse("activities:appointment_detail", args=[appointment.pk]))
    assert detail.status_code == 200
    assert "株式会社山田商事" in detail.text
    # Another team's member sees neither the appointment nor it on a chosen calendar.
    client.force_login(west_am)
    assert (
        client.get(reverse("activities:appointment_detail", args=[appointment.pk])).status_code
        == 404
    )
    other_view = client.get(reverse("activities:calendar") + f"?user=kam&week={day}")
    assert other_view.status_code == 200
    assert "週次定例" not in other_view.text


def test_pages_need_sign_in_but_the_feed_does_not(client):
    response = client.get(reverse("activities:calendar"))
    assert response.status_code == 302


def test_booking_page_asks_to_book_anyway_on_a_conflict(client, kam, account):
    book(kam, account, title="先約")
    client.force_login(kam)
    url = reverse("activities:appointment_create") + f"?account={account.pk}"
    data = {
        "kind": "meeting",
        "title": "新しい打合せ",
        "starts_at": at(hour=10, minute=30).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": at(hour=11, minute=30).strftime("%Y-%m-%dT%H:%M"),
    }
    first = client.post(url, data)
    assert first.status_code == 409
    assert "先約" in first.text and 'name="allow_conflicts"' in first.text
    assert Appointment.objects.count() == 1
    second = client.post(url, {**data, "allow_conflicts": "1"})
    assert second.status_code == 302
    assert Appointment.objects.count() == 2
    check = client.get(
        reverse("activities:appointment_conflicts"),
        {"account": account.pk, **data},
        headers={"HX-Request": "true"},
    )
    assert "先約" in check.text


def test_booking_page_shows_errors_next_to_fields(client, kam, account):
    client.force_login(kam)
    url = reverse("activities:appointment_create") + f"?account={account.pk}"
    response = client.post(
        url,
        {
            "kind": "meeting",
            "title": "x",
            "starts_at": at().strftime("%Y-%m-%dT%H:%M"),
            "ends_at": at(hour=9).strftime("%Y-%m-%dT%H:%M"),
            "meeting_url": "javascript:alert(1)",
        },
    )
    assert response.status_code == 422
    assert "id_ends_at_error" in response.text and "id_meeting_url_error" in response.text
    assert not Appointment.objects.exists()


def test_detail_cancel_and_reschedule_through_pages(client, kam, account):
    appointment = book(kam, account)
    client.force_login(kam)
    url = reverse("activities:appointment_cancel", args=[appointment.pk])
    assert client.post(url, {"reason": ""}).status_code == 422
    response = client.post(url, {"reason": "先方都合", "version": appointment.version})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    account_page = client.get(reverse("accounts:detail", args=[account.pk]))
    assert "先方都合" in account_page.text or "Appointment cancelled" in account_page.text


def test_account_and_contact_pages_show_upcoming_appointments(client, kam, account, make_contact):
    contact = make_contact(account)
    book(kam, account, title="来週の訪問", contacts=[contact])
    client.force_login(kam)
    page = client.get(reverse("accounts:detail", args=[account.pk]))
    assert "来週の訪問" in page.text
    assert reverse("activities:appointment_create") + f"?account={account.pk}" in page.text
    contact_page = client.get(reverse("accounts:contact_detail", args=[contact.pk]))
    assert "来週の訪問" in contact_page.text
