"""Merging two accounts and undoing the merge: all or nothing, audited, visible only to who may."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from tests.conftest import valid_corporate_number
from tokui.accounts.merge import account_merge, account_merge_undo, merge_default_choices
from tokui.accounts.models import Account, Contact, MergeRecord, ScreeningCheck, Tag, account_scope
from tokui.accounts.services import account_archive, account_update
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.models import AuditEvent
from tokui.core.registry import account_relations
from tokui.users.services import api_token_create

MERGED = "accounts.account.merged"
UNDONE = "accounts.account.merge_undone"


@pytest.fixture
def pair(kam, make_account, make_contact):
    survivor = make_account(
        kam,
        name="株式会社山田商事",
        name_kana="ヤマダショウジ",
        phone="03-1234-5678",
        industry="",
        notes="古いメモ",
    )
    merged = make_account(
        kam,
        name="山田商事(株)",
        name_kana="ヤマダショウジ",
        industry="卸売業",
        website="https://www.yamada.example",
        notes="展示会で名刺交換",
    )
    contact = make_contact(merged, email="taro@yamada.example")
    check = ScreeningCheck.objects.create(account=merged, kind="credit", checked_by=kam)
    return survivor, merged, contact, check


def _state(*accounts):
    """Everything a failed merge must leave as it was."""
    rows = []
    for account in accounts:
        account.refresh_from_db()
        rows.append(
            (
                account.name,
                account.industry,
                account.corporate_number,
                account.version,
                account.archived_at,
                account.merged_into_id,
                sorted(account.contacts.values_list("pk", flat=True)),
                sorted(account.screening_checks.values_list("pk", flat=True)),
            )
        )
    return rows, MergeRecord.objects.count(), AuditEvent.objects.filter(action=MERGED).count()


def test_merge_moves_records_archives_the_other_and_records_it(kam, pair):
    survivor, merged, contact, check = pair

    record = account_merge(actor=kam, survivor=survivor, merged=merged)

    survivor.refresh_from_db()
    merged.refresh_from_db()
    contact.refresh_from_db()
    check.refresh_from_db()
    assert contact.account_id == survivor.pk
    assert check.account_id == survivor.pk
    assert merged.merged_into_id == survivor.pk
    assert merged.is_archived
    # Defaults: the survivor's values, the other's where the survivor's are empty.
    assert survivor.name == "株式会社山田商事"
    assert survivor.notes == "古いメモ"
    assert survivor.industry == "卸売業"
    assert survivor.website == "https://www.yamada.example"
    assert survivor.web_domain == "yamada.example"
    assert record.survivor_before == {"industry": "", "website": ""}
    assert record.moved["accounts.contact"] == [contact.pk]
    assert record.moved["accounts.screeningcheck"] == [check.pk]
    assert record.actor == kam
    survivor_event = AuditEvent.objects.get(action=MERGED, scope=account_scope(survivor.pk))
    merged_event = AuditEvent.objects.get(action=MERGED, scope=account_scope(merged.pk))
    assert survivor_event.changes == {
        "industry": ["", "卸売業"],
        "website": ["", "https://www.yamada.example"],
    }
    assert merged_event.changes["merged_into"] == [None, "株式会社山田商事"]
    assert survivor_event.at == merged_event.at == record.at
    # The merged account's own history stays where it was.
    assert AuditEvent.objects.filter(
        scope=account_scope(merged.pk), action="accounts.contact.created"
    ).exists()


def test_chosen_values_come_from_the_merged_account(kam, pair):
    survivor, merged, _contact, _check = pair

    account_merge(
        actor=kam,
        survivor=survivor,
        merged=merged,
        choices={"notes": "merged", "industry": "survivor", "phone": "merged"},
    )

    survivor.refresh_from_db()
    assert survivor.notes == "展示会で名刺交換"
    assert survivor.industry == ""
    assert survivor.phone == ""  # the merged account has none: choosing it clears the field
    assert survivor.version == 2


def test_default_choices_prefer_the_survivor_unless_its_value_is_empty(pair):
    survivor, merged, _contact, _check = pair
    choices = merge_default_choices(survivor=survivor, merged=merged)
    assert choices["industry"] == "merged"
    assert choices["notes"] == "survivor"
    assert choices["phone"] == "survivor"


def test_the_corporate_number_moves_and_comes_back_on_undo(kam, make_account):
    number = valid_corporate_number(123456789012)
    survivor = make_account(kam, name="株式会社山田商事")
    merged = make_account(kam, name="山田商事(株)", corporate_number=number)

    record = account_merge(
        actor=kam, survivor=survivor, merged=merged, choices={"corporate_number": "merged"}
    )

    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert survivor.corporate_number == number
    assert merged.corporate_number is None

    account_merge_undo(actor=kam, merge_record=record)

    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert survivor.corporate_number is None
    assert merged.corporate_number == number


def test_a_choice_that_fails_validation_applies_nothing(kam, make_account):
    number = valid_corporate_number(223456789012)
    other = valid_corporate_number(323456789012)
    survivor = make_account(kam, name="株式会社山田商事", corporate_number=other)
    survivor = account_update(
        actor=kam, account=survivor, data={"invoice_registration_number": f"T{other}"}
    )
    merged = make_account(kam, name="山田商事(株)", corporate_number=number)
    before = _state(survivor, merged)

    # The survivor's invoice number belongs to its own corporate number, not the merged one.
    with pytest.raises(ApplicationError) as exc:
        account_merge(
            actor=kam,
            survivor=survivor,
            merged=merged,
            choices={"corporate_number": "merged", "invoice_registration_number": "survivor"},
        )

    assert "invoice_registration_number" in exc.value.errors
    assert _state(survivor, merged) == before


def test_unknown_fields_or_sides_are_refused(kam, pair):
    survivor, merged, _contact, _check = pair
    before = _state(survivor, merged)
    with pytest.raises(ApplicationError) as exc:
        account_merge(
            actor=kam,
            survivor=survivor,
            merged=merged,
            choices={"version": "merged", "name": "both"},
        )
    assert exc.value.status == 422
    assert set(exc.value.errors) == {"version", "name"}
    assert _state(survivor, merged) == before


def test_an_account_cannot_be_merged_into_itself(kam, pair):
    survivor, merged, _contact, _check = pair
    before = _state(survivor, merged)
    with pytest.raises(ApplicationError, match="itself"):
        account_merge(actor=kam, survivor=survivor, merged=survivor)
    assert _state(survivor, merged) == before


def test_archived_or_merged_accounts_cannot_take_part(kam, pair, make_account):
    survivor, merged, _contact, _check = pair
    third = make_account(kam, name="株式会社第三")
    account_archive(actor=kam, account=third)
    before = _state(survivor, merged, third)
    with pytest.raises(ApplicationError, match="archived") as exc:
        account_merge(actor=kam, survivor=third, merged=merged)
    assert exc.value.status == 409
    assert _state(survivor, merged, third) == before

    account_merge(actor=kam, survivor=survivor, merged=merged)
    fourth = make_account(kam, name="株式会社第四")
    with pytest.raises(ApplicationError, match="already been merged"):
        account_merge(actor=kam, survivor=merged, merged=fourth)
    with pytest.raises(ApplicationError, match="already been merged"):
        account_merge(actor=kam, survivor=fourth, merged=merged)
    assert MergeRecord.objects.count() == 1


def test_an_account_the_actor_cannot_see_is_not_found(kam, west_am, pair, make_account):
    survivor, merged, _contact, _check = pair
    theirs = make_account(west_am, name="株式会社西日本")
    before = _state(survivor, merged, theirs)
    with pytest.raises(NotFound):
        account_merge(actor=kam, survivor=theirs, merged=merged)
    with pytest.raises(NotFound):
        account_merge(actor=kam, survivor=survivor, merged=theirs)
    assert _state(survivor, merged, theirs) == before


def test_support_may_not_merge(support, pair):
    survivor, merged, _contact, _check = pair
    before = _state(survivor, merged)
    with pytest.raises(PermissionDenied):
        account_merge(actor=support, survivor=survivor, merged=merged)
    assert _state(survivor, merged) == before


def test_a_change_since_the_comparison_refuses_the_merge(kam, pair):
    survivor, merged, _contact, _check = pair
    seen = merged.version
    account_update(actor=kam, account=merged, data={"industry": "製造業"})
    before = _state(survivor, merged)
    with pytest.raises(Conflict):
        account_merge(
            actor=kam,
            survivor=survivor,
            merged=merged,
            survivor_version=survivor.version,
            merged_version=seen,
        )
    assert _state(survivor, merged) == before


def test_tags_are_combined_and_split_again_on_undo(kam, pair):
    survivor, merged, _contact, _check = pair
    shared, extra = Tag.objects.create(name="展示会2026"), Tag.objects.create(name="海外展開")
    survivor.tags.add(shared)
    merged.tags.add(shared, extra)

    record = account_merge(actor=kam, survivor=survivor, merged=merged)
    assert set(survivor.tags.all()) == {shared, extra}
    assert record.moved["accounts.account_tags"] == [extra.pk]

    account_merge_undo(actor=kam, merge_record=record)
    assert set(survivor.tags.all()) == {shared}
    assert set(merged.tags.all()) == {shared, extra}


def test_undo_puts_everything_back(kam, pair, make_contact):
    survivor, merged, contact, check = pair
    record = account_merge(actor=kam, survivor=survivor, merged=merged, choices={"notes": "merged"})
    survivor.refresh_from_db()
    later = make_contact(survivor, family_name="鈴木", email="suzuki@yamada.example")

    account_merge_undo(actor=kam, merge_record=record)

    survivor.refresh_from_db()
    merged.refresh_from_db()
    contact.refresh_from_db()
    check.refresh_from_db()
    later.refresh_from_db()
    assert (survivor.industry, survivor.website, survivor.notes) == ("", "", "古いメモ")
    assert survivor.web_domain == ""
    assert contact.account_id == merged.pk
    assert check.account_id == merged.pk
    assert later.account_id == survivor.pk  # added after the merge: stays
    assert merged.merged_into_id is None
    assert not merged.is_archived
    record.refresh_from_db()
    assert record.undone_at is not None
    undone = AuditEvent.objects.filter(action=UNDONE)
    assert {e.scope for e in undone} == {account_scope(survivor.pk), account_scope(merged.pk)}
    assert undone.get(scope=account_scope(survivor.pk)).changes["notes"] == [
        "展示会で名刺交換",
        "古いメモ",
    ]


def test_undo_is_refused_twice_after_30_days_and_after_a_later_merge(kam, pair, make_account):
    survivor, merged, _contact, _check = pair
    record = account_merge(actor=kam, survivor=survivor, merged=merged)
    account_merge_undo(actor=kam, merge_record=record)
    with pytest.raises(ApplicationError, match="already undone"):
        account_merge_undo(actor=kam, merge_record=record)

    record = account_merge(actor=kam, survivor=survivor, merged=merged)
    MergeRecord.objects.filter(pk=record.pk).update(at=timezone.now() - timedelta(days=31))
    with pytest.raises(ApplicationError, match="30 days"):
        account_merge_undo(actor=kam, merge_record=record)
    merged.refresh_from_db()
    assert merged.merged_into_id == survivor.pk

    first = make_account(kam, name="株式会社一号")
    second = make_account(kam, name="株式会社二号")
    third = make_account(kam, name="株式会社三号")
    earlier = account_merge(actor=kam, survivor=second, merged=first)
    account_merge(actor=kam, survivor=third, merged=second)
    before = _state(first, second, third)
    with pytest.raises(ApplicationError, match="later merge") as exc:
        account_merge_undo(actor=kam, merge_record=earlier)
    assert exc.value.status == 409
    assert _state(first, second, third) == before


def test_a_chain_of_merges_points_at_the_last_survivor_and_unwinds(kam, make_account):
    first = make_account(kam, name="株式会社一号")
    second = make_account(kam, name="株式会社二号")
    third = make_account(kam, name="株式会社三号")
    account_merge(actor=kam, survivor=second, merged=first)
    last = account_merge(actor=kam, survivor=third, merged=second)
    first.refresh_from_db()
    assert first.merged_into_id == third.pk

    account_merge_undo(actor=kam, merge_record=last)

    first.refresh_from_db()
    assert first.merged_into_id == second.pk


def test_undo_needs_both_accounts_visible_and_an_editor(kam, west_am, support, pair):
    survivor, merged, _contact, _check = pair
    record = account_merge(actor=kam, survivor=survivor, merged=merged)
    with pytest.raises(NotFound):
        account_merge_undo(actor=west_am, merge_record=record)
    with pytest.raises(PermissionDenied):
        account_merge_undo(actor=support, merge_record=record)
    record.refresh_from_db()
    assert record.undone_at is None


def test_records_of_a_later_app_move_through_the_registry(kam, pair):
    survivor, merged, _contact, _check = pair
    assert ("accounts.Contact", "account") in account_relations
    account_relations.unregister("accounts.ScreeningCheck", "account")
    try:
        record = account_merge(actor=kam, survivor=survivor, merged=merged)
    finally:
        account_relations.register("accounts.ScreeningCheck", "account")
    assert "accounts.screeningcheck" not in record.moved
    assert merged.screening_checks.count() == 1  # not registered: left where it was


@pytest.mark.django_db(transaction=True)
def test_concurrent_merges_of_one_account_let_exactly_one_win(kam, make_account):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        "file:memorydb"
    ):
        pytest.skip("Threads need a database file or a server; in-memory SQLite shares one.")
    merged = make_account(kam, name="山田商事(株)")
    survivors = [make_account(kam, name="株式会社山田商事"), make_account(kam, name="山田商事")]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(survivor: Account) -> None:
        try:
            barrier.wait()
            account_merge(actor=kam, survivor=survivor, merged=merged)
            outcomes.append("merged")
        except ApplicationError as exc:
            outcomes.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(s,)) for s in survivors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes, key=len)[0] == "merged"
    assert outcomes.count("merged") == 1
    assert any("already been merged" in o for o in outcomes)
    assert MergeRecord.objects.count() == 1
    merged.refresh_from_db()
    assert merged.merged_into_id in {s.pk for s in survivors}


# Pages ------------------------------------------------------------------------------------


def test_merge_screen_shows_both_sides_and_merges(client, kam, pair):
    survivor, merged, contact, _check = pair
    client.force_login(kam)
    url = reverse("accounts:merge", args=[merged.pk, survivor.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert "株式会社山田商事" in page.text and "山田商事(株)" in page.text
    assert 'name="choice_industry" value="merged" checked' in page.text
    assert "1 contact" in page.text or "contacts" in page.text

    response = client.post(
        url,
        {
            "survivor_version": survivor.version,
            "merged_version": merged.version,
            "choice_notes": "merged",
            "choice_industry": "merged",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:detail", args=[survivor.pk])
    survivor.refresh_from_db()
    assert survivor.notes == "展示会で名刺交換"
    contact.refresh_from_db()
    assert contact.account_id == survivor.pk

    merged_page = client.get(reverse("accounts:detail", args=[merged.pk]))
    assert merged_page.status_code == 200
    assert "merged into" in merged_page.text
    assert reverse("accounts:detail", args=[survivor.pk]) in merged_page.text
    history = client.get(reverse("accounts:detail", args=[survivor.pk]))
    assert "Accounts merged" in history.text
    event = AuditEvent.objects.get(action=MERGED, scope=account_scope(survivor.pk))
    assert reverse("accounts:merge_event", args=[event.pk]) in history.text


def test_merge_screen_errors_keep_everything(client, kam, pair):
    survivor, merged, _contact, _check = pair
    client.force_login(kam)
    url = reverse("accounts:merge", args=[merged.pk, survivor.pk])
    before = _state(survivor, merged)
    response = client.post(url, {"survivor_version": 1, "merged_version": 99})
    assert response.status_code == 409
    assert "Nothing was merged" in response.text
    assert _state(survivor, merged) == before
    same = client.post(reverse("accounts:merge", args=[survivor.pk, survivor.pk]))
    assert same.status_code == 422
    assert "itself" in same.text


def test_merge_screen_permissions(client, kam, support, west_am, pair, make_account):
    survivor, merged, _contact, _check = pair
    url = reverse("accounts:merge", args=[merged.pk, survivor.pk])
    client.force_login(support)
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 403
    client.force_login(west_am)
    assert client.get(url).status_code == 404
    assert client.post(url, {}).status_code == 404
    theirs = make_account(west_am, name="株式会社西日本")
    client.force_login(kam)
    assert client.post(reverse("accounts:merge", args=[merged.pk, theirs.pk])).status_code == 404
    assert MergeRecord.objects.count() == 0


def test_history_offers_undo_and_undo_works(client, kam, pair):
    survivor, merged, contact, _check = pair
    record = account_merge(actor=kam, survivor=survivor, merged=merged)
    event = AuditEvent.objects.get(action=MERGED, scope=account_scope(merged.pk))
    client.force_login(kam)

    fragment = client.get(
        reverse("accounts:merge_event", args=[event.pk]), headers={"HX-Request": "true"}
    )
    assert "Undo merge" in fragment.text
    assert reverse("accounts:merge_undo", args=[record.pk]) in fragment.text
    plain = client.get(reverse("accounts:merge_event", args=[event.pk]))
    assert plain["Location"] == reverse("accounts:merge_detail", args=[record.pk])
    detail = client.get(reverse("accounts:merge_detail", args=[record.pk]))
    assert detail.status_code == 200 and "卸売業" in detail.text

    response = client.post(reverse("accounts:merge_undo", args=[record.pk]))
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.account_id == merged.pk
    again = client.post(reverse("accounts:merge_undo", args=[record.pk]), follow=True)
    assert "already undone" in again.text
    fragment = client.get(
        reverse("accounts:merge_event", args=[event.pk]), headers={"HX-Request": "true"}
    )
    assert "Undo merge" not in fragment.text and "Undone on" in fragment.text


def test_merge_pages_hide_merges_from_those_who_cannot_see_both(client, kam, west_am, pair):
    survivor, merged, _contact, _check = pair
    record = account_merge(actor=kam, survivor=survivor, merged=merged)
    event = AuditEvent.objects.get(action=MERGED, scope=account_scope(survivor.pk))
    client.force_login(west_am)
    assert client.get(reverse("accounts:merge_detail", args=[record.pk])).status_code == 404
    assert client.get(reverse("accounts:merge_event", args=[event.pk])).status_code == 404
    assert client.post(reverse("accounts:merge_undo", args=[record.pk])).status_code == 404


# API --------------------------------------------------------------------------------------


def _api(client, user):
    _token, key = api_token_create(actor=user, user=user)
    headers = {"Authorization": f"Bearer {key}"}

    def post(path, body=None):
        return client.post(
            f"/api/v1{path}",
            json.dumps(body or {}),
            content_type="application/json",
            headers=headers,
        )

    return post


def test_api_merges_and_undoes(client, kam, pair):
    survivor, merged, contact, _check = pair
    post = _api(client, kam)

    response = post(
        f"/accounts/{merged.pk}/merge", {"into": survivor.pk, "choices": {"notes": "merged"}}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["survivor"] == {"id": survivor.pk, "name": "株式会社山田商事"}
    assert body["merged"]["id"] == merged.pk
    assert body["moved"]["accounts.contact"] == 1
    assert body["undone_at"] is None
    contact.refresh_from_db()
    assert contact.account_id == survivor.pk

    undone = post(f"/merges/{body['id']}/undo")
    assert undone.status_code == 200
    assert undone.json()["undone_at"]
    again = post(f"/merges/{body['id']}/undo")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


def test_api_merge_errors(client, kam, west_am, support, pair, make_account):
    survivor, merged, _contact, _check = pair
    theirs = make_account(west_am, name="株式会社西日本")
    post = _api(client, kam)
    before = _state(survivor, merged)

    assert post(f"/accounts/{merged.pk}/merge", {"into": theirs.pk}).status_code == 404
    assert post(f"/accounts/{theirs.pk}/merge", {"into": survivor.pk}).status_code == 404
    itself = post(f"/accounts/{merged.pk}/merge", {"into": merged.pk})
    assert itself.status_code == 422
    bad = post(f"/accounts/{merged.pk}/merge", {"into": survivor.pk, "choices": {"name": "x"}})
    assert bad.status_code == 422
    unknown = post(
        f"/accounts/{merged.pk}/merge", {"into": survivor.pk, "choices": {"owner_id": "merged"}}
    )
    assert unknown.status_code == 422
    assert post(f"/accounts/{merged.pk}/merge", {"into": survivor.pk, "x": 1}).status_code == 422
    assert post("/merges/999999/undo").status_code == 404
    forbidden = _api(client, support)(f"/accounts/{merged.pk}/merge", {"into": survivor.pk})
    assert forbidden.status_code == 403
    assert _state(survivor, merged) == before

    archived = make_account(kam, name="株式会社古い")
    account_archive(actor=kam, account=archived)
    assert post(f"/accounts/{merged.pk}/merge", {"into": archived.pk}).status_code == 409
    assert Contact.objects.filter(account=merged).count() == 1
