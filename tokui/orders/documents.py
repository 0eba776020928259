"""The quote as a document: its addressee (宛名), dates, labels and the PDF.

The document's language is the quote's own (``Quote.language``), not the reader's: a Japanese
customer gets 御見積書 whoever prints it. So the printed labels are the two fixed sets below
rather than gettext strings.

The addressee rule (宛名): 様 with a named person, 御中 with an organisation — never both::

    株式会社山田商事
    購買部 山田 太郎 様            (a contact)
    株式会社山田商事 購買部 御中    (no contact)

The company's name is its full legal name, the legal form in its place (前株 / 後株), with
abbreviations such as ㈱ or (株) written out: business documents never abbreviate it.
"""

import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import translation

from tokui.accounts.models import Account
from tokui.activities.pdf import render_pdf
from tokui.core.japanese import format_phone, format_postal_code, japanese_date, split_legal_form
from tokui.core.money import format_money
from tokui.orders.company import company_profile_get
from tokui.orders.constants import DocumentLanguage, Honorific
from tokui.orders.models import Quote
from tokui.orders.quotes import quote_totals_of

ENGLISH_UNITS = {
    "個": "pcs",
    "台": "units",
    "箱": "boxes",
    "式": "set",
    "組": "sets",
    "枚": "sheets",
    "本": "pcs",
    "ケース": "cases",
    "kg": "kg",
    "L": "L",
    "m": "m",
    "時間": "hours",
}
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

LABELS = {
    DocumentLanguage.JA: {
        "title": "御見積書",
        "number": "見積番号",
        "date": "発行日",
        "intro": "下記の通りお見積り申し上げます。",
        "subject": "件名",
        "total_box": "御見積金額",
        "incl_tax": "（税込）",
        "valid_until": "有効期限",
        "payment_terms": "お支払条件",
        "delivery_terms": "納期・納入場所",
        "registration": "登録番号",
        "staff": "担当",
        "no": "No.",
        "code": "品番",
        "description": "品名",
        "quantity": "数量",
        "unit": "単位",
        "unit_price": "単価",
        "amount": "金額",
        "subtotal": "小計（税抜）",
        "rate_base": "%(rate)s%%対象",
        "tax": "消費税",
        "total": "合計（税込）",
        "notes": "備考",
        "reduced_note": "※印は軽減税率（8%）対象です。",
        "revision": "第%(n)s版（%(previous)s の改訂）",
        "page": "頁",
        "tel": "TEL",
        "fax": "FAX",
    },
    DocumentLanguage.EN: {
        "title": "Quotation",
        "number": "Quotation No.",
        "date": "Date",
        "intro": "We are pleased to submit our quotation as follows.",
        "subject": "Subject",
        "total_box": "Total amount",
        "incl_tax": "(incl. consumption tax)",
        "valid_until": "Valid until",
        "payment_terms": "Payment terms",
        "delivery_terms": "Delivery",
        "registration": "Registration No.",
        "staff": "Contact",
        "no": "No.",
        "code": "Code",
        "description": "Description",
        "quantity": "Qty",
        "unit": "Unit",
        "unit_price": "Unit price",
        "amount": "Amount",
        "subtotal": "Subtotal (excl. tax)",
        "rate_base": "Taxable at %(rate)s%%",
        "tax": "Consumption tax",
        "total": "Total (incl. tax)",
        "notes": "Notes",
        "reduced_note": "※ Reduced tax rate (8%).",
        "revision": "Revision %(n)s (revises %(previous)s)",
        "page": "Page",
        "tel": "Tel",
        "fax": "Fax",
    },
}


def _is_ascii(text: str) -> bool:
    return all(ord(c) < 128 for c in text)


def full_legal_name(account: Account) -> str:
    """The company's registered name with its legal form, abbreviations written out:
    ``㈱山田商事`` → ``株式会社山田商事``; a name typed without its form gets it back in its
    position (``legal_form`` and ``legal_form_position`` of the account)."""
    name = (account.name or "").strip()
    form, position, core = split_legal_form(name)
    if form:
        if form in unicodedata.normalize("NFKC", name):
            return name
        return _compose(form, position, core)
    if account.legal_form:
        return _compose(account.legal_form, account.legal_form_position or "before", name)
    return name


def _compose(form: str, position: str, core: str) -> str:
    gap = (
        " " if _is_ascii(form) or _is_ascii(core[-1:] if position == "after" else core[:1]) else ""
    )
    if position == "after":
        return f"{core}{gap}{form}"
    return f"{form}{gap}{core}"


@dataclass(frozen=True)
class Addressee:
    company: str  # the full legal name
    department: str
    person: str  # empty when the quote goes to the company
    honorific: str  # "様" or "御中" (Japanese); empty in English

    @property
    def line(self) -> str:
        """All of it on one line: ``株式会社山田商事 購買部 山田 太郎 様``."""
        parts = [self.company, self.department, self.person, self.honorific]
        return " ".join(p for p in parts if p)


def quote_addressee(quote: Quote) -> Addressee:
    """Who the quote is addressed to, by the rule above (English: "Attn: name" or none)."""
    company = full_legal_name(quote.account)
    contact = quote.contact if quote.honorific == Honorific.SAMA else None
    department = quote.addressee_department
    if quote.language == DocumentLanguage.EN:
        company = quote.account.name
        person = f"Attn: {contact.full_name}" if contact is not None else ""
        return Addressee(company=company, department=department, person=person, honorific="")
    if contact is not None:
        return Addressee(
            company=company, department=department, person=contact.full_name, honorific="様"
        )
    return Addressee(company=company, department=department, person="", honorific="御中")


def document_date(day: Any, quote: Quote) -> str:
    if quote.language == DocumentLanguage.EN:
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    return japanese_date(day, era=quote.era_dates)


def _money(amount: Decimal, currency: str) -> str:
    return format_money(amount, currency)


def _rate(rate: Decimal) -> str:
    return f"{rate.normalize():f}"


def quote_document(quote: Quote) -> dict[str, Any]:
    """Everything the PDF template prints, in the quote's language."""
    language = quote.language if quote.language in LABELS else DocumentLanguage.JA
    labels = LABELS[language]  # type: ignore[index]
    english = language == DocumentLanguage.EN
    company = company_profile_get()
    totals = quote_totals_of(quote)
    lines = []
    any_reduced = False
    for line in quote.lines.all():
        reduced = line.tax_category == "reduced"
        any_reduced = any_reduced or reduced
        lines.append(
            {
                "position": line.position,
                "sku": line.sku,
                "description": line.description,
                "quantity": f"{line.quantity:,}",
                "unit": ENGLISH_UNITS.get(line.unit, line.unit) if english else line.unit,
                "unit_price": _money(line.unit_price, quote.currency),
                "amount": _money(line.amount, quote.currency),
                "reduced": reduced,
            }
        )
    rates = [
        {
            "label": labels["rate_base"] % {"rate": _rate(row.rate)},
            "net": _money(row.net, quote.currency),
            "tax": _money(row.tax, quote.currency),
        }
        for row in totals.by_rate
    ]
    revision = ""
    if quote.revision > 1 and quote.previous is not None:
        revision = labels["revision"] % {
            "n": quote.revision,
            "previous": quote.previous.display_number,
        }
    address = company.address_en if english and company.address_en else company.address
    return {
        "quote": quote,
        "ja": not english,
        "lang": language,
        "t": labels,
        "addressee": quote_addressee(quote),
        "date": document_date(quote.issued_on, quote),
        "valid_until": document_date(quote.valid_until, quote),
        "lines": lines,
        "blank_rows": range(max(0, 8 - len(lines))),
        "rates": rates,
        "any_reduced": any_reduced,
        "subtotal": _money(totals.subtotal, quote.currency),
        "tax": _money(totals.tax, quote.currency),
        "total": _money(totals.total, quote.currency),
        "revision": revision,
        "company": company,
        "company_name": (company.name_en or company.name) if english else company.name,
        "company_address": address,
        "company_postal": (
            format_postal_code(company.postal_code).removeprefix("〒" if english else "")
            if company.postal_code
            else ""
        ),
        "company_phone": format_phone(company.phone) if company.phone else "",
        "company_fax": format_phone(company.fax) if company.fax else "",
        "staff": str(quote.owner),
    }


def quote_pdf(quote: Quote) -> bytes:
    """The quote's PDF (A4) in its own language."""
    with translation.override(quote.language):
        return render_pdf("orders/quotes/quote_pdf.html", quote_document(quote))


def quote_filename(quote: Quote) -> str:
    if quote.language == DocumentLanguage.EN:
        return f"Quotation_{quote.display_number}.pdf"
    return f"御見積書_{quote.display_number}.pdf"
