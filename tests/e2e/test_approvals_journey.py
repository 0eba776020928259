"""Journey through issue 5's approvals: a KAM asks for 25% beyond their 15% limit, the head of
sales approves it from the bell, and the price becomes effective."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.catalog.conftest import make_product, pump_line
from tokui.pricing.models import AuthorityLimit
from tokui.pricing.services import agreement_create
from tokui.users.constants import Role

__all__ = ["make_product", "pump_line"]

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-tokui"


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def test_kam_asks_head_approves_and_the_price_becomes_effective(
    live_server, new_context, kam, head, make_account, make_product
):
    for role, limit in ((Role.KAM, 15), (Role.HEAD, 40)):
        AuthorityLimit.objects.create(role=role, max_discount_percent=Decimal(limit))
    account = make_account(kam, name="株式会社山田商事")
    agreement = agreement_create(
        actor=kam,
        account=account,
        data={
            "name": "今年度 取引条件",
            "valid_from": timezone.localdate() - datetime.timedelta(30),
        },
    )
    product = make_product(sku="PMP-777", list_price=Decimal(100_000), cost=Decimal(50_000))

    kam_page = new_context().new_page()
    sign_in(kam_page, live_server.url, "kam")
    kam_page.goto(f"{live_server.url}/agreements/{agreement.pk}/")
    if not kam_page.locator('select[name="discounts-0-target"]').count():
        kam_page.get_by_role("button", name="More rows").click()
    kam_page.locator('select[name="discounts-0-target"]').select_option(f"product:{product.pk}")
    kam_page.locator('input[name="discounts-0-percent"]').fill("25")
    kam_page.get_by_label("Reason").fill("競合対抗のため25%を希望します。")
    kam_page.get_by_role("button", name="Save terms").click()
    expect(kam_page.locator(".messages")).to_contain_text("sent for approval")

    head_page = new_context().new_page()
    sign_in(head_page, live_server.url, "head")
    expect(head_page.locator(".bell-count")).to_have_text("1")
    head_page.locator("a.bell").click()
    head_page.get_by_role("button", name=re.compile("Approval needed")).click()
    expect(
        head_page.get_by_text("25% discount is above the requester's limit of 15%.")
    ).to_be_visible()
    head_page.get_by_label("Comment").fill("了承します。")
    head_page.get_by_role("button", name="Approve").click()
    expect(head_page.get_by_text("Approved.")).to_be_visible()
    expect(head_page.locator(".bell-count")).to_have_count(0)

    today = timezone.localdate().isoformat()
    response = head_page.request.get(
        f"{live_server.url}/api/v1/prices/quote?account={account.pk}&product={product.pk}"
        f"&quantity=1&date={today}"
    )
    assert response.status == 200
    assert Decimal(str(response.json()["unit_price"])) == Decimal(75_000)
