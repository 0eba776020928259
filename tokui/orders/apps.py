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
        account_relations.register("orders.Order", "account")
        account_relations.register("orders.Invoice", "account")
        self._ready_quotes()
        self._ready_order_side()
        self._ready_monitoring()

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

    def _ready_order_side(self) -> None:
        """Orders, deliveries and invoices: audit labels (each page module adds its own)."""
        from tokui.core.registry import audit_action_labels
        from tokui.orders import orders  # noqa: F401 (registers the approval kind "order")
        from tokui.orders.hooks import order_confirmed_hooks, rebate_on_order_confirmed

        # A confirmed order counts into the account's rebate programmes.
        order_confirmed_hooks.register(rebate_on_order_confirmed)

        for action, label in (
            ("orders.order.created", _("Order received")),
            ("orders.order.confirmed", _("Order confirmed")),
            ("orders.order.in_fulfilment", _("Order in fulfilment")),
            ("orders.order.partially_delivered", _("Order partly delivered")),
            ("orders.order.delivered", _("Order delivered")),
            ("orders.order.invoiced", _("Order invoiced")),
            ("orders.order.paid", _("Order paid")),
            ("orders.order.cancelled", _("Order cancelled")),
            ("orders.order.line_substituted", _("Order line substituted")),
            ("orders.order.price_submitted", _("Order prices sent for approval")),
            ("orders.order.price_approved", _("Order prices approved")),
            ("orders.delivery.created", _("Delivery recorded")),
            ("orders.delivery.delivered", _("Delivery arrived")),
            ("orders.delivery.sent", _("Delivery slip e-mailed")),
            ("orders.invoice.issued", _("Invoice issued")),
            ("orders.invoice.corrected", _("Invoice corrected")),
            ("orders.invoice.payment_recorded", _("Payment recorded")),
            ("orders.credit_note.issued", _("Credit note issued")),
            ("orders.invoice.sent", _("Invoice e-mailed")),
        ):
            audit_action_labels.register(action, label)

    def _ready_monitoring(self) -> None:
        """Late orders, buying rhythm, digest: the account page's "Orders" section, audit label."""
        from tokui.core.registry import audit_action_labels
        from tokui.core.sections import Section, account_sections
        from tokui.orders import views_monitoring

        audit_action_labels.register("orders.digest.sent", _("Order digest sent"))
        account_sections.register(
            Section(
                "orders",
                "orders/monitoring/_account_orders.html",
                views_monitoring.account_orders_section,
                place="main",
                order=45,
            )
        )
