"""Helpers for import tests: files built in memory, jobs run in the test's process."""

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest

from tokui.accounts.imports.runner import import_job_run
from tokui.accounts.imports.services import import_job_create
from tokui.accounts.models import ImportJob
from tokui.users.models import User


def csv_bytes(rows: list[list[Any]], *, encoding: str = "utf-8", bom: bool = False) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    data = text.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def run_import(db: None) -> Callable[..., ImportJob]:
    """Create a job from bytes and run it to its end; returns the job as stored."""

    def run(
        actor: User,
        data: bytes,
        *,
        target: str = "contacts",
        name: str = "import.csv",
        **options: Any,
    ) -> ImportJob:
        job = import_job_create(
            actor=actor, file=io.BytesIO(data), name=name, target=target, **options
        )
        import_job_run(job_id=job.pk)
        job.refresh_from_db()
        return job

    return run
