"""Key-account agreements: an account's special prices, discounts and payment terms.

Money is ``Decimal`` (14 digits, 2 after the point) in the agreement's currency; the services
refuse digits the currency cannot hold (no sen for the yen). One account has at most one
agreement valid on any day (the services refuse overlapping periods), so the price engine
reads exactly one. Closing and payment days are 1–28, or 0 for the month end (月末).
"""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tokui.catalog.constants import Currency

MONTH_END = 0  # closing_day / payment_day: the last day of the month (月末)


class Agreement(models.Model):
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Empty: until further notice.")
    )
    closing_day = models.PositiveSmallIntegerField(
        _("closing day"), default=MONTH_END, help_text=_("1–28, or 0 for the month end.")
    )
    payment_month_offset = models.PositiveSmallIntegerField(
        _("payment month"),
        default=1,
        help_text=_("Months after the closing: 0 this month, 1 next month (翌月) …"),
    )
    payment_day = models.PositiveSmallIntegerField(
        _("payment day"), default=MONTH_END, help_text=_("1–28, or 0 for the month end.")
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["account_id", "-valid_from", "id"]
        indexes = [models.Index(fields=["account", "valid_from"], name="pricing_agr_account_from")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="pricing_agreement_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(closing_day__lte=28), name="pricing_agreement_closing_day"
            ),
            models.CheckConstraint(
                condition=Q(payment_day__lte=28), name="pricing_agreement_payment_day"
            ),
            models.CheckConstraint(
                condition=Q(payment_month_offset__lte=12),
                name="pricing_agreement_payment_month",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AgreementPrice(models.Model):
    """A special price: from ``min_quantity`` units on, each costs ``unit_price``."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="prices"
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="agreement_prices",
    )
    min_quantity = models.PositiveIntegerField(_("from quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("special price")
        verbose_name_plural = _("special prices")
        ordering = ["agreement_id", "product_id", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "product", "min_quantity"],
                name="pricing_agreement_price_unique_tier",
            ),
            models.CheckConstraint(
                condition=Q(min_quantity__gte=1), name="pricing_agreement_price_quantity"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="pricing_agreement_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement}: #{self.product_id} ≥{self.min_quantity}"


class AgreementDiscount(models.Model):
    """A percentage off the base price for one product or for one whole product line."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="discounts"
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreement_discounts",
    )
    line = models.ForeignKey(
        "catalog.ProductLine",
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreement_discounts",
    )
    percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("agreement discount")
        verbose_name_plural = _("agreement discounts")
        ordering = ["agreement_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(product__isnull=True) & Q(line__isnull=False))
                | (Q(product__isnull=False) & Q(line__isnull=True)),
                name="pricing_agreement_discount_one_target",
            ),
            models.CheckConstraint(
                condition=Q(percent__gt=0) & Q(percent__lt=100),
                name="pricing_agreement_discount_percent",
            ),
        ]

    def __str__(self) -> str:
        target = f"product #{self.product_id}" if self.product_id else f"line #{self.line_id}"
        return f"{self.agreement}: {self.percent}% {target}"
