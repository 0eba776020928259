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
        # The merged account's subsidiaries (企業グループ) move under the survivor.
        account_relations.register("accounts.Account", "parent")
        for action, label in (
            ("accounts.account.created", _("Account created")),
            ("accounts.account.updated", _("Account changed")),
            ("accounts.account.archived", _("Account archived")),
            ("accounts.account.restored", _("Account restored")),
            ("accounts.contact.created", _("Contact added")),
            ("accounts.contact.updated", _("Contact changed")),
            ("accounts.contact.archived", _("Contact archived")),
            ("accounts.screening.recorded", _("Screening check recorded")),
            ("accounts.export", _("List exported")),
            ("accounts.import.created", _("Import uploaded")),
            ("accounts.import.mapped", _("Import columns mapped")),
            ("accounts.import.started", _("Import started")),
            ("accounts.segment.created", _("Segment created")),
            ("accounts.segment.updated", _("Segment changed")),
            ("accounts.segment.deleted", _("Segment deleted")),
        ):
            audit_action_labels.register(action, label)
        audit_action_labels.register("accounts.account.merged", _("Accounts merged"))
        audit_action_labels.register("accounts.account.merge_undone", _("Merge undone"))
