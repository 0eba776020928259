# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""Invoices (適格請求書): tax per rate, issuing from deliveries, closing days, immutability,
corrections, credit notes, payments and the overdue list."""

import datetime
import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    contact,
    make_product,
    pump_line,
)
from tokui.accounts.models import account_scope
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.orders import invoices as inv
from tokui.orders.constants import (
    DeliveryStatus,
    Honorific,
    InvoiceKind,
    InvoiceStatus,
    OrderStatus,
)
from tokui.orders.models import CompanyProfile, Delivery, DeliveryLine, Invoice, Order, OrderLine
from tokui.pricing.models import Agreement

D = Decimal
_serial = itertools.count(1)


# -- a small factory: orders and deliveries straight through the ORM -------------------------


def make_order(account, owner, lines, *, status=OrderStatus.CONFIRMED, currency="JPY"):
    """``lines``: (unit price, quantity, tax category) triples."""
    order = Order.objects.create(
        account=account,
        number=f"SO-2026-{next(_serial):05d}",
        owner=owner,
        currency=currency,
        ordered_on=datetime.date(2026, 10, 1),
        status=status,
    )
    for position, (price, quantity, category) in enumerate(lines, start=1):
        OrderLine.objects.create(
            order=order,
            position=position,
            sku=f"SKU-{position}",
            description=f"品目{position}",
            quantity=quantity,
            list_price=D(price),
            engine_price=D(price),
            unit_price=D(price),
            tax_category=category,
            amount=D(price) * quantity,
        )
    return order


def deliver(order, day, quantities=None):
    """Deliver ``quantities`` (position → quantity; default: everything left) on ``day``."""
    delivery = Delivery.objects.create(
        order=order,
        number=f"DN-2026-{next(_serial):05d}",
        status=DeliveryStatus.DELIVERED,
        shipped_on=day,
        delivered_on=day,
    )
    for line in order.lines.all():
        quantity = (quantities or {}).get(
            line.position, line.quantity - line.delivered_quantity if quantities is None else 0
        )
        if quantity:
            DeliveryLine.objects.create(delivery=delivery, order_line=line, quantity=quantity)
            line.delivered_quantity += quantity
            line.save(update_fields=["delivered_quantity"])
    left = any(line.delivered_quantity < line.quantity for line in order.lines.all())
    order.status = OrderStatus.PARTIALLY_DELIVERED if left else OrderStatus.DELIVERED
    order.save(update_fields=["status"])
    return delivery


ISSUED = datetime.date(2026, 11, 10)


# -- tax maths -------------------------------------------------------------------------------

amounts = st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=12)
categories = st.sampled_from(["standard", "reduced"])
RATE = {"standard": D("0.10"), "reduced": D("0.08")}


def test_tax_is_per_rate_and_rounded_down_once():
    totals = inv.invoice_totals(
        [(D(105), "standard"), (D(105), "standard"), (D(1234), "reduced")], "JPY"
    )
    by_rate = {row.rate: (row.net, row.tax) for row in totals.by_rate}
    # 210 × 10% = 21 (per line it would be 10 + 10 = 20); 1234 × 8% = 98.72 → 98
    assert by_rate == {D(10): (D(210), D(21)), D(8): (D(1234), D(98))}
    assert totals.total == D(210 + 21 + 1234 + 98)


@given(st.lists(st.tuples(st.integers(min_value=1, max_value=10**9), categories), min_size=1))
def test_tax_bounds_and_total(lines):
    totals = inv.invoice_totals([(D(a), c) for a, c in lines], "JPY")
    for category in ("standard", "reduced"):
        base = sum((D(a) for a, c in lines if c == category), D(0))
        row = [r for r in totals.by_rate if r.rate == RATE[category] * 100]
        if not row:
            assert base == 0
            continue
        exact = base * RATE[category]
        assert row[0].net == base
        assert row[0].tax <= exact
        assert row[0].tax > exact - 1
    assert totals.total == sum((r.net + r.tax for r in totals.by_rate), D(0))
    assert totals.total == totals.subtotal + totals.tax


@given(amounts, st.randoms(use_true_random=False), categories)
def test_splitting_lines_within_a_rate_never_changes_the_tax(parts, rnd, category):
    whole = inv.invoice_totals([(D(sum(parts)), category)], "JPY")
    shuffled = parts[:]
    rnd.shuffle(shuffled)
    split = inv.invoice_totals([(D(p), category) for p in shuffled], "JPY")
    assert split.tax == whole.tax
    assert split.total == whole.total


@given(amounts, categories)
def test_credit_note_tax_rounds_towards_zero_and_mirrors_the_sale(parts, category):
    sale = inv.invoice_totals([(D(p), category) for p in parts], "JPY")
    credit = inv.invoice_totals([(-D(p), category) for p in parts], "JPY")
    assert credit.tax == -sale.tax
    assert credit.total == -sale.total
    exact = -D(sum(parts)) * RATE[category]
    assert exact <= credit.tax < exact + 1


def test_credit_note_rounding_example():
    totals = inv.invoice_totals([(D(-1005), "standard")], "JPY")
    assert totals.tax == D(-100)  # −100.5 towards zero, not −101
    assert inv.invoice_totals([(D("-10.05"), "standard")], "USD").tax == D("-1.00")


# -- issuing from orders ---------------------------------------------------------------------


@pytest.fixture
def delivered(account, kam):
    order = make_order(account, kam, [(1000, 3, "standard"), (1234, 2, "reduced")])
    deliver(order, datetime.date(2026, 11, 5))
    return order


def test_issue_invoices_delivered_lines(kam, account, company, delivered):
    invoice = inv.invoice_issue(actor=kam, account=account, orders=[delivered], issued_on=ISSUED)
    assert invoice.number == "INV-2026-00001"
    assert invoice.kind == InvoiceKind.INVOICE
    assert invoice.buyer_name == "株式会社山田商事"
    assert invoice.honorific == Honorific.ONCHU
    assert invoice.seller_registration_number == company.registration_number
    assert (invoice.base_standard, invoice.tax_standard) == (D(3000), D(300))
    assert (invoice.base_reduced, invoice.tax_reduced) == (D(2468), D(197))  # 197.44 → 197
    assert invoice.total == D(3000 + 300 + 2468 + 197)
    # No agreement: month-end closing, paid at the end of the next month (a business day).
    assert invoice.due_on == datetime.date(2026, 12, 31) or invoice.due_on.month == 1
    assert [line.quantity for line in invoice.lines.all()] == [3, 2]
    assert invoice.lines.first().delivered_on == datetime.date(2026, 11, 5)
    delivered.refresh_from_db()
    assert delivered.status == OrderStatus.INVOICED
    assert AuditEvent.objects.filter(
        action="orders.invoice.issued", scope=account_scope(account.pk)
    ).exists()
    second = make_order(account, kam, [(10, 1, "standard")])
    deliver(second, ISSUED)
    assert inv.invoice_issue(actor=kam, account=account, orders=[second]).number.endswith("00002")


def test_contact_gets_sama_never_onchu(kam, account, contact, company, delivered):
    invoice = inv.invoice_issue(
        actor=kam, account=account, orders=[delivered], contact=contact, issued_on=ISSUED
    )
    assert invoice.honorific == Honorific.SAMA
    assert invoice.contact == contact


def test_undelivered_order_is_refused(kam, account, company):
    order = make_order(account, kam, [(1000, 1, "standard")])
    with pytest.raises(ApplicationError, match="has not been delivered yet"):
        inv.invoice_issue(actor=kam, account=account, orders=[order])
    assert not Invoice.objects.exists()


def test_only_the_delivered_part_is_invoiced_and_never_twice(kam, account, company):
    order = make_order(account, kam, [(1000, 10, "standard")])
    deliver(order, datetime.date(2026, 11, 1), {1: 4})
    first = inv.invoice_issue(actor=kam, account=account, orders=[order], issued_on=ISSUED)
    assert first.lines.get().quantity == 4
    assert first.base_standard == D(4000)
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_DELIVERED
    with pytest.raises(ApplicationError, match="already invoiced"):
        inv.invoice_issue(actor=kam, account=account, orders=[order])
    deliver(order, datetime.date(2026, 11, 8), {1: 6})
    second = inv.invoice_issue(actor=kam, account=account, orders=[order], issued_on=ISSUED)
    assert second.lines.get().quantity == 6
    order.refresh_from_db()
    assert order.status == OrderStatus.INVOICED


def test_no_registration_number_no_invoice(kam, account, delivered):
    CompanyProfile.objects.create(name="株式会社得意商事")
    with pytest.raises(ApplicationError, match="registration number"):
        inv.invoice_issue(actor=kam, account=account, orders=[delivered])


def test_support_reads_only_and_strangers_see_nothing(support, am, account, company, delivered):
    with pytest.raises(PermissionDenied):
        inv.invoice_issue(actor=support, account=account, orders=[delivered])


def test_other_accounts_order_is_refused(kam, account, company, make_account, delivered):
    other = make_account(kam, name="株式会社別会社")
    with pytest.raises(ApplicationError, match="another account"):
        inv.invoice_issue(actor=kam, account=other, orders=[delivered])


def test_idempotency_key_returns_the_first_invoice(kam, account, company, delivered):
    first = inv.invoice_issue(actor=kam, account=account, orders=[delivered], idempotency_key="k1")
    again = inv.invoice_issue(actor=kam, account=account, orders=[delivered], idempotency_key="k1")
    assert again.pk == first.pk
    assert Invoice.objects.count() == 1


# -- closing-day batching --------------------------------------------------------------------


def test_period_batches_every_delivery_up_to_the_closing_day(kam, account, company):
    Agreement.objects.create(
        account=account,
        name="基本契約",
        valid_from=datetime.date(2026, 1, 1),
        closing_day=20,
        payment_month_offset=1,
        payment_day=10,
        business_day_rule="none",
    )
    a = make_order(account, kam, [(1000, 1, "standard")])
    b = make_order(account, kam, [(500, 2, "reduced"), (300, 5, "standard")])
    late = make_order(account, kam, [(9999, 1, "standard")])
    deliver(a, datetime.date(2026, 10, 25))
    deliver(b, datetime.date(2026, 11, 20), {1: 2, 2: 3})
    deliver(b, datetime.date(2026, 11, 21), {2: 2})
    deliver(late, datetime.date(2026, 11, 22))
    with pytest.raises(ApplicationError, match="not a closing day"):
        inv.invoice_issue(actor=kam, account=account, period_end=datetime.date(2026, 11, 30))
    invoice = inv.invoice_issue(
        actor=kam,
        account=account,
        period_end=datetime.date(2026, 11, 20),
        issued_on=datetime.date(2026, 11, 21),
    )
    assert (invoice.period_start, invoice.period_end) == (
        datetime.date(2026, 10, 21),
        datetime.date(2026, 11, 20),
    )
    assert invoice.due_on == datetime.date(2026, 12, 10)  # 20日締め翌月10日払い
    assert sorted((line.sku, line.quantity) for line in invoice.lines.all()) == [
        ("SKU-1", 1),
        ("SKU-1", 2),
        ("SKU-2", 3),
    ]
    assert invoice.base_standard == D(1000 + 900)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == OrderStatus.INVOICED
    assert b.status == OrderStatus.DELIVERED  # 2 of line 2 were delivered after the closing
    december = inv.invoice_issue(actor=kam, account=account, period_end=datetime.date(2026, 12, 20))
    assert sorted((line.sku, line.quantity) for line in december.lines.all()) == [
        ("SKU-1", 1),
        ("SKU-2", 2),
    ]
    with pytest.raises(ApplicationError, match="Nothing delivered"):
        inv.invoice_issue(actor=kam, account=account, period_end=datetime.date(2026, 12, 20))


def test_period_without_agreement_closes_at_month_end(kam, account, company, delivered):
    invoice = inv.invoice_issue(actor=kam, account=account, period_end=datetime.date(2026, 11, 30))
    assert invoice.period_start == datetime.date(2026, 11, 1)
    assert invoice.due_on >= datetime.date(2026, 12, 31)


# -- immutability and corrections ------------------------------------------------------------


def test_no_service_changes_an_issued_invoice():
    names = [n for n in dir(inv) if n.startswith("invoice_")]
    assert not [n for n in names if n.endswith(("_update", "_edit", "_delete"))]


def test_correction_replaces_and_links(kam, account, contact, company, delivered):
    old = inv.invoice_issue(actor=kam, account=account, orders=[delivered], issued_on=ISSUED)
    new = inv.invoice_correct(actor=kam, invoice=old, quantities={2: 1}, contact=contact)
    old.refresh_from_db()
    assert old.status == InvoiceStatus.CORRECTED
    assert new.corrects == old
    assert list(old.corrections.all()) == [new]
    assert new.number != old.number
    assert new.honorific == Honorific.SAMA
    assert [line.quantity for line in new.lines.all()] == [3, 1]
    delivered.refresh_from_db()
    assert delivered.status == OrderStatus.DELIVERED  # one 8% item is not invoiced any more
    with pytest.raises(Conflict, match="already replaced"):
        inv.invoice_correct(actor=kam, invoice=old)
    with pytest.raises(ApplicationError):
        inv.invoice_correct(actor=kam, invoice=new, quantities={1: 4})  # only 3 delivered


def test_paid_invoice_is_not_corrected(kam, account, company, delivered):
    invoice = inv.invoice_issue(actor=kam, account=account, orders=[delivered])
    inv.payment_record(actor=kam, invoice=invoice, amount=D(100), paid_on=ISSUED)
    with pytest.raises(Conflict, match="payments"):
        inv.invoice_correct(actor=kam, invoice=invoice)


def test_credit_note_for_returns(kam, account, company, delivered):
    invoice = inv.invoice_issue(actor=kam, account=account, orders=[delivered], issued_on=ISSUED)
    note = inv.credit_note_issue(actor=kam, invoice=invoice, lines={1: 1}, reason="破損")
    assert note.kind == InvoiceKind.CREDIT_NOTE
    assert note.number == f"RN-{note.issued_on.year}-00001"
    assert note.corrects == invoice
    assert [line.quantity for line in note.lines.all()] == [-1]
    assert (note.base_standard, note.tax_standard, note.total) == (D(-1000), D(-100), D(-1100))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED
    with pytest.raises(ApplicationError, match="At most 2"):
        inv.credit_note_issue(actor=kam, invoice=invoice, lines={1: 3}, reason="破損")
    with pytest.raises(ApplicationError):
        inv.payment_record(actor=kam, invoice=note, amount=D(1), paid_on=ISSUED)

    # A second click of the same form (same key) gives the first note back, not a second.
    keyed = inv.credit_note_issue(
        actor=kam, invoice=invoice, lines={1: 1}, reason="破損", idempotency_key="form-7"
    )
    again = inv.credit_note_issue(
        actor=kam, invoice=invoice, lines={1: 1}, reason="破損", idempotency_key="form-7"
    )
    assert again.pk == keyed.pk
    assert Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE, corrects=invoice).count() == 2
    # Replacing the invoice now would bill the returned goods again: refused.
    with pytest.raises(Conflict, match="credit notes"):
        inv.invoice_correct(actor=kam, invoice=invoice, notes="数量訂正")


# -- payments --------------------------------------------------------------------------------


def test_partial_and_full_payments(kam, account, company, delivered):
    invoice = inv.invoice_issue(actor=kam, account=account, orders=[delivered], issued_on=ISSUED)
    inv.payment_record(actor=kam, invoice=invoice, amount=D(1000), paid_on=ISSUED)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID
    with pytest.raises(ApplicationError, match="more than is still owed"):
        inv.payment_record(actor=kam, invoice=invoice, amount=invoice.total, paid_on=ISSUED)
    with pytest.raises(ApplicationError):
        inv.payment_record(actor=kam, invoice=invoice, amount=D("0.5"), paid_on=ISSUED)
    with pytest.raises(ApplicationError):
        inv.payment_record(actor=kam, invoice=invoice, amount=D(0), paid_on=ISSUED)
    inv.payment_record(
        actor=kam, invoice=invoice, amount=invoice.total - 1000, paid_on=ISSUED, reference="振込"
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.paid == invoice.total
    delivered.refresh_from_db()
    assert delivered.status == OrderStatus.PAID


def test_returns_are_not_owed(kam, account, company, delivered):
    """A customer who sent goods back pays the invoice less the credit note, and the invoice is
    then paid (not overdue for ever); a credit note covering what is left settles it."""
    invoice = inv.invoice_issue(actor=kam, account=account, orders=[delivered], issued_on=ISSUED)
    inv.credit_note_issue(actor=kam, invoice=invoice, lines={1: 1}, reason="破損")  # −1,100
    invoice.refresh_from_db()
    assert inv.owed(invoice) == invoice.total - D(1100)
    with pytest.raises(ApplicationError, match="more than is still owed"):
        inv.payment_record(actor=kam, invoice=invoice, amount=invoice.total, paid_on=ISSUED)
    inv.payment_record(actor=kam, invoice=invoice, amount=invoice.total - D(2200), paid_on=ISSUED)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID and inv.owed(invoice) == D(1100)
    inv.credit_note_issue(actor=kam, invoice=invoice, lines={1: 1}, reason="破損")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and inv.owed(invoice) == 0
    delivered.refresh_from_db()
    assert delivered.status == OrderStatus.PAID


def test_a_retried_payment_is_recorded_once(kam, account, company, delivered):
    invoice = inv.invoice_issue(actor=kam, account=account, orders=[delivered], issued_on=ISSUED)
    first, new = inv.payment_record_once(
        actor=kam, invoice=invoice, amount=D(1000), paid_on=ISSUED, idempotency_key="k-1"
    )
    again, again_new = inv.payment_record_once(
        actor=kam, invoice=invoice, amount=D(1000), paid_on=ISSUED, idempotency_key="k-1"
    )
    assert (new, again_new) == (True, False) and again.pk == first.pk
    invoice.refresh_from_db()
    assert invoice.paid == D(1000)
    # Without a key, two payments are two payments.
    inv.payment_record(actor=kam, invoice=invoice, amount=D(1000), paid_on=ISSUED)
    invoice.refresh_from_db()
    assert invoice.paid == D(2000)


def test_order_is_paid_only_when_every_invoice_is(kam, account, company):
    order = make_order(account, kam, [(1000, 2, "standard")])
    deliver(order, ISSUED, {1: 1})
    first = inv.invoice_issue(actor=kam, account=account, orders=[order])
    deliver(order, ISSUED, {1: 1})
    second = inv.invoice_issue(actor=kam, account=account, orders=[order])
    inv.payment_record(actor=kam, invoice=first, amount=first.total, paid_on=ISSUED)
    order.refresh_from_db()
    assert order.status == OrderStatus.INVOICED
    inv.payment_record(actor=kam, invoice=second, amount=second.total, paid_on=ISSUED)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_overdue_and_search(kam, am, account, company, make_account, delivered):
    invoice = inv.invoice_issue(actor=kam, account=account, orders=[delivered], issued_on=ISSUED)
    late = invoice.due_on + datetime.timedelta(days=1)
    assert list(inv.overdue_invoices(viewer=kam, today=invoice.due_on)) == []
    assert list(inv.overdue_invoices(viewer=kam, today=late)) == [invoice]
    assert list(inv.invoice_list(viewer=kam, q="山田")) == [invoice]
    assert list(inv.invoice_list(viewer=kam, q="INV-2026")) == [invoice]
    assert list(inv.invoice_list(viewer=kam, q="別会社")) == []
    assert list(inv.invoice_list(viewer=kam, date_from=ISSUED, date_to=ISSUED)) == [invoice]
    assert list(inv.invoice_list(viewer=kam, date_from=ISSUED + datetime.timedelta(1))) == []
    assert list(inv.invoice_list(viewer=kam, amount_min=invoice.total)) == [invoice]
    assert list(inv.invoice_list(viewer=kam, amount_max=invoice.total - 1)) == []
    assert list(inv.invoice_list(viewer=kam, account=account)) == [invoice]
    inv.payment_record(actor=kam, invoice=invoice, amount=invoice.total, paid_on=late)
    assert list(inv.overdue_invoices(viewer=kam, today=late)) == []


def test_invisible_invoice_is_not_found(kam, make_user, company, account, delivered):
    from tokui.users.constants import Role

    invoice = inv.invoice_issue(actor=kam, account=account, orders=[delivered])
    stranger = make_user("stranger", Role.AM)
    if not list(inv.invoice_list(viewer=stranger)):
        with pytest.raises(NotFound):
            inv.invoice_get(viewer=stranger, invoice_id=invoice.pk)
