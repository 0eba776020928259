"""Forms of the import pages: they parse what a person chose; the services decide."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tokui.accounts.constants import ImportMode, ImportTarget
from tokui.accounts.forms import ServiceErrorsMixin
from tokui.accounts.imports.presets import PRESETS

ENCODING_CHOICES = [
    ("auto", _("Detect it (UTF-8 or Shift_JIS)")),
    ("utf-8", "UTF-8"),
    ("cp932", "Shift_JIS (CP932)"),
]


class ImportUploadForm(ServiceErrorsMixin, forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or Shift_JIS), Excel workbook (.xlsx) or vCard (.vcf)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx,.vcf"}),
    )
    target = forms.ChoiceField(label=_("Import"), choices=ImportTarget.choices)
    preset = forms.ChoiceField(
        label=_("Columns from"),
        choices=[("", _("Any file: match the column names")), *PRESETS.items()],
        required=False,
    )
    mode = forms.ChoiceField(label=_("Records that exist already"), choices=ImportMode.choices)
    encoding = forms.ChoiceField(label=_("Text encoding"), choices=ENCODING_CHOICES)


class ImportMappingForm(ServiceErrorsMixin, forms.Form):
    """One choice per column of the file: the field it goes to, or nothing."""

    def __init__(
        self,
        *args: Any,
        headers: list[str],
        labels: dict[str, str],
        mapping: dict[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = [("", _("— don't import —")), *labels.items()]
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header, choices=choices, required=False, initial=mapping.get(header, "")
            )

    def mapping(self) -> dict[str, str]:
        return {
            header: self.cleaned_data.get(f"column_{index}") or ""
            for index, header in enumerate(self.headers)
        }

    def columns(self) -> list[tuple[str, forms.BoundField]]:
        return [(header, self[f"column_{i}"]) for i, header in enumerate(self.headers)]
