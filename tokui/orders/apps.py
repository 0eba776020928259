from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "tokui.orders"
    label = "orders"
    verbose_name = _("Quotes and orders")

    def ready(self) -> None:
        from tokui.core.registry import account_relations

        # A merge moves the merged account's quotes to the survivor.
        account_relations.register("orders.Quote", "account")
        self._ready_quotes()

    def _ready_quotes(self) -> None:
        """Quotes: audit labels, the approval kind, account sections (tokui.orders.quotes)."""
        from tokui.core.registry import audit_action_labels
        from tokui.core.sections import Section, account_sections
        from tokui.orders import quotes, views_quotes  # noqa: F401 (registers the "quote" kind)

        for action, label in (
            ("orders.quote.created", _("Quote made")),
            ("orders.quote.updated", _("Quote changed")),
            ("orders.quote.repriced", _("Quote re-priced")),
            ("orders.quote.issued", _("Quote issued")),
            ("orders.quote.submitted", _("Quote sent for approval")),
            ("orders.quote.approved", _("Quote approved")),
            ("orders.quote.reopened", _("Quote back to draft")),
            ("orders.quote.sent", _("Quote sent")),
            ("orders.quote.accepted", _("Quote accepted")),
            ("orders.quote.declined", _("Quote declined")),
            ("orders.quote.withdrawn", _("Quote withdrawn")),
            ("orders.quote.revised", _("Quote revised")),
            ("orders.quote.superseded", _("Quote superseded by a revision")),
            ("orders.company.updated", _("Company details changed")),
        ):
            audit_action_labels.register(action, label)
        account_sections.register(
            Section(
                "quotes",
                "orders/quotes/_account_quotes.html",
                views_quotes.account_quotes_section,
                place="main",
                order=40,
            )
        )
