from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "tokui.activities"
    label = "activities"
    verbose_name = _("Interactions, appointments and tasks")

    def ready(self) -> None:
        from tokui.core.registry import account_relations

        # A merge moves the merged account's history and plans to the survivor.
        account_relations.register("activities.Interaction", "account")
        account_relations.register("activities.Appointment", "account")
        account_relations.register("activities.Task", "account")
