"""/api/v1/invoices: invoices (適格請求書) and credit notes, their PDF and their payments (入金).

The same services and selectors as the rest of Tokui (``tokui.orders.invoices``). Whoever may
see an account sees its invoices (others get a 404); editors of accounts issue them and record
payments. An issued invoice never changes: there is no PATCH (a correction is a new invoice).
Issuing is idempotent: send an ``Idempotency-Key`` header (or an ``idempotency_key`` field); a
retry with the same key answers 200 with the first invoice, a first issue 201.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tokui.accounts import selectors as account_selectors
from tokui.activities.pdf import PDF_CONTENT_TYPE, pdf_response
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.reports import Day
from tokui.api.schemas import Strict
from tokui.core.exceptions import ApplicationError, NotFound
from tokui.core.pagination import MAX_PAGE, page_slice
from tokui.orders import invoices as services
from tokui.orders.constants import (
    DocumentLanguage,
    Honorific,
    InvoiceKind,
    InvoiceStatus,
    PaymentMethod,
)
from tokui.orders.models import Invoice, InvoiceLine, Payment
from tokui.orders.orders import clean_key
from tokui.orders.quotes import tax_rate_percent

router = Router(tags=["invoices"])

Id = Field(..., ge=1, le=2**62, strict=True)
Key = Field("", max_length=100, description="Or the Idempotency-Key header.")


class InvoiceLineOut(Schema):
    position: int
    order_line: int | None
    delivered_on: datetime.date | None
    sku: str
    description: str
    quantity: int = Field(description="Negative on a credit note.")
    unit: str
    unit_price: Decimal
    amount: Decimal
    tax_rate: Decimal = Field(description="10 or 8 (percent).")

    @staticmethod
    def resolve_order_line(obj: InvoiceLine) -> int | None:
        return obj.order_line_id

    @staticmethod
    def resolve_tax_rate(obj: InvoiceLine) -> Decimal:
        return tax_rate_percent(obj.tax_category)


class PaymentOut(Schema):
    id: int
    paid_on: datetime.date
    amount: Decimal
    method: PaymentMethod
    reference: str


class InvoiceOut(Schema):
    id: int
    kind: InvoiceKind
    number: str = Field(description="INV-2026-00001; credit notes RN-2026-00001.")
    status: InvoiceStatus
    account: int
    contact: int | None
    buyer_name: str = Field(description="The full legal name as printed.")
    honorific: Honorific
    issued_on: datetime.date
    due_on: datetime.date
    period_start: datetime.date | None
    period_end: datetime.date | None
    currency: str
    language: DocumentLanguage
    seller_registration_number: str
    base_standard: Decimal
    tax_standard: Decimal
    base_reduced: Decimal
    tax_reduced: Decimal = Field(description="Each rate's tax rounded down once (端数切捨て).")
    total: Decimal
    paid: Decimal
    corrects: int | None = Field(
        description="The invoice this one replaces (or, for a credit note, credits)."
    )
    notes: str
    created_at: datetime.datetime

    @staticmethod
    def resolve_account(obj: Invoice) -> int:
        return obj.account_id

    @staticmethod
    def resolve_contact(obj: Invoice) -> int | None:
        return obj.contact_id

    @staticmethod
    def resolve_corrects(obj: Invoice) -> int | None:
        return obj.corrects_id


class InvoiceDetailOut(InvoiceOut):
    lines: list[InvoiceLineOut]
    payments: list[PaymentOut]
    corrections: list[int] = Field(description="Invoices and credit notes referring to this one.")

    @staticmethod
    def resolve_lines(obj: Invoice) -> list[InvoiceLine]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_payments(obj: Invoice) -> list[Payment]:
        return list(obj.payments.all())

    @staticmethod
    def resolve_corrections(obj: Invoice) -> list[int]:
        return list(obj.corrections.order_by("pk").values_list("pk", flat=True))


class InvoicePage(Schema):
    items: list[InvoiceOut]
    count: int


class InvoiceQuery(Schema):
    account: int | None = Field(None, ge=1, le=2**62)
    date_from: Day | None = Field(None, description="Issued on or after.")
    date_to: Day | None = Field(None, description="Issued on or before.")
    amount_min: Decimal | None = Field(None, ge=-(10**15), le=10**15)
    amount_max: Decimal | None = Field(None, ge=-(10**15), le=10**15)
    q: str = Field("", max_length=200, description="Number or counterparty.")
    status: InvoiceStatus | None = None
    kind: InvoiceKind | None = None
    overdue: bool = Field(False, description="Only invoices past their due date, still owed.")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=200)


class InvoiceCreate(Strict):
    account: int = Id
    orders: list[int] | None = Field(
        None, min_length=1, max_length=100, description="Orders whose deliveries to invoice."
    )
    period_end: Day | None = Field(
        None, description="Or: a closing day; every delivery up to it not yet invoiced."
    )
    issued_on: Day | None = Field(None, description="Default: today.")
    contact: int | None = Field(None, ge=1, le=2**62, strict=True, description="様; null: 御中")
    language: DocumentLanguage = DocumentLanguage.JA
    notes: str = Field("", max_length=5000)
    idempotency_key: str = Key


class PaymentIn(Strict):
    amount: Decimal = Field(..., gt=0, lt=10**15, max_digits=18, decimal_places=3)
    paid_on: Day
    method: PaymentMethod = PaymentMethod.TRANSFER
    reference: str = Field("", max_length=100)
    idempotency_key: str = Key


def _get(request: HttpRequest, invoice_id: int) -> Invoice:
    if not 1 <= invoice_id <= 2**62:
        raise NotFound(_("No such invoice."))
    return services.invoice_get(viewer=request_user(request), invoice_id=invoice_id)


@router.get("/invoices", response={200: InvoicePage, **ERRORS}, summary="List invoices")
def list_invoices(request: HttpRequest, filters: Query[InvoiceQuery]) -> dict[str, Any]:
    """Searchable by issue date, total and counterparty (``q``)."""
    viewer = request_user(request)
    qs = services.invoice_list(
        viewer=viewer,
        account=filters.account,
        date_from=filters.date_from,
        date_to=filters.date_to,
        amount_min=filters.amount_min,
        amount_max=filters.amount_max,
        q=filters.q,
        status=filters.status,
        kind=filters.kind,
    )
    if filters.overdue:
        overdue = services.overdue_invoices(viewer=viewer, today=timezone.localdate())
        qs = qs.filter(pk__in=overdue.values("pk"))
    page = page_slice(qs, page=filters.page, page_size=filters.page_size)
    return {"items": page.items, "count": page.count}


@router.post(
    "/invoices",
    response={200: InvoiceDetailOut, 201: InvoiceDetailOut, **ERRORS},
    summary="Issue an invoice (idempotent with a key)",
)
def create_invoice(request: HttpRequest, payload: InvoiceCreate) -> Status:
    """Give ``orders`` (their delivered, not yet invoiced quantities; an undelivered order is
    refused) or ``period_end`` (a closing day of the account's terms). 201: a new invoice;
    200: a retry with the same idempotency key, answered with the first invoice."""
    viewer = request_user(request)
    key = clean_key(request.headers.get("Idempotency-Key", "") or payload.idempotency_key)
    existing = services.invoice_by_key(actor=viewer, idempotency_key=key)
    if existing is not None:
        return Status(200, _get(request, existing.pk))
    try:
        account = account_selectors.account_get(viewer=viewer, account_id=payload.account)
    except NotFound as exc:
        raise ApplicationError(exc.message, field="account", status=422, code="invalid") from exc
    invoice = services.invoice_issue(
        actor=viewer,
        account=account,
        orders=payload.orders,
        period_end=payload.period_end,
        issued_on=payload.issued_on,
        language=payload.language,
        contact=payload.contact,
        notes=payload.notes,
        idempotency_key=key,
    )
    return Status(201, _get(request, invoice.pk))


@router.get(
    "/invoices/{invoice_id}", response={200: InvoiceDetailOut, **ERRORS}, summary="Get an invoice"
)
def get_invoice(request: HttpRequest, invoice_id: int) -> Any:
    return _get(request, invoice_id)


@router.get(
    "/invoices/{invoice_id}/pdf",
    response=ERRORS,
    summary="The invoice as a PDF (A4, in the invoice's language)",
    url_name="invoice_pdf",
    openapi_extra={
        "responses": {
            200: {
                "description": "請求書（適格請求書） or Invoice; credit notes likewise.",
                "content": {PDF_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def get_invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = _get(request, invoice_id)
    return pdf_response(services.invoice_pdf(invoice), filename=services.invoice_filename(invoice))


@router.post(
    "/invoices/{invoice_id}/payments",
    response={201: InvoiceDetailOut, 200: InvoiceDetailOut, **ERRORS},
    summary="Record a payment (入金), idempotent with a key",
)
def record_payment(request: HttpRequest, invoice_id: int, payload: PaymentIn) -> Status:
    """Part or all of what is owed; more is refused (422 ``overpayment``). With an
    ``Idempotency-Key`` header (or ``idempotency_key``), a retry answers 200 and records
    nothing; a first payment 201."""
    _payment, new = services.payment_record_once(
        actor=request_user(request),
        invoice=_get(request, invoice_id),
        amount=payload.amount,
        paid_on=payload.paid_on,
        method=payload.method,
        reference=payload.reference,
        idempotency_key=request.headers.get("Idempotency-Key", "") or payload.idempotency_key,
    )
    return Status(201 if new else 200, _get(request, invoice_id))
