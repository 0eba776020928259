"""Order import (受注の取り込み): a CSV or XLSX file of order lines becomes orders.

Columns (the header row names them; Japanese names work too; the order does not matter)::

    account                 the account's Tokui number, its 法人番号 (13 digits) or its name
    customer_order_number   the customer's order number (注文番号): rows with the same
                            account and number form one order
    product                 the product's code (SKU)
    quantity                a whole number from 1
    promised_on             optional: the promised date (納期), 2026-12-01 or 2026/12/01
    unit_price              optional: the agreed unit price; at most the price found, below it
                            a discount checked against the importer's authority (see
                            tokui.orders.orders)

``order_import_preview`` reads the file and checks every row (the account, the product, the
quantity, the date, the price: the lines are priced as the order would be) and writes
nothing: each problem is a ``RowError`` (row number as the spreadsheet shows it, column,
message). ``order_import_run`` creates the orders, only when the file has no error, through
``order_create_once`` with the idempotency key ``import:<account id>:<customer order number>``:
importing the same file again creates nothing new and says so. The files are small (at most
``MAX_BYTES`` and ``MAX_ROWS`` rows); the readers are those of the account import
(tokui.accounts.imports.readers: CSV in UTF-8 / CP932, XLSX).
"""

import datetime
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tokui.accounts.imports.presets import header_key
from tokui.accounts.imports.readers import (
    CSV,
    XLSX,
    ImportFileError,
    open_table,
    sniff_format,
)
from tokui.accounts.models import Account
from tokui.catalog.constants import ProductStatus
from tokui.catalog.models import Product
from tokui.core.exceptions import ApplicationError
from tokui.orders.constants import OrderSource, OrderStatus
from tokui.orders.models import Order
from tokui.orders.orders import (
    order_create_once,
    price_order_lines,
    require_editor,
)
from tokui.orders.selectors import visible_account
from tokui.users.models import User

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
REFERENCE_LIMIT = 80  # the key "import:<id>:<number>" stays within 100 characters
COLUMNS = (
    "account",
    "customer_order_number",
    "product",
    "quantity",
    "promised_on",
    "unit_price",
)
REQUIRED = ("account", "customer_order_number", "product", "quantity")
COLUMN_LABELS = {
    "account": gettext_lazy("account"),
    "customer_order_number": gettext_lazy("customer's order number"),
    "product": gettext_lazy("product"),
    "quantity": gettext_lazy("quantity"),
    "promised_on": gettext_lazy("promised date"),
    "unit_price": gettext_lazy("unit price"),
}
# Other names a column may have (compared through header_key: case, width, spaces ignored).
ALIASES = {
    "account": ("account", "取引先", "顧客", "得意先", "法人番号", "corporate number"),
    "customer_order_number": (
        "customer_order_number",
        "customer order number",
        "order number",
        "注文番号",
        "発注番号",
    ),
    "product": ("product", "sku", "code", "product code", "商品", "商品コード", "品番"),
    "quantity": ("quantity", "qty", "数量"),
    "promised_on": ("promised_on", "promised date", "promised", "納期", "納期日"),
    "unit_price": ("unit_price", "unit price", "price", "単価"),
}
_HEADER_TO_COLUMN = {header_key(alias): col for col, names in ALIASES.items() for alias in names}
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet shows it: the header is row 1
    column: str  # a key of COLUMNS, or "" for the whole row / file
    message: str

    @property
    def column_label(self) -> str:
        return str(COLUMN_LABELS.get(self.column, ""))


@dataclass
class PlannedOrder:
    account: Account
    reference: str
    rows: list[int] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    existing: Order | None = None

    @property
    def key(self) -> str:
        return f"import:{self.account.pk}:{self.reference}"


@dataclass
class ImportPlan:
    orders: list[PlannedOrder] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0

    @property
    def new_orders(self) -> list[PlannedOrder]:
        return [o for o in self.orders if o.existing is None]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ImportResult:
    created: list[Order] = field(default_factory=list)
    existing: list[Order] = field(default_factory=list)


# -- the file --------------------------------------------------------------------------------


def template_csv(*, viewer: User | None = None) -> str:
    """The downloadable template (UTF-8 with BOM, so that Excel opens it right): the columns
    and two example rows naming an account the viewer sees and two active products, so the
    file imports as it is; without them, placeholders."""
    account = (
        Account.objects.visible_to(viewer).filter(archived_at=None).order_by("pk").first()
        if viewer is not None
        else None
    )
    skus = list(
        Product.objects.filter(status=ProductStatus.ACTIVE)
        .order_by("sku")
        .values_list("sku", flat=True)[:2]
    )
    skus += ["PRODUCT-CODE"] * (2 - len(skus))
    ref = str(account.pk) if account is not None else "1"
    promised = (timezone.localdate() + datetime.timedelta(days=14)).isoformat()
    rows = [
        (ref, "PO-0001", skus[0], "2", promised, ""),
        (ref, "PO-0001", skus[1], "10", promised, ""),
    ]
    lines = [",".join(COLUMNS), *(",".join(row) for row in rows)]
    return "\ufeff" + "\r\n".join(lines) + "\r\n"


def _file_format(file: IO[bytes], name: str) -> str:
    lowered = (name or "").lower()
    if "." in lowered and not lowered.endswith((".csv", ".txt", ".xlsx")):
        raise ImportFileError(_("Upload a CSV or XLSX file (.csv or .xlsx)."))
    file_format = sniff_format(file, name)
    if file_format not in (CSV, XLSX):
        raise ImportFileError(_("Upload a CSV or XLSX file (.csv or .xlsx)."))
    if lowered.endswith(".xlsx") and file_format != XLSX:
        raise ImportFileError(_("This file is not an XLSX workbook: save it again as .xlsx."))
    return file_format


def _size(file: IO[bytes]) -> int:
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    return size


def read_rows(
    file: IO[bytes], name: str
) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """The file's rows as ``(row number, {column: text})``; a problem with the whole file
    raises ImportFileError (field "file")."""
    if _size(file) > MAX_BYTES:
        raise ImportFileError(
            _("The file is too big: an order import takes at most %(n)d MB.")
            % {"n": MAX_BYTES // (1024 * 1024)}
        )
    file_format = _file_format(file, name)
    errors: list[RowError] = []
    rows: list[tuple[int, dict[str, str]]] = []
    with open_table(file, file_format=file_format) as table:
        columns: dict[int, str] = {}
        for index, header in enumerate(table.headers):
            column = _HEADER_TO_COLUMN.get(header_key(header))
            if column is not None and column not in columns.values():
                columns[index] = column
        missing = [c for c in REQUIRED if c not in columns.values()]
        if missing:
            raise ImportFileError(
                _("The header row lacks these columns: %(columns)s. Download the template.")
                % {"columns": ", ".join(missing)}
            )
        for source in table.rows():
            if source.blank:
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(
                    _("The file has more than %(n)d rows: split it.") % {"n": MAX_ROWS}
                )
            if source.problem:
                errors.append(RowError(source.number, "", source.problem))
                rows.append((source.number, {}))
                continue
            values = {c: "" for c in COLUMNS}
            for index, column in columns.items():
                if index < len(source.cells):
                    values[column] = unicodedata.normalize("NFKC", source.cells[index]).strip()
            rows.append((source.number, values))
    if not rows:
        raise ImportFileError(_("The file has no rows under its header."))
    return rows, errors


# -- checking --------------------------------------------------------------------------------


def _account(actor: User, text: str, cache: dict[str, Account | str]) -> Account | str:
    if text in cache:
        return cache[text]
    visible = Account.objects.visible_to(actor).filter(archived_at=None)
    found: Account | str
    if len(text) == 13 and text.isdecimal():
        account = visible.filter(corporate_number=text).first()
        found = account or _("No account of yours has the corporate number %(n)s.") % {"n": text}
    elif text.isdecimal() and len(text) < 13:
        account = visible.filter(pk=int(text)).first()
        found = account or _("No account of yours has the number %(n)s.") % {"n": text}
    else:
        matches = list(visible.filter(name=text)[:2])
        if len(matches) == 1:
            found = matches[0]
        elif matches:
            found = _("Several accounts are named “%(name)s”: use the number or 法人番号.") % {
                "name": text
            }
        else:
            found = _("No account of yours is named “%(name)s”.") % {"name": text}
    cache[text] = found
    return found


def _date(text: str) -> datetime.date | None:
    match = _DATE.match(text)
    if match is None:
        return None
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _check_row(
    actor: User,
    number: int,
    values: dict[str, str],
    accounts: dict[str, Account | str],
    products: dict[str, Product],
    errors: list[RowError],
) -> tuple[Account, str, dict[str, Any]] | None:
    found = len(errors)
    for column in REQUIRED:
        if not values.get(column):
            errors.append(RowError(number, column, _("This column is empty.")))
    account: Account | str | None = None
    if values.get("account"):
        account = _account(actor, values["account"], accounts)
        if isinstance(account, str):
            errors.append(RowError(number, "account", account))
    reference = values.get("customer_order_number", "")
    if len(reference) > REFERENCE_LIMIT or not reference.isprintable():
        errors.append(
            RowError(
                number,
                "customer_order_number",
                _("At most %(n)d characters, please.") % {"n": REFERENCE_LIMIT},
            )
        )
    product = products.get(values.get("product", ""))
    if values.get("product") and product is None:
        errors.append(
            RowError(
                number,
                "product",
                _("No product has the code %(code)s.") % {"code": values["product"]},
            )
        )
    quantity = values.get("quantity", "")
    if quantity and not (
        quantity.isdecimal() and len(quantity) <= 10 and 1 <= int(quantity) <= 10**9
    ):
        errors.append(RowError(number, "quantity", _("Enter a whole number from 1.")))
    promised_on = None
    if values.get("promised_on"):
        promised_on = _date(values["promised_on"])
        if promised_on is None or not 2000 <= promised_on.year <= 2199:
            errors.append(RowError(number, "promised_on", _("Enter a date like 2026-12-01.")))
    price = values.get("unit_price", "")
    if price:
        try:
            value = Decimal(price.replace(",", "").replace("¥", "").replace("円", ""))
            if not value.is_finite() or value < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(RowError(number, "unit_price", _("Enter the unit price as a number.")))
    if len(errors) > found or not isinstance(account, Account) or product is None:
        return None
    line: dict[str, Any] = {"product": product.pk, "quantity": int(quantity)}
    if promised_on is not None:
        line["promised_on"] = promised_on
    if price:
        line["unit_price"] = price.replace(",", "").replace("¥", "").replace("円", "")
    return account, reference, line


def _existing_order(actor: User, planned: PlannedOrder) -> Order | None:
    return (
        Order.objects.filter(created_by=actor, idempotency_key=planned.key).first()
        or Order.objects.filter(
            account=planned.account,
            customer_reference=planned.reference,
            source=OrderSource.IMPORT,
        )
        .exclude(status=OrderStatus.CANCELLED)
        .first()
    )


def _price_check(actor: User, planned: PlannedOrder, errors: list[RowError]) -> None:
    """Price the planned order's lines as the order would be (nothing written)."""
    try:
        price_order_lines(
            actor=actor,
            account=planned.account,
            lines=planned.lines,
            on=timezone.localdate(),
        )
    except ApplicationError as exc:
        if not exc.errors:
            errors.append(RowError(planned.rows[0], "", exc.message))
        for key, messages in exc.errors.items():
            parts = key.split(".")
            row = planned.rows[0]
            column = ""
            if len(parts) >= 2 and parts[1].isdecimal() and int(parts[1]) < len(planned.rows):
                row = planned.rows[int(parts[1])]
                column = parts[2] if len(parts) > 2 else ""
            for message in messages:
                errors.append(RowError(row, column if column in COLUMNS else "", message))


def order_import_preview(*, actor: User, file: IO[bytes], name: str) -> ImportPlan:
    """Read and check the file; nothing is written. Raises ImportFileError for a file that
    cannot be read at all."""
    require_editor(actor)
    rows, errors = read_rows(file, name)
    codes = {values.get("product", "") for _n, values in rows if values.get("product")}
    products = {p.sku: p for p in Product.objects.filter(sku__in=codes)}
    accounts: dict[str, Account | str] = {}
    plan = ImportPlan(rows=len(rows))
    groups: dict[tuple[int, str], PlannedOrder] = {}
    for number, values in rows:
        if not values:
            continue
        checked = _check_row(actor, number, values, accounts, products, errors)
        if checked is None:
            continue
        account, reference, line = checked
        planned = groups.setdefault(
            (account.pk, reference), PlannedOrder(account=account, reference=reference)
        )
        planned.rows.append(number)
        planned.lines.append(line)
    for planned in groups.values():
        planned.existing = _existing_order(actor, planned)
        if planned.existing is None:
            _price_check(actor, planned, errors)
        plan.orders.append(planned)
    plan.errors = sorted(errors, key=lambda e: (e.row, COLUMNS.index(e.column) if e.column else -1))
    return plan


def order_import_run(*, actor: User, file: IO[bytes], name: str) -> ImportResult:
    """Create the file's orders (all or nothing): refused while the file has errors; orders
    imported before are returned as existing, not made again."""
    plan = order_import_preview(actor=actor, file=file, name=name)
    if not plan.ok:
        raise ApplicationError(
            _("The file has %(n)d problems: correct them and upload it again.")
            % {"n": len(plan.errors)},
            field="file",
            status=422,
        )
    result = ImportResult()
    with transaction.atomic():
        for planned in plan.orders:
            if planned.existing is not None:
                result.existing.append(planned.existing)
                continue
            visible_account(actor, planned.account)
            order, new = order_create_once(
                actor=actor,
                account=planned.account,
                lines=planned.lines,
                customer_reference=planned.reference,
                source=OrderSource.IMPORT,
                idempotency_key=planned.key,
            )
            (result.created if new else result.existing).append(order)
    return result


def error_rows(errors: Iterable[RowError]) -> list[dict[str, Any]]:
    """The errors for a page or a report: row, column label, message."""
    return [{"row": e.row, "column": e.column_label, "message": e.message} for e in errors]
