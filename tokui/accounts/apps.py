from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "tokui.accounts"
    label = "accounts"
    verbose_name = _("Customer data bank")

    def ready(self) -> None:
        from tokui.core.registry import account_relations, audit_action_labels

        # What a merge moves from the merged account to the survivor (see tokui.accounts.merge).
        account_relations.register("accounts.Contact", "account")
        account_relations.register("accounts.ScreeningCheck", "account")
        # Accounts merged earlier into the merged one now point at the survivor.
        account_relations.register("accounts.Account", "merged_into")
        audit_action_labels.register("accounts.account.merged", _("Accounts merged"))
        audit_action_labels.register("accounts.account.merge_undone", _("Merge undone"))
