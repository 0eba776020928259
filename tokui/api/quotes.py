"""/api/v1/quotes: quotes (見積書), their life cycle and their PDF; quotes from deals.

The same selectors and services as the pages (``tokui.orders.quotes``). Whoever may see an
account sees its quotes (others get a 404); editors of accounts make and change them. State
changes are POST actions: issue (200 ready to send, or 202 waiting for an approval), send
(e-mail the PDF to the contact from Tokui, or only record that it was sent), accept, decline,
revise (201, the new version), withdraw.
"""

import datetime
from decimal import Decimal
from typing import Any, Literal

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
from tokui.api.schemas import Strict, drop_nones
from tokui.core.exceptions import ApplicationError, NotFound
from tokui.core.pagination import MAX_PAGE, page_slice
from tokui.orders import quotes as services
from tokui.orders import selectors
from tokui.orders.constants import DocumentLanguage, QuoteStatus
from tokui.orders.documents import quote_addressee, quote_filename, quote_pdf
from tokui.orders.models import Quote, QuoteLine
from tokui.pipeline.deal_quotes import deal_quote_create
from tokui.pipeline.selectors import deal_get

router = Router(tags=["quotes"])

Id = Field(..., ge=1, le=2**62, strict=True)


class QuoteLineOut(Schema):
    position: int
    product: int | None = Field(description="null once the product is removed from the catalog.")
    sku: str
    description: str
    unit: str
    quantity: int
    list_price: Decimal
    engine_price: Decimal = Field(description="What the price engine found on the quote's date.")
    unit_price: Decimal = Field(description="What the quote offers (the engine's, or lower).")
    tax_rate: Decimal = Field(description="10 or 8 (percent).")
    amount: Decimal
    explanation: str = Field(description="How the price was found.")

    @staticmethod
    def resolve_product(obj: QuoteLine) -> int | None:
        return obj.product_id

    @staticmethod
    def resolve_tax_rate(obj: QuoteLine) -> Decimal:
        return services.tax_rate_percent(obj.tax_category)


class TaxOut(Schema):
    rate: Decimal
    net: Decimal
    tax: Decimal = Field(description="Rounded down once per rate (端数切捨て).")


class QuoteOut(Schema):
    id: int
    number: str
    revision: int
    display_number: str = Field(description="Q-2026-0001, or Q-2026-0001-2 for a revision.")
    account: int
    account_name: str
    contact: int | None
    addressee: str = Field(description="As printed: 様 with a person, 御中 with the company.")
    title: str
    owner: str
    currency: str
    issued_on: datetime.date
    valid_until: datetime.date
    payment_terms: str
    delivery_terms: str
    notes: str
    language: DocumentLanguage
    era_dates: bool
    status: QuoteStatus
    expired: bool = Field(description="Past its validity while still open: revise it.")
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    approval: int | None = Field(description="The approval request, when one was needed.")
    previous: int | None = Field(description="The version this one revises.")
    regarding_type: str | None = Field(description="e.g. pipeline.deal")
    regarding_id: int | None
    sent_at: datetime.datetime | None
    decided_at: datetime.datetime | None
    decline_reason: str
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_account(obj: Quote) -> int:
        return obj.account_id

    @staticmethod
    def resolve_account_name(obj: Quote) -> str:
        return obj.account.name

    @staticmethod
    def resolve_contact(obj: Quote) -> int | None:
        return obj.contact_id

    @staticmethod
    def resolve_addressee(obj: Quote) -> str:
        return quote_addressee(obj).line

    @staticmethod
    def resolve_owner(obj: Quote) -> str:
        return obj.owner.username

    @staticmethod
    def resolve_expired(obj: Quote) -> bool:
        return services.quote_is_expired(obj, timezone.localdate())

    @staticmethod
    def resolve_approval(obj: Quote) -> int | None:
        return obj.approval_id

    @staticmethod
    def resolve_previous(obj: Quote) -> int | None:
        return obj.previous_id

    @staticmethod
    def resolve_regarding_type(obj: Quote) -> str | None:
        if obj.regarding_type is None:
            return None
        return f"{obj.regarding_type.app_label}.{obj.regarding_type.model}"


class QuoteDetailOut(QuoteOut):
    lines: list[QuoteLineOut]
    taxes: list[TaxOut] = Field(description="Per rate, highest first.")
    versions: list[int] = Field(description="Ids of every version of this number, oldest first.")

    @staticmethod
    def resolve_lines(obj: Quote) -> list[QuoteLine]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_taxes(obj: Quote) -> list[dict[str, Any]]:
        return [
            {"rate": r.rate, "net": r.net, "tax": r.tax}
            for r in services.quote_totals_of(obj).by_rate
        ]

    @staticmethod
    def resolve_versions(obj: Quote) -> list[int]:
        return [q.pk for q in selectors.quote_versions(quote=obj)]


class QuotePage(Schema):
    items: list[QuoteOut]
    count: int


class QuoteQuery(Schema):
    status: Literal[*selectors.LIST_STATUSES] | None = Field(  # type: ignore[valid-type]
        None, description="A status, or “expired”."
    )
    account: int | None = Field(None, ge=1, le=2**62)
    owner: int | None = Field(None, ge=1, le=2**62, description="The owner's user id.")
    q: str = Field("", max_length=200, description="Number, subject or account.")
    latest: bool = Field(False, description="Hide versions superseded by a revision.")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=200)


class LineIn(Strict):
    product: int = Id
    quantity: int = Field(..., ge=1, le=10**9, strict=True)
    unit_price: Decimal | None = Field(
        None,
        ge=0,
        lt=10**12,
        max_digits=14,
        decimal_places=2,
        description="An offer below the engine's price (needs authority at issue).",
    )
    description: str = Field("", max_length=300, description="Empty: the product's name.")


class QuoteCreate(Strict):
    account: int = Id
    contact: int | None = Field(None, ge=1, le=2**62, strict=True)
    department: str = Field("", max_length=200, description="Before 御中 when no contact.")
    title: str = Field(..., min_length=1, max_length=200)
    lines: list[LineIn] = Field(..., min_length=1, max_length=services.LINES_LIMIT)
    issued_on: Day | None = Field(None, description="Default: today.")
    valid_until: Day | None = Field(None, description="Default: the company's validity.")
    payment_terms: str | None = Field(
        None, max_length=200, description="null: the account's agreement's terms."
    )
    delivery_terms: str = Field("", max_length=200)
    notes: str = Field("", max_length=5000)
    language: DocumentLanguage = DocumentLanguage.JA
    era_dates: bool = Field(False, strict=True, description="令和8年11月28日 on the PDF.")


class QuotePatch(Strict):
    title: str | None = Field(None, min_length=1, max_length=200)
    contact: int | None = Field(None, ge=1, le=2**62, strict=True)
    addressee_department: str | None = Field(None, max_length=200)
    issued_on: Day | None = None
    valid_until: Day | None = None
    payment_terms: str | None = Field(None, max_length=200)
    delivery_terms: str | None = Field(None, max_length=200)
    notes: str | None = Field(None, max_length=5000)
    language: DocumentLanguage | None = None
    era_dates: bool | None = Field(None, strict=True)
    lines: list[LineIn] | None = Field(None, min_length=1, max_length=services.LINES_LIMIT)
    version: int | None = Field(None, ge=1, le=2**31, strict=True)


class VersionIn(Strict):
    version: int | None = Field(None, ge=1, le=2**31, strict=True)


class ReasonIn(VersionIn):
    reason: str = Field("", max_length=4000)


class DeclineIn(VersionIn):
    reason: str = Field(..., min_length=1, max_length=4000)


class SendIn(VersionIn):
    email: bool = Field(
        True,
        strict=True,
        description="True: e-mail the PDF to the contact from Tokui (on the timeline); "
        "false: only record that it was sent (by hand, by fax).",
    )
    subject: str = Field("", max_length=300, description="Empty: the usual subject.")
    body: str = Field("", max_length=50_000, description="Empty: the usual text.")


class DealQuoteIn(Strict):
    contact: int | None = Field(None, ge=1, le=2**62, strict=True)
    valid_until: Day | None = None
    notes: str = Field("", max_length=5000)
    language: DocumentLanguage = DocumentLanguage.JA


def _get(request: HttpRequest, quote_id: int) -> Quote:
    if not 1 <= quote_id <= 2**62:
        raise NotFound(_("No such quote."))
    return selectors.quote_get(viewer=request_user(request), quote_id=quote_id)


def _lines(lines: list[LineIn]) -> list[dict[str, Any]]:
    return [{k: v for k, v in line.model_dump().items() if v not in (None, "")} for line in lines]


@router.get("/quotes", response={200: QuotePage, **ERRORS}, summary="List quotes")
def list_quotes(request: HttpRequest, filters: Query[QuoteQuery]) -> dict[str, Any]:
    qs = selectors.quote_list(
        viewer=request_user(request),
        status=filters.status,
        owner_id=filters.owner,
        account_id=filters.account,
        search=filters.q,
        latest_only=filters.latest,
        today=timezone.localdate(),
    )
    page = page_slice(qs, page=filters.page, page_size=filters.page_size)
    return {"items": page.items, "count": page.count}


@router.post("/quotes", response={201: QuoteDetailOut, **ERRORS}, summary="Make a draft quote")
def create_quote(request: HttpRequest, payload: QuoteCreate) -> Status:
    """Prices come from the price engine on ``issued_on``. Errors name the line:
    ``lines.0.quantity``; mixed currencies are refused on ``lines``."""
    viewer = request_user(request)
    try:
        account = account_selectors.account_get(viewer=viewer, account_id=payload.account)
    except NotFound as exc:
        raise ApplicationError(exc.message, field="account", status=422, code="invalid") from exc
    quote = services.quote_create(
        actor=viewer,
        account=account,
        contact=payload.contact,
        title=payload.title,
        lines=_lines(payload.lines),
        issued_on=payload.issued_on,
        valid_until=payload.valid_until,
        payment_terms=payload.payment_terms,
        delivery_terms=payload.delivery_terms,
        notes=payload.notes,
        language=payload.language,
        era_dates=payload.era_dates,
        department=payload.department,
    )
    return Status(201, _get(request, quote.pk))


@router.get("/quotes/{quote_id}", response={200: QuoteDetailOut, **ERRORS}, summary="Get a quote")
def get_quote(request: HttpRequest, quote_id: int) -> Any:
    return _get(request, quote_id)


@router.patch(
    "/quotes/{quote_id}", response={200: QuoteDetailOut, **ERRORS}, summary="Change a draft"
)
def update_quote(request: HttpRequest, quote_id: int, payload: QuotePatch) -> Any:
    """Drafts only; ``lines`` replaces every line (priced again). Send the ``version`` read."""
    quote = _get(request, quote_id)
    data = drop_nones(payload.model_dump(exclude_unset=True), keep=("contact",))
    version = data.pop("version", None)
    data.pop("lines", None)
    services.quote_update(
        actor=request_user(request),
        quote=quote,
        data=data,
        lines=_lines(payload.lines) if payload.lines is not None else None,
        version=version,
    )
    return _get(request, quote_id)


@router.post(
    "/quotes/{quote_id}/issue",
    response={200: QuoteDetailOut, 202: QuoteDetailOut, **ERRORS},
    summary="Issue a draft (ready to send, or sent for approval)",
)
def issue_quote(request: HttpRequest, quote_id: int, payload: ReasonIn) -> Status:
    """200: within your authority, ready to send. 202: an approval request was opened
    (``approval``); the quote is ready once it is approved. 409 ``stale_prices``: the draft is
    dated before today."""
    quote = services.quote_issue(
        actor=request_user(request),
        quote=_get(request, quote_id),
        reason=payload.reason,
        version=payload.version,
    )
    waiting = quote.status == QuoteStatus.AWAITING_APPROVAL
    return Status(202 if waiting else 200, _get(request, quote_id))


@router.post(
    "/quotes/{quote_id}/send",
    response={200: QuoteDetailOut, **ERRORS},
    summary="E-mail the quote to its contact (or record it as sent)",
)
def send_quote(request: HttpRequest, quote_id: int, payload: SendIn) -> Any:
    viewer = request_user(request)
    quote = _get(request, quote_id)
    if payload.email:
        services.quote_email_send(
            actor=viewer,
            quote=quote,
            subject=payload.subject,
            body=payload.body,
            version=payload.version,
        )
    else:
        services.quote_mark_sent(actor=viewer, quote=quote, version=payload.version)
    return _get(request, quote_id)


@router.post(
    "/quotes/{quote_id}/accept",
    response={200: QuoteDetailOut, **ERRORS},
    summary="The customer accepted (409 ``expired`` past its validity)",
)
def accept_quote(request: HttpRequest, quote_id: int, payload: VersionIn) -> Any:
    services.quote_accept(
        actor=request_user(request), quote=_get(request, quote_id), version=payload.version
    )
    return _get(request, quote_id)


@router.post(
    "/quotes/{quote_id}/decline",
    response={200: QuoteDetailOut, **ERRORS},
    summary="The customer declined (say why)",
)
def decline_quote(request: HttpRequest, quote_id: int, payload: DeclineIn) -> Any:
    services.quote_decline(
        actor=request_user(request),
        quote=_get(request, quote_id),
        reason=payload.reason,
        version=payload.version,
    )
    return _get(request, quote_id)


@router.post(
    "/quotes/{quote_id}/revise",
    response={201: QuoteDetailOut, **ERRORS},
    summary="Revise: a new draft with the same number; this version is kept",
)
def revise_quote(request: HttpRequest, quote_id: int, payload: VersionIn) -> Status:
    new = services.quote_revise(
        actor=request_user(request), quote=_get(request, quote_id), version=payload.version
    )
    return Status(201, _get(request, new.pk))


@router.post(
    "/quotes/{quote_id}/withdraw",
    response={200: QuoteDetailOut, **ERRORS},
    summary="Withdraw the quote",
)
def withdraw_quote(request: HttpRequest, quote_id: int, payload: ReasonIn) -> Any:
    services.quote_withdraw(
        actor=request_user(request),
        quote=_get(request, quote_id),
        reason=payload.reason,
        version=payload.version,
    )
    return _get(request, quote_id)


@router.get(
    "/quotes/{quote_id}/pdf",
    response=ERRORS,
    summary="The quote as a PDF (A4, in the quote's language)",
    url_name="quote_pdf",
    openapi_extra={
        "responses": {
            200: {
                "description": "御見積書 or Quotation.",
                "content": {PDF_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def get_quote_pdf(request: HttpRequest, quote_id: int) -> HttpResponse:
    quote = _get(request, quote_id)
    return pdf_response(quote_pdf(quote), filename=quote_filename(quote))


@router.post(
    "/deals/{deal_id}/quotes",
    response={201: QuoteDetailOut, **ERRORS},
    summary="Make a draft quote from a deal's lines",
)
def create_deal_quote(request: HttpRequest, deal_id: int, payload: DealQuoteIn) -> Status:
    viewer = request_user(request)
    if not 1 <= deal_id <= 2**62:
        raise NotFound(_("No such deal."))
    deal = deal_get(viewer=viewer, deal_id=deal_id)
    quote = deal_quote_create(
        actor=viewer,
        deal=deal,
        contact=payload.contact,
        valid_until=payload.valid_until,
        notes=payload.notes,
        language=payload.language,
    )
    return Status(201, _get(request, quote.pk))
