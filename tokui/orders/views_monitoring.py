"""Monitoring pages: late and at-risk orders, the account page's "Orders" section, the
dashboard's "Late orders" panel.

Thin: parse, call the selectors of ``tokui.orders.monitoring``, render. Everyone sees the
orders of the accounts they may see; heads (and admins) filter by owner and team.
"""

from typing import Any, cast

from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tokui.accounts.models import Account
from tokui.core.pagination import page_slice, parse_positive_int
from tokui.core.views import is_htmx, maps_service_errors
from tokui.orders import monitoring
from tokui.users.constants import Role
from tokui.users.models import Team, User

NAV = {"nav_section": "orders"}
HEAD_ROLES = frozenset({Role.HEAD, Role.ADMIN})
DASHBOARD_LINES = 5


def _viewer(request: HttpRequest) -> User:
    return cast(User, request.user)


def _kinds() -> list[tuple[str, str]]:
    return [("", _("Late and at risk")), ("late", _("Late")), ("at_risk", _("At risk"))]


def _sorts() -> list[tuple[str, str]]:
    return [("late", _("Most late first")), ("-late", _("Due soonest first"))]


def _with_cells(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Links, dates and the late / left badge of each row, made here rather than by template
    tags: with fifty rows those tags were half the page's time (the list has a 50 ms budget)."""
    account_url = reverse("accounts:detail", args=[0]).removesuffix("0/")
    order_url = reverse("orders:order_detail", args=[0]).removesuffix("0/")
    for row in rows:
        row["account_url"] = f"{account_url}{row['account'].pk}/"
        row["order_url"] = f"{order_url}{row['order'].pk}/"
        row["promised"] = date_format(row["line"].promised_on, "SHORT_DATE_FORMAT")
        if row["late"]:
            days = row["days_late"]
            row["badge"] = ngettext("%(n)d day late", "%(n)d days late", days) % {"n": days}
        elif days := row["days_left"]:
            row["badge"] = ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}
        else:
            row["badge"] = _("Due today")
    return rows


@maps_service_errors
def late_orders(request: HttpRequest) -> TemplateResponse:
    viewer = _viewer(request)
    today = timezone.localdate()
    may_filter = viewer.role in HEAD_ROLES
    owner = parse_positive_int(request.GET.get("owner"), 0, 2**62) or None
    team = parse_positive_int(request.GET.get("team"), 0, 2**62) or None
    if not may_filter:
        owner = team = None
    kind = request.GET.get("kind", "")
    kind = kind if kind in ("late", "at_risk") else ""
    sort = request.GET.get("sort", "late")
    sort = sort if sort in monitoring.SORTS else "late"
    lines = monitoring.late_lines(
        viewer=viewer, today=today, owner_id=owner, team_id=team, kind=kind, sort=sort
    )
    counts = monitoring.late_counts(viewer=viewer, today=today, owner_id=owner, team_id=team)
    shown = {"late": counts.late, "at_risk": counts.at_risk}.get(kind, counts.late + counts.at_risk)
    page = page_slice(
        lines, page=parse_positive_int(request.GET.get("page"), 1, 10**6), count=shown
    )
    context: dict[str, Any] = {
        "page": page,
        "rows": _with_cells(monitoring.late_line_rows(page.items, today)),
        "counts": counts,
        "kind": kind,
        "kinds": _kinds(),
        "sort": sort,
        "sorts": _sorts(),
        "owner": owner,
        "team": team,
        "may_filter": may_filter,
        "at_risk_days": monitoring.AT_RISK_DAYS,
        "filtered": bool(kind or owner or team),
        **NAV,
    }
    if may_filter:
        # Owners of accounts (reading the owners of every order would read the whole book).
        context["owners"] = User.objects.filter(
            pk__in=Account.objects.values("owner_id"), is_active=True
        ).order_by("username")
        context["teams"] = Team.objects.order_by("name")
    template = "orders/monitoring/late_orders.html"
    if is_htmx(request):
        template += "#results"
    return TemplateResponse(request, template, context)


@maps_service_errors
def otif_report(request: HttpRequest) -> TemplateResponse:
    """On time in full by month over every account the viewer sees, and the accounts whose
    deliveries were least often on time in full."""
    viewer = _viewer(request)
    report = monitoring.book_otif(viewer=viewer, today=timezone.localdate())
    return TemplateResponse(
        request,
        "orders/monitoring/otif.html",
        {
            "months": report.months,
            "accounts": report.accounts[:OTIF_ACCOUNTS],
            "min_orders": monitoring.MIN_ORDERS_RANKED,
            **NAV,
        },
    )


OTIF_ACCOUNTS = 20


def account_orders_section(request: HttpRequest, account: Account) -> dict[str, Any] | None:
    """The account's recent orders, buying rhythm, late / at-risk count and OTIF by month."""
    viewer = _viewer(request)
    overview = monitoring.account_orders_overview(
        viewer=viewer, account=account, today=timezone.localdate()
    )
    return {
        "account": account,
        "may_edit": viewer.may_edit_accounts and not account.is_archived,
        **overview,
    }


def dashboard_late_panel(viewer: User) -> dict[str, Any]:
    """The dashboard's "Late orders" panel: counts and the most late lines (two queries)."""
    today = timezone.localdate()
    lines = list(monitoring.late_lines(viewer=viewer, today=today)[:DASHBOARD_LINES])
    return {
        "counts": monitoring.late_counts(viewer=viewer, today=today),
        "rows": monitoring.late_line_rows(lines, today),
    }
