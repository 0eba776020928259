"""Prices on catalog pages: ``{{ product.list_price|price:product.currency }}``."""

from decimal import Decimal

from django import template

from tokui.catalog.formatting import format_price

register = template.Library()


@register.filter
def price(amount: Decimal | None, currency: str = "JPY") -> str:
    return format_price(amount, currency)
