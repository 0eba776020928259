"""Documents of the order side: our company's details, quotes (見積書), orders (受注) and
their deliveries (納品), invoices (適格請求書) and credit notes, payments (入金).

A quote is a document: once it leaves draft its lines do not change; a revision is a new
``Quote`` with the same ``number`` and the next ``revision``, and the old one is kept as
superseded. Lines keep a snapshot of the product (code, name, unit, tax rate) so an old quote
reads the same after the product is renamed or discontinued. Money is ``Decimal`` in the
quote's currency; tax is computed once per quote per rate (10%, 8%), rounded down to the yen.

Quotes made from a deal carry the generic "regarding" link (``activities.Regarding``) to it, so
this app does not depend on the pipeline above it (ARCHITECTURE rule 4).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tokui.accounts.models import Account, Contact
from tokui.activities.models import Regarding
from tokui.catalog.constants import Currency, TaxCategory, Unit
from tokui.catalog.models import Product
from tokui.core.models import VersionedModel
from tokui.orders.constants import (
    DeliveryStatus,
    DocumentLanguage,
    Honorific,
    InvoiceKind,
    InvoiceStatus,
    OrderSource,
    OrderStatus,
    PaymentMethod,
    QuoteStatus,
)


class CompanyProfile(VersionedModel):
    """Our own company as it appears on quotes and invoices (one row, edited by an admin)."""

    name = models.CharField(_("company name"), max_length=200)
    name_en = models.CharField(_("company name (English)"), max_length=200, blank=True)
    registration_number = models.CharField(
        _("invoice registration number"),
        max_length=14,
        blank=True,
        help_text=_("T followed by 13 digits (適格請求書発行事業者登録番号)."),
    )
    postal_code = models.CharField(_("postal code"), max_length=7, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    address_en = models.CharField(_("address (English)"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    fax = models.CharField(_("fax"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    bank_account = models.TextField(_("bank account for payment"), blank=True)
    quote_validity_days = models.PositiveSmallIntegerField(_("quotes valid for (days)"), default=30)

    class Meta:
        verbose_name = _("our company")
        verbose_name_plural = _("our company")

    def __str__(self) -> str:
        return self.name


class Quote(Regarding, VersionedModel):
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="quotes"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("addressed to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
    )
    # The document's addressee as printed: 御中 with the company (and department), or 様 with
    # a named person — never both (the services decide; stored so a reprint matches).
    addressee_department = models.CharField(_("department"), max_length=200, blank=True)
    honorific = models.CharField(
        _("honorific"), max_length=10, choices=Honorific.choices, default=Honorific.ONCHU
    )
    number = models.CharField(_("number"), max_length=30)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("revises"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revised_by",
    )
    title = models.CharField(_("subject"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    issued_on = models.DateField(_("date"))
    valid_until = models.DateField(_("valid until"))
    payment_terms = models.CharField(_("payment terms"), max_length=200, blank=True)
    delivery_terms = models.CharField(_("delivery"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    language = models.CharField(
        _("document language"),
        max_length=2,
        choices=DocumentLanguage.choices,
        default=DocumentLanguage.JA,
    )
    era_dates = models.BooleanField(
        _("Japanese era dates"),
        default=False,
        help_text=_("令和8年11月28日 instead of 2026年11月28日"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT
    )
    subtotal = models.DecimalField(_("subtotal"), max_digits=16, decimal_places=2, default=0)
    tax = models.DecimalField(_("tax"), max_digits=16, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=0)
    approval = models.ForeignKey(
        "pricing.ApprovalRequest",
        verbose_name=_("approval"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    decided_at = models.DateTimeField(_("accepted or declined"), null=True, blank=True)
    decline_reason = models.TextField(_("reason declined"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-issued_on", "-number", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["number", "revision"], name="quote_number_revision"),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("issued_on")),
                name="quote_valid_after_issue",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-issued_on"], name="quote_account_date"),
            models.Index(fields=["regarding_type", "regarding_id"], name="quote_regarding"),
            models.Index(fields=["status", "valid_until"], name="quote_status_valid"),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return self.number if self.revision == 1 else f"{self.number}-{self.revision}"


class QuoteLine(models.Model):
    quote = models.ForeignKey(
        Quote, verbose_name=_("quote"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    # The product may later be discontinued or removed: the line keeps what was quoted.
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quote_lines",
    )
    sku = models.CharField(_("code"), max_length=50, blank=True)
    description = models.CharField(_("description"), max_length=300)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PIECE)
    quantity = models.PositiveIntegerField(_("quantity"))
    list_price = models.DecimalField(_("list price"), max_digits=14, decimal_places=2)
    # What the price engine answered on the quote's date, and what the quote offers (lower
    # than the engine's price only with approval).
    engine_price = models.DecimalField(_("engine price"), max_digits=14, decimal_places=2)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    tax_category = models.CharField(
        _("tax rate"), max_length=10, choices=TaxCategory.choices, default=TaxCategory.STANDARD
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    explanation = models.TextField(_("how the price was found"), blank=True)

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["quote", "position"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "position"], name="quote_line_position"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="quote_line_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity}"


class DocumentCounter(models.Model):
    """The last number used per series and year (Q-2026-0001, SO-2026-00001, …), taken under a
    row lock by ``tokui.orders.numbering``, so numbers never repeat and gaps only come from
    rolled-back transactions."""

    series = models.CharField(_("series"), max_length=10)
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("document counter")
        verbose_name_plural = _("document counters")
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="document_counter_once"),
        ]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last}"


# -- orders (受注) -------------------------------------------------------------------------------


class Order(Regarding, VersionedModel):
    """A customer's order. It comes from an accepted quote (``quote``), a won deal (the
    ``regarding`` link) or directly (entered, posted by a customer's system, imported);
    ``idempotency_key`` makes a retried API post return the first order instead of a second."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="orders"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("ordered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    number = models.CharField(_("number"), max_length=30, unique=True)
    customer_reference = models.CharField(_("customer's order number"), max_length=100, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    source = models.CharField(
        _("received by"), max_length=20, choices=OrderSource.choices, default=OrderSource.MANUAL
    )
    quote = models.ForeignKey(
        Quote,
        verbose_name=_("from quote"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    ordered_on = models.DateField(_("ordered on"))
    status = models.CharField(
        _("status"), max_length=30, choices=OrderStatus.choices, default=OrderStatus.RECEIVED
    )
    delivery_address = models.TextField(_("deliver to"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    subtotal = models.DecimalField(_("subtotal"), max_digits=16, decimal_places=2, default=0)
    tax = models.DecimalField(_("tax"), max_digits=16, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=0)
    approval = models.ForeignKey(
        "pricing.ApprovalRequest",
        verbose_name=_("approval"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reorder_of = models.ForeignKey(
        "self",
        verbose_name=_("reorder of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reorders",
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-ordered_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_idempotency_key_once",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-ordered_on"], name="order_account_date"),
            models.Index(fields=["ordered_on"], name="order_date"),  # everyone's list, newest first
            # From an order line to its account and owner without reading the order's row: the
            # late list checks visibility (or the owner filter) for every owed line.
            models.Index(fields=["id", "account", "owner"], name="order_visibility"),
            models.Index(fields=["status", "ordered_on"], name="order_status_date"),
            models.Index(fields=["owner", "status"], name="order_owner_status"),
            models.Index(fields=["regarding_type", "regarding_id"], name="order_regarding"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="order_lines",
    )
    sku = models.CharField(_("code"), max_length=50, blank=True)
    description = models.CharField(_("description"), max_length=300)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PIECE)
    quantity = models.PositiveIntegerField(_("quantity"))
    # Kept by the delivery services under the order's row lock: never above ``quantity``.
    delivered_quantity = models.PositiveIntegerField(_("delivered"), default=0)
    list_price = models.DecimalField(_("list price"), max_digits=14, decimal_places=2)
    engine_price = models.DecimalField(_("engine price"), max_digits=14, decimal_places=2)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    tax_category = models.CharField(
        _("tax rate"), max_length=10, choices=TaxCategory.choices, default=TaxCategory.STANDARD
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    promised_on = models.DateField(_("promised for"), null=True, blank=True)
    # The promised date while goods are still owed: null once the line is fully delivered or its
    # order cancelled (kept by the order and delivery services). The late and at-risk lists read
    # its index, which holds only the open front of the book, not every line ever promised: with
    # half a million orders the lines of open orders alone are tens of thousands of look-ups.
    open_promised_on = models.DateField(null=True, blank=True, editable=False)
    # The assortment check: the product this line replaced with the customer's agreement.
    substitute_for = models.ForeignKey(
        Product,
        verbose_name=_("instead of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    explanation = models.TextField(_("how the price was found"), blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="order_line_position"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity"),
            models.CheckConstraint(
                condition=Q(delivered_quantity__lte=models.F("quantity")),
                name="order_line_not_over_delivered",
            ),
            models.CheckConstraint(
                condition=Q(open_promised_on__isnull=True)
                | Q(
                    open_promised_on=models.F("promised_on"),
                    delivered_quantity__lt=models.F("quantity"),
                ),
                name="order_line_open_promise",
            ),
        ]
        indexes = [
            models.Index(fields=["promised_on"], name="order_line_promised"),
            # Covers the late and at-risk lists: their range, their order and at-risk's check.
            models.Index(
                fields=["open_promised_on", "order", "delivered_quantity"],
                name="order_line_open_promised",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity}"


class Delivery(VersionedModel):
    """One shipment (納品) of some quantities of an order's lines; the delivery slip (納品書)."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="deliveries"
    )
    number = models.CharField(_("number"), max_length=30, unique=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.SHIPPED,
    )
    shipped_on = models.DateField(_("shipped on"))
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-shipped_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="delivery_idempotency_key_once",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class DeliveryLine(models.Model):
    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        OrderLine, verbose_name=_("order line"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("delivery line")
        verbose_name_plural = _("delivery lines")
        constraints = [
            models.UniqueConstraint(fields=["delivery", "order_line"], name="delivery_line_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="delivery_line_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.order_line_id} × {self.quantity}"


# -- invoices (適格請求書) -------------------------------------------------------------------------


class Invoice(models.Model):
    """A qualified invoice (適格請求書) or a credit note, immutable once issued: a correction is
    a new document that ``corrects`` the old one. Everything printed is kept on the row (the
    buyer's name, our registration number, per-rate bases and taxes), so a reprint years later
    reads the same. Tax is computed once per invoice per rate and rounded down (端数切捨て)."""

    kind = models.CharField(
        _("kind"), max_length=20, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="invoices"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("addressed to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invoices",
    )
    number = models.CharField(_("number"), max_length=30, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.ISSUED
    )
    issued_on = models.DateField(_("date"))
    due_on = models.DateField(_("due"))
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to"), null=True, blank=True)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    language = models.CharField(
        _("document language"),
        max_length=2,
        choices=DocumentLanguage.choices,
        default=DocumentLanguage.JA,
    )
    buyer_name = models.CharField(_("buyer as printed"), max_length=300)
    honorific = models.CharField(
        _("honorific"), max_length=10, choices=Honorific.choices, default=Honorific.ONCHU
    )
    seller_registration_number = models.CharField(_("our registration number"), max_length=14)
    base_standard = models.DecimalField(
        _("10% taxable"), max_digits=16, decimal_places=2, default=0
    )
    tax_standard = models.DecimalField(_("10% tax"), max_digits=16, decimal_places=2, default=0)
    base_reduced = models.DecimalField(_("8% taxable"), max_digits=16, decimal_places=2, default=0)
    tax_reduced = models.DecimalField(_("8% tax"), max_digits=16, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=0)
    paid = models.DecimalField(_("paid"), max_digits=16, decimal_places=2, default=0)
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    notes = models.TextField(_("notes"), blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["issued_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="invoice_idempotency_key_once",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-issued_on"], name="invoice_account_date"),
            models.Index(fields=["status", "due_on"], name="invoice_status_due"),
            models.Index(fields=["issued_on"], name="invoice_date"),
            models.Index(fields=["total"], name="invoice_total"),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    order_line = models.ForeignKey(
        OrderLine,
        verbose_name=_("order line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_lines",
    )
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    sku = models.CharField(_("code"), max_length=50, blank=True)
    description = models.CharField(_("description"), max_length=300)
    quantity = models.IntegerField(_("quantity"))  # negative on a credit note
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PIECE)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    tax_category = models.CharField(
        _("tax rate"), max_length=10, choices=TaxCategory.choices, default=TaxCategory.STANDARD
    )

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position"),
        ]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity}"


class Payment(models.Model):
    """Money received against an invoice (入金)."""

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="payments"
    )
    paid_on = models.DateField(_("paid on"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    method = models.CharField(
        _("method"), max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    # A retried request (a double click, a bank feed or a customer's system posting again)
    # names the same key and gets the first payment back, not a second one.
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["invoice", "paid_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive"),
            models.UniqueConstraint(
                fields=["invoice", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="payment_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.amount} ({self.paid_on})"
