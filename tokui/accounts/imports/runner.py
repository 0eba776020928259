"""Running an import job: rows in batches, each batch one transaction, each row all-or-nothing.

A batch commits its rows, their results and the job's counters and position together, so a
crash loses at most the batch in flight and a re-run continues after ``processed_rows``
without importing a row twice. Rows go through the same services as a form
(``account_create``, ``contact_update``, …): same normalisation, validation and audit events.
"""

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.constants import ImportMode, ImportOutcome, ImportStatus, ImportTarget
from tokui.accounts.imports.convert import Converter, RowInput
from tokui.accounts.imports.fastpath import (
    ContactCleaner,
    ContactRow,
    contact_rows,
    fast_accounts,
    fast_contacts,
)
from tokui.accounts.imports.matching import (
    AccountKeys,
    ContactKeys,
    account_match,
    company_account,
    contact_match,
)
from tokui.accounts.imports.presets import field_labels, validate_mapping
from tokui.accounts.imports.readers import SourceRow, Table, open_table
from tokui.accounts.models import Account, Contact, ImportJob, ImportRowResult
from tokui.accounts.services import (
    account_clean_data,
    account_create,
    account_update,
    contact_clean_data,
    contact_create,
    contact_update,
)
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.users.models import User

Progress = Callable[[ImportJob], None]
# New records without anything to decide are written in bulk (see fastpath.py); tests switch
# it off to compare with the service path.
FAST_PATH = True


@dataclass(slots=True)
class RowResult:
    number: int
    outcome: str
    message: str = ""
    record_id: int | None = None

    @property
    def stored(self) -> bool:
        """Created rows are only counted, unless there is something to say about them."""
        return self.outcome != ImportOutcome.CREATED or bool(self.message)


@dataclass(slots=True)
class PreparedBatch:
    """A batch after ``Importer.prepare_batch``: ``size`` rows read, the results known so far
    (refused rows), the rows to store, and the fast path's prepared rows (None: no fast path)."""

    size: int
    results: dict[int, RowResult]
    inputs: list[tuple[int, RowInput]]
    fast: Any


class _Rollback(Exception):
    """Undo a row's writes (an account created for a contact that is then refused)."""

    def __init__(self, result: RowResult) -> None:
        self.result = result


class _Superseded(Exception):
    """Another run of the same job moved it on: this one stops without writing."""


@contextmanager
def open_job_table(job: ImportJob) -> Iterator[Table]:
    with (
        job.file.open("rb") as file,
        open_table(file, file_format=job.file_format, encoding=job.encoding) as table,
    ):
        yield table


def _empty(value: Any) -> bool:
    return value is None or value == ""


class Importer:
    """Turns rows into records for one job; subclasses know accounts and contacts."""

    model: type[Account] | type[Contact]

    def __init__(self, *, job: ImportJob, actor: User, headers: list[str]) -> None:
        if not actor.may_edit_accounts:
            raise PermissionDenied(_("Your role can read accounts but not change them."))
        self.job, self.actor, self.mode = job, actor, job.mode
        mapping = validate_mapping(job.target, headers, job.mapping, require_complete=True)
        index = {header: i for i, header in enumerate(headers)}
        plan = [(index[header], field) for header, field in mapping.items()]
        self.converter = Converter(target=job.target, plan=plan)
        self.labels = field_labels(job.target)

    # -- one batch ---------------------------------------------------------------------------

    def process_batch(self, rows: list[SourceRow]) -> list[RowResult]:
        """The batch's results in row order: new records in bulk, the others one by one."""
        return self.write_batch(self.prepare_batch(rows))

    def prepare_batch(self, rows: list[SourceRow]) -> "PreparedBatch":
        """What can be done for a batch without the database: the rows converted, refused
        rows' results, and the fast path's own database-free work (``fast_prepare``)."""
        results: dict[int, RowResult] = {}
        inputs: list[tuple[int, RowInput]] = []
        for row in rows:
            if row.blank:
                continue
            if row.problem:
                results[row.number] = RowResult(row.number, ImportOutcome.REJECTED, row.problem)
                continue
            try:
                inputs.append((row.number, self.convert(row.cells)))
            except ApplicationError as exc:
                results[row.number] = RowResult(
                    row.number, ImportOutcome.REJECTED, self.describe(exc)
                )
        fast = self.fast_prepare(inputs) if FAST_PATH and inputs else None
        return PreparedBatch(len(rows), results, inputs, fast)

    def write_batch(self, batch: "PreparedBatch") -> list[RowResult]:
        """Store a prepared batch (inside its transaction); its results in row order."""
        results = batch.results
        slow = {number for number, _input in batch.inputs}
        if batch.fast is not None:
            created, slow = self.fast(batch.fast)
            for number, record_id in created.items():
                results[number] = RowResult(number, ImportOutcome.CREATED, record_id=record_id)
        for number, row_input in batch.inputs:
            if number in slow:
                results[number] = self.process_one(number, row_input)
        return [results[number] for number in sorted(results)]

    def fast_prepare(self, rows: list[tuple[int, RowInput]]) -> Any:
        """The fast path's work on ``rows`` that needs no database (none by default)."""
        return rows

    def convert(self, cells: list[str]) -> RowInput:
        raise NotImplementedError

    def fast(self, rows: Any) -> tuple[dict[int, int], set[int]]:
        """Write the new records of ``fast_prepare``'s rows; ``(created, rows left over)``."""
        raise NotImplementedError

    def process_one(self, number: int, row: RowInput) -> RowResult:
        """One row in its own savepoint: a refused row leaves nothing behind."""
        try:
            with transaction.atomic():
                result = self.process_row(number, row)
                if result.outcome == ImportOutcome.REJECTED:
                    raise _Rollback(result)
        except _Rollback as rollback:
            return rollback.result
        except ApplicationError as exc:
            return RowResult(number, ImportOutcome.REJECTED, self.describe(exc))
        except IntegrityError:
            return RowResult(
                number,
                ImportOutcome.REJECTED,
                _("This row clashes with a record saved at the same moment: import it again."),
            )
        return result

    def process_row(self, number: int, row: RowInput) -> RowResult:
        raise NotImplementedError

    # -- shared steps ------------------------------------------------------------------------

    def describe(self, exc: ApplicationError, labels: dict[str, str] | None = None) -> str:
        """A service's errors as one line for the report, each with its field's label."""
        labels = labels or self.labels
        parts: list[str] = []
        for field, messages in exc.errors.items():
            label = labels.get(field, field.replace("_", " ").capitalize())
            parts.extend(f"{label}: {message}" for message in messages)
        return " ".join(parts) or exc.message

    def validate(self, record: Any, data: dict[str, Any]) -> None:
        """Raise the service's ApplicationError when the row's values would be refused."""
        raise NotImplementedError

    def created_here(self, record: Account | Contact) -> bool:
        """Whether this import created the record (from an earlier row of the same file)."""
        if record.created_at < self.job.created_at:
            return False
        return AuditEvent.objects.filter(
            target_type=record._meta.label_lower,
            target_id=str(record.pk),
            action=f"accounts.{record._meta.model_name}.created",
            actor=self.actor,
        ).exists()

    def existing(
        self,
        number: int,
        record: Account | Contact,
        data: dict[str, Any],
        update: Callable[..., Any],
        note: str = "",
    ) -> RowResult:
        """A row for a record that exists: merge, refuse, skip or update it, as the mode says."""
        name = str(record)
        prefix = f"{note} " if note else ""
        if self.created_here(record):
            # The whole row must be valid, though only the fields still empty are taken.
            self.validate(record, data)
            fill = {k: v for k, v in data.items() if _empty(getattr(record, k, None))}
            if fill:
                update(actor=self.actor, record=record, data=fill)
            return RowResult(
                number,
                ImportOutcome.MERGED,
                prefix
                + _("Merged into “%(name)s”, created from an earlier row of this file.")
                % {"name": name},
                record.pk,
            )
        if self.mode == ImportMode.CREATE:
            return RowResult(
                number,
                ImportOutcome.REJECTED,
                _("Already exists: “%(name)s”. Import it in update or skip mode to keep it.")
                % {"name": name},
                record.pk,
            )
        if self.mode == ImportMode.SKIP:
            return RowResult(
                number,
                ImportOutcome.SKIPPED,
                prefix + _("Already exists: “%(name)s”.") % {"name": name},
                record.pk,
            )
        before = {k: getattr(record, k, None) for k in data}
        version = record.version
        updated = update(actor=self.actor, record=record, data=data)
        if updated.version == version:
            return RowResult(
                number,
                ImportOutcome.SKIPPED,
                prefix + _("Already up to date: “%(name)s”.") % {"name": name},
                record.pk,
            )
        changed = [self.labels.get(k, k) for k in data if getattr(updated, k, None) != before[k]]
        return RowResult(
            number,
            ImportOutcome.UPDATED,
            prefix
            + _("Updated “%(name)s”: %(fields)s.") % {"name": name, "fields": ", ".join(changed)},
            record.pk,
        )


def _update_account(*, actor: User, record: Account, data: dict[str, Any]) -> Account:
    return account_update(actor=actor, account=record, data=data)


def _update_contact(*, actor: User, record: Contact, data: dict[str, Any]) -> Contact:
    return contact_update(actor=actor, contact=record, data=data)


class AccountImporter(Importer):
    model = Account

    def convert(self, cells: list[str]) -> RowInput:
        return self.converter.account(self.converter.values(cells))

    def validate(self, record: Any, data: dict[str, Any]) -> None:
        account_clean_data(actor=self.actor, data=data, current=record)

    def fast(self, rows: list[tuple[int, RowInput]]) -> tuple[dict[int, int], set[int]]:
        return fast_accounts(actor=self.actor, rows=rows)

    def process_row(self, number: int, row: RowInput) -> RowResult:
        data = row.data
        match = account_match(viewer=self.actor, keys=AccountKeys.of(data))
        if match.record is None:
            if match.hidden:
                return RowResult(number, ImportOutcome.REJECTED, hidden_account_message())
            account = account_create(actor=self.actor, data=data)
            return RowResult(number, ImportOutcome.CREATED, record_id=account.pk)
        return self.existing(number, match.record, data, _update_account)


def hidden_account_message() -> str:
    return _(
        "This company is already an account that you may not see (same corporate number, or same "
        "name with the same phone or website). Ask its owner or an administrator; nothing was "
        "created."
    )


class ContactImporter(Importer):
    model = Contact

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        with_account = {"account": self.labels["account"]}
        self.account_labels = {**field_labels(ImportTarget.ACCOUNTS), **with_account}
        self.cleaner = ContactCleaner()

    def account_for(self, number: int, row: RowInput) -> tuple[Account | None, str, str]:
        """``(account, note, refusal)``: the row's account, created when missing (create and
        update modes) with a note saying so, or why the row is refused."""
        company = row.company
        if not company:
            return None, "", _("The company name is empty: every contact belongs to an account.")
        found = company_account(viewer=self.actor, company=company)
        if found.record is not None:
            return found.record, "", ""
        if found.hidden:
            return (
                None,
                "",
                _(
                    "The company “%(company)s” is an account that you may not see. Ask its owner "
                    "or an administrator; nothing was created."
                )
                % {"company": company[:100]},
            )
        if self.mode == ImportMode.SKIP:
            return (
                None,
                "",
                _(
                    "There is no account “%(company)s”. In “skip existing records” mode the "
                    "import does not create accounts: import the account first."
                )
                % {"company": company[:100]},
            )
        try:
            account = account_create(actor=self.actor, data={"name": company, **row.account_data})
        except ApplicationError as exc:
            return (
                None,
                "",
                _("The account “%(company)s” could not be created: %(reason)s")
                % {"company": company[:100], "reason": self.describe(exc, self.account_labels)},
            )
        return account, _("Created account “%(name)s”.") % {"name": account.name}, ""

    def convert(self, cells: list[str]) -> RowInput:
        return self.converter.contact(self.converter.values(cells))

    def validate(self, record: Any, data: dict[str, Any]) -> None:
        contact_clean_data(data)

    def fast_prepare(self, rows: list[tuple[int, RowInput]]) -> list[ContactRow]:
        return contact_rows(rows, self.cleaner)

    def fast(self, rows: list[ContactRow]) -> tuple[dict[int, int], set[int]]:
        return fast_contacts(actor=self.actor, rows=rows)

    def process_row(self, number: int, row: RowInput) -> RowResult:
        values = row
        account, note, refusal = self.account_for(number, values)
        if account is None:
            return RowResult(number, ImportOutcome.REJECTED, refusal)
        match = contact_match(viewer=self.actor, keys=ContactKeys.of(values.data), account=account)
        if match.record is None:
            if match.hidden:
                return RowResult(
                    number,
                    ImportOutcome.REJECTED,
                    _(
                        "A contact with this e-mail address exists in an account that you may "
                        "not see. Ask its owner or an administrator; nothing was created."
                    ),
                )
            contact = contact_create(actor=self.actor, account=account, data=values.data)
            return RowResult(number, ImportOutcome.CREATED, note, contact.pk)
        return self.existing(number, match.record, values.data, _update_contact, note)


def make_importer(*, job: ImportJob, actor: User, headers: list[str]) -> Importer:
    cls = AccountImporter if job.target == ImportTarget.ACCOUNTS else ContactImporter
    return cls(job=job, actor=actor, headers=headers)


@contextmanager
def _objects_before_left_alone_by_gc() -> Iterator[None]:
    """Keep the garbage collector's full passes to what the import itself allocates.

    A batch allocates many objects that live until it is written, so a long import sets off
    full collections, and each one walked every object of the process (Django, phonenumbers'
    metadata, …): about a sixth of the import's time. ``gc.freeze`` sets the objects that
    exist now aside until ``gc.unfreeze``; nothing is collected any later than it would be
    otherwise, except cycles among those older objects, which wait for the end of the import.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _batches(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


_COUNTERS = {
    ImportOutcome.CREATED: "created_count",
    ImportOutcome.UPDATED: "updated_count",
    ImportOutcome.MERGED: "merged_count",
    ImportOutcome.SKIPPED: "skipped_count",
    ImportOutcome.REJECTED: "rejected_count",
}


def _commit_batch(job: ImportJob, importer: Importer, batch: PreparedBatch, position: int) -> int:
    """Import one batch and move the job on, in one transaction; returns the new position."""
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().only("processed_rows").get(pk=job.pk)
        if locked.processed_rows != position:
            raise _Superseded
        results = importer.write_batch(batch)
        ImportRowResult.objects.bulk_create(
            ImportRowResult(
                job=job,
                row_number=r.number,
                outcome=r.outcome,
                message=r.message[:2000],
                record_id=r.record_id,
            )
            for r in results
            if r.stored
        )
        counts = dict.fromkeys(_COUNTERS.values(), 0)
        for result in results:
            counts[_COUNTERS[ImportOutcome(result.outcome)]] += 1
        position += batch.size
        ImportJob.objects.filter(pk=job.pk).update(
            processed_rows=position, **{k: F(k) + v for k, v in counts.items() if v}
        )
    job.processed_rows = position
    for name, value in counts.items():
        setattr(job, name, getattr(job, name) + value)
    return position


def _finish(job: ImportJob, status: str, error: str = "") -> None:
    job.status, job.error, job.finished_at = status, error, timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=status, error=error, finished_at=job.finished_at
    )


def import_job_run(
    *, job_id: Any, progress: Progress | None = None, batch_size: int | None = None
) -> ImportJob:
    """Run (or resume) an import job to its end. Idempotent: a finished job is left alone.

    The file as a whole failing (unreadable, a mapping that no longer fits) marks the job
    failed with the reason. An unexpected error marks it failed too and is raised again; the
    rows of committed batches stay imported and a re-run continues after them.
    """
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status == ImportStatus.DONE:
        return job
    size = batch_size or settings.TOKUI_IMPORT_BATCH_SIZE
    job.status, job.error = ImportStatus.RUNNING, ""
    ImportJob.objects.filter(pk=job.pk).update(status=job.status, error="", finished_at=None)
    position = job.processed_rows
    try:
        with open_job_table(job) as table:
            if job.total_rows is None:
                job.total_rows = table.count()
                ImportJob.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
            importer = make_importer(job=job, actor=job.created_by, headers=table.headers)
            if progress:
                progress(job)
            with _objects_before_left_alone_by_gc():
                for rows in _batches(table.rows(skip=position), size):
                    batch = importer.prepare_batch(rows)
                    position = _commit_batch(job, importer, batch, position)
                    if progress:
                        progress(job)
    except _Superseded:
        job.refresh_from_db()
        return job
    except ApplicationError as exc:
        _finish(job, ImportStatus.FAILED, exc.message)
        return job
    except Exception as exc:
        _finish(
            job,
            ImportStatus.FAILED,
            _(
                "The import stopped after %(n)d rows because of an unexpected error "
                "(%(error)s). Resume it: rows already imported are not imported twice."
            )
            % {"n": position, "error": type(exc).__name__},
        )
        raise
    _finish(job, ImportStatus.DONE)
    return job
