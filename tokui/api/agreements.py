"""/api/v1/agreements: key-account agreements, their terms and their payment dates.

The same selectors and services as the pages. Whoever may see an account sees its agreements
(others get a 404); editors of accounts change them. Terms (special prices and discounts) are
proposed through ``tokui.pricing.approvals.agreement_propose_terms``: within the caller's
authority they apply at once (200), otherwise an approval request is opened (202, with its id).
"""

import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tokui.accounts import selectors as account_selectors
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.reports import Day
from tokui.api.schemas import Strict, drop_nones
from tokui.catalog.constants import Currency
from tokui.core.exceptions import ApplicationError, NotFound
from tokui.core.pagination import MAX_PAGE, page_slice
from tokui.pricing import selectors, services
from tokui.pricing.approvals import agreement_propose_terms
from tokui.pricing.models import Agreement, AgreementDiscount, AgreementPrice, BusinessDayRule
from tokui.pricing.payment_terms import PaymentTerms, payment_terms_label

router = Router(tags=["agreements"])

DayNumber = Field(description="1–28, or 0 for the month end (月末).")


class AgreementPriceOut(Schema):
    product: int
    sku: str
    min_quantity: int
    unit_price: Decimal

    @staticmethod
    def resolve_product(obj: AgreementPrice) -> int:
        return obj.product_id

    @staticmethod
    def resolve_sku(obj: AgreementPrice) -> str:
        return obj.product.sku


class AgreementDiscountOut(Schema):
    product: int | None = Field(description="The product's id, or null for a product line.")
    sku: str | None
    line: int | None = Field(description="The product line's id, or null for a product.")
    line_name: str | None
    percent: Decimal

    @staticmethod
    def resolve_product(obj: AgreementDiscount) -> int | None:
        return obj.product_id

    @staticmethod
    def resolve_sku(obj: AgreementDiscount) -> str | None:
        return obj.product.sku if obj.product else None

    @staticmethod
    def resolve_line(obj: AgreementDiscount) -> int | None:
        return obj.line_id

    @staticmethod
    def resolve_line_name(obj: AgreementDiscount) -> str | None:
        return obj.line.name if obj.line else None


class PaymentDateOut(Schema):
    invoice_date: datetime.date
    closing_date: datetime.date = Field(description="The first closing on or after the invoice.")
    due_date: datetime.date = Field(description="The agreed payment day, before adjustment.")
    payment_date: datetime.date = Field(
        description="Moved off weekends, Japanese holidays and 12/31–1/3 by the business-day rule."
    )
    payment_terms: str = Field(description="e.g. 月末締め翌月末払い, in your language.")


def _payment(agreement: Agreement, invoice_date: datetime.date) -> dict[str, Any]:
    terms = PaymentTerms.of(agreement)
    return {
        "invoice_date": invoice_date,
        "closing_date": terms.closing_date(invoice_date),
        "due_date": terms.due_date(invoice_date),
        "payment_date": terms.payment_date(invoice_date),
        "payment_terms": payment_terms_label(agreement),
    }


class AgreementOut(Schema):
    id: int
    account: int
    account_name: str
    name: str
    currency: Currency
    valid_from: datetime.date
    valid_to: datetime.date | None = Field(description="null: until further notice.")
    state: Literal["current", "upcoming", "expired"] = Field(description="As of today.")
    closing_day: int = DayNumber
    payment_month_offset: int = Field(description="Months after the closing: 0, 1 (翌月) …")
    payment_day: int = DayNumber
    business_day_rule: BusinessDayRule
    payment_terms: str = Field(description="e.g. 月末締め翌月末払い, in your language.")
    applies_to_group: bool = Field(
        description="Also applies to the account's subsidiaries (企業グループ) that have no "
        "agreement of their own on the day."
    )
    notes: str
    approved_by: int | None = Field(
        description="The approval request whose terms are in force: they change only through "
        "a new approval."
    )
    version: int = Field(description="Send it back with a PATCH or PUT terms.")
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_account(obj: Agreement) -> int:
        return obj.account_id

    @staticmethod
    def resolve_account_name(obj: Agreement) -> str:
        return obj.account.name

    @staticmethod
    def resolve_state(obj: Agreement) -> str:
        return selectors.agreement_state(obj, timezone.localdate())

    @staticmethod
    def resolve_payment_terms(obj: Agreement) -> str:
        return payment_terms_label(obj)

    @staticmethod
    def resolve_approved_by(obj: Agreement) -> int | None:
        return obj.approved_by_id


class AgreementDetailOut(AgreementOut):
    prices: list[AgreementPriceOut]
    discounts: list[AgreementDiscountOut]
    next_payment: PaymentDateOut = Field(description="For an invoice dated today.")
    pending_request: int | None = Field(
        description="The open approval request for new terms, if any."
    )

    @staticmethod
    def resolve_prices(obj: Agreement) -> list[AgreementPrice]:
        return list(obj.prices.all())

    @staticmethod
    def resolve_discounts(obj: Agreement) -> list[AgreementDiscount]:
        return list(obj.discounts.all())

    @staticmethod
    def resolve_next_payment(obj: Agreement) -> dict[str, Any]:
        return _payment(obj, timezone.localdate())

    @staticmethod
    def resolve_pending_request(obj: Agreement) -> int | None:
        found = selectors.agreement_open_request(agreement=obj)
        return found.request.pk if found else None


class AgreementPage(Schema):
    items: list[AgreementOut]
    count: int


class AgreementQuery(Schema):
    account: int | None = Field(None, ge=1, le=2**62, description="An account's id.")
    on: Day | None = Field(None, description="Only agreements valid on this day (YYYY-MM-DD).")
    state: Literal["current", "upcoming", "expired"] | None = Field(
        None, description="As of today."
    )
    q: str = Field("", max_length=200, description="Account name or reading, agreement name.")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=200)


class AgreementPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    currency: Currency | None = None
    valid_from: Day | None = None
    valid_to: Day | None = Field(None, description="null: until further notice.")
    closing_day: int | None = Field(None, ge=0, le=28, strict=True)
    payment_month_offset: int | None = Field(None, ge=0, le=12, strict=True)
    payment_day: int | None = Field(None, ge=0, le=28, strict=True)
    business_day_rule: BusinessDayRule | None = None
    applies_to_group: bool | None = Field(None, strict=True)
    notes: str | None = Field(None, max_length=10_000)
    version: int | None = Field(None, ge=1, le=2**31, strict=True)


class AgreementCreate(Strict):
    account: int = Field(..., ge=1, le=2**62, strict=True)
    name: str = Field(..., min_length=1, max_length=200)
    currency: Currency = Currency.JPY
    valid_from: Day
    valid_to: Day | None = None
    closing_day: int = Field(0, ge=0, le=28, strict=True, description="0: the month end.")
    payment_month_offset: int = Field(1, ge=0, le=12, strict=True)
    payment_day: int = Field(0, ge=0, le=28, strict=True, description="0: the month end.")
    business_day_rule: BusinessDayRule = BusinessDayRule.NEXT
    applies_to_group: bool = Field(
        False, strict=True, description="Also for the account's subsidiaries (企業グループ)."
    )
    notes: str = Field("", max_length=10_000)


class PriceIn(Strict):
    product: int = Field(..., ge=1, le=2**62, strict=True)
    min_quantity: int = Field(1, ge=1, le=10**9, strict=True)
    unit_price: Decimal = Field(..., ge=0, lt=10**12, max_digits=14, decimal_places=2)


class DiscountIn(Strict):
    product: int | None = Field(None, ge=1, le=2**62, strict=True)
    line: int | None = Field(None, ge=1, le=2**62, strict=True, description="A product line.")
    percent: Decimal = Field(..., gt=0, lt=100, max_digits=5, decimal_places=2)


class TermsPut(Strict):
    prices: list[PriceIn] = Field(default_factory=list, max_length=services.TERMS_LIMIT)
    discounts: list[DiscountIn] = Field(default_factory=list, max_length=services.TERMS_LIMIT)
    version: int | None = Field(None, ge=1, le=2**31, strict=True)
    reason: str = Field("", max_length=5_000, description="For the approver, if one is needed.")


class TermsOut(Schema):
    applied: bool = Field(description="True: the terms are in force now.")
    request: int | None = Field(description="The approval request opened, when not applied.")
    agreement: AgreementDetailOut


class PaymentDateQuery(Schema):
    invoice_date: Day = Field(..., description="YYYY-MM-DD.")


def _get(request: HttpRequest, agreement_id: int) -> Agreement:
    return selectors.agreement_get(viewer=request_user(request), agreement_id=agreement_id)


@router.get("/agreements", response={200: AgreementPage, **ERRORS}, summary="List agreements")
def list_agreements(request: HttpRequest, filters: Query[AgreementQuery]) -> dict[str, Any]:
    today = timezone.localdate()
    qs = selectors.agreement_list(
        viewer=request_user(request),
        on=filters.on or today,
        state="current" if filters.on else filters.state,
        account_id=filters.account,
        search=filters.q,
    )
    if filters.on and filters.state:
        # "valid on" a day and a state as of today: both must hold.
        state_ids = selectors.agreement_list(
            viewer=request_user(request), on=today, state=filters.state
        ).values("pk")
        qs = qs.filter(pk__in=state_ids)
    page = page_slice(qs, page=filters.page, page_size=filters.page_size)
    return {"items": page.items, "count": page.count}


@router.post("/agreements", response={201: AgreementDetailOut, **ERRORS}, summary="Add one")
def create_agreement(request: HttpRequest, payload: AgreementCreate) -> Status:
    viewer = request_user(request)
    data = payload.model_dump()
    account_id = data.pop("account")
    try:
        account = account_selectors.account_get(viewer=viewer, account_id=account_id)
    except NotFound as exc:
        raise ApplicationError(exc.message, field="account", status=422, code="invalid") from exc
    agreement = services.agreement_create(actor=viewer, account=account, data=data)
    return Status(201, _get(request, agreement.pk))


@router.get(
    "/agreements/{agreement_id}",
    response={200: AgreementDetailOut, **ERRORS},
    summary="Get an agreement with its terms",
)
def get_agreement(request: HttpRequest, agreement_id: int) -> Any:
    return _get(request, agreement_id)


@router.patch(
    "/agreements/{agreement_id}",
    response={200: AgreementDetailOut, **ERRORS},
    summary="Change an agreement (name, period, payment terms)",
)
def update_agreement(request: HttpRequest, agreement_id: int, payload: AgreementPatch) -> Any:
    agreement = _get(request, agreement_id)
    data = drop_nones(payload.model_dump(exclude_unset=True), keep=("valid_to",))
    version = data.pop("version", None)
    services.agreement_update(
        actor=request_user(request), agreement=agreement, data=data, version=version
    )
    return _get(request, agreement_id)


@router.put(
    "/agreements/{agreement_id}/terms",
    response={200: TermsOut, 202: TermsOut, **ERRORS},
    summary="Propose new special prices and discounts",
)
def put_terms(request: HttpRequest, agreement_id: int, payload: TermsPut) -> Status:
    """Replace all special prices and discounts. Within your authority they apply now (200);
    beyond it an approval request is opened and they apply when it is approved (202). Errors
    name the row: ``prices.0.unit_price``, ``discounts.1.line``."""
    agreement = _get(request, agreement_id)
    outcome = agreement_propose_terms(
        actor=request_user(request),
        agreement=agreement,
        prices=[p.model_dump() for p in payload.prices],
        discounts=[
            {k: v for k, v in d.model_dump().items() if v is not None or k == "percent"}
            for d in payload.discounts
        ],
        version=payload.version,
        reason=payload.reason,
    )
    body = {
        "applied": outcome.applied,
        "request": outcome.request.pk if outcome.request else None,
        "agreement": _get(request, agreement_id),
    }
    return Status(200 if outcome.applied else 202, body)


@router.get(
    "/agreements/{agreement_id}/payment-date",
    response={200: PaymentDateOut, **ERRORS},
    summary="When an invoice is paid",
)
def get_payment_date(
    request: HttpRequest, agreement_id: int, params: Query[PaymentDateQuery]
) -> dict[str, Any]:
    """The closing and the payment date of an invoice dated ``invoice_date`` under the
    agreement's payment terms."""
    agreement = _get(request, agreement_id)
    if not 1900 <= params.invoice_date.year <= 2199:
        raise ApplicationError(
            _("Enter an invoice date between 1900 and 2199."), field="invoice_date", status=422
        )
    return _payment(agreement, params.invoice_date)
