"""The board's cards as HTML, built in Python.

A board shows a few hundred cards of about twenty values each; through the template engine
that was ≈250 µs a card (variable resolution, localisation and escaping of every value), most
of the board's rendering time (bench/board.py). Here each card is one f-string with every
value passed through ``html.escape`` (quotes included), a few µs a card; even ``format_html``
spent most of its time in lazy-string checks. board.js relies on the classes and data
attributes.
"""

from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe


def card_html(deal: Any, *, may_move: bool, labels: dict[str, str]) -> str:
    """One card of a deal decorated by ``views_board.decorate_cards`` (every value escaped)."""
    title = escape(str(deal.title))
    account = escape(str(deal.account.name))
    url = escape(str(deal.url))
    move_url = escape(str(deal.move_url))
    likelihood = escape(str(deal.likelihood))
    if deal.url:
        title_html = f'<a class="deal-title" href="{url}">{title}</a>'
    else:
        title_html = f'<span class="deal-title">{title}</span>'
    close_text = escape(str(deal.close_text))
    if deal.late:
        close_html = (
            f'<span class="deal-late" title="{escape(labels["late_title"])}">'
            f"{escape(labels['late'])} {close_text}</span>"
        )
    elif deal.close_text:
        close_html = f"<span>{escape(labels['close'])} {close_text}</span>"
    else:
        close_html = f"<span>{escape(labels['no_close'])}</span>"
    move_html = (
        f'<a class="deal-move" href="{move_url}">{escape(labels["move"])}</a>' if may_move else ""
    )
    return (
        f'<li class="deal-card{" is-late" if deal.late else ""}" tabindex="0" '
        f'draggable="{"true" if may_move else "false"}" data-deal="{int(deal.pk)}" '
        f'data-version="{int(deal.version)}" data-stage="{int(deal.stage_id)}" '
        f'data-move="{move_url}" data-url="{url}" aria-label="{title}, {account}">\n'
        f'  <div class="deal-card-head">{title_html}<span class="lk lk-{likelihood}" '
        f'title="{escape(str(deal.likelihood_label))}">{likelihood}</span></div>\n'
        f'  <div class="deal-account">{account}</div>\n'
        f'  <div class="deal-value">{escape(str(deal.value_text))}</div>\n'
        f'  <div class="deal-meta">{close_html}<span>{escape(str(deal.owner_name))}</span>'
        f"<span>{escape(str(deal.days_text))}</span></div>\n"
        f"  {move_html}\n</li>\n"
    )


def cards_html(deals: list[Any], *, may_move: bool, labels: dict[str, str]) -> SafeString:
    # Every value in the cards went through html.escape (quotes too).
    return mark_safe("".join(card_html(deal, may_move=may_move, labels=labels) for deal in deals))
