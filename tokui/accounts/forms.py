"""Page forms: they parse what a person typed; the services decide whether it may be saved."""

from typing import Any, cast

from django import forms
from django.core import validators
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from tokui.accounts.constants import ACCOUNT_EDITABLE_FIELDS, CONTACT_EDITABLE_FIELDS
from tokui.accounts.models import Account, Contact
from tokui.accounts.segments import split_names, tag_clean_names
from tokui.accounts.selectors import account_list
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


def _widen(field: forms.Field, max_length: int) -> None:
    """Let a field take ``max_length`` characters as typed (the service normalises it to the
    stored, shorter form): the model's own length validator would refuse 〒100-0001."""
    cast(forms.CharField, field).max_length = max_length
    field.validators = [
        v for v in field.validators if not isinstance(v, validators.MaxLengthValidator)
    ] + [validators.MaxLengthValidator(max_length)]


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        team = f" · {obj.team}" if obj.team_id else ""
        return f"{obj}{team}"


PARENT_CHOICES_SHOWN = 20


class AccountForm(ServiceErrorsMixin, forms.Form):
    """The account's fields, its tags and its parent company.

    The parent is a select of the current choice and the accounts found by ``parent_search``
    (what was typed in the "find" box, searched as the account list searches): the page asks
    again with htmx as one types, or with the "Find" button without JavaScript. The services
    decide whether the chosen company may be the parent.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    parent = forms.IntegerField(
        label=_("Parent company"),
        required=False,
        widget=forms.Select,
        help_text=_("The group's company this one belongs to (企業グループ)."),
    )
    parent_q = forms.CharField(
        label=_("Find the parent company"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "placeholder": _("Name or reading")}
        ),
    )
    tags = forms.CharField(
        label=_("Tags"),
        max_length=1100,
        required=False,
        help_text=_("Separate tags with commas (, or 、), e.g. 展示会2026, 海外展開"),
    )

    def __init__(
        self,
        *args: Any,
        viewer: User,
        account: Account | None = None,
        parent_search: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._set_parent_choices(viewer=viewer, account=account, search=parent_search)
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
        _widen(self.fields["corporate_number"], 20)
        self.fields["corporate_number"].widget.attrs.update(
            {"inputmode": "numeric", "maxlength": 20, "placeholder": "1234567890123"}
        )
        for name in ("phone", "fax"):
            _widen(self.fields[name], 30)
            self.fields[name].widget.attrs.update({"maxlength": 30, "inputmode": "tel"})
        _widen(self.fields["postal_code"], 10)
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
        _widen(self.fields["invoice_registration_number"], 20)
        self.fields["invoice_registration_number"].widget.attrs.update(
            {"maxlength": 20, "placeholder": "T1234567890123"}
        )
        self.fields["employees"].widget.attrs.update({"min": 0, "inputmode": "numeric"})
        self.fields["notes"].widget = forms.Textarea(attrs={"rows": 5})
        self.fields["name"].widget.attrs["autofocus"] = True

    def _set_parent_choices(self, *, viewer: User, account: Account | None, search: str) -> None:
        chosen = self.data.get("parent") if self.is_bound else self.initial.get("parent")
        chosen_text = str(chosen or "")
        chosen_id = int(chosen_text) if chosen_text.isdecimal() else None
        visible = Account.objects.visible_to(viewer)
        options: list[Account] = []
        if chosen_id is not None:
            options.extend(visible.filter(pk=chosen_id))
        search = search.strip()[:200]
        hits: list[Account] = []
        if search:
            found = account_list(viewer=viewer, search=search)
            if account is not None:
                found = found.exclude(pk=account.pk)
            hits = list(found[:PARENT_CHOICES_SHOWN])
            options.extend(a for a in hits if a.pk != chosen_id)
        choices: list[tuple[Any, str]] = [("", str(_("— None: not part of a group —")))]
        choices += [
            (a.pk, f"{a.name}{' · ' + a.prefecture if a.prefecture else ''}") for a in options
        ]
        self.fields["parent"].widget.choices = choices  # type: ignore[attr-defined]
        self.parent_found = len(hits) if search else 0
        self.parent_searched = bool(search)

    def clean_tags(self) -> list[str]:
        try:
            return tag_clean_names(split_names(self.cleaned_data.get("tags") or ""))
        except ApplicationError as exc:
            raise forms.ValidationError([m for ms in exc.errors.values() for m in ms]) from exc

    def tag_names(self) -> list[str]:
        """The tags typed, cleaned; saved with ``account_set_tags`` after the account."""
        return list(self.cleaned_data.get("tags") or [])

    def service_data(self) -> dict[str, Any]:
        return {
            k: v for k, v in self.cleaned_data.items() if k not in ("version", "tags", "parent_q")
        }


class ContactForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_fields = forms.fields_for_model(Contact, fields=list(CONTACT_EDITABLE_FIELDS))
        for name in CONTACT_EDITABLE_FIELDS:
            self.fields[name] = model_fields[name]
        for name in ("phone", "mobile"):
            _widen(self.fields[name], 30)
            self.fields[name].widget.attrs.update({"maxlength": 30, "inputmode": "tel"})
        self.fields["notes"].widget = forms.Textarea(attrs={"rows": 4})
        self.fields["family_name"].widget.attrs["autofocus"] = True

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}
