"""Which column of a file goes to which field: the fields an import fills, presets, auto-mapping.

A mapping is ``{column name: field name}``. Presets know the columns of Salesforce and HubSpot
exports and of business-card services (Sansan, Eight); without a preset, a column named like
one of our fields (its name, or its English or Japanese label) maps by itself. People can
change every choice on the mapping page before the import runs.
"""

import re
import unicodedata
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tokui.accounts.constants import ImportTarget
from tokui.accounts.models import Account, Contact
from tokui.core.exceptions import ApplicationError

ACCOUNT_FIELDS = (
    "name",
    "name_kana",
    "corporate_number",
    "kind",
    "tier",
    "rank",
    "owner",
    "industry",
    "employees",
    "entity_type",
    "invoice_registration_number",
    "phone",
    "fax",
    "website",
    "postal_code",
    "address",
    "prefecture",
    "city",
    "street",
    "building",
    "notes",
)
CONTACT_FIELDS = (
    "account",
    "family_name",
    "given_name",
    "full_name",
    "family_name_kana",
    "given_name_kana",
    "title",
    "department",
    "email",
    "phone",
    "mobile",
    "marketing_consent",
    "notes",
    "account_fax",
    "account_postal_code",
    "account_address",
    "account_website",
)
FIELDS: dict[str, tuple[str, ...]] = {
    ImportTarget.ACCOUNTS: ACCOUNT_FIELDS,
    ImportTarget.CONTACTS: CONTACT_FIELDS,
}

# Fields that are not model fields: they are split or passed on by the import.
_PSEUDO_LABELS = {
    "address": gettext_lazy("Address (prefecture, city and street in one)"),
    "account": gettext_lazy("Company name"),
    "full_name": gettext_lazy("Full name (family name first)"),
    "account_fax": gettext_lazy("Company fax"),
    "account_postal_code": gettext_lazy("Company postal code"),
    "account_address": gettext_lazy("Company address"),
    "account_website": gettext_lazy("Company website"),
}

PRESETS = {
    "salesforce": gettext_lazy("Salesforce export"),
    "hubspot": gettext_lazy("HubSpot export"),
    "cards": gettext_lazy("Business cards (Sansan, Eight)"),
}

# Preset columns, compared after header_key(): case, width, spaces and punctuation don't count.
_PRESET_COLUMNS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "salesforce": {
        ImportTarget.ACCOUNTS: {
            "name": ("Account Name", "Name"),
            "phone": ("Phone",),
            "fax": ("Fax",),
            "website": ("Website",),
            "postal_code": ("BillingPostalCode", "Billing Zip/Postal Code"),
            "prefecture": ("BillingState", "Billing State/Province"),
            "city": ("BillingCity", "Billing City"),
            "street": ("BillingStreet", "Billing Street"),
            "industry": ("Industry",),
            "employees": ("NumberOfEmployees", "Employees"),
            "notes": ("Description",),
        },
        ImportTarget.CONTACTS: {
            "account": ("Account.Name", "AccountName", "Account Name"),
            "family_name": ("LastName", "Last Name"),
            "given_name": ("FirstName", "First Name"),
            "email": ("Email",),
            "phone": ("Phone",),
            "mobile": ("MobilePhone", "Mobile"),
            "title": ("Title",),
            "department": ("Department",),
            "notes": ("Description",),
        },
    },
    "hubspot": {
        ImportTarget.ACCOUNTS: {
            "name": ("Company name", "Name"),
            "phone": ("Phone Number",),
            "website": ("Website URL", "Company Domain Name"),
            "postal_code": ("Postal Code",),
            "prefecture": ("State/Region",),
            "city": ("City",),
            "street": ("Street Address",),
            "industry": ("Industry",),
            "employees": ("Number of Employees",),
            "notes": ("Description",),
        },
        ImportTarget.CONTACTS: {
            "given_name": ("First Name",),
            "family_name": ("Last Name",),
            "email": ("Email",),
            "phone": ("Phone Number",),
            "mobile": ("Mobile Phone Number",),
            "title": ("Job Title",),
            "account": ("Company Name", "Associated Company"),
        },
    },
    "cards": {
        ImportTarget.ACCOUNTS: {
            "name": ("会社名",),
            "phone": ("電話番号", "TEL会社"),
            "fax": ("FAX",),
            "postal_code": ("郵便番号",),
            "address": ("住所",),
            "website": ("URL",),
        },
        ImportTarget.CONTACTS: {
            "account": ("会社名",),
            "department": ("部署名",),
            "title": ("役職",),
            "family_name": ("姓",),
            "given_name": ("名",),
            "full_name": ("氏名",),
            "family_name_kana": ("姓(カナ)", "セイ"),
            "given_name_kana": ("名(カナ)", "メイ"),
            "email": ("E-mail", "メールアドレス"),
            "phone": ("電話番号", "TEL会社", "TEL部門", "TEL直通"),
            "mobile": ("携帯電話",),
            "account_fax": ("FAX",),
            "account_postal_code": ("郵便番号",),
            "account_address": ("住所",),
            "account_website": ("URL",),
        },
    },
}

# More names people give columns, for the mapping without a preset.
_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    ImportTarget.ACCOUNTS: {
        "name": ("company", "company name", "account name", "会社名", "企業名", "社名", "法人名"),
        "name_kana": ("会社名カナ", "会社名(カナ)", "フリガナ", "カナ", "よみがな", "reading"),
        "corporate_number": ("法人番号",),
        "phone": ("tel", "telephone", "電話", "代表電話"),
        "fax": ("ファックス", "fax番号"),
        "website": ("url", "web", "homepage", "ホームページ", "ウェブサイト"),
        "postal_code": ("zip", "zip code", "postcode", "〒"),
        "prefecture": ("state",),
        "address": ("住所", "所在地", "address"),
        "industry": ("業種",),
        "employees": ("従業員数", "number of employees"),
        "notes": ("備考", "note", "memo"),
        "owner": ("担当者",),
    },
    ImportTarget.CONTACTS: {
        "account": ("company", "company name", "account name", "会社名", "企業名", "取引先"),
        "family_name": ("last name", "surname", "lastname"),
        "given_name": ("first name", "firstname"),
        "full_name": ("name", "氏名", "名前"),
        "family_name_kana": ("姓(カナ)", "セイ", "姓カナ"),
        "given_name_kana": ("名(カナ)", "メイ", "名カナ"),
        "title": ("job title", "position"),
        "department": ("部署名",),
        "email": ("email", "mail", "メールアドレス", "Eメール"),
        "phone": ("tel", "telephone", "電話"),
        "mobile": ("mobile phone", "cell", "携帯"),
        "notes": ("備考", "note", "memo"),
        "account_fax": ("fax",),
        "account_postal_code": ("郵便番号", "postal code", "zip"),
        "account_address": ("住所", "address"),
        "account_website": ("url", "website"),
    },
}

_KEY_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


def header_key(text: str) -> str:
    """A column name compared loosely: ``E-mail``, ``email`` and ``ＥＭＡＩＬ`` agree."""
    return _KEY_DROP.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def field_labels(target: str) -> dict[str, str]:
    """Our fields for a target, with their labels in the current language, in form order."""
    model = Account if target == ImportTarget.ACCOUNTS else Contact
    labels: dict[str, str] = {}
    for name in FIELDS[target]:
        if name in _PSEUDO_LABELS:
            labels[name] = str(_PSEUDO_LABELS[name])
        else:
            field = model._meta.get_field(name)
            labels[name] = str(getattr(field, "verbose_name", name)).capitalize()
    return labels


def _auto_names(target: str) -> dict[str, str]:
    """Every loose column name that maps by itself, to its field."""
    names: dict[str, str] = {}
    for field, synonyms in _SYNONYMS[target].items():
        for synonym in synonyms:
            names.setdefault(header_key(synonym), field)
    for language in ("en", "ja"):
        with translation.override(language):
            for field, label in field_labels(target).items():
                names.setdefault(header_key(label), field)
    for field in FIELDS[target]:
        names.setdefault(header_key(field), field)
    return names


def auto_mapping(target: str, headers: list[str], preset: str = "") -> dict[str, str]:
    """A first mapping for these columns: the preset's columns first, then names that match."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    preset_columns = _PRESET_COLUMNS.get(preset, {}).get(target, {})
    by_key = {header_key(h): h for h in headers}
    for field, columns in preset_columns.items():
        for column in columns:
            header = by_key.get(header_key(column))
            if header is not None and header not in mapping and field not in taken:
                mapping[header] = field
                taken.add(field)
    names = _auto_names(target)
    for header in headers:
        found = names.get(header_key(header))
        if header not in mapping and found and found not in taken:
            mapping[header] = found
            taken.add(found)
    return {h: mapping[h] for h in headers if h in mapping}


def validate_mapping(
    target: str, headers: list[str], mapping: Any, *, require_complete: bool = True
) -> dict[str, str]:
    """Check a mapping before any row is read; returns it without the skipped columns.

    Refuses a column the file does not have, a field we do not know, two columns for one field
    and (``require_complete``) a mapping without the fields a record cannot do without.
    """
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str | None) for k, v in mapping.items()
    ):
        raise ApplicationError(
            _('The column mapping must be an object like {"Column name": "field"}.'),
            field="mapping",
            status=422,
        )
    labels = field_labels(target)
    clean: dict[str, str] = {column: field for column, field in mapping.items() if field}
    problems = []
    missing_columns = [c for c in clean if c not in headers]
    if missing_columns:
        problems.append(
            _("The file has no column named %(columns)s.")
            % {"columns": ", ".join(f"“{c[:60]}”" for c in missing_columns)}
        )
    unknown = sorted({f for f in clean.values() if f not in labels})
    if unknown:
        problems.append(
            _("%(fields)s: no such field to import into. Choose among: %(known)s.")
            % {
                "fields": ", ".join(f"“{f[:40]}”" for f in unknown),
                "known": ", ".join(labels),
            }
        )
    by_field: dict[str, list[str]] = {}
    for column, field in clean.items():
        by_field.setdefault(field, []).append(column)
    for field, columns in by_field.items():
        if len(columns) > 1 and field in labels:
            problems.append(
                _("Columns %(columns)s all go to “%(field)s”: choose one of them.")
                % {"columns": ", ".join(f"“{c[:60]}”" for c in columns), "field": labels[field]}
            )
    if require_complete and not problems:
        fields = set(clean.values())
        if target == ImportTarget.ACCOUNTS and "name" not in fields:
            problems.append(_("Choose the column that holds the company name."))
        if target == ImportTarget.CONTACTS:
            if "account" not in fields:
                problems.append(_("Choose the column that holds the contact's company name."))
            if not fields & {"family_name", "full_name"}:
                problems.append(_("Choose the column that holds the family name (or full name)."))
    if problems:
        raise ApplicationError(" ".join(problems), field="mapping", status=422)
    return {h: clean[h] for h in headers if h in clean}
