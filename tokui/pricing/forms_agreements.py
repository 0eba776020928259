"""Page forms of agreements: they parse what a person typed; the services decide."""

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from tokui.accounts.forms import ServiceErrorsMixin
from tokui.catalog.constants import Currency
from tokui.catalog.models import Product, ProductLine
from tokui.core.exceptions import ApplicationError
from tokui.pricing.models import MONTH_END, Agreement, BusinessDayRule
from tokui.pricing.services import AGREEMENT_EDITABLE_FIELDS

TERMS_BLANK_ROWS = 3


def _day_choices() -> list[tuple[int, Any]]:
    days: list[tuple[int, Any]] = [(MONTH_END, _("Month end (月末)"))]
    return days + [(n, str(n)) for n in range(1, 29)]


def _month_choices() -> list[tuple[int, Any]]:
    return [
        (0, _("The closing month (当月)")),
        (1, _("The next month (翌月)")),
        (2, _("The month after next (翌々月)")),
        *((n, _("%(n)d months later") % {"n": n}) for n in range(3, 13)),
    ]


class AgreementForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Name"), max_length=200)
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    valid_from = forms.DateField(
        label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    valid_to = forms.DateField(
        label=_("Valid until"),
        required=False,
        help_text=_("Empty: until further notice."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    closing_day = forms.TypedChoiceField(label=_("Closing day (締め日)"), coerce=int)
    payment_month_offset = forms.TypedChoiceField(label=_("Paid in"), coerce=int)
    payment_day = forms.TypedChoiceField(label=_("Payment day (支払日)"), coerce=int)
    business_day_rule = forms.ChoiceField(
        label=_("If the payment day is not a business day"),
        choices=BusinessDayRule.choices,
        help_text=_("Weekends, public holidays and the banks' 12/31–1/3 are not business days."),
    )
    applies_to_group = forms.BooleanField(
        label=_("For the whole group"),
        required=False,
        help_text=_(
            "Also applies to the account's subsidiaries that have no agreement of their own."
        ),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        days = _day_choices()
        self.fields["closing_day"].choices = days  # type: ignore[attr-defined]
        self.fields["payment_day"].choices = days  # type: ignore[attr-defined]
        self.fields["payment_month_offset"].choices = _month_choices()  # type: ignore[attr-defined]
        self.fields["name"].widget.attrs.update(
            {"autofocus": True, "placeholder": _("e.g. 2026年度 取引条件")}
        )

    @staticmethod
    def initial_of(agreement: Agreement) -> dict[str, Any]:
        initial = {name: getattr(agreement, name) for name in AGREEMENT_EDITABLE_FIELDS}
        initial["version"] = agreement.version
        return initial

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class _TermsRowFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    """Rows of one kind (``key`` = "prices" or "discounts"); blank and removed rows are skipped."""

    key = ""

    def service_rows(self) -> list[dict[str, Any]]:
        """The rows to keep, in order; ``self.row_of`` maps a service row index to its form."""
        rows: list[dict[str, Any]] = []
        self.row_of: list[int] = []
        for number, form in enumerate(self.forms):
            data = form.cleaned_data
            if data.get("DELETE") or form.is_blank():  # type: ignore[attr-defined]
                continue
            rows.append(form.service_row())  # type: ignore[attr-defined]
            self.row_of.append(number)
        return rows

    def place_error(self, key: str, messages: list[str]) -> bool:
        """Put ``prices.3.unit_price`` next to that cell; False if the key is not this set's."""
        parts = key.split(".")
        if parts[0] != self.key or len(parts) < 2 or not parts[1].isdecimal():
            return False
        index = int(parts[1])
        if index >= len(getattr(self, "row_of", [])):
            return False
        form = self.forms[self.row_of[index]]
        field = parts[2] if len(parts) > 2 else None
        if field in ("product", "line") and "target" in form.fields:
            field = "target"
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
        return True


class PriceRowForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.select_related("line").order_by("sku"),
        required=False,
        label=_("Product"),
        empty_label="—",
    )
    min_quantity = forms.IntegerField(
        label=_("From quantity"), min_value=1, max_value=10**9, required=False
    )
    unit_price = forms.CharField(label=_("Unit price"), max_length=30, required=False)
    DELETE = forms.BooleanField(label=_("Remove"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit_price"].widget.attrs.update({"inputmode": "decimal", "class": "num"})
        self.fields["min_quantity"].widget.attrs.update({"inputmode": "numeric", "class": "num"})

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("product") and not data.get("unit_price")

    def service_row(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "product": data["product"].pk if data.get("product") else None,
            "min_quantity": data.get("min_quantity") or 1,
            "unit_price": data.get("unit_price"),
        }


class PriceRowFormSet(_TermsRowFormSet):
    key = "prices"


def _target_choices() -> list[Any]:
    lines = [
        (f"line:{line.pk}", line.name)
        for line in ProductLine.objects.order_by("sort_order", "name")
    ]
    products = [(f"product:{p.pk}", f"{p.sku} {p.name}") for p in Product.objects.order_by("sku")]
    return [("", "—"), (_("Product lines"), lines), (_("Products"), products)]


class DiscountRowForm(forms.Form):
    target = forms.ChoiceField(label=_("Product or product line"), required=False)
    percent = forms.CharField(label=_("Discount (%)"), max_length=10, required=False)
    DELETE = forms.BooleanField(label=_("Remove"), required=False)

    def __init__(self, *args: Any, target_choices: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = target_choices or []  # type: ignore[attr-defined]
        self.fields["percent"].widget.attrs.update({"inputmode": "decimal", "class": "num"})

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("target") and not data.get("percent")

    def service_row(self) -> dict[str, Any]:
        kind, _sep, pk = (self.cleaned_data.get("target") or "").partition(":")
        row: dict[str, Any] = {"percent": self.cleaned_data.get("percent") or ""}
        if kind in ("product", "line") and pk.isdecimal():
            row[kind] = int(pk)
        else:  # no target chosen: the service says "choose one" next to the row
            row["product"] = None
            row["line"] = None
        return row


class DiscountRowFormSet(_TermsRowFormSet):
    key = "discounts"


_PriceFormSet = forms.formset_factory(
    PriceRowForm, formset=PriceRowFormSet, extra=0, max_num=2000, validate_max=True
)
_DiscountFormSet = forms.formset_factory(
    DiscountRowForm, formset=DiscountRowFormSet, extra=0, max_num=2000, validate_max=True
)


class TermsForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=5_000,
        help_text=_("Why these terms? Whoever approves them reads it."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AgreementTermsForms:
    """The terms form as one unit: prices, discounts, the reason and the version loaded.

    Without JavaScript a person gets ``TERMS_BLANK_ROWS`` blank rows of each kind and a "more
    rows" button that redisplays the form (nothing saved) with more.
    """

    def __init__(
        self,
        data: Any = None,
        *,
        agreement: Agreement,
        extra_rows: int = TERMS_BLANK_ROWS,
    ) -> None:
        prices = [
            {
                "product": p.product_id,
                "min_quantity": p.min_quantity,
                "unit_price": f"{p.unit_price.normalize():f}",
            }
            for p in agreement.prices.all()
        ]
        discounts = [
            {
                "target": f"product:{d.product_id}" if d.product_id else f"line:{d.line_id}",
                "percent": f"{d.percent.normalize():f}",
            }
            for d in agreement.discounts.all()
        ]
        choices = _target_choices()
        self.terms = TermsForm(data, initial={"version": agreement.version})
        self.prices = cast(PriceRowFormSet, _PriceFormSet(data, initial=prices, prefix="prices"))
        self.discounts = cast(
            DiscountRowFormSet,
            _DiscountFormSet(
                data,
                initial=discounts,
                prefix="discounts",
                form_kwargs={"target_choices": choices},
            ),
        )
        if data is None:
            self.prices.extra = extra_rows
            self.discounts.extra = extra_rows
        self.service_errors: list[str] = []

    def is_valid(self) -> bool:
        return all([self.terms.is_valid(), self.prices.is_valid(), self.discounts.is_valid()])

    @property
    def has_errors(self) -> bool:
        return bool(
            self.service_errors
            or self.terms.errors
            or self.prices.total_error_count()
            or self.discounts.total_error_count()
        )

    def service_kwargs(self) -> dict[str, Any]:
        return {
            "prices": self.prices.service_rows(),
            "discounts": self.discounts.service_rows(),
            "version": self.terms.cleaned_data.get("version"),
            "reason": self.terms.cleaned_data.get("reason") or "",
        }

    def add_service_error(self, exc: ApplicationError) -> None:
        placed = False
        for key, messages in exc.errors.items():
            if self.prices.place_error(key, messages) or self.discounts.place_error(key, messages):
                placed = True
                continue
            if key == "reason":
                for message in messages:
                    self.terms.add_error("reason", message)
            else:
                self.service_errors.extend(messages)
            placed = True
        if not placed:
            self.service_errors.append(exc.message)

    @classmethod
    def with_more_rows(cls, data: Any, *, agreement: Agreement) -> "AgreementTermsForms":
        """The submitted rows again, unsaved, with blank rows added (the no-JS "more rows")."""
        mutable = data.copy()
        for prefix in ("prices", "discounts"):
            total = f"{prefix}-TOTAL_FORMS"
            try:
                count = int(data.get(total, 0))
            except ValueError:
                count = 0
            mutable[total] = str(min(count + TERMS_BLANK_ROWS, 2000))
        return cls(mutable, agreement=agreement)
