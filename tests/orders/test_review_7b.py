# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""Review of the order side's pages (issue 7, second round): what another account's user and
the support role reach, odd input, and one order per quote."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD
from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    contact,
    food,
    limits,
    line,
    make_product,
    pump,
    pump_line,
)
from tokui.orders.deliveries import delivery_create
from tokui.orders.invoices import invoice_issue
from tokui.orders.models import Delivery, Invoice, Order, Payment
from tokui.orders.orders import (
    order_cancel,
    order_confirm,
    order_create,
    order_from_quote,
    order_start_fulfilment,
)
from tokui.orders.quotes import quote_accept, quote_create, quote_issue, quote_mark_sent
from tokui.pipeline.deal_orders import order_from_deal
from tokui.pipeline.models import Deal, Stage

DAY = datetime.timedelta(days=1)


def _login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def book(kam, account, pump, company):
    today = timezone.localdate()
    order = order_create(actor=kam, account=account, lines=[line(pump, 4, promised_on=today)])
    order_confirm(actor=kam, order=order)
    order_start_fulfilment(actor=kam, order=order)
    first = order.lines.get()
    delivery = delivery_create(
        actor=kam, order=order, lines=[{"order_line": first.pk, "quantity": 2}], shipped_on=today
    )
    invoice = invoice_issue(actor=kam, account=account, orders=[order])
    order.refresh_from_db()
    return order, delivery, invoice


def _urls(order, delivery, invoice):
    gets = [
        reverse("orders:order_detail", args=[order.pk]),
        reverse("orders:delivery_create", args=[order.pk]),
        reverse("orders:delivery_detail", args=[delivery.pk]),
        reverse("orders:delivery_pdf", args=[delivery.pk]),
        reverse("orders:delivery_email", args=[delivery.pk]),
        reverse("orders:invoice_detail", args=[invoice.pk]),
        reverse("orders:invoice_pdf", args=[invoice.pk]),
        reverse("orders:invoice_email", args=[invoice.pk]),
        reverse("orders:order_create", args=[order.account_id]),
        reverse("orders:invoice_issue_period", args=[order.account_id]),
        reverse("orders:order_index") + f"?account={order.account_id}",
    ]
    posts = [
        reverse("orders:order_confirm", args=[order.pk]),
        reverse("orders:order_start_fulfilment", args=[order.pk]),
        reverse("orders:order_cancel", args=[order.pk]),
        reverse("orders:order_reorder", args=[order.pk]),
        reverse("orders:order_line_substitute", args=[order.pk, order.lines.get().pk]),
        reverse("orders:delivery_create", args=[order.pk]),
        reverse("orders:delivery_delivered", args=[delivery.pk]),
        reverse("orders:delivery_email", args=[delivery.pk]),
        reverse("orders:invoice_payment", args=[invoice.pk]),
        reverse("orders:invoice_correction", args=[invoice.pk]),
        reverse("orders:invoice_credit_note", args=[invoice.pk]),
        reverse("orders:invoice_email", args=[invoice.pk]),
        reverse("orders:invoice_issue_order", args=[order.pk]),
        reverse("orders:order_create", args=[order.account_id]),
        reverse("orders:invoice_issue_period", args=[order.account_id]),
    ]
    return gets, posts


def test_another_team_reaches_nothing(client, west_am, book):
    order, delivery, invoice = book
    gets, posts = _urls(order, delivery, invoice)
    client = _login(client, west_am)
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts:
        assert client.post(url, {"version": "1", "reason": "x"}).status_code == 404, url


def test_support_reads_but_writes_nothing(client, support, book):
    order, delivery, invoice = book
    gets, posts = _urls(order, delivery, invoice)
    client = _login(client, support)
    for index, url in enumerate(gets):  # reads: the records; the forms that write: refused
        expected = 403 if index in (1, 4, 7, 8, 9) else 200
        assert client.get(url).status_code == expected, url
    counts = (Order.objects.count(), Delivery.objects.count(), Invoice.objects.count())
    for url in posts:
        response = client.post(
            url,
            {"version": str(order.version), "reason": "x", "amount": "1", "paid_on": "2026-01-01"},
        )
        assert response.status_code in (403, 404), url
    assert counts == (Order.objects.count(), Delivery.objects.count(), Invoice.objects.count())
    assert not Payment.objects.exists()


ODD = [
    "１２",
    "9" * 5000,
    "-1",
    "1e9",
    "99999999999999999999",
    "",
    "\x00",
    "٣",
]


def test_odd_input_is_never_a_500(client, kam, book):
    order, delivery, invoice = book
    gets, posts = _urls(order, delivery, invoice)
    client = _login(client, kam)
    fields = [
        "version",
        "reason",
        "product",
        "amount",
        "paid_on",
        "method",
        "key",
        "idempotency_key",
        "shipped_on",
        "delivered_on",
        "quantity",
        "period_end",
        "language",
        "contact",
        "to",
        "lines-TOTAL_FORMS",
        "lines-0-product",
        "lines-0-quantity",
        "more_rows",
        f"qty_{order.lines.get().pk}",
        "line_1",
        "qty_1",
        "subject",
        "body",
        "lang",
    ]
    for value in ODD:
        data = dict.fromkeys(fields, value)
        for url in posts:
            assert client.post(url, data).status_code < 500, (url, value[:10])
        for url in gets:
            assert client.get(url, data).status_code < 500, (url, value[:10])
        for name in ("orders:order_index", "orders:invoice_index", "orders:late_orders"):
            assert client.get(reverse(name), data).status_code < 500, (name, value[:10])
        for key in ("page", "owner", "account", "from", "to", "q", "status", "amount_min", "team"):
            for name in ("orders:order_index", "orders:invoice_index", "orders:late_orders"):
                response = client.get(reverse(name), {key: value})
                assert response.status_code < 500, (name, key, value[:10])


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_pages_read_a_fixed_number_of_queries(client, kam, account, pump, company):
    today = timezone.localdate()
    client = _login(client, kam)
    urls = [
        reverse("orders:order_index"),
        reverse("orders:invoice_index"),
        reverse("orders:late_orders"),
        reverse("accounts:detail", args=[account.pk]),
        "/",
    ]

    def grow(n):
        for _i in range(n):
            order = order_create(
                actor=kam, account=account, lines=[line(pump, 2, promised_on=today - DAY)]
            )
            order_confirm(actor=kam, order=order)
            order_start_fulfilment(actor=kam, order=order)
            delivery_create(
                actor=kam,
                order=order,
                lines=[{"order_line": order.lines.get().pk, "quantity": 1}],
                shipped_on=today,
            )
            invoice_issue(actor=kam, account=account, orders=[order])

    grow(2)
    before = [_queries(client, u) for u in urls]
    grow(5)
    assert [_queries(client, u) for u in urls] == before


def test_an_accepted_quote_becomes_one_order_from_its_page_and_its_deal(
    kam, am, account, pump, limits, company
):
    deal = Deal.objects.create(
        account=account,
        owner=kam,
        title="ポンプ更新",
        stage=Stage.objects.get(key="won"),
        value=1,
        closed_at=timezone.now(),
    )
    quote = quote_create(
        actor=kam, account=account, title="ポンプ", lines=[line(pump, 2)], regarding=deal
    )
    quote_issue(actor=kam, quote=quote)
    quote_mark_sent(actor=kam, quote=quote)
    quote_accept(actor=kam, quote=quote)
    taken = order_from_quote(actor=kam, quote=quote, idempotency_key=f"quote-{quote.pk}")
    # The deal's "Take the order", and a colleague on the quote's page, open the same order.
    assert order_from_deal(actor=kam, deal=deal) == taken
    assert order_from_quote(actor=am, quote=quote, idempotency_key=f"quote-{quote.pk}") == taken
    assert Order.objects.count() == 1
    order_cancel(actor=kam, order=taken, reason="顧客都合")
    again = order_from_quote(actor=kam, quote=quote)  # a cancelled order can be taken again
    assert again != taken and Order.objects.count() == 2


def test_a_reorder_and_a_quote_survive_an_archived_contact(
    kam, account, contact, pump, limits, company
):
    from tokui.accounts.services import contact_archive
    from tokui.orders.orders import order_reorder

    old = order_create(actor=kam, account=account, contact=contact, lines=[line(pump, 1)])
    quote = quote_create(
        actor=kam, account=account, contact=contact, title="ポンプ", lines=[line(pump, 1)]
    )
    quote_issue(actor=kam, quote=quote)
    quote_mark_sent(actor=kam, quote=quote)
    quote_accept(actor=kam, quote=quote)
    contact_archive(actor=kam, contact=contact)
    assert order_reorder(actor=kam, order=old).contact_id is None
    assert order_from_quote(actor=kam, quote=quote).contact_id is None


def test_an_import_with_a_huge_number_names_the_cell(kam, account, pump, limits):
    import io

    from tokui.orders.order_import import order_import_preview

    head = "account,customer_order_number,product,quantity,promised_on,unit_price\n"
    text = (
        head
        + f"{account.pk},PO-1,PMP-100,{'9' * 5000},,\n"
        + f"{account.pk},PO-2,PMP-100,1,,1e999999\n"
        + f"{account.pk},PO-3,PMP-100,1,,{'9' * 5000}\n"
    )
    plan = order_import_preview(actor=kam, file=io.BytesIO(text.encode()), name="x.csv")
    found = {(e.row, e.column) for e in plan.errors}
    assert {(2, "quantity"), (3, "unit_price"), (4, "unit_price")} <= found


def test_a_substitute_with_a_huge_product_number_is_refused(client, kam, account, pump):
    order = order_create(actor=kam, account=account, lines=[line(pump, 1)])
    url = reverse("orders:order_line_substitute", args=[order.pk, order.lines.get().pk])
    for value in ("9" * 5000, "9" * 30, "٣"):
        response = _login(client, kam).post(url, {"product": value, "version": order.version})
        assert response.status_code == 422, value[:10]


def test_a_delivery_with_huge_numbers_is_refused_by_field(kam, account, pump):
    from tokui.core.exceptions import ApplicationError

    order = order_create(actor=kam, account=account, lines=[line(pump, 1)])
    order_confirm(actor=kam, order=order)
    rows = [
        {"order_line": "9" * 5000, "quantity": 1},
        {"order_line": str(order.lines.get().pk), "quantity": "9" * 5000},
    ]
    with pytest.raises(ApplicationError) as caught:
        delivery_create(actor=kam, order=order, lines=rows, shipped_on=timezone.localdate())
    assert {"lines.0.order_line", "lines.1.quantity"} <= set(caught.value.errors)
