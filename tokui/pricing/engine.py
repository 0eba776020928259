"""The price engine: what an account pays for a product, at a quantity, on a date, and why.

``quote_price(request, terms)`` is a pure function over frozen dataclasses: no database, no
clock, no translation. Catalog, agreements, quotes and orders build the inputs from their
records and show the answer; the API and pages show the same explanation.

Precedence — the first step that applies sets the price (a total order, docs/adr/0006):

1. **Agreement special price.** The account's agreement, valid on the date, has a special price
   table for the product: the row with the largest minimum quantity not above the quantity.
2. **Agreement discount.** A percentage for the product, else for its product line, off the
   base price (product before line, then the bigger discount, then the lower id).
3. **Discount rules** (segment, account tier, product line, volume, promotion period). The
   contenders are each applicable non-stackable rule alone and all applicable stackable rules
   compounded; the lowest price wins, ties to the higher priority, then the lower id.
4. **Price-list tier** valid on the date with the largest minimum quantity not above the
   quantity.
5. **List price.**

The base price of steps 2 and 3 is the price of step 4, else 5. A percentage price is rounded
once, half up, to the currency's minor units. The price never goes below the approved floor:
when it would, the floor wins and the explanation says so.

Deterministic: every collection is sorted by a stable key (ids are unique per collection), so
the order of the inputs never changes the answer. Monotone: buying more never raises the unit
price — tier tables must fall with quantity (checked), special price tables start at 1 unit,
tiers above 1 unit are not dearer than the list price, and within step 3 the cheapest contender
wins, so a rule that starts to apply at a larger quantity can only lower the price.

Bad input — negative or absurd prices, non-positive quantities, overlapping or rising tier
tables, unknown or mismatched currencies (Tokui never converts) — is a ``PricingError``.
Explanations are ``Message``s: an English msgid marked for gettext plus parameters, so the
caller translates (``quote.explain(gettext, "ja")``) and the English text is ``quote.text``.
"""

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tokui.core.exceptions import ApplicationError
from tokui.core.money import MoneyError, Rounding, check_amount, format_money, quantize

MAX_QUANTITY = 10**9


class PricingError(ApplicationError, ValueError):
    """Inputs the engine cannot price; the message says what to fix."""


class Source(StrEnum):
    SPECIAL_PRICE = "special_price"
    AGREEMENT_DISCOUNT = "agreement_discount"
    DISCOUNT_RULE = "discount_rule"
    RULE_STACK = "discount_stack"
    PRICE_TIER = "price_tier"
    LIST_PRICE = "list_price"
    FLOOR = "floor"


class Outcome(StrEnum):
    WON = "won"
    LOST = "lost"
    NOT_APPLICABLE = "not_applicable"


class RuleKind(StrEnum):
    SEGMENT = "segment"
    TIER = "tier"
    PRODUCT_LINE = "product_line"
    VOLUME = "volume"
    PROMOTION = "promotion"


class FloorKind(StrEnum):
    MARGIN = "margin"  # cost and the minimum margin
    APPROVED = "approved"  # an approved price (稟議)


# -- inputs ----------------------------------------------------------------------------------


def _set(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


def _money(obj: object, name: str, currency: str) -> None:
    try:
        _set(obj, name, check_amount(getattr(obj, name), currency, field=name))
    except MoneyError as exc:
        raise PricingError(exc.message, field=name, code=exc.code) from None


def _percent(value: Decimal) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"a percentage must be a Decimal, not {type(value).__name__}")
    value = Decimal(value)
    if not (value.is_finite() and 0 <= value < 100):
        raise PricingError(
            _("A discount is a percentage from 0 up to (not including) 100."),
            field="percent",
            code="bad_percent",
        )
    return value


def _period(obj: Any) -> None:
    for name in ("valid_from", "valid_to"):
        if isinstance(getattr(obj, name), datetime):
            raise TypeError(f"{name} must be a date, not a datetime")
    if obj.valid_from and obj.valid_to and obj.valid_from > obj.valid_to:
        raise PricingError(
            _("A validity period cannot end before it starts."), field="valid_to", code="period"
        )


def _covers(obj: Any, day: date) -> bool:
    return (obj.valid_from is None or obj.valid_from <= day) and (
        obj.valid_to is None or day <= obj.valid_to
    )


def _overlap(a: Any, b: Any) -> bool:
    return (a.valid_to is None or b.valid_from is None or b.valid_from <= a.valid_to) and (
        b.valid_to is None or a.valid_from is None or a.valid_from <= b.valid_to
    )


def _quantity(value: int, name: str = "quantity") -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 1 <= value <= MAX_QUANTITY:
        raise PricingError(
            _("A quantity is a whole number from 1 to %(max)s.") % {"max": f"{MAX_QUANTITY:,}"},
            field=name,
            code="bad_quantity",
        )


def _label(name: str, id_: int) -> str:
    return f"{name} (#{id_})" if name else f"#{id_}"


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    list_price: Decimal
    currency: str = "JPY"
    line_id: int | None = None
    cost: Decimal | None = None
    status: str = "active"  # "discontinued" cannot be priced; others can

    def __post_init__(self) -> None:
        _money(self, "list_price", self.currency)
        if self.cost is not None:
            _money(self, "cost", self.currency)


@dataclass(frozen=True, slots=True)
class AccountFacts:
    id: int
    tier: str = ""
    segment_ids: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        _set(self, "segment_ids", frozenset(self.segment_ids))


@dataclass(frozen=True, slots=True)
class PriceTier:
    """One row of a price list for the product: from ``min_quantity`` units, ``unit_price``."""

    id: int
    min_quantity: int
    unit_price: Decimal
    currency: str = "JPY"
    valid_from: date | None = None
    valid_to: date | None = None  # inclusive; None = open-ended
    name: str = ""  # the price list's name, for the explanation

    def __post_init__(self) -> None:
        _quantity(self.min_quantity, "min_quantity")
        _money(self, "unit_price", self.currency)
        _period(self)


@dataclass(frozen=True, slots=True)
class SpecialPrice:
    id: int
    product_id: int
    unit_price: Decimal  # in the agreement's currency, checked when the agreement is built
    min_quantity: int = 1

    def __post_init__(self) -> None:
        _quantity(self.min_quantity, "min_quantity")


@dataclass(frozen=True, slots=True)
class AgreementDiscount:
    """A percentage off the base price, for one product or for a whole product line."""

    id: int
    percent: Decimal
    product_id: int | None = None
    line_id: int | None = None

    def __post_init__(self) -> None:
        _set(self, "percent", _percent(self.percent))
        if (self.product_id is None) == (self.line_id is None):
            raise PricingError(
                _("An agreement discount is for one product or for one product line."),
                field="product",
                code="discount_target",
            )


@dataclass(frozen=True, slots=True)
class Agreement:
    id: int
    account_id: int
    currency: str = "JPY"
    valid_from: date | None = None
    valid_to: date | None = None
    special_prices: tuple[SpecialPrice, ...] = ()
    discounts: tuple[AgreementDiscount, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        _period(self)
        prices = tuple(sorted(self.special_prices, key=lambda s: (s.product_id, s.min_quantity)))
        _unique_ids(prices, "special_prices")
        for row in prices:
            _money(row, "unit_price", self.currency)
        for product_id, rows in itertools.groupby(prices, key=lambda s: s.product_id):
            table = list(rows)
            if table[0].min_quantity != 1:
                raise PricingError(
                    _(
                        "Special prices for product %(product)s must start at 1 unit, or a "
                        "customer buying fewer could pay less per unit elsewhere."
                    )
                    % {"product": product_id},
                    field="special_prices",
                    code="tier_start",
                )
            _check_tiers(table, "special_prices")
        _set(self, "special_prices", prices)
        discounts = tuple(sorted(self.discounts, key=lambda d: d.id))
        _unique_ids(discounts, "discounts")
        _set(self, "discounts", discounts)


@dataclass(frozen=True, slots=True)
class DiscountRule:
    """A percentage off the base price when every condition the rule sets holds.

    The kind says which condition defines the rule and must be set; other conditions may
    narrow it further (a promotion for one product line from 10 units, say).
    """

    id: int
    kind: RuleKind
    percent: Decimal
    priority: int = 0
    stackable: bool = False
    valid_from: date | None = None
    valid_to: date | None = None
    segment_id: int | None = None
    account_tier: str | None = None
    line_id: int | None = None
    min_quantity: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        _set(self, "kind", RuleKind(self.kind))
        _set(self, "percent", _percent(self.percent))
        _quantity(self.min_quantity, "min_quantity")
        _period(self)
        defined = {
            RuleKind.SEGMENT: self.segment_id is not None,
            RuleKind.TIER: bool(self.account_tier),
            RuleKind.PRODUCT_LINE: self.line_id is not None,
            RuleKind.VOLUME: self.min_quantity > 1,
            RuleKind.PROMOTION: self.valid_from is not None and self.valid_to is not None,
        }
        if not defined[self.kind]:
            raise PricingError(
                _("A %(kind)s discount rule needs its %(kind)s condition.")
                % {"kind": self.kind.value.replace("_", " ")},
                field="kind",
                code="rule_condition",
            )


@dataclass(frozen=True, slots=True)
class Floor:
    """The lowest unit price allowed. Rounded up, so rounding never undercuts it."""

    unit_price: Decimal
    currency: str = "JPY"
    kind: FloorKind = FloorKind.MARGIN
    id: int | None = None  # the approval, for APPROVED

    def __post_init__(self) -> None:
        _set(self, "unit_price", quantize(self.unit_price, self.currency, Rounding.CEILING))
        _money(self, "unit_price", self.currency)
        _set(self, "kind", FloorKind(self.kind))


def floor_for_margin(cost: Decimal, margin_percent: Decimal, currency: str) -> Floor:
    """The floor that keeps the gross margin on the selling price (粗利率) at least
    ``margin_percent``: price ≥ cost / (1 − margin), the way authority limits count margin."""
    margin = _percent(margin_percent)
    cost = check_amount(cost, currency, field="cost")
    return Floor(cost * 100 / (100 - margin), currency, FloorKind.MARGIN)


@dataclass(frozen=True, slots=True)
class PriceRequest:
    product: Product
    quantity: int
    on: date
    account: AccountFacts

    def __post_init__(self) -> None:
        _quantity(self.quantity)
        if isinstance(self.on, datetime) or not isinstance(self.on, date):
            raise TypeError("on must be a date")


@dataclass(frozen=True, slots=True)
class Terms:
    """Everything that may set the price of one product for one account."""

    price_tiers: tuple[PriceTier, ...] = ()
    agreement: Agreement | None = None
    rules: tuple[DiscountRule, ...] = ()
    floor: Floor | None = None

    def __post_init__(self) -> None:
        tiers = sorted(
            self.price_tiers, key=lambda t: (t.min_quantity, t.valid_from or date.min, t.id)
        )
        _unique_ids(tiers, "price_tiers")
        _check_tiers(tiers, "price_tiers")
        _set(self, "price_tiers", tuple(tiers))
        rules = sorted(self.rules, key=lambda r: (-r.priority, r.id))
        _unique_ids(rules, "rules")
        _set(self, "rules", tuple(rules))


def _unique_ids(rows: Iterable[Any], name: str) -> None:
    ids = [row.id for row in rows]
    if len(ids) != len(set(ids)):
        raise PricingError(
            _("Each row needs its own id; some ids repeat."), field=name, code="duplicate_id"
        )


def _check_tiers(rows: list[Any], name: str) -> None:
    """Rows valid at the same time must have distinct quantities and fall with quantity."""
    for a, b in itertools.combinations(rows, 2):
        if hasattr(a, "valid_from") and not _overlap(a, b):
            continue
        low, high = sorted((a, b), key=lambda r: r.min_quantity)
        if low.min_quantity == high.min_quantity:
            raise PricingError(
                _("Two tiers from a quantity of %(quantity)s are valid at the same time.")
                % {"quantity": low.min_quantity},
                field=name,
                code="tier_overlap",
            )
        if high.unit_price > low.unit_price:
            raise PricingError(
                _(
                    "The tier from a quantity of %(high)s costs more than the tier from %(low)s: "
                    "buying more may never raise the unit price."
                )
                % {"high": high.min_quantity, "low": low.min_quantity},
                field=name,
                code="tier_not_monotonic",
            )


# -- outputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Amount:
    """A money parameter of a message, formatted for the reader's language."""

    value: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Message:
    """An English msgid (marked for gettext) and its parameters."""

    msgid: str
    params: tuple[tuple[str, str | int | Decimal | Amount], ...] = ()

    def render(self, translate: Callable[[str], str] | None = None, locale: str = "en") -> str:
        values = {
            key: format_money(v.value, v.currency, locale)
            if isinstance(v, Amount)
            else _percent_text(v)
            if isinstance(v, Decimal)
            else v
            for key, v in self.params
        }
        return (translate(self.msgid) if translate else self.msgid) % values


def _msg(msgid: str, **params: str | int | Decimal | Amount) -> Message:
    return Message(msgid, tuple(sorted(params.items())))


def _percent_text(value: Decimal) -> str:
    return f"{value.normalize():f}"


@dataclass(frozen=True, slots=True)
class RuleRef:
    source: Source
    id: int | None = None
    stack: tuple[int, ...] = ()  # the rule ids of a winning stack


@dataclass(frozen=True, slots=True)
class Candidate:
    source: Source
    id: int | None
    unit_price: Decimal | None
    outcome: Outcome
    reason: Message


@dataclass(frozen=True, slots=True)
class PriceQuote:
    unit_price: Decimal
    currency: str
    winner: RuleRef
    candidates: tuple[Candidate, ...]
    explanation: tuple[Message, ...]

    def explain(self, translate: Callable[[str], str] | None = None, locale: str = "en") -> str:
        return " ".join(part.render(translate, locale) for part in self.explanation)

    @property
    def text(self) -> str:
        return self.explain()


# -- the engine ------------------------------------------------------------------------------

NOT_VALID = gettext_noop("Not valid on %(date)s.")
NEEDS_QUANTITY = gettext_noop("Needs a quantity of at least %(quantity)s.")
OTHER_PRODUCT = gettext_noop("For another product.")
OTHER_LINE = gettext_noop("For another product line.")
OTHER_SEGMENT = gettext_noop("For accounts in segment %(segment)s.")
OTHER_TIER = gettext_noop("For %(tier)s accounts.")
AGREEMENT_NOT_VALID = gettext_noop("The agreement is not valid on %(date)s.")
LARGER_TIER = gettext_noop("A tier for more units applies.")
BETTER_IN_STEP = gettext_noop("Gives %(price)s, but another choice in the same step gives less.")
OUTRANKED = gettext_noop("Gives %(price)s, but a step of higher precedence applies.")
BELOW_FLOOR = gettext_noop("Gives %(price)s, below the floor of %(floor)s.")
PRODUCT_FIRST = gettext_noop(
    "Gives %(price)s, but the discount for the product itself comes first."
)
IN_STACK = gettext_noop("Compounded with the other stackable rules.")
FLOOR_NOT_REACHED = gettext_noop("Not reached: the price is not below %(floor)s.")

EXPLAIN_SPECIAL = gettext_noop(
    "Agreement %(agreement)s sets a special price of %(price)s from a quantity of %(quantity)s."
)
EXPLAIN_AGREEMENT_DISCOUNT = gettext_noop(
    "Agreement %(agreement)s gives %(percent)s%% off %(base)s: %(price)s."
)
EXPLAIN_RULE = gettext_noop("Discount rule %(rule)s gives %(percent)s%% off %(base)s: %(price)s.")
EXPLAIN_STACK = gettext_noop(
    "Discount rules %(rules)s together give %(percent)s%% off %(base)s: %(price)s."
)
EXPLAIN_TIER = gettext_noop("Price list %(tier)s gives %(price)s from a quantity of %(quantity)s.")
EXPLAIN_LIST = gettext_noop("List price: %(price)s.")
EXPLAIN_FLOOR_MARGIN = gettext_noop(
    "%(price)s would be below the minimum margin, so the floor of %(floor)s applies."
)
EXPLAIN_FLOOR_APPROVED = gettext_noop(
    "%(price)s would be below the approved price %(approval)s, so %(floor)s applies."
)


@dataclass
class _Step:
    """The candidates of one precedence step and the price, rule and reason of its winner."""

    source: Source
    candidates: list[Candidate] = field(default_factory=list)
    price: Decimal | None = None
    ref: RuleRef | None = None
    why: Message | None = None

    def add(
        self,
        id_: int | None,
        price: Decimal | None,
        outcome: Outcome,
        reason: Message,
        source: Source | None = None,
    ) -> None:
        self.candidates.append(Candidate(source or self.source, id_, price, outcome, reason))

    def win(
        self,
        id_: int | None,
        price: Decimal,
        why: Message,
        source: Source | None = None,
        stack: tuple[int, ...] = (),
    ) -> None:
        self.price, self.ref, self.why = price, RuleRef(source or self.source, id_, stack), why
        self.add(id_, price, Outcome.WON, why, source)


def _factor(percents: Iterable[Decimal]) -> Decimal:
    factor = Decimal(1)
    for percent in percents:
        factor *= (100 - percent) / 100
    return factor


def _largest_fitting(rows: Iterable[Any], quantity: int) -> Any:
    return max(
        (row for row in rows if row.min_quantity <= quantity),
        default=None,
        key=lambda row: row.min_quantity,
    )


def _add_unchosen_row(step: _Step, row: Any, quantity: int) -> None:
    if row.min_quantity > quantity:
        step.add(
            row.id, None, Outcome.NOT_APPLICABLE, _msg(NEEDS_QUANTITY, quantity=row.min_quantity)
        )
    else:
        step.add(row.id, row.unit_price, Outcome.LOST, _msg(LARGER_TIER))


def _special_step(req: PriceRequest, terms: Terms, money: Callable[[Decimal], Amount]) -> _Step:
    step, agreement = _Step(Source.SPECIAL_PRICE), terms.agreement
    if agreement is None:
        return step
    rows = [row for row in agreement.special_prices if row.product_id == req.product.id]
    valid = _covers(agreement, req.on)
    chosen = _largest_fitting(rows, req.quantity) if valid else None
    for row in rows:
        if not valid:
            reason = _msg(AGREEMENT_NOT_VALID, date=req.on.isoformat())
            step.add(row.id, None, Outcome.NOT_APPLICABLE, reason)
        elif row is chosen:
            agreement_label = _label(agreement.name, agreement.id)
            price, quantity = money(row.unit_price), row.min_quantity
            why = _msg(EXPLAIN_SPECIAL, agreement=agreement_label, price=price, quantity=quantity)
            step.win(row.id, row.unit_price, why)
        else:
            _add_unchosen_row(step, row, req.quantity)
    return step


def _agreement_discount_step(
    req: PriceRequest, terms: Terms, base: Decimal, money: Callable[[Decimal], Amount]
) -> _Step:
    step, agreement, product = _Step(Source.AGREEMENT_DISCOUNT), terms.agreement, req.product
    if agreement is None:
        return step
    valid = _covers(agreement, req.on)

    def fits(d: AgreementDiscount) -> bool:
        return d.product_id == product.id or (d.product_id is None and d.line_id == product.line_id)

    # The product's own discount before its line's, then the bigger one, then the lower id.
    chosen = min(
        (d for d in agreement.discounts if valid and fits(d)),
        default=None,
        key=lambda d: (d.product_id is None, -d.percent, d.id),
    )
    for d in agreement.discounts:
        price = quantize(base * _factor([d.percent]), product.currency)
        if not valid:
            reason = _msg(AGREEMENT_NOT_VALID, date=req.on.isoformat())
            step.add(d.id, None, Outcome.NOT_APPLICABLE, reason)
        elif not fits(d):
            reason = _msg(OTHER_PRODUCT if d.product_id is not None else OTHER_LINE)
            step.add(d.id, None, Outcome.NOT_APPLICABLE, reason)
        elif d is chosen:
            agreement_label = _label(agreement.name, agreement.id)
            why = _msg(
                EXPLAIN_AGREEMENT_DISCOUNT,
                agreement=agreement_label,
                percent=d.percent,
                base=money(base),
                price=money(price),
            )
            step.win(d.id, price, why)
        else:
            assert chosen is not None
            lost = (
                PRODUCT_FIRST
                if chosen.product_id is not None and d.product_id is None
                else BETTER_IN_STEP
            )
            step.add(d.id, price, Outcome.LOST, _msg(lost, price=money(price)))
    return step


def _rule_misses(rule: DiscountRule, req: PriceRequest) -> Message | None:
    """Why a rule does not apply, or None when it does."""
    if not _covers(rule, req.on):
        return _msg(NOT_VALID, date=req.on.isoformat())
    if rule.segment_id is not None and rule.segment_id not in req.account.segment_ids:
        return _msg(OTHER_SEGMENT, segment=rule.segment_id)
    if rule.account_tier and rule.account_tier != req.account.tier:
        return _msg(OTHER_TIER, tier=rule.account_tier)
    if rule.line_id is not None and rule.line_id != req.product.line_id:
        return _msg(OTHER_LINE)
    if rule.min_quantity > req.quantity:
        return _msg(NEEDS_QUANTITY, quantity=rule.min_quantity)
    return None


def _rules_step(
    req: PriceRequest, terms: Terms, base: Decimal, money: Callable[[Decimal], Amount]
) -> _Step:
    step = _Step(Source.DISCOUNT_RULE)

    def price_of(rules: Iterable[DiscountRule]) -> Decimal:
        return quantize(base * _factor(rule.percent for rule in rules), req.product.currency)

    misses = {rule.id: _rule_misses(rule, req) for rule in terms.rules}
    applicable = [rule for rule in terms.rules if misses[rule.id] is None]
    stack = [rule for rule in applicable if rule.stackable]
    stack = stack if len(stack) > 1 else []  # a lone stackable rule competes on its own
    stack_ids = tuple(rule.id for rule in stack)
    # Contenders: (price, -priority, single 0 / stack 1, id); the smallest wins.
    contenders = [
        (price_of([rule]), -rule.priority, 0, rule.id)
        for rule in applicable
        if rule.id not in stack_ids
    ]
    if stack:
        contenders.append((price_of(stack), -max(r.priority for r in stack), 1, min(stack_ids)))
    best = min(contenders, default=None)
    stack_wins = best is not None and best[2] == 1
    for rule in terms.rules:
        own, miss = price_of([rule]), misses[rule.id]
        if miss is not None:
            step.add(rule.id, None, Outcome.NOT_APPLICABLE, miss)
        elif best is not None and best[2:] == (0, rule.id):
            why = _msg(
                EXPLAIN_RULE,
                rule=_label(rule.name, rule.id),
                percent=rule.percent,
                base=money(base),
                price=money(own),
            )
            step.win(rule.id, own, why)
        elif stack_wins and rule.id in stack_ids:
            step.add(rule.id, own, Outcome.WON, _msg(IN_STACK))
        else:
            step.add(rule.id, own, Outcome.LOST, _msg(BETTER_IN_STEP, price=money(own)))
    if stack:
        price = price_of(stack)
        if stack_wins:
            percent = ((1 - _factor(rule.percent for rule in stack)) * 100).quantize(
                Decimal("0.01")
            )
            rules = ", ".join(_label(rule.name, rule.id) for rule in stack)
            why = _msg(
                EXPLAIN_STACK, rules=rules, percent=percent, base=money(base), price=money(price)
            )
            step.win(None, price, why, Source.RULE_STACK, stack_ids)
        else:
            reason = _msg(BETTER_IN_STEP, price=money(price))
            step.add(None, price, Outcome.LOST, reason, Source.RULE_STACK)
    return step


def _tier_step(req: PriceRequest, terms: Terms, money: Callable[[Decimal], Amount]) -> _Step:
    step = _Step(Source.PRICE_TIER)
    valid = [tier for tier in terms.price_tiers if _covers(tier, req.on)]
    chosen = _largest_fitting(valid, req.quantity)
    for tier in terms.price_tiers:
        if tier is chosen:
            why = _msg(
                EXPLAIN_TIER,
                tier=_label(tier.name, tier.id),
                price=money(tier.unit_price),
                quantity=tier.min_quantity,
            )
            step.win(tier.id, tier.unit_price, why)
        elif any(tier is other for other in valid):
            _add_unchosen_row(step, tier, req.quantity)
        else:
            reason = _msg(NOT_VALID, date=req.on.isoformat())
            step.add(tier.id, None, Outcome.NOT_APPLICABLE, reason)
    return step


def _check_currencies(req: PriceRequest, terms: Terms) -> None:
    currency = req.product.currency
    others = [(tier.currency, _("price list tier")) for tier in terms.price_tiers]
    if terms.agreement and any(
        s.product_id == req.product.id for s in terms.agreement.special_prices
    ):
        others.append((terms.agreement.currency, _("agreement")))
    if terms.floor:
        others.append((terms.floor.currency, _("floor")))
    for other, what in others:
        if other != currency:
            raise PricingError(
                _(
                    "The %(what)s is in %(other)s but the product is priced in %(currency)s; "
                    "Tokui never converts currencies."
                )
                % {"what": what, "other": other, "currency": currency},
                field="currency",
                code="currency_mismatch",
            )


def _validate(req: PriceRequest, terms: Terms) -> None:
    product = req.product
    if product.status == "discontinued":
        raise PricingError(
            _("Product %(product)s is discontinued and has no price.") % {"product": product.id},
            field="product",
            code="discontinued",
        )
    _check_currencies(req, terms)
    if terms.agreement and terms.agreement.account_id != req.account.id:
        raise PricingError(
            _("The agreement belongs to another account."), field="agreement", code="account"
        )
    for tier in terms.price_tiers:
        if tier.min_quantity > 1 and tier.unit_price > product.list_price:
            raise PricingError(
                _(
                    "The tier from a quantity of %(quantity)s costs more than the list price: "
                    "buying more may never raise the unit price."
                )
                % {"quantity": tier.min_quantity},
                field="price_tiers",
                code="tier_not_monotonic",
            )


def quote_price(request: PriceRequest, terms: Terms) -> PriceQuote:
    """The unit price ``request.account`` pays, the rule that set it, and why (see above)."""
    _validate(request, terms)
    product, currency, floor = request.product, request.product.currency, terms.floor

    def money(value: Decimal) -> Amount:
        return Amount(value, currency)

    tiers = _tier_step(request, terms, money)
    listed = _Step(Source.LIST_PRICE)
    listed.win(product.id, product.list_price, _msg(EXPLAIN_LIST, price=money(product.list_price)))
    base = product.list_price if tiers.price is None else tiers.price
    steps = [
        _special_step(request, terms, money),
        _agreement_discount_step(request, terms, base, money),
        _rules_step(request, terms, base, money),
        tiers,
        listed,
    ]
    winner = next(step for step in steps if step.price is not None)
    assert winner.price is not None and winner.ref is not None and winner.why is not None
    price, ref, explanation = winner.price, winner.ref, [winner.why]
    candidates: list[Candidate] = []
    for step in steps:
        for candidate in step.candidates:
            if step is not winner and candidate.outcome is Outcome.WON:
                reason = _msg(OUTRANKED, price=money(candidate.unit_price or Decimal(0)))
                candidate = replace(candidate, outcome=Outcome.LOST, reason=reason)
            candidates.append(candidate)
    if floor is not None and price < floor.unit_price:
        below = _msg(BELOW_FLOOR, price=money(price), floor=money(floor.unit_price))
        candidates = [
            replace(c, outcome=Outcome.LOST, reason=below) if c.outcome is Outcome.WON else c
            for c in candidates
        ]
        if floor.kind is FloorKind.APPROVED:
            why = _msg(
                EXPLAIN_FLOOR_APPROVED,
                price=money(price),
                approval=f"#{floor.id}",
                floor=money(floor.unit_price),
            )
        else:
            why = _msg(EXPLAIN_FLOOR_MARGIN, price=money(price), floor=money(floor.unit_price))
        candidates.append(Candidate(Source.FLOOR, floor.id, floor.unit_price, Outcome.WON, why))
        price, ref = floor.unit_price, RuleRef(Source.FLOOR, floor.id)
        explanation.append(why)
    elif floor is not None:
        reason = _msg(FLOOR_NOT_REACHED, floor=money(floor.unit_price))
        candidates.append(
            Candidate(Source.FLOOR, floor.id, floor.unit_price, Outcome.NOT_APPLICABLE, reason)
        )
    return PriceQuote(price, currency, ref, tuple(candidates), tuple(explanation))
