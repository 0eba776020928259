"""The pipeline board, the deal list and the forecast (商談ボード・一覧・見込み).

Thin: parse the filters, call the selectors (``tokui.pipeline.selectors``) or the stage move
service, render. The board renders up to fifty cards per column, so the per-card display values
(formatted money, dates, owner names, links) are computed here once in Python rather than with
tags per card in the template: that keeps a board of thousands of deals within its time budget.

Moving a card: drag and drop or the keyboard (``web/board.js``) post to ``board_move`` and get
HTML fragments back (the two affected columns, or the playbook's refusal, or the form for the
reason a deal was lost); without JavaScript each card links to a small move page with the same
form. Every outcome has its own status: 200 moved, 409 refused by the playbook or stale, 422 a
form to complete.
"""

import csv
import datetime
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.formats import date_format, get_format
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tokui.accounts.constants import AccountTier
from tokui.accounts.exports import escape_formula
from tokui.catalog.selectors import competitor_account_choices
from tokui.core.exceptions import ApplicationError, Conflict
from tokui.core.money import format_money
from tokui.core.pagination import page_slice, parse_positive_int
from tokui.core.views import is_htmx, maps_service_errors
from tokui.pipeline import selectors
from tokui.pipeline.constants import LIKELIHOOD_WEIGHTS, Likelihood, LostReason, StageKind
from tokui.pipeline.models import Deal, PlaybookStep, Stage
from tokui.pipeline.selectors import Column, DealFilters
from tokui.pipeline.services import PlaybookRefused, deal_move_stage
from tokui.users.models import Team, User
from tokui.users.selectors import user_assignable_owners


class AuthedRequest(HttpRequest):
    user: User  # the login middleware lets only signed-in users through


# Cards per column on the board's first render; "show more" pages in the rest 50 at a time.
# Rendering cards is what the board spends its time on (issue 6: < 100 ms p95 with 5,000 open
# deals), and a column shows about five cards on a screen anyway.
FIRST_CARDS = 25

# The deal page belongs to the deal pages (views_deals); until its URL exists cards show no link.
_MARKER = 987654321


def _deal_url_pattern() -> str:
    try:
        return reverse("pipeline:deal_detail", args=[_MARKER]).replace(str(_MARKER), "{}")
    except NoReverseMatch:
        return ""


def deal_url(deal_id: int) -> str:
    pattern = _deal_url_pattern()
    return pattern.format(deal_id) if pattern else ""


def _language() -> str:
    return (get_language() or "en").split("-")[0]


def money_lines(amounts: dict[str, Decimal]) -> list[str]:
    """Amounts per currency for people, yen first (``¥1,200,000`` / ``1,200,000円``)."""
    language = _language()
    order = sorted(amounts, key=lambda currency: (currency != "JPY", currency))
    return [format_money(amounts[currency], currency, language) for currency in order]


# -- filters ------------------------------------------------------------------------------------


def _months(today: datetime.date, before: int = 6, after: int = 12) -> list[datetime.date]:
    first = today.replace(day=1)
    months = [first]
    month = first
    for _i in range(before):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
        months.insert(0, month)
    month = first
    for _i in range(after):
        month = (month + datetime.timedelta(days=32)).replace(day=1)
        months.append(month)
    return months


def filter_choices(viewer: User, filters: DealFilters) -> dict[str, Any]:
    """What the filter form offers: owners the viewer works with, teams (for those who see
    every team), tiers, close months around today and, for the list, the stages."""
    today = timezone.localdate()
    months = _months(today)
    if filters.close_month and filters.close_month not in months:
        months = sorted([*months, filters.close_month])
    month_format = _("F Y") if _language() != "ja" else "Y年n月"
    return {
        "owners": list(user_assignable_owners(viewer=viewer)),
        "teams": list(Team.objects.order_by("name")) if viewer.sees_all_accounts else [],
        "tiers": AccountTier.choices,
        "months": [(m.strftime("%Y-%m"), date_format(m, month_format)) for m in months],
        "current_month": filters.close_month.strftime("%Y-%m") if filters.close_month else "",
    }


def _filter_query(filters: DealFilters, **extra: Any) -> str:
    params = {**filters.as_query(), **{k: str(v) for k, v in extra.items() if v not in (None, "")}}
    return urlencode(sorted(params.items()))


def _has_filters(filters: DealFilters) -> bool:
    return bool(filters.as_query())


# -- cards --------------------------------------------------------------------------------------


def _owner_names(deals: Iterable[Any]) -> dict[int, str]:
    """Owners' display names for a page of cards in one query (the cards load the owner lean)."""
    ids = {deal.owner_id for deal in deals}
    if not ids:
        return {}
    return {
        user.pk: str(user)
        for user in User.objects.filter(pk__in=ids).only(
            "username", "first_name", "last_name", "display_name"
        )
    }


def decorate_cards(
    deals: list[Any],
    *,
    stages: dict[int, Stage] | None = None,
    owners: dict[int, str] | None = None,
) -> list[Any]:
    """Per-card display values, computed once per page (see the module's docstring).

    ``deals``: Deal rows or the board's lean cards (``selectors.Card``); ``owners``: the owners'
    names when the caller already read them for several columns at once."""
    if not deals:
        return deals
    today = timezone.localdate()
    language = _language()
    url_pattern = _deal_url_pattern()
    move_base = reverse("pipeline:board_move_form", args=[_MARKER]).replace(str(_MARKER), "{}")
    owners = owners if owners is not None else _owner_names(deals)
    likelihoods = {value: str(label) for value, label in Likelihood.choices}
    short = get_format("SHORT_DATE_FORMAT")
    for deal in deals:
        card: Any = deal  # the display values ride on the deal for the template
        card.url = url_pattern.format(deal.pk) if url_pattern else ""
        card.move_url = move_base.format(deal.pk)
        card.value_text = format_money(deal.value, deal.currency, language)
        card.owner_name = owners.get(deal.owner_id, "")
        card.likelihood_label = likelihoods.get(deal.likelihood, deal.likelihood)
        is_open = stages is None or stages[deal.stage_id].kind == StageKind.OPEN
        card.late = bool(is_open and deal.expected_close and deal.expected_close < today)
        card.close_text = format_date(deal.expected_close, short) if deal.expected_close else ""
        days = (today - timezone.localtime(deal.stage_entered_at).date()).days
        card.days_text = ngettext("%(n)d day in stage", "%(n)d days in stage", days) % {"n": days}
    return deals


def _card_labels() -> dict[str, str]:
    return {
        "move": _("Move to…"),
        "late": _("Late"),
        "late_title": _("The expected close date has passed."),
        "no_close": _("No close date"),
        "close": pgettext("deal card: the expected close date follows", "Close"),
    }


def _column_context(
    column: Column, stages: dict[int, Stage], filters: DealFilters, owners: dict[int, str]
) -> None:
    shown: Any = column
    shown.value_lines = money_lines(column.totals)
    shown.weighted_lines = money_lines(column.weighted)
    shown.is_open = column.stage.kind == StageKind.OPEN
    shown.more_query = _filter_query(filters, offset=len(column.deals))
    shown.list_query = _filter_query(filters, stage=column.stage.pk)
    decorate_cards(column.deals, stages=stages, owners=owners)


def _board_columns(viewer: User, filters: DealFilters) -> tuple[list[Column], dict[int, Stage]]:
    columns = selectors.board_columns(viewer=viewer, filters=filters, per_column=FIRST_CARDS)
    stages = {column.stage.pk: column.stage for column in columns}
    owners = _owner_names(deal for column in columns for deal in column.deals)
    for column in columns:
        _column_context(column, stages, filters, owners)
    return columns, stages


# -- pages --------------------------------------------------------------------------------------


def deals_root(request: HttpRequest) -> HttpResponse:
    return redirect("pipeline:board")


def _tab_context(tab: str) -> dict[str, Any]:
    return {"tab": tab, "nav_section": "pipeline"}


@maps_service_errors
@require_GET
def board(request: AuthedRequest) -> TemplateResponse:
    filters = DealFilters.from_query(request.GET)
    # The board is about stages: a stage or "open only" filter belongs to the list view.
    filters = replace(filters, stage=None, open_only=False)
    columns, _stages = _board_columns(request.user, filters)
    context = {
        **_tab_context("board"),
        "columns": columns,
        "filters": filters,
        "filtered": _has_filters(filters),
        "query": _filter_query(filters),
        "labels": _card_labels(),
        "may_move": request.user.may_edit_accounts,
        **filter_choices(request.user, filters),
    }
    return TemplateResponse(request, "pipeline/board/board.html", context)


@maps_service_errors
@require_GET
def board_column(request: AuthedRequest, stage_id: int) -> TemplateResponse:
    """More cards of one column: the board's "show more" (an htmx fragment)."""
    filters = DealFilters.from_query(request.GET)
    filters = replace(filters, stage=None, open_only=False)
    stage = Stage.objects.filter(pk=stage_id, active=True).first()
    if stage is None:
        raise Http404(_("No such stage."))
    offset = min(_int(request.GET.get("offset")) or 0, 10**6)
    limit = selectors.BOARD_CARDS_PER_COLUMN
    deals = selectors.board_column_page(
        viewer=request.user, stage=stage, filters=filters, offset=offset, limit=limit + 1
    )
    has_more = len(deals) > limit
    deals = decorate_cards(deals[:limit], stages={stage.pk: stage})
    return TemplateResponse(
        request,
        "pipeline/board/_more.html",
        {
            "deals": deals,
            "stage": stage,
            "has_more": has_more,
            "more_query": _filter_query(filters, offset=offset + len(deals)),
            "list_query": _filter_query(filters, stage=stage.pk),
            "labels": _card_labels(),
            "may_move": request.user.may_edit_accounts,
        },
    )


# -- moving a card ------------------------------------------------------------------------------


def _group_missing(missing: list[tuple[Stage, PlaybookStep]]) -> list[tuple[Stage, list[str]]]:
    groups: list[tuple[Stage, list[str]]] = []
    for stage, step in missing:
        if not groups or groups[-1][0].pk != stage.pk:
            groups.append((stage, []))
        groups[-1][1].append(step.label)
    return groups


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdecimal() and len(text) < 12 else None


def _move_form_context(
    request: AuthedRequest,
    deal: Deal,
    *,
    data: QueryDict | dict[str, Any] | None = None,
    error: ApplicationError | None = None,
) -> dict[str, Any]:
    data = data if data is not None else {}
    stages = selectors.stages_in_use()
    chosen = _int(data.get("stage")) or deal.stage_id
    stage_by_key = {stage.key: stage for stage in stages}
    if str(data.get("stage", "")) in stage_by_key:
        chosen = stage_by_key[str(data["stage"])].pk
    lost_stage_ids = [stage.pk for stage in stages if stage.kind == StageKind.LOST]
    context: dict[str, Any] = {
        **_tab_context("board"),
        "deal": deal,
        "deal_url": deal_url(deal.pk),
        "stages": stages,
        "chosen": chosen,
        "lost_chosen": chosen in lost_stage_ids,
        "lost_stage_ids": " ".join(str(pk) for pk in lost_stage_ids),
        "reasons": LostReason.choices,
        "competitors": list(competitor_account_choices(viewer=request.user)[:500]),
        "data": data,
        "board_query": str(data.get("board_query", "")),
        "error": error,
        "errors": error.errors if error else {},
        "refused": None,
    }
    if isinstance(error, PlaybookRefused):
        target = next((stage for stage in stages if stage.pk == chosen), None)
        context["refused"] = {"target": target, "groups": _group_missing(error.missing)}
    return context


@maps_service_errors
@require_GET
def board_move_form(request: AuthedRequest, deal_id: int) -> TemplateResponse:
    """The move form of one card: a page without JavaScript, the dialog's content with it."""
    deal = selectors.deal_get(viewer=request.user, deal_id=deal_id)
    template = "pipeline/board/move.html"
    if is_htmx(request):
        template += "#move-form"
    return TemplateResponse(request, template, _move_form_context(request, deal, data=request.GET))


def _columns_for(
    viewer: User, filters: DealFilters, stage_ids: Iterable[int | None]
) -> list[Column]:
    wanted = {pk for pk in stage_ids if pk}
    columns, _stages = _board_columns(viewer, filters)
    return [column for column in columns if column.stage.pk in wanted]


def _board_back(query: str) -> str:
    url = reverse("pipeline:board")
    return f"{url}?{query}" if query else url


@maps_service_errors
@require_POST
def board_move(request: AuthedRequest) -> HttpResponse:
    """Move a deal to a stage (``deal``, ``stage``, ``version``; for lost: ``lost_reason``,
    ``lost_note``, ``lost_to``) through ``deal_move_stage``."""
    deal_id = _int(request.POST.get("deal"))
    if deal_id is None:
        raise Http404(_("No such deal."))
    deal = selectors.deal_get(viewer=request.user, deal_id=deal_id)
    shown_in = _int(request.POST.get("from")) or deal.stage_id
    board_query = str(request.POST.get("board_query", ""))[:500].lstrip("?")
    filters = DealFilters.from_query(QueryDict(board_query))
    filters = replace(filters, stage=None, open_only=False)
    stage_value: int | str | None = _int(request.POST.get("stage"))
    if stage_value is None:
        stage_value = str(request.POST.get("stage", "")).strip()[:40]
    htmx = is_htmx(request)
    try:
        moved = deal_move_stage(
            actor=request.user,
            deal=deal.pk,
            stage=stage_value or -1,
            version=_int(request.POST.get("version")),
            lost_reason=str(request.POST.get("lost_reason", "")),
            lost_note=str(request.POST.get("lost_note", "")),
            lost_to=_int(request.POST.get("lost_to")),
        )
    except Conflict as exc:
        current = selectors.deal_get(viewer=request.user, deal_id=deal.pk)
        if not htmx:
            messages.error(request, exc.message)
            return redirect(_board_back(board_query))
        return TemplateResponse(
            request,
            "pipeline/board/_outcome.html",
            {
                "outcome": "conflict",
                "message": exc.message,
                "deal": current,
                "columns": _columns_for(request.user, filters, [shown_in, current.stage_id]),
                "labels": _card_labels(),
                "may_move": request.user.may_edit_accounts,
            },
            status=409,
        )
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        context = _move_form_context(request, deal, data=request.POST, error=exc)
        status = 409 if isinstance(exc, PlaybookRefused) else 422
        template = "pipeline/board/move.html"
        if htmx:
            template += "#move-form"
        return TemplateResponse(request, template, context, status=status)
    message = _("“%(deal)s” moved to %(stage)s.") % {
        "deal": moved.title,
        "stage": moved.stage.label,
    }
    if not htmx:
        messages.success(request, message)
        return redirect(_board_back(board_query))
    return TemplateResponse(
        request,
        "pipeline/board/_outcome.html",
        {
            "outcome": "moved",
            "message": message,
            "deal": moved,
            "columns": _columns_for(request.user, filters, [shown_in, moved.stage_id]),
            "labels": _card_labels(),
            "may_move": request.user.may_edit_accounts,
        },
    )


# -- the list -----------------------------------------------------------------------------------

SORTS = {
    "title": ("title", "pk"),
    "account": ("account__sort_key", "account__name", "pk"),
    "stage": ("stage__position", "pk"),
    "value": ("value", "pk"),
    "likelihood": ("likelihood", "pk"),
    "close": (F("expected_close").asc(nulls_last=True), "pk"),
    "owner": ("owner__username", "pk"),
}


def sorted_deals(deals: QuerySet[Deal], sort: str) -> QuerySet[Deal]:
    """The list's sort order (``-`` in front: descending); unknown keys sort by close date."""
    key = sort.lstrip("-")
    if key not in SORTS:
        return deals
    descending = sort.startswith("-")
    order: list[Any] = []
    for part in SORTS[key]:
        if part == "pk":
            order.append("-pk" if descending else "pk")
        elif isinstance(part, str):
            order.append(f"-{part}" if descending else part)
        else:
            order.append(F("expected_close").desc(nulls_last=True) if descending else part)
    return deals.order_by(*order)


def _list_rows(deals: list[Deal]) -> list[Deal]:
    decorate_cards(deals, stages={deal.stage_id: deal.stage for deal in deals})
    language = _language()
    for deal in deals:
        row: Any = deal
        # Only open deals are weighted by their likelihood; a closed one is won or lost.
        row.weighted_text = (
            format_money(selectors.weighted(deal.value, deal.likelihood), deal.currency, language)
            if deal.stage.kind == StageKind.OPEN
            else "—"
        )
    return deals


def _csv(deals: QuerySet[Deal]) -> HttpResponse:
    """The filtered list as CSV (UTF-8 with BOM, so Excel opens Japanese text correctly)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="deals.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Title"),
            _("Account"),
            _("Stage"),
            _("Currency"),
            _("Value"),
            _("Likelihood"),
            _("Weighted"),
            _("Expected close"),
            _("Owner"),
        ]
    )
    for deal in deals.iterator(chunk_size=500):
        writer.writerow(
            [
                # Text people typed: a leading = + - @ would run as a formula in a spreadsheet.
                escape_formula(deal.title),
                escape_formula(deal.account.name),
                deal.stage.label,
                deal.currency,
                str(deal.value),
                deal.likelihood,
                str(selectors.weighted(deal.value, deal.likelihood)),
                deal.expected_close.isoformat() if deal.expected_close else "",
                escape_formula(str(deal.owner)),
            ]
        )
    return response


@maps_service_errors
@require_GET
def deal_list(request: AuthedRequest) -> HttpResponse:
    filters = DealFilters.from_query(request.GET)
    sort = str(request.GET.get("sort", "close"))[:20]
    deals = sorted_deals(selectors.deal_list(viewer=request.user, filters=filters), sort)
    if request.GET.get("format") == "csv":
        return _csv(deals)
    page = page_slice(
        deals,
        page=parse_positive_int(request.GET.get("page"), 1, 10**6),
        count_qs=selectors.deal_list(viewer=request.user, filters=filters),
    )
    _list_rows(page.items)
    template = "pipeline/board/list.html"
    if is_htmx(request):
        template += "#results"
    context = {
        **_tab_context("list"),
        "page": page,
        "filters": filters,
        "filtered": _has_filters(filters),
        "sort": sort,
        "csv_query": _filter_query(filters, sort=sort, format="csv"),
        "stages": selectors.stages_in_use(),
        **filter_choices(request.user, filters),
    }
    return TemplateResponse(request, template, context)


# -- the forecast -------------------------------------------------------------------------------


def late_open_deals(*, viewer: User, filters: DealFilters, before: datetime.date) -> int:
    """How many open deals the forecast counts in its first month because they are late."""
    return (
        selectors.deal_list(viewer=viewer, filters=filters)
        .filter(stage__kind=StageKind.OPEN, expected_close__lt=before)
        .count()
    )


def _chart_currency(months: list[selectors.ForecastMonth]) -> str:
    totals: dict[str, Decimal] = {}
    for month in months:
        for source in (month.value, month.won):
            for currency, amount in source.items():
                totals[currency] = totals.get(currency, Decimal(0)) + amount
    if not totals or "JPY" in totals:
        return "JPY"
    return max(totals, key=lambda currency: totals[currency])


def _percent(amount: Decimal, top: Decimal) -> str:
    if top <= 0 or amount <= 0:
        return "0"
    return f"{min(Decimal(100), amount * 100 / top):.1f}"


@maps_service_errors
@require_GET
def forecast(request: AuthedRequest) -> TemplateResponse:
    filters = DealFilters.from_query(request.GET)
    filters = replace(filters, stage=None, open_only=False)
    first = timezone.localdate().replace(day=1)
    months = selectors.forecast(viewer=request.user, filters=filters, start=first)
    currency = _chart_currency(months)
    top = max(
        [m.value.get(currency, Decimal(0)) for m in months]
        + [m.won.get(currency, Decimal(0)) for m in months]
        + [Decimal(0)]
    )
    language = _language()
    month_format = _("F Y") if language != "ja" else "Y年n月"
    rows = []
    totals = {"count": 0, "value": {}, "weighted": {}, "won": {}}  # type: dict[str, Any]
    for month in months:
        rows.append(
            {
                "month": month.month,
                "label": date_format(month.month, month_format),
                "count": month.count,
                "value": money_lines(month.value),
                "weighted": money_lines(month.weighted),
                "won": money_lines(month.won),
                "bar_value": _percent(month.value.get(currency, Decimal(0)), top),
                "bar_weighted": _percent(month.weighted.get(currency, Decimal(0)), top),
                "bar_won": _percent(month.won.get(currency, Decimal(0)), top),
                "list_query": _filter_query(replace(filters, close_month=month.month), open="1"),
            }
        )
        totals["count"] += month.count
        for key in ("value", "weighted", "won"):
            for cur, amount in getattr(month, key).items():
                totals[key][cur] = totals[key].get(cur, Decimal(0)) + amount
    context = {
        **_tab_context("forecast"),
        "rows": rows,
        "totals": {
            "count": totals["count"],
            "value": money_lines(totals["value"]),
            "weighted": money_lines(totals["weighted"]),
            "won": money_lines(totals["won"]),
        },
        "chart_currency": currency,
        "chart_top": format_money(top, currency, language) if top else "",
        "late": late_open_deals(viewer=request.user, filters=filters, before=first),
        "weights": [(key, weight) for key, weight in LIKELIHOOD_WEIGHTS.items()],
        "filters": filters,
        "filtered": _has_filters(filters),
        **filter_choices(request.user, filters),
    }
    return TemplateResponse(request, "pipeline/board/forecast.html", context)
