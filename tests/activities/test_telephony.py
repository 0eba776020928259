"""POST /api/v1/telephony/calls: call events from a phone system."""

import json

import pytest

from tokui.activities.constants import CallOutcome, InteractionKind, InteractionSource
from tokui.activities.models import Interaction
from tokui.activities.telephony import phone_e164
from tokui.users.constants import Role
from tokui.users.services import api_token_create

URL = "/api/v1/telephony/calls"


@pytest.fixture
def phone_system(make_user):
    return make_user("pbx", Role.SUPPORT)


@pytest.fixture
def headers(phone_system):
    token = api_token_create(actor=phone_system, user=phone_system)[1]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def yamada(kam, make_account, make_contact):
    account = make_account(kam, phone="03-1111-2222")
    contact = make_contact(account, phone="03-1234-5678", mobile="090-1234-5678")
    return account, contact


def post(client, headers, **body):
    data = {
        "call_id": "c-1",
        "direction": "in",
        "from": "03-1234-5678",
        "to": "03-9999-0000",
        "started_at": "2026-11-26T10:00:00+09:00",
        **body,
    }
    return client.post(URL, json.dumps(data), content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    "number",
    ["03-1234-5678", "+81312345678", "0312345678", "０３（１２３４）５６７８", "+81 3 1234 5678"],
)
def test_any_number_format_matches_the_contact(client, headers, yamada, kam, number):
    account, contact = yamada
    response = post(
        client, headers, **{"from": number}, duration_seconds=95, answered=True, user="kam"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "created" and body["account"] == account.pk
    assert body["contacts"] == [contact.pk] and body["number"] == "+81312345678"
    call = Interaction.objects.get()
    assert call.kind == InteractionKind.CALL and call.source == InteractionSource.TELEPHONY
    assert call.direction == "in" and call.duration_seconds == 95
    assert call.outcome == CallOutcome.REACHED and call.external_id == "c-1"
    assert call.author == kam and list(call.participants.all()) == [kam]


def test_same_call_twice_is_one_interaction(client, headers, yamada):
    first = post(client, headers)
    second = post(client, headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["interaction"] == second.json()["interaction"]
    assert second.json()["status"] == "existing"
    assert Interaction.objects.count() == 1


def test_outgoing_call_matches_the_callee_and_mobile(client, headers, yamada):
    _account, contact = yamada
    response = post(
        client,
        headers,
        direction="out",
        **{"from": "03-9999-0000"},
        to="09012345678",
        answered=False,
    )
    assert response.status_code == 201
    assert response.json()["contacts"] == [contact.pk]
    assert Interaction.objects.get().outcome == CallOutcome.NO_ANSWER


def test_account_phone_when_no_contact(client, headers, yamada):
    account, _contact = yamada
    response = post(client, headers, **{"from": "0311112222"})
    assert response.status_code == 201
    assert response.json()["account"] == account.pk and response.json()["contacts"] == []


@pytest.mark.parametrize("number", ["03-5555-6666", "anonymous", "非通知", "", "12"])
def test_unknown_number_is_202_and_stores_nothing(client, headers, yamada, number):
    response = post(client, headers, **{"from": number})
    assert response.status_code == 202
    assert response.json()["status"] == "unmatched" and response.json()["interaction"] is None
    assert not Interaction.objects.exists()


def test_number_the_service_user_may_not_see_is_unmatched(client, west_am, yamada):
    token = api_token_create(actor=west_am, user=west_am)[1]
    response = post(client, {"Authorization": f"Bearer {token}"})
    assert response.status_code == 202
    assert not Interaction.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"direction": "sideways"},
        {"duration_seconds": -1},
        {"duration_seconds": 90000},
        {"started_at": "yesterday"},
        {"started_at": "2026-02-30T10:00:00+09:00"},
        {"started_at": 0},
        {"call_id": ""},
        {"user": "nobody"},
        {"unexpected": 1},
        {"answered": "yes"},
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(client, headers, yamada, body):
    response = post(client, headers, **body)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "invalid"
    assert not Interaction.objects.exists()


def test_requires_a_token(client, yamada):
    assert post(client, {}).status_code == 401


def test_phone_e164():
    assert phone_e164("03-1234-5678") == "+81312345678"
    assert phone_e164("ｐｂｘ") == ""
    assert phone_e164("1") == ""
