# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""Order pages: the list and its filters, an order with its flags and actions, taking an order
by hand (errors kept, one order per submit) and from an accepted quote."""

import datetime

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD
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
from tokui.orders import views_orders
from tokui.orders.constants import OrderStatus
from tokui.orders.deliveries import delivery_create
from tokui.orders.models import Order
from tokui.orders.orders import order_confirm, order_create
from tokui.orders.quotes import quote_accept, quote_create, quote_issue, quote_mark_sent

DAY = datetime.timedelta(days=1)


@pytest.fixture
def as_kam(client, kam):
    client.login(username=kam.username, password=PASSWORD)
    return client


def _login(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def _lines(rows, total=3):
    data = {"lines-TOTAL_FORMS": str(total), "lines-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"lines-{i}-{key}"] = value
    return data


def test_the_list_filters_and_hides_other_accounts(
    client, kam, west_am, account, pump, make_account
):
    today = timezone.localdate()
    late = order_create(
        actor=kam,
        account=account,
        lines=[line(pump, 2, promised_on=today - DAY)],
        customer_reference="PO-LATE",
    )
    other_account = make_account(kam, name="北海道機材株式会社", name_kana="ホッカイドウキザイ")
    calm = order_create(
        actor=kam,
        account=other_account,
        lines=[line(pump, 1, promised_on=today + 20 * DAY)],
        customer_reference="PO-CALM",
        ordered_on=today - 40 * DAY,
    )
    order_confirm(actor=kam, order=calm)
    west_account = make_account(west_am, name="西日本工業株式会社")
    hidden = order_create(actor=west_am, account=west_account, lines=[line(pump)])
    page = _login(client, kam).get(reverse("orders:order_index")).content.decode()
    assert late.number in page and calm.number in page and hidden.number not in page
    assert "badge-overdue" in page and 'aria-current="page">Orders' in page
    only_late = client.get(reverse("orders:order_index"), {"late": "1"}).content.decode()
    assert late.number in only_late and calm.number not in only_late
    by_status = client.get(reverse("orders:order_index"), {"status": "confirmed"})
    assert calm.number in by_status.content.decode()
    assert late.number not in by_status.content.decode()
    by_name = client.get(reverse("orders:order_index"), {"q": "北海道"}).content.decode()
    assert calm.number in by_name and late.number not in by_name
    recent = client.get(
        reverse("orders:order_index"), {"from": (today - DAY).isoformat(), "to": "junk"}
    ).content.decode()
    assert late.number in recent and calm.number not in recent
    partial = client.get(reverse("orders:order_index"), {"owner": kam.pk}, HTTP_HX_REQUEST="true")
    assert partial.content.decode().lstrip().startswith('<div id="results"')
    empty = client.get(reverse("orders:order_index"), {"q": "該当なし"}).content.decode()
    assert "No orders match these filters." in empty
    # Another KAM's order does not exist for this user.
    assert client.get(reverse("orders:order_detail", args=[hidden.pk])).status_code == 404


def test_the_list_flags_at_risk_only_when_nothing_shipped(client, kam, account, pump, make_account):
    """The list says "at risk" as the late page does: due within three days, nothing shipped
    for the line — a line already partly shipped is not at risk, and one account's orders are
    listed alone on its "All orders" link."""
    soon = timezone.localdate() + 2 * DAY
    waiting = order_create(actor=kam, account=account, lines=[line(pump, 3, promised_on=soon)])
    order_confirm(actor=kam, order=waiting)
    other = make_account(kam, name="東北機材株式会社", name_kana="トウホクキザイ")
    shipping = order_create(actor=kam, account=other, lines=[line(pump, 3, promised_on=soon)])
    order_confirm(actor=kam, order=shipping)
    delivery_create(
        actor=kam,
        order=shipping,
        lines=[{"order_line": shipping.lines.get().pk, "quantity": 1}],
        shipped_on=timezone.localdate(),
    )
    _login(client, kam)
    for order, flagged in ((waiting, True), (shipping, False)):
        page = client.get(reverse("orders:order_index"), {"account": order.account_id})
        html = page.content.decode()
        assert order.number in html
        assert ("order-at-risk" in html) is flagged, order.number
    alone = client.get(reverse("orders:order_index"), {"account": other.pk}).content.decode()
    assert shipping.number in alone and waiting.number not in alone
    assert "東北機材株式会社" in alone


def test_the_empty_list_says_how_to_take_an_order(as_kam):
    page = as_kam.get(reverse("orders:order_index")).content.decode()
    assert "No orders yet." in page


def test_detail_flags_late_and_at_risk_lines(as_kam, kam, account, pump, food, make_product):
    today = timezone.localdate()
    new = make_product(sku="PMP-200", name="渦巻ポンプ 200")
    order = order_create(
        actor=kam,
        account=account,
        lines=[line(pump, 2, promised_on=today - DAY), line(food, 3, promised_on=today + DAY)],
    )
    answer = as_kam.get(reverse("orders:order_detail", args=[order.pk]))
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "order-line-late" in page and "order-line-at-risk" in page
    assert "10% on" in page and "8% on" in page  # totals per tax rate
    assert "Confirm" in page and "Cancel order" in page
    # A product that became unavailable: the problem and the substitute form show.
    pump.status = "unavailable"
    pump.save()
    pump.substitutes.add(new)
    page = as_kam.get(reverse("orders:order_detail", args=[order.pk])).content.decode()
    assert "temporarily unavailable" in page and "PMP-200" in page
    first = order.lines.get(position=1)
    url = reverse("orders:order_line_substitute", args=[order.pk, first.pk])
    answer = as_kam.post(url, {"product": new.pk, "version": order.version})
    assert answer.status_code == 302
    first.refresh_from_db()
    assert first.product_id == new.pk and first.substitute_for_id == pump.pk


def test_create_form_happy_path_and_double_submit(as_kam, account, contact, pump, food):
    url = reverse("orders:order_create", args=[account.pk])
    form = as_kam.get(url)
    assert form.status_code == 200 and 'name="idempotency_key"' in form.content.decode()
    today = timezone.localdate()
    data = {
        "idempotency_key": "k-1",
        "contact": contact.pk,
        "customer_reference": "PO-77",
        "ordered_on": today.isoformat(),
        "delivery_address": "東京都千代田区1-1",
        **_lines(
            [
                {"product": pump.pk, "quantity": "2", "promised_on": (today + 5 * DAY).isoformat()},
                {"product": food.pk, "quantity": "10"},
            ]
        ),
    }
    first = as_kam.post(url, data)
    assert first.status_code == 302, first.content.decode()[:2000]
    again = as_kam.post(url, data)
    assert again.status_code == 302 and again["Location"] == first["Location"]
    order = Order.objects.get()
    assert order.customer_reference == "PO-77" and order.contact_id == contact.pk
    assert order.lines.count() == 2
    assert order.lines.get(position=1).promised_on == today + 5 * DAY
    page = as_kam.get(first["Location"]).content.decode()
    assert "PO-77" in page and "History" in page


def test_the_form_takes_an_agreed_price_within_authority(as_kam, account, pump, limits):
    """A lower price within the KAM's authority is taken; a higher one is refused next to its
    line and nothing is created."""
    url = reverse("orders:order_create", args=[account.pk])
    today = timezone.localdate().isoformat()
    row = {"product": pump.pk, "quantity": "1", "unit_price": "100001"}
    above = as_kam.post(url, {"idempotency_key": "k-above", "ordered_on": today, **_lines([row])})
    assert above.status_code == 422 and "above the price found" in above.content.decode()
    assert 'value="100001"' in above.content.decode() and not Order.objects.exists()
    row = {"product": pump.pk, "quantity": "2", "unit_price": "95,000"}
    taken = as_kam.post(url, {"idempotency_key": "k-ok", "ordered_on": today, **_lines([row])})
    assert taken.status_code == 302, taken.content.decode()[:2000]
    assert Order.objects.get().lines.get().unit_price == 95_000


def test_create_form_keeps_what_was_typed_and_shows_line_errors(
    as_kam, account, pump, make_product
):
    gone = make_product(sku="OLD-1", name="旧型ポンプ", status="unavailable", lead_time_days=30)
    url = reverse("orders:order_create", args=[account.pk])
    data = {
        "idempotency_key": "k-2",
        "customer_reference": "PO-KEEP",
        "ordered_on": timezone.localdate().isoformat(),
        **_lines([{"product": pump.pk, "quantity": "3"}, {"product": gone.pk, "quantity": "1"}]),
    }
    answer = as_kam.post(url, data)
    page = answer.content.decode()
    assert answer.status_code == 422
    assert "temporarily unavailable" in page and "30" in page
    assert 'value="PO-KEEP"' in page and 'name="lines-0-quantity" value="3"' in page
    assert 'class="row-invalid"' in page
    header = {k: v for k, v in data.items() if not k.startswith("lines-")}
    nothing = as_kam.post(url, {**header, **_lines([])})
    assert nothing.status_code == 422 and "Add at least one line" in nothing.content.decode()
    more = as_kam.post(url, {**data, "more_rows": "1"})
    assert more.status_code == 200 and 'name="lines-5-product"' in more.content.decode()
    assert not Order.objects.exists()


def test_actions_move_the_status_and_refuse_bad_moves(as_kam, kam, account, pump):
    order = order_create(actor=kam, account=account, lines=[line(pump)])
    detail = reverse("orders:order_detail", args=[order.pk])
    bad = as_kam.post(reverse("orders:order_start_fulfilment", args=[order.pk]), {"version": 1})
    assert bad.status_code == 409 and "Nothing was changed." in bad.content.decode()
    ok = as_kam.post(reverse("orders:order_confirm", args=[order.pk]), {"version": 1})
    assert ok.status_code == 302 and ok["Location"] == detail
    stale = as_kam.post(reverse("orders:order_confirm", args=[order.pk]), {"version": 1})
    assert stale.status_code == 409
    go = as_kam.post(reverse("orders:order_start_fulfilment", args=[order.pk]), {"version": 2})
    assert go.status_code == 302
    assert Order.objects.get(pk=order.pk).status == OrderStatus.IN_FULFILMENT
    no_reason = as_kam.post(reverse("orders:order_cancel", args=[order.pk]), {"version": 3})
    assert no_reason.status_code == 422
    assert "Say why the order is cancelled." in no_reason.content.decode()
    assert "<dialog" in no_reason.content.decode() and " open>" in no_reason.content.decode()
    done = as_kam.post(
        reverse("orders:order_cancel", args=[order.pk]), {"version": 3, "reason": "予算凍結"}
    )
    assert done.status_code == 302
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert "予算凍結" in as_kam.get(detail).content.decode()


def test_reorder_makes_one_new_order(as_kam, kam, account, pump):
    order = order_create(actor=kam, account=account, lines=[line(pump, 4)])
    url = reverse("orders:order_reorder", args=[order.pk])
    first = as_kam.post(url, {"idempotency_key": "r-1"})
    again = as_kam.post(url, {"idempotency_key": "r-1"})
    assert first.status_code == 302 and first["Location"] == again["Location"]
    new = Order.objects.exclude(pk=order.pk).get()
    assert new.reorder_of_id == order.pk and first["Location"] == reverse(
        "orders:order_detail", args=[new.pk]
    )


def test_support_reads_but_cannot_post(client, kam, support, account, pump):
    order = order_create(actor=kam, account=account, lines=[line(pump)])
    _login(client, support)
    page = client.get(reverse("orders:order_detail", args=[order.pk]))
    assert page.status_code == 200 and "Start fulfilment" not in page.content.decode()
    assert (
        client.post(reverse("orders:order_confirm", args=[order.pk]), {"version": 1}).status_code
        == 403
    )
    assert client.get(reverse("orders:order_create", args=[account.pk])).status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RECEIVED


def _post_take_order(user, quote, key):
    """POST the quote's "Take order" to the view (see the report: the quote pages' catch-all
    ``quotes/<id>/<action>/`` is listed before the order URLs)."""
    request = RequestFactory().post(
        reverse("orders:order_from_quote", args=[quote.pk]), {"idempotency_key": key}
    )
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return views_orders.order_from_quote(request, quote_id=quote.pk)


def test_take_order_from_an_accepted_quote(as_kam, kam, account, pump, limits, company):
    quote = quote_create(actor=kam, account=account, title="ポンプ", lines=[line(pump, 2)])
    assert reverse("orders:order_from_quote", args=[quote.pk]) == f"/quotes/{quote.pk}/order/"
    detail = reverse("orders:quote_detail", args=[quote.pk])
    assert "Take order" not in as_kam.get(detail).content.decode()
    refused = _post_take_order(kam, quote, "q-0")
    assert refused.status_code == 302 and refused["Location"] == detail
    assert not Order.objects.exists()
    quote_issue(actor=kam, quote=quote)
    quote_mark_sent(actor=kam, quote=quote)
    quote_accept(actor=kam, quote=quote)
    page = as_kam.get(detail).content.decode()
    assert "Take order" in page and f'value="quote-{quote.pk}"' in page
    first = _post_take_order(kam, quote, f"quote-{quote.pk}")
    again = _post_take_order(kam, quote, f"quote-{quote.pk}")
    order = Order.objects.get()
    assert first["Location"] == again["Location"] == reverse("orders:order_detail", args=[order.pk])
    assert order.quote_id == quote.pk
    page = as_kam.get(detail).content.decode()
    assert "Take order" not in page and order.number in page
    assert quote.display_number in as_kam.get(first["Location"]).content.decode()
