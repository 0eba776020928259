import json

import pytest
from django.core.management import call_command

from tests.conftest import valid_corporate_number
from tokui.accounts.models import Account, Contact
from tokui.core.models import AuditEvent
from tokui.users.models import ApiToken
from tokui.users.services import api_token_create, api_token_revoke


@pytest.fixture
def api(client, kam):
    _token, key = api_token_create(actor=kam, user=kam)
    return ApiClient(client, key)


class ApiClient:
    def __init__(self, client, key):
        self.client, self.headers = client, {"Authorization": f"Bearer {key}"}

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

    def delete(self, path):
        return self.client.delete(f"/api/v1{path}", headers=self.headers)


def assert_error_shape(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_without_a_token_the_api_answers_401_in_json(client, db):
    assert_error_shape(client.get("/api/v1/accounts"), 401, "unauthorized")
    response = client.get("/api/v1/accounts", headers={"Authorization": "Bearer tku_nonsense"})
    assert_error_shape(response, 401, "unauthorized")


def test_a_revoked_token_stops_working(client, kam):
    token, key = api_token_create(actor=kam, user=kam)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/accounts", headers=headers).status_code == 200
    api_token_revoke(actor=kam, token=token)
    assert client.get("/api/v1/accounts", headers=headers).status_code == 401


def test_only_the_token_hash_is_stored(kam):
    token, key = api_token_create(actor=kam, user=kam)
    assert key not in {token.key_hash, token.prefix}
    assert ApiToken.objects.filter(key_hash=ApiToken.hash_key(key)).exists()


def test_list_has_items_and_count_and_pages(api, kam, make_account):
    for i in range(7):
        make_account(kam, name=f"株式会社API{i}")
    body = api.get("/accounts", page=2, page_size=5).json()
    assert body["count"] == 7
    assert len(body["items"]) == 2
    item = body["items"][0]
    assert {"id", "corporate_number", "name", "name_kana", "kind", "tier", "owner"} <= set(item)
    assert item["owner"] == "kam"


def test_list_filters(api, kam, make_account):
    make_account(kam, name="株式会社重点", tier="key", kind="client")
    make_account(kam, name="株式会社普通")
    assert [a["name"] for a in api.get("/accounts", tier="key").json()["items"]] == ["株式会社重点"]
    assert api.get("/accounts", q="普通").json()["count"] == 1
    assert api.get("/accounts", kind="client").json()["count"] == 1


def test_invisible_accounts_are_404_and_absent_from_lists(api, west_am, make_account, make_contact):
    account = make_account(west_am, name="株式会社他チーム")
    contact = make_contact(account)
    assert api.get("/accounts", q="他チーム").json() == {"items": [], "count": 0}
    assert_error_shape(api.get(f"/accounts/{account.pk}"), 404, "not_found")
    assert_error_shape(api.patch(f"/accounts/{account.pk}", {"name": "x"}), 404, "not_found")
    assert_error_shape(api.delete(f"/accounts/{account.pk}"), 404, "not_found")
    assert_error_shape(api.get(f"/contacts/{contact.pk}"), 404, "not_found")
    assert api.get("/contacts").json()["count"] == 0
    account.refresh_from_db()
    assert account.name == "株式会社他チーム" and account.archived_at is None


def test_create_get_update_archive(api, kam):
    number = valid_corporate_number(123456789012)
    response = api.post(
        "/accounts",
        {
            "name": "株式会社エーピーアイ",
            "name_kana": "えーぴーあい",
            "corporate_number": number,
            "kind": "client",
            "phone": "03-1111-2222",
        },
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["owner"] == "kam"
    assert created["name_kana"] == "エーピーアイ"
    assert created["phone"] == "+81311112222"
    account_id = created["id"]
    assert api.get(f"/accounts/{account_id}").json()["corporate_number"] == number
    patched = api.patch(f"/accounts/{account_id}", {"tier": "key", "version": created["version"]})
    assert patched.status_code == 200
    assert patched.json()["tier"] == "key"
    assert api.delete(f"/accounts/{account_id}").status_code == 204
    assert Account.objects.get(pk=account_id).is_archived
    assert api.get("/accounts").json()["count"] == 0
    assert api.get("/accounts", archived=True).json()["count"] == 1
    assert (
        AuditEvent.objects.filter(target_type="accounts.account", target_id=str(account_id)).count()
        == 3
    )


def test_validation_errors_share_one_shape_and_change_nothing(api, kam):
    error = assert_error_shape(
        api.post("/accounts", {"name": "株式会社", "corporate_number": "1234567890123"}),
        422,
        "invalid",
    )
    assert "corporate_number" in error["fields"]
    error = assert_error_shape(api.post("/accounts", {"name": "x" * 201}), 422, "invalid")
    assert "name" in error["fields"]
    error = assert_error_shape(
        api.post("/accounts", {"name": "a", "colour": "red"}), 422, "invalid"
    )
    assert "colour" in error["fields"]
    assert_error_shape(api.post("/accounts", {"name": "a\x00b"}), 422, "invalid")
    assert_error_shape(api.post("/accounts", {"name": "a", "owner": "nobody"}), 422, "invalid")
    assert_error_shape(api.get("/accounts", page=0), 422, "invalid")
    assert_error_shape(api.get("/accounts", page_size=10_000), 422, "invalid")
    assert Account.objects.count() == 0


def test_malformed_json_is_a_clear_error(api):
    response = api.client.post(
        "/api/v1/accounts", "{not json", content_type="application/json", headers=api.headers
    )
    assert response.status_code in (400, 422)
    assert "error" in response.json()


def test_a_stale_patch_is_409(api, kam, am, make_account):
    from tokui.accounts.services import account_update

    account = make_account(kam)
    account_update(actor=am, account=account, data={"industry": "小売業"})
    error = assert_error_shape(
        api.patch(f"/accounts/{account.pk}", {"industry": "製造業", "version": 1}), 409, "conflict"
    )
    assert "while you were editing" in error["message"]


def test_a_foreign_owner_is_refused(api, kam, west_am, make_account):
    account = make_account(kam)
    error = assert_error_shape(
        api.patch(f"/accounts/{account.pk}", {"owner": "west"}), 422, "invalid"
    )
    assert "owner" in error["fields"]


def test_support_token_reads_but_cannot_write(client, support, kam, make_account):
    account = make_account(kam)
    _t, key = api_token_create(actor=support, user=support)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get(f"/api/v1/accounts/{account.pk}", headers=headers).status_code == 200
    response = client.patch(
        f"/api/v1/accounts/{account.pk}",
        '{"name": "x"}',
        content_type="application/json",
        headers=headers,
    )
    assert_error_shape(response, 403, "forbidden")


def test_contacts_crud(api, kam, make_account):
    account = make_account(kam)
    response = api.post(
        "/contacts",
        {
            "account": account.pk,
            "family_name": "鈴木",
            "given_name": "一郎",
            "email": "ichiro@example.co.jp",
            "marketing_consent": True,
        },
    )
    assert response.status_code == 201, response.content
    contact = response.json()
    assert contact["account"] == account.pk and contact["account_name"] == account.name
    assert api.get("/contacts", account=account.pk).json()["count"] == 1
    assert api.patch(f"/contacts/{contact['id']}", {"title": "課長"}).json()["title"] == "課長"
    assert api.delete(f"/contacts/{contact['id']}").status_code == 204
    assert Contact.objects.get().is_archived
    error = assert_error_shape(
        api.post("/contacts", {"account": 999999, "family_name": "x"}), 422, "invalid"
    )
    assert "account" in error["fields"]


def test_huge_ids_are_a_clear_error_not_a_crash(api):
    response = api.get(f"/accounts/{2**70}")
    assert response.status_code in (404, 422)
    assert response.json()["error"]["message"]


def test_openapi_is_served(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/accounts" in paths and "/api/v1/contacts/{contact_id}" in paths


def test_token_command_prints_only_the_token(kam, capsys):
    call_command("token", "create", "--user", "kam")
    out = capsys.readouterr().out.strip()
    assert out.startswith("tku_") and "\n" not in out
    assert ApiToken.objects.filter(key_hash=ApiToken.hash_key(out), user=kam).exists()


def test_list_query_count_does_not_grow_with_rows(api, kam, make_account):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_account(kam)
    api.get("/accounts")  # the first call also records the token's use
    with CaptureQueriesContext(connection) as small:
        api.get("/accounts")
    for _ in range(15):
        make_account(kam)
    with CaptureQueriesContext(connection) as large:
        assert api.get("/accounts").json()["count"] == 16
    assert len(large.captured_queries) == len(small.captured_queries)


def test_search_finds_accounts_and_contacts_the_caller_may_see(
    api, kam, west_am, make_account, make_contact
):
    mine = make_account(kam, name="株式会社山田商事", name_kana="ヤマダショウジ")
    make_contact(mine, family_name="田中", email="tanaka@yamada.example")
    other = make_account(west_am, name="山田工業株式会社")
    make_contact(other, family_name="山田")
    body = api.get("/search", q="やまだ").json()
    assert [a["name"] for a in body["accounts"]] == ["株式会社山田商事"]
    assert [c["family_name"] for c in body["contacts"]] == ["田中"]  # via its company's name
    assert api.get("/search", q="tanaka@").json()["contacts"][0]["email"] == "tanaka@yamada.example"
    assert_error_shape(api.get("/search", q=""), 422, "invalid")


def test_identity_fields_through_the_api(api, kam):
    created = api.post(
        "/accounts",
        {
            "name": "山田商事株式会社",
            "corporate_number": "7000012050002",
            "invoice_registration_number": "T7000012050002",
            "employees": 120,
            "rank": "A",
        },
    ).json()
    assert (created["legal_form"], created["legal_form_position"]) == ("株式会社", "after")
    assert created["invoice_registration_number"] == "T7000012050002"
    assert (created["employees"], created["rank"], created["entity_type"]) == (
        120,
        "A",
        "corporation",
    )
    error = assert_error_shape(
        api.patch(f"/accounts/{created['id']}", {"invoice_registration_number": "T8000012050001"}),
        422,
        "invalid",
    )
    assert "invoice_registration_number" in error["fields"]
    assert_error_shape(
        api.patch(f"/accounts/{created['id']}", {"employees": "120"}), 422, "invalid"
    )
    cleared = api.patch(f"/accounts/{created['id']}", {"employees": None}).json()
    assert cleared["employees"] is None


def test_contact_count_says_when_it_stopped_at_the_limit(
    api, kam, make_account, make_contact, settings
):
    settings.TOKUI_CONTACT_COUNT_LIMIT = 3
    account = make_account(kam)
    for i in range(4):
        make_contact(account, family_name=f"試験{i}")
    body = api.get("/contacts", page_size=2).json()
    assert (body["count"], body["count_exact"], len(body["items"])) == (3, False, 2)
    settings.TOKUI_CONTACT_COUNT_LIMIT = 4
    body = api.get("/contacts", page_size=2).json()
    assert (body["count"], body["count_exact"]) == (4, True)
