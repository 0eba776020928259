# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""Quote pages: list, detail with actions, the lines editor without JavaScript, e-mail,
company settings, the account page's section."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD
from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    contact,
    food,
    limits,
    line,
    make_product,
    pump,
    pump_line,
)
from tokui.orders.constants import QuoteStatus
from tokui.orders.models import CompanyProfile, Quote
from tokui.orders.quotes import quote_create, quote_issue

D = Decimal


@pytest.fixture
def as_kam(client, kam):
    client.login(username=kam.username, password=PASSWORD)
    return client


def _lines(rows, total=3):
    data = {"lines-TOTAL_FORMS": str(total), "lines-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"lines-{i}-{key}"] = value
    return data


def test_make_a_quote_from_the_form(as_kam, account, contact, pump, food):
    url = reverse("orders:quote_create", args=[account.pk])
    assert as_kam.get(url).status_code == 200
    data = {
        "title": "ポンプ更新", "contact": contact.pk, "issued_on": "2026-01-05",
        "language": "ja", **_lines([{"product": pump.pk, "quantity": "2"},
                                    {"product": food.pk, "quantity": "10", "unit_price": "1,000"}]),
    }  # fmt: skip
    data["issued_on"] = timezone.localdate().isoformat()
    answer = as_kam.post(url, data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    quote = Quote.objects.get()
    assert quote.lines.count() == 2 and quote.lines.get(position=2).unit_price == D(1000)
    page = as_kam.get(answer["Location"])
    assert "How the price was found" in page.content.decode()


def test_bad_lines_show_next_to_the_row_and_add_lines_saves_nothing(as_kam, account, pump):
    url = reverse("orders:quote_create", args=[account.pk])
    data = {"title": "t", "issued_on": "2026-01-05", "language": "ja",
            **_lines([{"product": pump.pk, "quantity": "1", "unit_price": "999999"}])}  # fmt: skip
    data["issued_on"] = timezone.localdate().isoformat()
    answer = as_kam.post(url, data)
    assert answer.status_code == 422
    assert "above the price found" in answer.content.decode()
    more = as_kam.post(url, {**data, "more_rows": "1"})
    assert more.status_code == 200 and more.content.decode().count('name="lines-5-product"') == 1
    assert not Quote.objects.exists()


def test_detail_actions_issue_and_accept(as_kam, kam, account, pump, limits, company):
    quote = quote_create(actor=kam, account=account, title="t", lines=[line(pump)])
    detail = reverse("orders:quote_detail", args=[quote.pk])
    assert "Issue the quote" in as_kam.get(detail).content.decode()
    answer = as_kam.post(reverse("orders:quote_action", args=[quote.pk, "issue"]), {"version": 1})
    assert answer.status_code == 302
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED
    stale = as_kam.post(reverse("orders:quote_action", args=[quote.pk, "accept"]), {"version": 1})
    assert stale.status_code == 409 and "Nothing was changed" in stale.content.decode()
    as_kam.post(
        reverse("orders:quote_action", args=[quote.pk, "accept"]), {"version": quote.version}
    )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    pdf = as_kam.get(reverse("orders:quote_pdf", args=[quote.pk]))
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"


def test_list_filters_and_the_account_section(as_kam, kam, account, pump, limits):
    quote_issue(
        actor=kam,
        quote=quote_create(actor=kam, account=account, title="送付前", lines=[line(pump)]),
    )
    quote_create(actor=kam, account=account, title="下書き", lines=[line(pump)])
    page = as_kam.get(reverse("orders:quote_index"), {"status": "approved"}).content.decode()
    assert "送付前" in page and "下書き" not in page
    account_page = as_kam.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "New quote" in account_page and "下書き" in account_page


def test_email_page_sends_and_marks_sent(
    as_kam, kam, account, contact, pump, limits, company, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    quote = quote_issue(actor=kam, quote=quote_create(
        actor=kam, account=account, contact=contact, title="t", lines=[line(pump)]))  # fmt: skip
    url = reverse("orders:quote_email", args=[quote.pk])
    assert "御見積書" in as_kam.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        body = "{honorific_name}\nご確認ください。"
        answer = as_kam.post(url, {"subject": "御見積書", "body": body, "version": quote.version})
    assert answer.status_code == 302
    assert len(mailoutbox) == 1 and mailoutbox[0].attachments
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT


def test_only_admins_change_the_company(client, kam, admin_user):
    from tests.conftest import valid_corporate_number

    client.login(username=kam.username, password=PASSWORD)
    url = reverse("orders:company_settings")
    assert client.get(url).status_code == 200
    assert client.post(url, {"name": "x", "quote_validity_days": "30"}).status_code == 403
    client.login(username=admin_user.username, password=PASSWORD)
    bad = client.post(url, {"name": "株式会社得意商事", "registration_number": "T1234567890124",
                            "quote_validity_days": "30"})  # fmt: skip
    assert bad.status_code == 422 and not CompanyProfile.objects.exists()
    number = "T" + valid_corporate_number(123456789012)
    good = client.post(url, {"name": "株式会社得意商事", "registration_number": number,
                             "postal_code": "〒100-0005", "quote_validity_days": "45"})  # fmt: skip
    assert good.status_code == 302
    profile = CompanyProfile.objects.get()
    assert (profile.registration_number, profile.postal_code) == (number, "1000005")
