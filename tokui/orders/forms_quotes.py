"""Page forms of quotes: they parse what a person typed; the services decide.

The lines editor works without JavaScript: ``LINES_BLANK_ROWS`` blank rows and an "Add lines"
button that shows the form again (nothing saved) with more.
"""

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from tokui.accounts.forms import ServiceErrorsMixin
from tokui.accounts.models import Account
from tokui.catalog.constants import ProductStatus
from tokui.catalog.models import Product
from tokui.core.exceptions import ApplicationError
from tokui.orders.company import COMPANY_FIELDS
from tokui.orders.constants import DocumentLanguage
from tokui.orders.models import CompanyProfile, Quote

LINES_BLANK_ROWS = 3
LINES_MAX = 100
DATE_WIDGET = {"type": "date"}


class QuoteForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label=_("Subject"), max_length=200)
    contact = forms.TypedChoiceField(
        label=_("Addressed to"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("A person gets 様; without one the quote goes to the company (御中)."),
    )
    addressee_department = forms.CharField(
        label=_("Department"),
        max_length=200,
        required=False,
        help_text=_("Printed before 御中 when no person is chosen, e.g. 購買部."),
    )
    issued_on = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d")
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        help_text=_("Empty: the company's usual validity."),
        widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
    )
    payment_terms = forms.CharField(
        label=_("Payment terms"),
        max_length=200,
        required=False,
        help_text=_("Empty on a new quote: the terms of the account's agreement, if any."),
    )
    delivery_terms = forms.CharField(label=_("Delivery"), max_length=200, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    language = forms.ChoiceField(label=_("Document language"), choices=DocumentLanguage.choices)
    era_dates = forms.BooleanField(label=_("Japanese era dates (令和8年11月28日)"), required=False)

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        contacts = account.contacts.filter(archived_at=None).order_by("sort_key", "id")
        self.fields["contact"].choices = [  # type: ignore[attr-defined]
            ("", _("— the company (御中) —")),
            *(
                (c.pk, f"{c.full_name}" + (f" · {c.department}" if c.department else ""))
                for c in contacts
            ),
        ]
        self.fields["title"].widget.attrs.update(
            {"autofocus": True, "placeholder": _("e.g. 渦巻ポンプ 更新工事一式")}
        )

    @staticmethod
    def initial_of(quote: Quote) -> dict[str, Any]:
        return {
            "version": quote.version,
            "title": quote.title,
            "contact": quote.contact_id,
            "addressee_department": "" if quote.contact_id else quote.addressee_department,
            "issued_on": quote.issued_on,
            "valid_until": quote.valid_until,
            "payment_terms": quote.payment_terms,
            "delivery_terms": quote.delivery_terms,
            "notes": quote.notes,
            "language": quote.language,
            "era_dates": quote.era_dates,
        }

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        return data


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.sku} {obj.name}"


class QuoteLineForm(forms.Form):
    product = ProductChoiceField(
        queryset=Product.objects.none(), required=False, label=_("Product"), empty_label="—"
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=10**9, required=False)
    unit_price = forms.CharField(
        label=_("Offered unit price"),
        max_length=30,
        required=False,
        help_text=_("Empty: the price found"),
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    DELETE = forms.BooleanField(label=_("Remove"), required=False)

    def __init__(self, *args: Any, products: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if products is not None:
            self.fields["product"].queryset = products  # type: ignore[attr-defined]
        self.fields["quantity"].widget.attrs.update({"inputmode": "numeric", "class": "num"})
        self.fields["unit_price"].widget.attrs.update(
            {"inputmode": "decimal", "class": "num", "placeholder": _("price found")}
        )
        self.fields["description"].widget.attrs.update(
            {"placeholder": _("Empty: the product's name")}
        )

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("product") and not data.get("quantity")

    def service_row(self) -> dict[str, Any]:
        data = self.cleaned_data
        row: dict[str, Any] = {
            "product": data["product"].pk if data.get("product") else None,
            "quantity": data.get("quantity"),
        }
        if data.get("unit_price"):
            row["unit_price"] = data["unit_price"]
        if data.get("description"):
            row["description"] = data["description"]
        return row


class QuoteLineFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def service_rows(self) -> list[dict[str, Any]]:
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
        parts = key.split(".")
        if parts[0] != "lines" or len(parts) < 2 or not parts[1].isdecimal():
            return False
        index = int(parts[1])
        row_of = getattr(self, "row_of", [])
        if index >= len(row_of):
            return False
        form = self.forms[row_of[index]]
        field = parts[2] if len(parts) > 2 else None
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
        return True


_LineFormSet = forms.formset_factory(
    QuoteLineForm, formset=QuoteLineFormSet, extra=0, max_num=LINES_MAX, validate_max=True
)


def quotable_products(current_ids: list[int] | None = None) -> Any:
    """Products that may be quoted (not discontinued), and those already on the draft."""
    qs = Product.objects.exclude(status=ProductStatus.DISCONTINUED)
    if current_ids:
        qs = Product.objects.filter(pk__in=qs.values("pk")) | Product.objects.filter(
            pk__in=current_ids
        )
    return qs.order_by("sku")


class QuoteForms:
    """The quote form as one unit: its fields and its lines."""

    def __init__(
        self,
        data: Any = None,
        *,
        account: Account,
        initial: dict[str, Any] | None = None,
        lines: list[dict[str, Any]] | None = None,
        extra_rows: int = LINES_BLANK_ROWS,
    ) -> None:
        self.form = QuoteForm(data, account=account, initial=initial)
        current_ids = [row["product"] for row in lines or [] if row.get("product")]
        self.lines = cast(
            QuoteLineFormSet,
            _LineFormSet(
                data,
                initial=lines or [],
                prefix="lines",
                form_kwargs={"products": quotable_products(current_ids)},
            ),
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
            if self.lines.place_error(key, messages):
                placed = True
                continue
            if key in self.form.fields:
                for message in messages:
                    self.form.add_error(key, message)
            else:
                self.service_errors.extend(messages)
            placed = True
        if not placed:
            self.service_errors.append(exc.message)

    @classmethod
    def with_more_rows(cls, data: Any, *, account: Account) -> "QuoteForms":
        mutable = data.copy()
        try:
            count = int(data.get("lines-TOTAL_FORMS", 0))
        except ValueError:
            count = 0
        mutable["lines-TOTAL_FORMS"] = str(min(count + LINES_BLANK_ROWS, LINES_MAX))
        return cls(mutable, account=account)


class DeclineForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label=_("Why did the customer decline?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class IssueForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label=_("Reason, for the approver"),
        required=False,
        max_length=4000,
        help_text=_("Only needed when the quote is beyond your authority."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EmailForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(
        label=_("Text"), max_length=50_000, widget=forms.Textarea(attrs={"rows": 12})
    )


class CompanyForm(ServiceErrorsMixin, forms.Form):
    """Our company's details; the service normalises postal code, phones and the T-number."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Company name"), max_length=200)
    name_en = forms.CharField(label=_("Company name (English)"), max_length=200, required=False)
    registration_number = forms.CharField(
        label=_("Invoice registration number"),
        max_length=20,
        required=False,
        help_text=_("T followed by 13 digits (適格請求書発行事業者登録番号)."),
    )
    postal_code = forms.CharField(label=_("Postal code"), max_length=10, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    address_en = forms.CharField(label=_("Address (English)"), max_length=300, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    fax = forms.CharField(label=_("Fax"), max_length=30, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    bank_account = forms.CharField(
        label=_("Bank account for payment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    quote_validity_days = forms.IntegerField(
        label=_("Quotes valid for (days)"), min_value=1, max_value=365
    )

    @staticmethod
    def initial_of(profile: CompanyProfile) -> dict[str, Any]:
        initial = {name: getattr(profile, name) for name in COMPANY_FIELDS}
        initial["version"] = profile.version
        return initial

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in COMPANY_FIELDS}
