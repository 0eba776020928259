"""/api/v1/products, /api/v1/product-lines, /api/v1/price-lists: the catalog's API.

The same selectors and services as the pages. ``cost`` and ``margin`` are confidential: they
are null unless the caller is a head of sales or an administrator. Product files (images, spec
sheets) are uploaded as multipart form data and downloaded through the API, never from a public
URL.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.schemas import Strict, drop_nones
from tokui.catalog import attachments, selectors, services
from tokui.catalog.constants import (
    LEAD_TIME_LIMIT,
    PRICE_LIST_ITEMS_LIMIT,
    SUBSTITUTES_LIMIT,
    Currency,
    ProductStatus,
    TaxCategory,
    Unit,
)
from tokui.catalog.models import (
    AttachmentKind,
    PriceList,
    PriceListItem,
    Product,
    ProductAttachment,
)
from tokui.core.pagination import MAX_PAGE, page_slice

router = Router(tags=["catalog"])


def _sees_cost(context: Any) -> bool:
    request = (context or {}).get("request")
    return request is not None and selectors.sees_cost(request.user)


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    name_kana: str
    line: int = Field(description="The product line's id.")
    line_name: str
    unit: Unit
    list_price: Decimal = Field(description="Excluding tax, in the product's currency.")
    cost: Decimal | None = Field(
        description="Confidential: null unless you are a head of sales or an administrator."
    )
    margin: Decimal | None = Field(
        description="Percent of the list price; null without a cost or without the right."
    )
    currency: Currency
    tax_category: TaxCategory
    status: ProductStatus
    lead_time_days: int | None
    availability_note: str
    description: str
    advantages: str
    substitutes: list[int] = Field(description="Ids of products offered instead.")
    version: int = Field(description="Send it back with a PATCH to refuse stale edits.")
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_line(obj: Product) -> int:
        return obj.line_id

    @staticmethod
    def resolve_line_name(obj: Product) -> str:
        return obj.line.name

    @staticmethod
    def resolve_cost(obj: Product, context: Any) -> Decimal | None:
        return obj.cost if _sees_cost(context) else None

    @staticmethod
    def resolve_margin(obj: Product, context: Any) -> Decimal | None:
        return obj.margin if _sees_cost(context) else None

    @staticmethod
    def resolve_substitutes(obj: Product) -> list[int]:
        return sorted(p.pk for p in obj.substitutes.all())


class ProductPage(Schema):
    items: list[ProductOut]
    count: int


class ProductQuery(Schema):
    q: str = Field("", max_length=200, description="Search SKU, name and reading (kana-folded).")
    line: int | None = Field(None, ge=1, le=2**62, description="A product line's id.")
    status: ProductStatus | None = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=200)


class ProductPatch(Strict):
    sku: str | None = Field(None, min_length=1, max_length=40)
    name: str | None = Field(None, min_length=1, max_length=200)
    name_kana: str | None = Field(None, max_length=200)
    line: int | None = Field(None, ge=1, le=2**62, strict=True)
    unit: Unit | None = None
    list_price: Decimal | None = Field(None, ge=0, lt=10**12, max_digits=14, decimal_places=2)
    cost: Decimal | None = Field(
        None, ge=0, lt=10**12, max_digits=14, decimal_places=2, description="null clears it."
    )
    currency: Currency | None = None
    tax_category: TaxCategory | None = None
    status: ProductStatus | None = None
    lead_time_days: int | None = Field(None, ge=0, le=LEAD_TIME_LIMIT, strict=True)
    availability_note: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=20_000)
    advantages: str | None = Field(None, max_length=20_000)
    substitutes: list[int] | None = Field(None, max_length=SUBSTITUTES_LIMIT)
    version: int | None = Field(None, ge=1, le=2**31)


class ProductCreate(ProductPatch):
    sku: str = Field(..., min_length=1, max_length=40)  # type: ignore[assignment]
    name: str = Field(..., min_length=1, max_length=200)  # type: ignore[assignment]
    line: int = Field(..., ge=1, le=2**62, strict=True)  # type: ignore[assignment]
    list_price: Decimal = Field(..., ge=0, lt=10**12, max_digits=14, decimal_places=2)  # type: ignore[assignment]


class ProductLineOut(Schema):
    id: int
    name: str
    name_kana: str
    description: str
    sort_order: int
    product_count: int
    version: int


class ProductLineCreate(Strict):
    name: str = Field(..., min_length=1, max_length=100)
    name_kana: str = Field("", max_length=100)
    description: str = Field("", max_length=20_000)
    sort_order: int = Field(0, ge=0, le=100_000, strict=True)


class PriceListItemOut(Schema):
    product: int
    sku: str
    min_quantity: int
    unit_price: Decimal

    @staticmethod
    def resolve_product(obj: PriceListItem) -> int:
        return obj.product_id

    @staticmethod
    def resolve_sku(obj: PriceListItem) -> str:
        return obj.product.sku


class PriceListOut(Schema):
    id: int
    name: str
    currency: Currency
    valid_from: datetime.date
    valid_to: datetime.date | None
    is_default: bool
    notes: str
    item_count: int
    version: int


class PriceListDetailOut(PriceListOut):
    items: list[PriceListItemOut]

    @staticmethod
    def resolve_items(obj: PriceList) -> list[PriceListItem]:
        return list(obj.items.all())


def _product(request: HttpRequest, product_id: int) -> Product:
    product = selectors.product_get(viewer=request_user(request), product_id=product_id)
    return product


@router.get("/products", response={200: ProductPage, **ERRORS}, summary="List products")
def list_products(request: HttpRequest, filters: Query[ProductQuery]) -> dict[str, Any]:
    qs = selectors.product_list(
        viewer=request_user(request), search=filters.q, line=filters.line, status=filters.status
    ).prefetch_related("substitutes")
    page = page_slice(qs, page=filters.page, page_size=filters.page_size)
    return {"items": page.items, "count": page.count}


@router.post("/products", response={201: ProductOut, **ERRORS}, summary="Add a product")
def create_product(request: HttpRequest, payload: ProductCreate) -> Status:
    data = drop_nones(payload.model_dump(exclude_unset=True), keep=("cost", "lead_time_days"))
    data.pop("version", None)
    product = services.product_create(actor=request_user(request), data=data)
    return Status(201, _product(request, product.pk))


@router.get("/products/{product_id}", response={200: ProductOut, **ERRORS}, summary="Get a product")
def get_product(request: HttpRequest, product_id: int) -> Any:
    return _product(request, product_id)


@router.patch(
    "/products/{product_id}", response={200: ProductOut, **ERRORS}, summary="Change a product"
)
def update_product(request: HttpRequest, product_id: int, payload: ProductPatch) -> Any:
    product = _product(request, product_id)
    data = drop_nones(payload.model_dump(exclude_unset=True), keep=("cost", "lead_time_days"))
    version = data.pop("version", None)
    services.product_update(
        actor=request_user(request), product=product, data=data, version=version
    )
    return _product(request, product_id)


@router.get(
    "/product-lines", response={200: list[ProductLineOut], **ERRORS}, summary="List product lines"
)
def list_product_lines(request: HttpRequest) -> Any:
    return list(selectors.product_line_list(viewer=request_user(request)))


@router.post(
    "/product-lines", response={201: ProductLineOut, **ERRORS}, summary="Add a product line"
)
def create_product_line(request: HttpRequest, payload: ProductLineCreate) -> Status:
    line = services.product_line_create(actor=request_user(request), data=payload.model_dump())
    return Status(201, selectors.product_line_get(viewer=request_user(request), line_id=line.pk))


@router.get(
    "/price-lists", response={200: list[PriceListOut], **ERRORS}, summary="List price lists"
)
def list_price_lists(request: HttpRequest) -> Any:
    return list(selectors.price_list_list(viewer=request_user(request)))


@router.get(
    "/price-lists/{price_list_id}",
    response={200: PriceListDetailOut, **ERRORS},
    summary="Get a price list with its quantity tiers",
)
def get_price_list(request: HttpRequest, price_list_id: int) -> Any:
    return selectors.price_list_get(viewer=request_user(request), price_list_id=price_list_id)


class PriceListCreate(Strict):
    name: str = Field(..., min_length=1, max_length=100)
    currency: Currency = Currency.JPY
    valid_from: datetime.date
    valid_to: datetime.date | None = Field(None, description="Empty: until further notice.")
    is_default: bool = Field(False, strict=True)
    notes: str = Field("", max_length=20_000)


class PriceListPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=100)
    currency: Currency | None = None
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = Field(None, description="null: until further notice.")
    is_default: bool | None = Field(None, strict=True)
    notes: str | None = Field(None, max_length=20_000)
    version: int | None = Field(None, ge=1, le=2**31)


class PriceListItemIn(Strict):
    product: int = Field(..., ge=1, le=2**62, strict=True, description="A product's id.")
    min_quantity: int = Field(1, ge=1, le=10**9, strict=True)
    unit_price: Decimal = Field(..., ge=0, lt=10**12, max_digits=14, decimal_places=2)


class PriceListItemsIn(Strict):
    items: list[PriceListItemIn] = Field(..., max_length=PRICE_LIST_ITEMS_LIMIT)
    version: int | None = Field(None, ge=1, le=2**31)


@router.post(
    "/price-lists",
    response={201: PriceListDetailOut, **ERRORS},
    summary="Add a price list",
    description="Default lists of one currency may not overlap (422 names the other list).",
)
def create_price_list(request: HttpRequest, payload: PriceListCreate) -> Status:
    user = request_user(request)
    data = payload.model_dump()
    price_list = services.price_list_create(actor=user, data=data)
    return Status(201, selectors.price_list_get(viewer=user, price_list_id=price_list.pk))


@router.patch(
    "/price-lists/{price_list_id}",
    response={200: PriceListDetailOut, **ERRORS},
    summary="Change a price list",
    description="Send the version you loaded: a stale one is refused with 409.",
)
def update_price_list(request: HttpRequest, price_list_id: int, payload: PriceListPatch) -> Any:
    user = request_user(request)
    price_list = selectors.price_list_get(viewer=user, price_list_id=price_list_id)
    data = drop_nones(payload.model_dump(exclude_unset=True), keep=("valid_to",))
    version = data.pop("version", None)
    services.price_list_update(actor=user, price_list=price_list, data=data, version=version)
    return selectors.price_list_get(viewer=user, price_list_id=price_list_id)


@router.put(
    "/price-lists/{price_list_id}/items",
    response={200: PriceListDetailOut, **ERRORS},
    summary="Replace a price list's quantity tiers",
    description=(
        "The whole tier table: every item is replaced, or nothing is. Per product a higher "
        "quantity never costs more per unit; errors name the row (`items.3.unit_price`)."
    ),
)
def set_price_list_items(
    request: HttpRequest, price_list_id: int, payload: PriceListItemsIn
) -> Any:
    user = request_user(request)
    price_list = selectors.price_list_get(viewer=user, price_list_id=price_list_id)
    services.price_list_set_items(
        actor=user,
        price_list=price_list,
        items=[item.model_dump() for item in payload.items],
        version=payload.version,
    )
    return selectors.price_list_get(viewer=user, price_list_id=price_list_id)


# Product files ------------------------------------------------------------------------------


class AttachmentOut(Schema):
    id: int
    kind: AttachmentKind
    name: str = Field(description="The file name as it was uploaded.")
    title: str
    content_type: str = Field(description="Decided from the file's content, not its name.")
    size: int
    sha256: str
    uploaded_by: str | None = Field(description="The uploader's user name.")
    created_at: datetime.datetime
    download_url: str

    @staticmethod
    def resolve_uploaded_by(obj: ProductAttachment) -> str | None:
        return obj.uploaded_by.username if obj.uploaded_by else None

    @staticmethod
    def resolve_download_url(obj: ProductAttachment) -> str:
        return f"/api/v1/products/{obj.product_id}/attachments/{obj.pk}/download"


class AttachmentIn(Strict):
    kind: AttachmentKind = AttachmentKind.SPEC_SHEET
    title: str = Field("", max_length=200)


_FILE_CONTENT = {
    mime: {"schema": {"type": "string", "format": "binary"}}
    for mime in (
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/webp",
        "image/gif",
        "application/octet-stream",
    )
}


@router.get(
    "/products/{product_id}/attachments",
    response={200: list[AttachmentOut], **ERRORS},
    summary="List a product's images and documents",
)
def list_attachments(request: HttpRequest, product_id: int) -> Any:
    product = _product(request, product_id)
    return list(attachments.product_attachment_list(viewer=request_user(request), product=product))


@router.post(
    "/products/{product_id}/attachments",
    response={201: AttachmentOut, **ERRORS},
    summary="Attach an image or a document to a product",
    description=(
        "Multipart form data: `kind` (image, spec_sheet, other), `title` and the `file`. Images "
        "must be PNG, JPEG, WebP or GIF (SVG is refused); spec sheets and other documents may "
        "also be PDF or Office files. The type is decided from the content. Heads of sales and "
        "administrators only."
    ),
)
def upload_attachment(
    request: HttpRequest,
    product_id: int,
    payload: Form[AttachmentIn],
    file: File[UploadedFile] = None,  # type: ignore[assignment]
) -> Status:
    user = request_user(request)
    product = _product(request, product_id)
    attachment = attachments.product_attachment_add(
        actor=user, product=product, kind=payload.kind, title=payload.title, file=file
    )
    return Status(201, attachment)


@router.get(
    "/products/{product_id}/attachments/{attachment_id}/download",
    response=ERRORS,
    summary="Download a product's file",
    openapi_extra={"responses": {200: {"description": "The file.", "content": _FILE_CONTENT}}},
)
def download_attachment(request: HttpRequest, product_id: int, attachment_id: int) -> FileResponse:
    attachment = attachments.product_attachment_get(
        viewer=request_user(request), attachment_id=attachment_id, product_id=product_id
    )
    response = FileResponse(
        attachments.product_attachment_open(attachment),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.delete(
    "/products/{product_id}/attachments/{attachment_id}",
    response={204: None, **ERRORS},
    summary="Delete a product's file",
)
def delete_attachment(request: HttpRequest, product_id: int, attachment_id: int) -> Status:
    user = request_user(request)
    attachment = attachments.product_attachment_get(
        viewer=user, attachment_id=attachment_id, product_id=product_id
    )
    attachments.product_attachment_delete(actor=user, attachment=attachment)
    return Status(204, None)
