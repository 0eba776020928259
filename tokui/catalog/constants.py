"""Choices and limits of the catalog: products, product lines, price lists."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tokui.users.constants import Role

# Heads of sales and administrators keep the catalog; everyone signed in reads it.
ROLES_EDITING_CATALOG = frozenset({Role.ADMIN, Role.HEAD})
# Cost and margin are confidential: only these roles see them, on pages and in the API.
ROLES_SEEING_COST = frozenset({Role.ADMIN, Role.HEAD})

# Prices above this are a typing slip, not a price (a trillion yen for one item).
PRICE_LIMIT = Decimal(10) ** 12
LEAD_TIME_LIMIT = 3650
SUBSTITUTES_LIMIT = 50
PRICE_LIST_ITEMS_LIMIT = 2000


class Unit(models.TextChoices):
    PIECE = "個", _("piece (個)")
    UNIT = "台", _("unit (台)")
    BOX = "箱", _("box (箱)")
    SET = "式", _("set (式)")
    PAIR = "組", _("pair / kit (組)")
    SHEET = "枚", _("sheet (枚)")
    BOTTLE = "本", _("bottle / length (本)")
    CASE = "ケース", _("case (ケース)")
    KG = "kg", _("kilogram (kg)")
    LITRE = "L", _("litre (L)")
    METRE = "m", _("metre (m)")
    HOUR = "時間", _("hour (時間)")


class Currency(models.TextChoices):
    JPY = "JPY", _("Japanese yen (JPY)")
    USD = "USD", _("US dollar (USD)")
    EUR = "EUR", _("Euro (EUR)")
    CNY = "CNY", _("Chinese yuan (CNY)")


# Digits after the decimal point per currency: the yen has no minor unit.
CURRENCY_DECIMALS = {Currency.JPY: 0, Currency.USD: 2, Currency.EUR: 2, Currency.CNY: 2}
CURRENCY_SYMBOLS = {Currency.JPY: "¥", Currency.USD: "$", Currency.EUR: "€", Currency.CNY: "CN¥"}


class TaxCategory(models.TextChoices):
    STANDARD = "standard", _("Standard rate 10%")
    REDUCED = "reduced", _("Reduced rate 8%")


TAX_RATES = {TaxCategory.STANDARD: Decimal("0.10"), TaxCategory.REDUCED: Decimal("0.08")}


class ProductStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("product status", "Active")
    UNAVAILABLE = "unavailable", _("Temporarily unavailable")
    DISCONTINUED = "discontinued", _("Discontinued")


PRODUCT_EDITABLE_FIELDS = (
    "sku",
    "name",
    "name_kana",
    "line",
    "unit",
    "list_price",
    "cost",
    "currency",
    "tax_category",
    "status",
    "lead_time_days",
    "availability_note",
    "description",
    "advantages",
)
PRODUCT_LINE_EDITABLE_FIELDS = ("name", "name_kana", "description", "sort_order")
PRICE_LIST_EDITABLE_FIELDS = ("name", "currency", "valid_from", "valid_to", "is_default", "notes")
COMPETITOR_PRODUCT_EDITABLE_FIELDS = ("competitor", "name", "price", "currency", "notes")
