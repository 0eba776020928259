"""/api/v1/deals, /stages and white space; a concurrent-move race on PostgreSQL."""

import json
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tokui.accounts.constants import AccountKind
from tokui.accounts.models import Account, Contact
from tokui.catalog.models import Product
from tokui.core.exceptions import ApplicationError
from tokui.core.models import AuditEvent
from tokui.pipeline.models import Deal, DealStageChange
from tokui.pipeline.services import deal_create, deal_move_stage
from tokui.users.models import User
from tokui.users.services import api_token_create


class Api:
    def __init__(self, user: User) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {api_token_create(actor=user, user=user)[1]}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def send(self, method: str, path: str, body: Any) -> Any:
        call = getattr(self.client, method)
        return call(
            f"/api/v1{path}", json.dumps(body), content_type="application/json",
            headers=self.headers,
        )  # fmt: skip


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    return body["error"]


@pytest.mark.django_db
def test_open_list_get_and_patch_a_deal(kam: User, customer: Account, west_am: User) -> None:
    api = Api(kam)
    created = api.send(
        "post",
        "/deals",
        {"account": customer.pk, "title": "搬送ライン更新", "value": "2500000",
         "likelihood": "B", "expected_close": "2030-03-31", "source": "exhibition"},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    deal = created.json()
    assert deal["stage"] == "first_contact" and deal["owner"] == "kam"
    assert Decimal(deal["value"]) == Decimal(2_500_000)

    listed = api.get("/deals", open="true", account=customer.pk).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == deal["id"]

    patched = api.send(
        "patch", f"/deals/{deal['id']}", {"likelihood": "A", "version": deal["version"]}
    )
    assert patched.status_code == 200 and patched.json()["likelihood"] == "A"
    stale = api.send("patch", f"/deals/{deal['id']}", {"title": "古い", "version": deal["version"]})
    assert _error(stale, 409)["code"] == "conflict"
    assert Deal.objects.get().title == "搬送ライン更新"

    assert _error(Api(west_am).get(f"/deals/{deal['id']}"), 404)["code"] == "not_found"
    bad = api.send("post", "/deals", {"account": customer.pk, "title": "x", "likelihood": "Z"})
    assert _error(bad, 422)["fields"]


@pytest.mark.django_db
def test_a_playbook_refusal_is_a_409_listing_the_missing_steps_by_stage(
    kam: User, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal()
    api = Api(kam)

    refused = api.send(
        "post", f"/deals/{deal.pk}/stage", {"stage": "meeting", "version": deal.version}
    )

    error = _error(refused, 409)
    assert error["code"] == "playbook_refused"
    assert {(m["stage"], m["text"]) for m in error["missing"]} == {
        ("first_contact", "Contact person identified"),
        ("appointment", "Appointment booked in the calendar"),
    }
    assert Deal.objects.get().stage.key == "first_contact"
    playbook = api.get(f"/deals/{deal.pk}/playbook").json()
    assert playbook["next_stage"] == "appointment"
    assert [m["text"] for m in playbook["missing_for_next"]] == ["Contact person identified"]


@pytest.mark.django_db
def test_lines_needs_objections_steps_and_moves_through_the_api(
    kam: User,
    make_deal: Callable[..., Deal],
    make_product: Callable[..., Product],
    make_contact: Callable[..., Contact],
    make_account: Callable[..., Account],
    customer: Account,
) -> None:
    pump = make_product(list_price=Decimal(80_000))
    contact = make_contact(customer, family_name="田中")
    deal = make_deal(contact=contact.pk)
    api = Api(kam)

    lines = api.send(
        "put", f"/deals/{deal.pk}/lines", {"lines": [{"product": pump.pk, "quantity": 3}]}
    )
    assert lines.status_code == 200, lines.content
    assert Decimal(lines.json()["value"]) == Decimal(240_000)
    bad = api.send(
        "put", f"/deals/{deal.pk}/lines", {"lines": [{"product": 999999, "quantity": 1}]}
    )
    assert "lines.1" in _error(bad, 422)["fields"]

    assert (
        api.send("post", f"/deals/{deal.pk}/needs", {"text": "騒音を下げたい"}).status_code == 201
    )
    assert api.send("post", f"/deals/{deal.pk}/objections", {"text": "納期"}).status_code == 201
    manual = next(s for s in api.get(f"/deals/{deal.pk}/playbook").json()["steps"]
                  if s["requirement"] == "manual")  # fmt: skip
    ticked = api.send("post", f"/deals/{deal.pk}/steps/{manual['id']}", {"done": True})
    assert ticked.status_code == 200
    assert next(s for s in ticked.json()["steps"] if s["id"] == manual["id"])["met"]

    moved = api.send("post", f"/deals/{deal.pk}/stage", {"stage": "appointment"})
    assert moved.status_code == 200 and moved.json()["stage"] == "appointment"
    rival = make_account(kam, name="ライバル工業株式会社", kind=AccountKind.COMPETITOR)
    no_reason = api.send("post", f"/deals/{deal.pk}/stage", {"stage": "lost"})
    assert "lost_reason" in _error(no_reason, 422)["fields"]
    lost = api.send(
        "post", f"/deals/{deal.pk}/stage",
        {"stage": "lost", "lost_reason": "competitor", "lost_to": rival.pk},
    )  # fmt: skip
    assert lost.status_code == 200 and lost.json()["lost_to"] == rival.pk


@pytest.mark.django_db
def test_stages_and_white_space(
    kam: User, customer: Account, west_am: User, make_account: Callable[..., Account]
) -> None:
    api = Api(kam)
    stages = api.get("/stages").json()
    assert [s["key"] for s in stages][:2] == ["first_contact", "appointment"]
    assert stages[0]["steps"][0]["requirement"] == "contact"
    space = api.get(f"/accounts/{customer.pk}/white-space")
    assert space.status_code == 200 and set(space.json()) == {
        "bought_lines",
        "open_lines",
        "suggestions",
    }
    hidden = make_account(west_am, name="西の会社株式会社")
    assert api.get(f"/accounts/{hidden.pk}/white-space").status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs two real connections (PostgreSQL)"
)
def test_two_concurrent_moves_of_one_deal_with_the_same_version_one_wins(
    kam: User, customer: Account, make_contact: Callable[..., Contact]
) -> None:
    contact = make_contact(customer, family_name="鈴木")
    deal = deal_create(
        actor=kam, account=customer, data={"title": "同時移動", "contact": contact.pk}
    )
    version = deal.version
    barrier = threading.Barrier(2)
    outcomes: dict[str, int] = {}

    def move(target: str) -> None:
        try:
            barrier.wait()
            deal_move_stage(
                actor=kam, deal=deal.pk, stage=target, version=version, lost_reason="price"
            )
            outcomes[target] = 200
        except ApplicationError as exc:
            outcomes[target] = exc.status
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(t,)) for t in ("appointment", "lost")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == [200, 409]
    winner = next(t for t, status in outcomes.items() if status == 200)
    deal.refresh_from_db()
    assert deal.stage.key == winner and deal.version == version + 1
    # History intact: the opening and exactly one move, each audited once.
    assert DealStageChange.objects.filter(deal_id=deal.pk).count() == 2
    assert AuditEvent.objects.filter(action="pipeline.deal.stage_changed").count() == 1
