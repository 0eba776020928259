"""What an account pays for a product, read from the database and answered by the engine.

Builds the price engine's inputs from the records that exist so far — the product's list
price, the quantity tiers of its price list valid on the date, and the account's agreement
valid on the date (its special prices for the product and its discounts for the product or
its line) — and returns the engine's quote with its explanation. Discount rules and approved
floors (the rest of the pricing issue) join the ``Terms`` here as they are built; the engine
already knows them.

Which price list: the default list of the product's currency valid on the date, else the
first valid list of that currency by name. Other lists valid the same day (a campaign list)
are not mixed in: one tier table per quote, so the answer names one list.
"""

import datetime

from django.db.models import Q

from tokui.accounts.selectors import account_get
from tokui.catalog.models import Product
from tokui.catalog.selectors import product_get, product_price_tiers
from tokui.pricing.engine import (
    AccountFacts,
    Agreement,
    AgreementDiscount,
    PriceQuote,
    PriceRequest,
    PriceTier,
    SpecialPrice,
    Terms,
    quote_price,
)
from tokui.pricing.engine import Product as PricedProduct
from tokui.pricing.models import Agreement as AgreementRecord
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
    request = PriceRequest(
        product=PricedProduct(
            id=product.pk,
            list_price=product.list_price,
            currency=product.currency,
            line_id=product.line_id,
            status=product.status,
        ),
        quantity=quantity,
        on=on,
        account=AccountFacts(id=account.pk, tier=account.tier),
    )
    agreement = _agreement_terms(account_id=account.pk, product=product, on=on)
    return quote_price(request, Terms(price_tiers=tiers, agreement=agreement))


def _agreement_terms(*, account_id: int, product: Product, on: datetime.date) -> Agreement | None:
    """The account's agreement valid on ``on`` (at most one: the services refuse overlaps),
    with the rows that concern ``product``: its special prices, its and its line's discounts."""
    record = (
        AgreementRecord.objects.filter(account_id=account_id, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("-valid_from", "id")
        .first()
    )
    if record is None:
        return None
    prices = record.prices.filter(product_id=product.pk)
    discounts = record.discounts.filter(Q(product_id=product.pk) | Q(line_id=product.line_id))
    return Agreement(
        id=record.pk,
        account_id=account_id,
        currency=record.currency,
        valid_from=record.valid_from,
        valid_to=record.valid_to,
        name=record.name,
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
