import pytest
from django.db import connection

from tokui.accounts.search_index import ensure_search_indexes
from tokui.accounts.selectors import account_list


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite triggers")
def test_lost_triggers_are_recreated_and_the_index_rebuilt(head, make_account):
    make_account(head, name="株式会社東洋精機", name_kana="トウヨウセイキ")
    # What a table rebuild in a later migration does: the triggers vanish.
    with connection.cursor() as cursor:
        for trigger in ("ai", "ad", "au"):
            cursor.execute(f"DROP TRIGGER accounts_account_fts_{trigger}")
    make_account(head, name="北斗電機株式会社", name_kana="ホクトデンキ")  # not indexed now
    assert not account_list(viewer=head, search="ほくとでんき").exists()
    ensure_search_indexes(connection)
    assert [a.name for a in account_list(viewer=head, search="ほくとでんき")] == [
        "北斗電機株式会社"
    ]
    make_account(head, name="富士化学株式会社", name_kana="フジカガク")
    assert account_list(viewer=head, search="ふじかがく").count() == 1


def test_search_indexes_follow_edits_and_archives(head, make_account):
    from tokui.accounts.services import account_update

    account = make_account(head, name="株式会社旧名商事", name_kana="キュウメイショウジ")
    account_update(
        actor=head,
        account=account,
        data={"name": "株式会社新名商事", "name_kana": "シンメイショウジ"},
    )
    assert not account_list(viewer=head, search="旧名").exists()
    assert not account_list(viewer=head, search="きゅうめい").exists()
    assert account_list(viewer=head, search="新名").count() == 1
    assert account_list(viewer=head, search="しんめい").count() == 1
