"""Properties of the price engine over generated catalogs, agreements and rules.

Never below the floor; deterministic whatever the order of the inputs; buying more never
raises the unit price; the price has exactly the currency's minor units; the explanation
names the winner and the price.
"""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokui.core.money import MINOR_UNITS, format_money
from tokui.pricing.engine import (
    AccountFacts,
    Agreement,
    AgreementDiscount,
    DiscountRule,
    Floor,
    FloorKind,
    PriceRequest,
    PriceTier,
    Product,
    RuleKind,
    Source,
    SpecialPrice,
    Terms,
    quote_price,
)

DAY = date(2026, 4, 1)
PRODUCT_ID, LINE_ID, ACCOUNT_ID = 1, 10, 5

# Scenarios are large: no deadline, and no complaint that generating them takes a while.
SLOW_OK = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}

currencies = st.sampled_from(["JPY", "USD", "KWD"])
percents = st.decimals(min_value=0, max_value=Decimal("99.99"), places=2)
days = st.integers(min_value=-60, max_value=60).map(lambda n: DAY + timedelta(days=n))
quantities = st.integers(min_value=1, max_value=500)


def amount(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-MINOR_UNITS[currency])


@st.composite
def tier_table(draw, currency, ceiling_minor, first_id, **validity):
    """Rows from 1+ units, cheaper (or equal) as quantity grows; rows above 1 unit not dearer
    than ``ceiling_minor``."""
    sizes = sorted(draw(st.sets(st.integers(1, 200), max_size=4)))
    rows, last = [], None
    for offset, size in enumerate(sizes):
        price = draw(st.integers(0, ceiling_minor * 6 // 5))
        if last is not None:
            price = min(price, last)
        if size > 1:
            price = min(price, ceiling_minor)
        last = price
        rows.append((first_id + offset, size, amount(price, currency)))
    return rows


@st.composite
def scenarios(draw):
    currency = draw(currencies)
    list_minor = draw(st.integers(1, 10**8))
    product = Product(
        id=PRODUCT_ID,
        list_price=amount(list_minor, currency),
        currency=currency,
        line_id=draw(st.sampled_from([LINE_ID, 11])),
    )
    split = draw(days)
    old = draw(tier_table(currency, list_minor, 100))
    new = draw(tier_table(currency, list_minor, 200))
    price_tiers = [
        PriceTier(id, size, price, currency, valid_to=split, name="old") for id, size, price in old
    ] + [
        PriceTier(id, size, price, currency, valid_from=split + timedelta(days=1))
        for id, size, price in new
    ]
    agreement = None
    if draw(st.booleans()):
        special = draw(tier_table(currency, list_minor * 2, 300))
        if special and special[0][1] != 1:
            special[0] = (special[0][0], 1, special[0][2])
        discounts = [
            AgreementDiscount(
                id=400 + n,
                percent=draw(percents),
                **draw(
                    st.sampled_from(
                        [
                            {"product_id": PRODUCT_ID},
                            {"line_id": LINE_ID},
                            {"line_id": 11},
                            {"product_id": 2},
                        ]
                    )
                ),
            )
            for n in range(draw(st.integers(0, 3)))
        ]
        agreement = Agreement(
            id=7,
            account_id=ACCOUNT_ID,
            currency=currency,
            valid_from=(start := draw(st.none() | days)),
            valid_to=draw(
                st.none() | st.integers(0, 90).map(lambda n: (start or DAY) + timedelta(days=n))
            ),
            special_prices=[
                SpecialPrice(id, PRODUCT_ID, price, size) for id, size, price in special
            ],
            discounts=discounts,
            name="契約",
        )
    rules = []
    for n in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(list(RuleKind)))
        start = draw(days)
        rules.append(
            DiscountRule(
                id=500 + n,
                kind=kind,
                percent=draw(percents),
                priority=draw(st.integers(0, 3)),
                stackable=draw(st.booleans()),
                valid_from=start if kind is RuleKind.PROMOTION or draw(st.booleans()) else None,
                valid_to=start + timedelta(days=draw(st.integers(0, 40)))
                if kind is RuleKind.PROMOTION
                else None,
                segment_id=draw(st.sampled_from([1, 2])) if kind is RuleKind.SEGMENT else None,
                account_tier=draw(st.sampled_from(["A", "B"])) if kind is RuleKind.TIER else None,
                line_id=draw(st.sampled_from([LINE_ID, 11]))
                if kind is RuleKind.PRODUCT_LINE
                else None,
                min_quantity=draw(st.integers(2, 300)) if kind is RuleKind.VOLUME else 1,
            )
        )
    floor = None
    if draw(st.booleans()):
        floor = Floor(
            amount(draw(st.integers(0, list_minor * 2)), currency),
            currency,
            draw(st.sampled_from(list(FloorKind))),
            draw(st.none() | st.integers(1, 9)),
        )
    account = AccountFacts(
        ACCOUNT_ID,
        tier=draw(st.sampled_from(["A", "B", ""])),
        segment_ids=draw(st.frozensets(st.sampled_from([1, 2, 3]))),
    )
    terms = Terms(
        price_tiers=tuple(price_tiers), agreement=agreement, rules=tuple(rules), floor=floor
    )
    return product, account, terms


def quote(scenario, quantity, on):
    product, account, terms = scenario
    return quote_price(PriceRequest(product, quantity, on, account), terms)


@settings(max_examples=300, **SLOW_OK)
@given(scenarios(), quantities, days)
def test_never_below_the_floor(scenario, quantity, on):
    result = quote(scenario, quantity, on)
    floor = scenario[2].floor
    if floor is not None:
        assert result.unit_price >= floor.unit_price


@settings(max_examples=200, **SLOW_OK)
@given(scenarios(), quantities, days, st.randoms(use_true_random=False))
def test_deterministic_whatever_the_order_of_the_inputs(scenario, quantity, on, rnd):
    product, account, terms = scenario

    def shuffled(items):
        items = list(items)
        rnd.shuffle(items)
        return tuple(items)

    agreement = terms.agreement
    if agreement is not None:
        agreement = replace(
            agreement,
            special_prices=shuffled(agreement.special_prices),
            discounts=shuffled(agreement.discounts),
        )
    reordered = Terms(shuffled(terms.price_tiers), agreement, shuffled(terms.rules), terms.floor)
    first = quote(scenario, quantity, on)
    assert quote(scenario, quantity, on) == first
    assert quote((product, account, reordered), quantity, on) == first


@settings(max_examples=300, **SLOW_OK)
@given(scenarios(), quantities, quantities, days)
def test_buying_more_never_raises_the_unit_price(scenario, a, b, on):
    fewer, more = sorted((a, b))
    assert quote(scenario, more, on).unit_price <= quote(scenario, fewer, on).unit_price


@settings(**SLOW_OK)
@given(scenarios(), quantities, days)
def test_the_price_has_exactly_the_currencys_minor_units(scenario, quantity, on):
    result = quote(scenario, quantity, on)
    assert result.currency == scenario[0].currency
    assert result.unit_price.as_tuple().exponent == -MINOR_UNITS[result.currency]


@settings(**SLOW_OK)
@given(scenarios(), quantities, days)
def test_the_explanation_names_the_winner_and_the_price(scenario, quantity, on):
    result = quote(scenario, quantity, on)
    text, winner = result.text, result.winner
    assert format_money(result.unit_price, result.currency) in text
    won = [c for c in result.candidates if c.outcome == "won"]
    assert any(c.source is winner.source and c.id == winner.id for c in won)
    expected = {
        Source.SPECIAL_PRICE: "sets a special price",
        Source.AGREEMENT_DISCOUNT: "Agreement 契約 (#7) gives",
        Source.DISCOUNT_RULE: f"Discount rule #{winner.id} gives",
        Source.RULE_STACK: "Discount rules " + ", ".join(f"#{i}" for i in winner.stack),
        Source.PRICE_TIER: f"#{winner.id}",
        Source.LIST_PRICE: "List price",
        Source.FLOOR: "approved price"
        if result.winner.source is Source.FLOOR and scenario[2].floor.kind is FloorKind.APPROVED
        else "minimum margin",
    }[winner.source]
    assert expected in text


def test_the_generator_reaches_every_kind_of_winner():
    seen: set[Source] = set()

    @settings(max_examples=400, database=None, **SLOW_OK)
    @given(scenarios(), quantities, days)
    def collect(scenario, quantity, on):
        seen.add(quote(scenario, quantity, on).winner.source)

    collect()
    assert seen == set(Source)
