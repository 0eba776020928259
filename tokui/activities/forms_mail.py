"""Forms of the mail pages: write to a contact, keep the e-mail templates."""

from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tokui.accounts.forms import ServiceErrorsMixin
from tokui.activities.mail.outbound import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS
from tokui.activities.mail.templates import PLACEHOLDERS
from tokui.activities.models import EmailTemplate

LANGUAGE_CHOICES = [("ja", _("Japanese")), ("en", _("English"))]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; the service checks their number, size and type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [item for item in items if item]


def placeholder_help() -> Any:
    names = " ".join("{" + name + "}" for name in PLACEHOLDERS)
    return format_lazy(_("Placeholders: {names}"), names=names)


class EmailComposeForm(ServiceErrorsMixin, forms.Form):
    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=EmailTemplate.objects.none(),
        required=False,
        empty_label=_("— no template —"),
    )
    language = forms.ChoiceField(
        label=_("Language of the mail"),
        choices=LANGUAGE_CHOICES,
        help_text=_("Decides how {honorific_name} is written: 山田 様 in Japanese."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(
        label=_("Text"), max_length=50_000, widget=forms.Textarea(attrs={"rows": 14})
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        help_text=format_lazy(
            _("Up to {n} files of at most {mb} MB each; programs and scripts are refused."),
            n=MAX_ATTACHMENTS,
            mb=MAX_ATTACHMENT_BYTES // (1024 * 1024),
        ),
    )

    def __init__(self, *args: Any, templates: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if templates is not None:
            self.fields["template"].queryset = templates  # type: ignore[attr-defined]
        self.fields["subject"].widget.attrs["autocomplete"] = "off"
        # With JavaScript, choosing a template fills language, subject and text at once.
        self.fields["template"].widget.attrs.update(
            {
                "hx-get": "",
                "hx-trigger": "change",
                "hx-target": "#template-fields",
                "hx-swap": "outerHTML",
            }
        )
        # A subject is one line: the browser cannot send a line break from a text input, and
        # the service refuses one sent by hand (header injection).
        self.fields["body"].help_text = placeholder_help()


class EmailTemplateForm(ServiceErrorsMixin, forms.Form):
    updated_at = forms.CharField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Name"), max_length=100)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES)
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(
        label=_("Text"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 14})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = placeholder_help()
        self.fields["subject"].help_text = _("e.g. 【{account_name}様】ご提案書送付のご案内")

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "updated_at"}
