"""Catalog fixtures: a product line with a few products, built through the services."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tokui.catalog.models import Product, ProductLine
from tokui.catalog.services import product_create, product_line_create
from tokui.users.models import User


@pytest.fixture
def pump_line(head: User) -> ProductLine:
    return product_line_create(
        actor=head, data={"name": "産業用ポンプ", "name_kana": "サンギョウヨウポンプ"}
    )


@pytest.fixture
def make_product(head: User, pump_line: ProductLine) -> Callable[..., Product]:
    counter = iter(range(1, 10_000))

    def make(**data: Any) -> Product:
        n = next(counter)
        data.setdefault("sku", f"PMP-{n:03d}")
        data.setdefault("name", f"渦巻ポンプ {n}")
        data.setdefault("name_kana", "ウズマキポンプ")
        data.setdefault("line", pump_line)
        data.setdefault("list_price", Decimal(100_000))
        data.setdefault("cost", Decimal(60_000))
        return product_create(actor=head, data=data)

    return make
