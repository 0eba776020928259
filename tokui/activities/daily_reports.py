"""The daily report (日報): a person's day, their comments, their manager's reading, rollups.

Who reads whose reports: everyone their own; a team's manager (``Team.manager``) the members
of that team; heads of sales and administrators everyone's. Anybody else gets a 404, as for a
record that does not exist. A draft stays private to its author until it is submitted.

Editing after submitting is allowed: the report returns to "submitted" (so the manager sees it
as unread again) and the audit trail keeps both versions of the comments.

The day itself is assembled from the records, never copied: the interactions the person
logged or took part in, their appointments (organizer or participant), and their tasks
(completed that day, created that day, overdue). Records on accounts the viewer may not see
are left out; a task without an account is shown to whoever may read the person's report.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import holidays
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tokui.accounts.models import Account
from tokui.activities.constants import (
    AppointmentStatus,
    CallOutcome,
    Direction,
    InteractionKind,
    ReportStatus,
    TaskStatus,
)
from tokui.activities.models import (
    Appointment,
    DailyReport,
    DailyReportComment,
    Interaction,
    Task,
)
from tokui.core.audit import audit_record
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.validation import ErrorCollector, check_plain_text
from tokui.users.constants import Role
from tokui.users.models import Team, User

SUMMARY_MAX_LENGTH = 10_000
COMMENT_MAX_LENGTH = 5_000
# The longest period a list or rollup covers in one request.
MAX_RANGE_DAYS = 366
ROLES_READING_ALL = frozenset({Role.ADMIN, Role.HEAD})


def report_scope(report: DailyReport) -> str:
    """The audit scope of one report: its history (saved, submitted, edited, read, comments)."""
    return f"daily_report:{report.pk}"


# --------------------------------------------------------------------------------------------
# Who reads whom


def readable_users(*, viewer: User) -> QuerySet[User]:
    """The people whose reports ``viewer`` may read (themself included)."""
    if not viewer.is_active:
        return User.objects.none()
    qs = User.objects.select_related("team")
    if viewer.role in ROLES_READING_ALL:
        return qs.filter(Q(is_active=True) | Q(pk=viewer.pk))
    return qs.filter(Q(pk=viewer.pk) | Q(team__manager=viewer, is_active=True))


def managed_teams(*, viewer: User) -> QuerySet[Team]:
    """Teams whose rollups ``viewer`` may see: all for heads of sales and admins, else their own."""
    if not viewer.is_active:
        return Team.objects.none()
    if viewer.role in ROLES_READING_ALL:
        return Team.objects.all()
    return Team.objects.filter(manager=viewer)


def may_read(*, viewer: User, user: User) -> bool:
    if not viewer.is_active:
        return False
    if viewer.pk == user.pk or viewer.role in ROLES_READING_ALL:
        return True
    if user.team_id is None:
        return False
    return Team.objects.filter(pk=user.team_id, manager=viewer).exists()


def may_review(*, viewer: User, user: User) -> bool:
    """A reader other than the author: reads, comments, marks as read."""
    return viewer.pk != user.pk and may_read(viewer=viewer, user=user)


def is_manager(*, viewer: User) -> bool:
    """Whether ``viewer`` reads anyone's reports but their own (shows "Team reports")."""
    return viewer.is_active and (
        viewer.role in ROLES_READING_ALL or Team.objects.filter(manager=viewer).exists()
    )


def report_user_get(*, viewer: User, user_id: int) -> User:
    user = readable_users(viewer=viewer).filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("There is no such report."))
    return user


def report_recipients(user: User) -> list[User]:
    """Who is told when ``user`` submits: their team's manager, else the heads of sales."""
    team = (
        Team.objects.select_related("manager").filter(pk=user.team_id).first()
        if user.team_id is not None
        else None
    )
    manager = team.manager if team else None
    if manager is not None and manager.pk != user.pk and manager.is_active:
        return [manager]
    return list(User.objects.filter(role=Role.HEAD, is_active=True).exclude(id=user.id))


# --------------------------------------------------------------------------------------------
# Days and working days


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """Start and end (exclusive) of ``day`` in the site's time zone, as aware datetimes."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return start, end


def japanese_holidays(start: datetime.date, end: datetime.date) -> dict[datetime.date, str]:
    """Public holidays of Japan between ``start`` and ``end`` (inclusive), with their names."""
    years = range(start.year, end.year + 1)
    language = "ja" if translation.get_language() == "ja" else "en_US"
    table = holidays.country_holidays("JP", years=years, language=language)
    return {d: str(name) for d, name in sorted(table.items()) if start <= d <= end}


def working_days(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """Monday to Friday from ``start`` to ``end`` (inclusive), without Japan's public holidays."""
    off = japanese_holidays(start, end)
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5 and day not in off:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def period_bounds(period: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The week (Monday to Sunday) or calendar month that holds ``day``."""
    if period == "month":
        first = day.replace(day=1)
        following = (first + datetime.timedelta(days=32)).replace(day=1)
        return first, following - datetime.timedelta(days=1)
    monday = day - datetime.timedelta(days=day.weekday())
    return monday, monday + datetime.timedelta(days=6)


def check_range(date_from: datetime.date, date_to: datetime.date) -> None:
    errors = ErrorCollector()
    if date_to < date_from:
        errors.add("date_to", _("The end date is before the start date."))
    elif (date_to - date_from).days >= MAX_RANGE_DAYS:
        errors.add("date_to", _("Choose at most %(n)d days.") % {"n": MAX_RANGE_DAYS})
    errors.raise_if_any()


# --------------------------------------------------------------------------------------------
# The day


@dataclass
class ReportDay:
    """Everything one person did on one day, as ``viewer`` may see it."""

    user: User
    day: datetime.date
    report: DailyReport | None
    interactions: list[Interaction]
    appointments: list[Appointment]
    tasks_completed: list[Task]
    tasks_created: list[Task]
    tasks_overdue: list[Task]
    comments: list[DailyReportComment] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def appointments_held(self) -> list[Appointment]:
        return [a for a in self.appointments if a.status == AppointmentStatus.HELD]

    @property
    def appointments_scheduled(self) -> list[Appointment]:
        return [a for a in self.appointments if a.status == AppointmentStatus.SCHEDULED]

    @property
    def appointments_cancelled(self) -> list[Appointment]:
        return [a for a in self.appointments if a.status == AppointmentStatus.CANCELLED]

    @property
    def is_empty(self) -> bool:
        return not (
            self.interactions
            or self.appointments
            or self.tasks_completed
            or self.tasks_created
            or self.tasks_overdue
        )


def _visible_accounts(viewer: User) -> QuerySet[Account] | None:
    """None when the viewer sees every account (no filter needed)."""
    if viewer.sees_all_accounts:
        return None
    return Account.objects.visible_to(viewer).values("pk")  # type: ignore[return-value]


def _on_visible(qs: QuerySet[Any], viewer: User, *, optional: bool = False) -> QuerySet[Any]:
    visible = _visible_accounts(viewer)
    if visible is None:
        return qs
    rule = Q(account__in=visible)
    if optional:
        rule |= Q(account__isnull=True)
    return qs.filter(rule)


def _interactions_of(user_q: Q, start: datetime.datetime, end: datetime.datetime) -> Any:
    return Interaction.objects.filter(
        user_q, occurred_at__gte=start, occurred_at__lt=end, archived_at__isnull=True
    )


def report_day(*, viewer: User, user: User, day: datetime.date) -> ReportDay:
    """``user``'s day as ``viewer`` may see it. Raises NotFound when viewer may not read it."""
    if not may_read(viewer=viewer, user=user):
        raise NotFound(_("There is no such report."))
    start, end = day_bounds(day)
    took_part = Interaction.participants.through.objects.filter(user_id=user.pk).values(
        "interaction_id"
    )
    interactions = (
        _on_visible(
            _interactions_of(Q(author=user) | Q(pk__in=took_part), start, end),
            viewer,
        )
        .select_related("account", "author")
        .prefetch_related("contacts")
        .order_by("occurred_at", "id")
    )
    joined = Appointment.participants.through.objects.filter(user_id=user.pk).values(
        "appointment_id"
    )
    appointments = (
        _on_visible(
            Appointment.objects.filter(
                Q(organizer=user) | Q(pk__in=joined), starts_at__gte=start, starts_at__lt=end
            ),
            viewer,
        )
        .select_related("account", "organizer")
        .order_by("starts_at", "id")
    )
    tasks = _on_visible(Task.objects.filter(owner=user), viewer, optional=True).select_related(
        "account"
    )
    overdue_before = min(timezone.now(), end)
    report = DailyReport.objects.filter(user=user, day=day).select_related("reviewed_by").first()
    if report is not None and viewer.pk != user.pk and report.status == ReportStatus.DRAFT:
        report_shown: DailyReport | None = None  # a draft is its author's until submitted
    else:
        report_shown = report
    comments = (
        list(report_shown.comments.select_related("author")) if report_shown is not None else []
    )
    result = ReportDay(
        user=user,
        day=day,
        report=report_shown,
        interactions=list(interactions),
        appointments=list(appointments),
        tasks_completed=list(
            tasks.filter(
                status=TaskStatus.DONE, completed_at__gte=start, completed_at__lt=end
            ).order_by("completed_at", "id")
        ),
        tasks_created=list(
            tasks.filter(created_at__gte=start, created_at__lt=end).order_by("created_at", "id")
        ),
        tasks_overdue=list(
            tasks.filter(status=TaskStatus.OPEN, due_at__lt=overdue_before).order_by("due_at", "id")
        ),
        comments=comments,
    )
    result.counts = _day_counts(result)
    return result


def _day_counts(day: ReportDay) -> dict[str, int]:
    calls = [i for i in day.interactions if i.kind == InteractionKind.CALL]
    return {
        "calls_out": sum(1 for i in calls if i.direction == Direction.OUTBOUND),
        "calls_in": sum(1 for i in calls if i.direction == Direction.INBOUND),
        "calls_reached": sum(1 for i in calls if i.outcome == CallOutcome.REACHED),
        "meetings": sum(
            1
            for i in day.interactions
            if i.kind in (InteractionKind.MEETING, InteractionKind.VISIT)
        ),
        "emails": sum(1 for i in day.interactions if i.kind == InteractionKind.EMAIL),
        "appointments_held": len(day.appointments_held),
        "appointments_cancelled": len(day.appointments_cancelled),
        "tasks_completed": len(day.tasks_completed),
        "accounts_touched": len({i.account_id for i in day.interactions}),
    }


def report_get(*, viewer: User, report_id: int) -> DailyReport:
    """A report ``viewer`` may read; someone else's draft is not found."""
    report = (
        DailyReport.objects.select_related("user", "user__team", "reviewed_by")
        .filter(pk=report_id)
        .first()
    )
    if (
        report is None
        or not may_read(viewer=viewer, user=report.user)
        or (report.user_id != viewer.pk and report.status == ReportStatus.DRAFT)
    ):
        raise NotFound(_("There is no such report."))
    return report


def report_with_comments(report: DailyReport) -> DailyReport:
    """The report (already checked readable) with its author, reader and comments loaded."""
    return (
        DailyReport.objects.select_related("user", "reviewed_by")
        .prefetch_related("comments__author")
        .get(pk=report.pk)
    )


def report_list(
    *,
    viewer: User,
    date_from: datetime.date,
    date_to: datetime.date,
    user: User | None = None,
    unread_first: bool = False,
) -> QuerySet[DailyReport]:
    """Reports ``viewer`` may read between two days: their own (drafts too) and others'
    submitted ones; ``user`` narrows to one person (NotFound when not readable)."""
    check_range(date_from, date_to)
    if user is not None and not may_read(viewer=viewer, user=user):
        raise NotFound(_("There is no such report."))
    people = readable_users(viewer=viewer).values("pk")
    qs = DailyReport.objects.filter(
        Q(user=viewer)
        | Q(user__in=people, status__in=[ReportStatus.SUBMITTED, ReportStatus.REVIEWED]),
        day__gte=date_from,
        day__lte=date_to,
    )
    if user is not None:
        qs = qs.filter(user=user)
    qs = qs.select_related("user", "user__team", "reviewed_by").annotate(
        comment_count=Count("comments")
    )
    if unread_first:
        unread = Q(status=ReportStatus.SUBMITTED)
        qs = qs.annotate(
            unread=Case(When(unread, then=Value(0)), default=Value(1), output_field=IntegerField())
        ).order_by("unread", "-day", "user__username")
    else:
        qs = qs.order_by("-day", "user__username")
    return qs


def team_report_list(
    *, viewer: User, date_from: datetime.date, date_to: datetime.date, user: User | None = None
) -> QuerySet[DailyReport]:
    """Other people's submitted reports for a manager, unread first."""
    return report_list(
        viewer=viewer, date_from=date_from, date_to=date_to, user=user, unread_first=True
    ).exclude(user=viewer)


def report_history(*, report: DailyReport) -> list[Any]:
    from tokui.core.audit import audit_for_scope

    return list(audit_for_scope(scope=report_scope(report), limit=50))


# --------------------------------------------------------------------------------------------
# Writes


def _clean_text(field_name: str, value: str, limit: int, *, required: bool = False) -> str:
    errors = ErrorCollector()
    value = (value or "").strip()
    if "\x00" in value:
        errors.add(field_name, _("Null characters are not allowed."))
    elif len(value) > limit:
        errors.add(
            field_name,
            _("The text is too long: at most %(limit)d characters (it has %(n)d).")
            % {"limit": limit, "n": len(value)},
        )
    elif required and not value:
        errors.add(field_name, _("Write a comment first."))
    else:
        check_plain_text(field_name, value, errors)
    errors.raise_if_any()
    return value


@transaction.atomic
def daily_report_save(
    *,
    actor: User,
    day: datetime.date,
    summary: str,
    submit: bool = False,
    version: int | None = None,
) -> DailyReport:
    """Save the actor's comments on their own day and, with ``submit``, hand it in.

    A report that was already submitted (or read) and is edited goes back to "submitted", so
    the manager sees it as unread; the audit trail keeps the earlier text. Side effect: on
    submitting (and on re-submitting a report the manager had read) the manager gets an
    e-mail after commit.
    """
    if not actor.is_active:
        raise PermissionDenied(_("Your user is not active."))
    summary = _clean_text("summary", summary, SUMMARY_MAX_LENGTH)
    if day > timezone.localdate():
        raise ApplicationError(
            _("That day has not come yet: write the report on the day or after it."),
            field="day",
            status=422,
        )
    if submit and not summary:
        raise ApplicationError(
            _("Write a few words about your day before you submit the report."),
            field="summary",
            status=422,
        )
    report, created = DailyReport.objects.select_for_update().get_or_create(user=actor, day=day)
    if not created and version is not None and version != report.version:
        raise Conflict(
            _(
                "This report was changed elsewhere (another tab or the app) while you were "
                "editing it. Your changes were not saved: reload, then make them again."
            )
        )
    before = {"summary": report.summary, "status": report.status}
    was = report.status
    now = timezone.now()
    report.summary = summary
    if submit or was != ReportStatus.DRAFT:
        report.status = ReportStatus.SUBMITTED
    changed = report.summary != before["summary"] or report.status != was
    if not changed and not created:
        return report
    if report.status == ReportStatus.SUBMITTED and was == ReportStatus.DRAFT:
        report.submitted_at = now
    report.version += 1
    report.updated_at = now
    report.save(update_fields=["summary", "status", "submitted_at", "version", "updated_at"])
    if was == ReportStatus.DRAFT and report.status == ReportStatus.SUBMITTED:
        action = "activities.daily_report.submitted"
    elif was != ReportStatus.DRAFT:
        action = "activities.daily_report.edited_after_submit"
    else:
        action = "activities.daily_report.saved"
    changes = {
        k: [before[k], v]
        for k, v in (("summary", report.summary), ("status", report.status))
        if before[k] != v
    }
    audit_record(
        actor=actor, action=action, target=report, changes=changes, scope=report_scope(report)
    )
    # Tell the manager when there is something new to read: a first submission, or an edit to a
    # report they had already read. Edits to a still-unread report would only be noise.
    if was in (ReportStatus.DRAFT, ReportStatus.REVIEWED) and report.status == (
        ReportStatus.SUBMITTED
    ):
        report_id, resubmitted = report.pk, was == ReportStatus.REVIEWED
        transaction.on_commit(
            lambda: notify_submitted(report_id, resubmitted=resubmitted), robust=True
        )
    return report


@transaction.atomic
def daily_report_mark_read(*, actor: User, report: DailyReport) -> DailyReport:
    """The manager has read the report (commenting does this too)."""
    report = (
        DailyReport.objects.select_for_update(of=("self",)).select_related("user").get(pk=report.pk)
    )
    _require_reviewer(actor, report)
    if report.status == ReportStatus.REVIEWED:
        return report
    before = report.status
    report.status = ReportStatus.REVIEWED
    report.reviewed_by = actor
    report.reviewed_at = timezone.now()
    report.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    audit_record(
        actor=actor,
        action="activities.daily_report.read",
        target=report,
        changes={"status": [before, report.status]},
        scope=report_scope(report),
    )
    return report


def _require_reviewer(actor: User, report: DailyReport) -> None:
    if not may_read(viewer=actor, user=report.user) or (
        report.user_id != actor.pk and report.status == ReportStatus.DRAFT
    ):
        raise NotFound(_("There is no such report."))
    if report.user_id == actor.pk:
        raise PermissionDenied(_("Your manager marks your report as read, not you."))


@transaction.atomic
def daily_report_comment(*, actor: User, report: DailyReport, body: str) -> DailyReportComment:
    """A comment on a submitted report. From a manager it also marks the report read; the
    author may answer. Side effect: the other side gets an e-mail after commit."""
    report = (
        DailyReport.objects.select_for_update(of=("self",)).select_related("user").get(pk=report.pk)
    )
    if not may_read(viewer=actor, user=report.user) or (
        report.user_id != actor.pk and report.status == ReportStatus.DRAFT
    ):
        raise NotFound(_("There is no such report."))
    if report.status == ReportStatus.DRAFT:
        raise ApplicationError(
            _("Submit the report first; comments are for submitted reports."), field="body"
        )
    body = _clean_text("body", body, COMMENT_MAX_LENGTH, required=True)
    comment = DailyReportComment.objects.create(report=report, author=actor, body=body)
    audit_record(
        actor=actor,
        action="activities.daily_report.commented",
        target=report,
        scope=report_scope(report),
        note=body[:300],
    )
    if report.user_id != actor.pk:
        daily_report_mark_read(actor=actor, report=report)
    comment_id = comment.pk
    transaction.on_commit(lambda: notify_commented(comment_id), robust=True)
    return comment


# --------------------------------------------------------------------------------------------
# Notifications (after commit)


def _report_url(report: DailyReport) -> str:
    path = reverse("activities:daily_report_detail", args=[report.user_id, report.day.isoformat()])
    base = getattr(settings, "TOKUI_BASE_URL", "").rstrip("/")
    return f"{base}{path}"


def _send(to: Iterable[User], subject: str, body: str) -> int:
    addresses = sorted({u.email for u in to if u.email})
    if not addresses:
        return 0
    EmailMessage(subject=subject, body=body, to=addresses).send()
    return len(addresses)


def notify_submitted(report_id: int, *, resubmitted: bool = False) -> int:
    """E-mail the author's manager that a report is waiting. Returns how many were sent to."""
    report = DailyReport.objects.select_related("user").filter(pk=report_id).first()
    if report is None:
        return 0
    recipients = report_recipients(report.user)
    context = {"report": report, "url": _report_url(report), "resubmitted": resubmitted}
    # Mail goes out in the site's language: the recipient's own is not stored.
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Daily report from %(name)s for %(day)s") % {
            "name": report.user,
            "day": report.day.isoformat(),
        }
        body = render_to_string("activities/reports/mail_submitted.txt", context)
    return _send(recipients, subject, body)


def notify_commented(comment_id: int) -> int:
    comment = (
        DailyReportComment.objects.select_related("report", "report__user", "author")
        .filter(pk=comment_id)
        .first()
    )
    if comment is None:
        return 0
    report = comment.report
    if comment.author_id == report.user_id:
        recipients = [report.reviewed_by] if report.reviewed_by else report_recipients(report.user)
    else:
        recipients = [report.user]
    context = {"comment": comment, "report": report, "url": _report_url(report)}
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Comment on the daily report for %(day)s") % {"day": report.day.isoformat()}
        body = render_to_string("activities/reports/mail_commented.txt", context)
    return _send([u for u in recipients if u is not None], subject, body)


# --------------------------------------------------------------------------------------------
# Rollups


ROLLUP_METRICS = (
    "calls_out",
    "calls_in",
    "calls_reached",
    "meetings",
    "emails",
    "appointments_held",
    "appointments_cancelled",
    "tasks_completed",
    "accounts_touched",
    "reports_submitted",
)


class _CountStar(Func):
    """COUNT(col) of a correlated subquery: one number per outer row, no GROUP BY."""

    function = "COUNT"
    output_field = IntegerField()


class _CountDistinct(Func):
    function = "COUNT"
    template = "%(function)s(DISTINCT %(expressions)s)"
    output_field = IntegerField()


def _count(qs: QuerySet[Any], *, column: str = "pk", distinct: bool = False) -> Coalesce:
    func = _CountDistinct(F(column)) if distinct else _CountStar(F(column))
    return Coalesce(
        Subquery(qs.order_by().annotate(n=func).values("n")[:1], output_field=IntegerField()),
        Value(0),
    )


@dataclass
class RollupRow:
    label: str
    obj: Any
    values: dict[str, int]
    working_days: int
    expected_reports: int

    @property
    def submission_rate(self) -> int | None:
        if not self.expected_reports:
            return None
        return round(100 * self.values["reports_submitted"] / self.expected_reports)


@dataclass
class Rollup:
    period: str
    by: str
    start: datetime.date
    end: datetime.date
    working_days: list[datetime.date]
    holidays: dict[datetime.date, str]
    rows: list[RollupRow]
    totals: dict[str, int]


def _annotations(viewer: User, *, by: str, start: datetime.date, end: datetime.date) -> dict:
    """One correlated count per metric; the outer row is a user (``by="person"``) or a team."""
    begin, _x = day_bounds(start)
    _y, finish = day_bounds(end)
    if by == "team":
        mine_i = Q(author__team_id=OuterRef("pk")) | Q(
            pk__in=Interaction.participants.through.objects.filter(
                user__team_id=OuterRef(OuterRef("pk"))
            ).values("interaction_id")
        )
        mine_a = Q(organizer__team_id=OuterRef("pk")) | Q(
            pk__in=Appointment.participants.through.objects.filter(
                user__team_id=OuterRef(OuterRef("pk"))
            ).values("appointment_id")
        )
        mine_t = Q(owner__team_id=OuterRef("pk"))
        mine_r = Q(user__team_id=OuterRef("pk"), user__is_active=True)
    else:
        mine_i = Q(author_id=OuterRef("pk")) | Q(
            pk__in=Interaction.participants.through.objects.filter(
                user_id=OuterRef(OuterRef("pk"))
            ).values("interaction_id")
        )
        mine_a = Q(organizer_id=OuterRef("pk")) | Q(
            pk__in=Appointment.participants.through.objects.filter(
                user_id=OuterRef(OuterRef("pk"))
            ).values("appointment_id")
        )
        mine_t = Q(owner_id=OuterRef("pk"))
        mine_r = Q(user_id=OuterRef("pk"))
    interactions = _on_visible(
        Interaction.objects.filter(
            mine_i, occurred_at__gte=begin, occurred_at__lt=finish, archived_at__isnull=True
        ),
        viewer,
    )
    calls = interactions.filter(kind=InteractionKind.CALL)
    appointments = _on_visible(
        Appointment.objects.filter(mine_a, starts_at__gte=begin, starts_at__lt=finish), viewer
    )
    tasks = _on_visible(
        Task.objects.filter(
            mine_t, status=TaskStatus.DONE, completed_at__gte=begin, completed_at__lt=finish
        ),
        viewer,
        optional=True,
    )
    reports = DailyReport.objects.filter(
        mine_r,
        day__gte=start,
        day__lte=end,
        status__in=[ReportStatus.SUBMITTED, ReportStatus.REVIEWED],
    )
    return {
        "calls_out": _count(calls.filter(direction=Direction.OUTBOUND)),
        "calls_in": _count(calls.filter(direction=Direction.INBOUND)),
        "calls_reached": _count(calls.filter(outcome=CallOutcome.REACHED)),
        "meetings": _count(
            interactions.filter(kind__in=[InteractionKind.MEETING, InteractionKind.VISIT])
        ),
        "emails": _count(interactions.filter(kind=InteractionKind.EMAIL)),
        "appointments_held": _count(appointments.filter(status=AppointmentStatus.HELD)),
        "appointments_cancelled": _count(appointments.filter(status=AppointmentStatus.CANCELLED)),
        "tasks_completed": _count(tasks),
        "accounts_touched": _count(interactions, column="account_id", distinct=True),
        "reports_submitted": _count(reports),
    }


def report_rollup(
    *,
    viewer: User,
    period: str = "week",
    day: datetime.date | None = None,
    by: str = "person",
    team: Team | None = None,
) -> Rollup:
    """Counts per person or per team over a week or a month: one query for the whole table.

    Working days are Monday to Friday without Japan's public holidays, and stop at today for a
    period that is still running; a person is expected to submit one report per working day.
    """
    if period not in ("week", "month"):
        raise ApplicationError(_("Choose a week or a month."), field="period", status=422)
    if by not in ("person", "team"):
        raise ApplicationError(_("Choose per person or per team."), field="by", status=422)
    today = timezone.localdate()
    start, end = period_bounds(period, day or today)
    days = working_days(start, min(end, today)) if start <= today else []
    off = japanese_holidays(start, end)
    annotations = _annotations(viewer, by=by, start=start, end=end)
    rows: list[RollupRow] = []
    if by == "team":
        teams = managed_teams(viewer=viewer).annotate(
            member_count=_count(User.objects.filter(team_id=OuterRef("pk"), is_active=True)),
            **annotations,
        )
        for t in teams.order_by("name"):
            values = {k: getattr(t, k) for k in ROLLUP_METRICS}
            rows.append(
                RollupRow(str(t), t, values, len(days), expected_reports=len(days) * t.member_count)
            )
    else:
        # Administrators keep the system running; they are not expected to write reports.
        people = readable_users(viewer=viewer).exclude(Q(role=Role.ADMIN) & ~Q(pk=viewer.pk))
        if team is not None:
            people = people.filter(team=team)
        for u in people.annotate(**annotations).order_by("team__name", "username"):
            values = {k: getattr(u, k) for k in ROLLUP_METRICS}
            rows.append(RollupRow(str(u), u, values, len(days), expected_reports=len(days)))
    totals = {k: sum(r.values[k] for r in rows) for k in ROLLUP_METRICS}
    totals["expected_reports"] = sum(r.expected_reports for r in rows)
    return Rollup(period, by, start, end, days, off, rows, totals)
