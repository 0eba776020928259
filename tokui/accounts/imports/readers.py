"""Reading import files row by row: CSV (UTF-8, UTF-8 with BOM, CP932), XLSX and vCard.

Every reader streams: a CSV is parsed through a text wrapper over the binary file, an XLSX
through openpyxl's read-only mode, a vCard card by card, so memory stays flat however long the
file is. A problem with the file as a whole (empty, too big, a zip bomb, duplicate column
names) raises ``ImportFileError`` before any row is read; a problem with one row (too many
cells, bytes that are not text) travels with that row as ``SourceRow.problem`` so the import
rejects it and carries on.
"""

import codecs
import csv
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _

from tokui.core.exceptions import ApplicationError

CSV = "csv"
XLSX = "xlsx"
VCARD = "vcard"
FORMATS = (CSV, XLSX, VCARD)
ENCODINGS = ("auto", "utf-8", "cp932")

# The pseudo-columns a vCard yields; they are the contact import's own field names, so a vCard
# maps onto contacts without a choice to make.
VCARD_COLUMNS = (
    "account",
    "department",
    "title",
    "family_name",
    "given_name",
    "full_name",
    "family_name_kana",
    "given_name_kana",
    "email",
    "phone",
    "mobile",
    "account_fax",
    "account_postal_code",
    "account_address",
    "account_website",
    "notes",
)

# Undecodable bytes become lone surrogates (U+DC80–U+DCFF, the "surrogateescape" handler), so a
# broken byte only spoils its own row; the row is rejected with the byte named.
_UNDECODABLE = re.compile("[\udc80-\udcff]+")
_CHUNK = 1 << 20
# An XLSX is XML in a zip: real sheets pack 5-30 times; a ratio past this is a zip bomb.
_MAX_UNPACK_RATIO = 100
_MAX_ZIP_MEMBERS = 10_000


class ImportFileError(ApplicationError):
    """The file as a whole cannot be imported: nothing is read from it."""

    status = 422
    code = "invalid_file"

    def __init__(self, message: Any) -> None:
        super().__init__(message, field="file")


@dataclass(slots=True)
class SourceRow:
    """One row of the file: its number as a spreadsheet shows it (the header is row 1)."""

    number: int
    cells: list[str] = field(default_factory=list)
    problem: str = ""

    @property
    def blank(self) -> bool:
        return not self.problem and not any(self.cells)


def encoding_label(encoding: str) -> str:
    return {
        "utf-8": "UTF-8",
        "utf-8-sig": _("UTF-8 with BOM"),
        "cp932": "CP932 (Shift_JIS)",
        "utf-16": "UTF-16",
    }.get(encoding, encoding)


def _file_size(file: IO[bytes]) -> int:
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f}"


def sniff_format(file: IO[bytes], name: str = "") -> str:
    """The file's format from its first bytes (the name only breaks a tie)."""
    file.seek(0)
    head = file.read(2048)
    file.seek(0)
    lowered = name.lower()
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _("Old Excel files (.xls) cannot be read: save the sheet as .xlsx or CSV first.")
        )
    if head.startswith(b"PK\x03\x04") or lowered.endswith((".xlsx", ".xlsm")):
        return XLSX
    text = head.removeprefix(codecs.BOM_UTF8).lstrip().upper()
    if text.startswith(b"BEGIN:VCARD") or lowered.endswith((".vcf", ".vcard")):
        return VCARD
    return CSV


def _undecodable_count(file: IO[bytes], encoding: str, *, stop_at_first: bool) -> int:
    """How many runs of bytes in the file cannot be decoded in ``encoding``."""
    file.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")
    count = 0
    while chunk := file.read(_CHUNK):
        count += len(_UNDECODABLE.findall(decoder.decode(chunk)))
        if count and stop_at_first:
            break
    else:
        count += len(_UNDECODABLE.findall(decoder.decode(b"", final=True)))
    file.seek(0)
    return count


def detect_encoding(file: IO[bytes], requested: str = "auto") -> tuple[str, bool]:
    """The encoding to read a text file with, and whether some of its bytes do not decode.

    A byte-order mark decides; otherwise UTF-8 when the whole file decodes as UTF-8, CP932
    (Windows' Shift_JIS) when it decodes as that, else whichever leaves fewer broken bytes.
    Reading the whole file per candidate is cheap (the codecs run in C) and catches a CP932
    character deep in a file that starts in plain ASCII, which a sample would miss.
    """
    file.seek(0)
    head = file.read(4)
    file.seek(0)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", _undecodable_count(file, "utf-16", stop_at_first=True) > 0
    if requested == "cp932":
        return "cp932", _undecodable_count(file, "cp932", stop_at_first=True) > 0
    if head.startswith(codecs.BOM_UTF8) or requested == "utf-8":
        # utf-8-sig drops the byte-order mark when there is one and reads plain UTF-8 otherwise.
        return "utf-8-sig", _undecodable_count(file, "utf-8-sig", stop_at_first=True) > 0
    if not _undecodable_count(file, "utf-8", stop_at_first=True):
        return "utf-8", False
    if not _undecodable_count(file, "cp932", stop_at_first=True):
        return "cp932", False
    utf8 = _undecodable_count(file, "utf-8", stop_at_first=False)
    cp932 = _undecodable_count(file, "cp932", stop_at_first=False)
    return ("utf-8" if utf8 <= cp932 else "cp932"), True


def undecodable_problem(cells: list[str], headers: list[str], encoding: str) -> str:
    """A message naming the first undecodable bytes of a row, or "" when it is all text."""
    for index, cell in enumerate(cells):
        found = _UNDECODABLE.search(cell)
        if found:
            raw = found.group().encode("utf-8", errors="surrogateescape")[:4]
            column = headers[index] if index < len(headers) else str(index + 1)
            return _(
                "Bytes %(bytes)s in column “%(column)s” cannot be read as %(encoding)s, so this "
                "row was not imported: choose the file's encoding, or fix the file."
            ) % {
                "bytes": " ".join(f"0x{b:02X}" for b in raw),
                "column": column,
                "encoding": encoding_label(encoding),
            }
    return ""


def clean_headers(raw: list[str]) -> list[str]:
    """Column names, stripped; an unnamed column gets a name; duplicates are refused."""
    headers = [unicodedata.normalize("NFC", str(h or "")).strip() for h in raw]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise ImportFileError(_("The first row has no column names."))
    headers = [h or f"({i + 1})" for i, h in enumerate(headers)]
    seen: dict[str, list[int]] = {}
    for position, name in enumerate(headers, start=1):
        seen.setdefault(name, []).append(position)
    duplicates = {name: columns for name, columns in seen.items() if len(columns) > 1}
    if duplicates:
        listed = "; ".join(
            _("“%(name)s” (columns %(columns)s)")
            % {"name": name[:60], "columns": ", ".join(str(c) for c in columns)}
            for name, columns in duplicates.items()
        )
        raise ImportFileError(
            _(
                "Column names must be unique, and these appear more than once: %(list)s. "
                "Rename or remove the extra columns."
            )
            % {"list": listed}
        )
    return headers


def _has_text(cells: list[str]) -> bool:
    return any(c.strip() for c in cells)


def shape_problem(cells: list[str], width: int) -> str:
    """Why a row does not fit under the header, or "" (empty cells past the end are padding)."""
    if len(cells) < width:
        return _(
            "This row has %(n)d cells but the file has %(m)d columns: a comma or a line break "
            "may be missing."
        ) % {"n": len(cells), "m": width}
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        return _(
            "This row has %(n)d cells but the file has %(m)d columns: a comma or a quote may be "
            "out of place."
        ) % {"n": len(cells), "m": width}
    return ""


class Table:
    """A file of rows under one header row."""

    file_format = ""
    headers: list[str]
    encoding = ""

    def rows(self, *, skip: int = 0) -> Iterator[SourceRow]:
        """Rows after the header; ``skip`` rows (blank ones too) were read by an earlier run."""
        raise NotImplementedError

    def count(self) -> int | None:
        """How many rows follow the header (blank ones too), or None when unknown."""
        raise NotImplementedError

    def preview(self, limit: int = 5) -> list[SourceRow]:
        rows = []
        for row in self.rows():
            if row.blank:
                continue
            rows.append(row)
            if len(rows) >= limit:
                break
        return rows

    def close(self) -> None:
        """Release what the reader holds (the caller closes the file itself)."""

    def __enter__(self) -> "Table":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Unclosable(io.RawIOBase):
    """Lets a text wrapper read a file it must not close (the caller owns the file)."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._file.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        pass


def _text(file: IO[bytes], encoding: str) -> io.TextIOWrapper:
    file.seek(0)
    return io.TextIOWrapper(
        io.BufferedReader(_Unclosable(file), buffer_size=_CHUNK),
        encoding=encoding,
        errors="surrogateescape",
        newline="",
    )


class CsvTable(Table):
    file_format = CSV

    def __init__(self, file: IO[bytes], *, encoding: str = "auto") -> None:
        self.file = file
        limit = settings.TOKUI_IMPORT_MAX_CSV_BYTES
        size = _file_size(file)
        if size > limit:
            raise ImportFileError(
                _("The file is %(size)s MB; the limit for CSV files is %(limit)s MB.")
                % {"size": _megabytes(size), "limit": _megabytes(limit)}
            )
        self.encoding, self.has_undecodable = detect_encoding(file, encoding)
        self.dialect = self._dialect()
        records = self._records()
        header = next((cells for error, cells in records if not error and _has_text(cells)), None)
        records.close()
        if header is None:
            raise ImportFileError(_("The file is empty."))
        if undecodable_problem(header, [], self.encoding):
            raise ImportFileError(
                _("The column names cannot be read as %(encoding)s: choose the file's encoding.")
                % {"encoding": encoding_label(self.encoding)}
            )
        self.headers = clean_headers(header)

    def _dialect(self) -> type[csv.Dialect]:
        """Comma, tab or semicolon: whichever the first line with text uses most."""
        text = _text(self.file, self.encoding)
        first = ""
        for _number, line in zip(range(1000), text, strict=False):
            if line.strip():
                first = line
                break
        text.detach()
        counts = {d: first.count(d) for d in (",", "\t", ";")}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","

        class Dialect(csv.excel):
            pass

        Dialect.delimiter = delimiter
        return Dialect

    def _records(self) -> Generator[tuple[str, list[str]], None, None]:
        """``(error, cells)`` per record; a record the CSV parser chokes on has an error."""
        text = _text(self.file, self.encoding)
        reader = csv.reader(text, dialect=self.dialect)
        try:
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield (
                        _("This row cannot be read as CSV (%(error)s).") % {"error": exc},
                        [],
                    )
                    continue
                yield "", cells
        finally:
            text.detach()

    def rows(self, *, skip: int = 0) -> Iterator[SourceRow]:
        width = len(self.headers)
        started = False
        position = 0  # data rows read so far; ``skip`` of them were imported already
        for number, (error, cells) in enumerate(self._records(), start=1):
            if not started:
                # The header: the first record with something in it.
                started = not error and _has_text(cells)
                continue
            position += 1
            if position <= skip:
                continue
            if error:
                yield SourceRow(number, problem=error)
                continue
            if not any(cells):
                yield SourceRow(number)
                continue
            problem = shape_problem(cells, width)
            if not problem and self.has_undecodable:
                problem = undecodable_problem(cells, self.headers, self.encoding)
            if problem:
                yield SourceRow(number, problem=problem)
                continue
            yield SourceRow(number, cells[:width] if len(cells) > width else cells)

    def count(self) -> int:
        total = 0
        started = False
        for error, cells in self._records():
            if not started:
                started = not error and _has_text(cells)
                continue
            total += 1
        return total


def check_zip(file: IO[bytes]) -> None:
    """Refuse an XLSX that would unpack to an absurd size before any XML is parsed."""
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:  # a file object passed in is left open
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportFileError(
            _("This is not a readable XLSX file (%(error)s).") % {"error": exc}
        ) from exc
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    limit = settings.TOKUI_IMPORT_MAX_UNPACKED_BYTES
    if unpacked > limit or unpacked / packed > _MAX_UNPACK_RATIO or len(members) > _MAX_ZIP_MEMBERS:
        raise ImportFileError(
            _(
                "This XLSX file would unpack to %(size)s MB from %(packed)s MB: it is too large, "
                "or built to exhaust the server (a “zip bomb”). It was not opened."
            )
            % {"size": _megabytes(unpacked), "packed": _megabytes(packed)}
        )


def cell_text(value: Any) -> str:
    """A spreadsheet value as the text a person typed; formulas stay text, never evaluated."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


class XlsxTable(Table):
    file_format = XLSX

    def __init__(self, file: IO[bytes]) -> None:
        import openpyxl

        self.file = file
        size = _file_size(file)
        limit = settings.TOKUI_IMPORT_MAX_BYTES
        if size > limit:
            raise ImportFileError(
                _("The file is %(size)s MB; the limit for XLSX files is %(limit)s MB.")
                % {"size": _megabytes(size), "limit": _megabytes(limit)}
            )
        check_zip(file)
        file.seek(0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # data_only=False: a formula is read as the text of the formula, never run.
                self.workbook = openpyxl.load_workbook(
                    file, read_only=True, data_only=False, keep_links=False
                )
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise ImportFileError(
                _("This is not a readable XLSX file (%(error)s).") % {"error": exc}
            ) from exc
        if not self.workbook.worksheets:
            raise ImportFileError(_("The file is empty."))
        self.sheet = self.workbook.worksheets[0]
        header = None
        self._header_row = 0
        for number, values in enumerate(self._values(min_row=1), start=1):
            if any(cell_text(v).strip() for v in values):
                header, self._header_row = values, number
                break
            if number >= 1000:
                break
        if header is None:
            self.workbook.close()
            raise ImportFileError(_("The file is empty."))
        self.headers = clean_headers([cell_text(v) for v in header])

    def _values(self, *, min_row: int) -> Iterator[tuple[Any, ...]]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield from self.sheet.iter_rows(min_row=min_row, values_only=True)

    def rows(self, *, skip: int = 0) -> Iterator[SourceRow]:
        width = len(self.headers)
        first = self._header_row + 1 + skip
        for number, values in enumerate(self._values(min_row=first), start=first):
            cells = [cell_text(v) for v in values]
            if not any(c.strip() for c in cells):
                yield SourceRow(number)
                continue
            if len(cells) < width:
                cells.extend([""] * (width - len(cells)))
            problem = shape_problem(cells, width)
            if problem:
                yield SourceRow(number, problem=problem)
                continue
            yield SourceRow(number, cells[:width])

    def count(self) -> int | None:
        max_row = self.sheet.max_row
        if max_row is None:
            return None
        return max(max_row - self._header_row, 0)

    def close(self) -> None:
        self.workbook.close()


class VcardTable(Table):
    """Contacts from a vCard file (2.1, 3.0 or 4.0): one row per card, ORG as the account."""

    file_format = VCARD

    def __init__(self, file: IO[bytes], *, encoding: str = "auto") -> None:
        self.file = file
        size = _file_size(file)
        limit = settings.TOKUI_IMPORT_MAX_BYTES
        if size > limit:
            raise ImportFileError(
                _("The file is %(size)s MB; the limit for vCard files is %(limit)s MB.")
                % {"size": _megabytes(size), "limit": _megabytes(limit)}
            )
        self.encoding, self.has_undecodable = detect_encoding(file, encoding)
        self.headers = list(VCARD_COLUMNS)
        if next(self._cards(), None) is None:
            raise ImportFileError(_("The file is empty: it holds no vCard."))

    def _cards(self) -> Iterator[str]:
        text = _text(self.file, self.encoding)
        lines: list[str] | None = None
        try:
            for line in text:
                marker = line.strip().upper()
                if marker == "BEGIN:VCARD":
                    lines = [line]
                elif lines is not None:
                    lines.append(line)
                    if marker == "END:VCARD":
                        yield "".join(lines)
                        lines = None
                    elif len(lines) > 2000:
                        yield "".join(lines)  # never closed: reported as unreadable
                        lines = None
        finally:
            text.detach()

    def rows(self, *, skip: int = 0) -> Iterator[SourceRow]:
        for number, card in enumerate(self._cards(), start=1):
            if number <= skip:
                continue
            yield self._row(number, card)

    def _row(self, number: int, card_text: str) -> SourceRow:
        import vobject

        if self.has_undecodable:
            problem = undecodable_problem([card_text], ["vCard"], self.encoding)
            if problem:
                return SourceRow(number, problem=problem)
        try:
            card = vobject.readOne(card_text, allowQP=True)
            values = vcard_values(card)
        except Exception as exc:  # vobject raises many kinds for a damaged card
            return SourceRow(
                number, problem=_("This card cannot be read (%(error)s).") % {"error": exc}
            )
        return SourceRow(number, [values.get(column, "") for column in VCARD_COLUMNS])

    def count(self) -> int:
        return sum(1 for _card in self._cards())


def _card_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip()
    if isinstance(value, list):
        return " ".join(_card_text(v) for v in value if v)
    return str(value or "").strip()


def _types(line: Any) -> set[str]:
    types = {str(t).lower() for t in line.params.get("TYPE", [])}
    types |= {str(t).lower() for t in getattr(line, "singletonparams", [])}
    return types


def vcard_values(card: Any) -> dict[str, str]:
    """The contact fields of one vCard, by our field names."""
    values: dict[str, str] = {}
    contents = card.contents
    if "n" in contents:
        name = contents["n"][0].value
        values["family_name"] = _card_text(getattr(name, "family", ""))
        values["given_name"] = _card_text(getattr(name, "given", ""))
    if "fn" in contents:
        values["full_name"] = _card_text(contents["fn"][0].value)
    if "org" in contents:
        org = contents["org"][0].value
        parts = [_card_text(p) for p in (org if isinstance(org, list) else [org])]
        values["account"] = parts[0] if parts else ""
        values["department"] = " ".join(p for p in parts[1:] if p)
    if "title" in contents:
        values["title"] = _card_text(contents["title"][0].value)
    if "email" in contents:
        values["email"] = _card_text(contents["email"][0].value)
    for line in contents.get("tel", []):
        types = _types(line)
        number = _card_text(line.value)
        if "fax" in types:
            values.setdefault("account_fax", number)
        elif types & {"cell", "mobile"}:
            values.setdefault("mobile", number)
        else:
            values.setdefault("phone", number)
    addresses = contents.get("adr", [])
    if addresses:
        work = [a for a in addresses if "work" in _types(a)] or addresses
        adr = work[0].value
        values["account_postal_code"] = _card_text(getattr(adr, "code", ""))
        parts = [_card_text(getattr(adr, key, "")) for key in ("region", "city", "street")]
        values["account_address"] = " ".join(p for p in parts if p)
    if "url" in contents:
        values["account_website"] = _card_text(contents["url"][0].value)
    if "note" in contents:
        values["notes"] = _card_text(contents["note"][0].value)
    # Readings: iOS and Android write X-PHONETIC-*, Japanese phones SOUND;X-IRMC-N.
    if "x-phonetic-last-name" in contents:
        values["family_name_kana"] = _card_text(contents["x-phonetic-last-name"][0].value)
    if "x-phonetic-first-name" in contents:
        values["given_name_kana"] = _card_text(contents["x-phonetic-first-name"][0].value)
    for line in contents.get("sound", []):
        if "x-irmc-n" in _types(line):
            parts = _card_text(line.value).split(";")
            values.setdefault("family_name_kana", parts[0] if parts else "")
            values.setdefault("given_name_kana", parts[1] if len(parts) > 1 else "")
    return values


def open_table(file: IO[bytes], *, file_format: str, encoding: str = "auto") -> Table:
    """Open a seekable binary file as a table of rows; raises ImportFileError."""
    if _file_size(file) == 0:
        raise ImportFileError(_("The file is empty."))
    if file_format == XLSX:
        return XlsxTable(file)
    if file_format == VCARD:
        return VcardTable(file, encoding=encoding)
    return CsvTable(file, encoding=encoding)
