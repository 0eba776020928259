"""/api/v1/accounts/{id}/screening: risk screening (与信・反社チェック) of a counterparty.

The same selectors and service as the pages; evidence downloads check visibility like the page.
"""

from datetime import date, datetime
from typing import Any

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from tokui.accounts import selectors
from tokui.accounts.constants import ScreeningKind, ScreeningResult
from tokui.accounts.models import ScreeningCheck, ScreeningEvidence
from tokui.accounts.screening import (
    EVIDENCE_TYPES,
    MAX_CREDIT_LIMIT,
    MAX_EVIDENCE_BYTES,
    MAX_EVIDENCE_FILES,
    evidence_content_type,
    screening_check_record,
    screening_evidence_get,
    screening_overview,
)
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.schemas import ScreeningFlagOut
from tokui.core.exceptions import NotFound

router = Router(tags=["screening"])


class ScreeningEvidenceOut(Schema):
    id: int
    name: str = Field(description="The file name as it was uploaded.")
    uploaded_at: datetime
    download_url: str = Field(description="GET it with the same token.")

    @staticmethod
    def resolve_name(obj: ScreeningEvidence) -> str:
        return obj.original_name

    @staticmethod
    def resolve_download_url(obj: ScreeningEvidence) -> str:
        return reverse("api-v1:screening_evidence", kwargs={"evidence_id": obj.pk})


class ScreeningCheckOut(Schema):
    id: int
    account: int
    kind: ScreeningKind
    result: ScreeningResult
    subject: str
    credit_limit: int | None = Field(description="Yen; credit checks only.")
    source: str
    checked_by: str | None = Field(description="User name of who recorded the check.")
    checked_at: datetime
    recheck_due: date | None
    notes: str
    evidence: list[ScreeningEvidenceOut]

    @staticmethod
    def resolve_account(obj: ScreeningCheck) -> int:
        return obj.account_id

    @staticmethod
    def resolve_credit_limit(obj: ScreeningCheck) -> int | None:
        return None if obj.credit_limit is None else int(obj.credit_limit)

    @staticmethod
    def resolve_checked_by(obj: ScreeningCheck) -> str | None:
        return obj.checked_by.username if obj.checked_by else None

    @staticmethod
    def resolve_evidence(obj: ScreeningCheck) -> list[ScreeningEvidence]:
        return list(obj.evidence.all())


class ScreeningOut(Schema):
    account: int
    flag: ScreeningFlagOut
    checks: list[ScreeningCheckOut] = Field(
        description="The latest check of each kind on record (a missing kind is absent)."
    )


class ScreeningCheckIn(Schema):
    kind: ScreeningKind
    result: ScreeningResult
    subject: str = Field("", max_length=200, description="e.g. the representative's name.")
    credit_limit: int | None = Field(
        None,
        ge=0,
        le=int(MAX_CREDIT_LIMIT),
        description="Yen. Required for a passed credit check; only credit checks have one.",
    )
    source: str = Field("", max_length=200, description="e.g. 帝国データバンク")
    recheck_due: date | None = Field(
        None, description="Not in the past for a passed check; empty: one year from today."
    )
    notes: str = Field("", max_length=5000)


_UPLOAD_HELP = (
    f"Evidence: up to {MAX_EVIDENCE_FILES} files of at most "
    f"{MAX_EVIDENCE_BYTES // (1024 * 1024)} MB each (PDF, PNG, JPEG, TIFF, XLSX, DOCX)."
)


@router.get(
    "/accounts/{account_id}/screening",
    response={200: ScreeningOut, **ERRORS},
    summary="Get an account's risk screening",
)
def get_screening(request: HttpRequest, account_id: int) -> dict[str, Any]:
    user = request_user(request)
    account = selectors.account_get(viewer=user, account_id=account_id)
    overview = screening_overview(viewer=user, account=account)
    return {
        "account": account.pk,
        "flag": overview.flag.as_dict(),
        "checks": [row.check for row in overview.rows if row.check is not None],
    }


@router.post(
    "/accounts/{account_id}/screening",
    response={201: ScreeningCheckOut, **ERRORS},
    summary="Record a screening check",
    description="Multipart form data; files (optional) go in `files`. " + _UPLOAD_HELP,
)
def record_screening(
    request: HttpRequest,
    account_id: int,
    payload: Form[ScreeningCheckIn],
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Status:
    user = request_user(request)
    account = selectors.account_get(viewer=user, account_id=account_id)
    check = screening_check_record(
        actor=user,
        account=account,
        kind=payload.kind,
        result=payload.result,
        subject=payload.subject,
        credit_limit=payload.credit_limit,
        source=payload.source,
        recheck_due=payload.recheck_due,
        notes=payload.notes,
        files=list(files or []),
    )
    return Status(201, check)


_FILE_CONTENT = {
    mime: {"schema": {"type": "string", "format": "binary"}}
    for mime in sorted(set(EVIDENCE_TYPES.values()))
}


@router.get(
    "/screening/evidence/{evidence_id}",
    response=ERRORS,
    summary="Download an evidence file",
    url_name="screening_evidence",
    openapi_extra={"responses": {200: {"description": "The file.", "content": _FILE_CONTENT}}},
)
def download_evidence(request: HttpRequest, evidence_id: int) -> FileResponse:
    evidence = screening_evidence_get(viewer=request_user(request), evidence_id=evidence_id)
    try:
        handle = evidence.file.open("rb")
    except OSError as exc:
        raise NotFound(_("The file is missing from storage.")) from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence_content_type(evidence.original_name),
    )
    response["Cache-Control"] = "private, no-store"
    return response
