"""Import pages: upload → column mapping with a preview → progress and report. Thin."""

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tokui.accounts.constants import ImportMode, ImportOutcome, ImportStatus, ImportTarget
from tokui.accounts.imports import selectors, services
from tokui.accounts.imports.forms import ImportMappingForm, ImportUploadForm
from tokui.accounts.imports.presets import field_labels
from tokui.accounts.imports.report import report_rows
from tokui.accounts.models import ImportJob
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.views import form_status, is_htmx, maps_service_errors


def _require_editor(request: HttpRequest) -> None:
    if not request.user.may_edit_accounts:
        raise PermissionDenied(_("Your role can read accounts but not change them."))


def _percent(job: ImportJob) -> int:
    if job.status == ImportStatus.DONE:
        return 100
    if not job.total_rows:
        return 0
    return min(100, job.processed_rows * 100 // job.total_rows)


@maps_service_errors
@require_GET
def import_index(request: HttpRequest) -> TemplateResponse:
    jobs = list(selectors.import_job_list(viewer=request.user))
    return TemplateResponse(
        request,
        "accounts/imports/import_index.html",
        {"jobs": [(job, _percent(job)) for job in jobs]},
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    form = ImportUploadForm(
        request.POST or None,
        request.FILES or None,
        initial={
            "target": request.GET.get("target", ImportTarget.ACCOUNTS),
            "mode": ImportMode.CREATE,
            "encoding": "auto",
        },
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_job_create(
                actor=request.user,
                file=upload,
                name=upload.name or "",
                target=form.cleaned_data["target"],
                mode=form.cleaned_data["mode"],
                preset=form.cleaned_data["preset"],
                encoding=form.cleaned_data["encoding"],
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            return redirect("accounts:import_mapping", job_id=job.pk)
    status = form_status(form)
    return TemplateResponse(
        request, "accounts/imports/import_new.html", {"form": form}, status=status
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, job_id: Any) -> HttpResponse:
    job = selectors.import_job_get(viewer=request.user, job_id=job_id)
    _require_editor(request)
    if job.status != ImportStatus.PENDING or job.processed_rows:
        return redirect("accounts:import_detail", job_id=job.pk)
    headers, preview = selectors.import_preview(job=job)
    form = ImportMappingForm(
        request.POST or None,
        headers=headers,
        labels=field_labels(job.target),
        mapping=job.mapping,
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_set_mapping(
                actor=request.user, job=job, mapping=form.mapping()
            )
            services.import_job_start(actor=request.user, job=job, language=get_language())
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            return redirect("accounts:import_detail", job_id=job.pk)
    columns = [
        (header, field, [cells[i] if i < len(cells) else "" for _number, cells in preview])
        for i, (header, field) in enumerate(form.columns())
    ]
    return TemplateResponse(
        request,
        "accounts/imports/import_mapping.html",
        {
            "job": job,
            "form": form,
            "columns": columns,
            "preview_numbers": [number for number, _cells in preview],
        },
        status=form_status(form),
    )


@maps_service_errors
@require_GET
def import_detail(request: HttpRequest, job_id: Any) -> TemplateResponse:
    job = selectors.import_job_get(viewer=request.user, job_id=job_id)
    template = "accounts/imports/import_detail.html"
    if is_htmx(request):
        template += "#progress"
    context = {
        "job": job,
        "percent": _percent(job),
        "running": job.status in (ImportStatus.PENDING, ImportStatus.RUNNING),
        "results": list(selectors.import_row_results(job=job, limit=100)),
        "outcomes": dict(ImportOutcome.choices),
    }
    return TemplateResponse(request, template, context)


@maps_service_errors
@require_POST
def import_resume(request: HttpRequest, job_id: Any) -> HttpResponse:
    job = selectors.import_job_get(viewer=request.user, job_id=job_id)
    try:
        services.import_job_start(actor=request.user, job=job, language=get_language())
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    return redirect("accounts:import_detail", job_id=job.pk)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _report_lines(job: ImportJob) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so Excel reads the file as UTF-8
    for row in report_rows(job):
        yield writer.writerow(row)


@maps_service_errors
@require_GET
def import_report(request: HttpRequest, job_id: Any) -> StreamingHttpResponse:
    job = selectors.import_job_get(viewer=request.user, job_id=job_id)
    response = StreamingHttpResponse(_report_lines(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-report-{job.pk}.csv"'
    return response
