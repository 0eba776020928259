import pytest

from tokui.accounts.imports.presets import auto_mapping, validate_mapping
from tokui.core.exceptions import ApplicationError


def test_salesforce_account_export_maps_by_preset():
    headers = [
        "Id",
        "Account Name",
        "Phone",
        "Website",
        "BillingPostalCode",
        "BillingState",
        "BillingCity",
        "BillingStreet",
        "Industry",
        "NumberOfEmployees",
    ]
    assert auto_mapping("accounts", headers, "salesforce") == {
        "Account Name": "name",
        "Phone": "phone",
        "Website": "website",
        "BillingPostalCode": "postal_code",
        "BillingState": "prefecture",
        "BillingCity": "city",
        "BillingStreet": "street",
        "Industry": "industry",
        "NumberOfEmployees": "employees",
    }


def test_salesforce_contacts_find_their_account_column_in_either_spelling():
    for column in ("Account.Name", "AccountName"):
        headers = ["FirstName", "LastName", "Email", "MobilePhone", "Title", "Department", column]
        mapping = auto_mapping("contacts", headers, "salesforce")
        assert mapping[column] == "account"
        assert mapping["FirstName"] == "given_name"
        assert mapping["LastName"] == "family_name"
        assert mapping["MobilePhone"] == "mobile"


def test_hubspot_exports_map_by_preset():
    companies = [
        "Company name",
        "Phone Number",
        "Website URL",
        "Postal Code",
        "State/Region",
        "City",
        "Street Address",
        "Industry",
        "Number of Employees",
    ]
    assert set(auto_mapping("accounts", companies, "hubspot").values()) == {
        "name",
        "phone",
        "website",
        "postal_code",
        "prefecture",
        "city",
        "street",
        "industry",
        "employees",
    }
    contacts = [
        "First Name",
        "Last Name",
        "Email",
        "Phone Number",
        "Mobile Phone Number",
        "Job Title",
        "Company Name",
    ]
    assert auto_mapping("contacts", contacts, "hubspot") == {
        "First Name": "given_name",
        "Last Name": "family_name",
        "Email": "email",
        "Phone Number": "phone",
        "Mobile Phone Number": "mobile",
        "Job Title": "title",
        "Company Name": "account",
    }


@pytest.mark.parametrize(
    ("kana_family", "kana_given", "mail", "phone"),
    [("姓(カナ)", "名(カナ)", "E-mail", "電話番号"), ("セイ", "メイ", "メールアドレス", "TEL会社")],
)
def test_business_card_exports_map_by_preset(kana_family, kana_given, mail, phone):
    headers = [
        "会社名",
        "部署名",
        "役職",
        "姓",
        "名",
        kana_family,
        kana_given,
        mail,
        phone,
        "携帯電話",
        "FAX",
        "郵便番号",
        "住所",
    ]
    assert auto_mapping("contacts", headers, "cards") == {
        "会社名": "account",
        "部署名": "department",
        "役職": "title",
        "姓": "family_name",
        "名": "given_name",
        kana_family: "family_name_kana",
        kana_given: "given_name_kana",
        mail: "email",
        phone: "phone",
        "携帯電話": "mobile",
        "FAX": "account_fax",
        "郵便番号": "account_postal_code",
        "住所": "account_address",
    }


def test_without_a_preset_field_names_and_labels_in_both_languages_map():
    headers = ["name", "Kana reading", "法人番号", "ＰＨＯＮＥ", "郵便番号", "Unrelated"]
    assert auto_mapping("accounts", headers) == {
        "name": "name",
        "Kana reading": "name_kana",
        "法人番号": "corporate_number",
        "ＰＨＯＮＥ": "phone",
        "郵便番号": "postal_code",
    }


def test_a_mapping_to_an_unknown_field_is_refused_before_the_run():
    with pytest.raises(ApplicationError) as exc:
        validate_mapping("accounts", ["A", "B"], {"A": "name", "B": "password"})
    assert "“password”: no such field" in exc.value.message
    assert exc.value.errors["mapping"]


def test_two_columns_to_one_field_are_refused_naming_them():
    with pytest.raises(ApplicationError) as exc:
        validate_mapping("accounts", ["A", "B", "C"], {"A": "name", "B": "phone", "C": "phone"})
    assert "Columns “B”, “C” all go to “Phone”" in exc.value.message


def test_a_column_the_file_does_not_have_is_refused():
    with pytest.raises(ApplicationError, match="no column named “Nope”"):
        validate_mapping("accounts", ["A"], {"A": "name", "Nope": "phone"})


def test_the_fields_a_record_needs_must_be_mapped():
    with pytest.raises(ApplicationError, match="company name"):
        validate_mapping("accounts", ["A"], {"A": "phone"})
    with pytest.raises(ApplicationError, match="family name"):
        validate_mapping("contacts", ["A", "B"], {"A": "account", "B": "email"})
    assert validate_mapping(
        "contacts", ["A", "B", "C"], {"A": "account", "B": "full_name", "C": ""}
    ) == {
        "A": "account",
        "B": "full_name",
    }


def test_a_mapping_must_be_an_object_of_names():
    with pytest.raises(ApplicationError, match="must be an object"):
        validate_mapping("accounts", ["A"], ["A", "name"])
