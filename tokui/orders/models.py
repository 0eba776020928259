"""Documents of the order side: our company's details, quotes (見積書) and their lines.

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
from django.utils.translation import gettext_lazy as _

from tokui.accounts.models import Account, Contact
from tokui.activities.models import Regarding
from tokui.catalog.constants import Currency, TaxCategory, Unit
from tokui.catalog.models import Product
from tokui.core.models import VersionedModel
from tokui.orders.constants import DocumentLanguage, Honorific, QuoteStatus


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


class QuoteCounter(models.Model):
    """The last quote number used per year (Q-2026-0001…), taken under a row lock."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("quote counter")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"
