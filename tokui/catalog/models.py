"""The catalog: product lines, products, competitors' products and price lists.

Money is ``Decimal`` (14 digits, 2 after the point) in the record's currency; the yen is
stored without a minor unit in practice (the services refuse sen). Cost is confidential: the
selectors and templates show it to ``ROLES_SEEING_COST`` only.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tokui.catalog.constants import Currency, ProductStatus, TaxCategory, Unit
from tokui.core.models import VersionedModel


def product_scope(product_id: int) -> str:
    """The audit scope of a product: its history page reads events by it."""
    return f"catalog:product:{product_id}"


def price_list_scope(price_list_id: int) -> str:
    return f"catalog:price_list:{price_list_id}"


def product_line_scope(line_id: int) -> str:
    return f"catalog:product_line:{line_id}"


class ProductLine(VersionedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    name_kana = models.CharField(_("reading"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveIntegerField(
        _("sort order"), default=0, help_text=_("Lower numbers come first.")
    )

    class Meta:
        verbose_name = _("product line")
        verbose_name_plural = _("product lines")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class Product(VersionedModel):
    sku = models.CharField(
        _("SKU"), max_length=40, unique=True, help_text=_("Stored in upper case, e.g. PMP-100A.")
    )
    name = models.CharField(_("name"), max_length=200)
    name_kana = models.CharField(_("reading"), max_length=200, blank=True)
    line = models.ForeignKey(
        ProductLine,
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        related_name="products",
    )
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PIECE)
    list_price = models.DecimalField(_("list price"), max_digits=14, decimal_places=2)
    cost = models.DecimalField(
        _("cost"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Confidential: only heads of sales and administrators see it."),
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    tax_category = models.CharField(
        _("tax rate"), max_length=10, choices=TaxCategory.choices, default=TaxCategory.STANDARD
    )
    status = models.CharField(
        _("status"), max_length=15, choices=ProductStatus.choices, default=ProductStatus.ACTIVE
    )
    lead_time_days = models.PositiveIntegerField(_("lead time (days)"), null=True, blank=True)
    availability_note = models.CharField(_("availability note"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    advantages = models.TextField(
        _("advantages"), blank=True, help_text=_("Why customers choose it; one point per line.")
    )
    substitutes = models.ManyToManyField(
        "self",
        verbose_name=_("substitutes"),
        symmetrical=False,
        blank=True,
        related_name="substitute_for",
    )
    # Folded SKU, name and reading (tokui.core.japanese.fold), refreshed by the services.
    search_text = models.CharField(max_length=500, blank=True, editable=False)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["line__sort_order", "line__name", "sku"]
        constraints = [
            models.CheckConstraint(
                condition=Q(list_price__gte=0), name="catalog_product_list_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(cost__isnull=True) | Q(cost__gte=0),
                name="catalog_product_cost_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def margin(self) -> Decimal | None:
        """Margin on the list price in percent (one decimal), or None without a cost."""
        if self.cost is None or not self.list_price:
            return None
        return ((self.list_price - self.cost) / self.list_price * 100).quantize(Decimal("0.1"))

    @property
    def is_sellable(self) -> bool:
        return self.status == ProductStatus.ACTIVE


class AttachmentKind(models.TextChoices):
    IMAGE = "image", _("image")
    SPEC_SHEET = "spec_sheet", _("spec sheet")
    OTHER = "other", _("other document")


class ProductAttachment(models.Model):
    """An image or a document (spec sheet, brochure) of a product."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=AttachmentKind.choices, default=AttachmentKind.SPEC_SHEET
    )
    file = models.FileField(_("file"), upload_to="products/%Y/%m/")
    name = models.CharField(_("file name"), max_length=255)
    title = models.CharField(_("title"), max_length=200, blank=True)
    content_type = models.CharField(_("type"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("product attachment")
        verbose_name_plural = _("product attachments")
        ordering = ["product_id", "kind", "id"]

    def __str__(self) -> str:
        return self.title or self.name


class CompetitorProduct(VersionedModel):
    """A named competitor's product that ours are compared with."""

    competitor = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("competitor"),
        on_delete=models.PROTECT,
        related_name="competitor_products",
        limit_choices_to={"kind": "competitor"},
    )
    name = models.CharField(_("name"), max_length=200)
    price = models.DecimalField(
        _("their price"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    notes = models.TextField(_("comparison"), blank=True)
    products = models.ManyToManyField(
        Product,
        verbose_name=_("our products"),
        blank=True,
        related_name="competitor_products",
    )

    class Meta:
        verbose_name = _("competitor's product")
        verbose_name_plural = _("competitors' products")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0),
                name="catalog_competitor_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PriceList(VersionedModel):
    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Empty: until further notice.")
    )
    is_default = models.BooleanField(
        _("default"),
        default=False,
        help_text=_("The standard prices for its currency; default lists may not overlap."),
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["-is_default", "currency", "-valid_from", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="catalog_price_list_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_valid_on(self, day: datetime.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class PriceListItem(models.Model):
    """One quantity tier: from ``min_quantity`` units on, each costs ``unit_price``."""

    price_list = models.ForeignKey(
        PriceList, verbose_name=_("price list"), on_delete=models.CASCADE, related_name="items"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="price_items"
    )
    min_quantity = models.PositiveIntegerField(_("from quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("price list item")
        verbose_name_plural = _("price list items")
        ordering = ["product__sku", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "min_quantity"],
                name="catalog_price_item_unique_tier",
            ),
            models.CheckConstraint(
                condition=Q(min_quantity__gte=1), name="catalog_price_item_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="catalog_price_item_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.price_list}: {self.product.sku} ≥{self.min_quantity}"
