"""Delivery pages: shipping an order's goods (a delivery), a delivery with its slip (納品書)
PDF, marking it delivered, and e-mailing the slip.

Thin: parse, call a selector or a service, render. Whoever may see the account sees its
deliveries; those who may edit accounts record them (support staff read them).
"""

import datetime
import secrets
from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tokui.activities.pdf import pdf_response
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.views import form_status, maps_service_errors
from tokui.orders import slips
from tokui.orders.deliveries import SHIPPABLE, delivery_create_once, delivery_mark_delivered
from tokui.orders.forms_quotes import EmailForm
from tokui.orders.models import Delivery, Order
from tokui.orders.selectors_orders import delivery_get, order_get
from tokui.users.models import User

NAV = {"nav_section": "orders"}


def _viewer(request: HttpRequest) -> User:
    return cast(User, request.user)


def _require_editor(request: HttpRequest) -> None:
    viewer = _viewer(request)
    if not viewer.is_active or not viewer.may_edit_accounts:
        raise PermissionDenied(_("Your role can read orders but not change them."))


def _date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _form_rows(order: Order, data: dict[str, str] | None) -> list[dict[str, Any]]:
    """A row per order line: the line, what is left, the quantity typed (prefilled: all left)."""
    rows = []
    for line in order.lines.all():
        left = line.quantity - line.delivered_quantity
        value = str(left) if data is None else data.get(f"qty_{line.pk}", "").strip()
        rows.append({"line": line, "left": left, "value": value, "errors": []})
    return rows


def _form_page(
    request: HttpRequest, order: Order, form: dict[str, Any], status: int
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "orders/deliveries/delivery_form.html",
        {
            "order": order,
            "account": order.account,
            "form": form,
            "shippable": order.status in SHIPPABLE,
            **NAV,
        },
        status=status,
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def delivery_create(request: HttpRequest, order_id: int) -> HttpResponse:
    viewer = _viewer(request)
    order = order_get(viewer=viewer, order_id=order_id)
    _require_editor(request)
    form: dict[str, Any]
    if request.method != "POST":
        form = {
            "rows": _form_rows(order, None),
            "shipped_on": timezone.localdate().isoformat(),
            "carrier": "",
            "tracking_number": "",
            "key": secrets.token_urlsafe(16),
            "errors": {},
            "message": "",
        }
        return _form_page(request, order, form, 200)
    post = request.POST
    rows = _form_rows(order, {k: str(v) for k, v in post.items()})
    form = {
        "rows": rows,
        "shipped_on": post.get("shipped_on", ""),
        "carrier": post.get("carrier", ""),
        "tracking_number": post.get("tracking_number", ""),
        "key": post.get("idempotency_key", "")[:100] or secrets.token_urlsafe(16),
        "errors": {},
        "message": "",
    }
    lines: list[dict[str, Any]] = []
    shipped: list[dict[str, Any]] = []  # the form row of each service line, by index
    for row in rows:
        value = row["value"] or "0"
        if not value.isdecimal() or len(value) > 9:
            row["errors"].append(_("A quantity is a whole number (0: not in this shipment)."))
            continue
        if int(value):
            lines.append({"order_line": row["line"].pk, "quantity": int(value)})
            shipped.append(row)
    if any(row["errors"] for row in rows):
        form["message"] = _("Please correct the marked fields.")
        return _form_page(request, order, form, 422)
    try:
        delivery, _new = delivery_create_once(
            actor=viewer,
            order=order,
            lines=lines,
            shipped_on=_date(form["shipped_on"]),  # type: ignore[arg-type]
            carrier=form["carrier"],
            tracking_number=form["tracking_number"],
            idempotency_key=form["key"],
        )
    except ApplicationError as exc:
        for field, errors in exc.errors.items():
            parts = field.split(".")
            if parts[0] == "lines" and len(parts) > 1 and parts[1].isdecimal():
                index = int(parts[1])
                if index < len(shipped):
                    shipped[index]["errors"].extend(errors)
                    continue
            form["errors"].setdefault(parts[0], []).extend(errors)
        form["message"] = exc.message
        return _form_page(request, order, form, exc.status if exc.status in (409, 422) else 422)
    messages.success(request, _("Delivery %(number)s recorded.") % {"number": delivery.number})
    return redirect("orders:delivery_detail", delivery_id=delivery.pk)


def _detail_context(request: HttpRequest, delivery: Delivery, **extra: Any) -> dict[str, Any]:
    order = delivery.order
    context = {
        "delivery": delivery,
        "order": order,
        "account": order.account,
        "lines": sorted(delivery.lines.all(), key=lambda dl: dl.order_line.position),
        "may_edit": _viewer(request).may_edit_accounts,
        "today": timezone.localdate().isoformat(),
        **NAV,
    }
    context.update(extra)
    return context


@maps_service_errors
def delivery_detail(request: HttpRequest, delivery_id: int) -> TemplateResponse:
    delivery = delivery_get(viewer=_viewer(request), delivery_id=delivery_id)
    return TemplateResponse(
        request, "orders/deliveries/delivery_detail.html", _detail_context(request, delivery)
    )


@maps_service_errors
@require_POST
def delivery_delivered(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """ "Mark delivered": the goods arrived on the date given."""
    viewer = _viewer(request)
    delivery = delivery_get(viewer=viewer, delivery_id=delivery_id)
    _require_editor(request)
    version = request.POST.get("version", "")
    try:
        done = delivery_mark_delivered(
            actor=viewer,
            delivery=delivery,
            delivered_on=_date(request.POST.get("delivered_on", "")) or timezone.localdate(),
            version=int(version) if version.isdecimal() and len(version) <= 12 else None,
        )
    except ApplicationError as exc:
        context = _detail_context(request, delivery, action_error=exc.message)
        return TemplateResponse(
            request,
            "orders/deliveries/delivery_detail.html",
            context,
            status=exc.status if exc.status in (403, 409, 422) else 422,
        )
    messages.success(request, _("Delivery %(number)s is delivered.") % {"number": done.number})
    return redirect("orders:delivery_detail", delivery_id=done.pk)


@maps_service_errors
def delivery_pdf_view(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = delivery_get(viewer=_viewer(request), delivery_id=delivery_id)
    language = slips.slip_language(request.GET.get("lang"))
    return pdf_response(
        slips.delivery_pdf(delivery, language),
        filename=slips.delivery_filename(delivery, language),
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def delivery_email(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """Compose the slip's mail (the PDF attached) to the order's contact and send it."""
    viewer = _viewer(request)
    delivery = delivery_get(viewer=viewer, delivery_id=delivery_id)
    _require_editor(request)
    language = slips.slip_language(request.POST.get("lang") or request.GET.get("lang"))
    subject, body = slips.delivery_email_defaults(delivery=delivery, language=language)
    form = EmailForm(request.POST or None, initial={"subject": subject, "body": body})
    contact = delivery.order.contact
    if request.method == "POST" and form.is_valid():
        try:
            slips.delivery_email_send(
                actor=viewer,
                delivery=delivery,
                language=language,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("Delivery slip %(number)s was e-mailed to %(who)s.")
                % {"number": delivery.number, "who": contact},
            )
            return redirect("orders:delivery_detail", delivery_id=delivery.pk)
    return TemplateResponse(
        request,
        "orders/deliveries/delivery_email.html",
        {
            "delivery": delivery,
            "order": delivery.order,
            "form": form,
            "lang": language,
            "filename": slips.delivery_filename(delivery, language),
            "contact": contact,
            **NAV,
        },
        status=form_status(form),
    )
