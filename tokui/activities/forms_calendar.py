"""Forms of the calendar and task pages: they parse; the services decide what may be saved."""

import datetime
from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tokui.accounts.forms import ServiceErrorsMixin
from tokui.accounts.models import Account, Contact
from tokui.activities.constants import AppointmentKind, MeetingMode, TaskPriority
from tokui.activities.models import Appointment, Task
from tokui.activities.task_services import task_assignable_owners
from tokui.core.japanese import format_phone
from tokui.users.models import User

_DT_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"step": 300, **(attrs or {})}, format=_DT_FORMAT)


def _dt_field(label: Any, *, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=LocalDateTimeInput(),
        input_formats=[_DT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        if isinstance(obj, Contact):
            extra = " · ".join(p for p in (obj.department, obj.title) if p)
            return f"{obj.full_name}{' · ' + extra if extra else ''}"
        team = f" · {obj.team}" if getattr(obj, "team_id", None) else ""
        return f"{obj}{team}"


class AppointmentForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=AppointmentKind.choices,
        widget=forms.RadioSelect,
        initial=AppointmentKind.MEETING,
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = _dt_field(_("Starts"))
    ends_at = _dt_field(_("Ends"))
    mode = forms.ChoiceField(
        label=_("Where"), choices=[("", "—"), *MeetingMode.choices], required=False
    )
    place = forms.CharField(label=_("Place"), max_length=300, required=False)
    meeting_url = forms.CharField(label=_("Meeting link"), max_length=500, required=False)
    phone_number = forms.CharField(label=_("Number to call"), max_length=30, required=False)
    contacts = PeopleChoiceField(
        label=_("Their participants"),
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    participants = PeopleChoiceField(
        label=_("Our participants"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Besides you. Hold Ctrl (⌘ on a Mac) to choose several."),
    )
    agenda = forms.CharField(
        label=_("Agenda"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    allow_conflicts = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # Only on the change form: a new time needs a reason (the service says so when missing).
    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=2000,
        required=False,
        help_text=_("Needed when the time changes; it shows on the account's timeline."),
    )

    def __init__(
        self,
        *args: Any,
        account: Account,
        appointment: Appointment | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.appointment = appointment
        contacts = self.fields["contacts"]
        assert isinstance(contacts, forms.ModelMultipleChoiceField)
        contacts.queryset = Contact.objects.filter(
            account=account, archived_at__isnull=True
        ).order_by("sort_key", "id")
        participants = self.fields["participants"]
        assert isinstance(participants, forms.ModelMultipleChoiceField)
        participants.queryset = (
            User.objects.filter(is_active=True).select_related("team").order_by("username")
        )
        participants.widget.attrs["size"] = 6
        self.fields["title"].widget.attrs["autofocus"] = True
        self.fields["meeting_url"].widget.attrs["placeholder"] = "https://"
        self.fields["phone_number"].widget.attrs.update({"inputmode": "tel", "maxlength": 30})
        # The conflict check reruns as the time or the people change (htmx; see the template).
        check = {
            "hx-get": reverse_lazy("activities:appointment_conflicts"),
            "hx-trigger": "change",
            "hx-target": "#conflicts",
            "hx-swap": "outerHTML",  # the answer is the whole #conflicts region
            "hx-include": "closest form",
            "hx-sync": "closest form:replace",
        }
        for name in ("starts_at", "ends_at", "participants"):
            self.fields[name].widget.attrs.update(check)

    def service_data(self) -> dict[str, Any]:
        skip = ("version", "allow_conflicts", "reason")
        return {k: v for k, v in self.cleaned_data.items() if k not in skip}


class CancelForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on the account's timeline."),
    )


class HeldForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    record_interaction = forms.BooleanField(
        label=_("Log it on the timeline as a call or meeting"), required=False, initial=True
    )
    notes = forms.CharField(
        label=_("What was discussed"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class TaskForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label=_("What is to be done"), max_length=300)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), empty_label=None)
    due_at = _dt_field(_("Due"), required=False)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=TaskPriority.choices, initial=TaskPriority.NORMAL
    )
    remind_at = _dt_field(_("Remind me"), required=False)
    contact = forms.ModelChoiceField(
        label=_("Contact"), queryset=Contact.objects.none(), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, viewer: User, account: Account | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = task_assignable_owners(actor=viewer)
        contact = self.fields["contact"]
        assert isinstance(contact, forms.ModelChoiceField)
        if account is None:
            del self.fields["contact"]
        else:
            contact.queryset = Contact.objects.filter(
                account=account, archived_at__isnull=True
            ).order_by("sort_key", "id")
        self.fields["title"].widget.attrs["autofocus"] = True
        self.fields["remind_at"].help_text = _("We send you an e-mail then.")

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        return data


def default_slot(
    now: datetime.datetime | None = None,
) -> tuple[datetime.datetime, datetime.datetime]:
    """The next full hour tomorrow-ish for a new appointment: tomorrow 10:00, one hour."""
    now = timezone.localtime(now or timezone.now())
    start = (now + datetime.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(hours=1)


def task_initial(task: Task) -> dict[str, Any]:
    return {
        "version": task.version,
        "title": task.title,
        "owner": task.owner_id,
        "due_at": timezone.localtime(task.due_at) if task.due_at else None,
        "priority": task.priority,
        "remind_at": timezone.localtime(task.remind_at) if task.remind_at else None,
        "contact": task.contact_id,
        "notes": task.notes,
    }


def appointment_initial(appointment: Appointment) -> dict[str, Any]:
    return {
        "version": appointment.version,
        "kind": appointment.kind,
        "title": appointment.title,
        "starts_at": timezone.localtime(appointment.starts_at),
        "ends_at": timezone.localtime(appointment.ends_at),
        "mode": appointment.mode,
        "place": appointment.place,
        "meeting_url": appointment.meeting_url,
        "phone_number": format_phone(appointment.phone_number),
        "contacts": [c.pk for c in appointment.contacts.all()],
        "participants": [u.pk for u in appointment.participants.all()],
        "agenda": appointment.agenda,
    }
