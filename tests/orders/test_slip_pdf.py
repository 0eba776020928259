# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""The delivery slip (納品書) PDF in Japanese and English: honorific, quantities, no prices."""

import os
import subprocess

from django.utils import timezone

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    contact,
    food,
    line,
    make_product,
    pump,
    pump_line,
)
from tokui.orders.deliveries import delivery_create
from tokui.orders.orders import order_confirm, order_create
from tokui.orders.slips import delivery_document, delivery_filename, delivery_pdf


def _text(pdf: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return "".join(done.stdout.decode().split())


def shipped_order(kam, account, pump, food, contact=None):
    order = order_create(
        actor=kam,
        account=account,
        contact=contact,
        lines=[line(pump, 5), line(food, 12)],
        customer_reference="PO-7781",
        delivery_address="〒530-0001 大阪府大阪市北区梅田1-1 山田商事 第二倉庫",
    )
    order = order_confirm(actor=kam, order=order)
    pump_line_, food_line = order.lines.order_by("position")
    first = delivery_create(
        actor=kam, order=order, shipped_on=timezone.localdate(),
        lines=[{"order_line": pump_line_.pk, "quantity": 2},
               {"order_line": food_line.pk, "quantity": 12}],
    )  # fmt: skip
    second = delivery_create(
        actor=kam, order=order, shipped_on=timezone.localdate(), carrier="ヤマト運輸",
        tracking_number="1234-5678-9012", lines=[{"order_line": pump_line_.pk, "quantity": 1}],
    )  # fmt: skip
    return order, first, second


def test_japanese_slip_to_a_person(kam, account, contact, pump, food, company):
    order, first, second = shipped_order(kam, account, pump, food, contact)
    pdf = delivery_pdf(second, "ja")
    if folder := os.environ.get("SLIP_PDF_DIR"):  # keep it to look at (pdftoppm -png -r 70)
        with open(os.path.join(folder, "slip-ja.pdf"), "wb") as out:
            out.write(pdf)
    text = _text(pdf)
    for expected in (
        "納品書",
        second.number,
        order.number,
        "PO-7781",
        "株式会社山田商事",
        "購買部山田太郎様",
        "大阪府大阪市北区梅田1-1",
        "ヤマト運輸",
        "1234-5678-9012",
        "株式会社得意商事",
        "PMP-100",
        "今回納品数",
        "残数",
    ):
        assert expected in text, expected
    assert "御中" not in text  # 様 with a person, never both
    # No prices: neither the currency nor the amounts nor the tax appear.
    assert "¥" not in text and "消費税" not in text and "金額" not in text
    # Line 1: 1 in this shipment of 5 ordered, 2 left after it (2 + 1 shipped).
    rows = {row["sku"]: row for row in delivery_document(second, "ja")["lines"]}
    assert rows["PMP-100"] == {
        **rows["PMP-100"],
        "quantity": "1",
        "ordered": "5",
        "outstanding": "2",
    }
    # The first slip, reprinted later, still says what was left then.
    rows = {row["sku"]: row for row in delivery_document(first, "ja")["lines"]}
    assert rows["PMP-100"]["outstanding"] == "3" and rows["WTR-500"]["outstanding"] == "0"
    assert delivery_filename(second, "ja") == f"納品書_{second.number}.pdf"


def test_japanese_slip_to_the_company_says_onchu(kam, account, pump, food, company):
    _order, first, _second = shipped_order(kam, account, pump, food)
    text = _text(delivery_pdf(first, "ja"))
    assert "株式会社山田商事御中" in text
    assert "様" not in text


def test_english_slip(kam, account, contact, pump, food, company):
    _order, _first, second = shipped_order(kam, account, pump, food, contact)
    text = _text(delivery_pdf(second, "en"))
    expected_texts = ("DeliveryNote", "Attn:山田太郎", "Outstanding", "Ordered",
                      "TokuiShojiCo.,Ltd.", "Carrier", "TrackingNo.",
                      "Yourorder", "PO-7781")  # fmt: skip
    for expected in expected_texts:
        assert expected in text, expected
    assert "納品書" not in text and "¥" not in text and "様" not in text
    assert delivery_filename(second, "en") == f"DeliveryNote_{second.number}.pdf"
    # Any other language prints Japanese.
    assert "納品書" in _text(delivery_pdf(second, "fr"))
