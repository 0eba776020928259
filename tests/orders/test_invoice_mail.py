# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""Sending an invoice by e-mail: the PDF attached, on the account's timeline, audited."""

import datetime

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    contact,
)
from tests.orders.test_invoices import deliver, make_order
from tokui.accounts.models import account_scope
from tokui.activities.models import Interaction
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.orders import invoices as inv
from tokui.orders.invoice_mail import invoice_email_defaults, invoice_email_send


@pytest.fixture
def invoice(kam, account, contact, company):
    order = make_order(account, kam, [(1000, 3, "standard")])
    deliver(order, datetime.date(2026, 11, 5))
    return inv.invoice_issue(actor=kam, account=account, orders=[order], contact=contact)


def test_send_attaches_the_pdf_and_lands_on_the_timeline(
    kam, account, contact, invoice, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        interaction = invoice_email_send(
            actor=kam, invoice=invoice, to=contact, subject="", body="", language="ja"
        )
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [contact.email] and "請求書" in mail.subject
    name, content, _type = mail.attachments[0]
    assert name.endswith(".pdf") and content[:4] == b"%PDF"
    assert Interaction.objects.filter(pk=interaction.pk, account=account).exists()
    assert AuditEvent.objects.filter(
        action="orders.invoice.sent", scope=account_scope(account.pk)
    ).exists()


def test_english_defaults_and_refusals(kam, support, invoice, make_account, make_contact):
    subject, body = invoice_email_defaults(invoice=invoice, sender=kam, language="en")
    assert subject.startswith("Invoice ") and "Payment due" in body
    subject, body = invoice_email_defaults(invoice=invoice, sender=kam)
    assert "ご請求金額" in body and "お支払期限" in body
    with pytest.raises(PermissionDenied):
        invoice_email_send(
            actor=support,
            invoice=invoice,
            to=invoice.contact_id,
            subject="s",
            body="b",
            language="ja",
        )
    stranger = make_contact(make_account(kam), email="x@example.com")
    with pytest.raises(ApplicationError, match="contact of this account"):
        invoice_email_send(
            actor=kam, invoice=invoice, to=stranger, subject="s", body="b", language="ja"
        )


def test_email_page_prefills_and_sends(
    client, kam, contact, invoice, mailoutbox, django_capture_on_commit_callbacks
):
    client.login(username=kam.username, password=PASSWORD)
    url = reverse("orders:invoice_email", args=[invoice.pk])
    page = client.get(url).content.decode()
    assert contact.email in page and "請求書のご送付" in page
    assert "Invoice " in client.get(url, {"lang": "en"}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            url,
            {"to": contact.pk, "language": "en", "subject": "Invoice", "body": "{honorific_name}"},
        )
    assert answer.status_code == 302
    assert len(mailoutbox) == 1 and mailoutbox[0].attachments[0][0].startswith("Invoice_")
    bad = client.post(url, {"to": contact.pk, "language": "ja", "subject": "a\nb", "body": "x"})
    assert bad.status_code == 422
