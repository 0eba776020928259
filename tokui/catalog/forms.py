"""Page forms of the catalog: they parse what a person typed; the services decide."""

from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from tokui.accounts.forms import ServiceErrorsMixin
from tokui.catalog.attachments import ACCEPTED_EXTENSIONS, KIND_HELP, max_upload_bytes
from tokui.catalog.constants import (
    PRICE_LIST_EDITABLE_FIELDS,
    PRODUCT_EDITABLE_FIELDS,
    PRODUCT_LINE_EDITABLE_FIELDS,
)
from tokui.catalog.models import (
    AttachmentKind,
    CompetitorProduct,
    PriceList,
    Product,
    ProductLine,
)
from tokui.core.exceptions import ApplicationError


class _PriceInput(forms.CharField):
    """Prices are typed as text (``12,000``, full-width digits); the service parses them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=30, **kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "class": "num"})


class ProductForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, product: Product | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = forms.fields_for_model(
            Product, fields=[f for f in PRODUCT_EDITABLE_FIELDS if f not in ("list_price", "cost")]
        )
        for name in PRODUCT_EDITABLE_FIELDS:
            if name == "list_price":
                self.fields[name] = _PriceInput(label=_("List price"))
            elif name == "cost":
                self.fields[name] = _PriceInput(
                    label=_("Cost"),
                    required=False,
                    help_text=_("Confidential: only heads of sales and administrators see it."),
                )
            else:
                self.fields[name] = fields[name]
        self.fields["line"].empty_label = _("Choose a product line")  # type: ignore[attr-defined]
        others = Product.objects.order_by("sku")
        if product is not None:
            others = others.exclude(pk=product.pk)
        self.fields["substitutes"] = forms.ModelMultipleChoiceField(
            queryset=others,
            required=False,
            label=_("Substitutes"),
            help_text=_("Offered when this product is unavailable or discontinued."),
            widget=forms.SelectMultiple(attrs={"size": 6}),
        )
        self.fields["sku"].widget.attrs.update({"autofocus": True, "placeholder": "PMP-100A"})
        self.fields["name_kana"].widget.attrs["placeholder"] = _("e.g. ウズマキポンプ")
        self.fields["lead_time_days"].widget.attrs.update({"min": 0, "inputmode": "numeric"})
        self.fields["description"].widget = forms.Textarea(attrs={"rows": 3})
        self.fields["advantages"].widget = forms.Textarea(attrs={"rows": 4})

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        data["substitutes"] = list(data.get("substitutes") or [])
        return data


class ProductLineForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = forms.fields_for_model(ProductLine, fields=list(PRODUCT_LINE_EDITABLE_FIELDS))
        for name in PRODUCT_LINE_EDITABLE_FIELDS:
            self.fields[name] = fields[name]
        self.fields["sort_order"].required = False
        self.fields["description"].widget = forms.Textarea(attrs={"rows": 3})

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class PriceListForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = forms.fields_for_model(PriceList, fields=list(PRICE_LIST_EDITABLE_FIELDS))
        for name in PRICE_LIST_EDITABLE_FIELDS:
            self.fields[name] = fields[name]
        for name in ("valid_from", "valid_to"):
            self.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields["notes"].widget = forms.Textarea(attrs={"rows": 3})

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class PriceListItemForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.order_by("sku"),
        required=False,
        label=_("Product"),
        empty_label="—",
    )
    min_quantity = forms.IntegerField(
        label=_("From quantity"), min_value=1, max_value=10**9, required=False
    )
    unit_price = _PriceInput(label=_("Unit price"), required=False)
    DELETE = forms.BooleanField(label=_("Remove"), required=False)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("product") and not data.get("unit_price")


class ItemsFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def service_items(self) -> list[dict[str, Any]]:
        """The rows to keep, in order; ``self.row_of`` maps an item index to its form."""
        items: list[dict[str, Any]] = []
        self.row_of: list[int] = []
        for number, form in enumerate(self.forms):
            data = form.cleaned_data
            if data.get("DELETE") or form.is_blank():
                continue
            items.append(
                {
                    "product": data["product"].pk if data.get("product") else None,
                    "min_quantity": data.get("min_quantity") or 1,
                    "unit_price": data.get("unit_price"),
                }
            )
            self.row_of.append(number)
        return items

    def add_service_error(self, exc: ApplicationError) -> None:
        """``items.3.unit_price`` goes next to that cell; anything else above the table."""
        placed = False
        for key, messages in exc.errors.items():
            parts = key.split(".")
            if parts[0] == "items" and len(parts) >= 2 and parts[1].isdecimal():
                index = int(parts[1])
                if index < len(self.row_of):
                    form = self.forms[self.row_of[index]]
                    field = parts[2] if len(parts) > 2 and parts[2] in form.fields else None
                    for message in messages:
                        form.add_error(field, message)
                    placed = True
                    continue
            self.service_errors.extend(messages)
            placed = True
        if not placed:
            self.service_errors.append(exc.message)

    @property
    def service_errors(self) -> list[str]:
        if not hasattr(self, "_service_errors"):
            self._service_errors: list[str] = []
        return self._service_errors


PriceListItemFormSet = forms.formset_factory(
    PriceListItemForm, formset=ItemsFormSet, extra=5, max_num=2000, validate_max=True
)


class AttachmentForm(ServiceErrorsMixin, forms.Form):
    """Upload one product file; the service checks what the file really is."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(value, capfirst(label)) for value, label in AttachmentKind.choices],
        initial=AttachmentKind.IMAGE,
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_("Optional, e.g. 外観写真 or 仕様書 第3版."),
    )
    file = forms.FileField(label=_("File"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mb = max_upload_bytes() // (1024 * 1024)
        self.fields["file"].widget.attrs["accept"] = ACCEPTED_EXTENSIONS[AttachmentKind.SPEC_SHEET]
        self.fields["file"].help_text = _(
            "Images: %(images)s. Spec sheets and other documents: %(docs)s. At most %(mb)d MB."
        ) % {
            "images": KIND_HELP[AttachmentKind.IMAGE],
            "docs": KIND_HELP[AttachmentKind.SPEC_SHEET],
            "mb": mb,
        }


class _ProductChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.sku} {obj.name}"


class CompetitorProductForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, competitors: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = forms.fields_for_model(CompetitorProduct, fields=["name", "currency", "notes"])
        self.fields["competitor"] = forms.ModelChoiceField(
            queryset=competitors,
            label=_("Competitor"),
            empty_label=_("Choose a competitor"),
            help_text=_("Accounts of kind competitor."),
        )
        self.fields["name"] = fields["name"]
        self.fields["name"].widget.attrs["placeholder"] = _("e.g. 競合社 標準ポンプ KX-200")
        self.fields["price"] = _PriceInput(label=_("Their price"), required=False)
        self.fields["currency"] = fields["currency"]
        self.fields["products"] = _ProductChoices(
            queryset=Product.objects.order_by("sku"),
            required=False,
            label=_("Our products it competes with"),
            help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
            widget=forms.SelectMultiple(attrs={"size": 8}),
        )
        self.fields["notes"] = fields["notes"]
        self.fields["notes"].label = _("Comparison")
        self.fields["notes"].help_text = _(
            "Their strengths and weaknesses against ours, and how to answer them."
        )
        self.fields["notes"].widget = forms.Textarea(attrs={"rows": 5})

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("version", "products")}
        data["price"] = data.get("price") or None
        return data

    def service_products(self) -> list[Any]:
        return list(self.cleaned_data.get("products") or [])
