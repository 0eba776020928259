"""Invoices (適格請求書), credit notes for returns and payments (入金): services and selectors.

An invoice bills the delivered, not yet invoiced quantities of order lines: of the orders given,
or of every order of the account delivered up to a closing day (締め日) of its agreement. It is
immutable once issued: everything printed is kept on the row (the buyer's full legal name with
御中 or 様, our registration number, per-rate bases and taxes). A mistake is fixed by a
correction, a new invoice that ``corrects`` the old one (the old one becomes "corrected" and its
quantities count as not invoiced any more). Returned goods get a credit note (kind
``credit_note``, series RN, negative quantities) whose ``corrects`` names the invoice credited.

Tax is computed once per invoice per rate on the sum of the rate's lines and rounded to the
currency's minor unit towards zero (端数切捨て, ``tokui.core.money.tax_by_rate``): for an
invoice that is the floor; for a credit note (negative amounts) it is the ceiling, so a
return of the same goods gives back exactly the tax that was charged (−1,005 → tax −100).

Numbers: INV-YYYY-NNNNN for invoices, RN-YYYY-NNNNN for credit notes (the pricing module's
CN-YYYY-NNNN series is its rebate credit notes).
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, Contact, account_scope
from tokui.accounts.selectors import account_list
from tokui.activities.pdf import render_pdf
from tokui.core.audit import audit_record
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.japanese import format_phone, format_postal_code, japanese_date
from tokui.core.money import check_amount, format_money, quantize
from tokui.core.validation import ErrorCollector
from tokui.orders.company import company_profile_get
from tokui.orders.constants import (
    DeliveryStatus,
    DocumentLanguage,
    Honorific,
    InvoiceKind,
    InvoiceStatus,
    OrderStatus,
    PaymentMethod,
)
from tokui.orders.documents import ENGLISH_UNITS, MONTHS, full_legal_name
from tokui.orders.hooks import order_paid_hooks
from tokui.orders.models import (
    DeliveryLine,
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    Payment,
)
from tokui.orders.numbering import next_document_number
from tokui.orders.orders import clean_key
from tokui.orders.quotes import Totals, quote_totals
from tokui.orders.selectors import visible_account
from tokui.pricing.payment_terms import PaymentTerms
from tokui.pricing.quotes import agreement_applying
from tokui.users.models import User

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "RN"
NUMBER_DIGITS = 5
LINES_LIMIT = 500
# Invoices still waiting for money.
OPEN_STATUSES = frozenset({InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID})


# -- pure parts ------------------------------------------------------------------------------


def invoice_totals(lines: Iterable[tuple[Decimal, str]], currency: str = "JPY") -> Totals:
    """Bases and taxes per rate of ``(amount, tax category)`` lines, and the total.

    Each rate's amounts are added first and its tax is computed once and rounded towards zero
    to the currency's minor unit (端数切捨て): never per line. Negative amounts (credit notes)
    round towards zero as well, so their tax mirrors the tax of the sale they reverse.
    """
    return quote_totals(lines, currency)


def _rate_fields(totals: Totals) -> dict[str, Decimal]:
    fields = {
        "base_standard": Decimal(0),
        "tax_standard": Decimal(0),
        "base_reduced": Decimal(0),
        "tax_reduced": Decimal(0),
    }
    for row in totals.by_rate:
        key = "reduced" if row.rate == 8 else "standard"
        fields[f"base_{key}"] += row.net
        fields[f"tax_{key}"] += row.tax
    return fields


# -- checks ----------------------------------------------------------------------------------


def _require_editor(actor: User) -> None:
    if not actor.is_active or not actor.may_edit_accounts:
        raise PermissionDenied(_("Your role can read invoices but not issue them."))


def _locked_invoice(actor: User, invoice: Invoice | int) -> Invoice:
    invoice_id = invoice.pk if isinstance(invoice, Invoice) else invoice
    visible = Account.objects.visible_to(actor).values("pk")
    found = (
        Invoice.objects.select_for_update().filter(pk=invoice_id, account_id__in=visible).first()
    )
    if found is None:
        raise NotFound(_("No such invoice."))
    return found


def _audit(
    actor: User | None,
    action: str,
    invoice: Invoice,
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=invoice,
        changes=changes,
        scope=account_scope(invoice.account_id),
        note=note,
    )


def _registration_number() -> str:
    number = company_profile_get().registration_number
    if not number:
        raise ApplicationError(
            _(
                "Our invoice registration number (適格請求書発行事業者登録番号) is not set: an "
                "administrator enters it in the company settings before invoices are issued."
            ),
            code="no_registration_number",
            status=409,
        )
    return number


def account_terms(account: Account, on: datetime.date) -> PaymentTerms:
    """The payment terms of the account's agreement valid on ``on``; without one, closing at
    the month end and paid at the end of the next month."""
    applied = agreement_applying(account_id=account.pk, on=on)
    if applied is None:
        return PaymentTerms()
    return PaymentTerms.of(applied.record)


def _clean_contact(account: Account, contact: Contact | int | None) -> Contact | None:
    if contact is None:
        return None
    contact_id = contact.pk if isinstance(contact, Contact) else contact
    found = Contact.objects.filter(pk=contact_id, account=account, archived_at=None).first()
    if found is None:
        raise ApplicationError(_("Choose a contact of this account."), field="contact", status=422)
    return found


# -- what is left to invoice -----------------------------------------------------------------


def _invoiced_quantities(line_ids: Iterable[int]) -> dict[int, int]:
    """Quantities already on live invoices (not on corrected ones, not on credit notes)."""
    rows = (
        InvoiceLine.objects.filter(
            order_line_id__in=list(line_ids),
            invoice__kind=InvoiceKind.INVOICE,
        )
        .exclude(invoice__status=InvoiceStatus.CORRECTED)
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
    )
    return {row["order_line_id"]: row["total"] or 0 for row in rows}


def _delivered_by(line_ids: Iterable[int], day: datetime.date) -> dict[int, tuple[int, Any]]:
    """Per order line: the quantity delivered on or before ``day`` and the last delivery day."""
    found: dict[int, tuple[int, Any]] = {}
    rows = DeliveryLine.objects.filter(
        order_line_id__in=list(line_ids),
        delivery__status=DeliveryStatus.DELIVERED,
        delivery__delivered_on__lte=day,
    ).values_list("order_line_id", "quantity", "delivery__delivered_on")
    for line_id, quantity, delivered_on in rows:
        total, last = found.get(line_id, (0, None))
        found[line_id] = (total + quantity, max(d for d in (last, delivered_on) if d))
    return found


def _last_delivery(line_ids: Iterable[int]) -> dict[int, Any]:
    last: dict[int, Any] = {}
    rows = DeliveryLine.objects.filter(
        order_line_id__in=list(line_ids), delivery__delivered_on__isnull=False
    ).values_list("order_line_id", "delivery__delivered_on")
    for line_id, day in rows:
        if line_id not in last or day > last[line_id]:
            last[line_id] = day
    return last


def uninvoiced_lines(order: Order) -> list[tuple[OrderLine, int]]:
    """The order's lines with a delivered quantity not invoiced yet, and that quantity."""
    lines = list(order.lines.all())
    invoiced = _invoiced_quantities(line.pk for line in lines)
    return [
        (line, line.delivered_quantity - invoiced.get(line.pk, 0))
        for line in lines
        if line.delivered_quantity > invoiced.get(line.pk, 0)
    ]


# -- issuing ---------------------------------------------------------------------------------


def _write_invoice(
    *,
    actor: User,
    account: Account,
    kind: str,
    contact: Contact | None,
    issued_on: datetime.date,
    due_on: datetime.date,
    currency: str,
    language: str,
    rows: Sequence[dict[str, Any]],
    period: tuple[datetime.date | None, datetime.date | None] = (None, None),
    corrects: Invoice | None = None,
    notes: str = "",
    idempotency_key: str = "",
) -> Invoice:
    totals = invoice_totals(((row["amount"], row["tax_category"]) for row in rows), currency)
    series = CREDIT_NOTE_SERIES if kind == InvoiceKind.CREDIT_NOTE else INVOICE_SERIES
    invoice = Invoice.objects.create(
        kind=kind,
        account=account,
        contact=contact,
        number=next_document_number(series, issued_on.year, digits=NUMBER_DIGITS),
        status=InvoiceStatus.ISSUED,
        issued_on=issued_on,
        due_on=due_on,
        period_start=period[0],
        period_end=period[1],
        currency=currency,
        language=language,
        buyer_name=full_legal_name(account)[:300],
        honorific=Honorific.SAMA if contact is not None else Honorific.ONCHU,
        seller_registration_number=_registration_number(),
        total=totals.total,
        corrects=corrects,
        notes=notes,
        issued_by=actor,
        idempotency_key=idempotency_key,
        **_rate_fields(totals),
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(invoice=invoice, position=number, **row)
        for number, row in enumerate(rows, start=1)
    )
    return invoice


def _line_row(line: OrderLine, quantity: int, currency: str, delivered_on: Any) -> dict[str, Any]:
    amount = (
        line.amount if quantity == line.quantity else quantize(line.unit_price * quantity, currency)
    )
    return {
        "order_line": line,
        "delivered_on": delivered_on,
        "sku": line.sku,
        "description": line.description,
        "quantity": quantity,
        "unit": line.unit,
        "unit_price": line.unit_price,
        "amount": amount,
        "tax_category": line.tax_category,
    }


def _mark_invoiced(order_ids: Iterable[int]) -> None:
    """Orders whose every line is fully invoiced → invoiced."""
    for order in Order.objects.select_for_update().filter(pk__in=sorted(set(order_ids))):
        lines = list(OrderLine.objects.filter(order=order))
        invoiced = _invoiced_quantities(line.pk for line in lines)
        fully = lines and all(invoiced.get(line.pk, 0) >= line.quantity for line in lines)
        if fully and order.status not in (OrderStatus.INVOICED, OrderStatus.PAID):
            order.status = OrderStatus.INVOICED
            order.version += 1
            order.updated_at = timezone.now()
            order.save(update_fields=["status", "version", "updated_at"])


def _unmark_invoiced(order_ids: Iterable[int]) -> None:
    """Orders that are no longer fully invoiced (after a correction) → delivered."""
    for order in Order.objects.select_for_update().filter(pk__in=sorted(set(order_ids))):
        lines = list(OrderLine.objects.filter(order=order))
        invoiced = _invoiced_quantities(line.pk for line in lines)
        fully = all(invoiced.get(line.pk, 0) >= line.quantity for line in lines)
        if order.status == OrderStatus.INVOICED and not fully:
            order.status = OrderStatus.DELIVERED
            order.version += 1
            order.updated_at = timezone.now()
            order.save(update_fields=["status", "version", "updated_at"])


def last_closing_day(account: Account, today: datetime.date) -> datetime.date:
    """The account's latest closing day on or before ``today`` (what a period invoice bills)."""
    terms = account_terms(account, today)
    closing = terms.closing_date(today)
    if closing <= today:
        return closing
    earlier = terms.closing_date(closing - datetime.timedelta(days=28))
    if earlier >= closing:
        earlier = terms.closing_date(closing - datetime.timedelta(days=31))
    return earlier


@dataclass(frozen=True)
class Preview:
    invoice: Invoice  # not saved: its number, totals and dates as they would be issued
    lines: list[InvoiceLine]


class _RollBack(Exception):
    def __init__(self, preview: Preview) -> None:
        self.preview = preview


def invoice_preview(
    *,
    actor: User,
    account: Account | int,
    period_end: datetime.date,
    language: str = DocumentLanguage.JA,
    contact: Contact | int | None = None,
) -> Preview:
    """What ``invoice_issue`` would bill for the period now: the same code run and rolled back,
    so the preview cannot differ from the invoice issued right after (refusals raise alike)."""
    try:
        with transaction.atomic():
            draft = invoice_issue(
                actor=actor,
                account=account,
                period_end=period_end,
                language=language,
                contact=contact,
            )
            raise _RollBack(Preview(draft, list(draft.lines.order_by("position"))))
    except _RollBack as rolled_back:
        return rolled_back.preview


def invoice_by_key(*, actor: User, idempotency_key: str) -> Invoice | None:
    """The invoice ``actor`` issued earlier with this key (a retried request), if any."""
    if not idempotency_key:
        return None
    return Invoice.objects.filter(issued_by=actor, idempotency_key=idempotency_key).first()


def _clean_key(key: str) -> str:
    """The one rule for idempotency keys (``orders.clean_key``): printable, at most 100."""
    return clean_key(key)


def invoice_issue(
    *,
    actor: User,
    account: Account | int,
    orders: Sequence[Order | int] | None = None,
    period_end: datetime.date | None = None,
    issued_on: datetime.date | None = None,
    language: str = DocumentLanguage.JA,
    idempotency_key: str = "",
    contact: Contact | int | None = None,
    notes: str = "",
) -> Invoice:
    """Invoice the delivered, not yet invoiced quantities of ``orders`` (an order with nothing
    delivered is refused), or with ``period_end`` (a closing day of the account's terms) every
    such quantity of the account delivered on or before that day. The due date follows the
    agreement valid on the invoice date (or the closing day); without one: month-end closing,
    due at the end of the next month. A retry with the same ``idempotency_key`` returns the
    first invoice."""
    _require_editor(actor)
    key = _clean_key(idempotency_key)
    existing = invoice_by_key(actor=actor, idempotency_key=key)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _invoice_issue(
                actor=actor,
                account=account,
                orders=orders,
                period_end=period_end,
                issued_on=issued_on,
                language=language,
                key=key,
                contact=contact,
                notes=notes,
            )
    except IntegrityError:
        existing = invoice_by_key(actor=actor, idempotency_key=key)
        if existing is None:
            raise
        return existing


def _invoice_issue(
    *,
    actor: User,
    account: Account | int,
    orders: Sequence[Order | int] | None,
    period_end: datetime.date | None,
    issued_on: datetime.date | None,
    language: str,
    key: str,
    contact: Contact | int | None,
    notes: str,
) -> Invoice:
    account = visible_account(actor, account)
    if language not in DocumentLanguage.values:
        raise ApplicationError(_("Choose Japanese or English."), field="language", status=422)
    if (orders is None) == (period_end is None):
        raise ApplicationError(
            _("Name the orders to invoice, or the closing day of the period (not both)."),
            status=422,
        )
    addressee = _clean_contact(account, contact)
    _registration_number()
    today = issued_on or timezone.localdate()
    period: tuple[datetime.date | None, datetime.date | None] = (None, None)
    order_ids = sorted({o.pk if isinstance(o, Order) else int(o) for o in (orders or [])})
    if period_end is not None:
        terms = account_terms(account, period_end)
        if terms.closing_date(period_end) != period_end:
            raise ApplicationError(
                _("%(day)s is not a closing day of this account's terms (next closing: %(next)s).")
                % {
                    "day": period_end.isoformat(),
                    "next": terms.closing_date(period_end).isoformat(),
                },
                field="period_end",
                status=422,
            )
        previous = terms.closing_date(period_end - datetime.timedelta(days=28))
        if previous >= period_end:
            previous = terms.closing_date(period_end - datetime.timedelta(days=31))
        period = (previous + datetime.timedelta(days=1), period_end)
        order_ids = sorted(
            set(
                DeliveryLine.objects.filter(
                    order_line__order__account=account,
                    delivery__status=DeliveryStatus.DELIVERED,
                    delivery__delivered_on__lte=period_end,
                ).values_list("order_line__order_id", flat=True)
            )
        )
        due_on = terms.payment_date(period_end)
    else:
        if not order_ids:
            raise ApplicationError(_("Choose at least one order."), field="orders", status=422)
        due_on = account_terms(account, today).payment_date(today)
    # Lock the orders (no joins: PostgreSQL re-checks only the locked table's rows).
    locked = list(
        Order.objects.select_for_update().filter(pk__in=order_ids, account=account).order_by("pk")
    )
    if orders is not None and len(locked) != len(order_ids):
        raise ApplicationError(
            _("Some of the orders do not exist or belong to another account."),
            field="orders",
            status=422,
        )
    errors = ErrorCollector()
    rows: list[dict[str, Any]] = []
    currencies = {order.currency for order in locked}
    if len(currencies) > 1:
        raise ApplicationError(
            _("One invoice is in one currency: these orders are in %(codes)s.")
            % {"codes": ", ".join(sorted(currencies))},
            field="orders",
            status=422,
        )
    for order in locked:
        if order.status == OrderStatus.CANCELLED:
            if orders is not None:
                errors.add("orders", _("Order %(number)s is cancelled.") % {"number": order.number})
            continue
        pending = uninvoiced_lines(order)
        ids = [line.pk for line, _q in pending]
        if period_end is not None:
            by_day = _delivered_by(ids, period_end)
            invoiced = _invoiced_quantities(ids)
            for line, _q in pending:
                delivered, last = by_day.get(line.pk, (0, None))
                quantity = min(line.delivered_quantity, delivered) - invoiced.get(line.pk, 0)
                if quantity > 0:
                    rows.append(_line_row(line, quantity, order.currency, last))
            continue
        if not pending:
            if not any(line.delivered_quantity for line in order.lines.all()):
                errors.add(
                    "orders",
                    _("Order %(number)s has not been delivered yet: invoice it once delivered.")
                    % {"number": order.number},
                )
            else:
                errors.add(
                    "orders",
                    _("Everything delivered on order %(number)s is already invoiced.")
                    % {"number": order.number},
                )
            continue
        last = _last_delivery(ids)
        rows.extend(
            _line_row(line, quantity, order.currency, last.get(line.pk))
            for line, quantity in pending
        )
    errors.raise_if_any()
    if not rows:
        raise ApplicationError(
            _("Nothing delivered up to %(day)s is left to invoice for this account.")
            % {"day": period_end.isoformat() if period_end else today.isoformat()},
            code="nothing_to_invoice",
            status=422,
        )
    if len(rows) > LINES_LIMIT:
        raise ApplicationError(
            _("An invoice has at most %(n)d lines: invoice fewer orders at once.")
            % {"n": LINES_LIMIT},
            status=422,
        )
    invoice = _write_invoice(
        actor=actor,
        account=account,
        kind=InvoiceKind.INVOICE,
        contact=addressee,
        issued_on=today,
        due_on=due_on,
        currency=next(iter(currencies)),
        language=language,
        rows=rows,
        period=period,
        notes=notes,
        idempotency_key=key,
    )
    _mark_invoiced(order.pk for order in locked)
    _audit(
        actor,
        "orders.invoice.issued",
        invoice,
        changes={"status": [None, invoice.status], "total": [None, str(invoice.total)]},
        note=invoice.number,
    )
    return invoice


def _refuse_corrected(invoice: Invoice) -> None:
    if invoice.status == InvoiceStatus.CORRECTED:
        raise Conflict(
            _("Invoice %(number)s was already replaced by a correction: use the correction.")
            % {"number": invoice.number}
        )


@transaction.atomic
def invoice_correct(
    *,
    actor: User,
    invoice: Invoice | int,
    quantities: dict[int, int] | None = None,
    contact: Contact | int | None = None,
    issued_on: datetime.date | None = None,
    language: str | None = None,
    notes: str = "",
) -> Invoice:
    """A new invoice that replaces ``invoice`` (which becomes "corrected"): the same lines, with
    ``quantities`` changed by position (0 drops a line), addressed to ``contact`` (None: the
    company, 御中). An invoice with payments recorded, or a credit note, is not corrected."""
    _require_editor(actor)
    old = _locked_invoice(actor, invoice)
    _refuse_corrected(old)
    if old.kind != InvoiceKind.INVOICE:
        raise Conflict(_("A credit note is not corrected: issue another credit note."))
    if old.paid > 0 or Payment.objects.filter(invoice=old).exists():
        raise Conflict(
            _("Invoice %(number)s has payments recorded: it cannot be replaced.")
            % {"number": old.number}
        )
    if Invoice.objects.filter(corrects=old, kind=InvoiceKind.CREDIT_NOTE).exists():
        # A replacement would bill the returned goods again: returns stay credit notes.
        raise Conflict(
            _("Invoice %(number)s has credit notes for returns: issue another credit note.")
            % {"number": old.number}
        )
    account = Account.objects.get(pk=old.account_id)
    addressee = _clean_contact(account, contact)
    old.status = InvoiceStatus.CORRECTED
    old.save(update_fields=["status"])  # its quantities no longer count as invoiced
    quantities = dict(quantities or {})
    old_lines = list(old.lines.select_related("order_line"))
    errors = ErrorCollector()
    unknown = set(quantities) - {line.position for line in old_lines}
    if unknown:
        errors.add(
            "lines",
            _("No line %(n)s on this invoice.") % {"n": ", ".join(str(p) for p in sorted(unknown))},
        )
    invoiced = _invoiced_quantities(line.order_line_id for line in old_lines if line.order_line_id)
    rows = []
    for line in old_lines:
        quantity = quantities.get(line.position, line.quantity)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            errors.add(f"lines.{line.position}", _("Enter a quantity of 0 or more."))
            continue
        if quantity == 0:
            continue
        order_line = line.order_line
        if order_line is not None:
            left = order_line.delivered_quantity - invoiced.get(order_line.pk, 0)
            if quantity > left:
                errors.add(
                    f"lines.{line.position}",
                    _("Only %(n)d delivered and not invoiced elsewhere.") % {"n": left},
                )
                continue
        amount = (
            line.amount
            if quantity == line.quantity
            else quantize(line.unit_price * quantity, old.currency)
        )
        rows.append(
            {
                "order_line": order_line,
                "delivered_on": line.delivered_on,
                "sku": line.sku,
                "description": line.description,
                "quantity": quantity,
                "unit": line.unit,
                "unit_price": line.unit_price,
                "amount": amount,
                "tax_category": line.tax_category,
            }
        )
    errors.raise_if_any()
    if not rows:
        raise ApplicationError(
            _("A correction needs at least one line."), field="lines", status=422
        )
    day = issued_on or timezone.localdate()
    new = _write_invoice(
        actor=actor,
        account=account,
        kind=InvoiceKind.INVOICE,
        contact=addressee,
        issued_on=day,
        due_on=old.due_on,
        currency=old.currency,
        language=language or old.language,
        rows=rows,
        period=(old.period_start, old.period_end),
        corrects=old,
        notes=notes,
    )
    order_ids = {line.order_line.order_id for line in old_lines if line.order_line is not None}
    _unmark_invoiced(order_ids)
    _mark_invoiced(order_ids)
    _audit(
        actor,
        "orders.invoice.corrected",
        old,
        changes={"status": ["issued", old.status]},
        note=new.number,
    )
    _audit(
        actor,
        "orders.invoice.issued",
        new,
        changes={"status": [None, new.status], "total": [None, str(new.total)]},
        note=_("Corrects %(number)s") % {"number": old.number},
    )
    return new


@transaction.atomic
def credit_note_issue(
    *,
    actor: User,
    invoice: Invoice | int,
    lines: dict[int, int],
    reason: str,
    issued_on: datetime.date | None = None,
    idempotency_key: str = "",
) -> Invoice:
    """A credit note (返品) for goods returned from ``invoice``: ``lines`` maps the invoice's
    line positions to the quantities returned (positive numbers; the note shows them
    negative). At most what was invoiced less what earlier credit notes returned. A retry with
    the same ``idempotency_key`` returns the first credit note."""
    _require_editor(actor)
    retry_key = _clean_key(idempotency_key)
    original = _locked_invoice(actor, invoice)
    # Under the invoice's lock: a retry racing the first request finds its note here.
    if (retried := invoice_by_key(actor=actor, idempotency_key=retry_key)) is not None:
        if retried.kind != InvoiceKind.CREDIT_NOTE or retried.corrects_id != original.pk:
            raise Conflict(_("This idempotency key was already used for another document."))
        return retried
    _refuse_corrected(original)
    if original.kind != InvoiceKind.INVOICE:
        raise ApplicationError(_("A credit note is issued against an invoice."), status=422)
    reason = (reason or "").strip()
    errors = ErrorCollector()
    if not reason:
        errors.add("reason", _("Say why the goods came back."))
    if not lines:
        errors.add("lines", _("Choose the lines returned."))
    errors.raise_if_any()
    returned: dict[tuple[int | None, str, Decimal], int] = defaultdict(int)
    for earlier in InvoiceLine.objects.filter(
        invoice__corrects=original, invoice__kind=InvoiceKind.CREDIT_NOTE
    ):
        returned[(earlier.order_line_id, earlier.sku, earlier.unit_price)] += -earlier.quantity
    by_position = {line.position: line for line in original.lines.all()}
    rows = []
    for position, quantity in sorted(lines.items()):
        line = by_position.get(position)
        if line is None:
            errors.add("lines", _("No line %(n)s on this invoice.") % {"n": position})
            continue
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            errors.add(f"lines.{position}", _("Enter a quantity of 1 or more."))
            continue
        key = (line.order_line_id, line.sku, line.unit_price)
        left = line.quantity - returned[key]
        if quantity > left:
            errors.add(
                f"lines.{position}",
                _("At most %(n)d can come back on this line.") % {"n": max(left, 0)},
            )
            continue
        returned[key] += quantity
        rows.append(
            {
                "order_line_id": line.order_line_id,
                "delivered_on": line.delivered_on,
                "sku": line.sku,
                "description": line.description,
                "quantity": -quantity,
                "unit": line.unit,
                "unit_price": line.unit_price,
                "amount": -quantize(line.unit_price * quantity, original.currency),
                "tax_category": line.tax_category,
            }
        )
    errors.raise_if_any()
    day = issued_on or timezone.localdate()
    account = Account.objects.get(pk=original.account_id)
    note = _write_invoice(
        actor=actor,
        account=account,
        kind=InvoiceKind.CREDIT_NOTE,
        contact=original.contact,
        issued_on=day,
        due_on=day,
        currency=original.currency,
        language=original.language,
        rows=rows,
        corrects=original,
        notes=reason,
        idempotency_key=retry_key,
    )
    _audit(
        actor,
        "orders.credit_note.issued",
        note,
        changes={"total": [None, str(note.total)]},
        note=_("Returns on %(number)s: %(reason)s") % {"number": original.number, "reason": reason},
    )
    _settle_if_nothing_owed(original, actor)  # the returns may cover what was left to pay
    return note


def credited(invoice: Invoice) -> Decimal:
    """What the invoice's credit notes took off it (a positive amount; their totals are
    negative): returned goods are not owed."""
    total = Invoice.objects.filter(corrects=invoice, kind=InvoiceKind.CREDIT_NOTE).aggregate(
        total=Sum("total")
    )["total"]
    return -(total or Decimal(0))


def owed(invoice: Invoice) -> Decimal:
    """What is still to be paid on an invoice: its total, less credit notes and payments."""
    return invoice.total - credited(invoice) - invoice.paid


def _settle_if_nothing_owed(invoice: Invoice, actor: Any) -> None:
    """An open invoice whose credit notes and payments cover it is paid (its orders too)."""
    if invoice.status in OPEN_STATUSES and owed(invoice) <= 0:
        invoice.status = InvoiceStatus.PAID
        invoice.save(update_fields=["status"])
        _mark_paid_orders(invoice, actor)


# -- payments --------------------------------------------------------------------------------


def payment_record(
    *,
    actor: User,
    invoice: Invoice | int,
    amount: Decimal | int,
    paid_on: datetime.date,
    method: str = PaymentMethod.TRANSFER,
    reference: str = "",
    idempotency_key: str = "",
) -> Payment:
    """``payment_record_once`` without telling whether the payment is new."""
    payment, _new = payment_record_once(
        actor=actor,
        invoice=invoice,
        amount=amount,
        paid_on=paid_on,
        method=method,
        reference=reference,
        idempotency_key=idempotency_key,
    )
    return payment


@transaction.atomic
def payment_record_once(
    *,
    actor: User,
    invoice: Invoice | int,
    amount: Decimal | int,
    paid_on: datetime.date,
    method: str = PaymentMethod.TRANSFER,
    reference: str = "",
    idempotency_key: str = "",
) -> tuple[Payment, bool]:
    """Money received against an invoice (入金), in part or in full; more than is still owed is
    refused. The invoice becomes partially paid or paid; an order whose every invoice is paid
    (and that is fully invoiced) becomes paid. A retry with the same ``idempotency_key`` on
    the same invoice returns the first payment (and False: nothing new was recorded)."""
    _require_editor(actor)
    key = _clean_key(idempotency_key)
    target = _locked_invoice(actor, invoice)
    # Under the invoice's lock: a retry racing the first request finds its payment here.
    if key and (earlier := Payment.objects.filter(invoice=target, idempotency_key=key).first()):
        return earlier, False
    if target.kind != InvoiceKind.INVOICE:
        raise ApplicationError(_("Payments are recorded against invoices, not credit notes."))
    if target.status == InvoiceStatus.CORRECTED:
        raise Conflict(
            _("Invoice %(number)s was replaced by a correction: record the payment on it.")
            % {"number": target.number}
        )
    errors = ErrorCollector()
    value = errors.run("amount", check_amount, amount, target.currency, field="amount")
    if value is not None and value <= 0:
        errors.add("amount", _("Enter an amount above zero."))
    if method not in PaymentMethod.values:
        errors.add("method", _("Choose how it was paid."))
    if len(reference or "") > 100:
        errors.add("reference", _("At most 100 characters."))
    errors.raise_if_any()
    still_owed = owed(target)
    if value > still_owed:
        raise ApplicationError(
            _("That is more than is still owed on %(number)s (%(owed)s).")
            % {"number": target.number, "owed": format_money(still_owed, target.currency)},
            field="amount",
            code="overpayment",
            status=422,
        )
    payment = Payment.objects.create(
        invoice=target,
        paid_on=paid_on,
        amount=value,
        method=method,
        reference=(reference or "").strip(),
        recorded_by=actor,
        idempotency_key=key,
    )
    before = target.status
    target.paid += value
    target.status = InvoiceStatus.PAID if value >= still_owed else InvoiceStatus.PARTIALLY_PAID
    target.save(update_fields=["paid", "status"])
    _audit(
        actor,
        "orders.invoice.payment_recorded",
        target,
        changes={
            "status": [before, target.status],
            "paid": [str(target.paid - value), str(target.paid)],
        },
        note=format_money(value, target.currency),
    )
    if target.status == InvoiceStatus.PAID:
        _mark_paid_orders(target, actor)
    return payment, True


def _mark_paid_orders(invoice: Invoice, actor: Any = None) -> None:
    order_ids = set(
        OrderLine.objects.filter(invoice_lines__invoice=invoice).values_list("order_id", flat=True)
    )
    for order in Order.objects.select_for_update().filter(pk__in=sorted(order_ids)):
        if order.status != OrderStatus.INVOICED:
            continue
        unpaid = (
            Invoice.objects.filter(kind=InvoiceKind.INVOICE, lines__order_line__order=order)
            .exclude(status__in=[InvoiceStatus.PAID, InvoiceStatus.CORRECTED])
            .exists()
        )
        if not unpaid:
            order.status = OrderStatus.PAID
            order.version += 1
            order.updated_at = timezone.now()
            order.save(update_fields=["status", "version", "updated_at"])
            audit_record(
                actor=None,
                action="orders.order.paid",
                target=order,
                changes={"status": [OrderStatus.INVOICED, OrderStatus.PAID]},
                scope=account_scope(order.account_id),
            )
            order_paid_hooks.run(order, actor)  # tokui.orders.hooks (referral rewards)


# -- selectors -------------------------------------------------------------------------------


def _visible(viewer: Any) -> QuerySet[Invoice]:
    return Invoice.objects.filter(account__in=Account.objects.visible_to(viewer).values("pk"))


def invoice_get(*, viewer: Any, invoice_id: int) -> Invoice:
    found = (
        _visible(viewer)
        .select_related("account", "contact", "corrects")
        .filter(pk=invoice_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such invoice."))
    return found


def invoice_list(
    *,
    viewer: Any,
    account: Account | int | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    amount_min: Decimal | None = None,
    amount_max: Decimal | None = None,
    q: str = "",
    status: str | None = None,
    kind: str | None = None,
    overdue_on: datetime.date | None = None,
) -> QuerySet[Invoice]:
    """Invoices and credit notes the viewer may see, newest first: by issue date, total,
    and counterparty or number (``q``: the number, the buyer's printed name, or an account as
    the account search finds it — width and kana folded, archived ones too); ``overdue_on``:
    only those past due on that day with money owed."""
    qs = _visible(viewer).select_related("account")
    if account is not None:
        qs = qs.filter(account_id=account.pk if isinstance(account, Account) else account)
    if date_from:
        qs = qs.filter(issued_on__gte=date_from)
    if date_to:
        qs = qs.filter(issued_on__lte=date_to)
    if amount_min is not None:
        qs = qs.filter(total__gte=amount_min)
    if amount_max is not None:
        qs = qs.filter(total__lte=amount_max)
    if status in InvoiceStatus.values:
        qs = qs.filter(status=status)
    if kind in InvoiceKind.values:
        qs = qs.filter(kind=kind)
    if overdue_on is not None:
        qs = qs.filter(kind=InvoiceKind.INVOICE, status__in=OPEN_STATUSES, due_on__lt=overdue_on)
    q = (q or "").strip()[:200]
    if q:
        active = account_list(viewer=viewer, search=q).values("pk")
        archived = account_list(viewer=viewer, search=q, archived=True).values("pk")
        qs = qs.filter(
            Q(number__icontains=q)
            | Q(buyer_name__icontains=q)
            | Q(account_id__in=active)
            | Q(account_id__in=archived)
        )
    credit_notes = (
        Invoice.objects.filter(corrects=OuterRef("pk"), kind=InvoiceKind.CREDIT_NOTE)
        .order_by()
        .values("corrects")
        .annotate(total=Sum("total"))
        .values("total")
    )
    # ``credit_notes_total``: what credit notes took off (negative), for the balance column.
    qs = qs.annotate(credit_notes_total=Coalesce(Subquery(credit_notes), Value(Decimal(0))))
    return qs.order_by("-issued_on", "-number", "-pk")


def overdue_invoices(*, viewer: Any, today: datetime.date) -> QuerySet[Invoice]:
    """Invoices past their due date (支払期限超過) with money still owed, oldest due first."""
    return (
        _visible(viewer)
        .select_related("account")
        .filter(kind=InvoiceKind.INVOICE, status__in=OPEN_STATUSES, due_on__lt=today)
        .order_by("due_on", "pk")
    )


# -- the document (PDF) ----------------------------------------------------------------------

# The document's language is the invoice's own (``Invoice.language``), not the reader's, so the
# printed labels are fixed sets (like the quote's, ``tokui.orders.documents``).
INVOICE_LABELS = {
    DocumentLanguage.JA: {
        "title": "請求書",
        "subtitle": "（適格請求書）",
        "credit_title": "返品・値引の請求書",
        "credit_subtitle": "（適格返還請求書）",
        "number": "請求番号",
        "date": "発行日",
        "due": "お支払期限",
        "period": "対象期間",
        "intro": "下記の通りご請求申し上げます。",
        "credit_intro": "下記の通り返品・値引を承りました。",
        "total_box": "ご請求金額",
        "credit_total_box": "返金・相殺額",
        "incl_tax": "（税込）",
        "registration": "登録番号",
        "no": "No.",
        "delivered_on": "納品日",
        "code": "品番",
        "description": "品名",
        "quantity": "数量",
        "unit": "単位",
        "unit_price": "単価",
        "amount": "金額",
        "subtotal": "小計（税抜）",
        "rate_base": "%(rate)s%%対象",
        "tax": "消費税",
        "total": "合計（税込）",
        "notes": "備考",
        "reduced_note": "※印は軽減税率（8%）対象です。",
        "bank": "お振込先",
        "corrects": "本書は %(number)s を訂正するものです。",
        "credits": "%(number)s に対する返品・値引です。",
        "tel": "TEL",
        "fax": "FAX",
    },
    DocumentLanguage.EN: {
        "title": "Invoice",
        "subtitle": "(Qualified Invoice)",
        "credit_title": "Credit Note",
        "credit_subtitle": "(Qualified Return Invoice)",
        "number": "Invoice No.",
        "date": "Date",
        "due": "Payment due",
        "period": "Period",
        "intro": "Please find our invoice below.",
        "credit_intro": "We credit the returns below.",
        "total_box": "Amount due",
        "credit_total_box": "Amount credited",
        "incl_tax": "(incl. consumption tax)",
        "registration": "Registration No.",
        "no": "No.",
        "delivered_on": "Delivered",
        "code": "Code",
        "description": "Description",
        "quantity": "Qty",
        "unit": "Unit",
        "unit_price": "Unit price",
        "amount": "Amount",
        "subtotal": "Subtotal (excl. tax)",
        "rate_base": "Taxable at %(rate)s%%",
        "tax": "Consumption tax",
        "total": "Total (incl. tax)",
        "notes": "Notes",
        "reduced_note": "※ Reduced tax rate (8%).",
        "bank": "Bank account",
        "corrects": "This invoice corrects %(number)s.",
        "credits": "Credit for returns on %(number)s.",
        "tel": "Tel",
        "fax": "Fax",
    },
}


def invoice_addressee(invoice: Invoice, *, english: bool = False) -> dict[str, str]:
    """Whom the invoice is addressed to, as printed: the buyer, and the contact person with 様
    when one was chosen, else the company with 御中 (never both); in English "Attn:"."""
    contact = invoice.contact if invoice.honorific == Honorific.SAMA else None
    person = contact.full_name if contact is not None else ""
    department = contact.department if contact is not None else ""
    if english:
        return {"company": invoice.buyer_name, "department": department,
                "person": f"Attn: {person}" if person else "", "honorific": ""}  # fmt: skip
    return {"company": invoice.buyer_name, "department": department, "person": person,
            "honorific": "様" if person else "御中"}  # fmt: skip


def invoice_date_text(day: datetime.date | None, english: bool) -> str:
    if day is None:
        return ""
    if english:
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    return japanese_date(day)


def invoice_document(invoice: Invoice) -> dict[str, Any]:
    """Everything the PDF prints, in the invoice's language, from the invoice's own snapshot
    (the company block is today's profile; the registration number is the one issued)."""
    english = invoice.language == DocumentLanguage.EN
    labels = INVOICE_LABELS[DocumentLanguage.EN if english else DocumentLanguage.JA]
    credit = invoice.kind == InvoiceKind.CREDIT_NOTE
    currency = invoice.currency
    company = company_profile_get()
    lines = []
    any_reduced = False
    for line in invoice.lines.all():
        reduced = line.tax_category == "reduced"
        any_reduced = any_reduced or reduced
        lines.append(
            {
                "position": line.position,
                "delivered_on": (
                    f"{line.delivered_on.month}/{line.delivered_on.day}"
                    if line.delivered_on
                    else ""
                ),
                "sku": line.sku,
                "description": line.description,
                "quantity": f"{line.quantity:,}",
                "unit": ENGLISH_UNITS.get(line.unit, line.unit) if english else line.unit,
                "unit_price": format_money(line.unit_price, currency),
                "amount": format_money(line.amount, currency),
                "reduced": reduced,
            }
        )
    rates = [
        {
            "label": labels["rate_base"] % {"rate": rate},
            "net": format_money(base, currency),
            "tax": format_money(tax, currency),
        }
        for rate, base, tax in (
            ("10", invoice.base_standard, invoice.tax_standard),
            ("8", invoice.base_reduced, invoice.tax_reduced),
        )
        if base or (not (invoice.base_standard or invoice.base_reduced) and rate == "10")
    ]
    subtotal = invoice.base_standard + invoice.base_reduced
    tax = invoice.tax_standard + invoice.tax_reduced
    addressee = invoice_addressee(invoice, english=english)
    reference = ""
    if invoice.corrects_id:
        reference = labels["credits" if credit else "corrects"] % {
            "number": invoice.corrects.number if invoice.corrects else ""
        }
    period = ""
    if invoice.period_start and invoice.period_end:
        period = (
            f"{invoice_date_text(invoice.period_start, english)} – "
            f"{invoice_date_text(invoice.period_end, english)}"
        )
    address = company.address_en if english and company.address_en else company.address
    return {
        "invoice": invoice,
        "ja": not english,
        "lang": "en" if english else "ja",
        "t": labels,
        "credit": credit,
        "title": labels["credit_title" if credit else "title"],
        "subtitle": labels["credit_subtitle" if credit else "subtitle"],
        "intro": labels["credit_intro" if credit else "intro"],
        "total_label": labels["credit_total_box" if credit else "total_box"],
        "addressee": addressee,
        "date": invoice_date_text(invoice.issued_on, english),
        "due": "" if credit else invoice_date_text(invoice.due_on, english),
        "period": period,
        "reference": reference,
        "lines": lines,
        "blank_rows": range(max(0, 8 - len(lines))),
        "rates": rates,
        "any_reduced": any_reduced,
        "subtotal": format_money(subtotal, currency),
        "tax": format_money(tax, currency),
        "total": format_money(invoice.total, currency),
        "registration_number": invoice.seller_registration_number,
        "company": company,
        "company_name": (company.name_en or company.name) if english else company.name,
        "company_address": address,
        "company_postal": (
            format_postal_code(company.postal_code).removeprefix("〒" if english else "")
            if company.postal_code
            else ""
        ),
        "company_phone": format_phone(company.phone) if company.phone else "",
        "company_fax": format_phone(company.fax) if company.fax else "",
        "bank_account": company.bank_account,
    }


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice's (or credit note's) PDF, A4, in its own language."""
    with translation.override(invoice.language):
        return render_pdf("orders/invoices/invoice_pdf.html", invoice_document(invoice))


def invoice_filename(invoice: Invoice) -> str:
    if invoice.language == DocumentLanguage.EN:
        kind = "CreditNote" if invoice.kind == InvoiceKind.CREDIT_NOTE else "Invoice"
        return f"{kind}_{invoice.number}.pdf"
    kind = "返品・値引の請求書" if invoice.kind == InvoiceKind.CREDIT_NOTE else "請求書"
    return f"{kind}_{invoice.number}.pdf"
