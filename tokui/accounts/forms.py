"""Page forms: they parse what a person typed; the services decide whether it may be saved."""

from typing import Any, cast

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from tokui.accounts.constants import ACCOUNT_EDITABLE_FIELDS, CONTACT_EDITABLE_FIELDS
from tokui.accounts.models import Account, Contact
from tokui.accounts.segments import split_names, tag_clean_names
from tokui.core.exceptions import ApplicationError
from tokui.users.models import User
from tokui.users.selectors import user_assignable_owners


class ServiceErrorsMixin:
    """Shows an ApplicationError from a service next to the fields it names."""

    def add_service_error(self, exc: ApplicationError) -> None:
        placed = False
        for field, messages in exc.errors.items():
            target = field if field in self.fields else None  # type: ignore[attr-defined]
            for message in messages:
                self.add_error(target, message)  # type: ignore[attr-defined]
                placed = True
        if not placed:
            self.add_error(None, exc.message)  # type: ignore[attr-defined]


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        team = f" · {obj.team}" if obj.team_id else ""
        return f"{obj}{team}"


class AccountForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    tags = forms.CharField(
        label=_("Tags"),
        max_length=1100,
        required=False,
        help_text=_("Separate tags with commas (, or 、), e.g. 展示会2026, 海外展開"),
    )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_fields = forms.fields_for_model(
            Account, fields=[f for f in ACCOUNT_EDITABLE_FIELDS if f != "owner"]
        )
        for name in ACCOUNT_EDITABLE_FIELDS:
            if name == "owner":
                self.fields["owner"] = OwnerChoiceField(
                    queryset=user_assignable_owners(viewer=viewer),
                    label=_("Owner"),
                    empty_label=None,
                )
            else:
                self.fields[name] = model_fields[name]
        # Identifiers are typed in many shapes (full-width, hyphens): the service normalises
        # them, so the form only bounds their length.
        cast(forms.CharField, self.fields["corporate_number"]).max_length = 20
        self.fields["corporate_number"].widget.attrs.update(
            {"inputmode": "numeric", "maxlength": 20, "placeholder": "1234567890123"}
        )
        for name in ("phone", "fax"):
            cast(forms.CharField, self.fields[name]).max_length = 30
            self.fields[name].widget.attrs.update({"maxlength": 30, "inputmode": "tel"})
        cast(forms.CharField, self.fields["postal_code"]).max_length = 10
        self.fields["postal_code"].widget.attrs.update(
            {
                "maxlength": 10,
                "placeholder": "100-0001",
                # Fill prefecture and city from the offline postal data as the code is typed.
                "hx-get": reverse_lazy("accounts:postal_lookup"),
                "hx-trigger": "keyup changed delay:300ms, change",
                "hx-target": "#postal-hint",
                "hx-sync": "this:replace",
                "aria-describedby": "postal-hint",
            }
        )
        self.fields["website"] = forms.CharField(
            label=self.fields["website"].label, max_length=300, required=False
        )
        self.fields["website"].widget.attrs["placeholder"] = "https://example.co.jp"
        self.fields["name_kana"].widget.attrs["placeholder"] = _("e.g. ヤマダショウジ")
        self.fields["name_kana"].help_text = _(
            "Without the legal form: 株式会社山田商事 → ヤマダショウジ"
        )
        self.fields["legal_form"].help_text = _("Found from the name when left empty.")
        cast(forms.CharField, self.fields["invoice_registration_number"]).max_length = 20
        self.fields["invoice_registration_number"].widget.attrs.update(
            {"maxlength": 20, "placeholder": "T1234567890123"}
        )
        self.fields["employees"].widget.attrs.update({"min": 0, "inputmode": "numeric"})
        self.fields["notes"].widget = forms.Textarea(attrs={"rows": 5})
        self.fields["name"].widget.attrs["autofocus"] = True

    def clean_tags(self) -> list[str]:
        try:
            return tag_clean_names(split_names(self.cleaned_data.get("tags") or ""))
        except ApplicationError as exc:
            raise forms.ValidationError([m for ms in exc.errors.values() for m in ms]) from exc

    def tag_names(self) -> list[str]:
        """The tags typed, cleaned; saved with ``account_set_tags`` after the account."""
        return list(self.cleaned_data.get("tags") or [])

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("version", "tags")}


class ContactForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_fields = forms.fields_for_model(Contact, fields=list(CONTACT_EDITABLE_FIELDS))
        for name in CONTACT_EDITABLE_FIELDS:
            self.fields[name] = model_fields[name]
        for name in ("phone", "mobile"):
            cast(forms.CharField, self.fields[name]).max_length = 30
            self.fields[name].widget.attrs.update({"maxlength": 30, "inputmode": "tel"})
        self.fields["notes"].widget = forms.Textarea(attrs={"rows": 4})
        self.fields["family_name"].widget.attrs["autofocus"] = True

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}
