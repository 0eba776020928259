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
