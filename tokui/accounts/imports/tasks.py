"""Background tasks of the import: run a job on a worker (django-tasks-db by default)."""

from typing import Any

from django.conf import settings
from django.tasks import task
from django.utils import translation

from tokui.accounts.imports.runner import import_job_run


@task
def import_job_task(job_id: str, language: str = "") -> dict[str, Any]:
    """Run or resume one import job; safe to run twice (the second run finds nothing to do)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        job = import_job_run(job_id=job_id)
    return {"status": job.status, "processed_rows": job.processed_rows}
