"""Catalog pages. Thin: parse, call a selector or service, render."""

from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tokui.catalog import selectors, services
from tokui.catalog.constants import (
    PRICE_LIST_EDITABLE_FIELDS,
    PRODUCT_EDITABLE_FIELDS,
    PRODUCT_LINE_EDITABLE_FIELDS,
    ProductStatus,
)
from tokui.catalog.forms import (
    ItemsFormSet,
    PriceListForm,
    PriceListItemFormSet,
    ProductForm,
    ProductLineForm,
)
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.pagination import page_slice, parse_positive_int
from tokui.core.views import form_status, is_htmx, maps_service_errors


def _require_editor(request: HttpRequest) -> None:
    if not selectors.may_edit_catalog(request.user):
        raise PermissionDenied(
            _("Only heads of sales and administrators change the catalog; you can read it.")
        )


def _rights(request: HttpRequest) -> dict[str, bool]:
    return {
        "may_edit": selectors.may_edit_catalog(request.user),
        "sees_cost": selectors.sees_cost(request.user),
    }


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


@maps_service_errors
def product_index(request: HttpRequest) -> TemplateResponse:
    filters: dict[str, Any] = {
        "search": request.GET.get("q", "").strip()[:200],
        "line": _int_or_none(request.GET.get("line")),
        "status": request.GET.get("status")
        if request.GET.get("status") in ProductStatus.values
        else None,
    }
    page = page_slice(
        selectors.product_list(viewer=request.user, **filters),
        page=parse_positive_int(request.GET.get("page"), 1, 10**6),
    )
    template = "catalog/product_index.html"
    if is_htmx(request):
        template += "#results"
    context = {
        "page": page,
        "filters": filters,
        "filtered": any(filters.values()),
        "lines": list(selectors.product_line_list(viewer=request.user)),
        "statuses": ProductStatus.choices,
        **_rights(request),
    }
    return TemplateResponse(request, template, context)


@maps_service_errors
def product_detail(request: HttpRequest, product_id: int) -> TemplateResponse:
    product = selectors.product_get(viewer=request.user, product_id=product_id)
    return TemplateResponse(
        request,
        "catalog/product_detail.html",
        {
            "product": product,
            "advantages": [a.strip(" ・-•") for a in product.advantages.splitlines() if a.strip()],
            "tiers": selectors.product_price_tiers(product=product),
            "today": timezone.localdate(),
            **_rights(request),
        },
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(actor=request.user, data=form.service_data())
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Product “%(name)s” added.") % {"name": product})
            return redirect("catalog:product_detail", product_id=product.pk)
    return TemplateResponse(
        request,
        "catalog/product_form.html",
        {"form": form, "product": None},
        status=form_status(form),
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    product = selectors.product_get(viewer=request.user, product_id=product_id)
    _require_editor(request)
    initial: dict[str, Any] = {name: getattr(product, name) for name in PRODUCT_EDITABLE_FIELDS}
    initial.update(
        line=product.line_id,
        version=product.version,
        substitutes=[p.pk for p in product.substitutes.all()],
        list_price=f"{product.list_price.normalize():f}",
        cost=f"{product.cost.normalize():f}" if product.cost is not None else "",
    )
    form = ProductForm(request.POST or None, initial=initial, product=product)
    if request.method == "POST" and form.is_valid():
        try:
            services.product_update(
                actor=request.user,
                product=product,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("catalog:product_detail", product_id=product.pk)
    return TemplateResponse(
        request,
        "catalog/product_form.html",
        {"form": form, "product": product},
        status=form_status(form),
    )


@maps_service_errors
def line_index(request: HttpRequest) -> TemplateResponse:
    return TemplateResponse(
        request,
        "catalog/line_index.html",
        {"lines": list(selectors.product_line_list(viewer=request.user)), **_rights(request)},
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def line_form(request: HttpRequest, line_id: int | None = None) -> HttpResponse:
    line = selectors.product_line_get(viewer=request.user, line_id=line_id) if line_id else None
    _require_editor(request)
    initial: dict[str, Any] = {}
    if line is not None:
        initial = {name: getattr(line, name) for name in PRODUCT_LINE_EDITABLE_FIELDS}
        initial["version"] = line.version
    form = ProductLineForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if line is None:
                services.product_line_create(actor=request.user, data=form.service_data())
            else:
                services.product_line_update(
                    actor=request.user,
                    line=line,
                    data=form.service_data(),
                    version=form.cleaned_data.get("version"),
                )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Product line saved."))
            return redirect("catalog:line_index")
    return TemplateResponse(
        request, "catalog/line_form.html", {"form": form, "line": line}, status=form_status(form)
    )


@maps_service_errors
def price_list_index(request: HttpRequest) -> TemplateResponse:
    return TemplateResponse(
        request,
        "catalog/price_list_index.html",
        {
            "price_lists": list(selectors.price_list_list(viewer=request.user)),
            "today": timezone.localdate(),
            **_rights(request),
        },
    )


@maps_service_errors
def price_list_detail(request: HttpRequest, price_list_id: int) -> TemplateResponse:
    price_list = selectors.price_list_get(viewer=request.user, price_list_id=price_list_id)
    return TemplateResponse(
        request,
        "catalog/price_list_detail.html",
        {"price_list": price_list, "today": timezone.localdate(), **_rights(request)},
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def price_list_form(request: HttpRequest, price_list_id: int | None = None) -> HttpResponse:
    price_list = (
        selectors.price_list_get(viewer=request.user, price_list_id=price_list_id)
        if price_list_id
        else None
    )
    _require_editor(request)
    initial: dict[str, Any] = {"valid_from": timezone.localdate()}
    if price_list is not None:
        initial = {name: getattr(price_list, name) for name in PRICE_LIST_EDITABLE_FIELDS}
        initial["version"] = price_list.version
    form = PriceListForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if price_list is None:
                price_list = services.price_list_create(
                    actor=request.user, data=form.service_data()
                )
            else:
                services.price_list_update(
                    actor=request.user,
                    price_list=price_list,
                    data=form.service_data(),
                    version=form.cleaned_data.get("version"),
                )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Price list saved."))
            return redirect("catalog:price_list_detail", price_list_id=price_list.pk)
    return TemplateResponse(
        request,
        "catalog/price_list_form.html",
        {"form": form, "price_list": price_list},
        status=form_status(form),
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def price_list_items(request: HttpRequest, price_list_id: int) -> HttpResponse:
    """Edit every item of a list as one table; saving replaces them all or none."""
    price_list = selectors.price_list_get(viewer=request.user, price_list_id=price_list_id)
    _require_editor(request)
    initial = [
        {
            "product": item.product_id,
            "min_quantity": item.min_quantity,
            "unit_price": f"{item.unit_price.normalize():f}",
        }
        for item in price_list.items.all()
    ]
    formset = cast(
        ItemsFormSet,
        PriceListItemFormSet(request.POST or None, initial=initial, prefix="items"),
    )
    version = request.POST.get("version") if request.method == "POST" else None
    if request.method == "POST" and formset.is_valid():
        try:
            services.price_list_set_items(
                actor=request.user,
                price_list=price_list,
                items=formset.service_items(),
                version=_int_or_none(version),
            )
        except ApplicationError as exc:
            formset.add_service_error(exc)
        else:
            messages.success(request, _("Prices saved."))
            return redirect("catalog:price_list_detail", price_list_id=price_list.pk)
    invalid = request.method == "POST"
    return TemplateResponse(
        request,
        "catalog/price_list_items.html",
        {"formset": formset, "price_list": price_list},
        status=422 if invalid else 200,
    )
