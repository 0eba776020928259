"""``tokui import accounts|contacts FILE``: import a file in this process, with progress.

Runs the same import as the web page (same services, same report) without a worker. Running
it again on the same file with the same options continues an unfinished import after its last
committed batch instead of starting over. Exits non-zero only when the file as a whole cannot
be read; refused rows are listed in the summary and the report.
"""

import csv
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from tokui.accounts.constants import ImportMode, ImportStatus, ImportTarget
from tokui.accounts.imports.presets import PRESETS, auto_mapping, validate_mapping
from tokui.accounts.imports.readers import ENCODINGS
from tokui.accounts.imports.report import report_rows
from tokui.accounts.imports.runner import import_job_run
from tokui.accounts.imports.selectors import import_rejected_rows
from tokui.accounts.imports.services import (
    file_sha256,
    import_file_headers,
    import_job_create,
    import_job_find_resumable,
)
from tokui.accounts.models import ImportJob
from tokui.core.exceptions import ApplicationError
from tokui.users.selectors import user_get_by_username


class Command(BaseCommand):
    help = "Import accounts or contacts from a CSV, XLSX or vCard file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", choices=ImportTarget.values)
        parser.add_argument("file", type=Path)
        parser.add_argument("--preset", choices=list(PRESETS), default="")
        parser.add_argument("--mode", choices=ImportMode.values, default=ImportMode.CREATE)
        parser.add_argument("--encoding", choices=ENCODINGS, default="auto")
        parser.add_argument(
            "--as",
            dest="username",
            required=True,
            help="The user who imports: owner of new accounts, actor in the audit trail.",
        )
        parser.add_argument("--report", type=Path, help="Also write the row report (CSV) here.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_get_by_username(username=options["username"])
        if user is None:
            raise CommandError(f"There is no user named {options['username']!r}.")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        target, mode = options["target"], options["mode"]
        preset, encoding = options["preset"], options["encoding"]
        with path.open("rb") as file:
            try:
                _format, headers = import_file_headers(
                    file=file, name=path.name, target=target, encoding=encoding
                )
                mapping = validate_mapping(target, headers, auto_mapping(target, headers, preset))
            except ApplicationError as exc:
                raise CommandError(f"{path.name}: {exc.message}") from exc
            job = import_job_find_resumable(
                actor=user,
                file_sha256=file_sha256(file),
                target=target,
                mode=mode,
                preset=preset,
                encoding=encoding,
                mapping=mapping,
            )
            if job is not None:
                self.stderr.write(
                    f"Resuming import {job.pk} of {path.name} after row {job.processed_rows}."
                )
            else:
                try:
                    job = import_job_create(
                        actor=user,
                        file=file,
                        name=path.name,
                        target=target,
                        mode=mode,
                        preset=preset,
                        encoding=encoding,
                        mapping=mapping,
                    )
                except ApplicationError as exc:
                    raise CommandError(f"{path.name}: {exc.message}") from exc
        job = import_job_run(job_id=job.pk, progress=self._progress())
        if options["report"]:
            self._write_report(job, options["report"])
        self._summary(job)
        if job.status == ImportStatus.FAILED:
            raise CommandError(f"{path.name}: {job.error}")

    def _progress(self) -> Any:
        tty = sys.stderr.isatty()
        state = {"last": 0.0}

        def show(job: ImportJob) -> None:
            now = time.monotonic()
            done = job.total_rows is not None and job.processed_rows >= job.total_rows
            if not done and now - state["last"] < (0.2 if tty else 2.0):
                return
            state["last"] = now
            total = job.total_rows or 0
            percent = job.processed_rows * 100 // total if total else 100
            line = f"{job.processed_rows:,} / {total:,} rows ({percent}%)"
            self.stderr.write(("\r" + line) if tty else line, ending="" if tty else "\n")
            if tty and done:
                self.stderr.write("")

        return show

    def _summary(self, job: ImportJob) -> None:
        write = self.stdout.write
        write(
            f"{job.original_name}: {job.get_target_display()}, "
            f"{job.get_mode_display().lower()}: {job.get_status_display()}"
        )
        write(f"  rows      {job.processed_rows:>9,}")
        for label, count in (
            (_("created"), job.created_count),
            (_("updated"), job.updated_count),
            (_("merged"), job.merged_count),
            (_("skipped"), job.skipped_count),
            (_("rejected"), job.rejected_count),
        ):
            write(f"  {label:<9} {count:>9,}")
        rejected = list(import_rejected_rows(job=job, limit=20))
        if rejected:
            write(_("First rejected rows:"))
            for row in rejected:
                write(f"  row {row.row_number}: {row.message}")
        write(f"Import id: {job.pk}")

    def _write_report(self, job: ImportJob, path: Path) -> None:
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            csv.writer(out).writerows(report_rows(job))
