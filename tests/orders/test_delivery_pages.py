# ruff: noqa: F811 (the fixtures of conftest_quotes are imported, and used as arguments)
"""Delivery pages: the form (prefilled, partial, over-delivery refused, double submit), the
delivery with "mark delivered", the slip PDF and its e-mail, visibility, support reads only,
and the API's slip PDF."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD
from tests.orders.conftest_quotes import (  # noqa: F401 (fixtures)
    account,
    company,
    contact,
    food,
    line,
    make_product,
    pump,
    pump_line,
)
from tokui.activities.models import Interaction
from tokui.core.models import AuditEvent
from tokui.orders.constants import DeliveryStatus, OrderStatus
from tokui.orders.deliveries import delivery_create
from tokui.orders.models import Delivery, OrderLine
from tokui.orders.orders import order_confirm, order_create
from tokui.users.services import api_token_create


@pytest.fixture
def as_kam(client, kam):
    client.login(username=kam.username, password=PASSWORD)
    return client


@pytest.fixture
def order(kam, account, contact, pump, food):
    made = order_create(
        actor=kam, account=account, contact=contact, lines=[line(pump, 5), line(food, 12)]
    )
    return order_confirm(actor=kam, order=made)


def _lines(order):
    return list(order.lines.order_by("position"))


def _post_data(order, quantities, key="k-1", **extra):
    data = {"shipped_on": timezone.localdate().isoformat(), "idempotency_key": key, **extra}
    for ol, quantity in zip(_lines(order), quantities, strict=True):
        data[f"qty_{ol.pk}"] = str(quantity)
    return data


def test_the_form_is_prefilled_with_what_is_left(as_kam, kam, order):
    pump_line_, food_line = _lines(order)
    delivery_create(
        actor=kam, order=order, shipped_on=timezone.localdate(),
        lines=[{"order_line": pump_line_.pk, "quantity": 2}],
    )  # fmt: skip
    page = as_kam.get(reverse("orders:delivery_create", args=[order.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'name="qty_{pump_line_.pk}" id="qty_{pump_line_.pk}" value="3"' in html
    assert f'name="qty_{food_line.pk}" id="qty_{food_line.pk}" value="12"' in html
    assert 'name="idempotency_key"' in html
    assert f'value="{timezone.localdate().isoformat()}"' in html


def test_a_partial_delivery_then_the_page(as_kam, order):
    url = reverse("orders:delivery_create", args=[order.pk])
    answer = as_kam.post(url, _post_data(order, [2, 0], carrier="佐川急便", tracking_number="99-1"))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    delivery = Delivery.objects.get()
    assert answer["Location"] == reverse("orders:delivery_detail", args=[delivery.pk])
    assert [(dl.order_line.position, dl.quantity) for dl in delivery.lines.all()] == [(1, 2)]
    assert delivery.carrier == "佐川急便" and delivery.tracking_number == "99-1"
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_DELIVERED
    html = as_kam.get(answer["Location"]).content.decode()
    assert delivery.number in html and order.number in html and "Mark delivered" in html
    assert reverse("orders:delivery_pdf", args=[delivery.pk]) in html


def test_over_delivery_is_refused_with_nothing_changed_and_the_input_kept(as_kam, order):
    pump_line_, _food_line = _lines(order)
    url = reverse("orders:delivery_create", args=[order.pk])
    answer = as_kam.post(url, _post_data(order, [9, 1], carrier="西濃運輸"))
    assert answer.status_code == 422
    html = answer.content.decode()
    assert "only 5 of 5 are left to deliver" in html
    assert f'id="qty_{pump_line_.pk}_error"' in html  # next to the line
    assert f'id="qty_{pump_line_.pk}" value="9"' in html and 'value="西濃運輸"' in html
    assert not Delivery.objects.exists()
    assert set(OrderLine.objects.values_list("delivered_quantity", flat=True)) == {0}
    answer = as_kam.post(url, _post_data(order, ["x", 1]))
    assert answer.status_code == 422 and not Delivery.objects.exists()
    answer = as_kam.post(url, _post_data(order, [0, 0]))
    assert answer.status_code == 422 and "Add at least one line" in answer.content.decode()


def test_a_double_submit_makes_one_delivery(as_kam, order):
    url = reverse("orders:delivery_create", args=[order.pk])
    first = as_kam.post(url, _post_data(order, [1, 1], key="same"))
    second = as_kam.post(url, _post_data(order, [1, 1], key="same"))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Delivery.objects.count() == 1
    assert _lines(order)[0].delivered_quantity == 1


def test_mark_delivered(as_kam, kam, order):
    delivery = delivery_create(
        actor=kam, order=order, shipped_on=timezone.localdate(),
        lines=[{"order_line": _lines(order)[0].pk, "quantity": 1}],
    )  # fmt: skip
    url = reverse("orders:delivery_delivered", args=[delivery.pk])
    day = timezone.localdate().isoformat()
    answer = as_kam.post(url, {"version": delivery.version, "delivered_on": day})
    assert answer.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.delivered_on.isoformat() == day
    again = as_kam.post(url, {"version": delivery.version, "delivered_on": day})
    assert again.status_code == 409 and "already delivered" in again.content.decode()


def test_the_slip_pdf_and_its_mail(
    as_kam, kam, account, order, mailoutbox, django_capture_on_commit_callbacks
):
    delivery = delivery_create(
        actor=kam, order=order, shipped_on=timezone.localdate(),
        lines=[{"order_line": _lines(order)[0].pk, "quantity": 1}],
    )  # fmt: skip
    pdf = as_kam.get(reverse("orders:delivery_pdf", args=[delivery.pk]) + "?lang=en")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    url = reverse("orders:delivery_email", args=[delivery.pk])
    page = as_kam.get(url)
    assert page.status_code == 200 and "納品書" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = as_kam.post(url, {"lang": "ja", "subject": "納品書のご送付", "body": "本文"})
    assert answer.status_code == 302
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["yamada@yamada.example"]
    assert mail.attachments[0][0] == f"納品書_{delivery.number}.pdf"
    assert Interaction.objects.filter(account=account, subject="納品書のご送付").exists()
    assert AuditEvent.objects.filter(
        action="orders.delivery.sent", scope=f"account:{account.pk}"
    ).exists()


def test_no_mail_without_a_contact(as_kam, kam, account, pump, mailoutbox):
    made = order_create(actor=kam, account=account, lines=[line(pump, 1)])
    made = order_confirm(actor=kam, order=made)
    delivery = delivery_create(
        actor=kam, order=made, shipped_on=timezone.localdate(),
        lines=[{"order_line": made.lines.get().pk, "quantity": 1}],
    )  # fmt: skip
    answer = as_kam.post(
        reverse("orders:delivery_email", args=[delivery.pk]), {"subject": "s", "body": "b"}
    )
    assert answer.status_code == 422 and "no contact person" in answer.content.decode()
    assert not mailoutbox


def test_visibility_and_support_reads_only(client, kam, west_am, support, order):
    delivery = delivery_create(
        actor=kam, order=order, shipped_on=timezone.localdate(),
        lines=[{"order_line": _lines(order)[0].pk, "quantity": 1}],
    )  # fmt: skip
    detail = reverse("orders:delivery_detail", args=[delivery.pk])
    client.login(username=west_am.username, password=PASSWORD)
    assert client.get(detail).status_code == 404
    assert client.get(reverse("orders:delivery_pdf", args=[delivery.pk])).status_code == 404
    assert client.get(reverse("orders:delivery_create", args=[order.pk])).status_code == 404
    client.login(username=support.username, password=PASSWORD)
    page = client.get(detail)
    assert page.status_code == 200 and "Mark delivered" not in page.content.decode()
    assert client.get(reverse("orders:delivery_pdf", args=[delivery.pk])).status_code == 200
    create = reverse("orders:delivery_create", args=[order.pk])
    assert client.post(create, _post_data(order, [1, 0], key="s")).status_code == 403
    assert client.post(reverse("orders:delivery_delivered", args=[delivery.pk])).status_code == 403
    mail = reverse("orders:delivery_email", args=[delivery.pk])
    assert client.post(mail, {"subject": "s", "body": "b"}).status_code == 403
    assert Delivery.objects.count() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SHIPPED


def test_the_api_slip_pdf(client, kam, west_am, order):
    delivery = delivery_create(
        actor=kam, order=order, shipped_on=timezone.localdate(),
        lines=[{"order_line": _lines(order)[0].pk, "quantity": 1}],
    )  # fmt: skip

    def get(user, path):
        _token, key = api_token_create(actor=user, user=user)
        return client.get(path, headers={"Authorization": f"Bearer {key}"})

    answer = get(kam, f"/api/v1/deliveries/{delivery.pk}/pdf?lang=en")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert f"DeliveryNote_{delivery.number}.pdf" in answer["Content-Disposition"]
    assert get(kam, f"/api/v1/deliveries/{delivery.pk}/pdf")["Content-Disposition"]
    assert get(west_am, f"/api/v1/deliveries/{delivery.pk}/pdf").status_code == 404
    assert get(kam, f"/api/v1/deliveries/{delivery.pk}/pdf?lang=xx").status_code in (400, 422)
