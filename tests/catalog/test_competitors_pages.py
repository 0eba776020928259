"""Competitors' products: list, detail, the form, and the section on the competitor's page."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tokui.catalog.models import CompetitorProduct
from tokui.catalog.services import competitor_product_save
from tokui.core.models import AuditEvent


@pytest.fixture
def rival(head, make_account):
    return make_account(head, kind="competitor", name="競合ポンプ株式会社")


@pytest.fixture
def rival_product(head, rival, make_product):
    ours = make_product(sku="PMP-100A", name="渦巻ポンプ 100A", list_price=Decimal(285_000))
    return competitor_product_save(
        actor=head,
        data={
            "competitor": rival,
            "name": "KP-100 汎用渦巻ポンプ",
            "price": Decimal(259_000),
            "notes": "価格は約1割安い\n保守拠点が少なく納期は4〜6週",
        },
        products=[ours],
    )


def test_list_shows_competitor_their_product_ours_and_price(client, kam, rival_product):
    client.force_login(kam)
    text = client.get(reverse("catalog:competitor_index")).text
    assert "競合ポンプ株式会社" in text
    assert "KP-100 汎用渦巻ポンプ" in text
    assert "PMP-100A" in text
    assert "¥259,000" in text
    assert 'aria-current="page">Competitors' in text
    # a KAM reads, but gets no "new" button
    assert reverse("catalog:competitor_create") not in text


def test_list_filters_and_constant_queries(client, head, kam, rival, rival_product, make_product):
    client.force_login(kam)
    text = client.get(reverse("catalog:competitor_index"), {"q": "存在しない"}).text
    assert "KP-100" not in text and "No competitors" in text
    text = client.get(reverse("catalog:competitor_index"), {"competitor": rival.pk}).text
    assert "KP-100" in text
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("catalog:competitor_index"))
    for n in range(5):
        competitor_product_save(
            actor=head,
            data={"competitor": rival, "name": f"KP-{n}"},
            products=[make_product()],
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("catalog:competitor_index"))
    assert len(many) == len(one)


def test_detail_compares_prices_with_ours(client, kam, rival_product):
    client.force_login(kam)
    text = client.get(reverse("catalog:competitor_detail", args=[rival_product.pk])).text
    assert "保守拠点が少なく納期は4〜6週" in text
    assert "+¥26,000 (+10.0%)" in text
    assert client.get(reverse("catalog:competitor_detail", args=[999_999])).status_code == 404


def test_a_head_creates_through_the_form_and_edits_it(client, head, rival, make_product):
    ours = make_product(sku="SNS-F50")
    client.force_login(head)
    url = reverse("catalog:competitor_create")
    form = client.get(url, {"competitor": rival.pk, "product": ours.pk}).text
    assert f'<option value="{rival.pk}" selected>' in form
    response = client.post(
        url,
        {
            "competitor": rival.pk,
            "name": "FS-50 電磁流量計",
            "price": "348,000",
            "currency": "JPY",
            "products": [ours.pk],
            "notes": "本体価格はほぼ同等",
        },
    )
    assert response.status_code == 302
    record = CompetitorProduct.objects.get()
    assert record.price == Decimal(348_000)
    assert list(record.products.all()) == [ours]

    edit = reverse("catalog:competitor_edit", args=[record.pk])
    response = client.post(
        edit,
        {
            "competitor": rival.pk,
            "name": "FS-50 電磁流量計",
            "price": "338000",
            "currency": "JPY",
            "products": [ours.pk],
            "notes": "値下げ",
            "version": record.version,
        },
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.price == Decimal(338_000) and record.version == 2
    assert AuditEvent.objects.filter(action="catalog.competitor_product.updated").count() == 1


def test_bad_input_and_stale_edits_are_shown_next_to_the_fields(client, head, rival, rival_product):
    client.force_login(head)
    response = client.post(
        reverse("catalog:competitor_create"),
        {"competitor": rival.pk, "name": "X", "price": "-5", "currency": "JPY"},
    )
    assert response.status_code == 422
    assert "cannot be negative" in response.text
    response = client.post(
        reverse("catalog:competitor_edit", args=[rival_product.pk]),
        {
            "competitor": rival.pk,
            "name": "変更",
            "currency": "JPY",
            "version": rival_product.version + 5,
        },
    )
    assert response.status_code == 422
    assert "while you were editing" in response.text
    assert CompetitorProduct.objects.count() == 1
    rival_product.refresh_from_db()
    assert rival_product.name == "KP-100 汎用渦巻ポンプ"


def test_the_form_is_for_editors_only(client, kam, rival_product):
    client.force_login(kam)
    assert client.get(reverse("catalog:competitor_create")).status_code == 403
    assert (
        client.get(reverse("catalog:competitor_edit", args=[rival_product.pk])).status_code == 403
    )


def test_product_page_links_to_the_comparison(client, kam, rival_product):
    ours = rival_product.products.get()
    client.force_login(kam)
    text = client.get(reverse("catalog:product_detail", args=[ours.pk])).text
    assert reverse("catalog:competitor_detail", args=[rival_product.pk]) in text
    assert reverse("catalog:competitor_index") in text


def test_the_competitor_account_page_lists_their_products(
    client, head, rival, rival_product, make_account
):
    client.force_login(head)
    text = client.get(reverse("accounts:detail", args=[rival.pk])).text
    assert "Their products we compare with" in text
    assert reverse("catalog:competitor_detail", args=[rival_product.pk]) in text
    other = make_account(head, kind="competitor", name="他社")
    text = client.get(reverse("accounts:detail", args=[other.pk])).text
    assert "Their products we compare with" not in text
