"""Merging accounts with agreements: moved along, or refused when two would overlap."""

import pytest

from tokui.accounts.merge import account_merge, account_merge_undo
from tokui.accounts.models import Account, MergeRecord
from tokui.core.exceptions import ApplicationError
from tokui.core.registry import account_relations
from tokui.pricing.models import Agreement
from tokui.pricing.services import agreement_create


@pytest.fixture
def pair(kam, make_account):
    return make_account(kam, name="株式会社山田商事"), make_account(kam, name="山田商事株式会社")


def _agreement(kam, account, start, end=None, name="条件"):
    return agreement_create(
        actor=kam, account=account, data={"name": name, "valid_from": start, "valid_to": end}
    )


def test_agreements_of_separate_periods_move_to_the_survivor_and_back(kam, pair):
    survivor, merged = pair
    ours = _agreement(kam, survivor, "2026-04-01", "2027-03-31", "今年度")
    theirs = _agreement(kam, merged, "2025-04-01", "2026-03-31", "昨年度")
    record = account_merge(actor=kam, survivor=survivor, merged=merged)
    theirs.refresh_from_db()
    assert theirs.account_id == survivor.pk
    assert record.moved["pricing.agreement"] == [theirs.pk]
    account_merge_undo(actor=kam, merge_record=record)
    theirs.refresh_from_db()
    ours.refresh_from_db()
    assert (theirs.account_id, ours.account_id) == (merged.pk, survivor.pk)


def test_overlapping_agreements_refuse_the_merge_before_anything_moves(kam, pair, make_contact):
    survivor, merged = pair
    contact = make_contact(merged, family_name="山田")
    _agreement(kam, survivor, "2026-04-01", None, "無期限")
    theirs = _agreement(kam, merged, "2026-10-01", "2027-03-31", "下期")
    with pytest.raises(ApplicationError) as exc:
        account_merge(actor=kam, survivor=survivor, merged=merged)
    assert exc.value.status == 409
    assert "same days" in exc.value.message and "下期" in exc.value.message
    # Nothing changed: no record, the agreement and the contact stay, the account is live.
    assert not MergeRecord.objects.exists()
    theirs.refresh_from_db()
    contact.refresh_from_db()
    assert theirs.account_id == merged.pk and contact.account_id == merged.pk
    assert Account.objects.get(pk=merged.pk).merged_into_id is None
    assert Agreement.objects.filter(account=survivor).count() == 1


def test_the_registry_runs_each_relations_merge_check(kam, pair):
    calls = []

    def check(*, survivor, merged):
        calls.append((survivor.pk, merged.pk))

    account_relations.register("accounts.Contact", "account", check=check)
    try:
        survivor, merged = pair
        account_merge(actor=kam, survivor=survivor, merged=merged)
    finally:
        account_relations.register("accounts.Contact", "account")
    assert calls == [(survivor.pk, merged.pk)]
