import datetime
from decimal import Decimal

import pytest

from tokui.catalog.constants import ProductStatus
from tokui.catalog.models import PriceList, PriceListItem, Product, ProductLine
from tokui.catalog.selectors import product_list, product_price_tiers
from tokui.catalog.services import (
    clean_money,
    competitor_product_save,
    price_list_create,
    price_list_set_items,
    price_list_update,
    product_create,
    product_line_create,
    product_update,
)
from tokui.core.exceptions import ApplicationError, Conflict, PermissionDenied
from tokui.core.models import AuditEvent

D = datetime.date


def test_a_head_adds_a_product_with_a_normalised_sku_and_an_audit_event(head, pump_line):
    product = product_create(
        actor=head,
        data={
            "sku": " ｐｍｐ-100a ",
            "name": "渦巻ポンプ 100A",
            "name_kana": "うずまきぽんぷ",
            "line": pump_line.pk,
            "unit": "台",
            "list_price": "285,000",
            "cost": Decimal("171000"),
            "tax_category": "standard",
        },
    )
    assert product.sku == "PMP-100A"
    assert product.name_kana == "ウズマキポンプ"
    assert product.list_price == Decimal("285000.00")
    assert product.margin == Decimal("40.0")
    event = AuditEvent.objects.get(action="catalog.product.created")
    assert event.scope == f"catalog:product:{product.pk}"
    assert event.changes["sku"] == [None, "PMP-100A"]
    assert not AuditEvent.objects.filter(scope__startswith="account:").exists()


@pytest.mark.parametrize("role_fixture", ["kam", "am", "support"])
def test_only_heads_and_admins_change_the_catalog(request, role_fixture, pump_line):
    user = request.getfixturevalue(role_fixture)
    with pytest.raises(PermissionDenied):
        product_create(
            actor=user,
            data={"sku": "X-1", "name": "x", "line": pump_line, "list_price": 1},
        )
    with pytest.raises(PermissionDenied):
        product_line_create(actor=user, data={"name": "バルブ"})
    assert not Product.objects.exists()
    assert ProductLine.objects.count() == 1


def test_an_admin_may_edit_the_catalog(admin_user, pump_line):
    product = product_create(
        actor=admin_user, data={"sku": "A-1", "name": "a", "line": pump_line, "list_price": 10}
    )
    assert product.pk


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("list_price", "-1"),
        ("list_price", "1000000000000"),
        ("list_price", "12.5"),  # yen has no minor unit
        ("list_price", "abc"),
        ("list_price", "NaN"),
        ("cost", "-5"),
        ("sku", "PMP 100/<b>"),
        ("sku", ""),
        ("name", ""),
        ("name_kana", "Uzumaki"),
        ("unit", "barrel"),
        ("status", "gone"),
        ("tax_category", "zero"),
        ("lead_time_days", -1),
        ("lead_time_days", 99999),
        ("line", 999999),
        ("advantages", "<script>alert(1)</script>"),
    ],
)
def test_bad_product_input_is_refused_next_to_the_field_and_nothing_is_saved(
    head, pump_line, field, value
):
    data = {"sku": "OK-1", "name": "ok", "line": pump_line, "list_price": "1000"}
    data[field] = value
    with pytest.raises(ApplicationError) as caught:
        product_create(actor=head, data=data)
    assert field in caught.value.errors
    assert not Product.objects.exists()
    assert not AuditEvent.objects.filter(action="catalog.product.created").exists()


def test_usd_keeps_cents_but_not_fractions_of_a_cent(head, pump_line):
    product = product_create(
        actor=head,
        data={
            "sku": "US-1",
            "name": "x",
            "line": pump_line,
            "list_price": "12.50",
            "currency": "USD",
        },
    )
    assert product.list_price == Decimal("12.50")
    with pytest.raises(ApplicationError):
        clean_money("1.005", currency="USD")
    # Switching that product to yen would lose the cents: refused.
    with pytest.raises(ApplicationError) as caught:
        product_update(actor=head, product=product, data={"currency": "JPY"})
    assert "currency" in caught.value.errors


def test_the_sku_is_unique_whatever_the_case(head, make_product):
    make_product(sku="PMP-1")
    with pytest.raises(ApplicationError) as caught:
        make_product(sku="pmp-1")
    assert "sku" in caught.value.errors


def test_a_stale_edit_is_refused_and_changes_nothing(head, make_product):
    product = make_product(name="旧名")
    product_update(actor=head, product=product, data={"name": "新名"}, version=1)
    with pytest.raises(Conflict):
        product_update(actor=head, product=product, data={"name": "別名"}, version=1)
    product.refresh_from_db()
    assert (product.name, product.version) == ("新名", 2)


def test_substitutes_are_set_and_audited_but_never_the_product_itself(head, make_product):
    old = make_product(sku="OLD-1")
    new = make_product(sku="NEW-1")
    product_update(
        actor=head,
        product=old,
        data={"status": ProductStatus.DISCONTINUED, "substitutes": [new.pk]},
    )
    assert list(old.substitutes.all()) == [new]
    event = AuditEvent.objects.filter(action="catalog.product.updated").first()
    assert event.changes["substitutes"] == ["", "NEW-1"]
    with pytest.raises(ApplicationError):
        product_update(actor=head, product=old, data={"substitutes": [old.pk]})
    with pytest.raises(ApplicationError):
        product_update(actor=head, product=old, data={"substitutes": [987654]})
    assert list(old.substitutes.all()) == [new]


def test_search_folds_width_and_kana(head, kam, make_product):
    make_product(sku="PMP-100A", name="渦巻ポンプ", name_kana="ウズマキポンプ")
    make_product(sku="VLV-1", name="ボールバルブ", name_kana="ボールバルブ")
    assert [p.sku for p in product_list(viewer=kam, search="ｳｽﾞﾏｷ")] == ["PMP-100A"]
    assert [p.sku for p in product_list(viewer=kam, search="うずまき")] == ["PMP-100A"]
    assert [p.sku for p in product_list(viewer=kam, search="pmp-100")] == ["PMP-100A"]


# Competitors' products ----------------------------------------------------------------------


def test_a_competitors_product_needs_a_competitor_account(head, make_account, make_product):
    ours = make_product()
    client = make_account(head, kind="client")
    with pytest.raises(ApplicationError) as caught:
        competitor_product_save(actor=head, data={"competitor": client, "name": "X"})
    assert "competitor" in caught.value.errors
    rival = make_account(head, kind="competitor", name="競合ポンプ株式会社")
    record = competitor_product_save(
        actor=head,
        data={"competitor": rival, "name": "KP-100", "price": "259000", "notes": "安いが遅い"},
        products=[ours],
    )
    assert list(ours.competitor_products.all()) == [record]
    assert AuditEvent.objects.filter(action="catalog.competitor_product.created").exists()


# Price lists --------------------------------------------------------------------------------


def _list(head, **data):
    data.setdefault("name", "標準価格表")
    data.setdefault("currency", "JPY")
    data.setdefault("valid_from", D(2026, 4, 1))
    return price_list_create(actor=head, data=data)


def test_overlapping_default_lists_of_one_currency_are_refused(head):
    _list(head, is_default=True, valid_to=D(2027, 3, 31))
    with pytest.raises(ApplicationError) as caught:
        _list(head, name="重複", is_default=True, valid_from=D(2027, 3, 1))
    assert "valid_from" in caught.value.errors
    with pytest.raises(ApplicationError):
        _list(head, name="無期限", is_default=True, valid_from=D(2020, 1, 1))
    assert PriceList.objects.count() == 1
    # Not default, another currency or after the end: fine.
    _list(head, name="キャンペーン", valid_from=D(2026, 7, 1))
    _list(head, name="USD", currency="USD", is_default=True)
    later = _list(head, name="来期", is_default=True, valid_from=D(2027, 4, 1))
    # …and moving it into the first list's period is refused too.
    with pytest.raises(ApplicationError):
        price_list_update(actor=head, price_list=later, data={"valid_from": D(2027, 1, 1)})
    later.refresh_from_db()
    assert later.valid_from == D(2027, 4, 1)


def test_a_list_cannot_end_before_it_starts(head):
    with pytest.raises(ApplicationError) as caught:
        _list(head, valid_from=D(2026, 4, 1), valid_to=D(2026, 3, 1))
    assert "valid_to" in caught.value.errors


def test_tiers_are_saved_all_or_nothing_and_must_be_monotonic(head, make_product):
    pump, valve = make_product(), make_product()
    price_list = _list(head, is_default=True)
    price_list_set_items(
        actor=head,
        price_list=price_list,
        items=[
            {"product": pump.pk, "min_quantity": 1, "unit_price": 100_000},
            {"product": pump.pk, "min_quantity": 10, "unit_price": "92,000"},
            {"product": valve.pk, "min_quantity": 1, "unit_price": 5000},
        ],
    )
    assert PriceListItem.objects.count() == 3
    bad = [
        {"product": pump.pk, "min_quantity": 1, "unit_price": 100_000},
        {"product": pump.pk, "min_quantity": 10, "unit_price": 101_000},  # dearer in bulk
        {"product": valve.pk, "min_quantity": 0, "unit_price": 5000},
        {"product": valve.pk, "min_quantity": 5, "unit_price": -1},
        {"product": 99999, "min_quantity": 1, "unit_price": 1},
    ]
    with pytest.raises(ApplicationError) as caught:
        price_list_set_items(actor=head, price_list=price_list, items=bad)
    assert set(caught.value.errors) == {
        "items.1.unit_price",
        "items.2.min_quantity",
        "items.3.unit_price",
        "items.4.product",
    }
    assert PriceListItem.objects.count() == 3  # unchanged
    with pytest.raises(ApplicationError) as caught:
        price_list_set_items(
            actor=head,
            price_list=price_list,
            items=[
                {"product": pump.pk, "min_quantity": 5, "unit_price": 1},
                {"product": pump.pk, "min_quantity": 5, "unit_price": 1},
            ],
        )
    assert "items.1.min_quantity" in caught.value.errors
    assert AuditEvent.objects.filter(action="catalog.price_list.items_changed").count() == 1


def test_price_tiers_come_from_lists_valid_on_the_day(head, make_product):
    pump = make_product()
    current = _list(head, is_default=True, valid_from=D(2026, 4, 1), valid_to=D(2027, 3, 31))
    old = _list(head, name="旧", valid_from=D(2025, 4, 1), valid_to=D(2026, 3, 31))
    for price_list in (current, old):
        price_list_set_items(
            actor=head,
            price_list=price_list,
            items=[{"product": pump.pk, "min_quantity": 1, "unit_price": 90000}],
        )
    tiers = product_price_tiers(product=pump, on=D(2026, 6, 1))
    assert [pl.name for pl, _items in tiers] == ["標準価格表"]
    assert product_price_tiers(product=pump, on=D(2028, 1, 1)) == []
