"""Administration of the activities app's settings: mailboxes and contact cadences.

Records people work with (interactions, appointments, tasks, reports) are read-only here: they
change in the app, where services validate and audit them.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from tokui.activities.models import (
    Appointment,
    ContactCadence,
    DailyReport,
    Interaction,
    Mailbox,
    Task,
)


class MailboxForm(forms.ModelForm):
    # The stored password is never sent back to the browser; leave empty to keep it.
    password = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), strip=False
    )

    class Meta:
        model = Mailbox
        fields = (
            "name",
            "address",
            "host",
            "port",
            "use_ssl",
            "username",
            "password",
            "folder",
            "shared",
            "owner",
            "active",
        )

    def clean_password(self) -> str:
        typed = self.cleaned_data.get("password") or ""
        if not typed and self.instance.pk:
            return self.instance.password
        return typed


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ("name", "address", "host", "shared", "owner", "active", "last_fetched_at")
    list_filter = ("active", "shared")
    readonly_fields = ("last_fetched_at", "last_error")


@admin.register(ContactCadence)
class ContactCadenceAdmin(admin.ModelAdmin):
    list_display = ("tier", "days")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Interaction)
class InteractionAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "kind", "direction", "account", "subject", "author", "source")
    list_filter = ("kind", "source")
    search_fields = ("subject", "message_id", "external_id")
    raw_id_fields = ("account", "appointment")


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ("starts_at", "title", "account", "organizer", "status")
    list_filter = ("status", "kind")
    search_fields = ("title", "uid")


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("title", "owner", "due_at", "priority", "status")
    list_filter = ("status", "priority")
    search_fields = ("title",)


@admin.register(DailyReport)
class DailyReportAdmin(ReadOnlyAdmin):
    list_display = ("day", "user", "status", "submitted_at", "reviewed_by")
    list_filter = ("status",)
