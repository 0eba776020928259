# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""Invoice pages: the searchable list, the detail with payments, corrections and credit notes,
issuing from an order and for a closing period, the PDF and the e-mail."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD
from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    contact,
)
from tests.orders.test_invoices import deliver, make_order
from tokui.orders import invoices as inv
from tokui.orders.constants import InvoiceKind, InvoiceStatus
from tokui.orders.models import Invoice, Payment

D = Decimal
DAY = datetime.date(2026, 11, 5)


def login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def as_kam(client, kam):
    return login(client, kam)


@pytest.fixture
def invoice(kam, account, company):
    order = make_order(account, kam, [(1000, 3, "standard"), (1234, 2, "reduced")])
    deliver(order, DAY)
    return inv.invoice_issue(
        actor=kam, account=account, orders=[order], issued_on=datetime.date(2026, 11, 10)
    )


def _numbers(answer):
    page = answer.content.decode()
    return {n for n in Invoice.objects.values_list("number", flat=True) if n in page}


def test_list_searches_by_amount_date_and_counterparty(
    as_kam, kam, account, company, invoice, make_account
):
    other = make_account(kam, name="ｶﾌﾞｼｷｶﾞｲｼｬ ＡＢＣ物産", name_kana="エービーシーブッサン")
    order = make_order(other, kam, [(50_000, 1, "standard")])
    deliver(order, DAY)
    big = inv.invoice_issue(
        actor=kam, account=other, orders=[order], issued_on=datetime.date(2026, 11, 20)
    )
    url = reverse("orders:invoice_index")
    both = {invoice.number, big.number}
    assert _numbers(as_kam.get(url)) == both
    assert _numbers(as_kam.get(url, {"amount_min": "10000"})) == {big.number}
    assert _numbers(as_kam.get(url, {"amount_max": "10000"})) == {invoice.number}
    assert _numbers(as_kam.get(url, {"date_from": "2026-11-15"})) == {big.number}
    assert _numbers(as_kam.get(url, {"date_to": "2026-11-15"})) == {invoice.number}
    # Width- and kana-insensitive, like the account search.
    assert _numbers(as_kam.get(url, {"q": "abc"})) == {big.number}
    assert _numbers(as_kam.get(url, {"q": "かぶしき"})) == {big.number}
    assert _numbers(as_kam.get(url, {"q": "やまだ"})) == {invoice.number}
    assert _numbers(as_kam.get(url, {"q": "山田商事"})) == {invoice.number}
    assert _numbers(as_kam.get(url, {"q": big.number})) == {big.number}
    assert _numbers(as_kam.get(url, {"kind": "credit_note"})) == set()
    # htmx: only the results.
    partial = as_kam.get(url, {"q": "abc"}, headers={"HX-Request": "true"}).content.decode()
    assert 'id="results"' in partial and "<nav" not in partial.split('id="results"')[0]
    assert "No invoices match" in as_kam.get(url, {"q": "zzzz"}).content.decode()
    # Bad filter values are ignored, not a 500.
    assert as_kam.get(url, {"amount_min": "lots", "date_from": "soon"}).status_code == 200


def test_overdue_only_and_shown_in_red(as_kam, invoice):
    url = reverse("orders:invoice_index")
    page = as_kam.get(url, {"overdue": "on"})
    # Issued 2026-11-10 and due by early 2027: overdue only once today passes the due date.
    if invoice.due_on < timezone.localdate():
        assert invoice.number in page.content.decode()
        assert "badge-overdue" in page.content.decode()
    else:
        assert invoice.number not in page.content.decode()
    Invoice.objects.filter(pk=invoice.pk).update(due_on=datetime.date(2026, 1, 1))
    page = as_kam.get(url, {"overdue": "on"}).content.decode()
    assert invoice.number in page and "badge-overdue" in page


def test_strangers_see_nothing_support_reads(client, invoice, west_am, support):
    detail = reverse("orders:invoice_detail", args=[invoice.pk])
    login(client, west_am)
    assert invoice.number not in client.get(reverse("orders:invoice_index")).content.decode()
    assert client.get(detail).status_code == 404
    assert client.get(reverse("orders:invoice_pdf", args=[invoice.pk])).status_code == 404
    client.logout()
    login(client, support)
    page = client.get(detail)
    assert page.status_code == 200 and "Record the payment" not in page.content.decode()
    pay = reverse("orders:invoice_payment", args=[invoice.pk])
    answer = client.post(pay, {"paid_on": "2026-11-20", "amount": "100", "method": "transfer"})
    assert answer.status_code == 403 and not Payment.objects.exists()
    email = reverse("orders:invoice_email", args=[invoice.pk])
    assert client.get(email).status_code == 403


def test_detail_shows_the_printed_invoice(as_kam, invoice, company):
    page = as_kam.get(reverse("orders:invoice_detail", args=[invoice.pk])).content.decode()
    assert "株式会社山田商事 御中" in page
    assert company.registration_number in page
    assert "10% taxable" in page and "8% tax" in page
    assert "never changed" in page
    pdf = as_kam.get(reverse("orders:invoice_pdf", args=[invoice.pk]), {"lang": "en"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "Invoice_" in pdf["Content-Disposition"]


def test_payment_form_and_overpayment_refused_next_to_the_field(as_kam, invoice):
    url = reverse("orders:invoice_payment", args=[invoice.pk])
    too_much = str(invoice.total + 1)
    answer = as_kam.post(
        url, {"key": "k1", "paid_on": "2026-11-20", "amount": too_much, "method": "transfer"}
    )
    assert answer.status_code == 422
    page = answer.content.decode()
    assert "more than is still owed" in page and 'id="id_amount_error"' in page
    assert not Payment.objects.exists()
    data = {"key": "k2", "paid_on": "2026-11-20", "amount": "1000", "method": "transfer"}
    assert as_kam.post(url, data).status_code == 302
    assert as_kam.post(url, data).status_code == 302  # a second click: nothing more
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID and invoice.paid == D(1000)


def test_correction_makes_a_new_invoice_and_the_old_says_corrected_by(as_kam, invoice):
    url = reverse("orders:invoice_correction", args=[invoice.pk])
    answer = as_kam.post(url, {"key": "c1", "line_1": "2", "reason": "数量誤り"})
    assert answer.status_code == 302
    new = Invoice.objects.get(corrects=invoice, kind=InvoiceKind.INVOICE)
    assert answer["Location"] == reverse("orders:invoice_detail", args=[new.pk])
    assert new.lines.get(position=1).quantity == 2
    old_page = as_kam.get(reverse("orders:invoice_detail", args=[invoice.pk])).content.decode()
    assert "Corrected by" in old_page and new.number in old_page
    new_page = as_kam.get(answer["Location"]).content.decode()
    assert "Corrects" in new_page and invoice.number in new_page
    # A quantity above what was delivered: refused next to the line.
    again = as_kam.post(
        reverse("orders:invoice_correction", args=[new.pk]),
        {"key": "c2", "line_1": "9", "reason": "x"},
    )
    assert again.status_code == 422 and 'id="id_line_1_error"' in again.content.decode()


def test_credit_note_for_returns(as_kam, invoice):
    url = reverse("orders:invoice_credit_note", args=[invoice.pk])
    answer = as_kam.post(url, {"key": "r1", "line_2": "1", "reason": "破損"})
    assert answer.status_code == 302
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert note.lines.get().quantity == -1
    page = as_kam.get(reverse("orders:invoice_detail", args=[invoice.pk])).content.decode()
    assert note.number in page


def test_issue_from_order_happy_path_and_refusal(as_kam, kam, account, company):
    order = make_order(account, kam, [(1000, 2, "standard")])
    url = reverse("orders:invoice_issue_order", args=[order.pk])
    refused = as_kam.post(url, {"key": "o1"})
    assert refused.status_code == 302
    assert refused["Location"] == reverse("orders:order_detail", args=[order.pk])
    assert not Invoice.objects.exists()
    deliver(order, DAY)
    answer = as_kam.post(url, {"key": "o2"})
    invoice = Invoice.objects.get()
    assert answer["Location"] == reverse("orders:invoice_detail", args=[invoice.pk])
    assert as_kam.post(url, {"key": "o2"})["Location"] == answer["Location"]
    assert Invoice.objects.count() == 1
    assert as_kam.get(url).status_code == 405


def test_support_cannot_issue_from_an_order(client, support, kam, account, company):
    order = make_order(account, kam, [(1000, 2, "standard")])
    deliver(order, DAY)
    login(client, support)
    answer = client.post(reverse("orders:invoice_issue_order", args=[order.pk]))
    assert answer.status_code == 403 and not Invoice.objects.exists()


def test_closing_period_preview_then_issue(as_kam, kam, account, company):
    order = make_order(account, kam, [(1000, 2, "standard")])
    deliver(order, datetime.date(2026, 10, 20))
    url = reverse("orders:invoice_issue_period", args=[account.pk])
    assert as_kam.get(url).status_code == 200
    preview = as_kam.get(url, {"period_end": "2026-10-31", "language": "ja"})
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Issue the invoice" in page and "SKU-1" in page
    assert not Invoice.objects.exists()  # the preview issues nothing
    answer = as_kam.post(
        url, {"period_end": "2026-10-31", "language": "ja", "key": "p1", "confirm": "1"}
    )
    assert answer.status_code == 302
    invoice = Invoice.objects.get()
    assert invoice.period_end == datetime.date(2026, 10, 31)
    wrong = as_kam.get(url, {"period_end": "2026-10-15", "language": "ja"})
    assert "not a closing day" in wrong.content.decode()
