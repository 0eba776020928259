# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""/api/v1/quotes and /api/v1/deals/{id}/quotes."""

import datetime
import subprocess
from decimal import Decimal

import pytest

from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    contact,
    food,
    limits,
    line,
    make_product,
    pump,
    pump_line,
)
from tokui.orders.constants import QuoteStatus
from tokui.orders.models import Quote
from tokui.pipeline.deal_quotes import deal_has_issued_quote, deal_quote_create, deal_quotes
from tokui.pipeline.models import Deal, DealLine, Stage
from tokui.users.services import api_token_create

D = Decimal


@pytest.fixture
def api(client):
    def call(user, method, path, data=None, **params):
        _token, key = api_token_create(actor=user, user=user)
        headers = {"Authorization": f"Bearer {key}"}
        url = f"/api/v1{path}"
        if method == "get":
            return client.get(url, params, headers=headers)
        return getattr(client, method)(url, data, content_type="application/json", headers=headers)

    return call


def _one(account, product, **extra):
    return {"account": account.pk, "title": "t",
            "lines": [{"product": product.pk, "quantity": 1, **extra}]}  # fmt: skip


def test_make_issue_send_and_accept_through_the_api(
    api,
    kam,
    account,
    contact,
    pump,
    food,
    limits,
    company,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    answer = api(kam, "post", "/quotes", {
        "account": account.pk, "contact": contact.pk, "title": "ポンプ更新",
        "lines": [{"product": pump.pk, "quantity": 2}, {"product": food.pk, "quantity": 11}],
    })  # fmt: skip
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["status"] == "draft" and D(body["total"]) == 234659
    assert body["addressee"] == "株式会社山田商事 購買部 山田 太郎 様"
    assert [D(t["rate"]) for t in body["taxes"]] == [10, 8]
    quote_id = body["id"]

    assert api(kam, "post", f"/quotes/{quote_id}/issue", {}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        sent = api(kam, "post", f"/quotes/{quote_id}/send", {})
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert len(mailoutbox) == 1
    accepted = api(kam, "post", f"/quotes/{quote_id}/accept", {})
    assert accepted.json()["status"] == "accepted"

    pdf = api(kam, "get", f"/quotes/{quote_id}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True).stdout
    assert "山田商事".encode() in text


def test_beyond_authority_is_202_and_errors_name_the_line(api, kam, account, pump, limits):
    bad = api(kam, "post", "/quotes", _one(account, pump, unit_price="150000"))
    assert bad.status_code == 422 and "lines.0.unit_price" in bad.json()["error"]["fields"]
    assert not Quote.objects.exists()

    made = api(kam, "post", "/quotes", _one(account, pump, unit_price="70000"))
    issued = api(kam, "post", f"/quotes/{made.json()['id']}/issue", {"reason": "競合"})
    assert issued.status_code == 202 and issued.json()["approval"]


def test_revise_decline_and_visibility(api, kam, west_am, account, pump, limits):
    made = api(kam, "post", "/quotes", _one(account, pump)).json()
    assert api(west_am, "get", f"/quotes/{made['id']}").status_code == 404
    assert api(west_am, "get", "/quotes").json()["count"] == 0
    api(kam, "post", f"/quotes/{made['id']}/issue", {})
    declined = api(kam, "post", f"/quotes/{made['id']}/decline", {"reason": "予算不足"})
    assert declined.json()["status"] == "declined"
    revised = api(kam, "post", f"/quotes/{made['id']}/revise", {})
    assert revised.status_code == 201
    assert revised.json()["display_number"] == made["number"] + "-2"
    assert revised.json()["versions"] == [made["id"], revised.json()["id"]]
    listed = api(kam, "get", "/quotes", latest="true").json()
    assert [q["id"] for q in listed["items"]] == [revised.json()["id"]]


def test_an_expired_quote_is_refused_on_accept(api, kam, account, pump, limits):
    made = api(kam, "post", "/quotes", _one(account, pump)).json()
    api(kam, "post", f"/quotes/{made['id']}/issue", {})
    past = datetime.date.today() - datetime.timedelta(days=60)
    Quote.objects.filter(pk=made["id"]).update(
        issued_on=past, valid_until=past + datetime.timedelta(days=30)
    )
    answer = api(kam, "post", f"/quotes/{made['id']}/accept", {})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "expired"
    assert Quote.objects.get(pk=made["id"]).status == QuoteStatus.APPROVED


@pytest.fixture
def deal(kam, account, contact, pump, food):
    stage = Stage.objects.filter(kind="open").order_by("position").first()
    deal = Deal.objects.create(
        account=account, contact=contact, title="工場ポンプ更新", owner=kam, stage=stage
    )
    today = datetime.date.today()
    for position, (product, quantity, price) in enumerate(
        ((pump, 3, D(92000)), (food, 24, D(1234))), start=1
    ):
        DealLine.objects.create(
            deal=deal, position=position, product=product, sku=product.sku,
            description=product.name, quantity=quantity, unit_price=price,
            amount=price * quantity, priced_on=today,
        )  # fmt: skip
    return deal


def test_a_quote_from_a_deal_copies_its_lines_and_links_to_it(kam, deal, limits, contact):
    quote = deal_quote_create(actor=kam, deal=deal)

    assert quote.regarding == deal and quote.contact == contact and quote.title == deal.title
    rows = list(quote.lines.order_by("position").values_list("sku", "quantity", "unit_price"))
    assert rows == [("PMP-100", 3, D(92000)), ("WTR-500", 24, D(1234))]
    assert list(deal_quotes(viewer=kam, deal=deal)) == [quote]
    assert not deal_has_issued_quote(deal=deal)
    from tokui.orders.quotes import quote_issue

    quote_issue(actor=kam, quote=quote)
    assert deal_has_issued_quote(deal=deal)


def test_deal_quotes_through_the_api(api, kam, west_am, deal, limits):
    assert api(west_am, "post", f"/deals/{deal.pk}/quotes", {}).status_code == 404
    answer = api(kam, "post", f"/deals/{deal.pk}/quotes", {"notes": "3台同時納入"})
    assert answer.status_code == 201
    assert answer.json()["regarding_type"] == "pipeline.deal"
    assert answer.json()["regarding_id"] == deal.pk
