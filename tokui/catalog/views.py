"""Catalog pages. Thin: parse, call a selector or service, render."""

from typing import Any, cast

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tokui.catalog import attachments, selectors, services
from tokui.catalog.constants import (
    PRICE_LIST_EDITABLE_FIELDS,
    PRODUCT_EDITABLE_FIELDS,
    PRODUCT_LINE_EDITABLE_FIELDS,
    ProductStatus,
)
from tokui.catalog.forms import (
    AttachmentForm,
    CompetitorProductForm,
    ItemsFormSet,
    PriceListForm,
    PriceListItemFormSet,
    ProductForm,
    ProductLineForm,
)
from tokui.catalog.models import Product
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
    return int(value) if value and value.isdecimal() and len(value) < 12 else None


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


def _product_page(
    request: HttpRequest, product: Product, *, upload_form: AttachmentForm | None = None
) -> TemplateResponse:
    files = list(attachments.product_attachment_list(viewer=request.user, product=product))
    form = upload_form or AttachmentForm()
    return TemplateResponse(
        request,
        "catalog/product_detail.html",
        {
            "product": product,
            "advantages": [a.strip(" ・-•") for a in product.advantages.splitlines() if a.strip()],
            "tiers": selectors.product_price_tiers(product=product),
            "today": timezone.localdate(),
            "attachment_groups": attachments.attachments_by_kind(files),
            "attachment_count": len(files),
            "upload_form": form,
            **_rights(request),
        },
        status=form_status(form),
    )


@maps_service_errors
def product_detail(request: HttpRequest, product_id: int) -> TemplateResponse:
    product = selectors.product_get(viewer=request.user, product_id=product_id)
    return _product_page(request, product)


@maps_service_errors
@require_POST
def attachment_upload(request: HttpRequest, product_id: int) -> HttpResponse:
    """Add a file to a product; a refused file shows its reason next to the field (422)."""
    product = selectors.product_get(viewer=request.user, product_id=product_id)
    _require_editor(request)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment = attachments.product_attachment_add(
                actor=request.user,
                product=product,
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data.get("title") or "",
                file=form.cleaned_data.get("file"),
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("“%(name)s” attached.") % {"name": attachment})
            return redirect(f"{product_detail_url(product.pk)}#attachments")
    return _product_page(request, product, upload_form=form)


def product_detail_url(product_id: int) -> str:
    return reverse("catalog:product_detail", args=[product_id])


def _file_response(attachment: Any, *, inline: bool) -> HttpResponse:
    handle = attachments.product_attachment_open(attachment)
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, max-age=300" if inline else "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return cast(HttpResponse, response)


@maps_service_errors
@require_GET
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """The file as a download, under its own (possibly Japanese) name."""
    attachment = attachments.product_attachment_get(
        viewer=request.user, attachment_id=attachment_id
    )
    return _file_response(attachment, inline=False)


@maps_service_errors
@require_GET
def attachment_image(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """An image shown inline (thumbnails): only files checked to be PNG, JPEG, WebP or GIF."""
    attachment = attachments.product_attachment_get(
        viewer=request.user, attachment_id=attachment_id
    )
    if not attachment.content_type.startswith("image/"):
        return _file_response(attachment, inline=False)
    return _file_response(attachment, inline=True)


@maps_service_errors
@require_POST
def attachment_delete(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment = attachments.product_attachment_get(
        viewer=request.user, attachment_id=attachment_id
    )
    _require_editor(request)
    attachments.product_attachment_delete(actor=request.user, attachment=attachment)
    messages.success(request, _("“%(name)s” deleted.") % {"name": attachment})
    return redirect(f"{product_detail_url(attachment.product_id)}#attachments")


# Competitors' products ----------------------------------------------------------------------


@maps_service_errors
def competitor_index(request: HttpRequest) -> TemplateResponse:
    filters: dict[str, Any] = {
        "search": request.GET.get("q", "").strip()[:200],
        "competitor": _int_or_none(request.GET.get("competitor")),
    }
    page = page_slice(
        selectors.competitor_product_list(viewer=request.user, **filters),
        page=parse_positive_int(request.GET.get("page"), 1, 10**6),
    )
    template = "catalog/competitor_index.html"
    if is_htmx(request):
        template += "#results"
    context = {
        "page": page,
        "filters": filters,
        "filtered": any(filters.values()),
        "competitors": list(selectors.competitor_account_choices(viewer=request.user)),
        **_rights(request),
    }
    return TemplateResponse(request, template, context)


@maps_service_errors
def competitor_detail(request: HttpRequest, competitor_product_id: int) -> TemplateResponse:
    record = selectors.competitor_product_get(
        viewer=request.user, competitor_product_id=competitor_product_id
    )
    return TemplateResponse(
        request,
        "catalog/competitor_detail.html",
        {
            "record": record,
            "ours": list(record.products.all().select_related("line")),
            "points": [p.strip(" ・-•") for p in record.notes.splitlines() if p.strip()],
            **_rights(request),
        },
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def competitor_form(request: HttpRequest, competitor_product_id: int | None = None) -> HttpResponse:
    record = (
        selectors.competitor_product_get(
            viewer=request.user, competitor_product_id=competitor_product_id
        )
        if competitor_product_id
        else None
    )
    _require_editor(request)
    initial: dict[str, Any] = {}
    if record is not None:
        initial = {
            "competitor": record.competitor_id,
            "name": record.name,
            "price": f"{record.price.normalize():f}" if record.price is not None else "",
            "currency": record.currency,
            "notes": record.notes,
            "products": [p.pk for p in record.products.all()],
            "version": record.version,
        }
    else:
        initial = {
            "competitor": _int_or_none(request.GET.get("competitor")),
            "products": [p for p in [_int_or_none(request.GET.get("product"))] if p],
        }
    form = CompetitorProductForm(
        request.POST or None,
        initial=initial,
        competitors=selectors.competitor_account_choices(viewer=request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            record = services.competitor_product_save(
                actor=request.user,
                data=form.service_data(),
                products=form.service_products(),
                record=record,
                version=form.cleaned_data.get("version") if record is not None else None,
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Competitor's product saved."))
            return redirect("catalog:competitor_detail", competitor_product_id=record.pk)
    return TemplateResponse(
        request,
        "catalog/competitor_form.html",
        {"form": form, "record": record},
        status=form_status(form),
    )


def account_competitor_products_section(
    request: HttpRequest, account: Any
) -> dict[str, Any] | None:
    """The competitor account's products that ours are compared with; left out when none."""
    records = selectors.competitor_products_of_account(viewer=request.user, account=account)
    if not records:
        return None
    return {"records": records, "account": account, **_rights(request)}


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
