"""Calendar, appointment and task pages, and the iCalendar feed. Thin: parse, call, render."""

import datetime
import hashlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tokui.accounts import selectors as account_selectors
from tokui.accounts.models import Account, Contact
from tokui.activities import appointments as appts
from tokui.activities import calendar_feed, task_selectors, task_services
from tokui.activities.constants import AppointmentKind, AppointmentStatus
from tokui.activities.forms_calendar import (
    AppointmentForm,
    CancelForm,
    HeldForm,
    TaskForm,
    appointment_initial,
    default_slot,
    task_initial,
)
from tokui.activities.models import Appointment, Task
from tokui.core.exceptions import ApplicationError, NotFound
from tokui.core.japanese import format_phone
from tokui.core.pagination import page_slice, parse_positive_int
from tokui.core.views import form_status, is_htmx, maps_service_errors
from tokui.users.models import User

HOURS = (8, 19)


class AuthedRequest(HttpRequest):
    """A request past the sign-in middleware: ``user`` is a signed-in User."""

    user: User


def _viewer(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - the sign-in middleware ran first
        raise NotFound(_("Sign in first."))
    return user  # the week view's default first and last hour rows


def _ctx(request: AuthedRequest, section: str, **extra: Any) -> dict[str, Any]:
    return {"nav_section": section, **extra}


def _parse_date(value: str | None) -> datetime.date:
    try:
        day = datetime.date.fromisoformat((value or "")[:10])
    except ValueError:
        return timezone.localdate()
    if not (2000 <= day.year <= 2100):
        return timezone.localdate()
    return day


def _local_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _calendar_people(request: AuthedRequest) -> tuple[list[User], dict[str, Any]]:
    """Whose calendar: ``user`` (a user name) or ``team`` (an id), else the viewer's own."""
    choice = appts.calendar_people(
        viewer=request.user,
        username=request.GET.get("user", "")[:150],
        team=request.GET.get("team", "")[:20],
    )
    return choice.people, {
        "people_choices": choice.people_choices,
        "team_choices": choice.team_choices,
        "chosen_user": choice.chosen_user,
        "chosen_team": choice.chosen_team,
        "calendar_label": choice.label,
    }


def _who_query(request: AuthedRequest) -> str:
    for key in ("team", "user"):
        if request.GET.get(key):
            return f"&{key}={request.GET[key][:150]}"
    return ""


@maps_service_errors
@require_GET
def calendar_week(request: AuthedRequest) -> TemplateResponse:
    day = _parse_date(request.GET.get("week"))
    monday = day - datetime.timedelta(days=day.weekday())
    start = _local_start(monday)
    end = _local_start(monday + datetime.timedelta(days=7))
    people, who = _calendar_people(request)
    items = list(
        appts.appointment_list(viewer=request.user, starts_from=start, starts_to=end, users=people)
    )
    first, last = HOURS
    for a in items:
        s, e = timezone.localtime(a.starts_at), timezone.localtime(a.ends_at)
        if start <= a.starts_at < end:
            first = min(first, s.hour)
            last = max(
                last, (e - datetime.timedelta(minutes=1)).hour if e.date() == s.date() else 23
            )
    today = timezone.localdate()
    days: list[dict[str, Any]] = []
    for offset in range(7):
        date = monday + datetime.timedelta(days=offset)
        day_start = _local_start(date)
        slots: dict[int, list[Appointment]] = {h: [] for h in range(first, last + 1)}
        busy: set[int] = set()
        for a in items:
            s = timezone.localtime(a.starts_at)
            if s.date() == date:
                slots.setdefault(max(first, min(s.hour, last)), []).append(a)
            if a.status == AppointmentStatus.CANCELLED:
                continue
            for h in range(first, last + 1):
                cell_start = day_start + datetime.timedelta(hours=h)
                if (
                    a.starts_at < cell_start + datetime.timedelta(hours=1)
                    and a.ends_at > cell_start
                ):
                    busy.add(h)
        days.append({"date": date, "is_today": date == today, "slots": slots, "busy": busy})
    rows = [
        {
            "hour": h,
            "cells": [
                {"items": d["slots"].get(h, []), "busy": h in d["busy"], "is_today": d["is_today"]}
                for d in days
            ],
        }
        for h in range(first, last + 1)
    ]
    who_q = _who_query(request)
    context = _ctx(
        request,
        "calendar",
        days=days,
        rows=rows,
        monday=monday,
        sunday=monday + datetime.timedelta(days=6),
        prev_week=(monday - datetime.timedelta(days=7)).isoformat(),
        next_week=(monday + datetime.timedelta(days=7)).isoformat(),
        this_week=today - datetime.timedelta(days=today.weekday()) == monday,
        who_q=who_q,
        count=len(items),
        **who,
    )
    return TemplateResponse(request, "activities/calendar/week.html", context)


@maps_service_errors
@require_GET
def calendar_agenda(request: AuthedRequest) -> TemplateResponse:
    first = _parse_date(request.GET.get("from"))
    people, who = _calendar_people(request)
    start = _local_start(first)
    end = _local_start(first + datetime.timedelta(days=30))
    items = list(
        appts.appointment_list(viewer=request.user, starts_from=start, starts_to=end, users=people)[
            :300
        ]
    )
    groups: list[dict[str, Any]] = []
    for a in items:
        date = timezone.localtime(a.starts_at).date()
        if not groups or groups[-1]["date"] != date:
            groups.append({"date": date, "items": []})
        groups[-1]["items"].append(a)
    context = _ctx(
        request,
        "calendar",
        groups=groups,
        first=first,
        last=first + datetime.timedelta(days=29),
        prev_from=(first - datetime.timedelta(days=30)).isoformat(),
        next_from=(first + datetime.timedelta(days=30)).isoformat(),
        today=timezone.localdate(),
        who_q=_who_query(request),
        **who,
    )
    return TemplateResponse(request, "activities/calendar/agenda.html", context)


def _brief_url(appointment: Appointment) -> str:
    try:
        return reverse("activities:appointment_brief", kwargs={"appointment_id": appointment.pk})
    except NoReverseMatch:
        return ""


@maps_service_errors
@require_GET
def appointment_detail(request: AuthedRequest, appointment_id: int) -> TemplateResponse:
    appointment = appts.appointment_get(viewer=request.user, appointment_id=appointment_id)
    return _detail(request, appointment)


def _detail(
    request: AuthedRequest,
    appointment: Appointment,
    *,
    cancel_form: CancelForm | None = None,
    held_form: HeldForm | None = None,
    status: int = 200,
) -> TemplateResponse:
    scheduled = appointment.status == AppointmentStatus.SCHEDULED
    may_change = request.user.may_edit_accounts and scheduled
    context = _ctx(
        request,
        "calendar",
        appointment=appointment,
        contacts=list(appointment.contacts.all()),
        participants=list(appointment.participants.all()),
        history=appts.appointment_history(appointment=appointment),
        brief_url=_brief_url(appointment),
        may_change=may_change,
        may_hold=may_change and appointment.starts_at <= timezone.now(),
        cancel_form=cancel_form or CancelForm(initial={"version": appointment.version}),
        held_form=held_form or HeldForm(initial={"version": appointment.version}),
        is_phone=appointment.kind == AppointmentKind.PHONE,
        phone_display=format_phone(appointment.phone_number),
    )
    return TemplateResponse(request, "activities/calendar/detail.html", context, status=status)


def _account_from_query(request: AuthedRequest) -> tuple[Account | None, Contact | None]:
    contact = None
    raw_contact = request.GET.get("contact", "")
    if raw_contact.isdecimal() and len(raw_contact) < 19:
        contact = account_selectors.contact_get(viewer=request.user, contact_id=int(raw_contact))
        return contact.account, contact
    raw = request.GET.get("account", "")
    if raw.isdecimal() and len(raw) < 19:
        return account_selectors.account_get(viewer=request.user, account_id=int(raw)), None
    return None, None


def _conflicts_context(
    request: AuthedRequest, form: AppointmentForm, organizer: User
) -> list[appts.ConflictItem]:
    data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    starts, ends = data.get("starts_at"), data.get("ends_at")
    if not starts or not ends:
        return []
    return appts.appointment_conflicts(
        viewer=request.user,
        starts_at=starts,
        ends_at=ends,
        users=[organizer, *(data.get("participants") or [])],
        exclude_id=form.appointment.pk if form.appointment else None,
    )


@maps_service_errors
@require_GET
def appointment_conflicts(request: AuthedRequest) -> TemplateResponse:
    """The htmx check as the time or the participants change: the overlaps, or nothing."""
    account, _contact = _account_from_query(request)
    appointment = None
    raw_id = request.GET.get("appointment", "")
    if raw_id.isdecimal() and len(raw_id) < 19:
        appointment = appts.appointment_get(viewer=request.user, appointment_id=int(raw_id))
        account = appointment.account
    if account is None:
        raise Http404
    form = AppointmentForm(request.GET, account=account, appointment=appointment)
    form.is_valid()  # only the times and people matter here; other errors show on submit
    organizer = appointment.organizer if appointment else request.user
    conflicts = _conflicts_context(request, form, organizer)
    return TemplateResponse(
        request, "activities/calendar/_conflicts.html", {"conflicts": conflicts, "check": True}
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def appointment_create(request: AuthedRequest) -> HttpResponse:
    account, contact = _account_from_query(request)
    if account is None:
        return _account_picker(request)
    if not request.user.may_edit_accounts:
        raise appts.PermissionDenied(_("Your role can read appointments but not book them."))
    start, end = default_slot()
    initial: dict[str, Any] = {"starts_at": start, "ends_at": end}
    if contact is not None:
        initial["contacts"] = [contact.pk]
        initial["title"] = _("Meeting with %(name)s") % {"name": contact.full_name}
    if request.GET.get("kind") == AppointmentKind.PHONE:
        initial["kind"] = AppointmentKind.PHONE
    form = AppointmentForm(request.POST or None, account=account, initial=initial)
    conflicts: list[appts.ConflictItem] = []
    if request.method == "POST" and form.is_valid():
        try:
            appointment = appts.appointment_book(
                actor=request.user,
                account=account,
                data=form.service_data(),
                allow_conflicts=form.cleaned_data.get("allow_conflicts") or False,
            )
        except appts.AppointmentConflict as exc:
            conflicts = exc.conflicts
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Appointment booked."))
            return redirect("activities:appointment_detail", appointment_id=appointment.pk)
    return _form_page(request, form, account=account, conflicts=conflicts)


def _form_page(
    request: AuthedRequest,
    form: AppointmentForm,
    *,
    account: Account,
    conflicts: list[appts.ConflictItem],
) -> TemplateResponse:
    status = form_status(form)
    if conflicts:
        status = 409
    return TemplateResponse(
        request,
        "activities/calendar/form.html",
        _ctx(
            request,
            "calendar",
            form=form,
            account=account,
            appointment=form.appointment,
            conflicts=conflicts,
        ),
        status=status,
    )


def _account_picker(request: AuthedRequest) -> TemplateResponse:
    search = request.GET.get("q", "").strip()[:200]
    accounts: list[Account] = []
    if search:
        accounts = list(account_selectors.account_list(viewer=request.user, search=search)[:20])
    return TemplateResponse(
        request,
        "activities/calendar/pick_account.html",
        _ctx(
            request, "calendar", accounts=accounts, search=search, target=request.GET.get("for", "")
        ),
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def appointment_edit(request: AuthedRequest, appointment_id: int) -> HttpResponse:
    appointment = appts.appointment_get(viewer=request.user, appointment_id=appointment_id)
    if not request.user.may_edit_accounts:
        raise appts.PermissionDenied(_("Your role can read appointments but not change them."))
    if appointment.status != AppointmentStatus.SCHEDULED:
        messages.error(request, _("Only scheduled appointments can be changed."))
        return redirect("activities:appointment_detail", appointment_id=appointment.pk)
    form = AppointmentForm(
        request.POST or None,
        account=appointment.account,
        appointment=appointment,
        initial=appointment_initial(appointment),
    )
    conflicts: list[appts.ConflictItem] = []
    if request.method == "POST" and form.is_valid():
        try:
            appts.appointment_update(
                actor=request.user,
                appointment=appointment,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
                allow_conflicts=form.cleaned_data.get("allow_conflicts") or False,
                reason=form.cleaned_data.get("reason") or "",
            )
        except appts.AppointmentConflict as exc:
            conflicts = exc.conflicts
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("activities:appointment_detail", appointment_id=appointment.pk)
    return _form_page(request, form, account=appointment.account, conflicts=conflicts)


@maps_service_errors
@require_POST
def appointment_cancel(request: AuthedRequest, appointment_id: int) -> HttpResponse:
    appointment = appts.appointment_get(viewer=request.user, appointment_id=appointment_id)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            appts.appointment_cancel(
                actor=request.user,
                appointment=appointment,
                reason=form.cleaned_data["reason"],
                version=form.cleaned_data.get("version"),
            )
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_error("reason" if "reason" in exc.errors else None, exc.message)
        else:
            messages.success(request, _("Appointment cancelled."))
            return redirect("activities:appointment_detail", appointment_id=appointment.pk)
    return _detail(request, appointment, cancel_form=form, status=422)


@maps_service_errors
@require_POST
def appointment_held(request: AuthedRequest, appointment_id: int) -> HttpResponse:
    appointment = appts.appointment_get(viewer=request.user, appointment_id=appointment_id)
    form = HeldForm(request.POST)
    if form.is_valid():
        try:
            appts.appointment_mark_held(
                actor=request.user,
                appointment=appointment,
                record_interaction=form.cleaned_data["record_interaction"],
                notes=form.cleaned_data["notes"],
                version=form.cleaned_data.get("version"),
            )
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_error("notes" if "notes" in exc.errors else None, exc.message)
        else:
            messages.success(request, _("Marked as held."))
            return redirect("activities:appointment_detail", appointment_id=appointment.pk)
    return _detail(request, appointment, held_form=form, status=422)


# ---------------------------------------------------------------------------------------------
# The iCalendar feed and its subscription page


@maps_service_errors
@require_GET
def calendar_subscription(request: AuthedRequest) -> TemplateResponse:
    feed = calendar_feed.calendar_feed_get_or_create(actor=request.user, user=request.user)
    url = request.build_absolute_uri(calendar_feed.calendar_feed_path(feed))
    return TemplateResponse(
        request,
        "activities/calendar/subscription.html",
        _ctx(
            request,
            "calendar",
            feed=feed,
            feed_url=url,
            webcal_url="webcal://" + url.split("://", 1)[1],
        ),
    )


@maps_service_errors
@require_POST
def calendar_subscription_reset(request: AuthedRequest) -> HttpResponseRedirect:
    calendar_feed.calendar_feed_rotate(actor=request.user, user=request.user)
    messages.success(
        request,
        _("New link made. The old one no longer works: subscribe your calendars to the new one."),
    )
    return redirect("activities:calendar_subscription")


@login_not_required
@require_http_methods(["GET", "HEAD"])
def calendar_feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The feed. Unknown and revoked tokens are 404, never 403: a guess learns nothing."""
    try:
        feed = calendar_feed.calendar_feed_by_token(token=token)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    body = calendar_feed.calendar_feed_render(feed=feed, base_url=request.build_absolute_uri("/"))
    calendar_feed.calendar_feed_touch(feed)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        return not_modified
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    response["Content-Disposition"] = 'inline; filename="tokui.ics"'
    response["X-Robots-Tag"] = "noindex"
    patch_cache_control(response, private=True, max_age=300)
    return response


# ---------------------------------------------------------------------------------------------
# Tasks


@maps_service_errors
@require_GET
def task_index(request: AuthedRequest) -> TemplateResponse:
    scope = request.GET.get("scope", "mine")
    if scope not in task_selectors.TASK_SCOPES:
        scope = "mine"
    due = request.GET.get("due", "open")
    if due not in task_selectors.TASK_FILTERS:
        due = "open"
    tasks = task_selectors.task_list(viewer=request.user, scope=scope, due=due)
    page = page_slice(tasks, page=parse_positive_int(request.GET.get("page"), 1, 10**6))
    scopes = [("mine", _("Mine")), ("team", _("My team's"))]
    if request.user.role in task_selectors.HEAD_ROLES:
        scopes.append(("all", _("Everyone's")))
    filters = [
        ("open", _("Open")),
        ("overdue", _("Overdue")),
        ("today", _("Due today")),
        ("upcoming", _("Upcoming")),
        ("done", _("Done")),
    ]
    template = "activities/tasks/index.html"
    if is_htmx(request):
        template += "#task-results"
    return TemplateResponse(
        request,
        template,
        _ctx(
            request,
            "tasks",
            page=page,
            scope=scope,
            due=due,
            scopes=scopes,
            filters=filters,
            now=timezone.now(),
            show_owner=scope != "mine",
        ),
    )


def _task_form_page(
    request: AuthedRequest, form: TaskForm, *, task: Task | None, account: Account | None
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "activities/tasks/form.html",
        _ctx(request, "tasks", form=form, task=task, account=account),
        status=form_status(form),
    )


def _next_url(request: AuthedRequest, default: str) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return default


@maps_service_errors
@require_http_methods(["GET", "POST"])
def task_create(request: AuthedRequest) -> HttpResponse:
    account, contact = _account_from_query(request)
    initial: dict[str, Any] = {"owner": request.user.pk}
    if contact is not None:
        initial["contact"] = contact.pk
    form = TaskForm(request.POST or None, viewer=request.user, account=account, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if account is not None:
            data["account"] = account
        try:
            task_services.task_create(actor=request.user, data=data)
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Task added."))
            default = (
                reverse("accounts:detail", args=[account.pk])
                if account
                else reverse("activities:task_index")
            )
            return redirect(_next_url(request, default))
    return _task_form_page(request, form, task=None, account=account)


@maps_service_errors
@require_http_methods(["GET", "POST"])
def task_edit(request: AuthedRequest, task_id: int) -> HttpResponse:
    task = task_selectors.task_get(viewer=request.user, task_id=task_id)
    form = TaskForm(
        request.POST or None, viewer=request.user, account=task.account, initial=task_initial(task)
    )
    if request.method == "POST" and form.is_valid():
        try:
            task_services.task_update(
                actor=request.user,
                task=task,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(_next_url(request, reverse("activities:task_index")))
    return _task_form_page(request, form, task=task, account=task.account)


@maps_service_errors
@require_POST
def task_toggle(request: AuthedRequest, task_id: int) -> HttpResponse:
    """Quick complete (and undo) from a list: a checkbox posting here, by htmx or a plain form."""
    task = task_selectors.task_get(viewer=request.user, task_id=task_id)
    done = request.POST.get("done") in ("1", "on", "true")
    try:
        if done:
            task = task_services.task_complete(actor=request.user, task=task)
        else:
            task = task_services.task_reopen(actor=request.user, task=task)
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        if not is_htmx(request):
            messages.error(request, exc.message)
            return redirect(_next_url(request, reverse("activities:task_index")))
        return HttpResponse(exc.message, status=exc.status)
    if is_htmx(request):
        task = task_selectors.task_get(viewer=request.user, task_id=task.pk)
        return TemplateResponse(
            request,
            "activities/tasks/_row.html",
            {
                "task": task,
                "now": timezone.now(),
                "show_owner": request.POST.get("show_owner") == "1",
                "next": _next_url(request, reverse("activities:task_index")),
            },
        )
    messages.success(request, _("Task done.") if done else _("Task reopened."))
    return redirect(_next_url(request, reverse("activities:task_index")))


@maps_service_errors
@require_POST
def task_cancel(request: AuthedRequest, task_id: int) -> HttpResponse:
    task = task_selectors.task_get(viewer=request.user, task_id=task_id)
    try:
        task_services.task_cancel(actor=request.user, task=task)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Task cancelled."))
    return redirect(_next_url(request, reverse("activities:task_index")))


# ---------------------------------------------------------------------------------------------
# Sections of the account and contact pages (registered in apps.py)


def account_appointments_section(request: HttpRequest, account: Account) -> dict[str, Any] | None:
    return {
        "appointments": appts.appointment_upcoming(viewer=_viewer(request), account=account),
        "account": account,
        "book_query": f"account={account.pk}",
        "may_book": _viewer(request).may_edit_accounts and account.archived_at is None,
    }


def contact_appointments_section(request: HttpRequest, contact: Contact) -> dict[str, Any] | None:
    return {
        "appointments": appts.appointment_upcoming(viewer=_viewer(request), contact=contact),
        "account": contact.account,
        "book_query": f"contact={contact.pk}",
        "may_book": _viewer(request).may_edit_accounts and contact.account.archived_at is None,
    }


def account_book_action(request: HttpRequest, obj: Account | Contact) -> dict[str, Any] | None:
    account = obj if isinstance(obj, Account) else obj.account
    if not _viewer(request).may_edit_accounts or account.archived_at is not None:
        return None
    query = f"account={obj.pk}" if isinstance(obj, Account) else f"contact={obj.pk}"
    return {"book_query": query}


def account_tasks_section(request: HttpRequest, account: Account) -> dict[str, Any] | None:
    return {
        "tasks": task_selectors.task_open_for_account(viewer=_viewer(request), account=account),
        "account": account,
        "now": timezone.now(),
        "next": request.get_full_path(),
    }
