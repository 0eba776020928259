"""Identities that can be trusted: match keys, legal forms, invoice numbers, postal codes."""

import pytest

from tokui.core.exceptions import ApplicationError
from tokui.core.japanese import (
    company_match_key,
    normalize_invoice_number,
    person_match_key,
    postal_lookup,
    reading_match_key,
    split_legal_form,
    strip_reading_legal_form,
    web_domain,
)


@pytest.mark.parametrize(
    "name",
    [
        "株式会社山田商事",
        "㈱山田商事",
        "（株）山田商事",
        "山田商事株式会社",
        "㍿山田商事",
        "山田商事 (株)",
    ],
)
def test_every_way_of_writing_a_company_gives_one_key(name):
    assert company_match_key(name) == company_match_key("株式会社山田商事") == "山田商事"


def test_different_companies_keep_different_keys():
    assert company_match_key("株式会社山田商事") != company_match_key("株式会社山田商会")
    assert company_match_key("有限会社山田") != company_match_key("株式会社山田商事")


def test_english_legal_forms_and_punctuation_do_not_matter():
    keys = {
        company_match_key(n)
        for n in ("Contoso Co., Ltd.", "CONTOSO CO.,LTD.", "Contoso Ltd", "contoso limited")
    }
    assert keys == {"contoso"}


def test_reading_keys_ignore_width_script_and_the_legal_form():
    assert reading_match_key("ｶﾌﾞｼｷｶﾞｲｼｬ ﾔﾏﾀﾞｼｮｳｼﾞ") == reading_match_key("ヤマダショウジ")
    assert reading_match_key("やまだ しょうじ") == reading_match_key("ヤマダショウジ")
    assert strip_reading_legal_form("カブシキガイシャ ヤマダショウジ") == "ヤマダショウジ"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("株式会社山田商事", ("株式会社", "before", "山田商事")),
        ("山田商事株式会社", ("株式会社", "after", "山田商事")),
        ("㈲佐藤工務店", ("有限会社", "before", "佐藤工務店")),
        ("一般社団法人日本経営協会", ("一般社団法人", "before", "日本経営協会")),
        ("Contoso Co., Ltd.", ("Co., Ltd.", "after", "Contoso")),
        ("Fabrikam GmbH", ("GmbH", "after", "Fabrikam")),
        ("山田商店", ("", "", "山田商店")),
    ],
)
def test_legal_form_and_its_position_are_found(name, expected):
    assert split_legal_form(name) == expected


def test_person_keys_fold_width_and_kana():
    assert person_match_key("ﾔﾏﾀﾞ", "ﾀﾛｳ") == person_match_key("やまだ", "たろう")


def test_invoice_number_of_a_corporation_is_t_plus_its_corporate_number():
    assert normalize_invoice_number(
        "t７００００１２０５０００２", corporate_number="7000012050002", sole_proprietor=False
    ) == ("T7000012050002", "")
    with pytest.raises(ApplicationError, match="T7000012050002"):
        normalize_invoice_number(
            "T8000012050001", corporate_number="7000012050002", sole_proprietor=False
        )
    with pytest.raises(ApplicationError, match="T followed by 13 digits"):
        normalize_invoice_number("7000012050002", corporate_number=None, sole_proprietor=False)


def test_a_sole_proprietors_check_digit_mismatch_is_only_a_warning():
    number, warning = normalize_invoice_number(
        "T8000012050002", corporate_number=None, sole_proprietor=True
    )
    assert number == "T8000012050002"
    assert "check digit" in warning


def test_postal_lookup_is_offline_and_fills_prefecture_and_city():
    assert postal_lookup("1000001") == ("東京都", "千代田区")
    assert postal_lookup("0000000") is None


def test_web_domain():
    assert web_domain("https://www.Example.co.jp/about") == "example.co.jp"


def test_account_service_derives_keys_and_fills_the_address(kam, make_account):
    account = make_account(
        kam, name="山田商事株式会社", name_kana="ｶﾌﾞｼｷｶﾞｲｼｬ ﾔﾏﾀﾞｼｮｳｼﾞ", postal_code="100-0001"
    )
    assert account.name == "山田商事株式会社"  # never rewritten
    assert (account.legal_form, account.legal_form_position) == ("株式会社", "after")
    assert account.name_kana == "ヤマダショウジ"
    assert account.match_key == company_match_key("㈱山田商事")
    assert (account.prefecture, account.city) == ("東京都", "千代田区")


def test_a_corporations_mismatched_invoice_number_is_refused(kam, make_account):
    account = make_account(kam, corporate_number="7000012050002")
    from tokui.accounts.services import account_update

    with pytest.raises(ApplicationError) as exc:
        account_update(
            actor=kam, account=account, data={"invoice_registration_number": "T8000012050001"}
        )
    assert "invoice_registration_number" in exc.value.errors
    account.refresh_from_db()
    assert account.invoice_registration_number == ""
    account_update(
        actor=kam, account=account, data={"invoice_registration_number": "T7000012050002"}
    )
    account.refresh_from_db()
    assert account.invoice_registration_number == "T7000012050002"
