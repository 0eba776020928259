"""Finding likely duplicate accounts: the reasons, the score, who sees which pair, the pages."""

import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tokui.accounts.dedupe import (
    GROUP_LIMIT,
    Reason,
    account_duplicates,
    duplicate_page,
    duplicate_pairs,
    names_similar,
)
from tokui.accounts.merge import account_merge
from tokui.accounts.models import Account
from tokui.accounts.services import account_archive
from tokui.core.japanese import company_match_key, reading_match_key
from tokui.users.models import User
from tokui.users.services import api_token_create
from tokui.web.demo import demo_load
from tokui.web.demo_dedupe import demo_duplicates


@pytest.fixture
def account(make_account):
    """An account without the fixture's shared reading, so only the signals a test sets count."""

    def make(owner, name, **data):
        data.setdefault("name_kana", "")
        return make_account(owner, name=name, **data)

    return make


def _pairs(viewer):
    return {(p.a_id, p.b_id): p for p in duplicate_pairs(viewer=viewer)}


def test_the_same_name_written_differently_is_a_pair(kam, account):
    a = account(kam, "株式会社山田商事")
    b = account(kam, "山田商事(株)")
    account(kam, "株式会社東洋精機")

    pairs = _pairs(kam)

    assert list(pairs) == [(a.pk, b.pk)]
    assert pairs[(a.pk, b.pk)].reasons == [Reason.SAME_NAME]
    assert pairs[(a.pk, b.pk)].score == 50


def test_english_names_differing_in_punctuation_are_a_pair(kam, account):
    a = account(kam, "Contoso Co., Ltd.", website="https://www.contoso.example")
    b = account(kam, "Contoso Co.,Ltd.", website="contoso.example/ja/")

    pair = _pairs(kam)[(a.pk, b.pk)]

    assert pair.reasons == [Reason.SAME_NAME, Reason.SAME_DOMAIN]
    assert pair.score == 70


def test_the_same_reading_is_a_pair(kam, account):
    a = account(kam, "北斗工業株式会社", name_kana="ホクトコウギョウ")
    b = account(kam, "株式会社北斗興業", name_kana="ﾎｸﾄｺｳｷﾞｮｳ")

    pair = _pairs(kam)[(a.pk, b.pk)]

    assert Reason.SAME_READING in pair.reasons
    assert pair.score >= 25


def test_a_contact_email_on_two_accounts_makes_a_pair(kam, account, make_contact):
    a = account(kam, "株式会社青葉物産")
    b = account(kam, "アオバ物産 東京営業所")
    make_contact(a, email="Sato@aoba.example")
    make_contact(b, email="sato@aoba.example")

    pair = _pairs(kam)[(a.pk, b.pk)]

    assert pair.reasons == [Reason.SHARED_EMAIL]


def test_a_shared_phone_counts_only_with_a_similar_name(kam, account):
    a = account(kam, "株式会社山田商事", phone="03-1234-5678")
    b = account(kam, "山田商事東京支店", phone="0312345678")
    other = account(kam, "株式会社まるで別会社", phone="03-1234-5678")

    pairs = _pairs(kam)

    assert pairs[(a.pk, b.pk)].reasons == [Reason.SIMILAR_NAME, Reason.SAME_PHONE]
    assert (a.pk, other.pk) not in pairs
    assert (b.pk, other.pk) not in pairs


def test_one_accounts_duplicates_include_a_branch_with_the_same_phone(kam, account):
    a = account(kam, "株式会社山田商事", phone="03-1234-5678")
    b = account(kam, "山田商事東京支店", phone="+81 3-1234-5678")
    account(kam, "株式会社まるで別会社", phone="03-1234-5678")

    found = account_duplicates(viewer=kam, account=a)

    assert [(p.b_id, p.reasons) for p in found] == [
        (b.pk, [Reason.SIMILAR_NAME, Reason.SAME_PHONE])
    ]
    assert found[0].other(a.pk) == b


def test_a_shared_website_with_the_name_in_katakana_is_a_pair(kam, account):
    a = account(
        kam,
        "株式会社平和エンジニアリング",
        name_kana="ヘイワエンジニアリング",
        website="heiwa.example",
    )
    b = account(kam, "ヘイワエンジニアリング", website="http://www.heiwa.example/company/")

    pair = _pairs(kam)[(a.pk, b.pk)]

    assert pair.reasons == [Reason.SIMILAR_NAME, Reason.SAME_DOMAIN]


def test_pairs_come_strongest_first_and_the_score_is_capped(kam, account, make_contact):
    weak = [
        account(kam, "株式会社北斗興業", name_kana="ホクト"),
        account(kam, "北斗工業", name_kana="ホクト"),
    ]
    strong = [
        account(
            kam, "株式会社山田商事", name_kana="ヤマダ", phone="03-1234-5678", website="y.example"
        ),
        account(kam, "山田商事(株)", name_kana="ヤマダ", phone="03-1234-5678", website="y.example"),
    ]
    make_contact(strong[0], email="a@y.example")
    make_contact(strong[1], email="a@y.example")

    pairs = duplicate_pairs(viewer=kam)

    assert [(p.a_id, p.b_id) for p in pairs] == [
        (strong[0].pk, strong[1].pk),
        (weak[0].pk, weak[1].pk),
    ]
    assert pairs[0].score == 100
    assert duplicate_pairs(viewer=kam, min_score=50) == pairs[:1]


def test_a_pair_is_shown_only_to_someone_who_sees_both(kam, am, west_am, head, account):
    mine = account(kam, "株式会社山田商事")
    teams = account(am, "山田商事(株)")
    theirs = account(west_am, "(株)山田商事")

    assert set(_pairs(kam)) == {(mine.pk, teams.pk)}
    assert _pairs(west_am) == {}
    assert set(_pairs(head)) == {
        (mine.pk, teams.pk),
        (mine.pk, theirs.pk),
        (teams.pk, theirs.pk),
    }
    assert [p.b_id for p in account_duplicates(viewer=kam, account=mine)] == [teams.pk]
    assert account_duplicates(viewer=west_am, account=theirs) == []


def test_archived_and_merged_accounts_take_no_part(kam, account):
    a = account(kam, "株式会社山田商事")
    b = account(kam, "山田商事(株)")
    c = account(kam, "山田商事株式会社")
    account_archive(actor=kam, account=c)
    assert set(_pairs(kam)) == {(a.pk, b.pk)}

    account_merge(actor=kam, survivor=a, merged=b)

    assert _pairs(kam) == {}
    assert account_duplicates(viewer=kam, account=b) == []


def test_a_key_shared_by_too_many_accounts_is_no_signal(kam, account):
    for i in range(GROUP_LIMIT + 1):
        account(kam, f"株式会社別会社{i}", name_kana="ヨクアルヨミ")
    a = account(kam, "株式会社山田商事", name_kana="ヨクアルヨミ")
    b = account(kam, "山田商事(株)")

    assert set(_pairs(kam)) == {(a.pk, b.pk)}
    assert [p.reasons for p in account_duplicates(viewer=kam, account=a)] == [[Reason.SAME_NAME]]


def test_the_pair_query_count_does_not_grow_with_the_book(kam, account, make_contact):
    first = account(kam, "株式会社山田商事", phone="03-1234-5678")
    make_contact(first, email="taro@yamada.example")
    make_contact(account(kam, "山田商事(株)", phone="03-1234-5678"), email="taro@yamada.example")
    with CaptureQueriesContext(connection) as small:
        duplicate_page(viewer=kam)
    for i in range(15):
        a = account(kam, f"株式会社東洋{i}号", phone=f"03-2222-{i:04d}", website=f"t{i}.example")
        b = account(kam, f"東洋{i}号(株)", phone=f"03-2222-{i:04d}", website=f"t{i}.example")
        make_contact(a, email=f"x{i}@t.example")
        make_contact(b, email=f"x{i}@t.example")
    with CaptureQueriesContext(connection) as large:
        page = duplicate_page(viewer=kam)
    assert page.count == 16
    assert len(large.captured_queries) == len(small.captured_queries)


@pytest.mark.parametrize(
    ("a", "b", "similar"),
    [
        ("株式会社山田商事", "山田商事東京支店", True),
        ("山田商事", "山田商会", True),
        ("Contoso Trading", "Contoso Tradng", True),
        ("株式会社山田商事", "株式会社東洋精機", False),
        ("Acme", "Acne Labs International", False),
        ("山", "山田商事", False),
    ],
)
def test_similar_names(a, b, similar):
    assert names_similar(company_match_key(a), "", company_match_key(b), "") is similar


def test_a_name_in_katakana_is_similar_to_the_kanji_name_with_that_reading():
    assert names_similar(
        company_match_key("株式会社山田商事"),
        reading_match_key("ヤマダショウジ"),
        company_match_key("ヤマダショウジ"),
        "",
    )


# Pages ------------------------------------------------------------------------------------


def test_the_duplicates_page_lists_pairs_with_reasons_and_score(client, kam, account):
    a = account(kam, "株式会社山田商事")
    b = account(kam, "山田商事(株)")
    client.force_login(kam)

    response = client.get(reverse("accounts:duplicates"))

    assert response.status_code == 200
    assert "株式会社山田商事" in response.text and "山田商事(株)" in response.text
    assert "Same name" in response.text
    assert reverse("accounts:merge", args=[b.pk, a.pk]) in response.text
    assert "Compare and merge" in response.text
    partial = client.get(reverse("accounts:duplicates"), headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "山田商事(株)" in partial.text


def test_the_duplicates_page_pages_and_filters(client, kam, account):
    for i in range(3):
        account(kam, f"株式会社東洋{i}号")
        account(kam, f"東洋{i}号(株)")
    client.force_login(kam)
    assert "1–3 of 3" in client.get(reverse("accounts:duplicates")).text
    assert (
        "No likely duplicates" in client.get(reverse("accounts:duplicates"), {"min_score": 90}).text
    )
    for junk in ("abc", "-1", "99999999999"):
        assert (
            client.get(
                reverse("accounts:duplicates"), {"page": junk, "min_score": junk}
            ).status_code
            == 200
        )


def test_support_sees_the_page_without_merge_buttons(client, support, kam, account):
    account(kam, "株式会社山田商事")
    account(kam, "山田商事(株)")
    client.force_login(support)
    response = client.get(reverse("accounts:duplicates"))
    assert response.status_code == 200
    assert "山田商事(株)" in response.text
    assert "Compare and merge" not in response.text


def test_another_team_sees_none_of_the_pairs(client, west_am, kam, account):
    account(kam, "株式会社山田商事")
    account(kam, "山田商事(株)")
    client.force_login(west_am)
    response = client.get(reverse("accounts:duplicates"))
    assert "山田商事" not in response.text


def test_the_account_page_offers_its_possible_duplicates(client, kam, west_am, account):
    a = account(kam, "株式会社山田商事")
    b = account(kam, "山田商事(株)")
    client.force_login(kam)

    detail = client.get(reverse("accounts:detail", args=[a.pk]))
    assert reverse("accounts:account_duplicates_actions", args=[a.pk]) in detail.text
    button = client.get(
        reverse("accounts:account_duplicates_actions", args=[a.pk]), headers={"HX-Request": "true"}
    )
    assert "1 possible duplicate" in button.text
    plain = client.get(reverse("accounts:account_duplicates_actions", args=[a.pk]))
    assert plain.status_code == 302
    page = client.get(reverse("accounts:account_duplicates", args=[a.pk]))
    assert reverse("accounts:merge", args=[b.pk, a.pk]) in page.text
    found = client.get(reverse("accounts:account_duplicates", args=[a.pk]), {"q": "山田"})
    assert found.status_code == 200
    other = account(west_am, "株式会社西日本")
    assert client.get(reverse("accounts:account_duplicates", args=[other.pk])).status_code == 404


def test_the_account_list_links_to_the_duplicates(client, kam):
    client.force_login(kam)
    assert reverse("accounts:duplicates") in client.get(reverse("accounts:index")).text


# API --------------------------------------------------------------------------------------


def test_api_lists_pairs_with_paging(client, kam, west_am, account):
    for i in range(3):
        account(kam, f"株式会社東洋{i}号")
        account(kam, f"東洋{i}号(株)")
    account(west_am, "株式会社東洋0号 西")
    _token, key = api_token_create(actor=kam, user=kam)
    headers = {"Authorization": f"Bearer {key}"}

    body = client.get("/api/v1/duplicates", {"page": 2, "page_size": 2}, headers=headers).json()

    assert body["count"] == 3
    assert len(body["items"]) == 1
    item = body["items"][0]
    assert set(item) == {"a", "b", "score", "reasons"}
    assert set(item["a"]) == {"id", "name"}
    assert item["reasons"][0]["code"] == "same_name"
    assert item["score"] == 50
    one = client.get("/api/v1/duplicates", {"account": item["a"]["id"]}, headers=headers).json()
    assert one["count"] == 1
    assert client.get("/api/v1/duplicates").status_code == 401
    assert (
        json.loads(client.get("/api/v1/duplicates", {"min_score": 101}, headers=headers).content)[
            "error"
        ]["code"]
        == "invalid"
    )


# Demo -------------------------------------------------------------------------------------


def test_demo_duplicates_show_on_kams_page_and_load_once(db):
    demo_load(accounts=60)  # the demo adds its duplicates (demo_duplicates) itself
    demo_duplicates()
    kam = User.objects.get(username="kam")
    count = Account.objects.count()
    pairs = duplicate_pairs(viewer=kam)

    assert len(pairs) >= 3
    assert any(p.reasons[0] == Reason.SAME_NAME for p in pairs)
    assert Account.objects.filter(name__in=["Contoso Co., Ltd.", "Contoso Co.,Ltd."]).count() == 2
    assert all(a.contacts.exists() for a in Account.objects.filter(name__startswith="Contoso"))
    out = io.StringIO()
    demo_duplicates(stdout=out)
    assert Account.objects.count() == count
    assert "nothing changed" in out.getvalue()
