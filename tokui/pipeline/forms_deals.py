"""Page forms of a deal: they parse what a person typed; the deal services decide."""

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tokui.accounts.constants import AccountKind
from tokui.accounts.forms import OwnerChoiceField, ServiceErrorsMixin
from tokui.accounts.models import Account
from tokui.activities.constants import AppointmentKind, InteractionKind, MeetingMode
from tokui.catalog.constants import Currency, ProductStatus
from tokui.catalog.models import Product, ProductLine
from tokui.core.exceptions import ApplicationError
from tokui.pipeline.constants import DealSource, Likelihood, LostReason
from tokui.pipeline.models import Deal
from tokui.users.models import User
from tokui.users.selectors import user_assignable_owners

LINES_BLANK_ROWS = 3
LINES_MAX = 100
DURATIONS = (15, 30, 45, 60, 90, 120)


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _datetime_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class DealForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label=_("Title"), max_length=200)
    contact = forms.TypedChoiceField(
        label=_("Contact person"), required=False, coerce=int, empty_value=None
    )
    owner = OwnerChoiceField(queryset=User.objects.none(), label=_("Owner"), empty_label=None)
    value = forms.CharField(
        label=_("Value"),
        max_length=30,
        required=False,
        help_text=_("Your estimate; once the deal has products, their total is the value."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "num"}),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    expected_close = forms.DateField(
        label=_("Expected close"), required=False, widget=_date_widget()
    )
    likelihood = forms.ChoiceField(
        label=_("Likelihood (確度)"),
        choices=Likelihood.choices,
        help_text=_("Your judgement of the chance to win, apart from the stage."),
    )
    source = forms.ChoiceField(label=_("Source"), choices=DealSource.choices)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(
        self, *args: Any, viewer: User, account: Account, deal: Deal | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.deal = deal
        contacts = account.contacts.filter(archived_at=None).order_by("sort_key", "pk")
        self.fields["contact"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (c.pk, f"{c.full_name}{' · ' + c.title if c.title else ''}") for c in contacts
        ]
        owners = user_assignable_owners(viewer=viewer)
        if deal is not None:  # the current owner stays choosable
            owners = owners | User.objects.filter(pk=deal.owner_id)
        self.fields["owner"].queryset = owners.distinct()  # type: ignore[attr-defined]
        self.fields["title"].widget.attrs.update(
            {"autofocus": True, "placeholder": _("e.g. 包装ライン更新 2027")}
        )
        self.has_lines = bool(deal and deal.lines.exists())
        if self.has_lines:
            self.fields["value"].disabled = True
            self.fields["value"].help_text = _("The total of the deal's products.")
            self.fields["currency"].disabled = True
            self.fields["currency"].help_text = _(
                "Remove the products before changing the currency."
            )

    @staticmethod
    def initial_of(deal: Deal) -> dict[str, Any]:
        return {
            "version": deal.version,
            "title": deal.title,
            "contact": deal.contact_id,
            "owner": deal.owner_id,
            "value": f"{deal.value.normalize():f}" if deal.value else "",
            "currency": deal.currency,
            "expected_close": deal.expected_close,
            "likelihood": deal.likelihood,
            "source": deal.source,
            "description": deal.description,
        }

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        data["owner"] = data["owner"].pk if data.get("owner") else None
        if self.has_lines:
            data.pop("value", None)
            data.pop("currency", None)
        return data


class ProductChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.sku} {obj.name}"


class LineRowForm(forms.Form):
    product = ProductChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(status=ProductStatus.ACTIVE).order_by("sku"),
        required=False,
        empty_label="—",
    )
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=10**9 - 1,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "num", "min": 1}),
    )
    unit_price = forms.CharField(
        label=_("Unit price"),
        max_length=30,
        required=False,
        help_text=_("Empty: the price the engine finds for this account."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "num"}),
    )

    def __init__(self, *args: Any, currency: str = "JPY", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["product"]
        # Products of the deal's currency only: one deal has one currency. A product already
        # on a line stays choosable even if it is no longer sold (the service says why).
        chosen = self.initial.get("product")
        queryset = Product.objects.filter(currency=currency, status=ProductStatus.ACTIVE)
        if chosen:
            queryset = queryset | Product.objects.filter(pk=chosen)
        field.queryset = queryset.order_by("sku")  # type: ignore[attr-defined]

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("product") and not data.get("quantity") and not data.get("unit_price")

    def service_row(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "product": data["product"].pk if data.get("product") else None,
            "quantity": data.get("quantity") if data.get("quantity") is not None else "",
            "unit_price": data.get("unit_price") or None,
        }


class LineFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def service_rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        self.row_of: list[int] = []
        for number, form in enumerate(self.forms):
            if form.is_blank():  # type: ignore[attr-defined]
                continue
            rows.append(form.service_row())  # type: ignore[attr-defined]
            self.row_of.append(number)
        return rows

    def add_service_error(self, exc: ApplicationError) -> list[str]:
        """Put "lines.3" next to the third submitted row; returns what fits no row."""
        rest: list[str] = []
        for key, messages in exc.errors.items():
            parts = key.split(".")
            if parts[0] == "lines" and len(parts) == 2 and parts[1].isdecimal():
                index = int(parts[1]) - 1
                if 0 <= index < len(getattr(self, "row_of", [])):
                    for message in messages:
                        self.forms[self.row_of[index]].add_error(None, message)
                    continue
            rest.extend(messages)
        if not exc.errors:
            rest.append(exc.message)
        return rest


_LineFormSet = forms.formset_factory(
    LineRowForm, formset=LineFormSet, extra=0, max_num=LINES_MAX, validate_max=True
)


def lines_formset(
    data: Any = None, *, deal: Deal, extra: int = LINES_BLANK_ROWS, add_product: int | None = None
) -> LineFormSet:
    initial = [
        {
            "product": line.product_id,
            "quantity": line.quantity,
            # A hand-set price stays as typed; an engine price is found again when saved.
            "unit_price": "",
        }
        for line in deal.lines.all()
        if line.product_id
    ]
    if add_product:
        initial.append({"product": add_product, "quantity": 1, "unit_price": ""})
        extra = max(extra - 1, 1)
    formset = _LineFormSet(
        data, initial=initial, prefix="lines", form_kwargs={"currency": deal.currency}
    )
    if data is None:
        formset.extra = extra
    return formset  # type: ignore[return-value]


def lines_with_more_rows(data: Any, *, deal: Deal) -> LineFormSet:
    """The submitted rows again, unsaved, with blank rows added (the no-JS "more lines")."""
    mutable = data.copy()
    try:
        count = int(data.get("lines-TOTAL_FORMS", 0))
    except ValueError:
        count = 0
    mutable["lines-TOTAL_FORMS"] = str(min(count + LINES_BLANK_ROWS, LINES_MAX))
    return lines_formset(mutable, deal=deal)


class NeedForm(ServiceErrorsMixin, forms.Form):
    text = forms.CharField(
        label=_("Need"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("In the customer's words")}),
    )
    line = forms.ModelChoiceField(
        label=_("Product line"),
        queryset=ProductLine.objects.order_by("sort_order", "name"),
        required=False,
        empty_label="—",
    )
    important = forms.BooleanField(label=_("Decisive for the customer"), required=False)


class ObjectionForm(ServiceErrorsMixin, forms.Form):
    text = forms.CharField(
        label=_("Objection"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("e.g. 価格が他社より高い")}),
    )
    response = forms.CharField(
        label=_("Our answer"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    resolved = forms.BooleanField(label=_("Resolved"), required=False)


class AnswerForm(ServiceErrorsMixin, forms.Form):
    response = forms.CharField(
        label=_("Our answer"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    resolved = forms.BooleanField(label=_("Resolved"), required=False)


class LoseForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    lost_reason = forms.ChoiceField(
        label=_("Why was it lost?"), choices=[("", "—"), *LostReason.choices]
    )
    lost_to = forms.TypedChoiceField(
        label=_("Competitor who won"), required=False, coerce=int, empty_value=None
    )
    lost_note = forms.CharField(
        label=_("What happened"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rivals = (
            Account.objects.visible_to(viewer)
            .filter(kind=AccountKind.COMPETITOR, archived_at=None)
            .order_by("name")[:200]
        )
        self.fields["lost_to"].choices = [("", "—")] + [(a.pk, a.name) for a in rivals]  # type: ignore[attr-defined]
        self.fields["lost_reason"].required = False  # the service says why it is needed


class BookForm(ServiceErrorsMixin, forms.Form):
    """An appointment for this deal: the calendar's booking, with the deal as its subject."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=AppointmentKind.choices, initial=AppointmentKind.MEETING
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=_datetime_widget())
    minutes = forms.TypedChoiceField(
        label=_("Length"),
        coerce=int,
        initial=60,
        choices=[(n, _("%(n)d minutes") % {"n": n}) for n in DURATIONS],
    )
    mode = forms.ChoiceField(
        label=_("Where"),
        choices=[("", "—"), *MeetingMode.choices],
        required=False,
        initial=MeetingMode.ON_SITE,
    )
    allow_conflicts = forms.BooleanField(label=_("Book it even though it overlaps"), required=False)

    def service_data(self, deal: Deal) -> dict[str, Any]:
        data = self.cleaned_data
        starts = data["starts_at"]
        service: dict[str, Any] = {
            "kind": data["kind"],
            "title": data["title"],
            "starts_at": starts,
            "ends_at": starts + datetime.timedelta(minutes=data["minutes"]),
            "mode": data["mode"] if data["kind"] == AppointmentKind.MEETING else "",
        }
        if deal.contact_id:
            service["contacts"] = [deal.contact_id]
        return service


class MeetingForm(ServiceErrorsMixin, forms.Form):
    """A meeting that took place, logged on the timeline with the deal as its subject."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(InteractionKind.MEETING, InteractionKind.MEETING.label),
                 (InteractionKind.VISIT, InteractionKind.VISIT.label)],
    )  # fmt: skip
    occurred_at = forms.DateTimeField(label=_("When"), widget=_datetime_widget())
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Notes"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def service_data(self, deal: Deal) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if deal.contact_id:
            data["contacts"] = [deal.contact_id]
        return data


def default_meeting_initial(deal: Deal) -> dict[str, Any]:
    now = timezone.localtime().replace(second=0, microsecond=0)
    return {"occurred_at": now, "subject": deal.title, "kind": InteractionKind.MEETING}


def default_book_initial(deal: Deal) -> dict[str, Any]:
    tomorrow = timezone.localtime() + datetime.timedelta(days=1)
    starts = tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)
    return {"starts_at": starts, "title": deal.title, "minutes": 60}
