"""Order pages: the list, an order with its lines, deliveries, invoices and actions, taking an
order by hand and from an accepted quote.

Thin: parse, call a selector or a service, render. Whoever may see the account sees its orders;
those who may edit accounts take and move them (support staff read them).
"""

import datetime
from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tokui.accounts.models import Account
from tokui.accounts.selectors import account_get
from tokui.catalog.constants import ProductStatus
from tokui.core.audit import audit_for_target
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.pagination import page_slice, parse_positive_int
from tokui.core.registry import audit_action_labels
from tokui.core.views import is_htmx, maps_service_errors, query_flag
from tokui.orders import orders as services
from tokui.orders import selectors_orders as selectors
from tokui.orders.constants import OrderStatus
from tokui.orders.deliveries import SHIPPABLE
from tokui.orders.forms_orders import (
    CancelForm,
    OrderForms,
    SubstituteForm,
    account_address,
    new_key,
)
from tokui.orders.invoices import uninvoiced_lines
from tokui.orders.models import Order, OrderLine
from tokui.orders.quotes import quote_totals
from tokui.users.models import User

NAV = {"nav_section": "orders"}
COUNT_LIMIT = 1000


def _viewer(request: HttpRequest) -> User:
    return cast(User, request.user)


def _require_editor(request: HttpRequest) -> None:
    viewer = _viewer(request)
    if not viewer.is_active or not viewer.may_edit_accounts:
        raise PermissionDenied(_("Your role can read orders but not change them."))


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdecimal() and len(value) <= 12 else None


def _date(value: str | None) -> datetime.date | None:
    try:
        day = datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2199 else None


# -- the list --------------------------------------------------------------------------------


@maps_service_errors
def order_index(request: HttpRequest) -> TemplateResponse:
    viewer = _viewer(request)
    today = timezone.localdate()
    status = request.GET.get("status", "")
    status = status if status in OrderStatus.values else ""
    owner = parse_positive_int(request.GET.get("owner"), 0, 2**62) or None
    search = request.GET.get("q", "").replace("\x00", "").strip()[:200]  # PostgreSQL refuses NUL
    ordered_from = _date(request.GET.get("from"))
    ordered_to = _date(request.GET.get("to"))
    late_only = query_flag(request, "late")
    account_id = parse_positive_int(request.GET.get("account"), 0, 2**62) or None
    # One account's orders (the account page's "All orders"): its name heads the page.
    account = account_get(viewer=viewer, account_id=account_id) if account_id else None
    qs = selectors.order_search(
        viewer=viewer,
        today=today,
        account_id=account_id,
        status=status or None,
        owner_id=owner,
        account_name=search,
        ordered_from=ordered_from,
        ordered_to=ordered_to,
        late_only=late_only,
    )
    # Counting every order of a large book costs more than the page: "more than 1,000".
    page = page_slice(
        qs, page=parse_positive_int(request.GET.get("page"), 1, 10**6), count_limit=COUNT_LIMIT
    )
    for order in page.items:
        order.flag = (  # type: ignore[attr-defined]
            ""
            if order.status not in selectors.OPEN_STATUSES or order.next_promised is None
            else "late"
            if order.next_promised < today
            else "at_risk"
            if order.has_line_at_risk
            else ""
        )
    # Owners of the accounts one sees (not of their orders: that would read the whole book).
    owners = User.objects.filter(
        pk__in=Account.objects.visible_to(viewer).values("owner_id"), is_active=True
    )
    template = "orders/orders/order_index.html"
    if is_htmx(request):
        template += "#results"
    context = {
        "page": page,
        "status": status,
        "statuses": [("", _("All statuses")), *OrderStatus.choices],
        "owner": owner,
        "owners": owners.order_by("username"),
        "search": search,
        "ordered_from": ordered_from,
        "ordered_to": ordered_to,
        "late_only": late_only,
        "account": account,
        "filtered": bool(status or owner or search or ordered_from or ordered_to or late_only),
        **NAV,
    }
    return TemplateResponse(request, template, context)


# -- one order -------------------------------------------------------------------------------


def _history(order: Order) -> list[dict[str, Any]]:
    return [
        {"event": e, "label": audit_action_labels.get(e.action) or e.action}
        for e in audit_for_target(target=order, limit=50)
    ]


def _line_rows(
    order: Order, lines: list[OrderLine], today: datetime.date, may_change: bool
) -> list[dict[str, Any]]:
    rows = []
    for line in lines:
        problem = None
        substitute_form = None
        product = line.product
        if product is not None and product.status != ProductStatus.ACTIVE:
            problem = services.assortment_problem(product)
            if may_change and not line.delivered_quantity:
                choices = [
                    (p.pk, f"{p.sku} {p.name}")
                    for p in product.substitutes.filter(status=ProductStatus.ACTIVE).order_by("sku")
                ]
                if choices:
                    substitute_form = SubstituteForm(
                        initial={"version": order.version}, choices=choices
                    )
        rows.append(
            {
                "line": line,
                "outstanding": line.quantity - line.delivered_quantity,
                "flag": selectors.promise_flag(
                    promised_on=line.promised_on,
                    delivered=line.delivered_quantity,
                    quantity=line.quantity,
                    today=today,
                )
                if order.status in selectors.OPEN_STATUSES
                else "",
                "problem": problem,
                "substitute_form": substitute_form,
            }
        )
    return rows


def _detail_context(request: HttpRequest, order: Order, **extra: Any) -> dict[str, Any]:
    viewer = _viewer(request)
    today = timezone.localdate()
    may_edit = viewer.is_active and viewer.may_edit_accounts
    lines = list(order.lines.select_related("product").order_by("position"))
    may_change = may_edit and order.status in services.CHANGEABLE
    context = {
        "order": order,
        "account": order.account,
        "rows": _line_rows(order, lines, today, may_change),
        "totals": quote_totals(((x.amount, x.tax_category) for x in lines), order.currency),
        "may_edit": may_edit,
        "may_cancel": may_change and not any(x.delivered_quantity for x in lines),
        "may_deliver": may_edit and order.status in SHIPPABLE,
        "may_invoice": may_edit
        and order.status != OrderStatus.CANCELLED
        and bool(uninvoiced_lines(order)),
        "deliveries": list(selectors.order_deliveries(order=order)),
        "invoices": list(selectors.order_invoices(order=order)),
        "history": _history(order),
        "approval_problem": services.order_approval_problem(order)
        if order.status == OrderStatus.RECEIVED
        else None,
        "cancel_form": CancelForm(initial={"version": order.version}),
        "action_key": new_key(),
        "today": today,
        **NAV,
    }
    context.update(extra)
    return context


@maps_service_errors
def order_detail(request: HttpRequest, order_id: int) -> TemplateResponse:
    order = selectors.order_get(viewer=_viewer(request), order_id=order_id)
    return TemplateResponse(
        request, "orders/orders/order_detail.html", _detail_context(request, order)
    )


def _action_error(request: HttpRequest, order: Order, exc: ApplicationError) -> TemplateResponse:
    return TemplateResponse(
        request,
        "orders/orders/order_detail.html",
        _detail_context(request, order, action_error=exc.message),
        status=exc.status if exc.status in (403, 409, 422) else 422,
    )


@maps_service_errors
@require_POST
def order_action(request: HttpRequest, order_id: int, action: str) -> HttpResponse:
    """The order's buttons: confirm, start fulfilment, cancel (with a reason), reorder. Each is
    a POST with the version the page showed."""
    viewer = _viewer(request)
    order = selectors.order_get(viewer=viewer, order_id=order_id)
    _require_editor(request)
    version = _version(request)
    if action == "reorder":
        try:
            new = services.order_reorder(
                actor=viewer, order=order, idempotency_key=request.POST.get("idempotency_key", "")
            )
        except ApplicationError as exc:
            return _action_error(request, order, exc)
        messages.success(
            request,
            _("Order %(number)s is a reorder of %(old)s, priced today.")
            % {"number": new.number, "old": order.number},
        )
        return redirect("orders:order_detail", order_id=new.pk)
    try:
        if action == "confirm":
            result = services.order_confirm(actor=viewer, order=order, version=version)
            text = _("Order %(number)s is confirmed.")
        elif action == "fulfil":
            result = services.order_start_fulfilment(actor=viewer, order=order, version=version)
            text = _("Order %(number)s is in fulfilment.")
        elif action == "cancel":
            result = services.order_cancel(
                actor=viewer, order=order, reason=request.POST.get("reason", ""), version=version
            )
            text = _("Order %(number)s is cancelled.")
        else:
            return redirect("orders:order_detail", order_id=order.pk)
    except ApplicationError as exc:
        if action == "cancel" and "reason" in exc.errors:
            form = CancelForm(request.POST)
            form.is_valid()
            form.add_service_error(exc)
            context = _detail_context(request, order, cancel_form=form, cancel_open=True)
            return TemplateResponse(request, "orders/orders/order_detail.html", context, status=422)
        return _action_error(request, order, exc)
    messages.success(request, text % {"number": result.number})
    return redirect("orders:order_detail", order_id=result.pk)


@maps_service_errors
@require_POST
def order_line_substitute(request: HttpRequest, order_id: int, line_id: int) -> HttpResponse:
    viewer = _viewer(request)
    order = selectors.order_get(viewer=viewer, order_id=order_id)
    _require_editor(request)
    try:
        services.order_set_line_substitute(
            actor=viewer,
            order=order,
            line=line_id,
            product=request.POST.get("product", ""),  # type: ignore[arg-type]
            version=_version(request),
        )
    except ApplicationError as exc:
        return _action_error(request, order, exc)
    messages.success(
        request, _("The line now has the substitute; the change is in the order's history.")
    )
    return redirect("orders:order_detail", order_id=order.pk)


# -- taking an order -------------------------------------------------------------------------


def _form_page(
    request: HttpRequest, forms: OrderForms, account: Account, status: int
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "orders/orders/order_form.html",
        {"forms": forms, "account": account, **NAV},
        status=status,
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def order_create(request: HttpRequest, account_id: int) -> HttpResponse:
    viewer = _viewer(request)
    account = account_get(viewer=viewer, account_id=account_id)
    _require_editor(request)
    if request.method == "POST" and "more_rows" in request.POST:
        return _form_page(
            request, OrderForms.with_more_rows(request.POST, account=account), account, 200
        )
    initial: dict[str, Any] = {
        "ordered_on": timezone.localdate(),
        "delivery_address": account_address(account),
        "idempotency_key": new_key(),
    }
    contact_id = parse_positive_int(request.GET.get("contact"), 0, 2**62)
    if contact_id:
        initial["contact"] = contact_id
    forms = OrderForms(request.POST or None, account=account, initial=initial)
    if request.method == "POST":
        if forms.is_valid():
            data = forms.form.cleaned_data
            try:
                order, new = services.order_create_once(
                    actor=viewer,
                    account=account,
                    lines=forms.lines.service_rows(),
                    contact=data["contact"],
                    customer_reference=data["customer_reference"],
                    ordered_on=data["ordered_on"],
                    delivery_address=data["delivery_address"],
                    notes=data["notes"],
                    idempotency_key=data["idempotency_key"] or "",
                )
            except ApplicationError as exc:
                forms.add_service_error(exc)
            else:
                if new:
                    messages.success(
                        request, _("Order %(number)s is received.") % {"number": order.number}
                    )
                return redirect("orders:order_detail", order_id=order.pk)
        return _form_page(request, forms, account, 422)
    return _form_page(request, forms, account, 200)


@maps_service_errors
@require_POST
def order_from_quote(request: HttpRequest, quote_id: int) -> HttpResponse:
    """ "Take order" on an accepted quote: the order at the quote's prices."""
    viewer = _viewer(request)
    _require_editor(request)
    try:
        order = services.order_from_quote(
            actor=viewer,
            quote=quote_id,
            customer_reference=request.POST.get("customer_reference", ""),
            idempotency_key=request.POST.get("idempotency_key", ""),
        )
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        texts = [m for field_messages in exc.errors.values() for m in field_messages]
        for message in texts or [exc.message]:
            messages.error(request, message)
        return redirect("orders:quote_detail", quote_id=quote_id)
    messages.success(request, _("Order %(number)s is received.") % {"number": order.number})
    return redirect("orders:order_detail", order_id=order.pk)
