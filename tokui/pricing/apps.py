from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PricingConfig(AppConfig):
    name = "tokui.pricing"
    label = "pricing"
    verbose_name = _("Key-account terms and prices")

    def ready(self) -> None:
        from tokui.core.registry import account_relations, audit_action_labels

        # A merge moves the merged account's agreements to the survivor.
        account_relations.register("pricing.Agreement", "account")
        for action, label in (
            ("pricing.agreement.created", _("Agreement added")),
            ("pricing.agreement.updated", _("Agreement changed")),
            ("pricing.agreement.terms_changed", _("Agreement terms changed")),
        ):
            audit_action_labels.register(action, label)
