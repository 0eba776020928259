import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tokui.accounts.selectors import account_counts, account_get, account_list, contact_list
from tokui.core.exceptions import NotFound


@pytest.fixture
def book(kam, am, west_am, make_account, make_contact):
    """kam and am share the East team; west_am is in the West team."""
    mine = make_account(kam, name="株式会社東洋精機", name_kana="トウヨウセイキ", tier="key")
    teammates = make_account(am, name="大和物産株式会社", name_kana="ダイワブッサン")
    other = make_account(west_am, name="北斗電機株式会社", name_kana="ホクトデンキ")
    for account in (mine, teammates, other):
        make_contact(account)
    return {"mine": mine, "team": teammates, "other": other}


def test_kam_sees_own_and_team_accounts_only(book, kam):
    names = set(account_list(viewer=kam).values_list("name", flat=True))
    assert names == {book["mine"].name, book["team"].name}
    with pytest.raises(NotFound):
        account_get(viewer=kam, account_id=book["other"].pk)


@pytest.mark.parametrize("role_fixture", ["head", "admin_user", "support"])
def test_head_admin_and_support_see_every_account(book, request, role_fixture):
    viewer = request.getfixturevalue(role_fixture)
    assert account_list(viewer=viewer).count() == 3


def test_search_never_reveals_invisible_accounts(book, kam):
    assert not account_list(viewer=kam, search="北斗").exists()
    assert account_counts(viewer=kam)["total"] == 2
    assert contact_list(viewer=kam, search="北斗").count() == 0
    assert contact_list(viewer=kam).count() == 2


def test_search_is_width_and_kana_insensitive(book, head):
    assert [a.name for a in account_list(viewer=head, search="ﾄｳﾖｳ")] == ["株式会社東洋精機"]
    assert [a.name for a in account_list(viewer=head, search="だいわ")] == ["大和物産株式会社"]
    assert [a.name for a in account_list(viewer=head, search="北斗 電機")] == ["北斗電機株式会社"]


def test_search_finds_a_phone_number_as_dialled(head, make_account):
    make_account(head, name="電話商会", phone="+81 6-6123-4567")
    assert account_list(viewer=head, search="06-6123-4567").count() == 1
    assert account_list(viewer=head, search="０６６１２３").count() == 1


def test_lists_sort_by_kana_reading(book, head):
    names = [a.name_kana for a in account_list(viewer=head, sort="name")]
    assert names == ["ダイワブッサン", "トウヨウセイキ", "ホクトデンキ"]


def test_archived_accounts_leave_the_list(book, head):
    from tokui.accounts.services import account_archive

    account_archive(actor=head, account=book["other"])
    assert account_list(viewer=head).count() == 2
    assert [a.pk for a in account_list(viewer=head, archived=True)] == [book["other"].pk]


def test_account_list_runs_one_query_whatever_the_size(head, make_account):
    for i in range(5):
        make_account(head, name=f"会社{i}")
    with CaptureQueriesContext(connection) as ctx:
        rows = [(a.name, a.owner.username, a.contact_count) for a in account_list(viewer=head)]
    assert len(rows) == 5
    assert len(ctx.captured_queries) == 1
