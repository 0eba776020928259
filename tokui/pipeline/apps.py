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

    def _ready_board(self) -> None:
        """The pipeline board, list and forecast (views_board)."""

    def _ready_referrals(self) -> None:
        """Referrals: audit labels, the account's referral section (tokui.pipeline.referrals)."""
