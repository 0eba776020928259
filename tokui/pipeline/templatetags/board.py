from typing import Any

from django import template
from django.utils.safestring import SafeString

from tokui.pipeline.board_cards import cards_html

register = template.Library()


@register.simple_tag
def board_cards(deals: list[Any], may_move: Any, labels: dict[str, str]) -> SafeString:
    """The cards of a board column (see ``tokui.pipeline.board_cards`` for why in Python)."""
    return cards_html(deals, may_move=bool(may_move), labels=labels)
