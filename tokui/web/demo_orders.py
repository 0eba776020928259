"""Demo orders (受注), deliveries (納品), invoices (請求書) and payments (入金).

On top of the demo book, catalog, agreements and quotes: kam's clients have eight months of
orders in their own buying rhythm (monthly, every six weeks, every four weeks), each confirmed,
shipped (a few late, so OTIF is not a flattering 100%), delivered, invoiced on the account's
closing day (month end, the 20th, the 15th) and paid when due — except one invoice that is now
overdue. Today's picture: a late order partly delivered, one at risk (promised in two days,
nothing shipped), one posted by a customer's system and not yet confirmed, an order from the
accepted quote, a reorder of a previous order, a cancelled one, and a client whose buying
rhythm is overdue (no order for three months after ordering every four weeks).

Everything goes through the order, delivery and invoice services as kam, so histories and
timelines show it. Dated relative to today; idempotent: nothing is added once demo orders exist.
"""

import datetime
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from tokui.accounts.constants import AccountKind
from tokui.accounts.models import Account
from tokui.catalog.constants import ProductStatus
from tokui.catalog.models import Product
from tokui.core.exceptions import ApplicationError
from tokui.orders.constants import InvoiceKind, InvoiceStatus, OrderSource, QuoteStatus
from tokui.orders.deliveries import delivery_create, delivery_mark_delivered
from tokui.orders.invoices import account_terms, credit_note_issue, invoice_issue, payment_record
from tokui.orders.models import Invoice, Order, Quote
from tokui.orders.orders import (
    order_cancel,
    order_confirm,
    order_create,
    order_from_quote,
    order_reorder,
    order_start_fulfilment,
)
from tokui.users.models import User


class _Writer(Protocol):
    def write(self, s: str, /) -> object: ...


DAY = datetime.timedelta(days=1)
OVERDUE = "mixed"  # this client's last due invoice is unpaid

# (slot: one of kam's clients in pk order, every N days, how many past orders,
#  [(sku, quantity)], {order index: days shipped late}, days since the last order)
RHYTHMS: tuple[tuple[str, int, int, list[tuple[str, int]], dict[int, int], int], ...] = (
    ("monthly", 30, 7,
     [("MNT-MS100", 4), ("MNT-OIL4", 6), ("SNS-P10", 2)], {2: 3}, 26),
    ("six-weekly", 45, 5, [("PMP-D25", 1), ("MNT-DP25", 4)], {}, 40),
    ("lapsed", 28, 5, [("MNT-GK50", 10), ("VLV-B25", 6)], {1: 2}, 92),
    ("mixed", 35, 5,
     [("BEV-OS500", 20), ("BEV-MW2L", 30), ("SNS-T01", 2)], {3: 5}, 33),
    ("bimonthly", 60, 3, [("SNS-V01", 4), ("SNS-GW1", 1)], {}, 50),
)  # fmt: skip


def _products() -> dict[str, Product]:
    return {
        p.sku: p
        for p in Product.objects.filter(currency="JPY").exclude(status=ProductStatus.DISCONTINUED)
    }


def _lines(
    plan: list[tuple[str, int]], products: dict[str, Product], promised: datetime.date
) -> list[dict[str, Any]]:
    return [
        {"product": products[sku].pk, "quantity": quantity, "promised_on": promised}
        for sku, quantity in plan
        if sku in products and products[sku].status == ProductStatus.ACTIVE
    ]


def _ship_all(kam: User, order: Order, shipped: datetime.date, *, carrier: str) -> None:
    lines = [
        {"order_line": line.pk, "quantity": line.quantity - line.delivered_quantity}
        for line in order.lines.order_by("position")
        if line.quantity > line.delivered_quantity
    ]
    delivery = delivery_create(
        actor=kam,
        order=order,
        lines=lines,
        shipped_on=shipped,
        carrier=carrier,
        tracking_number=f"{shipped:%m%d}-{order.pk:04d}-{len(lines)}",
    )
    delivery_mark_delivered(actor=kam, delivery=delivery, delivered_on=shipped + DAY)


def _history(kam: User, accounts: dict[str, Account], products: dict[str, Product]) -> list[Order]:
    """Past orders in each account's rhythm, made in date order across accounts (so numbers
    run with the dates as they would have), each shipped and delivered (some late)."""
    today = timezone.localdate()
    plans = []
    for name, every, count, plan, late, since in RHYTHMS:
        for index in range(count):
            ordered = today - datetime.timedelta(days=since + every * (count - 1 - index))
            plans.append((ordered, name, index, plan, late.get(index, 0)))
    orders = []
    for ordered, name, index, plan, days_late in sorted(plans, key=lambda p: (p[0], p[1])):
        account = accounts[name]
        contact = account.contacts.filter(archived_at=None).order_by("pk").first()
        promised = ordered + datetime.timedelta(days=14)
        # Quantities vary a little from order to order, as real ones do.
        varied = [(sku, max(1, qty + (index % 3) - 1)) for sku, qty in plan]
        order = order_create(
            actor=kam,
            account=account,
            contact=contact,
            lines=_lines(varied, products, promised),
            ordered_on=ordered,
            customer_reference=f"PO-{ordered:%y%m}-{account.pk:03d}{index + 1:02d}",
            source=OrderSource.MANUAL if index % 2 else OrderSource.API,
        )
        order_confirm(actor=kam, order=order)
        order_start_fulfilment(actor=kam, order=order)
        shipped = promised - 2 * DAY + days_late * DAY
        _ship_all(kam, order, min(shipped, today - DAY), carrier="ヤマト運輸")
        orders.append(order)
    return orders


def _closing_days(account: Account, first: datetime.date, last: datetime.date) -> list[Any]:
    days = []
    day = account_terms(account, first).closing_date(first)
    while day <= last:
        days.append(day)
        day = account_terms(account, day + DAY).closing_date(day + DAY)
    return days


def _invoice_and_collect(
    kam: User, accounts: list[Account], since: datetime.date, overdue: Account
) -> None:
    """Invoice every closed period since ``since`` in date order across accounts; payments
    arrive on the due date, except the last due invoice of ``overdue`` (a reminder is owed)."""
    today = timezone.localdate()
    closings = sorted(
        (closing, account.pk, account)
        for account in accounts
        for closing in _closing_days(account, since, today - DAY)
    )
    for closing, _pk, account in closings:
        try:
            with transaction.atomic():
                invoice_issue(actor=kam, account=account, period_end=closing, issued_on=closing)
        except ApplicationError:
            continue  # nothing delivered in that period
    due = Invoice.objects.filter(
        account__in=accounts,
        kind=InvoiceKind.INVOICE,
        status=InvoiceStatus.ISSUED,
        due_on__lt=today,
    ).order_by("due_on", "pk")
    unpaid = due.filter(account=overdue).last()
    for invoice in due:
        if invoice != unpaid:
            payment_record(
                actor=kam,
                invoice=invoice,
                amount=invoice.total,
                paid_on=invoice.due_on,
                reference=f"振込 {invoice.number}",
            )


def _today_orders(kam: User, accounts: dict[str, Account], products: dict[str, Product]) -> None:
    """Orders that are in progress today: late, at risk, new from a customer's system, from the
    accepted quote, a reorder and a cancelled one."""
    today = timezone.localdate()
    heiwa = accounts["monthly"]
    meiji = accounts["six-weekly"]
    late = order_create(
        actor=kam,
        account=heiwa,
        lines=[
            {"product": products["PMP-100A"].pk, "quantity": 3, "promised_on": today - 5 * DAY},
            {"product": products["MNT-MS100"].pk, "quantity": 6, "promised_on": today - 5 * DAY},
        ],
        ordered_on=today - 19 * DAY,
        customer_reference="PO-第2工場-0417",
        notes="第2工場の冷却水系統更新分。据付工事日程に合わせて納入のこと。",
    )
    order_confirm(actor=kam, order=late)
    order_start_fulfilment(actor=kam, order=late)
    pump_line, seal_line = list(late.lines.order_by("position"))
    delivery_create(  # two pumps and the seals went; the third pump waits for stock
        actor=kam,
        order=late,
        lines=[
            {"order_line": pump_line.pk, "quantity": 2},
            {"order_line": seal_line.pk, "quantity": 6},
        ],
        shipped_on=today - 6 * DAY,
        carrier="西濃運輸",
        tracking_number="3318-2290-4471",
    )
    at_risk = order_create(
        actor=kam,
        account=meiji,
        lines=[
            {"product": products["SNS-F50"].pk, "quantity": 2, "promised_on": today + 2 * DAY},
            {"product": products["SNS-P10"].pk, "quantity": 4, "promised_on": today + 2 * DAY},
        ],
        ordered_on=today - 9 * DAY,
        customer_reference="MJ-2026-118",
    )
    order_confirm(actor=kam, order=at_risk)
    order_start_fulfilment(actor=kam, order=at_risk)
    order_create(  # posted by the customer's purchasing system, waiting to be confirmed
        actor=kam,
        account=accounts["mixed"],
        lines=[
            {"product": products["BEV-OS500"].pk, "quantity": 40, "promised_on": today + 7 * DAY},
            {"product": products["BEV-SL01"].pk, "quantity": 50, "promised_on": today + 7 * DAY},
        ],
        customer_reference="NS-EDI-558812",
        source=OrderSource.API,
        idempotency_key="demo-edi-558812",
    )
    accepted = Quote.objects.filter(owner=kam, status=QuoteStatus.ACCEPTED).order_by("pk").first()
    if accepted is not None and not Order.objects.filter(quote=accepted).exists():
        from_quote = order_from_quote(actor=kam, quote=accepted)
        order_confirm(actor=kam, order=from_quote)
    previous = Order.objects.filter(account=heiwa).exclude(pk=late.pk).order_by("-ordered_on")
    if (last := previous.first()) is not None:
        order_reorder(actor=kam, order=last)
    cancelled = order_create(
        actor=kam,
        account=accounts["bimonthly"],
        lines=[{"product": products["SNS-GW1"].pk, "quantity": 2}],
        ordered_on=today - 12 * DAY,
        customer_reference="SE-0930",
    )
    order_cancel(
        actor=kam, order=cancelled, reason="先方の設備計画見直しにより発注取消（書面受領済）"
    )


def _credit_note(kam: User, account: Account) -> None:
    """One lubricant can came back damaged from the latest paid invoice: a credit note."""
    paid = (
        Invoice.objects.filter(account=account, status=InvoiceStatus.PAID)
        .order_by("-issued_on")
        .first()
    )
    line = paid.lines.filter(sku="MNT-OIL4").first() if paid is not None else None
    if paid is None or line is None:
        return
    credit_note_issue(
        actor=kam,
        invoice=paid,
        lines={line.position: 1},
        reason="輸送中の破損（缶の凹み）により1缶返品。代品は次回納品に同梱。",
        issued_on=paid.issued_on + 10 * DAY,
    )


def _load(kam: User, accounts: dict[str, Account], products: dict[str, Product]) -> None:
    with transaction.atomic():
        orders = _history(kam, accounts, products)
        if orders:
            first = min(order.ordered_on for order in orders)
            _invoice_and_collect(kam, list(accounts.values()), first, accounts[OVERDUE])
        _today_orders(kam, accounts, products)
        _credit_note(kam, accounts["monthly"])


def demo_orders(*, stdout: _Writer | None = None) -> None:
    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    kam = User.objects.filter(username="kam").first()
    if kam is None or Order.objects.exists():
        return
    products = _products()
    clients = (
        Account.objects.filter(
            owner=kam, kind=AccountKind.CLIENT, archived_at=None, contacts__isnull=False
        )
        .distinct()
        .order_by("pk")[: len(RHYTHMS)]
    )
    accounts = dict(zip([rhythm[0] for rhythm in RHYTHMS], clients, strict=False))
    if len(accounts) < len(RHYTHMS) or "PMP-100A" not in products:
        say("Demo orders: load the demo accounts and catalog first.")
        return
    try:
        _load(kam, accounts, products)
    except ApplicationError as exc:  # e.g. run on a day the demo price list does not cover
        say(f"Demo orders skipped: {exc.message}")
        return
    say(
        f"Demo orders: {Order.objects.count()} orders, "
        f"{Invoice.objects.count()} invoices, of which "
        f"{Invoice.objects.filter(status=InvoiceStatus.PAID).count()} paid."
    )
