# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""The invoice PDF (請求書（適格請求書）) in Japanese and English, and the credit note's."""

import datetime
import os
import subprocess
from decimal import Decimal

import pytest

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    contact,
    make_product,
    pump_line,
)
from tests.orders.test_invoices import deliver, make_order
from tokui.orders import invoices as inv

D = Decimal
DAY = datetime.date(2026, 11, 10)


def _text(pdf: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return "".join(done.stdout.decode().split())


def _keep(pdf: bytes, name: str) -> None:
    """INVOICE_PDF_DIR=/tmp/x keeps the PDFs to look at (pdftoppm -png -r 70)."""
    folder = os.environ.get("INVOICE_PDF_DIR")
    if folder:
        with open(os.path.join(folder, name), "wb") as out:
            out.write(pdf)


@pytest.fixture
def invoice(kam, account, contact, company):
    company.bank_account = "三菱UFJ銀行 丸の内支店 普通 1234567 カ）トクイシヨウジ"
    company.save()
    order = make_order(account, kam, [(1000, 3, "standard"), (1234, 2, "reduced")])
    deliver(order, datetime.date(2026, 11, 5))
    return inv.invoice_issue(
        actor=kam, account=account, orders=[order], contact=contact, issued_on=DAY
    )


def test_japanese_invoice_pdf(invoice, company):
    pdf = inv.invoice_pdf(invoice)
    _keep(pdf, "invoice-ja.pdf")
    text = _text(pdf)
    for expected in (
        "請求書",
        "（適格請求書）",
        "株式会社山田商事",
        "山田太郎様",
        "2026年11月10日",
        "INV-2026-00001",
        f"登録番号:{company.registration_number}",
        "品目2※",
        "10%対象¥3,000",
        "消費税¥300",
        "8%対象¥2,468",
        "消費税¥197",
        "合計（税込）¥5,965",
        "お振込先",
        "普通1234567",
        "※印は軽減税率（8%）対象です。",
        "お支払期限",
    ):
        assert expected in text, expected
    assert "御中" not in text  # 様 with a person, never both
    assert inv.invoice_filename(invoice) == "請求書_INV-2026-00001.pdf"


def test_english_invoice_pdf(kam, account, company):
    order = make_order(account, kam, [(1000, 1, "standard")])
    deliver(order, DAY)
    invoice = inv.invoice_issue(
        actor=kam, account=account, orders=[order], language="en", issued_on=DAY
    )
    pdf = inv.invoice_pdf(invoice)
    _keep(pdf, "invoice-en.pdf")
    text = _text(pdf)
    for expected in (
        "Invoice",
        "(QualifiedInvoice)",
        "TokuiShojiCo.,Ltd.",
        "10November2026",
        "Taxableat10%¥1,000",
        "Total(incl.tax)¥1,100",
        f"RegistrationNo.:{company.registration_number}",
        "Paymentdue",
    ):
        assert expected in text, expected
    assert inv.invoice_filename(invoice) == "Invoice_INV-2026-00001.pdf"


def test_credit_note_and_correction_pdfs(kam, invoice):
    # A correction first (an invoice with credit notes is not replaced), then returns on it.
    new = inv.invoice_correct(actor=kam, invoice=invoice, quantities={1: 2})
    text = _text(inv.invoice_pdf(new))
    assert "本書はINV-2026-00001を訂正するものです。" in text
    note = inv.credit_note_issue(actor=kam, invoice=new, lines={2: 1}, reason="破損")
    pdf = inv.invoice_pdf(note)
    _keep(pdf, "credit-note-ja.pdf")
    text = _text(pdf)
    assert "返品・値引の請求書" in text
    assert "INV-2026-00002に対する返品・値引です。" in text
    assert "合計（税込）-¥1,332" in text
    assert "8%対象-¥1,234" in text and "消費税-¥98" in text
    assert "10%対象" not in text
