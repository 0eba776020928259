import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tokui.accounts.selectors import (
    account_counts,
    account_get,
    account_list,
    contact_list,
    search_everything,
)
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


@pytest.mark.parametrize("viewer_name", ["kam", "am", "west_am", "head", "support"])
def test_the_counting_shape_counts_exactly_the_listed_rows(
    book, request, viewer_name, make_account, make_contact, am, west_am
):
    """Lists are counted with a differently shaped query (see visible_to's ``for_count``):
    it must agree with the rows the list shows, for every role and filter."""
    archived = make_account(am, name="株式会社古い取引先", kind="client")
    archived.archived_at = archived.updated_at
    archived.save()
    make_contact(make_account(west_am, name="West Trading Co., Ltd.", tier="key"))
    viewer = request.getfixturevalue(viewer_name)
    cases = [
        {},
        {"archived": True},
        {"search": "株式会社"},
        {"search": "west"},
        {"tier": "key"},
        {"kind": "client", "archived": True},
        {"owner": "am"},
    ]
    for filters in cases:
        accounts = account_list(viewer=viewer, **filters)
        counted = account_list(viewer=viewer, for_count=True, **filters)
        assert counted.count() == len(list(accounts)), filters
        contact_filters = {k: v for k, v in filters.items() if k != "owner"}
        contacts = contact_list(viewer=viewer, **contact_filters)
        counted_contacts = contact_list(viewer=viewer, for_count=True, **contact_filters)
        assert counted_contacts.count() == len(list(contacts)), filters


def test_one_box_search_lists_people_by_name_before_people_at_matching_companies(
    head, kam, make_account, make_contact
):
    yamada_co = make_account(kam, name="株式会社山田商事", name_kana="ヤマダショウジ")
    at_company = make_contact(yamada_co, family_name="佐藤", family_name_kana="サトウ")
    other = make_account(kam, name="株式会社東洋精機", name_kana="トウヨウセイキ")
    named = make_contact(other, family_name="山田", family_name_kana="ヤマダ")
    accounts, contacts = search_everything(viewer=head, query="山田", limit=10)
    assert [a.pk for a in accounts] == [yamada_co.pk]
    assert [c.pk for c in contacts] == [named.pk, at_company.pk]


def test_one_box_search_matches_a_person_partly_by_name_and_partly_by_company(
    head, kam, make_account, make_contact
):
    yamada_co = make_account(kam, name="株式会社山田商事", name_kana="ヤマダショウジ")
    taro = make_contact(yamada_co, family_name="佐藤", given_name="太郎")
    make_contact(yamada_co, family_name="佐藤", given_name="花子", given_name_kana="ハナコ")
    make_contact(make_account(kam, name="株式会社東洋精機"), family_name="鈴木", given_name="太郎")
    _, contacts = search_everything(viewer=head, query="山田商事 太郎", limit=10)
    assert [c.pk for c in contacts] == [taro.pk]


def test_one_box_search_finds_people_at_an_older_company_behind_many_empty_ones(
    head, kam, make_account, make_contact
):
    """Matching companies are read a batch at a time: companies without people must not hide
    the people of an older matching company."""
    older = make_account(kam, name="Acme Holdings")
    person = make_contact(older, family_name="Smith", family_name_kana="")
    for i in range(60):
        make_account(kam, name=f"Acme Branch {i}")
    _, contacts = search_everything(viewer=head, query="acme", limit=5)
    assert [c.pk for c in contacts] == [person.pk]


def test_one_box_search_shows_only_visible_people_at_matching_companies(
    kam, west_am, make_account, make_contact
):
    theirs = make_account(west_am, name="株式会社山田商事")
    make_contact(theirs, family_name="佐藤")
    mine = make_account(kam, name="山田物産株式会社")
    person = make_contact(mine, family_name="佐藤")
    _, contacts = search_everything(viewer=kam, query="山田", limit=10)
    assert [c.pk for c in contacts] == [person.pk]
