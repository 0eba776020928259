"""/api/v1/discount-rules and /api/v1/rebates: discount rules and bonus programmes.

The same selectors and services as the pages. Heads of sales and administrators write; everyone
reads discount rules, and programmes of the accounts they may see. Rules are written through
``tokui.pricing.approvals.rule_propose``: beyond the writer's authority a rule becomes an
approval request (202) and is written when approved. Recording a purchase is
idempotent on its ``source``: 201 when it is new, 200 with the row already counted.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tokui.accounts.constants import AccountTier
from tokui.accounts.selectors import account_get
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.reports import Day
from tokui.api.schemas import Strict, drop_nones
from tokui.catalog.constants import Currency
from tokui.pricing import rebates, rules
from tokui.pricing.approvals import rule_propose
from tokui.pricing.models import (
    DiscountRule,
    DiscountRuleKind,
    RebateProgramme,
    RebatePurchase,
    RebateStatus,
)

router = Router(tags=["pricing_rules"])

# -- discount rules --------------------------------------------------------------------------


class DiscountRuleOut(Schema):
    id: int
    name: str
    kind: DiscountRuleKind
    percent: Decimal
    priority: int = Field(description="Breaks ties between equal prices: higher wins.")
    stackable: bool = Field(description="Stackable rules are compounded with each other.")
    valid_from: datetime.date | None
    valid_to: datetime.date | None
    segment: int | None = Field(description="A segment's id (kind segment).")
    account_tier: str = Field(description='"key", "standard" or "" (kind tier).')
    line: int | None = Field(description="A product line's id (kind product_line).")
    min_quantity: int = Field(description="Applies from this many units (kind volume: above 1).")
    active: bool
    notes: str
    version: int = Field(description="Send it back with a PATCH to refuse stale edits.")
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_segment(obj: DiscountRule) -> int | None:
        return obj.segment_id

    @staticmethod
    def resolve_line(obj: DiscountRule) -> int | None:
        return obj.line_id


class DiscountRuleQuery(Schema):
    active: bool | None = Field(None, description="Only active (true) or stopped (false) rules.")
    kind: DiscountRuleKind | None = None


class DiscountRulePatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: DiscountRuleKind | None = None
    percent: Decimal | None = Field(None, gt=0, lt=100, max_digits=5, decimal_places=2)
    priority: int | None = Field(None, ge=-rules.PRIORITY_LIMIT, le=rules.PRIORITY_LIMIT)
    stackable: bool | None = None
    valid_from: Day | None = Field(None, description="YYYY-MM-DD; null clears it.")
    valid_to: Day | None = Field(None, description="YYYY-MM-DD; null clears it.")
    segment: int | None = Field(None, ge=1, le=2**62, strict=True, description="null clears it.")
    account_tier: AccountTier | None = Field(None, description="null clears it.")
    line: int | None = Field(None, ge=1, le=2**62, strict=True, description="null clears it.")
    min_quantity: int | None = Field(None, ge=1, le=10**9, strict=True)
    active: bool | None = None
    notes: str | None = Field(None, max_length=20_000)
    version: int | None = Field(None, ge=1, le=2**31)
    reason: str | None = Field(
        None,
        max_length=4000,
        description="Why: shown to the approver when the discount is above your authority.",
    )


class DiscountRuleCreate(DiscountRulePatch):
    name: str = Field(..., min_length=1, max_length=200)  # type: ignore[assignment]
    kind: DiscountRuleKind  # type: ignore[assignment]
    percent: Decimal = Field(..., gt=0, lt=100, max_digits=5, decimal_places=2)  # type: ignore[assignment]


class ApprovalQueuedOut(Schema):
    approval_request: int = Field(
        description="The approval request opened (GET /approvals/{id}); the rule is written "
        "when it is approved."
    )


_CLEARABLE = ("valid_from", "valid_to", "segment", "account_tier", "line")


def _rule_data(payload: DiscountRulePatch) -> dict[str, Any]:
    data = drop_nones(payload.model_dump(exclude_unset=True), keep=_CLEARABLE)
    if "account_tier" in data:
        data["account_tier"] = data["account_tier"] or ""
    return data


@router.get(
    "/discount-rules",
    response={200: list[DiscountRuleOut], **ERRORS},
    summary="List discount rules",
)
def list_discount_rules(request: HttpRequest, filters: Query[DiscountRuleQuery]) -> Any:
    """Active rules first, then by priority (highest first) and name."""
    return list(
        rules.discount_rule_list(
            viewer=request_user(request), active=filters.active, kind=filters.kind
        )
    )


@router.post(
    "/discount-rules",
    response={201: DiscountRuleOut, 202: ApprovalQueuedOut, **ERRORS},
    summary="Add a discount rule",
)
def create_discount_rule(request: HttpRequest, payload: DiscountRuleCreate) -> Status:
    """Within your authority (maximum discount) the rule is added now (201). Beyond it an
    approval request is opened (202 with its id) and the rule is added when it is approved."""
    user = request_user(request)
    data = _rule_data(payload)
    data.pop("version", None)
    reason = data.pop("reason", None) or ""
    outcome = rule_propose(actor=user, data=data, reason=reason)
    if outcome.request is not None and not outcome.applied:
        return Status(202, {"approval_request": outcome.request.pk})
    rule_id = outcome.rule.pk if outcome.rule is not None else 0
    return Status(201, rules.discount_rule_get(viewer=user, rule_id=rule_id))


@router.get(
    "/discount-rules/{rule_id}",
    response={200: DiscountRuleOut, **ERRORS},
    summary="Get a discount rule",
)
def get_discount_rule(request: HttpRequest, rule_id: int) -> Any:
    return rules.discount_rule_get(viewer=request_user(request), rule_id=rule_id)


@router.patch(
    "/discount-rules/{rule_id}",
    response={200: DiscountRuleOut, 202: ApprovalQueuedOut, **ERRORS},
    summary="Change a discount rule",
)
def update_discount_rule(request: HttpRequest, rule_id: int, payload: DiscountRulePatch) -> Status:
    """``active: false`` stops the rule (never needs approval); ``version`` refuses a stale
    edit (409). When the rule after the change is above your authority an approval request is
    opened (202 with its id) and the change applies when it is approved; one request per rule
    is open at a time (409 naming it)."""
    user = request_user(request)
    rule = rules.discount_rule_get(viewer=user, rule_id=rule_id)
    data = _rule_data(payload)
    version = data.pop("version", None)
    reason = data.pop("reason", None) or ""
    outcome = rule_propose(actor=user, rule=rule, data=data, version=version, reason=reason)
    if not outcome.applied and outcome.request is not None:
        return Status(202, {"approval_request": outcome.request.pk})
    return Status(200, rules.discount_rule_get(viewer=user, rule_id=rule_id))


# -- bonus programmes ------------------------------------------------------------------------


class TierIn(Strict):
    threshold: Decimal = Field(
        ..., ge=0, lt=10**13, max_digits=16, decimal_places=2, description="Purchases from."
    )
    percent: Decimal = Field(..., gt=0, lt=100, max_digits=5, decimal_places=2)


class TierOut(Schema):
    threshold: Decimal
    percent: Decimal


class ProgressOut(Schema):
    purchases: Decimal = Field(description="Purchases counted so far.")
    percent: Decimal | None = Field(description="The reached tier's bonus; null below the first.")
    accrued: Decimal = Field(description="Bonus so far: the reached percent of all purchases.")
    next_threshold: Decimal | None
    next_percent: Decimal | None
    remaining: Decimal | None = Field(description="Still needed for the next tier.")


class CreditNoteOut(Schema):
    id: int
    number: str = Field(description="CN-YYYY-NNNN.")
    purchases: Decimal
    percent: Decimal
    amount: Decimal
    issued_on: datetime.date


class RebateOut(Schema):
    id: int
    account: int
    name: str
    currency: Currency
    period_start: datetime.date
    period_end: datetime.date
    status: RebateStatus
    notes: str
    tiers: list[TierOut]
    progress: ProgressOut
    credit_note: CreditNoteOut | None
    version: int

    @staticmethod
    def resolve_account(obj: RebateProgramme) -> int:
        return obj.account_id

    @staticmethod
    def resolve_tiers(obj: RebateProgramme) -> list[Any]:
        return list(obj.tiers.all())

    @staticmethod
    def resolve_progress(obj: RebateProgramme) -> Any:
        return rebates.rebate_progress(obj)

    @staticmethod
    def resolve_credit_note(obj: RebateProgramme) -> Any:
        return getattr(obj, "credit_note", None)


class RebateQuery(Schema):
    account: int | None = Field(None, ge=1, le=2**62, description="An account's id.")
    status: RebateStatus | None = None


class RebateCreate(Strict):
    account: int = Field(..., ge=1, le=2**62, strict=True)
    name: str = Field(..., min_length=1, max_length=200)
    currency: Currency = Currency.JPY
    period_start: Day
    period_end: Day
    tiers: list[TierIn] = Field(..., min_length=1, max_length=rebates.TIERS_LIMIT)
    notes: str = Field("", max_length=20_000)


class PurchaseIn(Strict):
    on: Day = Field(..., description="The purchase's date, inside the programme's period.")
    amount: Decimal = Field(
        ..., gt=-(10**13), lt=10**13, max_digits=16, decimal_places=2,
        description="In the programme's currency; a return is negative.",
    )  # fmt: skip
    source: str = Field(..., min_length=1, max_length=100, description="e.g. order:123.")
    description: str = Field("", max_length=300)


class PurchaseOut(Schema):
    id: int
    on: datetime.date
    amount: Decimal
    source: str
    description: str
    created_at: datetime.datetime


class SettleIn(Strict):
    on: Day | None = Field(None, description="The settlement day (today when left out).")


def _programme(request: HttpRequest, programme_id: int) -> RebateProgramme:
    return rebates.rebate_programme_get(viewer=request_user(request), programme_id=programme_id)


@router.get("/rebates", response={200: list[RebateOut], **ERRORS}, summary="List programmes")
def list_rebates(request: HttpRequest, filters: Query[RebateQuery]) -> Any:
    """Bonus programmes of the accounts you may see (or of one account), newest first."""
    return list(
        rebates.rebate_programme_list(
            viewer=request_user(request), account_id=filters.account, status=filters.status
        )[:500]
    )


@router.post("/rebates", response={201: RebateOut, **ERRORS}, summary="Add a programme")
def create_rebate(request: HttpRequest, payload: RebateCreate) -> Status:
    user = request_user(request)
    data = payload.model_dump()
    account = account_get(viewer=user, account_id=data.pop("account"))
    programme = rebates.rebate_programme_create(actor=user, account=account, data=data)
    return Status(201, _programme(request, programme.pk))


@router.get("/rebates/{programme_id}", response={200: RebateOut, **ERRORS}, summary="Get one")
def get_rebate(request: HttpRequest, programme_id: int) -> Any:
    """The programme with its tiers, its progress and its credit note once settled."""
    return _programme(request, programme_id)


@router.post(
    "/rebates/{programme_id}/purchases",
    response={200: PurchaseOut, 201: PurchaseOut, **ERRORS},
    summary="Count a purchase",
)
def record_purchase(request: HttpRequest, programme_id: int, payload: PurchaseIn) -> Status:
    """Idempotent on ``source``: 201 when new; 200 with the existing row when the same source
    was counted with the same amount; 409 when it was counted with another amount."""
    programme = _programme(request, programme_id)
    row: RebatePurchase
    row, created = rebates.rebate_record_purchase(
        actor=request_user(request),
        programme=programme,
        on=payload.on,
        amount=payload.amount,
        source=payload.source,
        description=payload.description,
    )
    return Status(201 if created else 200, row)


@router.post(
    "/rebates/{programme_id}/settle",
    response={200: RebateOut, **ERRORS},
    summary="Settle a programme",
)
def settle_rebate(request: HttpRequest, programme_id: int, payload: SettleIn) -> Any:
    """Once, on or after the period's last day: issues the credit note (409 when settled)."""
    programme = _programme(request, programme_id)
    rebates.rebate_settle(
        actor=request_user(request), programme=programme, on=payload.on or timezone.localdate()
    )
    return _programme(request, programme_id)
