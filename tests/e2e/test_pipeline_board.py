"""Journey through issue 6's pipeline board: a KAM drags a deal to the next stage, the playbook
refuses and lists the missing step, the KAM records it on the deal page and the drag succeeds.
(The quote PDF part of the journey is added with the quote pages.)"""

import datetime
import importlib
import re

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Page, expect

from tokui.pipeline.models import Deal, Stage
from tokui.pipeline.services import deal_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-tokui"


@pytest.fixture(autouse=True)
def _default_stages(db):
    # Transactional tests empty the tables after each test, the migration's stages included.
    if not Stage.objects.exists():
        module = importlib.import_module("tokui.pipeline.migrations.0002_default_stages")
        module.create_stages(apps, None)


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def test_drag_refused_by_the_playbook_then_moved_once_the_step_is_done(
    live_server, new_context, kam, make_account
):
    account = make_account(kam, name="株式会社北斗精機")
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
    Deal.objects.filter(pk=deal.pk).update(stage=needs)  # setup: it reached "Needs identified"

    page = new_context().new_page()
    sign_in(page, live_server.url, "kam")
    page.get_by_role("link", name="Deals", exact=True).click()
    expect(page.get_by_role("heading", name="Deals", level=1)).to_be_visible()

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
