"""Turning a row's cells into the data the account and contact services take.

Only what a spreadsheet cannot say in our terms is converted here (a label for a choice, a
number with thousands separators, a user name, a whole address in one cell); everything else
is passed on as typed, so the services normalise and validate it exactly as they do for a form.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.db.models import TextChoices
from django.utils import translation
from django.utils.translation import gettext as _

from tokui.accounts.constants import AccountKind, AccountRank, AccountTier, EntityType
from tokui.core.exceptions import ApplicationError
from tokui.core.japanese import normalize_postal_code, postal_lookup
from tokui.users.models import User
from tokui.users.selectors import user_get_by_username

_PREFECTURE = re.compile(r"^(東京都|北海道|(?:京都|大阪)府|[^\s都道府県]{2,3}県)")
_CITY = re.compile(
    r"^([^\s]{1,6}?郡[^\s]{1,6}?[町村]|[^\s]{1,6}?市[^\s]{1,5}?区|[^\s]{1,6}?[市区町村])"
)
_YES = {"1", "yes", "y", "true", "t", "on", "はい", "済", "可", "○", "◯", "✓"}
_NO = {"0", "no", "n", "false", "f", "off", "いいえ", "不可", "否", "×", ""}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().casefold()


def split_address(text: str, postal_code: str = "") -> dict[str, str]:
    """``東京都千代田区丸の内1-1-1`` → prefecture, city and the rest as the street."""
    rest = unicodedata.normalize("NFKC", text or "").strip()
    rest = re.sub(r"^〒?\s*\d{3}-?\d{4}\s*", "", rest)  # a postal code written first
    parts: dict[str, str] = {}
    found = None
    if postal_code:
        try:
            found = postal_lookup(normalize_postal_code(postal_code))
        except ApplicationError:
            found = None
    prefecture = _PREFECTURE.match(rest)
    if prefecture:
        parts["prefecture"] = prefecture.group(1)
        rest = rest[prefecture.end() :].lstrip()
    if found and rest.startswith(found[1]):
        parts.setdefault("prefecture", found[0])
        parts["city"] = found[1]
        rest = rest[len(found[1]) :].lstrip()
    elif "prefecture" in parts and (city := _CITY.match(rest)) and city.end() < len(rest):
        parts["city"] = city.group(1)
        rest = rest[city.end() :].lstrip()
    if rest:
        parts["street"] = rest
    return parts


def _choice_lookup(choices: type[TextChoices]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for language in ("en", "ja"):
        with translation.override(language):
            for value, label in choices.choices:
                lookup.setdefault(_fold(str(label)), value)
    for value in choices.values:
        lookup[_fold(value)] = value
    return lookup


def parse_bool(value: str) -> bool | str:
    text = _fold(value)
    if text in _YES:
        return True
    if text in _NO:
        return False
    return value  # the service says what it wants


def parse_count(value: str) -> int | str:
    text = unicodedata.normalize("NFKC", value).replace(",", "").replace("人", "").strip()
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(float(text))
    return value


@dataclass
class RowInput:
    """What one row asks for: the record's fields, and for a contact its company."""

    data: dict[str, Any]
    company: str = ""
    account_data: dict[str, Any] = field(default_factory=dict)


class Converter:
    """Cells to service data for one import; caches look-ups that repeat (owners, choices)."""

    def __init__(self, *, target: str, plan: list[tuple[int, str]]) -> None:
        self.target = target
        self.plan = plan
        self._choices = {
            "kind": _choice_lookup(AccountKind),
            "tier": _choice_lookup(AccountTier),
            "rank": _choice_lookup(AccountRank),
            "entity_type": _choice_lookup(EntityType),
        }
        self._owners: dict[str, User | None] = {}

    def values(self, cells: list[str]) -> dict[str, str]:
        values = {}
        for index, name in self.plan:
            value = cells[index].strip()
            if value:
                values[name] = value
        return values

    def owner(self, username: str) -> User:
        if username not in self._owners:
            self._owners[username] = user_get_by_username(username=username)
        owner = self._owners[username]
        if owner is None:
            raise ApplicationError(
                _("There is no user named “%(u)s”.") % {"u": username[:60]}, field="owner"
            )
        return owner

    def account(self, values: dict[str, str]) -> RowInput:
        data: dict[str, Any] = dict(values)
        if "address" in data:
            address = split_address(data.pop("address"), data.get("postal_code", ""))
            for key, value in address.items():
                data.setdefault(key, value)
        for name, lookup in self._choices.items():
            if name in data:
                data[name] = lookup.get(_fold(data[name]), data[name])
        if "employees" in data:
            data["employees"] = parse_count(data["employees"])
        if "owner" in data:
            data["owner"] = self.owner(data["owner"])
        return RowInput(data=data)

    def contact(self, values: dict[str, str]) -> RowInput:
        data: dict[str, Any] = dict(values)
        company = data.pop("account", "")
        full_name = data.pop("full_name", "")
        if full_name and not data.get("family_name"):
            family, _sep, given = re.sub(r"[\s\u3000]+", " ", full_name).partition(" ")
            data["family_name"] = family
            if given and not data.get("given_name"):
                data["given_name"] = given
        if "marketing_consent" in data:
            data["marketing_consent"] = parse_bool(data["marketing_consent"])
        account_data: dict[str, Any] = {}
        for source, target in (
            ("account_fax", "fax"),
            ("account_postal_code", "postal_code"),
            ("account_website", "website"),
        ):
            if source in data:
                account_data[target] = data.pop(source)
        if "account_address" in data:
            address = split_address(
                data.pop("account_address"), account_data.get("postal_code", "")
            )
            account_data.update(address)
        return RowInput(data=data, company=company, account_data=account_data)
