"""/api/v1/prices/quote: what an account pays for a product, and why (tokui.pricing)."""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext
from ninja import Query, Router, Schema
from pydantic import Field

from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.reports import Day
from tokui.pricing.quotes import price_quote, quote_candidates

router = Router(tags=["prices"])


class QuoteQuery(Schema):
    account: int = Field(..., ge=1, le=2**62)
    product: int = Field(..., ge=1, le=2**62)
    quantity: int = Field(1, ge=1, le=10**9)
    date: Day | None = Field(None, description="YYYY-MM-DD; today when left out.")


class CandidateOut(Schema):
    source: str
    id: int | None
    unit_price: str | None
    outcome: str
    reason: str


class QuoteOut(Schema):
    unit_price: str = Field(description="Decimal, in the currency's minor units.")
    currency: str
    rule: dict[str, Any] = Field(
        description="The step that set the price: source (special_price, agreement_discount, "
        "discount_rule, discount_stack, price_tier, list_price or floor), id (the row, rule or "
        "approval request) and stack (the rule ids of a winning discount_stack)."
    )
    explanation: str
    candidates: list[CandidateOut]


@router.get("/prices/quote", response={200: QuoteOut, **ERRORS}, summary="Price a product")
def quote(request: HttpRequest, params: Query[QuoteQuery]) -> dict[str, Any]:
    """The unit price the account pays for the quantity on the date, the rule that set it and
    every other candidate — agreement rows, discount rules, price-list tiers, the list price and
    the floor (minimum margin or an approved price) — with why it lost or did not apply."""
    viewer = request_user(request)
    found = price_quote(
        viewer=viewer,
        account_id=params.account,
        product_id=params.product,
        quantity=params.quantity,
        on=params.date or timezone.localdate(),
    )
    language = translation.get_language() or "en"
    return {
        "unit_price": str(found.unit_price),
        "currency": found.currency,
        "rule": {
            "source": str(found.winner.source),
            "id": found.winner.id,
            "stack": list(found.winner.stack),
        },
        "explanation": found.explain(gettext, language),
        "candidates": [
            {
                "source": str(c.source),
                "id": c.id,
                "unit_price": None if c.unit_price is None else str(c.unit_price),
                "outcome": str(c.outcome),
                "reason": c.reason.render(gettext, language),
            }
            for c in quote_candidates(found, viewer=viewer)
        ],
    }
