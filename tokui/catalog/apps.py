from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "tokui.catalog"
    label = "catalog"
    verbose_name = _("Products and price lists")

    def ready(self) -> None:
        from tokui.catalog import views
        from tokui.core.registry import account_relations, audit_action_labels
        from tokui.core.sections import Section, account_sections

        # Merging two competitor accounts moves the merged one's products to the survivor.
        account_relations.register("catalog.CompetitorProduct", "competitor")
        for action, label in (
            ("catalog.product.attachment_added", _("File attached")),
            ("catalog.product.attachment_deleted", _("File deleted")),
        ):
            audit_action_labels.register(action, label)
        # A competitor account's page lists its products that ours are compared with.
        account_sections.register(
            Section(
                "competitor_products",
                "catalog/_account_competitor_products.html",
                views.account_competitor_products_section,
                place="main",
                order=60,
            )
        )
