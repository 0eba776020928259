"""Forms of the approvals pages: they parse; the services in approvals/authority decide."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tokui.accounts.forms import ServiceErrorsMixin
from tokui.pricing.models import ApprovalMode
from tokui.users.models import User

DECISIONS = ("approve", "reject", "return", "withdraw", "resubmit")
CHAIN_STEP_ROWS = 5


class DecisionForm(ServiceErrorsMixin, forms.Form):
    action = forms.ChoiceField(choices=[(d, d) for d in DECISIONS], widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you reject or send the request back."),
    )


class AuthorityLimitForm(ServiceErrorsMixin, forms.Form):
    max_discount_percent = forms.CharField(
        label=_("Maximum discount (%)"), required=False, max_length=10
    )
    min_margin_percent = forms.CharField(
        label=_("Minimum margin (%)"), required=False, max_length=10
    )
    max_deal_value = forms.CharField(
        label=_("Maximum deal value (JPY)"), required=False, max_length=20
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("max_discount_percent", "min_margin_percent", "max_deal_value"):
            self.fields[name].widget.attrs.update(
                {"inputmode": "decimal", "placeholder": "—", "size": 8}
            )

    def service_data(self) -> dict[str, Any]:
        return {k: (v or None) for k, v in self.cleaned_data.items()}


class OverrideForm(AuthorityLimitForm):
    user = forms.ModelChoiceField(
        label=_("Person"), queryset=User.objects.none(), empty_label=_("Choose a person")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("username")  # type: ignore[attr-defined]
        self.order_fields(["user"])

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        data.pop("user", None)
        return data


class ApproverChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} · {obj.get_role_display()}"


class ChainForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("For requests of kind"))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, kinds: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds  # type: ignore[attr-defined]
        people = User.objects.filter(is_active=True).order_by("role", "username")
        for index in range(CHAIN_STEP_ROWS):
            self.fields[f"step_{index}_mode"] = forms.ChoiceField(
                label=_("Who must approve"),
                choices=ApprovalMode.choices,
                required=False,
                initial=ApprovalMode.ANY,
            )
            self.fields[f"step_{index}_approvers"] = ApproverChoiceField(
                label=_("Approvers of step %(n)d") % {"n": index + 1},
                queryset=people,
                required=False,
                widget=forms.SelectMultiple(attrs={"size": 5}),
            )

    def step_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "number": i + 1,
                "mode": self[f"step_{i}_mode"],
                "approvers": self[f"step_{i}_approvers"],
                "errors": self.errors.get(f"steps.{i}.approvers", [])
                + self.errors.get(f"steps.{i}.mode", []),
            }
            for i in range(CHAIN_STEP_ROWS)
        ]

    def steps(self) -> list[dict[str, Any]]:
        result = []
        for index in range(CHAIN_STEP_ROWS):
            approvers = self.cleaned_data.get(f"step_{index}_approvers") or []
            if approvers:
                result.append(
                    {
                        "mode": self.cleaned_data.get(f"step_{index}_mode") or ApprovalMode.ANY,
                        "approvers": [u.pk for u in approvers],
                    }
                )
        return result

    def add_service_error(self, exc: Any) -> None:
        # Step errors are shown beside their step (see step_rows); the rest as usual.
        for field, messages in exc.errors.items():
            if field.startswith("steps."):
                errors: Any = self.errors
                errors.setdefault(field, self.error_class()).extend(messages)
            elif field in self.fields:
                for message in messages:
                    self.add_error(field, message)
            else:
                for message in messages:
                    self.add_error(None, message)
        if not exc.errors:
            self.add_error(None, exc.message)
