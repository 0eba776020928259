"""Account groups (企業グループ): the parent company, its rules, the page, the API and merges."""

import itertools
import json

import pytest
from django.urls import reverse

from tokui.accounts.groups import MAX_GROUP_LEVELS
from tokui.accounts.merge import account_merge, account_merge_undo
from tokui.accounts.models import Account, account_scope
from tokui.accounts.services import account_archive, account_create, account_update
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.users.services import api_token_create


@pytest.fixture
def holding(kam, make_account):
    return make_account(
        kam, name="山田ホールディングス株式会社", name_kana="ヤマダホールディングス"
    )


def _set_parent(actor, account, parent):
    return account_update(
        actor=actor, account=account, data={"parent": parent.pk if parent else None}
    )


def _parent_errors(exc_info):
    return exc_info.value.errors.get("parent", [])


def test_setting_the_parent_is_audited_in_the_account_history(kam, holding, make_account):
    sub = make_account(kam, name="山田物流株式会社")
    _set_parent(kam, sub, holding)
    sub.refresh_from_db()
    assert sub.parent_id == holding.pk
    event = AuditEvent.objects.filter(action="accounts.account.updated").latest("id")
    assert event.scope == account_scope(sub.pk)
    assert event.changes == {"parent": [None, holding.name]}
    _set_parent(kam, sub, None)
    sub.refresh_from_db()
    assert sub.parent_id is None


def test_an_account_is_created_with_its_parent(kam, holding):
    sub = account_create(actor=kam, data={"name": "山田精機株式会社", "parent": holding.pk})
    assert sub.parent_id == holding.pk
    created = AuditEvent.objects.get(action="accounts.account.created", target_id=str(sub.pk))
    assert created.changes["parent"] == [None, holding.name]


def test_an_account_cannot_be_its_own_parent(kam, holding):
    with pytest.raises(ApplicationError) as exc:
        _set_parent(kam, holding, holding)
    assert "own parent" in _parent_errors(exc)[0]
    holding.refresh_from_db()
    assert holding.parent_id is None


@pytest.mark.parametrize("depth", [1, 3])
def test_a_loop_at_any_depth_is_refused_and_nothing_changes(kam, holding, make_account, depth):
    # holding → a1 → … → a<depth>; then holding under the lowest one would close a loop.
    above = holding
    chain = []
    for n in range(depth):
        below = make_account(kam, name=f"山田子会社{n}株式会社")
        _set_parent(kam, below, above)
        chain.append(below)
        above = below
    version = Account.objects.get(pk=holding.pk).version
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as exc:
        _set_parent(kam, holding, chain[-1])
    assert "loop" in _parent_errors(exc)[0]
    holding.refresh_from_db()
    assert (holding.parent_id, holding.version) == (None, version)
    assert AuditEvent.objects.count() == events


def test_an_archived_parent_is_refused_but_an_existing_one_does_not_block_edits(
    kam, holding, make_account
):
    sub = make_account(kam, name="山田物流株式会社")
    old = make_account(kam, name="旧山田産業株式会社")
    account_archive(actor=kam, account=old)
    with pytest.raises(ApplicationError) as exc:
        _set_parent(kam, sub, old)
    assert "archived" in _parent_errors(exc)[0]
    # A parent archived after it was chosen stays, and other fields can still change.
    _set_parent(kam, sub, holding)
    account_archive(actor=kam, account=holding)
    account_update(actor=kam, account=sub, data={"industry": "物流", "parent": holding.pk})
    sub.refresh_from_db()
    assert (sub.industry, sub.parent_id) == ("物流", holding.pk)


def test_a_group_has_at_most_five_levels(kam, make_account):
    accounts = [make_account(kam, name=f"階層{n}株式会社") for n in range(MAX_GROUP_LEVELS + 1)]
    for upper, lower in itertools.pairwise(accounts[:MAX_GROUP_LEVELS]):
        _set_parent(kam, lower, upper)
    # Five levels (0 … 4) are fine; a sixth under the lowest is not.
    with pytest.raises(ApplicationError) as exc:
        _set_parent(kam, accounts[MAX_GROUP_LEVELS], accounts[MAX_GROUP_LEVELS - 1])
    assert "at most 5 levels" in _parent_errors(exc)[0]
    # Nor may a company with subsidiaries go under a group whose depth would then pass five.
    top = make_account(kam, name="別グループ株式会社")
    with pytest.raises(ApplicationError):
        _set_parent(kam, accounts[0], top)


def test_only_an_account_one_may_see_can_be_the_parent(kam, west_am, holding, make_account):
    theirs = make_account(west_am, name="西日本商事株式会社")
    with pytest.raises(ApplicationError) as exc:
        _set_parent(kam, holding, theirs)
    assert "No such account" in _parent_errors(exc)[0]
    holding.refresh_from_db()
    assert holding.parent_id is None


def test_support_cannot_set_a_parent(support, holding, make_account, kam):
    sub = make_account(kam)
    with pytest.raises(PermissionDenied):
        _set_parent(support, sub, holding)


def test_bad_parent_values_are_clear_errors(kam, holding):
    for value in ("abc", 1.5, True):
        with pytest.raises(ApplicationError) as exc:
            account_update(actor=kam, account=holding, data={"parent": value})
        assert _parent_errors(exc)


# -- pages --------------------------------------------------------------------------------


def test_the_form_shows_a_loop_error_next_to_the_parent_field(client, kam, holding, make_account):
    sub = make_account(kam, name="山田物流株式会社")
    _set_parent(kam, sub, holding)
    client.force_login(kam)
    url = reverse("accounts:edit", args=[holding.pk])
    page = client.get(url)
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data.update(owner=kam.pk, parent=sub.pk, kind="prospect", tier="standard")
    data["entity_type"] = "corporation"
    response = client.post(url, data)
    assert response.status_code == 422
    assert "loop" in response.context["form"].errors["parent"][0]
    assert 'id="id_parent_error"' in response.content.decode()
    holding.refresh_from_db()
    assert holding.parent_id is None


def test_finding_a_parent_without_javascript_saves_nothing(client, kam, holding, make_account):
    sub = make_account(kam, name="山田物流株式会社")
    client.force_login(kam)
    url = reverse("accounts:edit", args=[sub.pk])
    response = client.post(
        url, {"name": "変えた名前", "parent_q": "ホールディングス", "parent_search": "1"}
    )
    assert response.status_code == 200
    choices = dict(response.context["form"].fields["parent"].widget.choices)
    assert holding.pk in choices
    assert sub.pk not in choices  # never itself
    assert "変えた名前" in response.content.decode()  # what was typed stays
    sub.refresh_from_db()
    assert sub.name == "山田物流株式会社"


def test_htmx_search_answers_with_the_parent_choice_only(client, kam, holding, make_account):
    sub = make_account(kam, name="山田物流株式会社")
    client.force_login(kam)
    response = client.get(
        reverse("accounts:edit", args=[sub.pk]),
        {"parent_q": "ホールディングス", "parent": ""},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="parent-choice">')
    assert holding.name in body and "<form" not in body


def test_the_account_page_shows_the_group(
    client, kam, west_am, holding, make_account, django_assert_max_num_queries
):
    middle = make_account(kam, name="山田産業株式会社")
    _set_parent(kam, middle, holding)
    subs = [make_account(kam, name=f"山田子会社{n}株式会社") for n in range(3)]
    for sub in subs:
        _set_parent(kam, sub, middle)
    hidden = make_account(west_am, name="西山田販売株式会社")
    Account.objects.filter(pk=hidden.pk).update(parent=middle)  # set by a west colleague
    client.force_login(kam)
    response = client.get(reverse("accounts:detail", args=[middle.pk]))
    group = response.context["group"]
    assert group.parent == holding and group.parent_visible and group.top is None
    assert group.subsidiaries == sorted(subs, key=lambda a: (a.sort_key, a.pk))
    assert group.hidden_subsidiaries == 1
    body = response.content.decode()
    assert reverse("accounts:detail", args=[holding.pk]) in body
    assert hidden.name not in body
    # The lowest company names the top one.
    with django_assert_max_num_queries(60):
        low = client.get(reverse("accounts:detail", args=[subs[0].pk]))
    assert low.context["group"].top == holding
    assert holding.name in low.content.decode()


# -- API ----------------------------------------------------------------------------------


@pytest.fixture
def api(client, kam):
    _token, key = api_token_create(actor=kam, user=kam)
    headers = {"Authorization": f"Bearer {key}"}

    def call(method, path, body=None):
        return getattr(client, method)(
            path, json.dumps(body) if body is not None else None,
            content_type="application/json", headers=headers,
        )  # fmt: skip

    return call


def test_the_api_sets_shows_and_clears_the_parent(api, kam, holding, make_account):
    sub = make_account(kam, name="山田物流株式会社")
    response = api("patch", f"/api/v1/accounts/{sub.pk}", {"parent": holding.pk})
    assert response.status_code == 200, response.content
    assert response.json()["parent"] == holding.pk
    assert api("get", f"/api/v1/accounts/{holding.pk}").json()["parent"] is None
    loop = api("patch", f"/api/v1/accounts/{holding.pk}", {"parent": sub.pk})
    assert loop.status_code == 422
    assert "loop" in loop.json()["error"]["fields"]["parent"][0]
    cleared = api("patch", f"/api/v1/accounts/{sub.pk}", {"parent": None})
    assert cleared.json()["parent"] is None
    created = api("post", "/api/v1/accounts", {"name": "山田精機株式会社", "parent": holding.pk})
    assert created.status_code == 201 and created.json()["parent"] == holding.pk
    missing = api("post", "/api/v1/accounts", {"name": "迷子株式会社", "parent": 10**9})
    assert missing.status_code == 422


# -- merges -------------------------------------------------------------------------------


def test_a_merge_moves_the_subsidiaries_and_an_undo_moves_them_back(kam, holding, make_account):
    twin = make_account(kam, name="山田HD株式会社")
    subs = [make_account(kam, name=f"山田子会社{n}株式会社") for n in range(2)]
    for sub in subs:
        _set_parent(kam, sub, twin)
    record = account_merge(actor=kam, survivor=holding, merged=twin)
    assert set(Account.objects.filter(parent=holding).values_list("pk", flat=True)) == {
        s.pk for s in subs
    }
    account_merge_undo(actor=kam, merge_record=record)
    assert set(Account.objects.filter(parent=twin).values_list("pk", flat=True)) == {
        s.pk for s in subs
    }


def test_a_merge_never_leaves_the_survivor_under_itself(kam, holding, make_account):
    sub = make_account(kam, name="山田物流株式会社")
    _set_parent(kam, sub, holding)
    # The subsidiary survives a merge with its own parent: it cannot stay under itself.
    record = account_merge(actor=kam, survivor=sub, merged=holding)
    sub.refresh_from_db()
    assert sub.parent_id is None
    event = AuditEvent.objects.get(action="accounts.account.merged", target_id=str(sub.pk))
    assert event.changes["parent"] == [holding.name, None]
    account_merge_undo(actor=kam, merge_record=record)
    sub.refresh_from_db()
    assert sub.parent_id == holding.pk


def test_a_merge_breaks_a_loop_through_a_moved_subsidiary(kam, holding, make_account):
    # holding → child → survivor; merging holding into survivor moves child under survivor,
    # which would close survivor → child → survivor: the survivor leaves its parent.
    child = make_account(kam, name="山田産業株式会社")
    survivor = make_account(kam, name="山田販売株式会社")
    _set_parent(kam, child, holding)
    _set_parent(kam, survivor, child)
    account_merge(actor=kam, survivor=survivor, merged=holding)
    survivor.refresh_from_db()
    child.refresh_from_db()
    assert child.parent_id == survivor.pk
    assert survivor.parent_id is None


def test_the_edit_form_takes_identifiers_as_it_shows_them(client, kam, make_account):
    # The page shows 〒 codes and numbers with hyphens: saving them unchanged must work.
    account = make_account(kam, postal_code="980-0811", phone="03-1234-5678")
    client.force_login(kam)
    url = reverse("accounts:edit", args=[account.pk])
    data = {k: v for k, v in client.get(url).context["form"].initial.items() if v is not None}
    data.update(owner=kam.pk, notes="変更")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    account.refresh_from_db()
    assert (account.postal_code, account.notes) == ("9800811", "変更")
