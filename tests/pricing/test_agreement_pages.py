"""Agreement pages: list, detail with payment examples and the terms form, add and edit."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tokui.core.models import AuditEvent
from tokui.pricing.models import (
    Agreement,
    AgreementDiscount,
    AgreementPrice,
    ApprovalRequest,
    AuthorityLimit,
)
from tokui.pricing.services import agreement_create, agreement_set_terms

D = datetime.date


@pytest.fixture
def account(kam, make_account):
    return make_account(kam, name="株式会社山田商事", tier="key", kind="client")


@pytest.fixture
def agreement(kam, account):
    today = timezone.localdate()
    return agreement_create(
        actor=kam,
        account=account,
        data={"name": "今年度 取引条件", "valid_from": today - datetime.timedelta(days=30),
              "valid_to": today + datetime.timedelta(days=300), "closing_day": 20,
              "payment_month_offset": 1, "payment_day": 10},
    )  # fmt: skip


@pytest.fixture
def pump(make_product):
    return make_product(sku="PMP-100A", list_price=Decimal(280_000))


@pytest.fixture
def kam_authority(db):
    """A KAM decides up to 15% off the list price alone."""
    return AuthorityLimit.objects.create(role="kam", max_discount_percent=Decimal(15))


def _login(client, user):
    client.force_login(user)
    return client


def test_list_shows_visible_accounts_agreements_with_state_and_terms(
    client, kam, west_am, account, agreement, make_account
):
    other = make_account(west_am, name="西日本工業株式会社")
    agreement_create(
        actor=west_am,
        account=other,
        data={"name": "西の条件", "valid_from": "2020-04-01", "valid_to": "2021-03-31"},
    )
    page = _login(client, kam).get(reverse("pricing:agreement_index"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "今年度 取引条件" in text and "株式会社山田商事" in text
    assert "西の条件" not in text  # west's account is invisible to kam
    assert "closing on the 20th, paid on the 10th of the next month" in text
    assert 'aria-current="page"' in text and reverse("pricing:agreement_index") in text


@pytest.mark.parametrize(
    ("state", "shown"), [("current", True), ("expired", False), ("upcoming", False)]
)
def test_list_filters_by_state_and_search(client, kam, agreement, state, shown):
    page = _login(client, kam).get(reverse("pricing:agreement_index"), {"state": state})
    assert ("今年度 取引条件" in page.content.decode()) is shown
    found = client.get(reverse("pricing:agreement_index"), {"q": "山田"}, HTTP_HX_REQUEST="true")
    assert "今年度 取引条件" in found.content.decode()
    assert "<html" not in found.content.decode()  # the htmx fragment only
    missing = client.get(reverse("pricing:agreement_index"), {"q": "存在しない会社"})
    assert "今年度 取引条件" not in missing.content.decode()


def test_list_query_count_does_not_grow_with_rows(
    client, kam, make_account, django_assert_max_num_queries
):
    for n in range(6):
        acc = make_account(kam, name=f"株式会社テスト{n}")
        agreement_create(
            actor=kam, account=acc, data={"name": f"条件{n}", "valid_from": "2026-04-01"}
        )
    _login(client, kam)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("pricing:agreement_index")).status_code == 200


def test_detail_shows_prices_vs_list_discounts_and_payment_examples(
    client, kam, agreement, pump, pump_line
):
    agreement_set_terms(
        actor=kam,
        agreement=agreement,
        prices=[{"product": pump.pk, "min_quantity": 1, "unit_price": 252_000}],
        discounts=[{"line": pump_line.pk, "percent": "5"}],
    )
    page = _login(client, kam).get(reverse("pricing:agreement_detail", args=[agreement.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "PMP-100A" in text and "−10.0%" in text  # 252,000 vs 280,000
    assert "産業用ポンプ" in text and "5%" in text
    assert "closing on the 20th, paid on the 10th of the next month" in text
    assert text.count('<tr><td class="nowrap">') == 3  # three example invoices
    assert 'name="prices-TOTAL_FORMS"' in text and 'name="reason"' in text


def test_detail_of_an_invisible_account_is_404_and_support_reads_without_forms(
    client, agreement, west_am, support
):
    assert (
        _login(client, west_am)
        .get(reverse("pricing:agreement_detail", args=[agreement.pk]))
        .status_code
        == 404
    )
    page = _login(client, support).get(reverse("pricing:agreement_detail", args=[agreement.pk]))
    assert page.status_code == 200
    assert 'name="prices-TOTAL_FORMS"' not in page.content.decode()
    url = reverse("pricing:agreement_terms", args=[agreement.pk])
    assert client.post(url, {}).status_code == 403
    assert client.get(reverse("pricing:agreement_edit", args=[agreement.pk])).status_code == 403


def _terms_post(agreement, prices=(), discounts=(), **extra):
    data = {
        "version": agreement.version,
        "reason": "年間契約",
        "prices-TOTAL_FORMS": len(prices),
        "prices-INITIAL_FORMS": 0,
        "discounts-TOTAL_FORMS": len(discounts),
        "discounts-INITIAL_FORMS": 0,
        **extra,
    }
    for i, row in enumerate(prices):
        data.update({f"prices-{i}-{k}": v for k, v in row.items()})
    for i, row in enumerate(discounts):
        data.update({f"discounts-{i}-{k}": v for k, v in row.items()})
    return data


def test_terms_form_saves_through_the_proposal_and_redirects(
    client, kam, agreement, pump, pump_line, kam_authority
):
    _login(client, kam)
    url = reverse("pricing:agreement_terms", args=[agreement.pk])
    response = client.post(
        url,
        _terms_post(
            agreement,
            prices=[{"product": pump.pk, "min_quantity": 1, "unit_price": "270,000"},
                    {"product": "", "min_quantity": "", "unit_price": ""}],  # blank: ignored
            discounts=[{"target": f"line:{pump_line.pk}", "percent": "3"}],
        ),
    )  # fmt: skip
    assert response.status_code == 302
    assert list(AgreementPrice.objects.values_list("unit_price", flat=True)) == [Decimal(270_000)]
    assert AgreementDiscount.objects.get().line_id == pump_line.pk


def test_terms_form_row_errors_are_next_to_the_row_and_nothing_changes(
    client, kam, agreement, pump
):
    _login(client, kam)
    url = reverse("pricing:agreement_terms", args=[agreement.pk])
    response = client.post(
        url,
        _terms_post(agreement, prices=[{"product": pump.pk, "min_quantity": 1, "unit_price": "-5"}],
                    discounts=[{"target": "", "percent": "5"}]),
    )  # fmt: skip
    assert response.status_code == 422
    forms = response.context["terms"]
    assert forms.prices.forms[0].errors["unit_price"]
    assert forms.discounts.forms[0].errors["target"]
    assert not AgreementPrice.objects.exists()


def test_terms_form_stale_version_is_refused(client, kam, agreement, pump):
    _login(client, kam)
    stale = _terms_post(
        agreement, prices=[{"product": pump.pk, "min_quantity": 1, "unit_price": "1"}]
    )
    agreement_set_terms(actor=kam, agreement=agreement, prices=[], discounts=[
        {"product": pump.pk, "percent": 2}])  # fmt: skip
    response = client.post(reverse("pricing:agreement_terms", args=[agreement.pk]), stale)
    assert response.status_code == 422
    assert response.context["terms"].service_errors
    assert not AgreementPrice.objects.exists()


def test_more_rows_adds_blank_rows_and_saves_nothing(client, kam, agreement, pump):
    _login(client, kam)
    response = client.post(
        reverse("pricing:agreement_terms", args=[agreement.pk]),
        _terms_post(agreement, prices=[{"product": pump.pk, "min_quantity": 1,
                                        "unit_price": "1000"}], more_rows="1"),
    )  # fmt: skip
    assert response.status_code == 200
    assert len(response.context["terms"].prices.forms) == 4
    assert 'value="1000"' in response.content.decode()
    assert not AgreementPrice.objects.exists()


def test_account_page_lists_agreements_and_offers_add(client, kam, support, account, agreement):
    page = _login(client, kam).get(reverse("accounts:detail", args=[account.pk]))
    text = page.content.decode()
    assert "今年度 取引条件" in text
    assert reverse("pricing:agreement_create", args=[account.pk]) in text
    page = _login(client, support).get(reverse("accounts:detail", args=[account.pk]))
    assert reverse("pricing:agreement_create", args=[account.pk]) not in page.content.decode()


def _agreement_form(**data):
    base = {"name": "来年度 取引条件", "currency": "JPY", "valid_from": "2031-04-01",
            "valid_to": "2032-03-31", "closing_day": "0", "payment_month_offset": "1",
            "payment_day": "0", "business_day_rule": "previous", "notes": ""}  # fmt: skip
    return base | data


def test_create_from_the_account_and_edit(client, kam, account):
    _login(client, kam)
    response = client.post(
        reverse("pricing:agreement_create", args=[account.pk]), _agreement_form()
    )
    assert response.status_code == 302
    created = Agreement.objects.get(name="来年度 取引条件")
    assert created.business_day_rule == "previous"
    assert AuditEvent.objects.filter(action="pricing.agreement.created").exists()
    edit = reverse("pricing:agreement_edit", args=[created.pk])
    assert client.get(edit).status_code == 200
    response = client.post(edit, _agreement_form(version=created.version, closing_day="15",
                                                 payment_month_offset="0"))  # fmt: skip
    assert response.status_code == 302
    created.refresh_from_db()
    assert (created.closing_day, created.payment_month_offset, created.payment_day) == (15, 0, 0)


def test_overlap_and_stale_edits_are_refused_next_to_the_field(client, kam, account, agreement):
    _login(client, kam)
    today = timezone.localdate()
    response = client.post(
        reverse("pricing:agreement_create", args=[account.pk]),
        _agreement_form(valid_from=today.isoformat(), valid_to=""),
    )
    assert response.status_code == 422
    assert "overlaps" in " ".join(response.context["form"].errors["valid_from"])
    assert Agreement.objects.count() == 1
    edit = reverse("pricing:agreement_edit", args=[agreement.pk])
    response = client.post(edit, _agreement_form(version=agreement.version + 5))
    assert response.status_code == 422
    agreement.refresh_from_db()
    assert agreement.name == "今年度 取引条件"


def test_paying_before_the_closing_in_the_same_month_is_refused(client, kam, account):
    _login(client, kam)
    response = client.post(
        reverse("pricing:agreement_create", args=[account.pk]),
        _agreement_form(closing_day="20", payment_month_offset="0", payment_day="10"),
    )
    assert response.status_code == 422
    assert response.context["form"].errors["payment_day"]
    assert not Agreement.objects.exists()


def test_terms_beyond_authority_are_sent_for_approval_and_shown_as_waiting(
    client, kam, head, agreement, pump, kam_authority
):
    _login(client, kam)
    response = client.post(
        reverse("pricing:agreement_terms", args=[agreement.pk]),
        _terms_post(agreement, prices=[{"product": pump.pk, "min_quantity": 1,
                                        "unit_price": "196,000"}]),  # 30% off
    )  # fmt: skip
    assert response.status_code == 302
    assert not AgreementPrice.objects.exists()  # not in force yet
    request = ApprovalRequest.objects.get(agreement=agreement)
    assert request.reason == "年間契約"
    page = client.get(reverse("pricing:agreement_detail", args=[agreement.pk]))
    text = page.content.decode()
    assert f"request #{request.pk}" in text
    assert str(head) in text  # waiting for the head of sales
