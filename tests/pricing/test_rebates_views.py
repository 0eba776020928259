"""Bonus-programme pages: the account section, the detail page, settle, the credit note."""

import datetime
from decimal import Decimal

from django.urls import reverse

from tokui.pricing.models import CreditNote, RebateProgramme
from tokui.pricing.rebates import rebate_programme_create, rebate_record_purchase

D = datetime.date


def _programme(head, account):
    start, end = D(2025, 4, 1), D(2026, 3, 31)
    programme = rebate_programme_create(
        actor=head,
        account=account,
        data={"name": "年間数量リベート", "period_start": start, "period_end": end,
              "tiers": [{"threshold": 50_000_000, "percent": 2}]},
    )  # fmt: skip
    rebate_record_purchase(programme=programme, on=start, amount=Decimal(55_000_000), source="o1")
    return programme


def test_the_account_page_shows_programmes_with_progress(client, head, kam, make_account):
    account = make_account(kam, tier="key")
    programme = _programme(head, account)
    client.force_login(kam)
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "年間数量リベート" in page and "<progress" in page
    assert reverse("pricing:rebate_detail", args=[programme.pk]) in page


def test_a_head_creates_a_programme_through_the_form(client, head, kam, make_account):
    account = make_account(kam, tier="key")
    client.force_login(head)
    url = reverse("pricing:rebate_create") + f"?account={account.pk}"
    assert client.get(url).status_code == 200
    bad = client.post(url, {"name": "x", "currency": "JPY", "period_start": "2026-04-01",
                            "period_end": "2027-03-31", "threshold_0": "50,000,000",
                            "percent_0": "2", "threshold_1": "10,000,000",
                            "percent_1": "3"})  # fmt: skip
    assert bad.status_code == 422 and bad.context["form"].errors["percent_0"]
    assert not RebateProgramme.objects.exists()
    good = client.post(url, {"name": "FY2026", "currency": "JPY", "period_start": "2026-04-01",
                             "period_end": "2027-03-31", "threshold_0": "50,000,000",
                             "percent_0": "2"})  # fmt: skip
    assert good.status_code == 302
    assert RebateProgramme.objects.get().tiers.get().threshold == 50_000_000
    client.force_login(kam)
    assert client.get(url).status_code == 403


def test_settle_from_the_detail_page_and_view_the_credit_note(client, head, kam, make_account):
    account = make_account(kam, tier="key")
    programme = _programme(head, account)
    client.force_login(kam)
    assert client.post(reverse("pricing:rebate_settle", args=[programme.pk])).status_code == 403
    client.force_login(head)
    detail = client.get(reverse("pricing:rebate_detail", args=[programme.pk]))
    assert "1,100,000" in detail.content.decode()
    client.post(reverse("pricing:rebate_settle", args=[programme.pk]))
    note = CreditNote.objects.get()
    again = client.post(reverse("pricing:rebate_settle", args=[programme.pk]), follow=True)
    assert note.number in again.content.decode()  # "already settled (CN-…)"
    assert CreditNote.objects.count() == 1
    client.force_login(kam)
    page = client.get(reverse("pricing:credit_note_detail", args=[note.pk]))
    assert page.status_code == 200 and note.number in page.content.decode()


def test_programmes_of_invisible_accounts_are_not_found(client, head, kam, west_am, make_account):
    programme = _programme(head, make_account(kam, tier="key"))
    client.force_login(west_am)
    assert client.get(reverse("pricing:rebate_detail", args=[programme.pk])).status_code == 404
