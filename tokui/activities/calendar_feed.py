"""Each user's private iCalendar feed (``/calendar/<token>.ics``) and its revocable token.

Google Calendar, Outlook and Apple Calendar subscribe to the URL and poll it. Each appointment
is one VEVENT whose UID never changes; SEQUENCE grows with every change a calendar must apply,
and a cancelled appointment stays in the feed as STATUS:CANCELLED so calendars remove it.
Times are written in UTC, so no VTIMEZONE is needed.
"""

import datetime
import hmac
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vText

from tokui.activities.constants import AppointmentKind, AppointmentStatus, MeetingMode
from tokui.activities.models import Appointment, CalendarFeed
from tokui.core.audit import audit_record
from tokui.core.exceptions import NotFound, PermissionDenied
from tokui.users.constants import ROLES_SEEING_ALL
from tokui.users.models import User

FEED_PAST = datetime.timedelta(days=90)
FEED_FUTURE = datetime.timedelta(days=365)
# The part of a token looked up in the database; the rest is compared in constant time, so
# response times tell an attacker nothing about how much of a guessed token was right.
_SELECTOR_LENGTH = 8
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
# Reading a feed records when, at most this often (calendars poll every few minutes).
_TOUCH_EVERY = datetime.timedelta(hours=1)


def _may_manage(actor: User, user: User) -> None:
    if actor.pk != user.pk and actor.role not in ROLES_SEEING_ALL - {"support"}:
        raise PermissionDenied(_("You can only manage your own calendar link."))


def calendar_feed_live(*, user: User) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


def calendar_feed_get_or_create(*, actor: User, user: User) -> CalendarFeed:
    """The user's live feed, created on first use (idempotent; safe under concurrent calls)."""
    _may_manage(actor, user)
    feed = calendar_feed_live(user=user)
    if feed is not None:
        return feed
    try:
        with transaction.atomic():
            feed = CalendarFeed.objects.create(user=user)
            audit_record(actor=actor, action="activities.calendar_feed.created", target=feed)
    except IntegrityError:
        # Another request created it first (one live feed per user is a database constraint).
        feed = calendar_feed_live(user=user)
        if feed is None:  # pragma: no cover - revoked in between; let the caller retry
            raise
    return feed


@transaction.atomic
def calendar_feed_rotate(*, actor: User, user: User) -> CalendarFeed:
    """Revoke the user's link (calendars subscribed to it get 404 from now on); make a new one."""
    _may_manage(actor, user)
    now = timezone.now()
    # Lock the user's row so two resets at once revoke and create in turn.
    User.objects.select_for_update().filter(pk=user.pk).first()
    revoked = CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    feed = CalendarFeed.objects.create(user=user, created_at=now)
    audit_record(
        actor=actor,
        action="activities.calendar_feed.rotated",
        target=feed,
        changes={"revoked": [None, revoked]},
    )
    return feed


def calendar_feed_path(feed: CalendarFeed) -> str:
    return reverse("activities:calendar_feed", kwargs={"token": feed.token})


def calendar_feed_url(feed: CalendarFeed, base_url: str | None = None) -> str:
    """The absolute feed URL, on ``TOKUI_BASE_URL`` unless a base is given."""
    base = (base_url or settings.TOKUI_BASE_URL).rstrip("/")
    return base + calendar_feed_path(feed)


def calendar_feed_by_token(*, token: str) -> CalendarFeed:
    """The live feed of an active user with this token; anything else is NotFound (→ 404)."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise NotFound(_("No such calendar."))
    candidates = CalendarFeed.objects.filter(
        token__startswith=token[:_SELECTOR_LENGTH], revoked_at__isnull=True
    ).select_related("user")
    found = None
    for feed in candidates:
        if hmac.compare_digest(feed.token.encode(), token.encode()):
            found = feed
    if found is None or not found.user.is_active:
        raise NotFound(_("No such calendar."))
    return found


def calendar_feed_touch(feed: CalendarFeed) -> None:
    """Remember when the feed was last read (shown on the subscription page)."""
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > _TOUCH_EVERY:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)


def calendar_feed_appointments(*, user: User) -> list[Appointment]:
    """The user's appointments (organizer or participant), 90 days back to a year ahead."""
    now = timezone.now()
    invited = Appointment.participants.through.objects.filter(user_id=user.pk).values(
        "appointment_id"
    )
    return list(
        Appointment.objects.filter(Q(organizer_id=user.pk) | Q(pk__in=invited))
        .filter(ends_at__gt=now - FEED_PAST, starts_at__lt=now + FEED_FUTURE)
        .select_related("account", "organizer")
        .prefetch_related("contacts", "participants")
        .order_by("starts_at", "id")
    )


def _description(appointment: Appointment, page_url: str) -> str:
    lines = []
    if appointment.agenda:
        lines += [appointment.agenda, ""]
    lines.append(_("Account: %(name)s") % {"name": appointment.account.name})
    contacts = [str(c) for c in appointment.contacts.all()]
    if contacts:
        lines.append(_("Their participants: %(names)s") % {"names": ", ".join(contacts)})
    ours = [str(appointment.organizer), *(str(u) for u in appointment.participants.all())]
    lines.append(_("Our participants: %(names)s") % {"names": ", ".join(ours)})
    if appointment.phone_number:
        lines.append(_("Number to call: %(n)s") % {"n": appointment.phone_number})
    if appointment.meeting_url:
        lines.append(_("Meeting link: %(url)s") % {"url": appointment.meeting_url})
    if appointment.status == AppointmentStatus.CANCELLED and appointment.cancel_reason:
        lines.append(_("Cancelled: %(reason)s") % {"reason": appointment.cancel_reason})
    lines += ["", page_url]
    return "\n".join(lines)


def _location(appointment: Appointment) -> str:
    if appointment.place:
        return appointment.place
    if appointment.mode == MeetingMode.ONLINE and appointment.meeting_url:
        return appointment.meeting_url
    if appointment.kind == AppointmentKind.PHONE and appointment.phone_number:
        return appointment.phone_number
    return ""


def calendar_feed_render(*, feed: CalendarFeed, base_url: str) -> bytes:
    """The feed as iCalendar bytes (RFC 5545), times in UTC."""
    user = feed.user
    cal = Calendar()
    cal.add("prodid", "-//Tokui//Tokui CRM//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("Tokui — %(name)s") % {"name": user})
    cal.add("x-published-ttl", "PT1H")
    base = base_url.rstrip("/")
    for appointment in calendar_feed_appointments(user=user):
        page_url = base + reverse(
            "activities:appointment_detail", kwargs={"appointment_id": appointment.pk}
        )
        event = Event()
        event.add("uid", appointment.uid)
        event.add("sequence", appointment.sequence)
        event.add("dtstamp", appointment.updated_at.astimezone(datetime.UTC))
        event.add("last-modified", appointment.updated_at.astimezone(datetime.UTC))
        event.add("created", appointment.created_at.astimezone(datetime.UTC))
        event.add("dtstart", appointment.starts_at.astimezone(datetime.UTC))
        event.add("dtend", appointment.ends_at.astimezone(datetime.UTC))
        title = appointment.title
        if appointment.account.name not in title:
            title = f"{title} ({appointment.account.name})"
        event.add("summary", title)
        cancelled = appointment.status == AppointmentStatus.CANCELLED
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
        location = _location(appointment)
        if location:
            event.add("location", vText(location))
        event.add("url", appointment.meeting_url or page_url)
        event.add("description", _description(appointment, page_url))
        cal.add_component(event)
    return cal.to_ical()
