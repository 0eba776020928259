from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class QuoteStatus(models.TextChoices):
    """Where a quote (見積書) stands. A revision supersedes the version it revises."""

    DRAFT = "draft", pgettext_lazy("quote status", "Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    APPROVED = "approved", pgettext_lazy("quote status", "Ready to send")
    SENT = "sent", pgettext_lazy("quote status", "Sent")
    ACCEPTED = "accepted", pgettext_lazy("quote status", "Accepted")
    DECLINED = "declined", pgettext_lazy("quote status", "Declined")
    SUPERSEDED = "superseded", _("Superseded by a revision")
    WITHDRAWN = "withdrawn", pgettext_lazy("quote status", "Withdrawn")


# A quote in these statuses can still be edited; afterwards only a revision changes it.
EDITABLE_QUOTE_STATUSES = frozenset({QuoteStatus.DRAFT})
# Statuses in which a quote is still "live" (not replaced, not finished).
OPEN_QUOTE_STATUSES = frozenset(
    {QuoteStatus.DRAFT, QuoteStatus.AWAITING_APPROVAL, QuoteStatus.APPROVED, QuoteStatus.SENT}
)


class DocumentLanguage(models.TextChoices):
    JA = "ja", _("Japanese")
    EN = "en", _("English")


class Honorific(models.TextChoices):
    """How the addressee is written on a document: 御中 for an organisation, 様 for a person."""

    ONCHU = "onchu", _("御中 (company or department)")
    SAMA = "sama", _("様 (named person)")


class OrderSource(models.TextChoices):
    QUOTE = "quote", _("From a quote")
    DEAL = "deal", _("From a won deal")
    MANUAL = "manual", _("Entered by hand")
    API = "api", _("Posted by the customer's system")
    IMPORT = "import", _("Imported from a file")


class OrderStatus(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("order status", "Received")
    CONFIRMED = "confirmed", pgettext_lazy("order status", "Confirmed")
    IN_FULFILMENT = "in_fulfilment", _("In fulfilment")
    PARTIALLY_DELIVERED = "partially_delivered", _("Partially delivered")
    DELIVERED = "delivered", pgettext_lazy("order status", "Delivered")
    INVOICED = "invoiced", pgettext_lazy("order status", "Invoiced")
    PAID = "paid", pgettext_lazy("order status", "Paid")
    CANCELLED = "cancelled", pgettext_lazy("order status", "Cancelled")


class DeliveryStatus(models.TextChoices):
    SHIPPED = "shipped", pgettext_lazy("delivery status", "Shipped")
    DELIVERED = "delivered", pgettext_lazy("delivery status", "Delivered")


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceStatus(models.TextChoices):
    ISSUED = "issued", pgettext_lazy("invoice status", "Issued")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", pgettext_lazy("invoice status", "Paid")
    CORRECTED = "corrected", _("Replaced by a correction")


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    BILL = "bill", _("Promissory note or electronic bill")
    CASH = "cash", _("Cash")
    OFFSET = "offset", _("Offset")
    OTHER = "other", pgettext_lazy("payment method", "Other")
