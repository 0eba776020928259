"""The price engine, step by step: each precedence step, the floor, and every bad input."""

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from tokui.pricing.engine import (
    AccountFacts,
    Agreement,
    AgreementDiscount,
    DiscountRule,
    Floor,
    FloorKind,
    Outcome,
    PriceRequest,
    PriceTier,
    PricingError,
    Product,
    RuleKind,
    RuleRef,
    Source,
    SpecialPrice,
    Terms,
    floor_for_margin,
    quote_price,
)

DAY = date(2026, 4, 1)
PUMP = Product(id=1, list_price=Decimal(100_000), line_id=10, cost=Decimal(60_000))
ACCOUNT = AccountFacts(id=5, tier="A", segment_ids=frozenset({3}))


def request(quantity: int = 1, product: Product = PUMP, on: date = DAY) -> PriceRequest:
    return PriceRequest(product=product, quantity=quantity, on=on, account=ACCOUNT)


def tiers() -> tuple[PriceTier, ...]:
    return (
        PriceTier(id=11, min_quantity=1, unit_price=Decimal(98_000), name="標準価格表"),
        PriceTier(id=12, min_quantity=10, unit_price=Decimal(95_000), name="標準価格表"),
    )


def agreement(**changes) -> Agreement:
    return replace(
        Agreement(
            id=7,
            account_id=ACCOUNT.id,
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
            special_prices=(
                SpecialPrice(id=71, product_id=PUMP.id, unit_price=Decimal(90_000)),
                SpecialPrice(
                    id=72, product_id=PUMP.id, unit_price=Decimal(85_000), min_quantity=20
                ),
            ),
            discounts=(AgreementDiscount(id=73, percent=Decimal(8), line_id=10),),
            name="2026年度取引条件",
        ),
        **changes,
    )


def segment_rule(**changes) -> DiscountRule:
    return replace(
        DiscountRule(id=31, kind=RuleKind.SEGMENT, percent=Decimal(5), segment_id=3), **changes
    )


def outcome_of(quote, source, id_):
    return next(c for c in quote.candidates if c.source is source and c.id == id_).outcome


# -- precedence --------------------------------------------------------------------------------


def test_list_price_when_nothing_else_applies():
    quote = quote_price(request(), Terms())
    assert quote.unit_price == Decimal(100_000)
    assert quote.currency == "JPY"
    assert quote.winner == RuleRef(Source.LIST_PRICE, PUMP.id)
    assert quote.text == "List price: ¥100,000."


def test_price_list_tier_beats_the_list_price_and_the_largest_fitting_tier_wins():
    quote = quote_price(request(12), Terms(price_tiers=tiers()))
    assert quote.unit_price == Decimal(95_000)
    assert quote.winner == RuleRef(Source.PRICE_TIER, 12)
    assert outcome_of(quote, Source.PRICE_TIER, 11) is Outcome.LOST
    assert outcome_of(quote, Source.LIST_PRICE, PUMP.id) is Outcome.LOST
    assert "標準価格表 (#12)" in quote.text


def test_tiers_outside_their_validity_do_not_apply():
    expired = PriceTier(13, 5, Decimal(96_000), valid_to=date(2025, 12, 31))
    quote = quote_price(request(7), Terms(price_tiers=(*tiers(), expired)))
    assert quote.winner.id == 11
    assert outcome_of(quote, Source.PRICE_TIER, 12) is Outcome.NOT_APPLICABLE
    assert outcome_of(quote, Source.PRICE_TIER, 13) is Outcome.NOT_APPLICABLE


def test_discount_rule_beats_the_tier_and_takes_its_percent_off_the_tier_price():
    quote = quote_price(request(12), Terms(price_tiers=tiers(), rules=(segment_rule(),)))
    assert quote.unit_price == Decimal(90_250)  # 95,000 × 0.95
    assert quote.winner == RuleRef(Source.DISCOUNT_RULE, 31)
    assert "Discount rule #31 gives 5% off ¥95,000: ¥90,250." in quote.text


def test_rule_conditions_segment_tier_line_volume_promotion():
    rules = (
        segment_rule(segment_id=4),
        DiscountRule(id=32, kind=RuleKind.TIER, percent=Decimal(5), account_tier="S"),
        DiscountRule(id=33, kind=RuleKind.PRODUCT_LINE, percent=Decimal(5), line_id=11),
        DiscountRule(id=34, kind=RuleKind.VOLUME, percent=Decimal(5), min_quantity=50),
        DiscountRule(
            id=35,
            kind=RuleKind.PROMOTION,
            percent=Decimal(5),
            valid_from=date(2026, 5, 1),
            valid_to=date(2026, 5, 31),
        ),
    )
    quote = quote_price(request(), Terms(rules=rules))
    assert quote.winner.source is Source.LIST_PRICE
    reasons = {
        c.id: c.reason.render() for c in quote.candidates if c.source is Source.DISCOUNT_RULE
    }
    assert reasons == {
        31: "For accounts in segment 4.",
        32: "For S accounts.",
        33: "For another product line.",
        34: "Needs a quantity of at least 50.",
        35: "Not valid on 2026-04-01.",
    }
    # On the promotion's dates, at 50 units, for the right line, the rules apply.
    assert quote_price(request(50, on=date(2026, 5, 10)), Terms(rules=rules)).winner.id in {34, 35}


def test_the_best_single_non_stackable_rule_wins_ties_go_to_priority_then_id():
    rules = (
        segment_rule(percent=Decimal(5)),
        DiscountRule(id=32, kind=RuleKind.TIER, percent=Decimal(7), account_tier="A"),
        DiscountRule(id=33, kind=RuleKind.PRODUCT_LINE, percent=Decimal(7), line_id=10),
        DiscountRule(id=34, kind=RuleKind.PRODUCT_LINE, percent=Decimal(7), line_id=10, priority=2),
    )
    quote = quote_price(request(), Terms(rules=rules))
    assert quote.unit_price == Decimal(93_000)
    assert quote.winner == RuleRef(Source.DISCOUNT_RULE, 34)
    without_priority = (*rules[:3], replace(rules[3], priority=0))
    assert quote_price(request(), Terms(rules=without_priority)).winner.id == 32


def test_stackable_rules_compound_and_win_when_together_they_give_more():
    rules = (
        segment_rule(stackable=True),
        DiscountRule(
            id=36, kind=RuleKind.VOLUME, percent=Decimal(4), min_quantity=10, stackable=True
        ),
        DiscountRule(id=32, kind=RuleKind.TIER, percent=Decimal(8), account_tier="A"),
    )
    quote = quote_price(request(10), Terms(rules=rules))
    assert quote.unit_price == Decimal(91_200)  # 100,000 × 0.95 × 0.96
    assert quote.winner == RuleRef(Source.RULE_STACK, None, (31, 36))
    assert outcome_of(quote, Source.DISCOUNT_RULE, 31) is Outcome.WON
    assert outcome_of(quote, Source.DISCOUNT_RULE, 32) is Outcome.LOST
    assert "together give 8.8% off ¥100,000: ¥91,200" in quote.text
    # Below 10 units only one stackable rule applies: it competes alone, and 8% beats 5%.
    assert quote_price(request(9), Terms(rules=rules)).winner == RuleRef(Source.DISCOUNT_RULE, 32)


def test_agreement_discount_beats_discount_rules():
    terms = Terms(
        agreement=agreement(special_prices=()), rules=(segment_rule(percent=Decimal(20)),)
    )
    quote = quote_price(request(), terms)
    assert quote.unit_price == Decimal(92_000)
    assert quote.winner == RuleRef(Source.AGREEMENT_DISCOUNT, 73)
    assert outcome_of(quote, Source.DISCOUNT_RULE, 31) is Outcome.LOST
    assert "Agreement 2026年度取引条件 (#7) gives 8% off ¥100,000: ¥92,000." in quote.text


def test_a_products_own_agreement_discount_comes_before_its_lines():
    own = AgreementDiscount(id=74, percent=Decimal(3), product_id=PUMP.id)
    quote = quote_price(
        request(),
        Terms(
            agreement=agreement(
                special_prices=(),
                discounts=(AgreementDiscount(id=73, percent=Decimal(8), line_id=10), own),
            )
        ),
    )
    assert quote.winner == RuleRef(Source.AGREEMENT_DISCOUNT, 74)
    loser = next(c for c in quote.candidates if c.id == 73)
    assert "for the product itself comes first" in loser.reason.render()


def test_special_price_beats_everything_below_it_and_has_quantity_tiers():
    terms = Terms(price_tiers=tiers(), agreement=agreement(), rules=(segment_rule(),))
    quote = quote_price(request(5), terms)
    assert quote.unit_price == Decimal(90_000)
    assert quote.winner == RuleRef(Source.SPECIAL_PRICE, 71)
    assert outcome_of(quote, Source.AGREEMENT_DISCOUNT, 73) is Outcome.LOST
    assert quote_price(request(20), terms).winner == RuleRef(Source.SPECIAL_PRICE, 72)
    assert quote_price(request(20), terms).unit_price == Decimal(85_000)


def test_an_agreement_outside_its_validity_does_not_apply():
    terms = Terms(agreement=agreement(valid_to=date(2026, 3, 31)))
    quote = quote_price(request(), terms)
    assert quote.winner.source is Source.LIST_PRICE
    assert outcome_of(quote, Source.SPECIAL_PRICE, 71) is Outcome.NOT_APPLICABLE


def test_special_prices_of_other_products_are_ignored():
    other = replace(PUMP, id=2)
    quote = quote_price(request(product=other), Terms(agreement=agreement()))
    assert quote.winner == RuleRef(Source.AGREEMENT_DISCOUNT, 73)


# -- the floor ---------------------------------------------------------------------------------


def test_the_floor_wins_and_says_so():
    floor = floor_for_margin(PUMP.cost, Decimal(40), "JPY")  # 60,000 / 0.6 = 100,000
    quote = quote_price(request(), Terms(agreement=agreement(), floor=floor))
    assert quote.unit_price == Decimal(100_000)
    assert quote.winner == RuleRef(Source.FLOOR, None)
    assert outcome_of(quote, Source.SPECIAL_PRICE, 71) is Outcome.LOST
    assert quote.text == (
        "Agreement 2026年度取引条件 (#7) sets a special price of ¥90,000 from a quantity of 1. "
        "¥90,000 would be below the minimum margin, so the floor of ¥100,000 applies."
    )


def test_an_approved_floor_names_the_approval_and_is_silent_when_not_reached():
    floor = Floor(Decimal(91_000), kind=FloorKind.APPROVED, id=501)
    quote = quote_price(request(), Terms(agreement=agreement(), floor=floor))
    assert quote.unit_price == Decimal(91_000)
    assert "approved price #501" in quote.text
    unreached = quote_price(request(), Terms(floor=floor))
    assert unreached.winner.source is Source.LIST_PRICE
    assert outcome_of(unreached, Source.FLOOR, 501) is Outcome.NOT_APPLICABLE


def test_floor_for_margin_counts_margin_on_the_selling_price_and_rounds_up():
    assert floor_for_margin(Decimal(1000), Decimal(30), "JPY").unit_price == Decimal(1429)
    assert floor_for_margin(Decimal("10.00"), Decimal(30), "USD").unit_price == Decimal("14.29")
    assert Floor(Decimal("1000.2")).unit_price == Decimal(1001)


def test_translated_explanation():
    quote = quote_price(request(12), Terms(price_tiers=tiers()))
    catalog = {
        "Price list %(tier)s gives %(price)s from a quantity of %(quantity)s.": (
            "価格表%(tier)s：%(quantity)s個以上で%(price)s。"
        )
    }
    assert (
        quote.explain(lambda s: catalog.get(s, s), "ja")
        == "価格表標準価格表 (#12)：10個以上で95,000円。"
    )


def test_usd_prices_keep_cents():
    product = Product(id=3, list_price=Decimal("19.99"), currency="USD")
    rule = segment_rule(percent=Decimal("12.5"))
    quote = quote_price(request(product=product), Terms(rules=(rule,)))
    assert quote.unit_price == Decimal("17.49")  # 17.49125 half up
    assert quote.currency == "USD"


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: Product(id=1, list_price=Decimal(-1)), "negative_amount"),
        (lambda: Product(id=1, list_price=Decimal(10) ** 15), "absurd_amount"),
        (lambda: Product(id=1, list_price=Decimal("100.5")), "too_many_decimals"),
        (lambda: Product(id=1, list_price=Decimal(1), currency="XYZ"), "unknown_currency"),
        (lambda: PriceTier(id=1, min_quantity=1, unit_price=Decimal(-5)), "negative_amount"),
        (lambda: PriceTier(id=1, min_quantity=0, unit_price=Decimal(5)), "bad_quantity"),
        (lambda: request(0), "bad_quantity"),
        (lambda: request(-3), "bad_quantity"),
        (lambda: segment_rule(percent=Decimal(100)), "bad_percent"),
        (lambda: segment_rule(percent=Decimal(-1)), "bad_percent"),
        (lambda: segment_rule(segment_id=None), "rule_condition"),
        (lambda: DiscountRule(id=1, kind=RuleKind.PROMOTION, percent=Decimal(5)), "rule_condition"),
        (lambda: segment_rule(valid_from=date(2026, 2, 1), valid_to=date(2026, 1, 1)), "period"),
        (lambda: AgreementDiscount(id=1, percent=Decimal(5)), "discount_target"),
        (
            lambda: agreement(special_prices=(SpecialPrice(1, PUMP.id, Decimal(5), 10),)),
            "tier_start",
        ),
        (
            lambda: agreement(
                special_prices=(
                    SpecialPrice(1, PUMP.id, Decimal(5)),
                    SpecialPrice(2, PUMP.id, Decimal(6), 5),
                )
            ),
            "tier_not_monotonic",
        ),
        (lambda: Terms(rules=(segment_rule(), segment_rule(percent=Decimal(1)))), "duplicate_id"),
    ],
)
def test_bad_input_is_a_clear_error(build, code):
    with pytest.raises(PricingError) as exc:
        build()
    assert exc.value.code == code
    assert isinstance(exc.value, ValueError)
    assert exc.value.message


def test_overlapping_validity_in_one_tier_table_is_refused():
    a = PriceTier(id=1, min_quantity=10, unit_price=Decimal(900), valid_to=date(2026, 6, 30))
    b = PriceTier(id=2, min_quantity=10, unit_price=Decimal(880), valid_from=date(2026, 6, 1))
    with pytest.raises(
        PricingError, match="Two tiers from a quantity of 10 are valid at the same time"
    ):
        Terms(price_tiers=(a, b))
    # Back to back is fine.
    Terms(price_tiers=(a, replace(b, valid_from=date(2026, 7, 1))))


def test_a_tier_table_where_more_costs_more_is_refused():
    with pytest.raises(PricingError, match="buying more may never raise the unit price"):
        Terms(price_tiers=(PriceTier(1, 1, Decimal(900)), PriceTier(2, 10, Decimal(950))))
    with pytest.raises(PricingError, match="costs more than the list price"):
        quote_price(request(), Terms(price_tiers=(PriceTier(1, 10, Decimal(100_001)),)))


@pytest.mark.parametrize(
    "terms",
    [
        Terms(price_tiers=(PriceTier(1, 1, Decimal(900), currency="USD"),)),
        Terms(agreement=agreement(currency="USD")),
        Terms(floor=Floor(Decimal(1), "EUR")),
    ],
)
def test_currency_mismatches_are_errors_never_conversions(terms):
    with pytest.raises(PricingError, match="never converts currencies") as exc:
        quote_price(request(), terms)
    assert exc.value.code == "currency_mismatch"


def test_another_accounts_agreement_and_a_discontinued_product_are_refused():
    with pytest.raises(PricingError, match="another account"):
        quote_price(request(), Terms(agreement=agreement(account_id=99)))
    with pytest.raises(PricingError, match="discontinued"):
        quote_price(request(product=replace(PUMP, status="discontinued")), Terms())


@pytest.mark.parametrize(
    "build",
    [
        lambda: Product(id=1, list_price=1000.0),
        lambda: request(1.5),
        lambda: request(True),
        lambda: PriceRequest(PUMP, 1, datetime(2026, 4, 1), ACCOUNT),
        lambda: segment_rule(percent=5.0),
    ],
)
def test_wrong_types_are_type_errors(build):
    with pytest.raises(TypeError):
        build()
