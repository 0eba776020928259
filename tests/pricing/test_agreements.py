"""Key-account agreements: the services and the quote that applies them."""

import datetime
from decimal import Decimal

import pytest

from tokui.accounts.models import account_scope
from tokui.catalog.services import price_list_create, price_list_set_items
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.pricing.models import Agreement, AgreementDiscount, AgreementPrice
from tokui.pricing.services import agreement_create, agreement_set_terms, agreement_update
from tokui.users.services import api_token_create

D = datetime.date


def _terms(prices=(), discounts=()):
    return {"prices": list(prices), "discounts": list(discounts)}


@pytest.fixture
def account(kam, make_account):
    return make_account(kam, name="株式会社山田商事")


@pytest.fixture
def agreement(kam, account):
    return agreement_create(
        actor=kam,
        account=account,
        data={"name": "2026年度 取引条件", "valid_from": D(2026, 4, 1), "valid_to": D(2027, 3, 31),
              "closing_day": 20, "payment_month_offset": 1, "payment_day": 0},
    )  # fmt: skip


def test_create_records_payment_terms_and_audits_on_the_account(kam, account, agreement):
    assert (agreement.closing_day, agreement.payment_month_offset, agreement.payment_day) == (
        20,
        1,
        0,
    )
    assert agreement.currency == "JPY"
    event = AuditEvent.objects.get(action="pricing.agreement.created")
    assert event.scope == account_scope(account.pk)
    assert event.actor == kam


def test_overlapping_agreements_of_one_account_are_refused(kam, account, agreement):
    with pytest.raises(ApplicationError) as exc:
        agreement_create(
            actor=kam, account=account, data={"name": "重複", "valid_from": "2027-03-31"}
        )
    assert "valid_from" in exc.value.errors
    with pytest.raises(ApplicationError):  # open-ended before overlaps too
        agreement_create(
            actor=kam,
            account=account,
            data={"name": "旧", "valid_from": D(2025, 4, 1), "valid_to": None},
        )
    nxt = agreement_create(
        actor=kam, account=account, data={"name": "2027年度", "valid_from": D(2027, 4, 1)}
    )
    with pytest.raises(ApplicationError):  # stretching the old one into the new one
        agreement_update(actor=kam, agreement=agreement, data={"valid_to": D(2027, 4, 1)})
    assert Agreement.objects.count() == 2
    agreement.refresh_from_db()
    assert agreement.valid_to == D(2027, 3, 31)
    assert nxt.valid_to is None


def test_bad_fields_are_listed_together(kam, account):
    with pytest.raises(ApplicationError) as exc:
        agreement_create(
            actor=kam,
            account=account,
            data={"name": "x", "valid_from": "2026-04-01", "valid_to": "2026-03-01",
                  "closing_day": 31, "payment_day": -1, "payment_month_offset": 99,
                  "currency": "XXX"},
        )  # fmt: skip
    assert {"closing_day", "payment_day", "payment_month_offset", "currency"} <= set(
        exc.value.errors
    )
    assert not Agreement.objects.exists()


def test_rights_editors_of_visible_accounts_only(account, support, west_am, kam, agreement):
    data = {"name": "x", "valid_from": D(2030, 1, 1)}
    with pytest.raises(PermissionDenied):
        agreement_create(actor=support, account=account, data=data)
    with pytest.raises(NotFound):
        agreement_create(actor=west_am, account=account, data=data)
    with pytest.raises(NotFound):
        agreement_set_terms(actor=west_am, agreement=agreement, **_terms())
    with pytest.raises(PermissionDenied):
        agreement_update(actor=support, agreement=agreement, data={"name": "y"})
    assert Agreement.objects.count() == 1


def test_stale_version_is_refused(kam, agreement):
    agreement_update(actor=kam, agreement=agreement, data={"notes": "月末締め翌月末払い"})
    with pytest.raises(Conflict):
        agreement_update(actor=kam, agreement=agreement, data={"name": "y"}, version=1)


def test_terms_are_saved_and_audited(kam, account, agreement, make_product, pump_line):
    pump, valve = make_product(), make_product()
    agreement_set_terms(
        actor=kam,
        agreement=agreement,
        **_terms(
            prices=[
                {"product": pump.pk, "min_quantity": 1, "unit_price": "85,000"},
                {"product": pump.pk, "min_quantity": 10, "unit_price": Decimal(80_000)},
            ],
            discounts=[
                {"product": valve.pk, "percent": "7.5"},
                {"line": pump_line.pk, "percent": 3},
            ],
        ),
    )
    assert list(AgreementPrice.objects.values_list("min_quantity", "unit_price")) == [
        (1, Decimal(85_000)),
        (10, Decimal(80_000)),
    ]
    assert AgreementDiscount.objects.count() == 2
    event = AuditEvent.objects.get(action="pricing.agreement.terms_changed")
    assert event.scope == account_scope(account.pk)
    agreement.refresh_from_db()
    assert agreement.version == 2


@pytest.mark.parametrize(
    ("prices", "discounts", "field"),
    [
        ([{"product": "P", "min_quantity": 1, "unit_price": -1}], [], "prices.0.unit_price"),
        ([{"product": "P", "min_quantity": 1, "unit_price": 10**12}], [], "prices.0.unit_price"),
        ([{"product": "P", "min_quantity": 1, "unit_price": "100.5"}], [], "prices.0.unit_price"),
        ([{"product": "P", "min_quantity": 1, "unit_price": "abc"}], [], "prices.0.unit_price"),
        ([{"product": "P", "min_quantity": 5, "unit_price": 100}], [], "prices.0.min_quantity"),
        ([{"product": "P", "min_quantity": 0, "unit_price": 100}], [], "prices.0.min_quantity"),
        ([{"product": 999_999, "min_quantity": 1, "unit_price": 100}], [], "prices.0.product"),
        (
            [
                {"product": "P", "min_quantity": 1, "unit_price": 100},
                {"product": "P", "min_quantity": 10, "unit_price": 120},
            ],
            [],
            "prices.1.unit_price",
        ),
        (
            [
                {"product": "P", "min_quantity": 1, "unit_price": 100},
                {"product": "P", "min_quantity": 1, "unit_price": 90},
            ],
            [],
            "prices.1.min_quantity",
        ),
        ([], [{"product": "P", "percent": 0}], "discounts.0.percent"),
        ([], [{"product": "P", "percent": 100}], "discounts.0.percent"),
        ([], [{"product": "P", "percent": "1.234"}], "discounts.0.percent"),
        ([], [{"product": "P", "line": "L", "percent": 5}], "discounts.0.product"),
        ([], [{"percent": 5}], "discounts.0.product"),
        ([], [{"line": 999_999, "percent": 5}], "discounts.0.line"),
    ],
)
def test_bad_terms_change_nothing(
    kam, agreement, make_product, pump_line, prices, discounts, field
):
    pump = make_product()
    agreement_set_terms(
        actor=kam,
        agreement=agreement,
        **_terms(prices=[{"product": pump.pk, "min_quantity": 1, "unit_price": 90_000}]),
    )

    def sub(rows):
        swap = {"P": pump.pk, "L": pump_line.pk}
        return [
            {k: swap.get(v, v) if isinstance(v, str) else v for k, v in row.items()} for row in rows
        ]

    good = {"product": pump.pk, "min_quantity": 1, "unit_price": 1}
    with pytest.raises(ApplicationError) as exc:
        agreement_set_terms(
            actor=kam,
            agreement=agreement,
            prices=sub(prices) or [good],
            discounts=[*sub(discounts), {"line": pump_line.pk, "percent": 5}],
        )
    assert field in exc.value.errors
    assert list(AgreementPrice.objects.values_list("unit_price", flat=True)) == [Decimal(90_000)]
    assert not AgreementDiscount.objects.exists()
    agreement.refresh_from_db()
    assert agreement.version == 2


def test_products_must_be_priced_in_the_agreements_currency(kam, agreement, make_product):
    dollar = make_product(currency="USD", list_price=Decimal("100.50"), cost=None)
    with pytest.raises(ApplicationError) as exc:
        agreement_set_terms(
            actor=kam,
            agreement=agreement,
            **_terms(
                prices=[{"product": dollar.pk, "min_quantity": 1, "unit_price": 90}],
                discounts=[{"product": dollar.pk, "percent": 5}],
            ),
        )
    assert {"prices.0.product", "discounts.0.product"} <= set(exc.value.errors)


# -- GET /api/v1/prices/quote ----------------------------------------------------------------


@pytest.fixture
def quote(client, kam):
    _token, key = api_token_create(actor=kam, user=kam)

    def get(**params):
        response = client.get(
            "/api/v1/prices/quote", params, headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 200, response.content
        return response.json()

    return get


@pytest.fixture
def priced(head, kam, agreement, make_product, pump_line):
    pump, valve = make_product(list_price=100_000), make_product(list_price=50_000, cost=30_000)
    standard = price_list_create(
        actor=head,
        data={"name": "標準価格表", "currency": "JPY", "valid_from": D(2026, 4, 1),
              "is_default": True},
    )  # fmt: skip
    price_list_set_items(
        actor=head,
        price_list=standard,
        items=[
            {"product": pump.pk, "min_quantity": 1, "unit_price": 98_000},
            {"product": valve.pk, "min_quantity": 1, "unit_price": 48_000},
        ],
    )
    agreement_set_terms(
        actor=kam,
        agreement=agreement,
        **_terms(
            prices=[
                {"product": pump.pk, "min_quantity": 1, "unit_price": 90_000},
                {"product": pump.pk, "min_quantity": 10, "unit_price": 85_000},
            ],
            discounts=[{"line": pump_line.pk, "percent": 10}],
        ),
    )
    return agreement, pump, valve


def test_the_quote_applies_the_agreements_special_price(quote, priced):
    agreement, pump, _valve = priced
    account = agreement.account_id
    body = quote(account=account, product=pump.pk, quantity=12, date="2026-12-01")
    assert (body["unit_price"], body["rule"]["source"]) == ("85000", "special_price")
    assert "2026年度 取引条件" in body["explanation"]
    sources = {c["source"]: c["outcome"] for c in body["candidates"]}
    assert sources["price_tier"] == "lost"
    one = quote(account=account, product=pump.pk, quantity=1, date="2026-12-01")
    assert one["unit_price"] == "90000"


def test_the_quote_applies_the_agreements_line_discount_to_the_price_list(quote, priced):
    agreement, _pump, valve = priced
    body = quote(account=agreement.account_id, product=valve.pk, quantity=1, date="2026-12-01")
    assert (body["unit_price"], body["rule"]["source"]) == ("43200", "agreement_discount")
    assert "2026年度 取引条件" in body["explanation"]


def test_outside_the_agreements_period_the_price_list_applies(quote, priced):
    agreement, pump, _valve = priced
    body = quote(account=agreement.account_id, product=pump.pk, quantity=12, date="2027-06-01")
    assert (body["unit_price"], body["rule"]["source"]) == ("98000", "price_tier")


def test_another_accounts_agreement_does_not_apply(quote, priced, kam, make_account):
    _agreement, pump, _valve = priced
    other = make_account(kam, name="株式会社別会社")
    body = quote(account=other.pk, product=pump.pk, quantity=12, date="2026-12-01")
    assert body["rule"]["source"] == "price_tier"
