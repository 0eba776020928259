"""The row report of an import, as CSV rows: one per row that was not simply created."""

from collections.abc import Iterator

from django.utils.translation import gettext as _

from tokui.accounts.constants import ImportOutcome
from tokui.accounts.imports.selectors import import_report_rows
from tokui.accounts.models import ImportJob

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    # A message quotes the row (“=cmd|…”): a spreadsheet must show it, never run it.
    return "'" + text if text.startswith(_FORMULA_START) else text


def report_rows(job: ImportJob) -> Iterator[list[object]]:
    """The header, then ``[row, outcome, message, record id]`` in row order (streamed)."""
    outcomes = dict(ImportOutcome.choices)
    yield [_("Row"), _("Outcome"), _("Message"), _("Record ID")]
    for result in import_report_rows(job=job):
        yield [
            result.row_number,
            str(outcomes.get(result.outcome, result.outcome)),
            _cell(result.message),
            result.record_id or "",
        ]
