"""The meeting brief: one page about an account to read before (and take to) a meeting.

It holds what Tokui knows today — the account's profile and screening, key people, the last
interactions, open tasks, the agenda — and, through ``brief_sections``, what later apps know:
open deals, open complaints, contract status, agreed prices. Those apps register a section in
their ``AppConfig.ready()`` (the same pattern as the account page's sections)::

    from tokui.activities.brief import brief_sections
    from tokui.core.sections import Section

    brief_sections.register(
        Section("deals", "pipeline/_brief_deals.html", deals_brief_context, place="main")
    )

``context(request, appointment)`` gets an appointment already checked to be visible; it returns
the section's template context, or None to leave the section out. Sections render inside the
page and the PDF alike, so their templates use plain HTML (``<section class="brief-panel">``,
``<h2>``, ``<table>``) that both style. Nothing is shown for an app that has not registered.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, Contact
from tokui.accounts.screening import ScreeningFlag, screening_flag_of
from tokui.activities.constants import TaskStatus
from tokui.activities.models import Appointment, Interaction, Task
from tokui.core.exceptions import NotFound
from tokui.core.sections import SectionRegistry
from tokui.users.models import User

brief_sections = SectionRegistry("brief_sections")

LAST_INTERACTIONS = 10
KEY_PEOPLE = 12
OPEN_TASKS = 15


@dataclass
class Brief:
    appointment: Appointment
    account: Account
    screening: ScreeningFlag
    people: list[Any]  # Contacts, the appointment's own first
    attending: set[int]
    interactions: list[Interaction]
    open_tasks: list[Task]
    generated_at: datetime.datetime

    @property
    def our_people(self) -> list[User]:
        others = [
            u for u in self.appointment.participants.all() if u.pk != self.appointment.organizer_id
        ]
        return [self.appointment.organizer, *others]


def appointment_brief_get(*, viewer: User, appointment_id: int) -> Brief:
    """The brief for an appointment whose account ``viewer`` may see (NotFound otherwise).

    A fixed number of queries whatever the account's size: the appointment, its people, the
    key contacts, the last interactions (with their contacts), the open tasks, the screening.
    """
    appointment = (
        Appointment.objects.filter(account__in=Account.objects.visible_to(viewer))
        .select_related("account", "account__owner", "account__owner__team", "organizer")
        .prefetch_related("participants", "contacts")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        raise NotFound(_("There is no such appointment."))
    account = appointment.account
    attending = {c.pk for c in appointment.contacts.all()}
    # The appointment's people first, then the account's other current contacts.
    people = list(
        Contact.objects.filter(account=account)
        .filter(archived_at__isnull=True)
        .annotate(
            attends=Case(
                When(pk__in=attending or [0], then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("attends", "sort_key", "id")[:KEY_PEOPLE]
    )
    interactions = list(
        Interaction.objects.filter(account=account, archived_at__isnull=True)
        .select_related("author")
        .prefetch_related("contacts")
        .order_by("-occurred_at", "-id")[:LAST_INTERACTIONS]
    )
    open_tasks = list(
        Task.objects.filter(account=account, status=TaskStatus.OPEN)
        .select_related("owner")
        .order_by("due_at", "id")[:OPEN_TASKS]
    )
    return Brief(
        appointment=appointment,
        account=account,
        screening=screening_flag_of(account),
        people=people,
        attending=attending,
        interactions=interactions,
        open_tasks=open_tasks,
        generated_at=timezone.now(),
    )


def brief_extra_sections(request: HttpRequest, brief: Brief) -> list[SafeString]:
    """The registered apps' sections, rendered, in order (all places together)."""
    rendered = brief_sections.render(request, brief.appointment)
    return [html for place in ("main", "side", "actions") for html in rendered.get(place, [])]


def brief_context(request: HttpRequest, brief: Brief) -> dict[str, Any]:
    return {
        "brief": brief,
        "appointment": brief.appointment,
        "account": brief.account,
        "extra_sections": brief_extra_sections(request, brief),
    }


def brief_filename(brief: Brief) -> str:
    """``brief-20261130-株式会社山田商事.pdf``: the meeting's day and the account."""
    when = timezone.localtime(brief.appointment.starts_at).strftime("%Y%m%d")
    name = "".join(c for c in brief.account.name if c not in '/\\:*?"<>|')
    return f"brief-{when}-{name}.pdf"
