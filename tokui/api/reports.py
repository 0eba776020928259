"""/api/v1/ endpoints for daily reports (日報) and the meeting brief's PDF (see tokui.activities).

The same selectors and services as the pages: a person reads their own reports, a team's
manager their members', heads of sales and administrators everyone's; others get a 404.
"""

import datetime
import re
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import BeforeValidator, Field

from tokui.activities import daily_reports as reports
from tokui.activities.brief import appointment_brief_get, brief_context, brief_filename
from tokui.activities.constants import ReportStatus
from tokui.activities.models import DailyReport, DailyReportComment
from tokui.activities.pdf import PDF_CONTENT_TYPE, pdf_response, render_pdf
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.schemas import Strict
from tokui.core.exceptions import NotFound
from tokui.users.selectors import user_get_by_username

router = Router(tags=["reports"])

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    """Only ``YYYY-MM-DD``: pydantic would also take a number as seconds since 1970."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        return value
    raise ValueError("Enter a day as YYYY-MM-DD.")


Day = Annotated[datetime.date, BeforeValidator(_iso_day)]


class CommentOut(Schema):
    id: int
    author: str | None = Field(description="The author's user name (None if deleted).")
    body: str
    created_at: datetime.datetime

    @staticmethod
    def resolve_author(obj: DailyReportComment) -> str | None:
        return obj.author.username if obj.author else None


class DailyReportOut(Schema):
    id: int
    user: str = Field(description="The author's user name.")
    day: datetime.date
    summary: str
    status: ReportStatus
    submitted_at: datetime.datetime | None
    reviewed_by: str | None = Field(description="Who read it last (user name).")
    reviewed_at: datetime.datetime | None
    version: int = Field(description="Send it back with a PUT to refuse stale edits.")
    comments: list[CommentOut]

    @staticmethod
    def resolve_user(obj: DailyReport) -> str:
        return obj.user.username

    @staticmethod
    def resolve_reviewed_by(obj: DailyReport) -> str | None:
        return obj.reviewed_by.username if obj.reviewed_by else None

    @staticmethod
    def resolve_comments(obj: DailyReport) -> list[DailyReportComment]:
        return list(obj.comments.all())


class DayItemOut(Schema):
    id: int
    kind: str
    title: str
    account_id: int | None
    account: str | None
    at: datetime.datetime | None
    status: str = ""


class DayCountsOut(Schema):
    calls_out: int
    calls_in: int
    calls_reached: int
    meetings: int
    emails: int
    appointments_held: int
    appointments_cancelled: int
    tasks_completed: int
    accounts_touched: int


class DailyReportDayOut(Schema):
    day: datetime.date
    report: DailyReportOut | None = Field(description="None until the day's report is saved.")
    counts: DayCountsOut
    interactions: list[DayItemOut]
    appointments: list[DayItemOut]
    tasks_completed: list[DayItemOut]
    tasks_created: list[DayItemOut]
    tasks_overdue: list[DayItemOut]


class DailyReportPut(Strict):
    summary: str = Field("", max_length=reports.SUMMARY_MAX_LENGTH)
    submit: bool = Field(
        False, strict=True, description="Hand the report in (it cannot go back to draft)."
    )
    version: int | None = Field(
        None, ge=1, le=2**31, strict=True, description="The version you loaded."
    )


class CommentIn(Strict):
    body: str = Field(min_length=1, max_length=reports.COMMENT_MAX_LENGTH)


class ReportListQuery(Schema):
    user: str | None = Field(None, max_length=150, description="A user name; default: you.")
    date_from: Day | None = Field(None, description="Default: 30 days before date_to.")
    date_to: Day | None = Field(None, description="Default: today.")


class DailyReportPage(Schema):
    items: list[DailyReportOut]
    count: int


@router.get(
    "/daily-reports",
    response={200: DailyReportPage, **ERRORS},
    summary="List daily reports (yours, or a person's you may read)",
)
def list_daily_reports(request: HttpRequest, filters: Query[ReportListQuery]) -> dict[str, Any]:
    viewer = request_user(request)
    person = viewer
    if filters.user:
        found = user_get_by_username(username=filters.user)
        if found is None:
            raise NotFound(_("There is no such report."))
        person = found
    date_to = filters.date_to or timezone.localdate()
    date_from = filters.date_from or date_to - datetime.timedelta(days=30)
    qs = reports.report_list(viewer=viewer, date_from=date_from, date_to=date_to, user=person)
    items = list(qs.prefetch_related("comments__author")[:400])
    return {"items": items, "count": len(items)}


def _item(obj: Any, *, kind: str, title: str, at: Any, status: str = "") -> dict[str, Any]:
    account = getattr(obj, "account", None)
    return {
        "id": obj.pk,
        "kind": kind,
        "title": title,
        "account_id": account.pk if account else None,
        "account": account.name if account else None,
        "at": at,
        "status": status,
    }


@router.get(
    "/daily-reports/{day}",
    response={200: DailyReportDayOut, **ERRORS},
    summary="Your day and your report for a date",
)
def get_daily_report(request: HttpRequest, day: Day) -> dict[str, Any]:
    viewer = request_user(request)
    rd = reports.report_day(viewer=viewer, user=viewer, day=day)
    return {
        "day": rd.day,
        "report": reports.report_with_comments(rd.report) if rd.report else None,
        "counts": rd.counts,
        "interactions": [
            _item(i, kind=i.kind, title=i.subject, at=i.occurred_at) for i in rd.interactions
        ],
        "appointments": [
            _item(a, kind=a.kind, title=a.title, at=a.starts_at, status=a.status)
            for a in rd.appointments
        ],
        "tasks_completed": [
            _item(t, kind="task", title=t.title, at=t.completed_at, status=t.status)
            for t in rd.tasks_completed
        ],
        "tasks_created": [
            _item(t, kind="task", title=t.title, at=t.created_at, status=t.status)
            for t in rd.tasks_created
        ],
        "tasks_overdue": [
            _item(t, kind="task", title=t.title, at=t.due_at, status=t.status)
            for t in rd.tasks_overdue
        ],
    }


@router.put(
    "/daily-reports/{day}",
    response={200: DailyReportOut, **ERRORS},
    summary="Save (and with submit: true, submit) your report for a date",
)
def put_daily_report(request: HttpRequest, day: Day, payload: DailyReportPut) -> Any:
    report = reports.daily_report_save(
        actor=request_user(request),
        day=day,
        summary=payload.summary,
        submit=payload.submit,
        version=payload.version,
    )
    return reports.report_with_comments(report)


@router.post(
    "/daily-reports/{report_id}/comments",
    response={201: CommentOut, **ERRORS},
    summary="Comment on a submitted report (a manager's comment marks it read)",
)
def comment_daily_report(request: HttpRequest, report_id: int, payload: CommentIn) -> Status:
    viewer = request_user(request)
    report = reports.report_get(viewer=viewer, report_id=report_id)
    comment = reports.daily_report_comment(actor=viewer, report=report, body=payload.body)
    return Status(201, comment)


@router.get(
    "/appointments/{appointment_id}/brief.pdf",
    response=ERRORS,
    summary="The meeting brief as a PDF (A4)",
    url_name="appointment_brief_pdf",
    openapi_extra={
        "responses": {
            200: {
                "description": "The brief, in the caller's language.",
                "content": {PDF_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def appointment_brief_pdf(request: HttpRequest, appointment_id: int) -> HttpResponse:
    brief = appointment_brief_get(viewer=request_user(request), appointment_id=appointment_id)
    data = render_pdf("activities/brief/brief_pdf.html", brief_context(request, brief), request)
    return pdf_response(data, filename=brief_filename(brief))
