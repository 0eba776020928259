import pytest
from django.urls import reverse


@pytest.fixture
def book(kam, west_am, make_account, make_contact):
    yamada = make_account(
        kam,
        name="株式会社山田商事",
        name_kana="ヤマダショウジ",
        phone="03-1234-5678",
        corporate_number="7000012050002",
    )
    make_contact(yamada, family_name="佐藤", given_name="花子", email="Hanako.Sato@yamada.example")
    make_account(kam, name="Northwind Traders Ltd.", website="https://northwind.example")
    make_account(west_am, name="山田電機株式会社")
    return yamada


@pytest.mark.parametrize(
    ("query", "account", "contact"),
    [
        ("山田", "株式会社山田商事", "佐藤 花子"),  # two characters
        ("山", "株式会社山田商事", "佐藤 花子"),  # one character
        ("ﾔﾏﾀﾞ", "株式会社山田商事", "佐藤 花子"),  # half-width reading
        ("やまだしょうじ", "株式会社山田商事", "佐藤 花子"),  # hiragana reading
        ("03-1234-5678", "株式会社山田商事", None),  # phone as dialled
        ("0312345678", "株式会社山田商事", None),
        ("７００００１２０５０００２", "株式会社山田商事", None),  # full-width corporate number
        ("northwind", "Northwind Traders Ltd.", None),
        ("NORTHWIND", "Northwind Traders Ltd.", None),
        ("hanako.sato", None, "佐藤 花子"),
        ("はなこ", None, None),  # no reading recorded for her given name: nothing found
    ],
)
def test_one_box_finds_accounts_and_contacts(client, kam, book, query, account, contact):
    client.force_login(kam)
    response = client.get(reverse("web:search"), {"q": query})
    assert response.status_code == 200
    accounts = [a.name for a in response.context["accounts"]]
    contacts = [c.full_name for c in response.context["contacts"]]
    assert accounts == ([account] if account else [])
    if contact:
        assert contact in contacts
    elif account is None:
        assert contacts == []
    assert "山田電機株式会社" not in response.text  # another team's account never shows
