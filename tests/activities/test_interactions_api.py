"""/api/v1/interactions and /api/v1/accounts/{id}/timeline: the same rules as the pages."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tokui.accounts.services import account_update
from tokui.activities.models import Interaction
from tokui.activities.services import interaction_create
from tokui.core.models import AuditEvent
from tokui.users.services import api_token_create


class Api:
    def __init__(self, client, user):
        key = api_token_create(actor=user, user=user)[1]
        self.client, self.headers = client, {"Authorization": f"Bearer {key}"}

    def get(self, path, params=None):
        return self.client.get(f"/api/v1{path}", params or {}, headers=self.headers)

    def send(self, method, path, body=None):
        return getattr(self.client, method)(
            f"/api/v1{path}",
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers=self.headers,
        )


@pytest.fixture
def account(kam, make_account):
    return make_account(kam, name="株式会社API商事", industry="卸売業")


@pytest.fixture
def contact(account, make_contact):
    return make_contact(account)


@pytest.fixture
def api(client, kam):
    return Api(client, kam)


def test_create_get_patch_delete(api, am, account, contact):
    created = api.send(
        "post",
        "/interactions",
        {
            "account": account.pk,
            "kind": "call",
            "direction": "out",
            "outcome": "reached",
            "duration_seconds": 180,
            "contacts": [contact.pk],
            "participants": ["am"],
            "body": "**次回**訪問",
            "occurred_at": "2025-06-02T10:30:00",
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["author"] == "kam" and body["source"] == "api"
    assert body["contacts"] == [contact.pk] and body["participants"] == ["am"]
    assert body["body_format"] == "markdown"
    # Without an offset the time is the server's zone (Asia/Tokyo): 10:30 JST = 01:30 UTC.
    assert datetime.datetime.fromisoformat(body["occurred_at"]) == datetime.datetime(
        2025, 6, 2, 1, 30, tzinfo=datetime.UTC
    )
    iid = body["id"]
    assert api.get(f"/interactions/{iid}").json()["version"] == 1
    patched = api.send("patch", f"/interactions/{iid}", {"outcome": "voicemail", "version": 1})
    assert patched.status_code == 200 and patched.json()["outcome"] == "voicemail"
    stale = api.send("patch", f"/interactions/{iid}", {"outcome": "busy", "version": 1})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    assert api.send("delete", f"/interactions/{iid}").status_code == 204
    assert api.get(f"/interactions/{iid}").status_code == 404
    assert Interaction.objects.get(pk=iid).archived_at is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "call"}, "direction"),
        ({"kind": "note", "direction": "in"}, "direction"),
        ({"kind": "note", "outcome": "reached"}, "outcome"),
        ({"kind": "meeting", "duration_seconds": 10}, "duration_seconds"),
        ({"kind": "note", "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({"kind": "note", "occurred_at": "0001-01-01T00:00:00+01:00"}, "occurred_at"),
        ({"kind": "note", "participants": ["nobody"]}, "participants"),
        ({"kind": "note", "contacts": [2**40]}, "contacts"),
        ({"kind": "note", "subject": "x" * 301}, "subject"),
        ({"kind": "note", "body": "\x00"}, "body"),
        ({"kind": "dance"}, "kind"),
        ({"kind": "note", "author": "head"}, "author"),
    ],
)
def test_bad_input_is_422_and_saves_nothing(api, account, body, field):
    response = api.send("post", "/interactions", {"account": account.pk, **body})
    assert response.status_code == 422, response.json()
    assert field in response.json()["error"]["fields"]
    assert not Interaction.objects.exists()


def test_invisible_is_404(client, kam, west_am, account):
    note = interaction_create(actor=kam, account=account, data={"kind": "note"})
    west = Api(client, west_am)
    assert west.get(f"/interactions/{note.pk}").status_code == 404
    assert west.send("patch", f"/interactions/{note.pk}", {"subject": "x"}).status_code == 404
    assert west.send("delete", f"/interactions/{note.pk}").status_code == 404
    assert west.get(f"/accounts/{account.pk}/timeline").status_code == 404
    created = west.send("post", "/interactions", {"account": account.pk, "kind": "note"})
    assert created.status_code == 422 and "account" in created.json()["error"]["fields"]
    assert west.get("/interactions").json()["count"] == 0


def test_others_may_read_but_not_change(client, kam, am, account):
    note = interaction_create(actor=kam, account=account, data={"kind": "note"})
    other = Api(client, am)
    assert other.get(f"/interactions/{note.pk}").status_code == 200
    assert other.send("patch", f"/interactions/{note.pk}", {"subject": "x"}).status_code == 403
    assert other.send("delete", f"/interactions/{note.pk}").status_code == 403


def test_list_filters(api, kam, am, account, contact, make_account):
    base = timezone.now() - datetime.timedelta(days=10)
    call = interaction_create(
        actor=kam,
        account=account,
        data={"kind": "call", "direction": "in", "contacts": [contact], "occurred_at": base},
    )
    note = interaction_create(actor=am, account=account, data={"kind": "note"})
    other = interaction_create(actor=kam, account=make_account(kam), data={"kind": "note"})

    def ids(**params):
        response = api.get("/interactions", params)
        assert response.status_code == 200, response.json()
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [other.pk, note.pk, call.pk]
    assert ids(account=account.pk) == [note.pk, call.pk]
    assert ids(contact=contact.pk) == [call.pk]
    assert ids(kind="note") == [other.pk, note.pk]
    assert ids(author="am") == [note.pk]
    since = (base + datetime.timedelta(days=1)).isoformat()
    assert call.pk not in ids(since=since)
    assert ids(until=since) == [call.pk]


def test_timeline_pages_with_cursor_and_kinds(api, kam, account):
    base = timezone.now() - datetime.timedelta(days=5)
    for n in range(7):
        interaction_create(
            actor=kam,
            account=account,
            data={"kind": "note", "occurred_at": base + datetime.timedelta(hours=n)},
        )
    account_update(actor=kam, account=account, data={"industry": "製造業"})
    first = api.get(f"/accounts/{account.pk}/timeline", {"limit": 3})
    assert first.status_code == 200
    data = first.json()
    assert data["items"][0]["type"] == "change"
    assert data["items"][0]["change"]["label"] == "Account changed"
    assert data["items"][0]["change"]["changes"]["industry"] == ["卸売業", "製造業"]
    assert data["items"][1]["change"]["action"] == "accounts.account.created"
    assert data["items"][2]["type"] == "interaction"
    assert data["items"][2]["interaction"]["kind"] == "note"
    seen = [i["id"] for i in data["items"]]
    cursor = data["next_cursor"]
    while cursor:
        page = api.get(f"/accounts/{account.pk}/timeline", {"limit": 3, "cursor": cursor}).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert (
        len(seen)
        == 7
        + AuditEvent.objects.filter(scope=f"account:{account.pk}")
        .exclude(action="activities.interaction.created")
        .count()
    )
    notes = api.get(f"/accounts/{account.pk}/timeline", {"kind": "note"}).json()
    assert {i["type"] for i in notes["items"]} == {"interaction"}
    both = api.client.get(
        f"/api/v1/accounts/{account.pk}/timeline?kind=note&kind=changes", headers=api.headers
    ).json()
    assert {i["type"] for i in both["items"]} == {"interaction", "change"}
    assert api.get(f"/accounts/{account.pk}/timeline", {"kind": "dance"}).status_code == 422
    bad = api.get(f"/accounts/{account.pk}/timeline", {"cursor": "garbage"})
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["cursor"]


def test_timeline_queries_are_constant(api, kam, account, contact):
    base = timezone.now() - datetime.timedelta(days=5)
    for n in range(45):
        interaction_create(
            actor=kam,
            account=account,
            data={
                "kind": "note",
                "occurred_at": base + datetime.timedelta(minutes=n),
                "contacts": [contact],
            },
        )
    url = f"/accounts/{account.pk}/timeline"
    cursor = api.get(url, {"kind": "note"}).json()["next_cursor"]
    with CaptureQueriesContext(connection) as q1:
        page2 = api.get(url, {"kind": "note", "cursor": cursor}).json()
    with CaptureQueriesContext(connection) as q2:
        api.get(url, {"kind": "note", "cursor": page2["next_cursor"]})
    assert len(q1.captured_queries) == len(q2.captured_queries)
