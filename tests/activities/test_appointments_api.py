"""/api/v1/appointments and /api/v1/tasks."""

import datetime
import json

import pytest
from django.utils import timezone

from tokui.activities.models import Appointment, Task
from tokui.users.services import api_token_create


def at(days: int = 1, hour: int = 10) -> str:
    day = timezone.localdate() + datetime.timedelta(days=days)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour))).isoformat()


class Api:
    def __init__(self, client, user):
        self.client = client
        self.headers = {"Authorization": f"Bearer {api_token_create(actor=user, user=user)[1]}"}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path, body):
        return self.client.post(
            f"/api/v1{path}",
            json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )

    def patch(self, path, body):
        return self.client.patch(
            f"/api/v1{path}",
            json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )


@pytest.fixture
def api(client, kam):
    return Api(client, kam)


@pytest.fixture
def account(kam, make_account):
    return make_account(kam, name="株式会社山田商事")


def test_book_conflict_reschedule_cancel(api, client, kam, am, account, make_contact):
    contact = make_contact(account)
    created = api.post(
        "/appointments",
        {
            "account": account.pk,
            "title": "定例",
            "starts_at": at(),
            "ends_at": at(hour=11),
            "contacts": [contact.pk],
            "participants": ["am"],
            "mode": "online",
            "meeting_url": "https://meet.example.com/x",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["participants"] == ["am"] and body["contacts"] == [contact.pk]
    uid = body["uid"]

    clash = api.post(
        "/appointments",
        {"account": account.pk, "title": "重複", "starts_at": at(), "ends_at": at(hour=12)},
    )
    assert clash.status_code == 409
    assert clash.json()["conflicts"][0]["appointment"] == body["id"]
    assert clash.json()["error"]["code"] == "appointment_conflict"
    forced = api.post(
        "/appointments",
        {
            "account": account.pk,
            "title": "重複",
            "starts_at": at(),
            "ends_at": at(hour=12),
            "allow_conflicts": True,
        },
    )
    assert forced.status_code == 201

    move = {"starts_at": at(days=2), "ends_at": at(days=2, hour=11), "version": body["version"]}
    unexplained = api.patch(f"/appointments/{body['id']}", move)
    assert unexplained.status_code == 422
    assert "reason" in unexplained.json()["error"]["fields"]
    moved = api.patch(f"/appointments/{body['id']}", {**move, "reason": "先方のご都合"})
    assert moved.status_code == 200, moved.content
    assert moved.json()["uid"] == uid and moved.json()["sequence"] == 1
    stale = api.patch(f"/appointments/{body['id']}", {"title": "古い", "version": 1})
    assert stale.status_code == 409

    no_reason = api.post(f"/appointments/{body['id']}/cancel", {"reason": ""})
    assert no_reason.status_code == 422
    cancelled = api.post(f"/appointments/{body['id']}/cancel", {"reason": "延期"})
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "延期"
    early = api.post(f"/appointments/{forced.json()['id']}/held", {})
    assert early.status_code == 409  # not started yet


def test_list_filters_and_visibility(client, kam, west_am, account, make_account):
    api = Api(client, kam)
    api.post(
        "/appointments",
        {"account": account.pk, "title": "A", "starts_at": at(1), "ends_at": at(1, 11)},
    )
    api.post(
        "/appointments",
        {"account": account.pk, "title": "B", "starts_at": at(5), "ends_at": at(5, 11)},
    )
    listed = api.get("/appointments", **{"from": at(0), "to": at(3)})
    assert [a["title"] for a in listed.json()["items"]] == ["A"]
    assert api.get("/appointments", user="kam").json()["count"] == 2
    assert api.get("/appointments", **{"from": "9999-12-31T00:00:00"}).status_code == 422
    west = Api(client, west_am)
    assert west.get("/appointments").json()["count"] == 0
    some_id = Appointment.objects.first().pk
    assert west.get(f"/appointments/{some_id}").status_code == 404
    refused = west.post(
        "/appointments",
        {"account": account.pk, "title": "x", "starts_at": at(), "ends_at": at(hour=11)},
    )
    assert refused.status_code == 422
    assert Appointment.objects.count() == 2


def test_bad_appointment_input_is_a_clear_error(api, account):
    for payload, field in (
        ({"starts_at": at(-3), "ends_at": at(-3, 11)}, "starts_at"),
        ({"starts_at": at(), "ends_at": at(hour=9)}, "ends_at"),
        ({"starts_at": at(), "ends_at": at(hour=11), "meeting_url": "javascript:x"}, "meeting_url"),
        ({"starts_at": at(), "ends_at": at(hour=11), "participants": ["nobody"]}, "participants"),
        ({"starts_at": at(), "ends_at": at(hour=11), "unknown": 1}, "unknown"),
    ):
        response = api.post("/appointments", {"account": account.pk, "title": "x", **payload})
        assert response.status_code == 422, (payload, response.content)
        assert field in response.json()["error"]["fields"]
    assert not Appointment.objects.exists()


def test_tasks_api(api, client, kam, am, west_am, account):
    created = api.post(
        "/tasks",
        {
            "title": "見積送付",
            "account": account.pk,
            "owner": "am",
            "due_at": at(-1),
            "priority": "high",
        },
    )
    assert created.status_code == 201, created.content
    task = created.json()
    assert task["owner"] == "am" and task["account"] == account.pk
    assert api.get("/tasks", scope="team", due="overdue").json()["count"] == 1
    assert api.get("/tasks").json()["count"] == 0  # mine only: it is am's
    assert api.get("/tasks", owner="am").json()["count"] == 1
    done = api.post(f"/tasks/{task['id']}/complete", {})
    assert done.json()["status"] == "done"
    assert api.get("/tasks", scope="team", status="done").json()["count"] == 1
    changed = api.patch(f"/tasks/{task['id']}", {"due_at": None, "version": done.json()["version"]})
    assert changed.status_code == 200 and changed.json()["due_at"] is None
    refused = api.post("/tasks", {"title": "x", "owner": "west"})
    assert refused.status_code == 422 and "owner" in refused.json()["error"]["fields"]
    west = Api(client, west_am)
    assert west.get(f"/tasks/{task['id']}").status_code == 404
    assert west.post(f"/tasks/{task['id']}/complete", {}).status_code == 404
    assert Task.objects.count() == 1
