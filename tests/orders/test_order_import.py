# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""Order import (CSV / XLSX): grouping, every row's errors in the preview with nothing written,
idempotent re-import, the template, wrong files, and the pages."""

import io
import os
import time
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    food,
    limits,
    make_product,
    pump,
    pump_line,
)
from tokui.core.exceptions import ApplicationError
from tokui.orders import views_intake
from tokui.orders.constants import OrderSource
from tokui.orders.models import Order
from tokui.orders.order_import import (
    order_import_preview,
    order_import_run,
    template_csv,
)

D = Decimal
HEAD = "account,customer_order_number,product,quantity,promised_on,unit_price\n"


def _csv(text):
    return io.BytesIO(text.encode("utf-8"))


def _good(account):
    return (
        HEAD
        + f"{account.pk},PO-1,PMP-100,2,2026-12-01,\n"
        + f"{account.name},PO-1,WTR-500,10,,\n"
        + f"{account.pk},PO-2,PMP-100,1,,95000\n"
    )


def test_rows_group_into_orders_and_a_reimport_makes_nothing(kam, account, pump, food, limits):
    plan = order_import_preview(actor=kam, file=_csv(_good(account)), name="orders.csv")
    assert plan.ok and [(o.reference, o.rows) for o in plan.orders] == [
        ("PO-1", [2, 3]),
        ("PO-2", [4]),
    ]
    assert Order.objects.count() == 0  # the preview writes nothing
    result = order_import_run(actor=kam, file=_csv(_good(account)), name="orders.csv")
    assert len(result.created) == 2 and not result.existing
    first = Order.objects.get(customer_reference="PO-1")
    assert (
        first.source == OrderSource.IMPORT and first.idempotency_key == f"import:{account.pk}:PO-1"
    )
    assert [(x.sku, x.quantity) for x in first.lines.order_by("position")] == [
        ("PMP-100", 2),
        ("WTR-500", 10),
    ]
    assert str(first.lines.get(sku="PMP-100").promised_on) == "2026-12-01"
    assert Order.objects.get(customer_reference="PO-2").lines.get().unit_price == D(95_000)
    again = order_import_run(actor=kam, file=_csv(_good(account)), name="orders.csv")
    assert not again.created and len(again.existing) == 2 and Order.objects.count() == 2
    assert all(
        o.existing
        for o in order_import_preview(
            actor=kam, file=_csv(_good(account)), name="orders.csv"
        ).orders
    )


def test_every_row_error_is_named_and_nothing_is_written(kam, account, pump):
    text = (
        HEAD
        + f"{account.pk},PO-1,PMP-100,2,2026-13-01,\n"  # bad date
        + "9999,PO-1,PMP-100,1,,\n"  # unknown account
        + f"{account.pk},,NOPE,0,,abc\n"  # no number, unknown product, bad quantity, price
        + f"{account.pk},PO-3,PMP-100,1,,200000\n"  # above the price found
    )
    plan = order_import_preview(actor=kam, file=_csv(text), name="x.csv")
    found = {(e.row, e.column) for e in plan.errors}
    assert {
        (2, "promised_on"),
        (3, "account"),
        (4, "customer_order_number"),
        (4, "product"),
        (4, "quantity"),
        (4, "unit_price"),
        (5, "unit_price"),
    } <= found
    with pytest.raises(ApplicationError):
        order_import_run(actor=kam, file=_csv(text), name="x.csv")
    assert Order.objects.count() == 0


def test_xlsx_and_japanese_headers(kam, account, pump):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["取引先", "注文番号", "商品コード", "数量", "納期"])
    sheet.append([account.name, "注-1", "PMP-100", 3, "2026/12/24"])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    result = order_import_run(actor=kam, file=data, name="受注.xlsx")
    assert [o.customer_reference for o in result.created] == ["注-1"]
    assert result.created[0].lines.get().quantity == 3


def test_wrong_files_are_refused_clearly(kam, account):
    for data, name in (
        (b"%PDF-1.4 nothing", "order.pdf"),
        (b"a,b\n1,2\n", "orders.csv"),  # no such columns
        (b"", "orders.csv"),
        (HEAD.encode(), "orders.csv"),  # no rows
        (b"not a workbook", "orders.xlsx"),
    ):
        with pytest.raises(ApplicationError) as err:
            order_import_preview(actor=kam, file=io.BytesIO(data), name=name)
        assert err.value.field == "file" or "file" in err.value.errors


def test_the_template_has_the_columns(db):
    assert template_csv().lstrip("\ufeff").startswith(HEAD.strip())


def test_the_downloaded_template_imports_as_it_is(kam, account, pump, food, limits):
    """Its example rows name an account the person sees and real products."""
    data = template_csv(viewer=kam).encode("utf-8")
    plan = order_import_preview(actor=kam, file=io.BytesIO(data), name="template.csv")
    assert not plan.errors
    result = order_import_run(actor=kam, file=io.BytesIO(data), name="template.csv")
    assert Order.objects.filter(account=account).count() == 1
    assert result is not None


def test_the_pages(client, kam, account, pump, food, support):
    client.force_login(kam)
    url = reverse("orders:order_import")
    assert client.get(url).status_code == 200
    template = client.get(reverse("orders:order_import_template"))
    assert template.status_code == 200 and b"customer_order_number" in template.content
    bad = client.post(url, {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n")})
    assert bad.status_code == 422 and "customer_order_number" in bad.content.decode()
    errors = client.post(
        url, {"file": SimpleUploadedFile("x.csv", (HEAD + "9999,PO-1,PMP-100,1,,\n").encode())}
    )
    assert errors.status_code == 422 and "9999" in errors.content.decode()
    preview = client.post(
        url, {"file": SimpleUploadedFile("o.csv", _good(account).encode("utf-8"))}
    )
    assert preview.status_code == 200 and Order.objects.count() == 0
    token = preview.context["token"]
    run = reverse("orders:order_import_run")
    done = client.post(run, {"token": token, "file_name": "o.csv"})
    assert done.status_code == 302 and Order.objects.count() == 2
    twice = client.post(run, {"token": token, "file_name": "o.csv"})  # a second click
    assert twice.status_code == 302 and Order.objects.count() == 2
    again = client.post(url, {"file": SimpleUploadedFile("o.csv", _good(account).encode("utf-8"))})
    assert again.context["token"] == "" and "imported before" in again.content.decode()
    client.force_login(support)
    assert client.get(url).status_code == 403


def test_previews_never_imported_are_forgotten_after_a_day(kam):
    """The uploaded file waits between preview and import; one left for a day is removed
    when the next preview is stashed."""
    old = views_intake._stash_dir() / f"{kam.pk}-{'0' * 32}"
    old.write_bytes(b"account,customer_order_number\n")
    day_ago = time.time() - views_intake.STASH_KEPT_SECONDS - 60
    os.utime(old, (day_ago, day_ago))
    token = views_intake._stash(kam, b"new")
    assert not old.exists()
    fresh = views_intake._stash_path(kam, token)
    assert fresh is not None and fresh.read_bytes() == b"new"
    fresh.unlink()
