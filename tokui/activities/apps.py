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
        self._ready_interactions()
        self._ready_reports()
        self._ready_calendar()
        self._ready_mail()

    def _ready_interactions(self) -> None:
        """The account timeline, quick call logging and the contact's interactions."""
        from tokui.activities import views_interactions as views
        from tokui.activities.timeline import register_default_sources
        from tokui.core.registry import audit_action_labels
        from tokui.core.sections import Section, account_sections, contact_sections

        register_default_sources()
        for action, label in (
            ("activities.interaction.created", _("Interaction logged")),
            ("activities.interaction.recorded", _("Interaction recorded")),
            ("activities.interaction.updated", _("Interaction changed")),
            ("activities.interaction.deleted", _("Interaction deleted")),
        ):
            audit_action_labels.register(action, label)
        account_sections.register(
            Section(
                "timeline",
                "activities/_account_timeline.html",
                views.account_timeline_section,
                place="side",
                order=10,
            )
        )
        account_sections.register(
            Section(
                "log_call",
                "activities/interactions/_actions.html",
                views.account_actions_section,
                place="actions",
                order=10,
            )
        )
        contact_sections.register(
            Section(
                "interactions",
                "activities/interactions/_contact_interactions.html",
                views.contact_interactions_section,
                place="main",
                order=10,
            )
        )
        contact_sections.register(
            Section(
                "log_call",
                "activities/interactions/_actions.html",
                views.contact_actions_section,
                place="actions",
                order=10,
            )
        )

    def _ready_reports(self) -> None:
        """Labels of the daily report's history (日報)."""
        from tokui.core.registry import audit_action_labels

        for action, label in (
            ("activities.daily_report.saved", _("Draft saved")),
            ("activities.daily_report.submitted", _("Report submitted")),
            ("activities.daily_report.edited_after_submit", _("Edited after submitting")),
            ("activities.daily_report.read", _("Read by the manager")),
            ("activities.daily_report.commented", _("Comment added")),
        ):
            audit_action_labels.register(action, label)

    def _ready_calendar(self) -> None:
        """Appointments and tasks on the account and contact pages, and their history labels."""
        from tokui.activities import views_calendar as views
        from tokui.core.registry import audit_action_labels
        from tokui.core.sections import Section, account_sections, contact_sections

        for action, label in (
            ("activities.appointment.booked", _("Appointment booked")),
            ("activities.appointment.updated", _("Appointment changed")),
            ("activities.appointment.rescheduled", _("Appointment rescheduled")),
            ("activities.appointment.cancelled", _("Appointment cancelled")),
            ("activities.appointment.held", _("Appointment held")),
            ("activities.task.created", _("Task added")),
            ("activities.task.updated", _("Task changed")),
            ("activities.task.completed", _("Task done")),
            ("activities.task.reopened", _("Task reopened")),
            ("activities.task.cancelled", _("Task cancelled")),
            ("activities.calendar_feed.created", _("Calendar link created")),
            ("activities.calendar_feed.rotated", _("Calendar link reset")),
        ):
            audit_action_labels.register(action, label)
        for registry, context in (
            (account_sections, views.account_appointments_section),
            (contact_sections, views.contact_appointments_section),
        ):
            registry.register(
                Section(
                    "appointments",
                    "activities/calendar/_account_appointments.html",
                    context,
                    place="side",
                    order=5,
                )
            )
            registry.register(
                Section(
                    "book_meeting",
                    "activities/calendar/_book_action.html",
                    views.account_book_action,
                    place="actions",
                    order=20,
                )
            )
        account_sections.register(
            Section(
                "tasks",
                "activities/tasks/_account_tasks.html",
                views.account_tasks_section,
                place="main",
                order=20,
            )
        )

    def _ready_mail(self) -> None:
        """The contact page's "Send e-mail" button and the mail history labels."""
        from tokui.activities import views_mail
        from tokui.core.registry import audit_action_labels
        from tokui.core.sections import Section, contact_sections

        for action, label in (
            ("activities.email.sent", _("E-mail sent")),
            ("activities.email.failed", _("E-mail not sent")),
            ("activities.email_template.created", _("E-mail template added")),
            ("activities.email_template.updated", _("E-mail template changed")),
            ("activities.email_template.deleted", _("E-mail template deleted")),
        ):
            audit_action_labels.register(action, label)
        contact_sections.register(
            Section(
                "send_email",
                "activities/mail/_contact_action.html",
                views_mail.contact_email_action,
                place="actions",
                order=15,
            )
        )
