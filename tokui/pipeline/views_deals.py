"""The deal page and its forms: header, stage path, playbook, lines, needs, objections,
white space, quotes, history; creating and editing a deal; the account page's deals section.

Thin: parse, call a selector or a service, render. Anyone who may see the account sees its
deals (others get a 404); editors of accounts (``may_edit_accounts``) change them. Every action
posts to its own URL and comes back to the deal page; a refused action redisplays the page with
the error next to the form that caused it (status 409/422), so everything works without
JavaScript. The playbook checklist and the stage actions are one htmx partial.
"""

import datetime
from typing import Any, cast

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tokui.accounts.models import Account
from tokui.accounts.selectors import account_get, account_list
from tokui.activities.appointments import AppointmentConflict, appointment_book
from tokui.activities.models import Appointment, Interaction
from tokui.activities.services import interaction_create
from tokui.core.audit import audit_for_target
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.core.views import is_htmx, maps_service_errors
from tokui.pipeline import deal_quotes, referrals, services
from tokui.pipeline.constants import Requirement, StageKind
from tokui.pipeline.forms_deals import (
    AnswerForm,
    BookForm,
    DealForm,
    LineFormSet,
    LoseForm,
    MeetingForm,
    NeedForm,
    ObjectionForm,
    default_book_initial,
    default_meeting_initial,
    lines_formset,
    lines_with_more_rows,
)
from tokui.pipeline.models import Deal, Referral, Stage
from tokui.pipeline.selectors import deal_get, deals_for_account, white_space
from tokui.users.models import User

NAV = {"nav_section": "deals"}
DETAIL = "pipeline/deals/detail.html"


def _viewer(request: HttpRequest) -> User:
    return cast(User, request.user)


def _require_editor(request: HttpRequest) -> None:
    if not _viewer(request).may_edit_accounts:
        raise PermissionDenied(_("Your role can read deals but not change them."))


def _url_or_none(name: str, *args: Any, query: dict[str, Any] | None = None) -> str | None:
    """A URL another page owns (the deal list, the calendar): None until it exists."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


# -- reads the deal page needs ------------------------------------------------------------------


def deal_history(*, deal: Deal, limit: int = 100) -> QuerySet[AuditEvent]:
    """The deal's own audit events, newest first (``deal`` is already checked to be visible)."""
    return audit_for_target(target=deal, limit=limit)


def _regarding(deal: Deal) -> dict[str, Any]:
    return {"regarding_type": ContentType.objects.get_for_model(Deal), "regarding_id": deal.pk}


def _deal_activity(deal: Deal) -> dict[str, list[Any]]:
    """Appointments booked and meetings logged for this deal (its account is visible)."""
    return {
        "appointments": list(
            Appointment.objects.filter(**_regarding(deal)).order_by("-starts_at")[:10]
        ),
        "meetings": list(
            Interaction.objects.filter(**_regarding(deal)).order_by("-occurred_at")[:10]
        ),
    }


def _next_stage(deal: Deal, stages: list[Stage]) -> Stage | None:
    if deal.stage.kind != StageKind.OPEN:
        return None
    later = [
        s
        for s in stages
        if s.kind == StageKind.OPEN and (s.position, s.pk) > (deal.stage.position, deal.stage.pk)
    ]
    return later[0] if later else next((s for s in stages if s.kind == StageKind.WON), None)


def _step_hint(deal: Deal, requirement: str) -> dict[str, str] | None:
    """How to meet a step checked from the deal's data: a short label and where to do it."""
    edit = reverse("pipeline:deal_edit", args=[deal.pk])
    match requirement:
        case Requirement.CONTACT:
            if deal.account.contacts.filter(archived_at=None).exists():
                return {"label": _("Choose the contact person"), "url": edit}
            return {
                "label": _("Add a contact"),
                "url": reverse("accounts:contact_create", args=[deal.account_id]),
            }
        case Requirement.VALUE:
            return {"label": _("Add products or enter the value"), "url": "#lines"}
        case Requirement.CLOSE_DATE:
            return {"label": _("Set the expected close date"), "url": edit}
        case Requirement.PRODUCTS:
            return {"label": _("Add products"), "url": "#lines"}
        case Requirement.APPOINTMENT:
            return {"label": _("Book an appointment"), "url": "#book"}
        case Requirement.MEETING:
            return {"label": _("Log a meeting"), "url": "#meeting"}
        case Requirement.NEEDS:
            return {"label": _("Record a need"), "url": "#needs"}
        case Requirement.OBJECTIONS:
            return {"label": _("Log an objection"), "url": "#objections"}
        case Requirement.QUOTE:
            return {"label": _("Make and issue a quote"), "url": "#quotes"}
    return None


def _progress_context(request: HttpRequest, deal: Deal) -> dict[str, Any]:
    stages = list(Stage.objects.filter(active=True).order_by("position", "pk"))
    steps = services.playbook_state(deal=deal).get(deal.stage_id, [])
    playbook = [
        {
            "state": state,
            "hint": None
            if state.step.requirement == Requirement.MANUAL
            else _step_hint(deal, state.step.requirement),
            "how": Requirement(state.step.requirement).label,
        }
        for state in steps
    ]
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    return {
        "deal": deal,
        "path": open_stages,
        "move_choices": [s for s in stages if s.pk != deal.stage_id and s.kind != StageKind.LOST],
        "next_stage": _next_stage(deal, stages),
        "playbook": playbook,
        "may_edit": _viewer(request).may_edit_accounts and deal.stage.kind != StageKind.WON,
        "is_open": deal.stage.kind == StageKind.OPEN,
        "lose_form": LoseForm(viewer=_viewer(request), initial={"version": deal.version}),
    }


def _quotes_context(request: HttpRequest, deal: Deal) -> dict[str, Any]:
    return {
        "quotes_available": True,
        "quotes": list(deal_quotes.deal_quotes(viewer=_viewer(request), deal=deal)),
    }


def _referral_context(request: HttpRequest, deal: Deal) -> dict[str, Any]:
    referral = Referral.objects.filter(deal=deal).select_related("referrer").first()
    if referral is None:
        referral = referrals.referral_of_account(viewer=_viewer(request), account=deal.account)
    if referral is not None:
        # Who referred it is shown only to those who may see the referring account.
        referrals.referrals_mark_visible(viewer=_viewer(request), referrals=[referral])
    return {"referral": referral}


def _detail_context(request: HttpRequest, deal: Deal, **forms: Any) -> dict[str, Any]:
    viewer = _viewer(request)
    add = request.GET.get("add", "")
    if "lines" not in forms:
        forms["lines"] = lines_formset(
            deal=deal, add_product=int(add) if add.isdecimal() and len(add) < 12 else None
        )
    forms.setdefault("need_form", NeedForm())
    forms.setdefault("objection_form", ObjectionForm())
    forms.setdefault("book_form", BookForm(initial=default_book_initial(deal)))
    forms.setdefault("meeting_form", MeetingForm(initial=default_meeting_initial(deal)))
    objections = list(deal.objections.select_related("recorded_by"))
    for objection in objections:
        objection.form = forms.get(f"answer_{objection.pk}") or AnswerForm(  # type: ignore[attr-defined]
            initial={"response": objection.response, "resolved": objection.resolved},
            prefix=f"o{objection.pk}",
        )
    try:
        space = white_space(viewer=viewer, account=deal.account, limit=5)
    except ApplicationError:
        space = None
    on_deal = {line.product_id for line in deal.lines.all()}
    suggestions = [
        (p, why) for p, why in (space.suggestions if space else []) if p.pk not in on_deal
    ]
    context = {
        **NAV,
        **_progress_context(request, deal),
        **_quotes_context(request, deal),
        **_referral_context(request, deal),
        **_deal_activity(deal),
        **forms,
        "lines_saved": list(deal.lines.select_related("product")),
        "needs": list(deal.needs.select_related("line", "recorded_by")),
        "objections": objections,
        "white_space": space,
        "suggestions": suggestions,
        "history": list(deal_history(deal=deal)),
        "calendar_url": _url_or_none(
            "activities:appointment_create", query={"account": deal.account_id}
        ),
        "board_url": _url_or_none("pipeline:board"),
        # A closed deal is read, not worked on: reopen a lost one to change it.
        "editable": viewer.may_edit_accounts and deal.stage.kind == StageKind.OPEN,
        "may_edit_deals": viewer.may_edit_accounts,
        "today_date": timezone.localdate(),
    }
    return context


def _page(request: HttpRequest, deal: Deal, status: int = 200, **forms: Any) -> TemplateResponse:
    return TemplateResponse(request, DETAIL, _detail_context(request, deal, **forms), status=status)


def _back(deal: Deal, anchor: str = "") -> HttpResponse:
    return redirect(
        reverse("pipeline:deal_detail", args=[deal.pk]) + (f"#{anchor}" if anchor else "")
    )


def _get(request: HttpRequest, deal_id: int) -> Deal:
    return deal_get(viewer=_viewer(request), deal_id=deal_id)


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdecimal() and len(raw) < 10 else None


# -- the page -----------------------------------------------------------------------------------


@maps_service_errors
def deal_detail(request: HttpRequest, deal_id: int) -> TemplateResponse:
    deal = _get(request, deal_id)
    return _page(request, deal)


@maps_service_errors
@require_POST
def deal_move(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Move to the stage posted (next, or any active stage); a playbook refusal lists the gaps."""
    deal = _get(request, deal_id)
    _require_editor(request)
    stage = request.POST.get("stage", "")
    target: int | str = int(stage) if stage.isdecimal() and len(stage) < 12 else stage[:40]
    try:
        services.deal_move_stage(
            actor=_viewer(request), deal=deal, stage=target, version=_version(request)
        )
    except services.PlaybookRefused as exc:
        return _refused(request, deal, exc)
    except ApplicationError as exc:
        if exc.status == 403:
            raise
        return _action_error(request, deal, exc)
    deal = _get(request, deal_id)
    messages.success(request, _("Moved to “%(stage)s”.") % {"stage": deal.stage.label})
    return _back(deal)


def _refused(request: HttpRequest, deal: Deal, exc: services.PlaybookRefused) -> TemplateResponse:
    missing = [
        {"stage": stage, "step": step, "hint": _step_hint(deal, step.requirement)}
        for stage, step in exc.missing
    ]
    context = _detail_context(request, deal) | {"refused": missing, "refused_message": exc.message}
    return TemplateResponse(request, DETAIL, context, status=409)


def _action_error(request: HttpRequest, deal: Deal, exc: ApplicationError) -> TemplateResponse:
    messages_list = [m for ms in exc.errors.values() for m in ms] or [exc.message]
    context = _detail_context(request, _get(request, deal.pk)) | {"action_errors": messages_list}
    return TemplateResponse(
        request, DETAIL, context, status=exc.status if exc.status >= 400 else 422
    )


@maps_service_errors
@require_POST
def deal_win(request: HttpRequest, deal_id: int) -> HttpResponse:
    deal = _get(request, deal_id)
    _require_editor(request)
    try:
        services.deal_win(actor=_viewer(request), deal=deal, version=_version(request))
    except services.PlaybookRefused as exc:
        return _refused(request, deal, exc)
    except ApplicationError as exc:
        if exc.status == 403:
            raise
        return _action_error(request, deal, exc)
    messages.success(request, _("Won! The deal is handed over to orders and contracts."))
    return _back(deal)


@maps_service_errors
@require_POST
def deal_lose(request: HttpRequest, deal_id: int) -> HttpResponse:
    deal = _get(request, deal_id)
    _require_editor(request)
    form = LoseForm(request.POST, viewer=_viewer(request))
    if form.is_valid():
        try:
            services.deal_lose(
                actor=_viewer(request),
                deal=deal,
                reason=form.cleaned_data["lost_reason"],
                note=form.cleaned_data["lost_note"],
                lost_to=form.cleaned_data["lost_to"],
                version=form.cleaned_data.get("version"),
            )
        except ApplicationError as exc:
            if exc.status == 403:
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("The deal is recorded as lost."))
            return _back(deal)
    return _page(request, deal, 422, lose_form=form, lose_open=True)


@maps_service_errors
@require_POST
def deal_step(request: HttpRequest, deal_id: int, step_id: int) -> HttpResponse:
    """Tick or untick a manual step; htmx gets the refreshed checklist and stage actions."""
    deal = _get(request, deal_id)
    _require_editor(request)
    error = ""
    try:
        services.deal_step_set(
            actor=_viewer(request), deal=deal, step=step_id, done=request.POST.get("done") == "1"
        )
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        error = exc.message
    deal = _get(request, deal_id)
    if is_htmx(request):
        context = _progress_context(request, deal) | {"step_error": error}
        return TemplateResponse(request, f"{DETAIL}#progress", context)
    if error:
        messages.error(request, error)
    return _back(deal, "playbook")


@maps_service_errors
@require_POST
def deal_lines(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Save the lines (priced by the engine); "more lines" redisplays them with blank rows."""
    deal = _get(request, deal_id)
    _require_editor(request)
    if "more_lines" in request.POST:
        return _page(
            request, deal, lines=lines_with_more_rows(request.POST, deal=deal), lines_open=True
        )
    formset: LineFormSet = lines_formset(request.POST, deal=deal)
    if formset.is_valid():
        try:
            services.deal_set_lines(
                actor=_viewer(request),
                deal=deal,
                lines=formset.service_rows(),
                version=_version(request),
            )
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            rest = formset.add_service_error(exc)
            return _page(request, deal, exc.status if exc.status >= 400 else 422,
                         lines=formset, lines_errors=rest, lines_open=True)  # fmt: skip
        messages.success(request, _("Products saved and priced."))
        return _back(deal, "lines")
    return _page(request, deal, 422, lines=formset, lines_open=True)


@maps_service_errors
@require_POST
def deal_need_add(request: HttpRequest, deal_id: int) -> HttpResponse:
    deal = _get(request, deal_id)
    _require_editor(request)
    form = NeedForm(request.POST)
    if form.is_valid():
        try:
            services.deal_need_add(actor=_viewer(request), deal=deal, **form.cleaned_data)
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("Need recorded."))
            return _back(deal, "needs")
    return _page(request, deal, 422, need_form=form)


@maps_service_errors
@require_POST
def deal_need_delete(request: HttpRequest, deal_id: int, need_id: int) -> HttpResponse:
    deal = _get(request, deal_id)
    _require_editor(request)
    need = deal.needs.filter(pk=need_id).first()
    if need is not None:
        services.deal_need_delete(actor=_viewer(request), need=need)
        messages.success(request, _("Need removed."))
    return _back(deal, "needs")


@maps_service_errors
@require_POST
def deal_objection_add(request: HttpRequest, deal_id: int) -> HttpResponse:
    deal = _get(request, deal_id)
    _require_editor(request)
    form = ObjectionForm(request.POST)
    if form.is_valid():
        try:
            services.deal_objection_add(actor=_viewer(request), deal=deal, **form.cleaned_data)
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("Objection logged."))
            return _back(deal, "objections")
    return _page(request, deal, 422, objection_form=form)


@maps_service_errors
@require_POST
def deal_objection_answer(request: HttpRequest, deal_id: int, objection_id: int) -> HttpResponse:
    deal = _get(request, deal_id)
    _require_editor(request)
    objection = deal.objections.filter(pk=objection_id).first()
    if objection is None:
        return _back(deal, "objections")
    if "delete" in request.POST:
        services.deal_objection_delete(actor=_viewer(request), objection=objection)
        messages.success(request, _("Objection removed."))
        return _back(deal, "objections")
    form = AnswerForm(request.POST, prefix=f"o{objection.pk}")
    if form.is_valid():
        try:
            services.deal_objection_update(
                actor=_viewer(request), objection=objection, **form.cleaned_data
            )
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("Answer saved."))
            return _back(deal, "objections")
    return _page(request, deal, 422, **{f"answer_{objection.pk}": form})


@maps_service_errors
@require_POST
def deal_book(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Book an appointment for this deal (the calendar's booking, regarding the deal)."""
    deal = _get(request, deal_id)
    _require_editor(request)
    form = BookForm(request.POST)
    conflicts: list[Any] = []
    if form.is_valid():
        try:
            appointment_book(
                actor=_viewer(request),
                account=deal.account,
                data=form.service_data(deal),
                allow_conflicts=form.cleaned_data.get("allow_conflicts") or False,
                regarding=deal,
            )
        except AppointmentConflict as exc:
            conflicts = exc.conflicts
            form.add_error(None, exc.message)
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("Appointment booked for this deal."))
            return _back(deal, "playbook")
    status = 409 if conflicts else 422
    return _page(request, deal, status, book_form=form, book_conflicts=conflicts, book_open=True)


@maps_service_errors
@require_POST
def deal_meeting(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Log a meeting held for this deal on the account's timeline."""
    deal = _get(request, deal_id)
    _require_editor(request)
    form = MeetingForm(request.POST)
    if form.is_valid():
        data = form.service_data(deal)
        occurred = data.get("occurred_at")
        if isinstance(occurred, datetime.datetime) and timezone.is_naive(occurred):
            data["occurred_at"] = timezone.make_aware(occurred)
        try:
            interaction_create(
                actor=_viewer(request), account=deal.account, data=data, regarding=deal
            )
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("Meeting logged for this deal."))
            return _back(deal, "playbook")
    return _page(request, deal, 422, meeting_form=form, meeting_open=True)


@maps_service_errors
@require_POST
def deal_quote(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Make a quote from the deal's lines (the orders bridge) and open it."""
    deal = _get(request, deal_id)
    _require_editor(request)
    try:
        quote = deal_quotes.deal_quote_create(actor=_viewer(request), deal=deal)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        return _action_error(request, deal, exc)
    return redirect(
        _url_or_none("orders:quote_detail", quote.pk)
        or reverse("pipeline:deal_detail", args=[deal.pk])
    )


# -- create and edit ----------------------------------------------------------------------------


def _account_picker(request: HttpRequest) -> TemplateResponse:
    search = request.GET.get("q", "").strip()[:200]
    found: list[Account] = []
    if search:
        found = list(
            account_list(viewer=_viewer(request), search=search)
            .exclude(kind="competitor")
            .filter(archived_at=None)[:20]
        )
    template = "pipeline/deals/form.html"
    if is_htmx(request):
        template += "#account-results"
    return TemplateResponse(
        request, template, {**NAV, "picking": True, "search": search, "found": found}
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def deal_create(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    raw = request.GET.get("account", "") or request.POST.get("account", "")
    if not (raw.isdecimal() and len(raw) < 12):
        return _account_picker(request)
    account = account_get(viewer=_viewer(request), account_id=int(raw))
    initial = {
        "owner": _viewer(request).pk,
        "currency": "JPY",
        "likelihood": "C",
        "source": "other",
        "expected_close": timezone.localdate() + datetime.timedelta(days=90),
    }
    form = DealForm(request.POST or None, viewer=_viewer(request), account=account, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            deal = services.deal_create(
                actor=_viewer(request), account=account, data=form.service_data()
            )
        except ApplicationError as exc:
            if exc.status in (403, 404) and not exc.errors:
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("Deal “%(title)s” opened.") % {"title": deal.title})
            return redirect("pipeline:deal_detail", deal_id=deal.pk)
    return _form_page(request, form, account, None)


@maps_service_errors
@require_http_methods(["GET", "POST"])
def deal_edit(request: HttpRequest, deal_id: int) -> HttpResponse:
    deal = _get(request, deal_id)
    _require_editor(request)
    form = DealForm(
        request.POST or None,
        viewer=_viewer(request),
        account=deal.account,
        deal=deal,
        initial=DealForm.initial_of(deal),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.deal_update(
                actor=_viewer(request),
                deal=deal,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_service_error(exc)
            status = exc.status if exc.status == 409 else 422
            return _form_page(request, form, deal.account, deal, status=status)
        messages.success(request, _("Changes saved."))
        return redirect("pipeline:deal_detail", deal_id=deal.pk)
    return _form_page(request, form, deal.account, deal)


def _form_page(
    request: HttpRequest, form: DealForm, account: Account, deal: Deal | None, status: int = 0
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "pipeline/deals/form.html",
        {**NAV, "form": form, "account": account, "deal": deal},
        status=status or (422 if form.is_bound and form.errors else 200),
    )


# -- the account page's section -----------------------------------------------------------------


def account_deals_section(request: HttpRequest, account: Account) -> dict[str, Any] | None:
    viewer = _viewer(request)
    deals = list(deals_for_account(viewer=viewer, account=account))
    year_ago = timezone.now() - datetime.timedelta(days=365)
    open_deals = [d for d in deals if d.stage.kind == StageKind.OPEN]
    closed = [
        d
        for d in deals
        if d.stage.kind != StageKind.OPEN and d.closed_at is not None and d.closed_at >= year_ago
    ]
    closed.sort(key=lambda d: d.closed_at or year_ago, reverse=True)
    return {
        "account": account,
        "open_deals": open_deals,
        "closed_deals": closed,
        "won_count": sum(1 for d in closed if d.stage.kind == StageKind.WON),
        "lost_count": sum(1 for d in closed if d.stage.kind == StageKind.LOST),
        "may_add": viewer.may_edit_accounts
        and not account.is_archived
        and account.kind != "competitor",
    }


def account_deal_action(request: HttpRequest, account: Account) -> dict[str, Any] | None:
    if (
        not _viewer(request).may_edit_accounts
        or account.is_archived
        or account.kind == "competitor"
    ):
        return None
    return {"account": account}
