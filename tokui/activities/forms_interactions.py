"""Forms for logging interactions: they parse what a person typed; the services decide."""

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tokui.accounts.forms import ServiceErrorsMixin
from tokui.accounts.models import Account, Contact
from tokui.activities.constants import (
    DIRECTED_KINDS,
    CallOutcome,
    Direction,
    InteractionKind,
    MeetingMode,
)
from tokui.activities.models import Interaction
from tokui.activities.services import MEETING_KINDS
from tokui.core.exceptions import ApplicationError
from tokui.users.models import User


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name}{' · ' + obj.title if obj.title else ''}"


class ContactsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name}{' · ' + obj.title if obj.title else ''}"


class _RenamedErrorsMixin(ServiceErrorsMixin):
    """Service field names that the form calls differently (seconds are typed as minutes)."""

    service_field_names: dict[str, str] = {}

    def add_service_error(self, exc: ApplicationError) -> None:
        renamed = ApplicationError(exc.message, status=exc.status, code=exc.code)
        for field, messages in exc.errors.items():
            target = self.service_field_names.get(field, field)
            renamed.errors.setdefault(target, []).extend(messages)
        super().add_service_error(renamed)


class QuickCallForm(_RenamedErrorsMixin, forms.Form):
    """ "Log a call" in ten seconds: now, outbound, reached are already chosen."""

    service_field_names = {
        "duration_seconds": "duration_minutes",
        "body": "note",
        "contacts": "contact",
    }

    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=Direction.choices,
        initial=Direction.OUTBOUND,
        widget=forms.RadioSelect,
    )
    contact = ContactChoiceField(
        label=_("With"), queryset=Contact.objects.none(), required=False, empty_label="—"
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=CallOutcome.choices, initial=CallOutcome.REACHED
    )
    duration_minutes = forms.IntegerField(
        label=_("Minutes"),
        min_value=0,
        max_value=24 * 60,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 1440}),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("What was agreed, next step…")}),
    )

    def __init__(self, *args: Any, contacts: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "call")
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        minutes = data.get("duration_minutes")
        contact = data.get("contact")
        return {
            "kind": InteractionKind.CALL,
            "direction": data["direction"],
            "outcome": data["outcome"],
            "duration_seconds": None if minutes is None else minutes * 60,
            "body": data.get("note") or "",
            "contacts": [contact] if contact else [],
        }


class InteractionForm(_RenamedErrorsMixin, forms.Form):
    """Every kind of interaction; the kind shows its fields (CSS), the service checks them."""

    service_field_names = {"duration_seconds": "duration_minutes"}

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=InteractionKind.choices,
        initial=InteractionKind.CALL,
        widget=forms.RadioSelect,
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=Direction.choices,
        initial=Direction.OUTBOUND,
        widget=forms.RadioSelect,
        required=False,
    )
    subject = forms.CharField(label=_("Subject"), max_length=300, required=False)
    contacts = ContactsChoiceField(
        label=_("Their people"),
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    participants: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label=_("Our people"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("Besides you. Hold Ctrl (⌘ on a Mac) to choose several."),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("", "—"), *CallOutcome.choices],
        initial=CallOutcome.REACHED,
        required=False,
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        min_value=0,
        max_value=24 * 60,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 1440}),
    )
    phone_number = forms.CharField(
        label=_("Their number"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    meeting_mode = forms.ChoiceField(
        label=_("Where"), choices=[("", "—"), *MeetingMode.choices], required=False
    )
    location = forms.CharField(label=_("Place"), max_length=300, required=False)
    body = forms.CharField(
        label=_("Notes"),
        max_length=50_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Markdown: **bold**, *italic*, - lists, [links](https://…). No HTML, no images."
        ),
    )

    def __init__(
        self, *args: Any, account: Account, contacts: Any, participants: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["contacts"].queryset = contacts  # type: ignore[attr-defined]
        self.fields["participants"].queryset = participants  # type: ignore[attr-defined]
        if not self.is_bound and "occurred_at" not in self.initial:
            self.initial["occurred_at"] = timezone.localtime().replace(second=0, microsecond=0)

    @classmethod
    def initial_from(cls, interaction: Interaction) -> dict[str, Any]:
        seconds = interaction.duration_seconds
        return {
            "version": interaction.version,
            "kind": interaction.kind,
            "occurred_at": timezone.localtime(interaction.occurred_at),
            "direction": interaction.direction,
            "subject": interaction.subject,
            "contacts": list(interaction.contacts.all()),
            "participants": list(interaction.participants.all()),
            "outcome": interaction.outcome,
            "duration_minutes": None if seconds is None else round(seconds / 60),
            "phone_number": interaction.phone_number,
            "meeting_mode": interaction.meeting_mode,
            "location": interaction.location,
            "body": interaction.body,
        }

    def service_data(self) -> dict[str, Any]:
        """The fields of the chosen kind; the others cleared (hidden inputs keep values)."""
        data = self.cleaned_data
        kind = data["kind"]
        is_call = kind == InteractionKind.CALL
        is_meeting = kind in MEETING_KINDS
        minutes = data.get("duration_minutes")
        return {
            "kind": kind,
            "occurred_at": data["occurred_at"],
            "direction": (data.get("direction") or "") if kind in DIRECTED_KINDS else "",
            "subject": data.get("subject") or "",
            "body": data.get("body") or "",
            "contacts": list(data.get("contacts") or []),
            "participants": list(data.get("participants") or []),
            "outcome": (data.get("outcome") or "") if is_call else "",
            "duration_seconds": (None if minutes is None else minutes * 60) if is_call else None,
            "phone_number": (data.get("phone_number") or "") if is_call else "",
            "meeting_mode": (data.get("meeting_mode") or "") if is_meeting else "",
            "location": (data.get("location") or "") if is_meeting else "",
        }
