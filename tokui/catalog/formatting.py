"""Prices as people read them, in the page's language (``¥12,000`` / ``12,000円``)."""

from decimal import Decimal

from django.utils.translation import get_language

from tokui.core.money import format_money


def format_price(amount: Decimal | None, currency: str) -> str:
    """The shared money format (``tokui.core.money.format_money``); ``—`` for no amount."""
    if amount is None:
        return "—"
    return format_money(amount, currency, locale=get_language() or "en")
