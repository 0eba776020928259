"""The discount-rule pages: list, form, stop; who may write."""

from decimal import Decimal

from django.urls import reverse

from tokui.pricing.models import DiscountRule
from tokui.pricing.rules import discount_rule_create


def _form(**data):
    base = {"name": "キーアカウント割引", "kind": "tier", "account_tier": "key", "percent": "3",
            "min_quantity": "1", "priority": "0"}  # fmt: skip
    return {**base, **data}


def test_a_head_adds_a_rule_through_the_form(client, head):
    client.force_login(head)
    response = client.post(reverse("pricing:rule_create"), _form())
    assert response.status_code == 302
    rule = DiscountRule.objects.get()
    assert (rule.percent, rule.account_tier) == (Decimal(3), "key")
    listing = client.get(reverse("pricing:rule_index")).content.decode()
    assert "キーアカウント割引" in listing


def test_errors_show_next_to_the_field_and_nothing_is_saved(client, head):
    client.force_login(head)
    response = client.post(reverse("pricing:rule_create"), _form(kind="volume", account_tier=""))
    assert response.status_code == 422
    assert response.context["form"].errors["min_quantity"]
    assert not DiscountRule.objects.exists()


def test_others_read_the_list_but_cannot_write(client, head, kam):
    rule = discount_rule_create(actor=head, data={"name": "販促", "kind": "volume",
                                                  "min_quantity": 10, "percent": 2})  # fmt: skip
    client.force_login(kam)
    assert client.get(reverse("pricing:rule_index")).status_code == 200
    assert client.get(reverse("pricing:rule_create")).status_code == 403
    assert client.post(reverse("pricing:rule_edit", args=[rule.pk]), _form()).status_code == 403
    assert client.post(reverse("pricing:rule_deactivate", args=[rule.pk])).status_code == 403
    rule.refresh_from_db()
    assert rule.active and rule.name == "販促"


def test_a_head_edits_and_stops_a_rule(client, head):
    rule = discount_rule_create(actor=head, data=_form_data())
    client.force_login(head)
    page = client.get(reverse("pricing:rule_edit", args=[rule.pk]))
    assert page.status_code == 200
    response = client.post(
        reverse("pricing:rule_edit", args=[rule.pk]), _form(percent="4", version="1")
    )
    assert response.status_code == 302
    stale = client.post(
        reverse("pricing:rule_edit", args=[rule.pk]), _form(percent="6", version="1")
    )
    assert stale.status_code == 422
    client.post(reverse("pricing:rule_deactivate", args=[rule.pk]))
    rule.refresh_from_db()
    assert (rule.percent, rule.active) == (Decimal(4), False)


def _form_data():
    return {"name": "キーアカウント割引", "kind": "tier", "account_tier": "key", "percent": 3}
