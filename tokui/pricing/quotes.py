"""What an account pays for a product, read from the database and answered by the engine.

Builds the price engine's inputs from the records that exist so far — the product's list
price and the quantity tiers of its price list valid on the date — and returns the engine's
quote with its explanation. Agreements, discount rules and approved floors (the rest of the
pricing issue) join the ``Terms`` here as they are built; the engine already knows them.

Which price list: the default list of the product's currency valid on the date, else the
first valid list of that currency by name. Other lists valid the same day (a campaign list)
are not mixed in: one tier table per quote, so the answer names one list.
"""

import datetime

from tokui.accounts.selectors import account_get
from tokui.catalog.selectors import product_get, product_price_tiers
from tokui.pricing.engine import (
    AccountFacts,
    PriceQuote,
    PriceRequest,
    PriceTier,
    Terms,
    quote_price,
)
from tokui.pricing.engine import Product as PricedProduct
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
    return quote_price(request, Terms(price_tiers=tiers))
