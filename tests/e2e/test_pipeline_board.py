"""Journey through issue 6's pipeline board: a KAM drags a deal to the next stage, the playbook
refuses and lists the missing step, the KAM records it on the deal page, the drag succeeds, and
the KAM makes the deal's quote and opens its PDF."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tokui.catalog.services import product_create, product_line_create
from tokui.orders.models import Quote
from tokui.pipeline.models import Deal, Stage
from tokui.pipeline.services import deal_create, deal_set_lines

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-tokui"


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def test_drag_refused_by_the_playbook_then_moved_once_the_step_is_done_then_quoted(
    live_server, new_context, kam, head, make_account
):
    account = make_account(kam, name="株式会社北斗精機")
    line = product_line_create(actor=head, data={"name": "産業用ポンプ"})
    pump = product_create(
        actor=head,
        data={
            "sku": "PMP-100A",
            "name": "渦巻ポンプ 100A",
            "line": line,
            "list_price": Decimal(240_000),
            "cost": Decimal(150_000),
        },
    )
    deal = deal_create(
        actor=kam,
        account=account,
        data={
            "title": "ポンプ更新案件",
            "value": "1,200,000",
            "expected_close": timezone.localdate() + datetime.timedelta(days=30),
        },
    )
    needs = Stage.objects.get(key="needs")
    presentation = Stage.objects.get(key="presentation")
    deal_set_lines(actor=kam, deal=deal, lines=[{"product": pump.pk, "quantity": 5}])
    Deal.objects.filter(pk=deal.pk).update(stage=needs)  # setup: it reached "Needs identified"

    page = new_context().new_page()
    sign_in(page, live_server.url, "kam")
    page.get_by_role("link", name="Deals", exact=True).click()
    expect(page.get_by_role("heading", name="Deals", level=1)).to_be_visible()
    # The heading shows before the deferred board script has attached its drag handlers; a
    # drag that early goes nowhere (a flaky CI run): wait for the page to finish loading.
    page.wait_for_load_state("load")

    card = page.locator(f'.deal-card[data-deal="{deal.pk}"]')
    target = page.locator(f"#col-{presentation.pk}")
    card.drag_to(target)

    dialog = page.locator("#board-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("cannot move to “Presentation” yet")
    expect(dialog.locator(".board-missing")).to_contain_text("Needs recorded")
    expect(page.locator("#board-status")).to_contain_text("cannot move")
    # The card stayed where it was.
    expect(page.locator(f"#col-{needs.pk} .deal-card[data-deal='{deal.pk}']")).to_be_visible()

    dialog.get_by_role("link", name="Open the deal to complete them").click()
    expect(page).to_have_url(re.compile(rf"/deals/{deal.pk}/$"))
    page.get_by_placeholder("In the customer's words").fill("老朽化したポンプの入替と省エネ化")
    page.get_by_role("button", name="Record the need").click()
    expect(page.locator("#needs")).to_contain_text("老朽化したポンプの入替と省エネ化")

    page.goto(f"{live_server.url}/deals/board/")
    page.locator(f'.deal-card[data-deal="{deal.pk}"]').drag_to(
        page.locator(f"#col-{presentation.pk}")
    )
    moved = page.locator(f"#col-{presentation.pk} .deal-card[data-deal='{deal.pk}']")
    expect(moved).to_be_visible()
    expect(page.locator("#board-status")).to_contain_text("moved to Presentation")
    expect(moved).to_be_focused()
    deal.refresh_from_db()
    assert deal.stage == presentation

    # The quote of the deal, and its PDF
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    page.get_by_role("button", name="Make a quote").click()
    expect(page).to_have_url(re.compile(r"/quotes/\d+/$"))
    expect(page.locator("main")).to_contain_text("渦巻ポンプ 100A")
    expect(page.locator("main")).to_contain_text("¥1,320,000")  # 5 × ¥240,000 + 10% tax
    href = page.get_by_role("link", name="PDF").get_attribute("href") or ""
    pdf = page.request.get(f"{live_server.url}{href}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    assert Quote.objects.get().regarding == deal


def test_keyboard_moves_a_card_and_lost_asks_why(live_server, new_context, kam, make_account):
    account = make_account(kam, name="株式会社南海工業")
    deal = deal_create(actor=kam, account=account, data={"title": "冷却設備増設"})
    Deal.objects.filter(pk=deal.pk).update(stage=Stage.objects.get(key="presentation"))
    lost = Stage.objects.get(key="lost")

    page = new_context().new_page()
    sign_in(page, live_server.url, "kam")
    page.goto(f"{live_server.url}/deals/board/")
    card = page.locator(f'.deal-card[data-deal="{deal.pk}"]')
    card.focus()
    page.keyboard.press("m")
    dialog = page.locator("#board-dialog")
    expect(dialog.get_by_role("button", name="Lost")).to_be_visible()
    dialog.get_by_role("button", name="Lost").click()
    expect(dialog.get_by_label("Why was it lost?")).to_be_visible()
    expect(dialog.get_by_label("Competitor who won")).to_be_hidden()
    dialog.get_by_role("button", name="Move").click()
    expect(dialog).to_contain_text("Say why the deal was lost.")
    dialog.get_by_label("Why was it lost?").select_option("budget")
    dialog.get_by_role("button", name="Move").click()
    expect(page.locator(f"#col-{lost.pk} .deal-card[data-deal='{deal.pk}']")).to_be_visible()
    deal.refresh_from_db()
    assert deal.stage == lost and deal.lost_reason == "budget"
