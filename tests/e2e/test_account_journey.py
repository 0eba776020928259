"""The journey a key account manager takes on their first day."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_kam_signs_in_finds_edits_and_sees_history_then_switches_to_japanese(
    page: Page, live_server, kam, west_am, make_account, make_contact
):
    mine = make_account(kam, name="株式会社山田商事", name_kana="ヤマダショウジ", industry="卸売業")
    make_contact(mine)
    make_account(kam, name="東洋精機株式会社", name_kana="トウヨウセイキ")
    make_account(west_am, name="北斗電機株式会社", name_kana="ホクトデンキ")

    # Sign in
    page.goto(f"{live_server.url}/accounts/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("User name").fill("kam")
    page.get_by_label("Password").fill("demo-tokui")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()

    # Search as you type (kana-insensitive); another team's account never shows
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    page.locator("#q").fill("やまだ")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("株式会社山田商事")
    page.locator("#q").fill("北斗")
    expect(page.locator("#results")).to_contain_text("No accounts match")

    # Open one and edit it
    page.locator("#q").fill("山田")
    page.get_by_role("link", name="株式会社山田商事").click()
    expect(page.get_by_role("heading", name="株式会社山田商事")).to_be_visible()
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Industry").fill("製造業")
    page.get_by_label("Phone", exact=True).fill("０３-１２３４-５６７８")
    page.get_by_role("button", name="Save changes").click()

    # The change is in the history, with old and new values
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    history = page.locator(".history")
    expect(history).to_contain_text("Account changed")
    expect(history.locator("del", has_text="卸売業")).to_be_visible()
    expect(history.locator("ins", has_text="製造業")).to_be_visible()
    expect(page.locator(".props").first).to_contain_text("03-1234-5678")

    # A bad value is explained next to its field and nothing is saved
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Corporate number").fill("1234567890123")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".field-invalid .error")).to_contain_text("check digit")
    page.get_by_role("link", name="Cancel").click()

    # Switch to Japanese: the whole screen follows
    page.get_by_role("button", name="日本語").click()
    expect(page.get_by_role("heading", name="株式会社山田商事")).to_be_visible()
    expect(page.locator(".mainnav")).to_contain_text("取引先")
    expect(page.locator(".history")).to_contain_text("変更履歴")
    expect(page.get_by_role("link", name="編集", exact=True)).to_be_visible()
