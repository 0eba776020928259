import json

import pytest
from django.urls import reverse

from tokui.accounts.models import Account, Tag
from tokui.accounts.segments import account_set_tags, account_tag_names, tag_list
from tokui.accounts.selectors import account_list
from tokui.accounts.services import account_archive
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.users.services import api_token_create


def _tag_events():
    return AuditEvent.objects.filter(action="accounts.account.updated", changes__has_key="tags")


def test_setting_tags_creates_them_and_records_old_and_new_lists(kam, make_account):
    account = make_account(kam)
    account_set_tags(actor=kam, account=account, names=["  展示会2026 ", "海外展開", "展示会2026"])
    account.refresh_from_db()
    assert account_tag_names(account) == ["展示会2026", "海外展開"]
    assert account.version == 2
    event = _tag_events().get()
    assert event.changes == {"tags": [[], ["展示会2026", "海外展開"]]}
    assert event.scope == f"account:{account.pk}"
    assert event.actor == kam


def test_replacing_and_clearing_tags_is_audited_each_time(kam, make_account):
    account = make_account(kam)
    account_set_tags(actor=kam, account=account, names=["既存深耕", "価格重視"])
    account_set_tags(actor=kam, account=account, names=["品質重視", "既存深耕"])
    account_set_tags(actor=kam, account=account, names=[])
    changes = [e.changes["tags"] for e in _tag_events().order_by("id")]
    assert changes == [
        [[], ["価格重視", "既存深耕"]],
        [["価格重視", "既存深耕"], ["品質重視", "既存深耕"]],
        [["品質重視", "既存深耕"], []],
    ]
    assert account_tag_names(Account.objects.get(pk=account.pk)) == []
    assert Tag.objects.filter(name="価格重視").exists()  # tags outlive their last account


def test_the_same_tags_again_write_nothing(kam, make_account):
    account = make_account(kam)
    account_set_tags(actor=kam, account=account, names=["新規開拓"])
    account_set_tags(actor=kam, account=account, names=["新規開拓 "])
    assert _tag_events().count() == 1
    account.refresh_from_db()
    assert account.version == 2


def test_an_existing_tag_is_reused_whatever_its_width_or_case(kam, make_account):
    first, second = make_account(kam), make_account(kam)
    account_set_tags(actor=kam, account=first, names=["展示会2026", "VIP"])
    account_set_tags(actor=kam, account=second, names=["展示会２０２６", "vip"])
    assert Tag.objects.count() == 2
    assert account_tag_names(second) == ["VIP", "展示会2026"]


@pytest.mark.parametrize(
    "names",
    [["長" * 51], [f"タグ{i}" for i in range(21)], ["改行\nあり"]],
    ids=["too long", "too many", "control character"],
)
def test_tag_limits_are_enforced_and_nothing_changes(kam, make_account, names):
    account = make_account(kam)
    account_set_tags(actor=kam, account=account, names=["紹介案件"])
    with pytest.raises(ApplicationError) as exc:
        account_set_tags(actor=kam, account=account, names=names)
    assert "tags" in exc.value.errors
    account.refresh_from_db()
    assert account_tag_names(account) == ["紹介案件"]
    assert account.version == 2
    assert _tag_events().count() == 1
    assert Tag.objects.count() == 1


def test_twenty_tags_of_fifty_characters_are_fine(kam, make_account):
    account = make_account(kam)
    names = [f"{i:02d}" + "あ" * 48 for i in range(20)]
    account_set_tags(actor=kam, account=account, names=names)
    assert len(account_tag_names(account)) == 20


def test_who_may_tag(kam, support, west_am, make_account):
    mine = make_account(kam)
    theirs = make_account(west_am)
    with pytest.raises(PermissionDenied):
        account_set_tags(actor=support, account=mine, names=["既存深耕"])
    with pytest.raises(NotFound):
        account_set_tags(actor=kam, account=theirs, names=["既存深耕"])
    account_archive(actor=kam, account=mine)
    with pytest.raises(ApplicationError):
        account_set_tags(actor=kam, account=mine, names=["既存深耕"])
    assert not Tag.objects.exists()
    assert not _tag_events().exists()


def test_the_list_filters_by_tag_and_offers_only_visible_tags(kam, west_am, make_account):
    tagged = make_account(kam, name="株式会社タグ付き")
    both = make_account(kam, name="株式会社二つ付き")
    make_account(kam, name="株式会社タグなし")
    west = make_account(west_am, name="株式会社西")
    account_set_tags(actor=kam, account=tagged, names=["海外展開"])
    account_set_tags(actor=kam, account=both, names=["海外展開", "展示会2026"])
    account_set_tags(actor=west_am, account=west, names=["海外展開", "西だけのタグ"])
    names = [a.name for a in account_list(viewer=kam, tag="海外展開")]
    assert sorted(names) == ["株式会社タグ付き", "株式会社二つ付き"]
    # Two matching tags do not list an account twice.
    assert account_list(viewer=kam, tag=["海外展開", "展示会2026"]).count() == 2
    assert [t.name for t in tag_list(viewer=kam)] == ["展示会2026", "海外展開"]


# Pages ---------------------------------------------------------------------------------------


@pytest.fixture
def kam_client(client, kam):
    client.force_login(kam)
    return client


def _form(**changes):
    data = {
        "name": "株式会社タグ商事",
        "kind": "prospect",
        "tier": "standard",
        "entity_type": "corporation",
    }
    data.update(changes)
    return data


def test_the_account_form_takes_tags_separated_by_either_comma(kam_client, kam):
    response = kam_client.post(
        reverse("accounts:create"),
        _form(owner=kam.pk, tags="展示会2026、海外展開, 新規開拓，紹介案件"),
    )
    assert response.status_code == 302
    account = Account.objects.get(name="株式会社タグ商事")
    assert account_tag_names(account) == ["展示会2026", "新規開拓", "海外展開", "紹介案件"]
    page = kam_client.get(reverse("accounts:detail", args=[account.pk]))
    assert 'class="badge badge-tag"' in page.text
    assert "?tag=%E6%B5%B7%E5%A4%96%E5%B1%95%E9%96%8B" in page.text  # links to the list
    edit = kam_client.get(reverse("accounts:edit", args=[account.pk]))
    assert "展示会2026, 新規開拓, 海外展開, 紹介案件" in edit.text


def test_editing_replaces_tags_with_the_other_changes(kam_client, kam, make_account):
    account = make_account(kam, name="株式会社タグ商事")
    account_set_tags(actor=kam, account=account, names=["価格重視"])
    account.refresh_from_db()
    response = kam_client.post(
        reverse("accounts:edit", args=[account.pk]),
        _form(owner=kam.pk, version=account.version, industry="製造業", tags="品質重視"),
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.industry == "製造業"
    assert account_tag_names(account) == ["品質重視"]


def test_a_bad_tag_is_shown_on_the_form_and_nothing_is_saved(kam_client, kam):
    response = kam_client.post(reverse("accounts:create"), _form(owner=kam.pk, tags="長" * 51))
    assert response.status_code == 422
    assert "at most 50 characters" in response.text
    assert not Account.objects.exists()
    assert not Tag.objects.exists()


def test_the_account_list_shows_tags_and_filters_by_them(kam_client, kam, make_account):
    tagged = make_account(kam, name="株式会社タグ付き")
    make_account(kam, name="株式会社タグなし")
    account_set_tags(actor=kam, account=tagged, names=["既存深耕"])
    response = kam_client.get(reverse("accounts:index"), {"tag": "既存深耕"})
    assert "株式会社タグ付き" in response.text
    assert "株式会社タグなし" not in response.text
    assert '<span class="badge badge-tag">既存深耕</span>' in response.text


# API -----------------------------------------------------------------------------------------


@pytest.fixture
def api_headers(kam):
    return {"Authorization": f"Bearer {api_token_create(actor=kam, user=kam)[1]}"}


def test_the_api_creates_changes_and_shows_tags(client, api_headers, kam):
    created = client.post(
        "/api/v1/accounts",
        json.dumps({"name": "株式会社API", "tags": ["展示会2026", "海外展開"]}),
        content_type="application/json",
        headers=api_headers,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["tags"] == ["展示会2026", "海外展開"]
    url = f"/api/v1/accounts/{body['id']}"
    patched = client.patch(
        url,
        json.dumps({"tags": ["品質重視"]}),
        content_type="application/json",
        headers=api_headers,
    )
    assert patched.json()["tags"] == ["品質重視"]
    kept = client.patch(
        url, json.dumps({"city": "千代田区"}), content_type="application/json", headers=api_headers
    )
    assert kept.json()["tags"] == ["品質重視"]
    cleared = client.patch(
        url, json.dumps({"tags": []}), content_type="application/json", headers=api_headers
    )
    assert cleared.json()["tags"] == []
    listed = client.get("/api/v1/accounts", headers=api_headers).json()
    assert listed["items"][0]["tags"] == []


def test_the_api_refuses_bad_tags_and_creates_nothing(client, api_headers):
    response = client.post(
        "/api/v1/accounts",
        json.dumps({"name": "株式会社API", "tags": [f"t{i}" for i in range(21)]}),
        content_type="application/json",
        headers=api_headers,
    )
    assert response.status_code == 422
    assert not Account.objects.exists()


def test_account_services_save_fields_and_tags_together_or_not_at_all(kam):
    from tokui.accounts.models import Account
    from tokui.accounts.services import account_create, account_update
    from tokui.core.exceptions import ApplicationError

    with pytest.raises(ApplicationError):
        account_create(actor=kam, data={"name": "株式会社タグ不正"}, tags=["x" * 51])
    assert not Account.objects.filter(name="株式会社タグ不正").exists()
    account = account_create(actor=kam, data={"name": "株式会社タグ"}, tags=["展示会2026"])
    with pytest.raises(ApplicationError):
        account_update(actor=kam, account=account, data={"industry": "製造業"}, tags=["y" * 51])
    account.refresh_from_db()
    assert account.industry == ""
    assert [t.name for t in account.tags.all()] == ["展示会2026"]
