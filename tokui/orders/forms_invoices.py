"""Page forms of invoices: they parse what a person typed; the services decide."""

import secrets
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tokui.accounts.forms import ServiceErrorsMixin
from tokui.orders.constants import DocumentLanguage, InvoiceKind, InvoiceStatus, PaymentMethod
from tokui.orders.models import Invoice

DATE_WIDGET = {"type": "date"}


def new_key() -> str:
    """A random key for a create form: a second click sends the same key."""
    return secrets.token_urlsafe(16)


class _KeyedForm(ServiceErrorsMixin, forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)


class InvoiceFilterForm(forms.Form):
    """The list's filters; a wrong value is ignored (the list shows everything for it)."""

    q = forms.CharField(label=_("Counterparty or number"), required=False, max_length=200)
    date_from = forms.DateField(
        label=_("Date from"),
        required=False,
        widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("Date to"),
        required=False,
        widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
    )
    amount_min = forms.DecimalField(
        label=_("Amount from"), required=False, max_digits=16, decimal_places=2
    )
    amount_max = forms.DecimalField(
        label=_("Amount to"), required=False, max_digits=16, decimal_places=2
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status")), *InvoiceStatus.choices]  # type: ignore[attr-defined]
        self.fields["kind"].choices = [("", _("Invoices and credit notes")), *InvoiceKind.choices]  # type: ignore[attr-defined]
        for name in ("amount_min", "amount_max"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "class": "num"})
        self.fields["q"].widget.attrs.update(
            {"type": "search", "autocomplete": "off", "data-hotkey": "/"}
        )

    def values(self) -> dict[str, Any]:
        """The valid filters (an invalid one counts as empty)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) for name in self.fields if name not in self.errors}


class PaymentForm(_KeyedForm):
    paid_on = forms.DateField(
        label=_("Paid on"), widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d")
    )
    amount = forms.CharField(label=_("Amount"), max_length=30)
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_("e.g. the transfer's name as shown on the bank statement."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].widget.attrs.update({"inputmode": "decimal", "class": "num"})


class CorrectionForm(_KeyedForm):
    """A correction: new quantities by line position (empty keeps the line as it is)."""

    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, invoice: Invoice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.positions = []
        for line in invoice.lines.all():
            name = f"line_{line.position}"
            self.fields[name] = forms.IntegerField(
                label=f"{line.position}. {line.sku} {line.description}",
                required=False,
                min_value=0,
                max_value=10**9,
                help_text=_("Invoiced: %(n)s. 0 drops the line.") % {"n": line.quantity},
            )
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "class": "num"})
            self.positions.append(line.position)

    def quantities(self) -> dict[int, int]:
        return {
            position: self.cleaned_data[f"line_{position}"]
            for position in self.positions
            if self.cleaned_data.get(f"line_{position}") is not None
        }

    def add_service_error(self, exc: Any) -> None:
        for field, messages in exc.errors.items():
            if field.startswith("lines."):
                name = "line_" + field.removeprefix("lines.")
                if name in self.fields:
                    for message in messages:
                        self.add_error(name, message)
                    continue
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        if not exc.errors:
            self.add_error(None, exc.message)


class CreditNoteForm(CorrectionForm):
    """A credit note for returns: the quantities returned by line position."""

    def __init__(self, *args: Any, invoice: Invoice, **kwargs: Any) -> None:
        super().__init__(*args, invoice=invoice, **kwargs)
        self.fields["reason"].label = _("Why the goods came back")
        for line in invoice.lines.all():
            field = self.fields[f"line_{line.position}"]
            field.help_text = _("Invoiced: %(n)s.") % {"n": line.quantity}
            field.min_value = 1  # type: ignore[attr-defined]


class IssueOrderForm(_KeyedForm):
    pass


class PeriodForm(_KeyedForm):
    period_end = forms.DateField(
        label=_("Closing day"), widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d")
    )
    language = forms.ChoiceField(label=_("Document language"), choices=DocumentLanguage.choices)
    contact = forms.TypedChoiceField(
        label=_("Addressed to"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("A person gets 様; without one the invoice goes to the company (御中)."),
    )

    def __init__(self, *args: Any, contacts: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = [  # type: ignore[attr-defined]
            ("", _("— the company (御中) —")),
            *((c.pk, c.full_name) for c in contacts),
        ]


class InvoiceEmailForm(ServiceErrorsMixin, forms.Form):
    to = forms.TypedChoiceField(label=_("To"), coerce=int)
    language = forms.ChoiceField(label=_("Language"), choices=DocumentLanguage.choices)
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(
        label=_("Text"), max_length=50_000, widget=forms.Textarea(attrs={"rows": 12})
    )

    def __init__(self, *args: Any, contacts: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [  # type: ignore[attr-defined]
            (c.pk, f"{c.full_name} 様 <{c.email}>") for c in contacts
        ]
