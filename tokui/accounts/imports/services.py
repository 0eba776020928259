"""Writes about import jobs: upload a file, choose its mapping, start (or resume) the run.

The file is checked as a whole before a job exists (readable, not empty, not too big, no
duplicate column names), and the mapping before the run starts, so a person hears about a
wrong file or mapping at once rather than from a report of a thousand refused rows.
"""

import hashlib
import re
import unicodedata
from functools import partial
from typing import IO, Any

from django.core.files import File
from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tokui.accounts.constants import ImportMode, ImportStatus, ImportTarget
from tokui.accounts.imports.presets import PRESETS, auto_mapping, validate_mapping
from tokui.accounts.imports.readers import (
    ENCODINGS,
    VCARD,
    ImportFileError,
    open_table,
    sniff_format,
)
from tokui.accounts.imports.runner import open_job_table
from tokui.accounts.imports.selectors import import_job_get
from tokui.accounts.models import ImportJob
from tokui.core.audit import audit_record
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.validation import ErrorCollector
from tokui.users.models import User

_EXTENSIONS = {"csv": ".csv", "xlsx": ".xlsx", "vcard": ".vcf"}


def _require_editor(actor: User) -> None:
    if not actor.may_edit_accounts:
        raise PermissionDenied(_("Your role can read accounts but not change them."))


def file_sha256(file: IO[bytes]) -> str:
    file.seek(0)
    digest = hashlib.sha256()
    while chunk := file.read(1 << 20):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _check_options(*, target: str, mode: str, preset: str, encoding: str) -> None:
    errors = ErrorCollector()
    if target not in ImportTarget.values:
        errors.add("target", _("Choose accounts or contacts."))
    if mode not in ImportMode.values:
        errors.add("mode", _("Choose one of: %(v)s.") % {"v": ", ".join(ImportMode.values)})
    if preset and preset not in PRESETS:
        errors.add("preset", _("Choose one of: %(v)s.") % {"v": ", ".join(PRESETS)})
    if encoding not in ENCODINGS:
        errors.add("encoding", _("Choose one of: %(v)s.") % {"v": ", ".join(ENCODINGS)})
    errors.raise_if_any()


def _stored_name(name: str, file_format: str) -> str:
    stem = unicodedata.normalize("NFKC", name).rsplit(".", 1)[0]
    stem = re.sub(r"[^\w\-]+", "_", stem, flags=re.ASCII).strip("_")[:60] or "import"
    return stem + _EXTENSIONS[file_format]


def import_file_headers(
    *, file: IO[bytes], name: str, target: str, encoding: str
) -> tuple[str, list[str]]:
    """The file's format and column names; raises ImportFileError for a file we cannot read."""
    file_format = sniff_format(file, name)
    if file_format == VCARD and target == ImportTarget.ACCOUNTS:
        raise ImportFileError(_("A vCard file holds contacts: import it as contacts."))
    with open_table(file, file_format=file_format, encoding=encoding) as table:
        return file_format, table.headers


def import_job_create(
    *,
    actor: User,
    file: IO[bytes],
    name: str,
    target: str,
    mode: str = ImportMode.CREATE,
    preset: str = "",
    encoding: str = "auto",
    mapping: dict[str, Any] | None = None,
) -> ImportJob:
    """Keep an uploaded file as a new import job, with a first mapping. Nothing is imported yet.

    Without ``mapping`` the preset and the column names suggest one (to be confirmed on the
    mapping page); a ``mapping`` given here must be complete, as the API starts at once.
    """
    _require_editor(actor)
    _check_options(target=target, mode=mode, preset=preset, encoding=encoding)
    file_format, headers = import_file_headers(
        file=file, name=name, target=target, encoding=encoding
    )
    if mapping is None:
        chosen = auto_mapping(target, headers, preset)
    else:
        chosen = validate_mapping(target, headers, mapping, require_complete=True)
    digest = file_sha256(file)
    job = ImportJob(
        created_by=actor,
        target=target,
        original_name=(name or "import")[:255],
        file_sha256=digest,
        file_format=file_format,
        encoding=encoding,
        preset=preset,
        mode=mode,
        mapping=chosen,
    )
    # The file is written before the row that points at it, outside the transaction, so a
    # long copy does not hold the database's write lock.
    job.file.save(_stored_name(name, file_format), File(file), save=False)
    with transaction.atomic():
        job.save()
        audit_record(
            actor=actor,
            action="accounts.import.created",
            target=job,
            changes={
                "original_name": [None, job.original_name],
                "target": [None, target],
                "mode": [None, mode],
            },
        )
    return job


def import_job_set_mapping(*, actor: User, job: ImportJob, mapping: dict[str, Any]) -> ImportJob:
    """Choose which column goes to which field, before the import starts."""
    _require_editor(actor)
    job = import_job_get(viewer=actor, job_id=job.pk)
    if job.status != ImportStatus.PENDING or job.processed_rows:
        raise ApplicationError(_("This import has started: its mapping can no longer change."))
    with open_job_table(job) as table:
        clean = validate_mapping(job.target, table.headers, mapping, require_complete=True)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.mapping != clean:
            audit_record(
                actor=actor,
                action="accounts.import.mapped",
                target=locked,
                changes={"mapping": [locked.mapping, clean]},
            )
            locked.mapping = clean
            locked.save(update_fields=["mapping"])
    return locked


def import_job_start(*, actor: User, job: ImportJob, language: str = "") -> ImportJob:
    """Queue a job to run (a background task), or to resume after a failure.

    The task is queued once the transaction commits; row messages are written in ``language``
    (the starting user's, by default).
    """
    from tokui.accounts.imports.tasks import import_job_task

    _require_editor(actor)
    job = import_job_get(viewer=actor, job_id=job.pk)
    with open_job_table(job) as table:
        validate_mapping(job.target, table.headers, job.mapping, require_complete=True)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status == ImportStatus.DONE:
            raise ApplicationError(_("This import has finished."), status=409, code="conflict")
        # A job that is still "running" may have lost its worker: running it again is safe,
        # as a run that finds the job moved on by another stops without writing.
        locked.status, locked.error = ImportStatus.PENDING, ""
        locked.save(update_fields=["status", "error"])
        audit_record(
            actor=actor,
            action="accounts.import.started",
            target=locked,
            changes={"processed_rows": [None, locked.processed_rows]},
        )
        transaction.on_commit(
            partial(
                import_job_task.enqueue, job_id=str(locked.pk), language=language or get_language()
            )
        )
    return locked


def import_job_find_resumable(
    *,
    actor: User,
    file_sha256: str,
    target: str,
    mode: str,
    preset: str,
    encoding: str,
    mapping: dict[str, str],
) -> ImportJob | None:
    """An unfinished job of the same user for the same file and options, to continue."""
    candidates = ImportJob.objects.filter(
        created_by=actor,
        file_sha256=file_sha256,
        target=target,
        mode=mode,
        preset=preset,
        encoding=encoding,
    ).exclude(status=ImportStatus.DONE)
    # JSON equality differs between databases: compare the mappings here.
    return next((job for job in candidates.order_by("-created_at") if job.mapping == mapping), None)
