"""/api/v1/orders and /api/v1/deliveries: orders (受注) and their deliveries (納品).

The same selectors and services as the pages (``tokui.orders.orders``, ``.deliveries``).
Creating is idempotent: send an ``Idempotency-Key`` header (or an ``idempotency_key`` field);
a retry with the same key answers 200 with the first order or delivery, a first create 201.
"""

import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tokui.activities.pdf import PDF_CONTENT_TYPE, pdf_response
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.reports import Day
from tokui.api.schemas import Strict
from tokui.core.exceptions import NotFound
from tokui.core.pagination import MAX_PAGE, page_slice
from tokui.orders import deliveries as delivery_services
from tokui.orders import orders as services
from tokui.orders import selectors_orders as selectors
from tokui.orders import slips
from tokui.orders.constants import DeliveryStatus, OrderSource, OrderStatus
from tokui.orders.models import Delivery, DeliveryLine, Order, OrderLine
from tokui.orders.quotes import tax_rate_percent

router = Router(tags=["orders"])

Id = Field(..., ge=1, le=2**62, strict=True)
Key = Field("", max_length=100, description="Or the Idempotency-Key header.")


class OrderLineOut(Schema):
    id: int
    position: int
    product: int | None
    substitute_for: int | None = Field(description="The product this line replaced.")
    sku: str
    description: str
    unit: str
    quantity: int
    delivered_quantity: int
    list_price: Decimal
    engine_price: Decimal
    unit_price: Decimal
    tax_rate: Decimal = Field(description="10 or 8 (percent).")
    amount: Decimal
    promised_on: datetime.date | None

    @staticmethod
    def resolve_product(obj: OrderLine) -> int | None:
        return obj.product_id

    @staticmethod
    def resolve_substitute_for(obj: OrderLine) -> int | None:
        return obj.substitute_for_id

    @staticmethod
    def resolve_tax_rate(obj: OrderLine) -> Decimal:
        return tax_rate_percent(obj.tax_category)


class OrderOut(Schema):
    id: int
    number: str
    account: int
    contact: int | None
    customer_reference: str
    owner: str
    source: OrderSource
    quote: int | None
    reorder_of: int | None
    approval: int | None = Field(
        description=(
            "The approval request of prices beyond the creator's authority: the order cannot "
            "be confirmed until it is approved."
        )
    )
    currency: str
    ordered_on: datetime.date
    status: OrderStatus
    delivery_address: str
    notes: str
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    cancelled_at: datetime.datetime | None
    cancel_reason: str
    version: int

    @staticmethod
    def resolve_account(obj: Order) -> int:
        return obj.account_id

    @staticmethod
    def resolve_contact(obj: Order) -> int | None:
        return obj.contact_id

    @staticmethod
    def resolve_owner(obj: Order) -> str:
        return obj.owner.username

    @staticmethod
    def resolve_quote(obj: Order) -> int | None:
        return obj.quote_id

    @staticmethod
    def resolve_reorder_of(obj: Order) -> int | None:
        return obj.reorder_of_id

    @staticmethod
    def resolve_approval(obj: Order) -> int | None:
        return obj.approval_id


class OrderDetailOut(OrderOut):
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(obj: Order) -> list[OrderLine]:
        return list(obj.lines.all())


class OrderPage(Schema):
    items: list[OrderOut]
    count: int


class OrderQuery(Schema):
    status: OrderStatus | None = None
    account: int | None = Field(None, ge=1, le=2**62)
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=200)


class OrderLineIn(Strict):
    product: int = Id
    quantity: int = Field(..., ge=1, le=10**9, strict=True)
    unit_price: Decimal | None = Field(
        None,
        ge=0,
        lt=10**12,
        max_digits=14,
        decimal_places=2,
        description=(
            "The agreed price: at most the price found; below it, a discount within the "
            "caller's authority or else sent for approval (the order waits for it)."
        ),
    )
    promised_on: Day | None = None


class OrderCreate(Strict):
    account: int = Id
    contact: int | None = Field(None, ge=1, le=2**62, strict=True)
    lines: list[OrderLineIn] = Field(..., min_length=1, max_length=services.LINES_LIMIT)
    customer_reference: str = Field("", max_length=100)
    ordered_on: Day | None = Field(None, description="Default: today.")
    delivery_address: str = Field("", max_length=4000)
    notes: str = Field("", max_length=4000)
    idempotency_key: str = Key


class VersionIn(Strict):
    version: int | None = Field(None, ge=1, le=2**31, strict=True)


class CancelIn(VersionIn):
    reason: str = Field(..., min_length=1, max_length=4000)


class DeliveryLineIn(Strict):
    order_line: int = Id
    quantity: int = Field(..., ge=1, le=10**9, strict=True)


class DeliveryCreate(Strict):
    order: int = Id
    lines: list[DeliveryLineIn] = Field(..., min_length=1, max_length=services.LINES_LIMIT)
    shipped_on: Day
    carrier: str = Field("", max_length=100)
    tracking_number: str = Field("", max_length=100)
    idempotency_key: str = Key


class DeliveryLineOut(Schema):
    order_line: int
    position: int
    sku: str
    description: str
    quantity: int

    @staticmethod
    def resolve_order_line(obj: DeliveryLine) -> int:
        return obj.order_line_id

    @staticmethod
    def resolve_position(obj: DeliveryLine) -> int:
        return obj.order_line.position

    @staticmethod
    def resolve_sku(obj: DeliveryLine) -> str:
        return obj.order_line.sku

    @staticmethod
    def resolve_description(obj: DeliveryLine) -> str:
        return obj.order_line.description


class DeliveryOut(Schema):
    id: int
    number: str
    order: int
    order_number: str
    status: DeliveryStatus
    shipped_on: datetime.date
    delivered_on: datetime.date | None
    carrier: str
    tracking_number: str
    lines: list[DeliveryLineOut]
    version: int

    @staticmethod
    def resolve_order(obj: Delivery) -> int:
        return obj.order_id

    @staticmethod
    def resolve_order_number(obj: Delivery) -> str:
        return obj.order.number

    @staticmethod
    def resolve_lines(obj: Delivery) -> list[DeliveryLine]:
        return list(obj.lines.all())


def _key(request: HttpRequest, field: str) -> str:
    return request.headers.get("Idempotency-Key", "") or field


def _get(request: HttpRequest, order_id: int) -> Order:
    if not 1 <= order_id <= 2**62:
        raise NotFound(_("No such order."))
    return selectors.order_get(viewer=request_user(request), order_id=order_id)


def _get_delivery(request: HttpRequest, delivery_id: int) -> Delivery:
    if not 1 <= delivery_id <= 2**62:
        raise NotFound(_("No such delivery."))
    return selectors.delivery_get(viewer=request_user(request), delivery_id=delivery_id)


@router.get("/orders", response={200: OrderPage, **ERRORS}, summary="List orders")
def list_orders(request: HttpRequest, filters: Query[OrderQuery]) -> dict[str, Any]:
    qs = selectors.order_list(
        viewer=request_user(request), account=filters.account, status=filters.status
    )
    page = page_slice(qs, page=filters.page, page_size=filters.page_size)
    return {"items": page.items, "count": page.count}


@router.post(
    "/orders",
    response={200: OrderDetailOut, 201: OrderDetailOut, **ERRORS},
    summary="Take an order (idempotent with a key)",
)
def create_order(request: HttpRequest, payload: OrderCreate) -> Status:
    """Lines are priced on ``ordered_on``; discontinued or unavailable products are refused
    naming their lead time and substitutes (``lines.0.product``). A line's ``unit_price``
    above the price found is refused (``lines.0.unit_price``); below it, within the caller's
    authority it is taken, beyond it the order waits for the approval request named in
    ``approval`` (confirming is refused until then). 201: a new order; 200: a retry with the
    same idempotency key, answered with the first order."""
    lines: list[dict[str, Any]] = [
        {k: v for k, v in line.model_dump().items() if v is not None} for line in payload.lines
    ]
    order, new = services.order_create_once(
        actor=request_user(request),
        account=payload.account,
        contact=payload.contact,
        lines=lines,
        customer_reference=payload.customer_reference,
        ordered_on=payload.ordered_on,
        delivery_address=payload.delivery_address,
        notes=payload.notes,
        source=OrderSource.API,
        idempotency_key=_key(request, payload.idempotency_key),
    )
    return Status(201 if new else 200, _get(request, order.pk))


@router.get("/orders/{order_id}", response={200: OrderDetailOut, **ERRORS}, summary="Get an order")
def get_order(request: HttpRequest, order_id: int) -> Any:
    return _get(request, order_id)


@router.post(
    "/orders/{order_id}/confirm",
    response={200: OrderDetailOut, **ERRORS},
    summary="Confirm a received order",
)
def confirm_order(request: HttpRequest, order_id: int, payload: VersionIn) -> Any:
    services.order_confirm(
        actor=request_user(request), order=_get(request, order_id), version=payload.version
    )
    return _get(request, order_id)


@router.post(
    "/orders/{order_id}/start-fulfilment",
    response={200: OrderDetailOut, **ERRORS},
    summary="Start fulfilling a confirmed order",
)
def start_fulfilment(request: HttpRequest, order_id: int, payload: VersionIn) -> Any:
    services.order_start_fulfilment(
        actor=request_user(request), order=_get(request, order_id), version=payload.version
    )
    return _get(request, order_id)


@router.post(
    "/orders/{order_id}/cancel",
    response={200: OrderDetailOut, **ERRORS},
    summary="Cancel an order nothing of which was delivered",
)
def cancel_order(request: HttpRequest, order_id: int, payload: CancelIn) -> Any:
    services.order_cancel(
        actor=request_user(request),
        order=_get(request, order_id),
        reason=payload.reason,
        version=payload.version,
    )
    return _get(request, order_id)


@router.post(
    "/deliveries",
    response={200: DeliveryOut, 201: DeliveryOut, **ERRORS},
    summary="Ship some quantities of an order's lines (idempotent with a key)",
)
def create_delivery(request: HttpRequest, payload: DeliveryCreate) -> Status:
    """Refused: more than is left of a line (``lines.0.quantity`` names what is left), an
    order not confirmed or cancelled. 201: new; 200: a retry with the same key."""
    order = _get(request, payload.order)
    delivery, new = delivery_services.delivery_create_once(
        actor=request_user(request),
        order=order,
        lines=[line.model_dump() for line in payload.lines],
        shipped_on=payload.shipped_on,
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
        idempotency_key=_key(request, payload.idempotency_key),
    )
    return Status(201 if new else 200, _get_delivery(request, delivery.pk))


@router.get(
    "/deliveries/{delivery_id}", response={200: DeliveryOut, **ERRORS}, summary="Get a delivery"
)
def get_delivery(request: HttpRequest, delivery_id: int) -> Any:
    return _get_delivery(request, delivery_id)


@router.get(
    "/deliveries/{delivery_id}/pdf",
    response=ERRORS,
    summary="The delivery slip (納品書) as a PDF (A4; ``lang`` ja or en)",
    url_name="delivery_pdf",
    openapi_extra={
        "responses": {
            200: {
                "description": "納品書 or Delivery Note: quantities, no prices.",
                "content": {PDF_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def get_delivery_pdf(
    request: HttpRequest, delivery_id: int, lang: Literal["ja", "en"] = "ja"
) -> HttpResponse:
    delivery = _get_delivery(request, delivery_id)
    return pdf_response(
        slips.delivery_pdf(delivery, lang), filename=slips.delivery_filename(delivery, lang)
    )
