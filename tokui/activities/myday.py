""" "My day" on the dashboard: today's appointments, tasks overdue and due today, reminders that
have come due, and accounts that have gone too long without contact.

"Too long" is the tier's ContactCadence (days); "contact" is the account's latest interaction
(its ``occurred_at``), or its creation when it has none. Whose accounts: a KAM's or AM's own; a
head of sales' or administrator's team's (everyone's when they have no team). The service
department owns no accounts and gets none.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import F, Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from tokui.accounts.constants import AccountKind
from tokui.accounts.models import Account
from tokui.activities.appointments import appointment_list
from tokui.activities.constants import AppointmentStatus, TaskStatus
from tokui.activities.models import Appointment, ContactCadence, Task
from tokui.activities.task_selectors import HEAD_ROLES, day_bounds, task_due_reminders
from tokui.users.constants import Role
from tokui.users.models import User

QUIET_LIMIT = 10


@dataclass
class MyDay:
    appointments: list[Appointment] = field(default_factory=list)
    overdue: list[Task] = field(default_factory=list)
    due_today: list[Task] = field(default_factory=list)
    reminders: list[Task] = field(default_factory=list)
    quiet_accounts: list[Account] = field(default_factory=list)
    quiet_more: bool = False  # more quiet accounts than shown

    @property
    def due_count(self) -> int:
        return len(self.overdue) + len(self.due_today)

    @property
    def empty(self) -> bool:
        return not (self.appointments or self.overdue or self.due_today or self.quiet_accounts)


def quiet_accounts(
    *, viewer: User, now: datetime.datetime | None = None, limit: int = QUIET_LIMIT
) -> list[Account]:
    """Accounts past their tier's contact cadence, longest silent first.

    One query over the accounts (plus one for the few cadence rows): the latest interaction is
    an aggregate joined per account, never a query per account. Each account carries
    ``last_contact`` and ``days_quiet``.
    """
    now = now or timezone.now()
    if viewer.role == Role.SUPPORT or not viewer.is_active:
        return []
    cadences = dict(ContactCadence.objects.values_list("tier", "days"))
    if not cadences:
        return []
    qs = Account.objects.filter(archived_at__isnull=True).exclude(kind=AccountKind.COMPETITOR)
    if viewer.role in HEAD_ROLES:
        if viewer.team_id:
            qs = qs.filter(owner__team_id=viewer.team_id)
    else:
        qs = qs.filter(owner_id=viewer.pk)
    overdue = Q(pk__in=[])
    for tier, days in cadences.items():
        overdue |= Q(tier=tier, last_contact__lt=now - datetime.timedelta(days=days))
    accounts: list[Account] = list(
        qs.annotate(
            last_contact=Coalesce(
                Max("interactions__occurred_at", filter=Q(interactions__archived_at__isnull=True)),
                F("created_at"),
            )
        )
        .filter(overdue)
        .select_related("owner")
        .order_by("last_contact", "id")[:limit]
    )
    for account in accounts:
        account.days_quiet = (now - account.last_contact).days  # type: ignore[attr-defined]
        account.cadence_days = cadences.get(account.tier)  # type: ignore[attr-defined]
    return accounts


def my_day(*, viewer: User) -> MyDay:
    """Everything "my day" shows, for the signed-in user."""
    now = timezone.now()
    start, end = day_bounds()
    appointments = list(
        appointment_list(
            viewer=viewer,
            starts_from=start,
            starts_to=end,
            users=[viewer],
            status=[AppointmentStatus.SCHEDULED, AppointmentStatus.HELD],
        )
    )
    open_tasks = Task.objects.filter(owner_id=viewer.pk, status=TaskStatus.OPEN).select_related(
        "account"
    )
    overdue = list(open_tasks.filter(due_at__lt=now).order_by("due_at", "id")[:20])
    due_today = list(open_tasks.filter(due_at__gte=now, due_at__lt=end).order_by("due_at", "id"))
    quiet = quiet_accounts(viewer=viewer, now=now, limit=QUIET_LIMIT + 1)
    return MyDay(
        appointments=appointments,
        overdue=overdue,
        due_today=due_today[:20],
        reminders=[
            t for t in task_due_reminders(viewer=viewer) if t.due_at is None or t.due_at >= end
        ],
        quiet_accounts=quiet[:QUIET_LIMIT],
        quiet_more=len(quiet) > QUIET_LIMIT,
    )
