"""What an account pays for a product, read from the database and answered by the engine.

Builds the price engine's inputs from the records that exist so far — the product's list
price, the quantity tiers of its price list valid on the date, and the account's agreement
valid on the date (its special prices for the product and its discounts for the product or
its line), the active discount rules valid on the date whose conditions may match
(``tokui.pricing.rules``), and the floor — and returns the engine's quote with its explanation.

The floor: when the product has a cost, the margin floor (``TOKUI_PRICE_FLOOR_MARGIN_PERCENT``,
0 by default: never below cost). When the account's agreement valid on the date carries approved
terms (``approved_by``, a 稟議) that give this product a price below that floor, the approved
price is the floor instead: approved terms take effect, and nothing goes below what was approved.

Group agreements (企業グループ): the account's own agreement valid on the date wins; without one,
the agreement valid on the date of the nearest company above it (parent, grandparent, …) that
is marked ``applies_to_group`` applies, named in the explanation as
"<agreement> (group: <company>)". Its approved terms set the floor as the account's own would.

Which price list: the default list of the product's currency valid on the date, else the
first valid list of that currency by name. Other lists valid the same day (a campaign list)
are not mixed in: one tier table per quote, so the answer names one list.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from tokui.accounts.groups import group_ancestor_ids
from tokui.accounts.models import Account
from tokui.accounts.selectors import account_get
from tokui.catalog.models import Product
from tokui.catalog.selectors import product_get, product_price_tiers, sees_cost
from tokui.pricing.engine import (
    AccountFacts,
    Agreement,
    AgreementDiscount,
    Candidate,
    Floor,
    FloorKind,
    Outcome,
    PriceQuote,
    PriceRequest,
    PriceTier,
    Source,
    SpecialPrice,
    Terms,
    floor_for_margin,
    quote_price,
)
from tokui.pricing.engine import Product as PricedProduct
from tokui.pricing.models import Agreement as AgreementRecord
from tokui.pricing.rules import discount_rules_for_quote
from tokui.users.models import User


def price_quote(
    *, viewer: User, account_id: int, product_id: int, quantity: int, on: datetime.date
) -> PriceQuote:
    """The unit price ``account_id`` pays for ``quantity`` of ``product_id`` on ``on``, and why.

    Both must be visible to ``viewer`` (NotFound otherwise); bad quantities or data the engine
    cannot price raise ``PricingError`` with the reason.
    """
    account = account_get(viewer=viewer, account_id=account_id)
    product = product_get(viewer=viewer, product_id=product_id)
    tiers: tuple[PriceTier, ...] = ()
    for price_list, items in product_price_tiers(product=product, on=on):
        if price_list.currency != product.currency:
            continue
        tiers = tuple(
            PriceTier(
                id=item.pk,
                min_quantity=item.min_quantity,
                unit_price=item.unit_price,
                currency=price_list.currency,
                valid_from=price_list.valid_from,
                valid_to=price_list.valid_to,
                name=price_list.name,
            )
            for item in items
        )
        break  # the default list comes first (see product_price_tiers)
    rules, segment_ids = discount_rules_for_quote(
        account_id=account.pk, account_tier=account.tier, line_id=product.line_id, on=on
    )
    request = PriceRequest(
        product=PricedProduct(
            id=product.pk,
            list_price=product.list_price,
            currency=product.currency,
            line_id=product.line_id,
            cost=product.cost,
            status=product.status,
        ),
        quantity=quantity,
        on=on,
        account=AccountFacts(id=account.pk, tier=account.tier, segment_ids=segment_ids),
    )
    applied = agreement_applying(account_id=account.pk, on=on)
    record = applied.record if applied else None
    agreement = (
        _agreement_terms(record=applied.record, product=product, applied=applied)
        if applied
        else None
    )
    floor = _floor(request, tiers=tiers, agreement=agreement, record=record)
    return quote_price(
        request, Terms(price_tiers=tiers, agreement=agreement, rules=rules, floor=floor)
    )


def quote_candidates(quote: PriceQuote, *, viewer: User) -> list[Candidate]:
    """The quote's candidates a viewer may read: the margin floor that did not bite is left out
    for those who may not see cost (with the default margin of 0 it *is* the cost)."""
    hide_floor = not sees_cost(viewer)
    return [
        c
        for c in quote.candidates
        if not (
            hide_floor
            and c.source is Source.FLOOR
            and c.id is None
            and c.outcome is Outcome.NOT_APPLICABLE
        )
    ]


def margin_floor_percent() -> Decimal:
    """``TOKUI_PRICE_FLOOR_MARGIN_PERCENT``, read when a quote is made (tests override it)."""
    value = getattr(settings, "TOKUI_PRICE_FLOOR_MARGIN_PERCENT", Decimal(0))
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _floor(
    request: PriceRequest,
    *,
    tiers: tuple[PriceTier, ...],
    agreement: Agreement | None,
    record: AgreementRecord | None,
) -> Floor | None:
    """The margin floor, lowered to the approved agreement price where a 稟議 approved less."""
    product = request.product
    if product.cost is None:
        return None
    floor = floor_for_margin(product.cost, margin_floor_percent(), product.currency)
    if agreement is None or record is None or record.approved_by_id is None:
        return floor
    # What the approved agreement alone gives this product at this quantity.
    agreed = quote_price(request, Terms(price_tiers=tiers, agreement=agreement))
    if agreed.winner.source in (Source.SPECIAL_PRICE, Source.AGREEMENT_DISCOUNT) and (
        agreed.unit_price < floor.unit_price
    ):
        return Floor(agreed.unit_price, product.currency, FloorKind.APPROVED, record.approved_by_id)
    return floor


@dataclass(frozen=True)
class AppliedAgreement:
    """The agreement that sets an account's terms on a day, and where it comes from."""

    record: AgreementRecord
    account_id: int  # the account priced
    group_parent: Account | None = None  # the company above whose group agreement applies

    @property
    def is_inherited(self) -> bool:
        return self.group_parent is not None

    @property
    def label(self) -> str:
        """The name the explanation shows: the agreement's, with the group's company if any."""
        if self.group_parent is None:
            return self.record.name
        return _("%(agreement)s (group: %(account)s)") % {
            "agreement": self.record.name,
            "account": self.group_parent.name,
        }


def _valid_on(on: datetime.date) -> Q:
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))


def agreement_applying(*, account_id: int, on: datetime.date) -> AppliedAgreement | None:
    """The account's own agreement valid on ``on`` (at most one: the services refuse overlaps);
    without one, the group agreement valid on ``on`` of the nearest company above it."""
    own = _agreement_record(account_id=account_id, on=on)
    if own is not None:
        return AppliedAgreement(record=own, account_id=account_id)
    return group_agreement_for(account_id=account_id, on=on)


def group_agreement_for(*, account_id: int, on: datetime.date) -> AppliedAgreement | None:
    """The group agreement valid on ``on`` of the nearest company above ``account_id`` that has
    one (``applies_to_group``), whatever the account's own agreements."""
    chain = group_ancestor_ids(account_id)
    if not chain:
        return None
    found = {
        record.account_id: record
        for record in AgreementRecord.objects.filter(
            _valid_on(on), account_id__in=chain, applies_to_group=True
        )
        .select_related("account")
        .order_by("account_id", "-valid_from", "id")
    }
    for ancestor_id in chain:
        if ancestor_id in found:
            record = found[ancestor_id]
            return AppliedAgreement(
                record=record, account_id=account_id, group_parent=record.account
            )
    return None


def _agreement_record(*, account_id: int, on: datetime.date) -> AgreementRecord | None:
    """The account's agreement valid on ``on`` (at most one: the services refuse overlaps)."""
    return (
        AgreementRecord.objects.filter(_valid_on(on), account_id=account_id)
        .order_by("-valid_from", "id")
        .first()
    )


def _agreement_terms(
    *, record: AgreementRecord, product: Product, applied: AppliedAgreement | None = None
) -> Agreement:
    """The agreement with the rows that concern ``product``: its special prices, its and its
    line's discounts. A group agreement is given to the engine as the priced account's terms,
    named after the group's company."""
    account_id = applied.account_id if applied else record.account_id
    prices = record.prices.filter(product_id=product.pk)
    discounts = record.discounts.filter(Q(product_id=product.pk) | Q(line_id=product.line_id))
    return Agreement(
        id=record.pk,
        account_id=account_id,
        currency=record.currency,
        valid_from=record.valid_from,
        valid_to=record.valid_to,
        name=applied.label if applied else record.name,
        special_prices=tuple(
            SpecialPrice(
                id=row.pk,
                product_id=row.product_id,
                unit_price=row.unit_price,
                min_quantity=row.min_quantity,
            )
            for row in prices
        ),
        discounts=tuple(
            AgreementDiscount(
                id=row.pk, percent=row.percent, product_id=row.product_id, line_id=row.line_id
            )
            for row in discounts
        ),
    )
