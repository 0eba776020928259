"""Page forms of the stage settings: they parse what an administrator typed; stages.py decides."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tokui.accounts.forms import ServiceErrorsMixin
from tokui.pipeline.constants import Requirement, StageKind
from tokui.pipeline.models import PlaybookStep, Stage


class StageForm(ServiceErrorsMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Name (English)"), max_length=100)
    name_ja = forms.CharField(label=_("Name (Japanese)"), max_length=100, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=StageKind.choices,
        help_text=_("Open stages are the work cycle; a won or lost stage closes the deal."),
    )
    description = forms.CharField(
        label=_("What happens in this stage"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    description_ja = forms.CharField(
        label=_("What happens in this stage (Japanese)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    @staticmethod
    def initial_of(stage: Stage) -> dict[str, Any]:
        return {
            "version": stage.version,
            "name": stage.name,
            "name_ja": stage.name_ja,
            "kind": stage.kind,
            "description": stage.description,
            "description_ja": stage.description_ja,
        }

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class StepForm(ServiceErrorsMixin, forms.Form):
    text = forms.CharField(label=_("Step (English)"), max_length=200)
    text_ja = forms.CharField(label=_("Step (Japanese)"), max_length=200, required=False)
    requirement = forms.ChoiceField(
        label=_("Checked by"),
        choices=Requirement.choices,
        initial=Requirement.MANUAL,
        help_text=_("Ticked by hand, or read from the deal itself (contact, products, quote …)."),
    )
    required = forms.BooleanField(label=_("Required to move on"), required=False, initial=True)

    @staticmethod
    def initial_of(step: PlaybookStep) -> dict[str, Any]:
        return {
            "text": step.text,
            "text_ja": step.text_ja,
            "requirement": step.requirement,
            "required": step.required,
        }
