"""Sending an invoice (or credit note) by e-mail from Tokui, its PDF attached.

Like the quote's mail (``tokui.orders.quotes.quote_email_send``): the mail is recorded on the
account's timeline as an outbound e-mail interaction and delivered after commit
(``tokui.activities.mail.outbound``); the invoice itself never changes (it is immutable once
issued), the sending is audited as ``orders.invoice.sent`` in the account's scope.
"""

import copy

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from tokui.accounts.models import Contact, account_scope
from tokui.activities.mail.outbound import email_send
from tokui.activities.models import Interaction
from tokui.core.audit import audit_record
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.money import format_money
from tokui.orders.company import company_profile_get
from tokui.orders.constants import DocumentLanguage, InvoiceKind
from tokui.orders.invoices import invoice_date_text, invoice_filename, invoice_get, invoice_pdf
from tokui.orders.models import Invoice
from tokui.users.models import User


def _safe(text: str) -> str:
    # The mail's text goes through the template placeholders ({name}): keep braces literal.
    return text.replace("{", "｛").replace("}", "｝")


def invoice_in_language(invoice: Invoice, language: str | None) -> Invoice:
    """The invoice as printed in ``language`` (an unsaved copy: the invoice is not changed)."""
    if not language or language == invoice.language or language not in DocumentLanguage.values:
        return invoice
    printed = copy.copy(invoice)
    printed.language = language
    return printed


def invoice_email_recipients(invoice: Invoice) -> list[Contact]:
    """The account's current contacts with an e-mail address, the invoice's contact first."""
    contacts = list(
        Contact.objects.filter(account_id=invoice.account_id, archived_at=None)
        .exclude(email="")
        .order_by("sort_key", "pk")
    )
    contacts.sort(key=lambda c: c.pk != invoice.contact_id)
    return contacts


def invoice_email_defaults(
    *, invoice: Invoice, sender: User, language: str | None = None
) -> tuple[str, str]:
    """The subject and text of the invoice's mail, in ``language`` (default: the invoice's)."""
    language = language if language in DocumentLanguage.values else invoice.language
    english = language == DocumentLanguage.EN
    company = company_profile_get()
    credit = invoice.kind == InvoiceKind.CREDIT_NOTE
    total = format_money(invoice.total, invoice.currency)
    due = invoice_date_text(invoice.due_on, english)
    number = invoice.number
    if english:
        what = "credit note" if credit else "invoice"
        subject = f"{'Credit note' if credit else 'Invoice'} {number}"
        lines = [
            "Dear {honorific_name},",
            "",
            f"Thank you for your business. Please find attached our {what} {number}.",
            f"Amount: {total} (incl. consumption tax)",
        ]
        if not credit:
            lines.append(f"Payment due: {due}")
        lines += [
            "",
            "Please do not hesitate to contact us with any questions.",
            "",
            "Best regards,",
            "{sender_name}",
        ]
        if company.name:
            lines.append(_safe(company.name_en or company.name))
        return subject, "\n".join(lines)
    title = "返品・値引の請求書" if credit else "請求書"
    subject = f"{title}のご送付（{number}）"
    lines = [
        "{account_name}",
        "{honorific_name}",
        "",
        "いつもお世話になっております。",
        (f"{_safe(company.name)}の" if company.name else "") + "{sender_name}でございます。",
        "",
        f"{title}（{number}）をお送りいたします。",
        "添付のPDFをご確認くださいますよう、お願い申し上げます。",
        f"{'返金・相殺額' if credit else 'ご請求金額'}：{total}（税込）",
    ]
    if not credit:
        lines.append(f"お支払期限：{due}")
    lines += [
        "",
        "ご不明な点がございましたら、お気軽にお問い合わせください。",
        "今後ともよろしくお願いいたします。",
        "",
        "{sender_name}",
    ]
    return subject, "\n".join(lines)


@transaction.atomic
def invoice_email_send(
    *,
    actor: User,
    invoice: Invoice | int,
    to: Contact | int,
    subject: str = "",
    body: str = "",
    language: str | None = None,
) -> Interaction:
    """E-mail the invoice's PDF (in ``language``, default the invoice's) to ``to``, a contact
    of the invoice's account. Refused: support staff, a contact of another account or without
    an e-mail address, an archived account."""
    if not actor.is_active or not actor.may_edit_accounts:
        raise PermissionDenied(_("Your role can read invoices but not send them."))
    invoice_id = invoice.pk if isinstance(invoice, Invoice) else invoice
    found = invoice_get(viewer=actor, invoice_id=invoice_id)
    if language and language not in DocumentLanguage.values:
        raise ApplicationError(_("Choose Japanese or English."), field="language", status=422)
    language = language or found.language
    contact_id = to.pk if isinstance(to, Contact) else to
    contact = Contact.objects.filter(
        pk=contact_id, account_id=found.account_id, archived_at=None
    ).first()
    if contact is None:
        raise ApplicationError(_("Choose a contact of this account."), field="to", status=422)
    default_subject, default_body = invoice_email_defaults(
        invoice=found, sender=actor, language=language
    )
    printed = invoice_in_language(found, language)
    attachment = ContentFile(invoice_pdf(printed), name=invoice_filename(printed))
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
        action="orders.invoice.sent",
        target=found,
        scope=account_scope(found.account_id),
        note=f"{found.number} → {contact.email}",
    )
    return interaction
