"""Pages of risk screening: record a check, read one, download its evidence, see who needs one.

Evidence is never served from MEDIA: every download goes through ``screening_evidence`` below,
which applies the same visibility rule as the account the check belongs to.
"""

import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from tokui.accounts import selectors
from tokui.accounts.constants import ScreeningKind, ScreeningResult
from tokui.accounts.forms import ServiceErrorsMixin
from tokui.accounts.screening import (
    EVIDENCE_TYPES,
    MAX_EVIDENCE_BYTES,
    MAX_EVIDENCE_FILES,
    CheckState,
    check_state,
    evidence_content_type,
    screening_attention_list,
    screening_check_get,
    screening_check_record,
    screening_evidence_get,
    screening_flags_attach,
    screening_may_record,
)
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.pagination import page_slice, parse_positive_int
from tokui.core.views import form_status, maps_service_errors


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; the service checks their number, size and type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [item for item in items if item]


class ScreeningCheckForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Check"), choices=ScreeningKind.choices)
    result = forms.ChoiceField(
        label=gettext_lazy("Result"),
        choices=ScreeningResult.choices,
        widget=forms.RadioSelect,
        initial=ScreeningResult.PASSED,
    )
    subject = forms.CharField(
        label=gettext_lazy("Checked subject"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("The company or person looked up, e.g. the representative's name."),
    )
    credit_limit = forms.CharField(
        label=gettext_lazy("Credit limit (JPY)"),
        max_length=30,
        required=False,
        help_text=gettext_lazy("Required for a passed credit check, e.g. 50,000,000."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "50,000,000"}),
    )
    source = forms.CharField(
        label=gettext_lazy("Source"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("e.g. 帝国データバンク, 東京商工リサーチ, 日経テレコン"),
    )
    recheck_due = forms.DateField(
        label=gettext_lazy("Re-check by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("Empty: one year from today for a passed check."),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    files = MultipleFileField(
        label=gettext_lazy("Evidence"),
        # Lazy to the end: formatting now would fix the text in the language of start-up.
        help_text=format_lazy(
            gettext_lazy(
                "Up to {n} files of at most {mb} MB each: PDF, PNG, JPEG, TIFF, XLSX or DOCX."
            ),
            n=MAX_EVIDENCE_FILES,
            mb=MAX_EVIDENCE_BYTES // (1024 * 1024),
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["files"].widget.attrs["accept"] = ",".join(EVIDENCE_TYPES)

    def clean_credit_limit(self) -> Decimal | None:
        """People type ``50,000,000``, ``¥1,000`` or full-width digits: all become a number."""
        raw = unicodedata.normalize("NFKC", self.cleaned_data.get("credit_limit") or "")
        raw = raw.replace(",", "").replace("¥", "").replace("円", "").replace(" ", "").strip()
        if not raw:
            return None
        try:
            return Decimal(raw)
        except InvalidOperation:
            raise forms.ValidationError(_("Enter the credit limit as a number of yen.")) from None

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["files"] = self.files.getlist("files") if self.files else []
        return data


def _check_form_context(account: Any, form: ScreeningCheckForm) -> dict[str, Any]:
    return {"account": account, "form": form}


@maps_service_errors
@require_http_methods(["GET", "POST"])
def screening_new(request: HttpRequest, account_id: int) -> HttpResponse:
    account = selectors.account_get(viewer=request.user, account_id=account_id)
    if not screening_may_record(request.user):
        raise PermissionDenied(_("Your role can read screening checks but not record them."))
    initial: dict[str, Any] = {"result": ScreeningResult.PASSED, "subject": account.name}
    if request.GET.get("kind") in ScreeningKind.values:
        initial["kind"] = request.GET["kind"]
        if initial["kind"] == ScreeningKind.ANTISOCIAL_REPRESENTATIVE:
            initial["subject"] = ""  # the representative's name, which the page does not know
    form = ScreeningCheckForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            check = screening_check_record(
                actor=request.user, account=account, **form.service_data()
            )
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("%(check)s recorded: %(result)s.")
                % {"check": check.get_kind_display(), "result": check.get_result_display()},
            )
            return redirect("accounts:detail", account_id=account.pk)
    status = form_status(form)
    return TemplateResponse(
        request,
        "accounts/screening/check_form.html",
        _check_form_context(account, form),
        status=status,
    )


@maps_service_errors
@require_GET
def screening_check_detail(request: HttpRequest, check_id: int) -> TemplateResponse:
    check = screening_check_get(viewer=request.user, check_id=check_id)
    state = check_state(check.kind, check, timezone.localdate())
    return TemplateResponse(
        request,
        "accounts/screening/check_detail.html",
        {
            "check": check,
            "account": check.account,
            "evidence": list(check.evidence.all()),
            "expired": state == CheckState.EXPIRED and not getattr(check, "superseded", False),
        },
    )


@maps_service_errors
@require_GET
def screening_evidence(request: HttpRequest, evidence_id: int) -> FileResponse:
    evidence = screening_evidence_get(viewer=request.user, evidence_id=evidence_id)
    try:
        handle = evidence.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404(_("The file is missing from storage.")) from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence_content_type(evidence.original_name),
    )
    response["Cache-Control"] = "private, no-store"
    return response


@maps_service_errors
@require_GET
def screening_index(request: HttpRequest) -> TemplateResponse:
    """Counterparties whose screening is failed, missing, pending or expired."""
    accounts = screening_attention_list(viewer=request.user)
    page = page_slice(accounts, page=parse_positive_int(request.GET.get("page"), 1, 10**6))
    screening_flags_attach(page.items)
    return TemplateResponse(request, "accounts/screening/attention.html", {"page": page})
