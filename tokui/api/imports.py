"""/api/v1/imports: start an import of accounts or contacts from a file, follow its progress."""

import json
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from tokui.accounts.constants import ImportMode, ImportOutcome, ImportStatus, ImportTarget
from tokui.accounts.imports import selectors, services
from tokui.accounts.models import ImportJob
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.core.exceptions import ApplicationError

router = Router(tags=["imports"])


class ImportStartIn(Schema):
    target: ImportTarget = Field(..., description="What the rows are: accounts or contacts.")
    mode: ImportMode = Field(
        ImportMode.CREATE,
        description="Rows for records that exist already: refuse them (create), update the "
        "records (update) or leave them (skip).",
    )
    preset: Literal["", "salesforce", "hubspot", "cards"] = Field(
        "", description="Known export columns: Salesforce, HubSpot, business cards (Sansan, Eight)."
    )
    encoding: Literal["auto", "utf-8", "cp932"] = Field(
        "auto", description="Text encoding of a CSV or vCard; auto tells UTF-8 from Shift_JIS."
    )
    mapping: str = Field(
        "",
        max_length=20000,
        description='Optional JSON object {"Column in the file": "field"}; without it the '
        "preset and the column names decide.",
    )


class ImportStarted(Schema):
    id: UUID
    status: ImportStatus


class ImportRowOut(Schema):
    row: int = Field(description="The row's number in the file (the header is row 1).")
    outcome: ImportOutcome
    message: str
    record_id: int | None

    @staticmethod
    def resolve_row(obj: Any) -> int:
        return int(obj.row_number)


class ImportOut(Schema):
    id: UUID
    target: ImportTarget
    mode: ImportMode
    preset: str
    encoding: str
    file_name: str
    file_format: str
    mapping: dict[str, str]
    status: ImportStatus
    error: str
    total_rows: int | None
    processed_rows: int
    created: int
    updated: int
    merged: int
    skipped: int
    rejected: int
    created_at: datetime
    finished_at: datetime | None
    rejected_rows: list[ImportRowOut] = Field(description="The first 20 rejected rows.")


def _job_out(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "target": job.target,
        "mode": job.mode,
        "preset": job.preset,
        "encoding": job.encoding,
        "file_name": job.original_name,
        "file_format": job.file_format,
        "mapping": job.mapping,
        "status": job.status,
        "error": job.error,
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "merged": job.merged_count,
        "skipped": job.skipped_count,
        "rejected": job.rejected_count,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "rejected_rows": list(selectors.import_rejected_rows(job=job, limit=20)),
    }


def _parse_mapping(text: str) -> dict[str, Any] | None:
    if not text.strip():
        return None
    try:
        mapping = json.loads(text)
    except ValueError as exc:
        raise ApplicationError(
            _("The column mapping is not valid JSON."), field="mapping", status=422
        ) from exc
    if not isinstance(mapping, dict):
        raise ApplicationError(
            _('The column mapping must be an object like {"Column name": "field"}.'),
            field="mapping",
            status=422,
        )
    return mapping


@router.post(
    "/imports",
    response={202: ImportStarted, **ERRORS},
    summary="Start an import",
    description="Multipart form data with the file in `file` (CSV, XLSX or vCard). The file and "
    "the mapping are checked at once (422 with the reason); the rows are imported in the "
    "background: follow the import with GET /imports/{id}.",
)
def start_import(
    request: HttpRequest, payload: Form[ImportStartIn], file: File[UploadedFile]
) -> Status:
    user = request_user(request)
    job = services.import_job_create(
        actor=user,
        file=file,
        name=file.name or "",
        target=payload.target,
        mode=payload.mode,
        preset=payload.preset,
        encoding=payload.encoding,
        mapping=_parse_mapping(payload.mapping),
    )
    job = services.import_job_start(actor=user, job=job, language=get_language())
    return Status(202, {"id": job.pk, "status": job.status})


@router.get(
    "/imports/{job_id}",
    response={200: ImportOut, **ERRORS},
    summary="Get an import's progress",
    description="Counters so far and the first rejected rows. Only the person who started the "
    "import (and heads of sales and administrators) can see it.",
)
def get_import(request: HttpRequest, job_id: UUID) -> dict[str, Any]:
    job = selectors.import_job_get(viewer=request_user(request), job_id=job_id)
    return _job_out(job)
