"""Pipeline fixtures: products to sell, a deal factory and the default stages by key."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tokui.accounts.models import Account
from tokui.catalog.models import Product, ProductLine
from tokui.catalog.services import product_create, product_line_create
from tokui.pipeline.models import Deal, Stage
from tokui.pipeline.services import deal_create
from tokui.users.models import User


@pytest.fixture
def stage(db: None) -> Callable[[str], Stage]:
    return lambda key: Stage.objects.get(key=key)


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


@pytest.fixture
def customer(kam: User, make_account: Callable[..., Account]) -> Account:
    return make_account(kam, name="株式会社北斗精機", name_kana="ホクトセイキ")


@pytest.fixture
def make_deal(kam: User, customer: Account) -> Callable[..., Deal]:
    def make(actor: User | None = None, account: Account | None = None, **data: Any) -> Deal:
        data.setdefault("title", "ポンプ更新案件")
        return deal_create(actor=actor or kam, account=account or customer, data=data)

    return make
