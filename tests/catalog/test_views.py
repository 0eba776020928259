import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tokui.catalog.models import PriceListItem, Product, ProductLine
from tokui.catalog.services import (
    competitor_product_save,
    price_list_create,
    price_list_set_items,
    product_update,
)
from tokui.core.models import AuditEvent


def _login(client, user):
    client.force_login(user)
    return client


def test_pages_need_a_sign_in(client, db):
    response = client.get(reverse("catalog:product_index"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_empty_catalog_says_what_to_do(client, head, kam):
    text = _login(client, head).get(reverse("catalog:product_index")).text
    assert "Add a product line first" in text
    text = _login(client, kam).get(reverse("catalog:product_index")).text
    assert "Heads of sales add the products" in text
    assert reverse("catalog:product_create") not in text


def test_cost_and_margin_are_shown_to_heads_only(client, head, kam, support, make_product):
    product = make_product(sku="PMP-77", list_price=Decimal(123_456), cost=Decimal(98_765))
    for user, sees in ((head, True), (kam, False), (support, False)):
        _login(client, user)
        for url in (
            reverse("catalog:product_index"),
            reverse("catalog:product_detail", args=[product.pk]),
        ):
            text = client.get(url).text
            assert "¥123,456" in text
            assert ("¥98,765" in text) is sees, (user, url)
            assert ("20.0%" in text) is sees, (user, url)


def test_list_filters_and_search(client, kam, head, make_product):
    make_product(sku="PMP-100A", name="渦巻ポンプ", name_kana="ウズマキポンプ")
    gone = make_product(sku="PMP-90A", name="旧型ポンプ", name_kana="キュウガタポンプ")
    product_update(actor=head, product=gone, data={"status": "discontinued"})
    _login(client, kam)
    text = client.get(reverse("catalog:product_index"), {"q": "ｳｽﾞﾏｷ"}).text
    assert "PMP-100A" in text and "PMP-90A" not in text
    text = client.get(reverse("catalog:product_index"), {"status": "discontinued"}).text
    assert "PMP-90A" in text and "PMP-100A" not in text
    text = client.get(reverse("catalog:product_index"), {"q": "存在しない"}).text
    assert "No products match these filters." in text
    response = client.get(
        reverse("catalog:product_index"), {"q": "PMP"}, headers={"HX-Request": "true"}
    )
    assert "PMP-100A" in response.text and "<html" not in response.text


@pytest.mark.parametrize("junk", ["abc", "-5", "99999999999999999999"])
def test_junk_filters_never_break_the_list(client, kam, junk):
    response = _login(client, kam).get(
        reverse("catalog:product_index"), {"page": junk, "line": junk, "status": junk}
    )
    assert response.status_code == 200


def test_list_query_count_does_not_grow_with_rows(client, kam, make_product):
    _login(client, kam)
    make_product()
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("catalog:product_index"))
    for _ in range(20):
        make_product()
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("catalog:product_index"))
    assert len(large.captured_queries) == len(small.captured_queries)


def test_detail_shows_advantages_rivals_substitutes_and_tiers(
    client, kam, head, make_product, make_account
):
    new = make_product(sku="PMP-100A", advantages="消費電力 18% 削減\n全国 24 拠点")
    old = make_product(sku="PMP-90A")
    product_update(actor=head, product=old, data={"status": "discontinued", "substitutes": [new]})
    rival = make_account(head, kind="competitor", name="競合ポンプ株式会社")
    competitor_product_save(
        actor=head,
        data={"competitor": rival, "name": "KP-100", "price": 259000, "notes": "納期 6 週"},
        products=[new],
    )
    today = datetime.date.today()
    price_list = price_list_create(
        actor=head,
        data={"name": "標準価格表", "valid_from": today - datetime.timedelta(days=1)},
    )
    price_list_set_items(
        actor=head,
        price_list=price_list,
        items=[
            {"product": new.pk, "min_quantity": 1, "unit_price": 100000},
            {"product": new.pk, "min_quantity": 10, "unit_price": 92000},
        ],
    )
    _login(client, kam)
    text = client.get(reverse("catalog:product_detail", args=[new.pk])).text
    for expected in ("消費電力 18% 削減", "競合ポンプ株式会社", "KP-100", "¥259,000", "標準価格表"):
        assert expected in text
    assert "¥92,000" in text
    text = client.get(reverse("catalog:product_detail", args=[old.pk])).text
    assert "Discontinued" in text and "PMP-100A" in text
    assert client.get(reverse("catalog:product_detail", args=[999999])).status_code == 404


def test_a_kam_cannot_open_the_edit_pages(client, kam, make_product, pump_line):
    product = make_product()
    _login(client, kam)
    for url in (
        reverse("catalog:product_create"),
        reverse("catalog:product_edit", args=[product.pk]),
        reverse("catalog:line_create"),
        reverse("catalog:price_list_create"),
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, {"name": "x"}).status_code == 403
    assert ProductLine.objects.count() == 1


def test_a_head_creates_a_product_and_sees_errors_next_to_fields(client, head, pump_line):
    _login(client, head)
    url = reverse("catalog:product_create")
    data = {
        "sku": "vlv-b25",
        "name": "ボールバルブ 25A",
        "name_kana": "ボールバルブ",
        "line": pump_line.pk,
        "unit": "個",
        "list_price": "-18,500",
        "currency": "JPY",
        "tax_category": "standard",
        "status": "active",
    }
    response = client.post(url, data)
    assert response.status_code == 422
    assert "A price cannot be negative." in response.text
    assert "field-invalid" in response.text
    assert not Product.objects.exists()
    data["list_price"] = "18,500"
    response = client.post(url, data)
    assert response.status_code == 302
    product = Product.objects.get()
    assert (product.sku, product.list_price) == ("VLV-B25", Decimal("18500.00"))
    edit = reverse("catalog:product_edit", args=[product.pk])
    form = client.get(edit).text
    assert 'value="18500"' in form
    data.update(version=1, name="ボールバルブ 25A（新）")
    assert client.post(edit, data).status_code == 302
    data.update(version=1, name="古い画面から")
    response = client.post(edit, data)
    assert response.status_code == 422 and "while you were editing" in response.text


def test_product_lines_and_price_lists_pages(client, head, kam, pump_line, make_product):
    _login(client, head)
    response = client.post(reverse("catalog:line_create"), {"name": "バルブ", "sort_order": ""})
    assert response.status_code == 302
    assert ProductLine.objects.filter(name="バルブ").exists()
    response = client.post(reverse("catalog:line_create"), {"name": "バルブ"})
    assert response.status_code == 422 and "already a product line" in response.text
    response = client.post(
        reverse("catalog:price_list_create"),
        {"name": "標準", "currency": "JPY", "valid_from": "2026-04-01", "is_default": "on"},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("catalog:price_list_create"),
        {"name": "重複", "currency": "JPY", "valid_from": "2026-05-01", "is_default": "on"},
    )
    assert response.status_code == 422 and "may not overlap" in response.text
    _login(client, kam)
    text = client.get(reverse("catalog:line_index")).text
    assert "バルブ" in text and reverse("catalog:line_create") not in text
    assert "標準" in client.get(reverse("catalog:price_list_index")).text


def _items_post(price_list, rows, version):
    data = {
        "version": version,
        "items-TOTAL_FORMS": len(rows),
        "items-INITIAL_FORMS": 0,
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 2000,
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"items-{i}-{key}"] = value
    return data


def test_price_items_are_edited_as_one_table(client, head, make_product):
    pump = make_product()
    price_list = price_list_create(
        actor=head, data={"name": "標準", "valid_from": datetime.date(2026, 4, 1)}
    )
    _login(client, head)
    url = reverse("catalog:price_list_items", args=[price_list.pk])
    assert client.get(url).status_code == 200
    rows = [
        {"product": pump.pk, "min_quantity": 1, "unit_price": "100,000"},
        {"product": pump.pk, "min_quantity": 10, "unit_price": "120000"},
        {"product": "", "min_quantity": "", "unit_price": ""},
    ]
    response = client.post(url, _items_post(price_list, rows, price_list.version))
    assert response.status_code == 422
    assert "cannot cost more per unit" in response.text
    assert not PriceListItem.objects.exists()
    rows[1]["unit_price"] = "95000"
    response = client.post(url, _items_post(price_list, rows, price_list.version))
    assert response.status_code == 302
    assert sorted(PriceListItem.objects.values_list("min_quantity", "unit_price")) == [
        (1, Decimal("100000.00")),
        (10, Decimal("95000.00")),
    ]
    assert AuditEvent.objects.filter(
        action="catalog.price_list.items_changed", scope=f"catalog:price_list:{price_list.pk}"
    ).exists()
    # Removing a row by ticking "Remove".
    rows[1]["DELETE"] = "on"
    response = client.post(url, _items_post(price_list, rows, price_list.version + 1))
    assert response.status_code == 302
    assert PriceListItem.objects.count() == 1
    text = client.get(reverse("catalog:price_list_detail", args=[price_list.pk])).text
    assert "¥100,000" in text
