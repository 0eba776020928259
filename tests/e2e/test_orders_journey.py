"""Journey through issue 7's order pages: a KAM takes an order by hand, confirms it, ships part
of it (the order is partly delivered and its lines show on the late-orders page), ships the rest
(delivered, no longer late), issues the invoice and opens its PDF."""

import datetime
import re
import shutil
import subprocess
from collections.abc import Callable
from decimal import Decimal as D

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    contact,
    limits,
    make_product,
    pump_line,
)
from tokui.catalog.models import Product
from tokui.orders.constants import OrderStatus
from tokui.orders.models import Invoice, Order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-tokui"


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def pdf_text(body: bytes) -> str:
    """The PDF's text: pypdf when installed, else poppler's pdftotext."""
    try:
        from pypdf import PdfReader  # type: ignore[import-not-found]
    except ImportError:
        tool = shutil.which("pdftotext")
        if tool is None:
            pytest.skip("neither pypdf nor pdftotext to read the PDF's text")
        done = subprocess.run([tool, "-", "-"], input=body, capture_output=True, check=True)
        return done.stdout.decode()
    import io

    return "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(body)).pages)


def test_order_taken_shipped_in_two_parts_late_then_invoiced(
    live_server,
    new_context,
    kam,
    account,  # noqa: F811
    contact,  # noqa: F811
    company,  # noqa: F811
    limits,  # noqa: F811
    make_product: Callable[..., Product],  # noqa: F811
):
    make_product(sku="PMP-100", name="渦巻ポンプ 100", unit="台", list_price=D(100_000))
    make_product(
        sku="SEL-020", name="メカニカルシール", unit="個", list_price=D(20_000), cost=D(12_000)
    )
    today = timezone.localdate()
    ordered_on = today - datetime.timedelta(days=10)
    promised_on = today - datetime.timedelta(days=3)

    page = new_context().new_page()
    sign_in(page, live_server.url, "kam")

    # Taking the order
    page.goto(f"{live_server.url}/accounts/{account.pk}/orders/new/")
    expect(page.get_by_role("heading", name="New order", level=1)).to_be_visible()
    page.get_by_label("Customer's order number").fill("PO-7781")
    page.get_by_label("Ordered on").fill(ordered_on.isoformat())
    page.get_by_label("Product 1", exact=True).select_option(label="PMP-100 渦巻ポンプ 100")
    page.get_by_label("Quantity 1", exact=True).fill("4")
    page.get_by_label("Promised date 1", exact=True).fill(promised_on.isoformat())
    page.get_by_label("Product 2", exact=True).select_option(label="SEL-020 メカニカルシール")
    page.get_by_label("Quantity 2", exact=True).fill("2")
    page.get_by_label("Promised date 2", exact=True).fill(promised_on.isoformat())
    page.get_by_role("button", name="Take the order").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    order = Order.objects.get()
    main = page.locator("main")
    expect(main).to_contain_text(order.number)
    expect(main).to_contain_text("渦巻ポンプ 100")
    expect(main).to_contain_text("¥484,000")  # (4 × ¥100,000 + 2 × ¥20,000) + 10% tax
    assert order.ordered_on == ordered_on and order.customer_reference == "PO-7781"

    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status").filter(has_text="is confirmed")).to_be_visible()
    if page.get_by_role("button", name="Start fulfilment").count():
        page.get_by_role("button", name="Start fulfilment").click()
        expect(main).to_contain_text("In fulfilment")

    # A first delivery: 2 of the 4 pumps, none of the seals
    page.get_by_role("link", name="Record delivery").click()
    expect(page.get_by_role("heading", name="New delivery", level=1)).to_be_visible()
    page.get_by_label("Quantity of line 1").fill("2")
    page.get_by_label("Quantity of line 2").fill("0")
    page.get_by_label("Carrier").fill("ヤマト運輸")
    page.get_by_role("button", name="Record the delivery").click()
    expect(page).to_have_url(re.compile(r"/deliveries/\d+/$"))
    expect(main).to_contain_text("recorded")
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_DELIVERED
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    expect(main).to_contain_text("Partially delivered")

    # The late-orders page lists both lines as three days late
    page.goto(f"{live_server.url}/orders/late/")
    expect(page.get_by_role("heading", name="Late orders", level=1)).to_be_visible()
    rows = page.locator("#results tbody tr").filter(has_text=order.number)
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="渦巻ポンプ 100")).to_contain_text("3 days late")
    expect(rows.filter(has_text="渦巻ポンプ 100")).to_contain_text("2 / 4")
    expect(rows.filter(has_text="メカニカルシール")).to_contain_text("3 days late")

    # The rest: the order is delivered and no longer late
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.get_by_role("link", name="Record delivery").click()
    expect(page.get_by_label("Quantity of line 1")).to_have_value("2")
    expect(page.get_by_label("Quantity of line 2")).to_have_value("2")
    page.get_by_role("button", name="Record the delivery").click()
    expect(page).to_have_url(re.compile(r"/deliveries/\d+/$"))
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    page.goto(f"{live_server.url}/orders/late/")
    expect(page.get_by_role("heading", name="Late orders", level=1)).to_be_visible()
    expect(page.locator("#results")).not_to_contain_text(order.number)

    # The invoice, with its per-rate total, and its PDF
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    expect(main).to_contain_text("Delivered")
    page.get_by_role("button", name="Issue invoice").click()
    expect(page).to_have_url(re.compile(r"/invoices/\d+/$"))
    invoice = Invoice.objects.get()
    expect(main).to_contain_text(invoice.number)
    totals = page.locator("tfoot")
    expect(totals.get_by_role("row").filter(has_text="10% taxable")).to_contain_text("¥440,000")
    expect(totals.get_by_role("row").filter(has_text="10% tax").last).to_contain_text("¥44,000")
    expect(totals.get_by_role("row").filter(has_text="Total incl. tax")).to_contain_text("¥484,000")
    href = page.get_by_role("link", name="PDF (Japanese)").get_attribute("href") or ""
    pdf = page.request.get(f"{live_server.url}{href}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    assert "株式会社山田商事" in pdf_text(pdf.body()).replace(" ", "")
