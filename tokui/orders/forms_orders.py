"""Page forms of orders: they parse what a person typed; the services decide.

The lines editor is the quote form's (no JavaScript: blank rows and an "Add lines" button).
"""

import uuid
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from tokui.accounts.forms import ServiceErrorsMixin
from tokui.accounts.models import Account
from tokui.catalog.constants import ProductStatus
from tokui.catalog.models import Product
from tokui.core.exceptions import ApplicationError
from tokui.orders.forms_quotes import DATE_WIDGET, LINES_BLANK_ROWS, LINES_MAX, ProductChoiceField
from tokui.orders.forms_quotes import QuoteLineFormSet as LineFormSet


def new_key() -> str:
    return uuid.uuid4().hex


def account_address(account: Account) -> str:
    """The account's address as a delivery address (the order form's default)."""
    parts = []
    if account.postal_code:
        parts.append(account.postal_code_display)  # 〒980-0811
    if account.address_display:
        parts.append(account.address_display)
    return " ".join(parts)


class OrderForm(ServiceErrorsMixin, forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)
    contact = forms.TypedChoiceField(
        label=_("Ordered by"), required=False, coerce=int, empty_value=None
    )
    customer_reference = forms.CharField(
        label=_("Customer's order number"),
        max_length=100,
        required=False,
        help_text=_("The number on the customer's purchase order (注文書), if any."),
    )
    ordered_on = forms.DateField(
        label=_("Ordered on"), widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d")
    )
    delivery_address = forms.CharField(
        label=_("Deliver to"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        contacts = account.contacts.filter(archived_at=None).order_by("sort_key", "id")
        self.fields["contact"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *(
                (c.pk, f"{c.full_name}" + (f" · {c.department}" if c.department else ""))
                for c in contacts
            ),
        ]
        self.fields["customer_reference"].widget.attrs.update({"autofocus": True})


class OrderLineForm(forms.Form):
    product = ProductChoiceField(
        queryset=Product.objects.none(), required=False, label=_("Product"), empty_label="—"
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=10**9, required=False)
    # Blank: the engine's price. Lower: taken within the author's authority, else the order
    # waits for an approval; higher: refused (the service says so next to the line).
    unit_price = forms.CharField(label=_("Agreed price"), max_length=30, required=False)
    promised_on = forms.DateField(
        label=_("Promised date"),
        required=False,
        widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
    )
    DELETE = forms.BooleanField(label=_("Remove"), required=False)

    def __init__(self, *args: Any, products: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if products is not None:
            self.fields["product"].queryset = products  # type: ignore[attr-defined]
        self.fields["quantity"].widget.attrs.update({"inputmode": "numeric", "class": "num"})
        self.fields["unit_price"].widget.attrs.update(
            {"inputmode": "decimal", "class": "num", "placeholder": _("our price")}
        )

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("product") and not data.get("quantity")

    def service_row(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "product": data["product"].pk if data.get("product") else None,
            "quantity": data.get("quantity"),
            "unit_price": (data.get("unit_price") or "").strip() or None,
            "promised_on": data.get("promised_on"),
        }


_LineFormSet = forms.formset_factory(
    OrderLineForm, formset=LineFormSet, extra=0, max_num=LINES_MAX, validate_max=True
)


def orderable_products() -> Any:
    """Products the picker offers: not discontinued (an unavailable one is refused by the
    assortment check, which names its lead time and substitutes next to the line)."""
    return Product.objects.exclude(status=ProductStatus.DISCONTINUED).order_by("sku")


class OrderForms:
    """The order form as one unit: its fields and its lines."""

    def __init__(
        self,
        data: Any = None,
        *,
        account: Account,
        initial: dict[str, Any] | None = None,
        extra_rows: int = LINES_BLANK_ROWS,
    ) -> None:
        self.form = OrderForm(data, account=account, initial=initial)
        self.lines = cast(
            LineFormSet,
            _LineFormSet(data, prefix="lines", form_kwargs={"products": orderable_products()}),
        )
        if data is None:
            self.lines.extra = extra_rows
        self.service_errors: list[str] = []

    def is_valid(self) -> bool:
        return all([self.form.is_valid(), self.lines.is_valid()])

    @property
    def has_errors(self) -> bool:
        return bool(
            self.service_errors
            or self.form.errors
            or self.lines.total_error_count()
            or self.lines.non_form_errors()
        )

    def add_service_error(self, exc: ApplicationError) -> None:
        placed = False
        for key, messages in exc.errors.items():
            placed = True
            if self.lines.place_error(key, messages):
                continue
            if key in self.form.fields and key != "idempotency_key":
                for message in messages:
                    self.form.add_error(key, message)
            else:
                self.service_errors.extend(messages)
        if not placed:
            self.service_errors.append(exc.message)

    @classmethod
    def with_more_rows(cls, data: Any, *, account: Account) -> "OrderForms":
        mutable = data.copy()
        try:
            count = int(data.get("lines-TOTAL_FORMS", 0))
        except ValueError:
            count = 0
        mutable["lines-TOTAL_FORMS"] = str(min(count + LINES_BLANK_ROWS, LINES_MAX))
        return cls(mutable, account=account)


class CancelForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label=_("Why is the order cancelled?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SubstituteForm(forms.Form):
    """Swap an order line's product for one of its substitutes."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    product = forms.TypedChoiceField(label=_("Substitute"), coerce=int)

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = choices  # type: ignore[attr-defined]
