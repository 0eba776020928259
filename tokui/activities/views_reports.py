"""Pages of the daily report (日報) and the meeting brief. Thin: parse, call, render."""

import datetime

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tokui.activities import daily_reports as reports
from tokui.activities.brief import appointment_brief_get, brief_context, brief_filename
from tokui.activities.constants import ReportStatus
from tokui.activities.forms_reports import DailyReportCommentForm, DailyReportForm, RollupForm
from tokui.activities.pdf import pdf_response, render_pdf
from tokui.core.exceptions import ApplicationError
from tokui.core.views import is_htmx, maps_service_errors
from tokui.users.models import User


def _viewer(request: HttpRequest) -> User:
    """The signed-in user (the login middleware keeps everyone else out of these pages)."""
    user = request.user
    if not isinstance(user, User):
        raise Http404
    return user


def _parse_day(value: str | None, default: datetime.date) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _day_nav(day: datetime.date) -> dict[str, datetime.date | None]:
    one = datetime.timedelta(days=1)
    today = timezone.localdate()
    return {"prev_day": day - one, "next_day": day + one if day < today else None, "today": today}


@maps_service_errors
@require_http_methods(["GET", "POST"])
def my_daily_report(request: HttpRequest) -> HttpResponse:
    """My day: what I did, my comments, submit. ``?date=YYYY-MM-DD`` (default today)."""
    user = _viewer(request)
    today = timezone.localdate()
    day = _parse_day(request.POST.get("day") or request.GET.get("date"), today)
    day = min(day, today)
    report_day = reports.report_day(viewer=user, user=user, day=day)
    report = report_day.report
    initial = {
        "summary": report.summary if report else "",
        "version": report.version if report else None,
    }
    form = DailyReportForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            submit = "submit" in request.POST
            try:
                saved = reports.daily_report_save(
                    actor=user,
                    day=day,
                    summary=form.cleaned_data["summary"],
                    submit=submit,
                    version=form.cleaned_data.get("version"),
                )
            except ApplicationError as exc:
                form.add_service_error(exc)
            else:
                if saved.status == ReportStatus.DRAFT:
                    messages.success(request, _("Draft saved."))
                elif submit and report is not None and report.status != ReportStatus.DRAFT:
                    messages.success(
                        request, _("Changes saved; your manager sees it as unread again.")
                    )
                elif submit or (report and report.status != ReportStatus.DRAFT):
                    messages.success(request, _("Report submitted. Your manager has been told."))
                return redirect(f"{reverse('activities:daily_report')}?date={day.isoformat()}")
        status = 422
    history = reports.report_history(report=report) if report else []
    return TemplateResponse(
        request,
        "activities/reports/my_report.html",
        {
            "rd": report_day,
            "report": report,
            "form": form,
            "history": history,
            "is_manager": reports.is_manager(viewer=user),
            **_day_nav(day),
        },
        status=status,
    )


@maps_service_errors
def report_detail(request: HttpRequest, user_id: int, day: str) -> HttpResponse:
    """Someone's day and report, for them or for a reader (their manager)."""
    try:
        when = datetime.date.fromisoformat(day)
    except ValueError as exc:
        raise Http404(_("There is no such report.")) from exc
    if user_id == _viewer(request).pk:
        return redirect(f"{reverse('activities:daily_report')}?date={when.isoformat()}")
    person = reports.report_user_get(viewer=_viewer(request), user_id=user_id)
    report_day = reports.report_day(viewer=_viewer(request), user=person, day=when)
    return _detail_response(request, report_day, DailyReportCommentForm())


def _detail_response(
    request: HttpRequest,
    report_day: reports.ReportDay,
    form: DailyReportCommentForm,
    status: int = 200,
) -> TemplateResponse:
    report = report_day.report
    return TemplateResponse(
        request,
        "activities/reports/report_detail.html",
        {
            "rd": report_day,
            "report": report,
            "form": form,
            "history": reports.report_history(report=report) if report else [],
            "may_review": reports.may_review(viewer=_viewer(request), user=report_day.user),
            **_day_nav(report_day.day),
        },
        status=status,
    )


@maps_service_errors
@require_POST
def report_comment(request: HttpRequest, report_id: int) -> HttpResponse:
    report = reports.report_get(viewer=_viewer(request), report_id=report_id)
    form = DailyReportCommentForm(request.POST)
    if form.is_valid():
        try:
            reports.daily_report_comment(
                actor=_viewer(request), report=report, body=form.cleaned_data["body"]
            )
        except ApplicationError as exc:
            if exc.status == 404:
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("Comment added."))
            return redirect(_detail_url(report))
    report_day = reports.report_day(viewer=_viewer(request), user=report.user, day=report.day)
    if report.user_id == _viewer(request).pk:
        messages.error(request, "; ".join(str(e) for es in form.errors.values() for e in es))
        return redirect(_detail_url(report))
    return _detail_response(request, report_day, form, status=422)


def _detail_url(report: reports.DailyReport) -> str:
    return reverse("activities:daily_report_detail", args=[report.user_id, report.day.isoformat()])


@maps_service_errors
@require_POST
def report_mark_read(request: HttpRequest, report_id: int) -> HttpResponse:
    report = reports.report_get(viewer=_viewer(request), report_id=report_id)
    reports.daily_report_mark_read(actor=_viewer(request), report=report)
    messages.success(request, _("Marked as read."))
    if request.POST.get("next") == "team":
        return redirect("activities:daily_report_team")
    return redirect(_detail_url(report))


@maps_service_errors
def team_reports(request: HttpRequest) -> TemplateResponse:
    """Reports of the people I read, unread first; by day range and person."""
    viewer = _viewer(request)
    if not reports.is_manager(viewer=viewer):
        raise Http404(_("There is no such page."))
    today = timezone.localdate()
    date_to = _parse_day(request.GET.get("to"), today)
    date_from = _parse_day(request.GET.get("from"), date_to - datetime.timedelta(days=13))
    people = (
        reports.readable_users(viewer=viewer)
        .exclude(pk=viewer.pk)
        .order_by("team__name", "username")
    )
    person = None
    if request.GET.get("user", "").isdecimal():
        person = people.filter(pk=int(request.GET["user"])).first()
    error = ""
    try:
        items = list(
            reports.team_report_list(
                viewer=viewer, date_from=date_from, date_to=date_to, user=person
            )[:500]
        )
    except ApplicationError as exc:
        items, error = [], exc.message
    unread = sum(1 for r in items if r.status == ReportStatus.SUBMITTED)
    template = "activities/reports/team_reports.html"
    if is_htmx(request):
        template += "#results"
    return TemplateResponse(
        request,
        template,
        {
            "items": items,
            "unread": unread,
            "people": list(people),
            "person": person,
            "date_from": date_from,
            "date_to": date_to,
            "error": error,
        },
    )


@maps_service_errors
def rollups(request: HttpRequest) -> TemplateResponse:
    viewer = _viewer(request)
    form = RollupForm(request.GET or None)
    form.is_valid()
    data = getattr(form, "cleaned_data", {}) or {}
    period = data.get("period") or "week"
    teams = list(reports.managed_teams(viewer=viewer))
    by = data.get("by") or "person"
    if by == "team" and not teams:
        by = "person"
    day = data.get("date") or timezone.localdate()
    rollup = reports.report_rollup(viewer=viewer, period=period, day=day, by=by)
    step = datetime.timedelta(days=1)
    return TemplateResponse(
        request,
        "activities/reports/rollups.html",
        {
            "rollup": rollup,
            "period": period,
            "by": by,
            "teams": teams,
            "prev_date": rollup.start - step,
            "next_date": rollup.end + step if rollup.end < timezone.localdate() else None,
            "is_manager": reports.is_manager(viewer=viewer),
        },
    )


@maps_service_errors
def appointment_brief(request: HttpRequest, appointment_id: int) -> TemplateResponse:
    brief = appointment_brief_get(viewer=_viewer(request), appointment_id=appointment_id)
    return TemplateResponse(request, "activities/brief/brief.html", brief_context(request, brief))


@maps_service_errors
def appointment_brief_pdf(request: HttpRequest, appointment_id: int) -> HttpResponse:
    brief = appointment_brief_get(viewer=_viewer(request), appointment_id=appointment_id)
    data = render_pdf(
        "activities/brief/brief_pdf.html", brief_context(request, brief), request=request
    )
    return pdf_response(data, filename=brief_filename(brief))
