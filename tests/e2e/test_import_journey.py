"""A KAM brings in a business-card export (CP932 CSV) through the browser."""

import pytest
from playwright.sync_api import Page, expect

from tokui.accounts.models import Contact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CARDS = (
    "会社名,部署名,役職,姓,名,姓(カナ),名(カナ),E-mail,電話番号\r\n"
    "株式会社山田商事,購買部,部長,佐藤,花子,サトウ,ハナコ,hanako.sato@yamada.example,03-1234-5678\r\n"
    "株式会社山田商事,購買部,課長,鈴木,一郎,スズキ,イチロウ,not-an-address,03-1234-5679\r\n"
)


def test_kam_imports_business_cards_and_sees_the_report(
    page: Page, live_server, kam, make_account, tmp_path
):
    make_account(kam, name="株式会社山田商事", name_kana="ヤマダショウジ")
    upload = tmp_path / "cards.csv"
    upload.write_bytes(CARDS.encode("cp932"))

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill("kam")
    page.get_by_label("Password").fill("demo-tokui")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/accounts/")
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_role("link", name="Import a file").click()
    expect(page.get_by_role("heading", name="Import a file")).to_be_visible()

    # Step 1: the file and its kind
    page.locator("input[type=file]").set_input_files(str(upload))
    page.locator("select[name=target]").select_option("contacts")
    page.get_by_label("Columns from").select_option("cards")
    page.get_by_role("button", name="Upload and choose the columns").click()

    # Step 2: the preset mapped the columns; the preview shows the rows decoded from CP932
    expect(page.get_by_text("hanako.sato@yamada.example")).to_be_visible()
    page.get_by_role("button", name="Run the import").click()

    # Step 3: one row in, one refused with its reason and row number
    expect(page.locator(".import-stats")).to_contain_text("1")
    expect(page.get_by_text("not a valid e-mail address")).to_be_visible()
    expect(page.get_by_role("link", name="Download the report (CSV)")).to_be_visible()
    assert list(Contact.objects.values_list("family_name", flat=True)) == ["佐藤"]
