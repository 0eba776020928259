"""The delivery slip (納品書): its document, PDF and e-mail.

A slip goes with the goods: what is in this shipment, of which order, and what is still to
come. It prints NO prices on purpose — it passes through the customer's receiving dock and
warehouse staff, who need quantities, not amounts, and the invoice (請求書) is the one
document that bills (a priced slip would be a second, competing invoice).

The slip's language is chosen when printing (``ja`` or ``en``): an order has no document
language of its own. The addressee follows the quote and invoice rule: 様 with the order's
contact, 御中 with the company, never both; the company's full legal name.
"""

from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.utils import translation
from django.utils.translation import gettext as _

from tokui.accounts.models import account_scope
from tokui.activities.mail.outbound import email_send
from tokui.activities.models import Interaction
from tokui.activities.pdf import render_pdf
from tokui.core.audit import audit_record
from tokui.core.exceptions import ApplicationError
from tokui.core.japanese import format_phone, format_postal_code, japanese_date
from tokui.orders.company import company_profile_get
from tokui.orders.constants import DocumentLanguage
from tokui.orders.documents import ENGLISH_UNITS, MONTHS, Addressee, full_legal_name
from tokui.orders.models import Delivery, DeliveryLine
from tokui.orders.orders import require_editor
from tokui.orders.selectors_orders import delivery_get
from tokui.users.models import User

SLIP_LANGUAGES = (DocumentLanguage.JA, DocumentLanguage.EN)

SLIP_LABELS = {
    DocumentLanguage.JA: {
        "title": "納品書",
        "number": "納品番号",
        "date": "出荷日",
        "order": "受注番号",
        "customer_reference": "御社注文番号",
        "intro": "下記の通り納品いたします。ご査収ください。",
        "deliver_to": "納品先",
        "carrier": "運送会社",
        "tracking": "送り状番号",
        "registration": "登録番号",
        "no": "No.",
        "code": "品番",
        "description": "品名",
        "quantity": "今回納品数",
        "unit": "単位",
        "ordered": "受注数",
        "outstanding": "残数",
        "notes": "備考",
        "tel": "TEL",
        "fax": "FAX",
    },
    DocumentLanguage.EN: {
        "title": "Delivery Note",
        "number": "Delivery No.",
        "date": "Shipped on",
        "order": "Order No.",
        "customer_reference": "Your order No.",
        "intro": "Please find the goods delivered as follows.",
        "deliver_to": "Deliver to",
        "carrier": "Carrier",
        "tracking": "Tracking No.",
        "registration": "Registration No.",
        "no": "No.",
        "code": "Code",
        "description": "Description",
        "quantity": "Delivered",
        "unit": "Unit",
        "ordered": "Ordered",
        "outstanding": "Outstanding",
        "notes": "Notes",
        "tel": "Tel",
        "fax": "Fax",
    },
}


def slip_language(value: Any) -> str:
    """``ja`` or ``en`` (anything else: ``ja``)."""
    return DocumentLanguage.EN if value == DocumentLanguage.EN else DocumentLanguage.JA


def _date(day: Any, english: bool) -> str:
    if day is None:
        return ""
    if english:
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    return japanese_date(day)


def delivery_addressee(delivery: Delivery, language: str) -> Addressee:
    """The buyer: 様 with the order's contact, 御中 without (English: "Attn: name")."""
    order = delivery.order
    contact = order.contact
    if slip_language(language) == DocumentLanguage.EN:
        person = f"Attn: {contact.full_name}" if contact is not None else ""
        department = contact.department if contact is not None else ""
        return Addressee(
            company=order.account.name, department=department, person=person, honorific=""
        )
    company = full_legal_name(order.account)
    if contact is not None:
        return Addressee(
            company=company,
            department=contact.department,
            person=contact.full_name,
            honorific="様",
        )
    return Addressee(company=company, department="", person="", honorific="御中")


@dataclass(frozen=True)
class _Counts:
    ordered: int
    up_to_here: int  # delivered by this delivery and the ones before it


def _counts(delivery: Delivery) -> dict[int, _Counts]:
    """Per order line of this delivery: ordered, and delivered up to this delivery (so a
    reprint of an old slip still says what was outstanding then)."""
    lines = list(delivery.lines.all())
    line_ids = [dl.order_line_id for dl in lines]
    delivered = dict(
        DeliveryLine.objects.filter(order_line_id__in=line_ids, delivery_id__lte=delivery.pk)
        .values_list("order_line_id")
        .annotate(total=Sum("quantity"))
        .values_list("order_line_id", "total")
    )
    return {
        dl.order_line_id: _Counts(
            ordered=dl.order_line.quantity, up_to_here=int(delivered.get(dl.order_line_id) or 0)
        )
        for dl in lines
    }


def delivery_document(delivery: Delivery, language: str) -> dict[str, Any]:
    """Everything the slip prints, in ``language`` (``ja`` or ``en``)."""
    language = slip_language(language)
    english = language == DocumentLanguage.EN
    labels = SLIP_LABELS[language]  # type: ignore[index]
    company = company_profile_get()
    order = delivery.order
    counts = _counts(delivery)
    rows = sorted(delivery.lines.all(), key=lambda dl: dl.order_line.position)
    lines = []
    for dl in rows:
        ol = dl.order_line
        count = counts[ol.pk]
        lines.append(
            {
                "position": ol.position,
                "sku": ol.sku,
                "description": ol.description,
                "quantity": f"{dl.quantity:,}",
                "unit": ENGLISH_UNITS.get(ol.unit, ol.unit) if english else ol.unit,
                "ordered": f"{count.ordered:,}",
                "outstanding": f"{max(0, count.ordered - count.up_to_here):,}",
            }
        )
    address = company.address_en if english and company.address_en else company.address
    return {
        "delivery": delivery,
        "order": order,
        "ja": not english,
        "lang": language,
        "t": labels,
        "addressee": delivery_addressee(delivery, language),
        "date": _date(delivery.shipped_on, english),
        "lines": lines,
        "blank_rows": range(max(0, 8 - len(lines))),
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
    }


def delivery_pdf(delivery: Delivery, language: str = DocumentLanguage.JA) -> bytes:
    """The delivery slip's PDF (A4) in ``language``."""
    language = slip_language(language)
    with translation.override(language):
        return render_pdf(
            "orders/deliveries/delivery_pdf.html", delivery_document(delivery, language)
        )


def delivery_filename(delivery: Delivery, language: str = DocumentLanguage.JA) -> str:
    if slip_language(language) == DocumentLanguage.EN:
        return f"DeliveryNote_{delivery.number}.pdf"
    return f"納品書_{delivery.number}.pdf"


def _safe(text: str) -> str:
    # The mail's text goes through the template placeholders ({name}): keep braces literal.
    return text.replace("{", "｛").replace("}", "｝")


def delivery_email_defaults(*, delivery: Delivery, language: str) -> tuple[str, str]:
    """The subject and text of the slip's mail, in ``language``."""
    company = company_profile_get()
    order = delivery.order
    reference = f" / {order.customer_reference}" if order.customer_reference else ""
    if slip_language(language) == DocumentLanguage.EN:
        subject = f"Delivery note {delivery.number} (order {order.number}{_safe(reference)})"
        body = (
            "Dear {honorific_name},\n\n"
            f"Please find attached the delivery note {delivery.number} for order "
            f"{order.number}{_safe(reference)}, shipped on "
            f"{_date(delivery.shipped_on, True)}.\n\n"
            "Best regards,\n{sender_name}"
            + (f"\n{_safe(company.name_en or company.name)}" if company.name else "")
        )
        return subject, body
    subject = f"納品書のご送付（{delivery.number}）"
    body = (
        "{account_name}\n{honorific_name}\n\n"
        "いつもお世話になっております。\n"
        + (f"{_safe(company.name)}の" if company.name else "")
        + "{sender_name}でございます。\n\n"
        f"ご注文（{order.number}{_safe(reference)}）の納品書（{delivery.number}）を"
        "お送りいたします。\n"
        f"出荷日：{_date(delivery.shipped_on, False)}\n"
        "添付のPDFをご確認くださいますよう、お願い申し上げます。\n\n"
        "今後ともよろしくお願いいたします。\n\n{sender_name}"
    )
    return subject, body


@transaction.atomic
def delivery_email_send(
    *,
    actor: User,
    delivery: Delivery | int,
    language: str = DocumentLanguage.JA,
    subject: str = "",
    body: str = "",
) -> Interaction:
    """E-mail the slip's PDF to the order's contact from Tokui.

    The mail lands on the account's timeline as an outbound e-mail (sent after commit);
    audited ``orders.delivery.sent``. Refused: an order without a contact person.
    """
    require_editor(actor)
    delivery_id = delivery.pk if isinstance(delivery, Delivery) else delivery
    found = delivery_get(viewer=actor, delivery_id=delivery_id)
    contact = found.order.contact
    if contact is None:
        raise ApplicationError(
            _(
                "This order has no contact person to send the delivery slip to: download the "
                "PDF and send it yourself."
            ),
            field="to",
        )
    language = slip_language(language)
    default_subject, default_body = delivery_email_defaults(delivery=found, language=language)
    attachment = ContentFile(delivery_pdf(found, language), name=delivery_filename(found, language))
    interaction = email_send(
        actor=actor,
        contact=contact,
        subject=subject.strip() or default_subject,
        body=body.strip() or default_body,
        language=language,
        attachments=[attachment],
    )
    audit_record(
        actor=actor,
        action="orders.delivery.sent",
        target=found,
        scope=account_scope(found.order.account_id),
        note=contact.email,
    )
    return interaction
