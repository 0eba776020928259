# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""The quote as a document: the addressee rule, era dates, the PDF in Japanese and English."""

import datetime
import subprocess
from decimal import Decimal

import pytest

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
from tokui.accounts.models import Account
from tokui.catalog.services import product_update
from tokui.core.japanese import japanese_date, japanese_era_date
from tokui.orders.documents import full_legal_name, quote_addressee, quote_pdf
from tokui.orders.models import QuoteLine
from tokui.orders.quotes import quote_create, quote_issue

D = Decimal


def _text(pdf: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    # Letter-spaced titles (御 見 積 書) and table layout: compare without white space.
    return "".join(done.stdout.decode().split())


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (datetime.date(2026, 11, 28), "令和8年11月28日"),
        (datetime.date(2019, 5, 1), "令和元年5月1日"),
        (datetime.date(2019, 4, 30), "平成31年4月30日"),
        (datetime.date(1989, 1, 8), "平成元年1月8日"),
        (datetime.date(1989, 1, 7), "昭和64年1月7日"),
        (datetime.date(1850, 1, 1), "1850年1月1日"),
    ],
)
def test_japanese_era_dates(day, text):
    assert japanese_era_date(day) == text
    assert japanese_date(day) == f"{day.year}年{day.month}月{day.day}日"
    assert japanese_date(day, era=True) == text


@pytest.mark.parametrize(
    ("name", "form", "position", "legal"),
    [
        ("株式会社山田商事", "", "", "株式会社山田商事"),
        ("山田商事株式会社", "", "", "山田商事株式会社"),
        ("㈱山田商事", "", "", "株式会社山田商事"),
        ("山田商事(株)", "", "", "山田商事株式会社"),
        ("山田商事", "株式会社", "after", "山田商事株式会社"),
        ("山田商事", "合同会社", "before", "合同会社山田商事"),
        ("Contoso", "Co., Ltd.", "after", "Contoso Co., Ltd."),
    ],
)
def test_the_full_legal_name_writes_the_legal_form_out(name, form, position, legal):
    account = Account(name=name, legal_form=form, legal_form_position=position)
    assert full_legal_name(account) == legal


def test_the_addressee_never_has_both_honorifics(kam, account, contact, pump):
    to_person = quote_create(
        actor=kam, account=account, contact=contact, title="t", lines=[line(pump)]
    )
    to_company = quote_create(
        actor=kam, account=account, title="t", lines=[line(pump)], department="購買部"
    )
    bare = quote_create(actor=kam, account=account, title="t", lines=[line(pump)])

    assert quote_addressee(to_person).line == "株式会社山田商事 購買部 山田 太郎 様"
    assert quote_addressee(to_company).line == "株式会社山田商事 購買部 御中"
    assert quote_addressee(bare).line == "株式会社山田商事 御中"
    for quote in (to_person, to_company, bare):
        text = quote_addressee(quote).line
        assert ("様" in text) != ("御中" in text)


def test_english_addresses_the_person_by_attn(kam, account, contact, pump):
    quote = quote_create(
        actor=kam, account=account, contact=contact, title="t", lines=[line(pump)], language="en"
    )
    addressee = quote_addressee(quote)
    assert addressee.person == "Attn: 山田 太郎" and addressee.honorific == ""


def test_the_japanese_pdf(kam, account, contact, pump, food, company, limits, tmp_path):
    quote = quote_create(
        actor=kam,
        account=account,
        contact=contact,
        title="渦巻ポンプ 更新工事",
        lines=[line(pump, 2), line(food, 11)],
        payment_terms="月末締め翌月末払い",
        notes="納期は受注後3週間です。",
        era_dates=True,
    )
    quote = quote_issue(actor=kam, quote=quote)
    pdf = quote_pdf(quote)
    (tmp := tmp_path / "quote-ja.pdf").write_bytes(pdf)
    text = _text(pdf)
    for expected in (
        "御見積書",
        quote.number,
        "令和",
        "株式会社山田商事",
        "購買部 山田 太郎",
        "様",
        "下記の通りお見積り申し上げます。",
        "¥234,659",
        "株式会社得意商事",
        company.registration_number,
        "PMP-100",
        "渦巻ポンプ 100",
        "※",
        "10%対象",
        "8%対象",
        "¥1,085",
        "月末締め翌月末払い",
        "納期は受注後3週間です。",
    ):
        assert expected.replace(" ", "") in text, expected
    assert "御中" not in text
    assert tmp.exists()


def test_the_english_pdf(kam, account, contact, pump, company, tmp_path):
    quote = quote_create(
        actor=kam, account=account, contact=contact, title="Pump renewal", lines=[line(pump, 2)],
        language="en",
    )  # fmt: skip
    pdf = quote_pdf(quote)
    (tmp_path / "quote-en.pdf").write_bytes(pdf)
    text = _text(pdf)
    for expected in ("Quotation", quote.number, "Attn: 山田 太郎", "Tokui Shoji Co., Ltd.",
                     "Registration No.", "Taxable at 10%", "¥220,000", "Valid until"):  # fmt: skip
        assert expected.replace(" ", "") in text, expected
    assert "御見積書" not in text


def test_an_old_quote_prints_after_its_product_is_discontinued_or_gone(
    kam, head, account, pump, company
):
    quote = quote_create(actor=kam, account=account, title="旧見積", lines=[line(pump, 3)])
    product_update(actor=head, product=pump, data={"status": "discontinued"})
    assert "PMP-100" in _text(quote_pdf(quote))

    QuoteLine.objects.filter(quote=quote).update(product=None)
    quote.refresh_from_db()
    text = _text(quote_pdf(quote))
    assert "PMP-100" in text and "渦巻ポンプ100" in text and "¥330,000" in text
