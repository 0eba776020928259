import pytest

from tests.conftest import valid_corporate_number
from tokui.accounts.models import Account, Contact
from tokui.accounts.services import (
    account_archive,
    account_create,
    account_restore,
    account_update,
    contact_create,
    contact_update,
)
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.models import AuditEvent


def test_create_normalises_identifiers_and_records_who_created_it(kam):
    account = account_create(
        actor=kam,
        data={
            "name": "株式会社山田商事",
            "name_kana": "ﾔﾏﾀﾞｼｮｳｼﾞ",
            "corporate_number": "７０００-０１２０-５０００２",
            "phone": "03-1234-5678",
            "postal_code": "〒100-0005",
            "website": "www.yamada.example.co.jp",
        },
    )
    account.refresh_from_db()
    assert account.name == "株式会社山田商事"  # names are never rewritten
    assert account.name_kana == "ヤマダショウジ"
    assert account.corporate_number == "7000012050002"
    assert account.phone == "+81312345678"
    assert account.postal_code == "1000005"
    assert account.website == "https://www.yamada.example.co.jp"
    assert account.owner == kam
    event = AuditEvent.objects.get(action="accounts.account.created")
    assert event.actor == kam
    assert event.target_id == str(account.pk)
    assert event.changes["name"] == [None, "株式会社山田商事"]


def test_update_records_old_and_new_values_of_changed_fields_only(kam, make_account):
    account = make_account(kam, kind="prospect", industry="製造業")
    account_update(actor=kam, account=account, data={"kind": "client", "industry": "製造業"})
    event = AuditEvent.objects.get(action="accounts.account.updated")
    assert event.changes == {"kind": ["prospect", "client"]}
    account.refresh_from_db()
    assert account.version == 2


def test_an_edit_that_changes_nothing_writes_no_event(kam, make_account):
    account = make_account(kam, industry="製造業")
    account_update(actor=kam, account=account, data={"industry": "製造業"})
    assert not AuditEvent.objects.filter(action="accounts.account.updated").exists()


def test_all_field_errors_are_reported_together_and_nothing_is_saved(kam, make_account):
    account = make_account(kam, name="株式会社元の名前")
    with pytest.raises(ApplicationError) as exc:
        account_update(
            actor=kam,
            account=account,
            data={
                "name": "新しい名前",
                "corporate_number": "1234567890123",
                "phone": "12",
                "postal_code": "abc",
                "name_kana": "漢字",
                "notes": "<script>alert(1)</script>",
            },
        )
    assert set(exc.value.errors) == {
        "corporate_number",
        "phone",
        "postal_code",
        "name_kana",
        "notes",
    }
    account.refresh_from_db()
    assert account.name == "株式会社元の名前"
    assert account.version == 1
    assert not AuditEvent.objects.filter(action="accounts.account.updated").exists()


def test_over_long_fields_are_refused_with_the_limit(kam, make_account):
    account = make_account(kam)
    with pytest.raises(ApplicationError) as exc:
        account_update(actor=kam, account=account, data={"name": "株" * 201})
    assert "at most 200" in exc.value.errors["name"][0]


def test_the_same_corporate_number_cannot_belong_to_two_accounts(kam, west_am, make_account):
    number = valid_corporate_number(10001008844)
    make_account(west_am, corporate_number=number)  # even one kam cannot see
    with pytest.raises(ApplicationError) as exc:
        account_create(actor=kam, data={"name": "別会社", "corporate_number": number})
    assert "corporate_number" in exc.value.errors
    assert Account.objects.filter(corporate_number=number).count() == 1


def test_a_stale_edit_is_refused_and_names_who_changed_it(kam, am, make_account):
    account = make_account(kam, industry="卸売業")
    loaded_version = account.version
    account_update(actor=am, account=account, data={"industry": "小売業"}, version=loaded_version)
    with pytest.raises(Conflict) as exc:
        account_update(
            actor=kam, account=account, data={"industry": "製造業"}, version=loaded_version
        )
    assert "am" in exc.value.message
    account.refresh_from_db()
    assert account.industry == "小売業"


def test_a_foreign_owner_is_refused(kam, west_am, make_account):
    account = make_account(kam)
    with pytest.raises(ApplicationError) as exc:
        account_update(actor=kam, account=account, data={"owner": west_am})
    assert "owner" in exc.value.errors
    account.refresh_from_db()
    assert account.owner == kam


def test_a_teammate_may_be_made_owner_and_the_head_may_choose_anyone(
    kam, am, head, west_am, make_account
):
    account = make_account(kam)
    account_update(actor=kam, account=account, data={"owner": am})
    account_update(actor=head, account=account, data={"owner": west_am})
    account.refresh_from_db()
    assert account.owner == west_am


def test_support_reads_but_cannot_change(kam, support, make_account):
    account = make_account(kam)
    with pytest.raises(PermissionDenied):
        account_update(actor=support, account=account, data={"name": "変更"})
    with pytest.raises(PermissionDenied):
        account_create(actor=support, data={"name": "新規"})
    assert Account.objects.count() == 1


def test_an_account_of_another_team_cannot_be_changed_or_archived(kam, west_am, make_account):
    account = make_account(west_am)
    with pytest.raises(NotFound):
        account_update(actor=kam, account=account, data={"name": "乗っ取り"})
    with pytest.raises(NotFound):
        account_archive(actor=kam, account=account)
    account.refresh_from_db()
    assert account.archived_at is None


def test_archive_and_restore_are_recorded(kam, make_account):
    account = make_account(kam)
    account_archive(actor=kam, account=account)
    account.refresh_from_db()
    assert account.is_archived
    account_restore(actor=kam, account=account)
    account.refresh_from_db()
    assert not account.is_archived
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == ["accounts.account.archived", "accounts.account.restored"]


def test_contacts_validate_email_kana_and_phones(kam, make_account):
    account = make_account(kam)
    contact = contact_create(
        actor=kam,
        account=account,
        data={
            "family_name": "山田",
            "given_name": "花子",
            "family_name_kana": "やまだ",
            "given_name_kana": "ﾊﾅｺ",
            "email": "Hanako.Yamada@Example.CO.JP",
            "mobile": "090-1234-5678",
            "marketing_consent": True,
        },
    )
    contact.refresh_from_db()
    assert contact.family_name_kana == "ヤマダ"
    assert contact.given_name_kana == "ハナコ"
    assert contact.email == "Hanako.Yamada@example.co.jp"
    assert contact.mobile == "+819012345678"
    with pytest.raises(ApplicationError) as exc:
        contact_update(actor=kam, contact=contact, data={"email": "not-an-address", "phone": "1"})
    assert set(exc.value.errors) == {"email", "phone"}
    contact.refresh_from_db()
    assert contact.email == "Hanako.Yamada@example.co.jp"


def test_contact_history_is_shown_under_its_account(kam, make_account, make_contact):
    account = make_account(kam)
    contact = make_contact(account)
    contact_update(actor=kam, contact=contact, data={"title": "部長"})
    scope_events = AuditEvent.objects.filter(scope=f"account:{account.pk}")
    assert set(scope_events.values_list("action", flat=True)) == {
        "accounts.account.created",
        "accounts.contact.created",
        "accounts.contact.updated",
    }
    assert Contact.objects.get().title == "部長"


def test_a_merged_account_cannot_be_restored_behind_the_merges_back(kam, make_account):
    from tokui.accounts.merge import account_merge

    survivor = make_account(kam, name="株式会社山田商事")
    merged = make_account(kam, name="山田商事(株)")
    account_merge(actor=kam, survivor=survivor, merged=merged, choices={})
    merged.refresh_from_db()
    with pytest.raises(ApplicationError, match="undo the merge"):
        account_restore(actor=kam, account=merged)
    merged.refresh_from_db()
    assert merged.is_archived and merged.merged_into_id == survivor.pk
