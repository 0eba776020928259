"""Exports of the account and contact lists to CSV and XLSX.

An export is the list a person sees, with the same filters, through the same selectors: it never
holds a record the exporting user may not see. Rows are read in chunks (``iterator``) and written
as they come, so 100,000 rows take no more memory than 2,000. Every export leaves one audit event
(``accounts.export``) with its row count and filters, so data leaving the system is traceable.

Spreadsheets execute cells that start with ``=``, ``+``, ``-`` or ``@`` (and tab or carriage
return, which some strip first): such text is prefixed with ``'`` in CSV and XLSX alike.
"""

import csv
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from tokui.accounts.constants import AccountKind, AccountTier
from tokui.accounts.models import Account, Contact, Tag
from tokui.accounts.selectors import account_list, contact_list
from tokui.core.audit import audit_record
from tokui.core.exceptions import ApplicationError
from tokui.users.models import User

TARGETS = ("accounts", "contacts")
FORMATS = ("csv", "xlsx")
ENCODINGS = ("utf-8", "cp932")
CHUNK_SIZE = 2000
CSV_CONTENT_TYPES = {"utf-8": "text/csv; charset=utf-8", "cp932": "text/csv; charset=windows-31j"}
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BOM = "\ufeff"
# Characters Windows writes differently from Unicode's mapping, and spaces CP932 lacks.
_CP932_EQUIVALENTS = str.maketrans({"\u2014": "\u2015", "\u00a0": " ", "\u2002": " "})
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


def escape_formula(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading ``'``; the rest is unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    label: str
    get: Callable[[Any], Any]
    kind: str = "text"  # text, number (kept a number) or datetime
    width: float = 14


def _local(value: datetime | None) -> datetime | None:
    # Spreadsheets have no time zones: local time, as the person saw it in Tokui.
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _label(model: type[Account | Contact], name: str) -> str:
    field = model._meta.get_field(name)
    return str(capfirst(getattr(field, "verbose_name", name)))


def _postal(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:]}" if len(digits) == 7 else digits


def account_columns() -> list[Column]:
    """The account columns, labelled in the active language."""
    kinds = {k: str(v) for k, v in AccountKind.choices}
    tiers = {k: str(v) for k, v in AccountTier.choices}

    def text(name: str, width: float = 14) -> Column:
        return Column(_label(Account, name), lambda a: getattr(a, name), width=width)

    return [
        Column(_("ID"), lambda a: a.pk, "number", 8),
        text("name", 34),
        text("legal_form", 12),
        text("name_kana", 26),
        Column(_label(Account, "kind"), lambda a: kinds.get(a.kind, a.kind), width=12),
        Column(_label(Account, "tier"), lambda a: tiers.get(a.tier, a.tier), width=14),
        text("rank", 6),
        Column(_label(Account, "owner"), lambda a: a.owner.username, width=12),
        text("industry", 22),
        Column(_label(Account, "employees"), lambda a: a.employees, "number", 11),
        text("corporate_number", 16),
        text("invoice_registration_number", 18),
        text("website", 30),
        Column(_label(Account, "phone"), lambda a: a.phone_display, width=16),
        Column(_label(Account, "fax"), lambda a: a.fax_display, width=16),
        Column(_label(Account, "postal_code"), lambda a: _postal(a.postal_code), width=10),
        text("prefecture", 10),
        text("city", 18),
        text("street", 24),
        text("building", 24),
        Column(
            _label(Account, "tags"), lambda a: ", ".join(t.name for t in a.export_tags), width=28
        ),
        Column(_label(Account, "created_at"), lambda a: _local(a.created_at), "datetime", 17),
        Column(_label(Account, "updated_at"), lambda a: _local(a.updated_at), "datetime", 17),
    ]


def contact_columns() -> list[Column]:
    """The contact columns, labelled in the active language."""
    yes, no = _("yes"), _("no")

    def text(name: str, width: float = 14) -> Column:
        return Column(_label(Contact, name), lambda c: getattr(c, name), width=width)

    return [
        Column(_("ID"), lambda c: c.pk, "number", 8),
        Column(_("Account ID"), lambda c: c.account_id, "number", 10),
        Column(_("Account name"), lambda c: c.account.name, width=34),
        text("family_name", 12),
        text("given_name", 12),
        text("family_name_kana", 14),
        text("given_name_kana", 14),
        text("title", 16),
        text("department", 18),
        text("email", 30),
        Column(_label(Contact, "phone"), lambda c: c.phone_display, width=16),
        Column(_label(Contact, "mobile"), lambda c: c.mobile_display, width=16),
        Column(
            _label(Contact, "marketing_consent"),
            lambda c: yes if c.marketing_consent else no,
            width=12,
        ),
        Column(_label(Contact, "created_at"), lambda c: _local(c.created_at), "datetime", 17),
        Column(_label(Contact, "updated_at"), lambda c: _local(c.updated_at), "datetime", 17),
    ]


class _Line:
    """csv.writer's "file": hands back each formatted line instead of storing it."""

    def write(self, line: str) -> str:
        return line


class _Encoder:
    """Encodes CSV text; in CP932, counts each character it had to replace."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.replaced: Counter[str] = Counter()

    def __call__(self, text: str) -> bytes:
        if self.encoding == "utf-8":
            return text.encode("utf-8")
        text = text.translate(_CP932_EQUIVALENTS)
        try:
            return text.encode("cp932")
        except UnicodeEncodeError:
            return b"".join(self._char(ch) for ch in text)

    def _char(self, ch: str) -> bytes:
        try:
            return ch.encode("cp932")
        except UnicodeEncodeError:
            self.replaced[ch] += 1
            # é → e keeps foreign names readable; anything else becomes "?".
            base = unicodedata.normalize("NFKD", ch)[:1]
            return base.encode("ascii") if base.isascii() and base.isalpha() else b"?"


def _csv_text(value: Any, column: Column) -> Any:
    if value is None:
        return ""
    if column.kind == "datetime":
        return value.strftime("%Y-%m-%d %H:%M")
    if column.kind == "number":
        return value
    return escape_formula(str(value))


def _xlsx_value(ws: WriteOnlyWorksheet, value: Any, column: Column) -> Any:
    if value is None:
        return None
    if column.kind == "datetime":
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = _DATETIME_FORMAT
        return cell
    if column.kind == "number":
        return value
    # openpyxl refuses control characters; a string starting with "=" it would store as a formula.
    return escape_formula(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


@dataclass
class Export:
    """One export, counted and recorded; write it with ``csv_chunks`` or ``write_xlsx``."""

    target: str
    fmt: str
    encoding: str
    queryset: QuerySet[Any]
    columns: list[Column]
    count: int
    sheet_title: str
    filename: str
    replaced: Counter[str] = field(default_factory=Counter)

    def rows(self) -> Iterator[list[Any]]:
        for obj in self.queryset.iterator(chunk_size=CHUNK_SIZE):
            yield [column.get(obj) for column in self.columns]

    def csv_chunks(self, *, lines_per_chunk: int = 500) -> Iterator[bytes]:
        """The CSV file in pieces: UTF-8 with a BOM (Excel then reads it as UTF-8) or CP932."""
        writer = csv.writer(_Line())
        encode = _Encoder(self.encoding)
        self.replaced = encode.replaced
        header = writer.writerow([escape_formula(c.label) for c in self.columns])
        yield encode((_BOM if self.encoding == "utf-8" else "") + header)
        batch: list[str] = []
        for row in self.rows():
            batch.append(
                writer.writerow([_csv_text(v, c) for v, c in zip(row, self.columns, strict=True)])
            )
            if len(batch) >= lines_per_chunk:
                yield encode("".join(batch))
                batch = []
        if batch:
            yield encode("".join(batch))

    def write_xlsx(self, fileobj: IO[bytes]) -> None:
        """The workbook, streamed to ``fileobj`` (openpyxl's write-only mode)."""
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(title=self.sheet_title)
        for index, column in enumerate(self.columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        ws.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for column in self.columns:
            cell = WriteOnlyCell(ws, value=escape_formula(column.label))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        written = 0
        for row in self.rows():
            ws.append([_xlsx_value(ws, v, c) for v, c in zip(row, self.columns, strict=True)])
            written += 1
        ws.auto_filter.ref = f"A1:{get_column_letter(len(self.columns))}{written + 1}"
        wb.save(fileobj)


def _json_safe(filters: dict[str, Any]) -> dict[str, Any]:
    safe: dict[str, Any] = {}
    for key, value in filters.items():
        if value is None or value == "" or value == [] or value is False:
            continue
        if key == "segment":
            value = getattr(value, "pk", value)
        safe[key] = list(value) if isinstance(value, tuple) else value
    return safe


def export_start(
    *,
    actor: User,
    target: str,
    fmt: str,
    filters: dict[str, Any],
    lang: str | None = None,
    encoding: str = "utf-8",
) -> Export:
    """Prepare an export of what ``actor`` sees with ``filters`` (the list selector's keywords)
    and record it: one ``accounts.export`` audit event with the row count and the filters.

    Raises NotFound for a segment the actor may not use, ApplicationError for a bad choice.
    """
    if target not in TARGETS or fmt not in FORMATS or encoding not in ENCODINGS:
        raise ApplicationError(_("Choose accounts or contacts, CSV or XLSX, UTF-8 or CP932."))
    with translation.override(lang or translation.get_language()):
        if target == "accounts":
            # Tags to a plain list: a related manager per row would cost more than the row.
            tags = Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="export_tags")
            qs: QuerySet[Any] = account_list(viewer=actor, **filters).prefetch_related(tags)
            columns, title = account_columns(), _("Accounts")
        else:
            qs = contact_list(viewer=actor, **filters)
            columns, title = contact_columns(), _("Contacts")
    count = qs.count()
    changes: dict[str, list[Any]] = {
        "list": [None, target],
        "format": [None, fmt],
        "rows": [None, count],
        "filters": [None, _json_safe(filters)],
    }
    if fmt == "csv":
        changes["encoding"] = [None, encoding]
    audit_record(
        actor=actor,
        action="accounts.export",
        target=actor,
        changes=changes,
        note=f"{target} {fmt} {count}",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return Export(
        target=target,
        fmt=fmt,
        encoding=encoding,
        queryset=qs,
        columns=columns,
        count=count,
        sheet_title=title[:31],
        filename=f"tokui-{target}-{stamp}.{fmt}",
    )


def replaced_summary(replaced: Counter[str], *, limit: int = 10) -> str:
    """``"𠮷 ×3, é ×1"``: the characters CP932 could not hold, most frequent first."""
    shown = ", ".join(f"{ch} ×{n}" for ch, n in replaced.most_common(limit))
    return shown + (", …" if len(replaced) > limit else "")
