"""Forms of the discount-rule, rebate and price-check pages: they parse, the services decide."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tokui.accounts.constants import AccountTier
from tokui.accounts.forms import ServiceErrorsMixin
from tokui.accounts.models import Segment
from tokui.catalog.constants import Currency
from tokui.catalog.models import Product, ProductLine
from tokui.pricing.models import DiscountRuleKind
from tokui.pricing.rules import discount_rule_segment_choices
from tokui.users.models import User

_DATE = {"type": "date"}


def _date_field(label: Any, required: bool = False, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d"),
        **kwargs,
    )


class DiscountRuleForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=DiscountRuleKind.choices,
        help_text=_("The condition that defines the rule; the others may narrow it."),
    )
    percent = forms.CharField(
        label=_("Discount (%)"),
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "num"}),
    )
    segment: forms.ModelChoiceField = forms.ModelChoiceField(  # type: ignore[type-arg]
        label=_("Segment"), queryset=Segment.objects.none(), required=False, empty_label="—"
    )
    account_tier = forms.ChoiceField(
        label=_("Account tier"),
        choices=[("", "—"), *AccountTier.choices],
        required=False,
    )
    line = forms.ModelChoiceField(
        label=_("Product line"),
        queryset=ProductLine.objects.order_by("sort_order", "name"),
        required=False,
        empty_label="—",
    )
    min_quantity = forms.IntegerField(
        label=_("From quantity"),
        min_value=1,
        max_value=10**9,
        required=False,
        help_text=_("A volume rule applies from this many units (more than 1)."),
    )
    valid_from = _date_field(_("Valid from"))
    valid_to = _date_field(_("Valid until"), help_text=_("Both dates for a promotion."))
    priority = forms.IntegerField(
        label=_("Priority"),
        required=False,
        min_value=-1_000_000,
        max_value=1_000_000,
        help_text=_("Breaks ties between equal prices: higher wins."),
    )
    stackable = forms.BooleanField(
        label=_("Stackable"),
        required=False,
        help_text=_("Stackable rules are compounded with each other; others apply alone."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    reason = forms.CharField(
        label=_("Reason for approval"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Used only when the discount is above your authority: the change then goes to an "
            "approver with this reason and applies once approved."
        ),
    )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        segment = self.fields["segment"]
        assert isinstance(segment, forms.ModelChoiceField)
        segment.queryset = discount_rule_segment_choices(viewer=viewer)
        self.fields["name"].widget.attrs.update({"autofocus": True})

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("version", "reason")}
        data["segment"] = data["segment"].pk if data.get("segment") else None
        data["line"] = data["line"].pk if data.get("line") else None
        data["min_quantity"] = data.get("min_quantity") or 1
        data["priority"] = data.get("priority") or 0
        return data


class ProductChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.sku} {obj.name}"


class PriceCheckForm(forms.Form):
    """The price check's GET form: account, product, quantity and date."""

    account = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    product = ProductChoiceField(
        label=_("Product"),
        queryset=Product.objects.select_related("line").order_by("line__sort_order", "sku"),
        required=False,
        empty_label=_("Choose a product"),
    )
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=10**9,
        initial=1,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "num"}),
    )
    date = _date_field(_("Date"))


class RebateProgrammeForm(ServiceErrorsMixin, forms.Form):
    """A programme with up to four tiers (threshold → percent); empty rows are ignored."""

    TIER_ROWS = 4

    name = forms.CharField(label=_("Name"), max_length=200)
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    period_start = _date_field(_("Period starts"), required=True)
    period_end = _date_field(_("Period ends"), required=True)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(self.TIER_ROWS):
            self.fields[f"threshold_{i}"] = forms.CharField(
                label=_("Purchases from"),
                max_length=30,
                required=False,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "num"}),
            )
            self.fields[f"percent_{i}"] = forms.CharField(
                label=_("Bonus (%)"),
                max_length=10,
                required=False,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "num"}),
            )
        self.row_of: list[int] = []

    def tier_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"threshold_{i}"], self[f"percent_{i}"]) for i in range(self.TIER_ROWS)]

    def service_data(self) -> dict[str, Any]:
        data = {k: self.cleaned_data[k] for k in ("name", "currency", "notes")}
        data["period_start"] = self.cleaned_data["period_start"]
        data["period_end"] = self.cleaned_data["period_end"]
        tiers = []
        self.row_of = []
        for i in range(self.TIER_ROWS):
            threshold = self.cleaned_data.get(f"threshold_{i}") or ""
            percent = self.cleaned_data.get(f"percent_{i}") or ""
            if threshold or percent:
                tiers.append({"threshold": threshold, "percent": percent})
                self.row_of.append(i)
        data["tiers"] = tiers
        return data

    def add_service_error(self, exc: Any) -> None:
        """``tiers.1.percent`` goes next to that row's field."""
        rest: dict[str, list[str]] = {}
        for key, messages in exc.errors.items():
            parts = key.split(".")
            if parts[0] == "tiers" and len(parts) == 3 and parts[1].isdecimal():
                index = int(parts[1])
                if index < len(self.row_of):
                    for message in messages:
                        self.add_error(f"{parts[2]}_{self.row_of[index]}", message)
                    continue
            if key == "tiers":
                for message in messages:
                    self.add_error("threshold_0", message)
                continue
            rest[key] = messages
        if rest or not exc.errors:
            exc.errors = rest
            super().add_service_error(exc)
