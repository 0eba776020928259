"""Prices on catalog pages: ``{{ product.list_price|price:product.currency }}``."""

from decimal import Decimal

from django import template

from tokui.catalog.formatting import format_price

register = template.Library()


@register.filter
def price(amount: Decimal | None, currency: str = "JPY") -> str:
    return format_price(amount, currency)


@register.simple_tag
def price_difference(ours: Decimal, theirs: Decimal, currency: str = "JPY") -> str:
    """How far our price is above (+) or below (−) theirs, with the percentage of theirs."""
    delta = ours - theirs
    sign = "+" if delta > 0 else "−" if delta < 0 else "±"
    text = f"{sign}{format_price(abs(delta), currency)}"
    if theirs:
        percent = (abs(delta) / theirs * 100).quantize(Decimal("0.1"))
        text += f" ({sign}{percent}%)"
    return text
