"""Quote fixtures (import them into a test module): limits, our company, an account with a
contact, and products at 10% and 8%."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.catalog.conftest import make_product, pump_line
from tokui.accounts.models import Account, Contact
from tokui.catalog.models import Product
from tokui.orders.models import CompanyProfile
from tokui.pricing.models import AuthorityLimit
from tokui.users.constants import Role
from tokui.users.models import User

D = Decimal

__all__ = [
    "account",
    "company",
    "contact",
    "food",
    "limits",
    "make_product",
    "pump",
    "pump_line",
]


@pytest.fixture
def limits(db: None) -> None:
    for role, discount, margin, value in (
        (Role.AM, "5", "30", "3000000"),
        (Role.KAM, "15", "20", "20000000"),
        (Role.HEAD, "40", "5", "200000000"),
    ):
        AuthorityLimit.objects.create(
            role=role,
            max_discount_percent=D(discount),
            min_margin_percent=D(margin),
            max_deal_value=D(value),
        )


@pytest.fixture
def company(db: None) -> CompanyProfile:
    from tests.conftest import valid_corporate_number

    return CompanyProfile.objects.create(
        name="株式会社得意商事",
        name_en="Tokui Shoji Co., Ltd.",
        registration_number="T" + valid_corporate_number(123456789012),
        postal_code="1000005",
        address="東京都千代田区丸の内1-1-1 得意ビル5F",
        address_en="1-1-1 Marunouchi, Chiyoda-ku, Tokyo",
        phone="+81332123456",
        email="sales@tokui.example",
        quote_validity_days=30,
    )


@pytest.fixture
def account(kam: User, make_account: Callable[..., Account]) -> Account:
    return make_account(kam, name="株式会社山田商事", name_kana="ヤマダショウジ")


@pytest.fixture
def contact(account: Account, make_contact: Callable[..., Contact]) -> Contact:
    return make_contact(account, department="購買部", email="yamada@yamada.example")


@pytest.fixture
def pump(make_product: Callable[..., Product]) -> Product:
    return make_product(sku="PMP-100", name="渦巻ポンプ 100", unit="台")


@pytest.fixture
def food(make_product: Callable[..., Product]) -> Product:
    # A reduced-rate (8%) item: bottled water for the site.
    return make_product(
        sku="WTR-500",
        name="飲料水 500ml",
        list_price=D(1234),
        cost=D(600),
        tax_category="reduced",
        unit="本",
    )


def line(product: Product, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {"product": product.pk, "quantity": quantity, **extra}
