"""Finding the record a row stands for, among what the importing user may see.

Accounts match by 法人番号, then by company match key plus the same phone or web domain;
contacts by e-mail, then by name key within their account. A match that exists but is hidden
from the user is reported as hidden (never which record it is), so the import can refuse the
row without creating a duplicate and without leaking the other team's data.
"""

import functools
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet

from tokui.accounts.models import Account, Contact
from tokui.core.exceptions import ApplicationError
from tokui.core.japanese import (
    company_match_key,
    normalize_corporate_number,
    normalize_phone,
    person_match_key,
    web_domain,
)
from tokui.core.validation import ErrorCollector, normalize_email, normalize_url
from tokui.users.models import User


@dataclass(slots=True)
class Match:
    record: Any = None
    hidden: bool = False  # a matching record exists that the user may not see


# Live records before archived ones, then the oldest: the same order wherever a row is matched.
PREFERRED = (F("archived_at").asc(nulls_first=True), "pk")


def _first_visible(everyone: QuerySet[Any], visible: QuerySet[Any]) -> Match:
    record = visible.order_by(*PREFERRED).first()
    if record is not None:
        return Match(record)
    return Match(hidden=everyone.exists())


def corporate_number_key(value: Any) -> str:
    try:
        return normalize_corporate_number(str(value)) if value else ""
    except ApplicationError:
        return ""  # the service reports it when the row is written


def phone_key(value: Any) -> str:
    try:
        return normalize_phone(str(value)) if value else ""
    except ApplicationError:
        return ""


def domain_key(value: Any) -> str:
    if not value:
        return ""
    return web_domain(normalize_url(str(value), ErrorCollector()))[:200]


def email_key(value: Any) -> str:
    errors = ErrorCollector()
    email = normalize_email(str(value or ""), errors)
    return "" if errors.errors else email.lower()


@dataclass(slots=True)
class AccountKeys:
    corporate_number: str
    match_key: str
    phone: str
    domain: str

    @classmethod
    def of(cls, data: dict[str, Any]) -> "AccountKeys":
        return cls(
            corporate_number=corporate_number_key(data.get("corporate_number")),
            match_key=company_match_key(str(data.get("name", "")))[:200],
            phone=phone_key(data.get("phone")),
            domain=domain_key(data.get("website")),
        )


def account_match(*, viewer: User, keys: AccountKeys) -> Match:
    """The account a row stands for: same 法人番号, else same name and phone or web domain."""
    visible_all = Account.objects.visible_to(viewer)
    if keys.corporate_number:
        match = _first_visible(
            Account.objects.filter(corporate_number=keys.corporate_number),
            visible_all.filter(corporate_number=keys.corporate_number),
        )
        if match.record is not None or match.hidden:
            return match
    if keys.match_key and (keys.phone or keys.domain):
        same = Q()
        if keys.phone:
            same |= Q(phone=keys.phone)
        if keys.domain:
            same |= Q(web_domain=keys.domain)
        return _first_visible(
            Account.objects.filter(same, match_key=keys.match_key),
            visible_all.filter(same, match_key=keys.match_key),
        )
    return Match()


def company_account(*, viewer: User, company: str) -> Match:
    """A contact's account, by its company name written any usual way (㈱, 株式会社, width)."""
    key = company_match_key(company)[:200]
    if not key:
        return Match()
    return _first_visible(
        Account.objects.filter(match_key=key),
        Account.objects.visible_to(viewer).filter(match_key=key),
    )


# Family and given names repeat across the rows of a file: their key is remembered (bounded).
_person_key = functools.lru_cache(maxsize=8192)(person_match_key)


@dataclass(slots=True)
class ContactKeys:
    email: str
    name: str

    @classmethod
    def of(cls, data: dict[str, Any]) -> "ContactKeys":
        family, given = str(data.get("family_name", "")), str(data.get("given_name", ""))
        return cls(email=email_key(data.get("email")), name=_person_key(family, given)[:200])


def contact_match(*, viewer: User, keys: ContactKeys, account: Account) -> Match:
    """The contact a row stands for: same e-mail anywhere, else same name at the same account.

    Two people of one name at one company are told apart by their e-mail addresses: a name
    matches only when the row or the stored contact has no address.
    """
    if keys.email:
        match = _first_visible(
            Contact.objects.filter(email_key=keys.email),
            Contact.objects.visible_to(viewer).filter(email_key=keys.email),
        )
        if match.record is not None or match.hidden:
            return match
    if keys.name and account.pk:
        same_name = Contact.objects.filter(account=account, match_key=keys.name)
        if keys.email:
            same_name = same_name.filter(email_key="")
        return Match(same_name.order_by(*PREFERRED).first())
    return Match()
