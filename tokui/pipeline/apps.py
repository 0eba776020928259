from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    name = "tokui.pipeline"
    label = "pipeline"
    verbose_name = _("Deals and referrals")

    def ready(self) -> None:
        from tokui.core.registry import account_relations

        # A merge moves the merged account's deals and referrals (either side) to the survivor;
        # deals lost to a merged competitor then name the surviving competitor.
        account_relations.register("pipeline.Deal", "account")
        account_relations.register("pipeline.Deal", "lost_to")
        account_relations.register("pipeline.Referral", "account")
        account_relations.register("pipeline.Referral", "referrer")
        self._ready_deals()
        self._ready_board()
        self._ready_referrals()

    def _ready_deals(self) -> None:
        """Deals: audit labels and account sections (tokui.pipeline.services / views_deals)."""
        from tokui.core.registry import audit_action_labels
        from tokui.core.sections import Section, account_sections
        from tokui.pipeline import views_deals

        for action, label in (
            ("pipeline.deal.created", _("Deal opened")),
            ("pipeline.deal.updated", _("Deal changed")),
            ("pipeline.deal.lines_changed", _("Deal products changed")),
            ("pipeline.deal.step_changed", _("Playbook step ticked")),
            ("pipeline.deal.stage_changed", _("Deal moved to another stage")),
            ("pipeline.deal.handed_over", _("Won deal handed over")),
            ("pipeline.deal.need_added", _("Need recorded")),
            ("pipeline.deal.need_removed", _("Need removed")),
            ("pipeline.deal.objection_added", _("Objection logged")),
            ("pipeline.deal.objection_answered", _("Objection answered")),
            ("pipeline.deal.objection_removed", _("Objection removed")),
            ("pipeline.stage.created", _("Stage added")),
            ("pipeline.stage.updated", _("Stage changed")),
            ("pipeline.stage.moved", _("Stage moved")),
            ("pipeline.stage.retired", _("Stage retired")),
            ("pipeline.stage.reactivated", _("Stage back in use")),
            ("pipeline.stage.step_added", _("Playbook step added")),
            ("pipeline.stage.step_changed", _("Playbook step changed")),
            ("pipeline.stage.step_removed", _("Playbook step removed")),
            ("pipeline.stage.step_moved", _("Playbook step moved")),
        ):
            audit_action_labels.register(action, label)
        account_sections.register(
            Section(
                "deals",
                "pipeline/deals/_account_deals.html",
                views_deals.account_deals_section,
                place="main",
                order=20,
            )
        )
        account_sections.register(
            Section(
                "add_deal",
                "pipeline/deals/_account_action.html",
                views_deals.account_deal_action,
                place="actions",
                order=30,
            )
        )

    def _ready_board(self) -> None:
        """The pipeline board, list and forecast (views_board).

        Nothing to register: the board writes through ``deal_move_stage`` (whose audit labels
        ``_ready_deals`` registers) and the main navigation links to it.
        """

    def _ready_referrals(self) -> None:
        """Referrals: audit labels, the account's referral section (tokui.pipeline.referrals)."""
        from tokui.core.registry import account_relations, audit_action_labels
        from tokui.core.sections import Section, account_sections
        from tokui.orders.hooks import order_paid_hooks
        from tokui.pipeline import views_referrals
        from tokui.pipeline.deal_orders import referral_rewards_on_paid_order
        from tokui.pipeline.referrals import referral_merge_check

        # A paid order may earn the referrer of its account a reward (first paid order).
        order_paid_hooks.register(referral_rewards_on_paid_order)

        # Merging two accounts linked by a referral, or both referred, is refused first.
        account_relations.register("pipeline.Referral", "account", check=referral_merge_check)
        for action, label in (
            ("pipeline.referral.recorded", _("Referral recorded")),
            ("pipeline.referral.updated", _("Referral changed")),
            ("pipeline.referral.deleted", _("Referral deleted")),
            ("pipeline.referral.reward_granted", _("Referral reward granted")),
            ("pipeline.referral.reward_paid", _("Referral reward paid")),
            ("pipeline.referral.reward_cancelled", _("Referral reward cancelled")),
            ("pipeline.reward_rule.created", _("Referral reward rule added")),
            ("pipeline.reward_rule.updated", _("Referral reward rule changed")),
        ):
            audit_action_labels.register(action, label)
        account_sections.register(
            Section(
                "referrals",
                "pipeline/referrals/_account_referrals.html",
                views_referrals.account_referrals_section,
                place="main",
                order=60,
            )
        )
