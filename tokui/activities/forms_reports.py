"""Forms of the daily report pages: they parse; the services in daily_reports decide."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tokui.activities.daily_reports import COMMENT_MAX_LENGTH, SUMMARY_MAX_LENGTH
from tokui.core.exceptions import ApplicationError


class _ServiceErrors:
    def add_service_error(self, exc: ApplicationError) -> None:
        placed = False
        for name, messages in exc.errors.items():
            target = name if name in self.fields else None  # type: ignore[attr-defined]
            for message in messages:
                self.add_error(target, message)  # type: ignore[attr-defined]
                placed = True
        if not placed:
            self.add_error(None, exc.message)  # type: ignore[attr-defined]


class DailyReportForm(_ServiceErrors, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    summary = forms.CharField(
        label=_("Comments on your day"),
        required=False,
        max_length=SUMMARY_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What went well, what is stuck, what you need from your manager."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["summary"].widget.attrs["placeholder"] = _(
            "e.g. 山田商事様と来期の価格改定を協議。先方は5%の値上げに難色、代替案を来週提示。"
        )


class DailyReportCommentForm(_ServiceErrors, forms.Form):
    body = forms.CharField(
        label=_("Comment"),
        max_length=COMMENT_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RollupForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"), choices=[("week", _("Week")), ("month", _("Month"))], required=False
    )
    by = forms.ChoiceField(
        label=_("Per"), choices=[("person", _("Person")), ("team", _("Team"))], required=False
    )
    date = forms.DateField(label=_("Including"), required=False)
