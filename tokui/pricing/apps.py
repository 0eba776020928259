from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PricingConfig(AppConfig):
    name = "tokui.pricing"
    label = "pricing"
    verbose_name = _("Key-account terms and prices")

    def ready(self) -> None:
        from tokui.core.registry import account_relations, audit_action_labels

        # A merge moves the merged account's agreements to the survivor, unless both have
        # agreements valid on the same day: then the merge is refused before anything moves.
        from tokui.pricing.services import agreement_merge_check

        account_relations.register("pricing.Agreement", "account", check=agreement_merge_check)
        for action, label in (
            ("pricing.agreement.created", _("Agreement added")),
            ("pricing.agreement.updated", _("Agreement changed")),
            ("pricing.agreement.terms_changed", _("Agreement terms changed")),
        ):
            audit_action_labels.register(action, label)
        # Approvals (稟議): importing registers the "agreement_terms" kind.
        import tokui.pricing.approvals  # noqa: F401

        account_relations.register("pricing.ApprovalRequest", "account")
        for action, label in (
            ("pricing.agreement.terms_approved", _("Agreement terms approved")),
            ("pricing.approval.submitted", _("Approval requested")),
            ("pricing.approval.approved", _("Approved")),
            ("pricing.approval.rejected", _("Approval rejected")),
            ("pricing.approval.returned", _("Approval request sent back")),
            ("pricing.approval.resubmitted", _("Approval requested again")),
            ("pricing.approval.withdrawn", _("Approval request withdrawn")),
            ("pricing.approval_chain.created", _("Approval chain added")),
            ("pricing.approval_chain.changed", _("Approval chain changed")),
            ("pricing.authority.changed", _("Authority limits changed")),
            ("pricing.authority.removed", _("Authority override removed")),
        ):
            audit_action_labels.register(action, label)
        self._ready_agreements()
        self._ready_rules()

    def _ready_agreements(self) -> None:
        """The account page's agreements section and its "Add agreement" button (agreements)."""
        from tokui.core.sections import Section, account_sections
        from tokui.pricing import views_agreements

        account_sections.register(
            Section(
                "agreements",
                "pricing/agreements/_account_agreements.html",
                views_agreements.account_agreements_section,
                place="main",
                order=30,
            )
        )
        account_sections.register(
            Section(
                "add_agreement",
                "pricing/agreements/_account_action.html",
                views_agreements.account_agreement_action,
                place="actions",
                order=40,
            )
        )

    def _ready_rules(self) -> None:
        """Discount rules and bonus programmes: audit labels, merges, the account sections."""
        from tokui.core.registry import account_relations, audit_action_labels
        from tokui.core.sections import Section, account_sections
        from tokui.pricing import views_rules

        # A merge moves the merged account's bonus programmes to the survivor.
        account_relations.register("pricing.RebateProgramme", "account")
        for action, label in (
            ("pricing.discount_rule.created", _("Discount rule added")),
            ("pricing.discount_rule.updated", _("Discount rule changed")),
            ("pricing.discount_rule.deactivated", _("Discount rule stopped")),
            ("pricing.discount_rule.approved", _("Discount rule approved")),
            ("pricing.rebate.created", _("Bonus programme added")),
            ("pricing.rebate.purchase_recorded", _("Purchase counted for a bonus")),
            ("pricing.rebate.tier_reached", _("Bonus tier reached")),
            ("pricing.rebate.settled", _("Bonus programme settled")),
            ("pricing.rebate.cancelled", _("Bonus programme cancelled")),
        ):
            audit_action_labels.register(action, label)
        account_sections.register(
            Section(
                "rebates",
                "pricing/rebates/_account_rebates.html",
                views_rules.account_rebates_section,
                place="main",
                order=35,
            )
        )
        account_sections.register(
            Section(
                "prices",
                "pricing/rules/_account_prices.html",
                views_rules.account_prices_section,
                place="side",
                order=3,
            )
        )
