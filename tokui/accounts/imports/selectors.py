"""Reads about import jobs: a job is seen by the person who started it, and by heads and admins."""

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from tokui.accounts.constants import ImportOutcome
from tokui.accounts.imports.runner import open_job_table
from tokui.accounts.models import ImportJob, ImportRowResult
from tokui.core.exceptions import NotFound
from tokui.users.constants import Role
from tokui.users.models import User

_SEES_EVERY_IMPORT = frozenset({Role.ADMIN, Role.HEAD})


def _visible_jobs(viewer: User) -> QuerySet[ImportJob]:
    if not isinstance(viewer, User) or not viewer.is_active:
        return ImportJob.objects.none()
    if viewer.role in _SEES_EVERY_IMPORT:
        return ImportJob.objects.all()
    return ImportJob.objects.filter(created_by=viewer)


def import_job_list(*, viewer: User, limit: int = 20) -> QuerySet[ImportJob]:
    """The viewer's own recent imports, newest first."""
    return (
        _visible_jobs(viewer)
        .filter(created_by=viewer)
        .select_related("created_by")
        .order_by("-created_at")[:limit]
    )


def import_job_get(*, viewer: User, job_id: Any) -> ImportJob:
    try:
        job = _visible_jobs(viewer).select_related("created_by").filter(pk=job_id).first()
    except (ValueError, TypeError):  # not a UUID
        job = None
    if job is None:
        raise NotFound(_("No such import."))
    return job


def import_row_results(
    *, job: ImportJob, outcome: str | None = None, limit: int | None = None
) -> QuerySet[ImportRowResult]:
    """Row results of a job the caller has already fetched with import_job_get."""
    qs = ImportRowResult.objects.filter(job=job).order_by("row_number", "id")
    if outcome:
        qs = qs.filter(outcome=outcome)
    return qs[:limit] if limit else qs


def import_rejected_rows(*, job: ImportJob, limit: int = 20) -> QuerySet[ImportRowResult]:
    return import_row_results(job=job, outcome=ImportOutcome.REJECTED, limit=limit)


def import_report_rows(*, job: ImportJob) -> Iterator[ImportRowResult]:
    """Every row result, streamed in row order (a report of a million rows stays small)."""
    return import_row_results(job=job).iterator(chunk_size=2000)


def import_preview(
    *, job: ImportJob, limit: int = 5
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The file's column names and its first rows (with their numbers), for the mapping page."""
    with open_job_table(job) as table:
        rows = [(row.number, row.cells) for row in table.preview(limit)]
        return table.headers, rows
