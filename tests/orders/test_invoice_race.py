# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""Two people issue the invoice for the same delivered order at the same moment: one invoice."""

import threading

import pytest
from django.db import connection

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    make_product,
    pump_line,
)
from tests.orders.test_invoices import ISSUED, deliver, make_order
from tokui.core.exceptions import ApplicationError
from tokui.orders import invoices as inv
from tokui.orders.constants import OrderStatus
from tokui.orders.models import Invoice, InvoiceLine


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs two real connections (PostgreSQL)"
)
def test_issuing_the_same_order_twice_at_once_makes_one_invoice(kam, account, company):
    order = make_order(account, kam, [(1000, 3, "standard"), (500, 2, "reduced")])
    deliver(order, ISSUED)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def issue() -> None:
        try:
            barrier.wait()
            invoice = inv.invoice_issue(
                actor=kam, account=account.pk, orders=[order.pk], issued_on=ISSUED
            )
            outcomes.append(invoice.number)
        except ApplicationError as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # The second waits for the order's lock, then finds nothing left to invoice.
    assert Invoice.objects.count() == 1
    invoice = Invoice.objects.get()
    assert invoice.number in outcomes
    assert len(outcomes) == 2 and any(o != invoice.number for o in outcomes)
    assert sorted(InvoiceLine.objects.values_list("quantity", flat=True)) == [2, 3]
    order.refresh_from_db()
    assert order.status == OrderStatus.INVOICED
