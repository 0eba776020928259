"""Odd input on the pipeline pages: filters and ids from far away are ignored, not 500s;
exported text never runs as a formula; a hidden referrer stays hidden on the deal page."""

import csv
import io
from collections.abc import Callable

import pytest
from django.test import Client

from tokui.accounts.models import Account
from tokui.pipeline.models import Deal
from tokui.pipeline.referrals import referral_record
from tokui.users.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        "owner=²",
        "owner=99999999999999999999999",
        "team=٣",
        "close_month=9999-12",
        "close_month=0001-01",
        "stage=x&tier=" + "z" * 500,
    ],
)
def test_odd_filters_are_ignored_on_the_board_list_forecast_and_api(
    client: Client, kam: User, make_deal: Callable[..., Deal], query: str
) -> None:
    make_deal()
    client.force_login(kam)
    for url in ("/deals/board/", "/deals/list/", "/deals/forecast/"):
        assert client.get(f"{url}?{query}").status_code == 200, url
    # The API says what is wrong with a parameter instead of ignoring it.
    assert client.get(f"/api/v1/deals?{query}").status_code in (200, 422)


def test_odd_ids_in_deal_forms_are_refused_cleanly(
    client: Client, kam: User, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal()
    client.force_login(kam)
    assert client.get(f"/deals/{deal.pk}/?add=²").status_code == 200
    assert client.get("/deals/new/?account=²").status_code == 200
    response = client.post(f"/deals/{deal.pk}/stage/", {"stage": "²", "version": "²"})
    assert response.status_code < 500


def test_the_csv_export_escapes_formulas(
    client: Client, kam: User, make_deal: Callable[..., Deal]
) -> None:
    make_deal(title='=HYPERLINK("http://evil.example","x")')
    client.force_login(kam)
    response = client.get("/deals/list/?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][0].startswith("'=")


def test_a_referrer_the_reader_cannot_see_is_not_named_on_the_deal_page(
    client: Client,
    head: User,
    kam: User,
    west_am: User,
    make_account: Callable[..., Account],
    make_deal: Callable[..., Deal],
    customer: Account,
) -> None:
    hidden = make_account(west_am, name="秘密の紹介元株式会社")
    deal = make_deal()
    referral_record(actor=head, account=customer, referrer=hidden, note="社長同士のゴルフ")
    client.force_login(kam)
    page = client.get(f"/deals/{deal.pk}/").content.decode()
    assert "秘密の紹介元" not in page and "ゴルフ" not in page
    assert "an account you cannot see" in page
    account_page = client.get(f"/accounts/{customer.pk}/").content.decode()
    assert "秘密の紹介元" not in account_page and "ゴルフ" not in account_page
