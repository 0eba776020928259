"""Writes to the customer data bank: accounts and contacts.

Every function checks the actor's rights itself, validates all fields at once, writes in one
transaction and records one audit event with the changed fields (old and new values).
"""

import functools
import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.constants import (
    ACCOUNT_EDITABLE_FIELDS,
    CONTACT_EDITABLE_FIELDS,
    AccountKind,
    AccountRank,
    AccountTier,
    EntityType,
    LegalFormPosition,
)
from tokui.accounts.groups import group_check_parent
from tokui.accounts.models import Account, Contact, account_scope
from tokui.accounts.segments import account_set_tags
from tokui.core.audit import audit_record, check_version, diff, snapshot
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.japanese import (
    bigrams,
    company_match_key,
    fold,
    normalize_corporate_number,
    normalize_invoice_number,
    normalize_kana_reading,
    normalize_phone,
    normalize_postal_code,
    person_match_key,
    postal_lookup,
    reading_match_key,
    split_legal_form,
    strip_reading_legal_form,
    web_domain,
)
from tokui.core.validation import (
    ErrorCollector,
    check_plain_text,
    check_text_fields,
    normalize_email,
    normalize_url,
)
from tokui.users.models import User
from tokui.users.selectors import user_assignable_owners

# The parent company (企業グループ) is written through the services like any field, but is not
# one of ACCOUNT_EDITABLE_FIELDS: merges and imports leave it alone (see tokui.accounts.groups).
ACCOUNT_WRITABLE_FIELDS = (*ACCOUNT_EDITABLE_FIELDS, "parent")

# Identifiers are typed in many shapes (hyphens, spaces, 〒, +81 …) and stored normalised.
_RAW_LIMITS = {"corporate_number": 20, "phone": 30, "fax": 30, "mobile": 30, "postal_code": 10}


def _digits(e164: str) -> str:
    """National digits of a stored +81 number (``0312345678``) so people can search as they dial."""
    if e164.startswith("+81"):
        return "0" + e164[3:]
    return e164.lstrip("+")


def _require_editor(actor: User) -> None:
    if not actor.may_edit_accounts:
        raise PermissionDenied(_("Your role can read accounts but not change them."))


def account_clean_data(
    *, actor: User, data: dict[str, Any], current: Account | None
) -> dict[str, Any]:
    """Validate and normalise account fields; raises one ApplicationError listing every problem.

    Pure apart from look-ups (uniqueness, owners): the services, merges and the import's bulk
    path all validate through it, so a value is accepted or refused the same way everywhere.
    """
    unknown = set(data) - set(ACCOUNT_WRITABLE_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    errors = ErrorCollector()
    text = {k: v for k, v in data.items() if k not in ("owner", "parent")}
    check_text_fields(Account, text, errors, raw_limits=_RAW_LIMITS)
    if errors.errors:
        errors.raise_if_any()
    clean: dict[str, Any] = {}
    for key, value in text.items():
        clean[key] = value.strip() if isinstance(value, str) else value

    if "name" in clean and not clean["name"]:
        errors.add("name", _("Enter the company name."))
    if "name_kana" in clean:
        clean["name_kana"] = errors.run(
            "name_kana", normalize_kana_reading, clean["name_kana"], field="name_kana"
        )
    if clean.get("name_kana"):
        clean["name_kana"] = strip_reading_legal_form(clean["name_kana"])
    if "legal_form_position" in clean and clean["legal_form_position"] not in (
        "",
        *LegalFormPosition.values,
    ):
        errors.add("legal_form_position", _("Choose before or after the name."))
    if "rank" in clean and clean["rank"] not in ("", *AccountRank.values):
        errors.add("rank", _("Choose one of: %(v)s.") % {"v": ", ".join(AccountRank.values)})
    if "entity_type" in clean and clean["entity_type"] not in EntityType.values:
        errors.add("entity_type", _("Choose a corporation or a sole proprietor."))
    if "employees" in clean and clean["employees"] is not None:
        employees = clean["employees"]
        if (
            isinstance(employees, bool)
            or not isinstance(employees, int)
            or not (0 <= employees <= 10_000_000)
        ):
            errors.add("employees", _("Enter a number of employees between 0 and 10,000,000."))
    if "kind" in clean and clean["kind"] not in AccountKind.values:
        errors.add("kind", _("Choose one of: %(v)s.") % {"v": ", ".join(AccountKind.values)})
    if "tier" in clean and clean["tier"] not in AccountTier.values:
        errors.add("tier", _("Choose one of: %(v)s.") % {"v": ", ".join(AccountTier.values)})
    if "corporate_number" in clean:
        if clean["corporate_number"]:
            number = errors.run(
                "corporate_number", normalize_corporate_number, clean["corporate_number"]
            )
            clean["corporate_number"] = number
            taken = Account.objects.filter(corporate_number=number)
            if current is not None:
                taken = taken.exclude(pk=current.pk)
            if number and taken.exists():
                errors.add(
                    "corporate_number",
                    _("Another account already has corporate number %(n)s.") % {"n": number},
                )
        else:
            clean["corporate_number"] = None
    for phone_field in ("phone", "fax"):
        if phone_field in clean:
            clean[phone_field] = (
                errors.run(phone_field, normalize_phone, clean[phone_field], field=phone_field)
                or ""
            )
    if "postal_code" in clean:
        clean["postal_code"] = (
            errors.run("postal_code", normalize_postal_code, clean["postal_code"]) or ""
        )
        # Fill prefecture and city from the offline postal data when they were left empty.
        found = postal_lookup(clean["postal_code"]) if clean["postal_code"] else None
        if found:
            current_pref = clean.get("prefecture", current.prefecture if current else "")
            current_city = clean.get("city", current.city if current else "")
            if not current_pref and not current_city:
                clean["prefecture"], clean["city"] = found
    if "invoice_registration_number" in clean:
        corporate = clean.get("corporate_number", current.corporate_number if current else None)
        entity = clean.get("entity_type", current.entity_type if current else "corporation")
        result = errors.run(
            "invoice_registration_number",
            normalize_invoice_number,
            clean["invoice_registration_number"],
            corporate_number=corporate,
            sole_proprietor=entity == EntityType.SOLE_PROPRIETOR,
        )
        clean["invoice_registration_number"] = result[0] if result else ""
    if "website" in clean:
        clean["website"] = normalize_url(clean["website"], errors)
        if len(clean["website"]) > 300:
            errors.add("website", _("The web address is too long."))
    if "notes" in clean:
        check_plain_text("notes", clean["notes"], errors)

    if "owner" in data:
        owner = data["owner"]
        if owner is None:
            errors.add("owner", _("Choose an owner."))
        elif not user_assignable_owners(viewer=actor).filter(pk=owner.pk).exists():
            errors.add(
                "owner",
                _("You cannot make %(user)s the owner: choose yourself or someone in your team.")
                % {"user": owner.username},
            )
        else:
            clean["owner"] = owner
    if "parent" in data:
        value = data["parent"]
        unchanged = (
            current is not None
            and ((value.pk if isinstance(value, Account) else value) or None) == current.parent_id
        )
        if unchanged:
            # Kept as it is: not checked again (the parent may since have been archived).
            clean["parent"] = current.parent if current is not None else None
        else:
            clean["parent"] = group_check_parent(
                actor=actor, value=value, current=current, errors=errors
            )
    errors.raise_if_any()
    return clean


ACCOUNT_DERIVED_FIELDS = (
    "legal_form",
    "legal_form_position",
    "match_key",
    "reading_key",
    "web_domain",
    "sort_key",
    "search_text",
    "search_bigrams",
)


def account_identity_warnings(account: Account) -> list[str]:
    """Things about an account's identity worth a second look, that are not errors."""
    warnings = []
    if account.invoice_registration_number and account.entity_type == EntityType.SOLE_PROPRIETOR:
        _number, warning = normalize_invoice_number(
            account.invoice_registration_number,
            corporate_number=account.corporate_number,
            sole_proprietor=True,
        )
        if warning:
            warnings.append(warning)
    return warnings


def account_derive_fields(account: Account) -> None:
    """Recompute the derived fields (keys, search text) from the typed ones. Pure: no write.

    Bulk loaders (imports, the data generator) call it before ``bulk_create``.
    """
    if not account.legal_form:
        form, position, _core = split_legal_form(account.name)
        if form:
            account.legal_form, account.legal_form_position = form, position
    account.match_key = company_match_key(account.name)[:200]
    account.reading_key = reading_match_key(account.name_kana)[:200]
    account.web_domain = web_domain(account.website)[:200]
    account.sort_key = fold(account.name_kana or account.name)[:200]
    parts = [
        account.name,
        account.name_kana,
        account.corporate_number or "",
        _digits(account.phone),
        account.industry,
        account.prefecture,
        account.city,
        account.website.split("://", 1)[-1],
    ]
    account.search_text = "|".join(fold(p) for p in parts if p)
    account.search_bigrams = bigrams(account.search_text)


@transaction.atomic
def account_create(*, actor: User, data: dict[str, Any], tags: list[str] | None = None) -> Account:
    """Create an account (and its tags: both or neither). The owner defaults to the actor."""
    account = _account_create_fields(actor=actor, data=data)
    if tags:
        account = account_set_tags(actor=actor, account=account, names=tags)
    return account


def _account_create_fields(*, actor: User, data: dict[str, Any]) -> Account:
    _require_editor(actor)
    data = dict(data)
    data.setdefault("owner", actor)
    clean = account_clean_data(actor=actor, data=data, current=None)
    if not clean.get("name"):
        raise ApplicationError(_("Enter the company name."), field="name", status=422)
    account = Account(**clean)
    account_derive_fields(account)
    account.save()
    fields = [f for f in ACCOUNT_WRITABLE_FIELDS if f in clean or f in ("kind", "tier")]
    audit_record(
        actor=actor,
        action="accounts.account.created",
        target=account,
        changes=diff({}, snapshot(account, fields)),
        scope=account_scope(account.pk),
    )
    return account


def _locked_visible_account(*, actor: User, account_id: int) -> Account:
    account = Account.objects.visible_to(actor).select_for_update().filter(pk=account_id).first()
    if account is None:
        raise NotFound(_("No such account."))
    return account


@transaction.atomic
def account_update(
    *,
    actor: User,
    account: Account,
    data: dict[str, Any],
    version: int | None = None,
    tags: list[str] | None = None,
) -> Account:
    """Change an account's fields and, when ``tags`` is given, its tags: all or nothing.

    ``version`` is what the editor loaded: a stale one is refused.
    """
    account = _account_update_fields(actor=actor, account=account, data=data, version=version)
    if tags is not None:
        account = account_set_tags(actor=actor, account=account, names=tags)
    return account


def _account_update_fields(
    *, actor: User, account: Account, data: dict[str, Any], version: int | None
) -> Account:
    _require_editor(actor)
    account = _locked_visible_account(actor=actor, account_id=account.pk)
    if account.is_archived:
        raise ApplicationError(_("This account is archived: restore it before changing it."))
    check_version(record=account, version=version)
    clean = account_clean_data(actor=actor, data=data, current=account)
    before = snapshot(account, clean.keys())
    for key, value in clean.items():
        setattr(account, key, value)
    changes = diff(before, snapshot(account, clean.keys()))
    if not changes:
        return account
    account_derive_fields(account)
    account.version += 1
    account.updated_at = timezone.now()
    account.save(update_fields=[*clean.keys(), *ACCOUNT_DERIVED_FIELDS, "version", "updated_at"])
    audit_record(
        actor=actor,
        action="accounts.account.updated",
        target=account,
        changes=changes,
        scope=account_scope(account.pk),
    )
    return account


@transaction.atomic
def account_archive(*, actor: User, account: Account, version: int | None = None) -> Account:
    """Archive (soft-delete) an account: it leaves the lists but keeps its history."""
    _require_editor(actor)
    account = _locked_visible_account(actor=actor, account_id=account.pk)
    if account.is_archived:
        return account
    check_version(record=account, version=version)
    account.archived_at = timezone.now()
    account.version += 1
    account.updated_at = account.archived_at
    account.save(update_fields=["archived_at", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="accounts.account.archived",
        target=account,
        changes={"archived": [False, True]},
        scope=account_scope(account.pk),
    )
    return account


@transaction.atomic
def account_restore(*, actor: User, account: Account) -> Account:
    _require_editor(actor)
    account = _locked_visible_account(actor=actor, account_id=account.pk)
    if not account.is_archived:
        return account
    if account.merged_into_id:
        raise ApplicationError(
            _("This account was merged into another one: undo the merge instead of restoring it.")
        )
    account.archived_at = None
    account.version += 1
    account.updated_at = timezone.now()
    account.save(update_fields=["archived_at", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="accounts.account.restored",
        target=account,
        changes={"archived": [True, False]},
        scope=account_scope(account.pk),
    )
    return account


def contact_clean_data(data: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise contact fields (see ``account_clean_data``); no writes."""
    unknown = set(data) - set(CONTACT_EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    errors = ErrorCollector()
    check_text_fields(Contact, data, errors, raw_limits=_RAW_LIMITS)
    errors.raise_if_any()
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    if "family_name" in clean and not clean["family_name"]:
        errors.add("family_name", _("Enter the family name."))
    for kana_field in ("family_name_kana", "given_name_kana"):
        if kana_field in clean:
            clean[kana_field] = errors.run(
                kana_field, normalize_kana_reading, clean[kana_field], field=kana_field
            )
    if "email" in clean:
        clean["email"] = normalize_email(clean["email"], errors)
    for phone_field in ("phone", "mobile"):
        if phone_field in clean:
            clean[phone_field] = (
                errors.run(phone_field, normalize_phone, clean[phone_field], field=phone_field)
                or ""
            )
    if "marketing_consent" in clean and not isinstance(clean["marketing_consent"], bool):
        errors.add("marketing_consent", _("Answer yes or no."))
    if "notes" in clean:
        check_plain_text("notes", clean["notes"], errors)
    errors.raise_if_any()
    return clean


CONTACT_DERIVED_FIELDS = (
    "sort_key",
    "search_text",
    "search_bigrams",
    "match_key",
    "reading_key",
    "email_key",
)


_WHITESPACE = re.compile(r"\s+")
# Each pair of neighbouring letters or digits ([^\W_], the runs of ``bigrams``), overlapping.
_LETTER_PAIRS = re.compile(r"(?=([^\W_]{2}))")


def _search_piece(text: str) -> tuple[str, frozenset[str]]:
    """One part of a contact's ``search_text`` (folded, without spaces) and its bigrams.

    ``bigrams`` pairs letters within runs of letters and digits, and the ``|`` between parts
    ends a run, so the bigrams of the whole search text are the union of its parts' bigrams.
    """
    squeezed = _WHITESPACE.sub("", text)
    # An e-mail address or phone digits: for ASCII, NFKC and the kana step of fold() change
    # nothing, so folding is lower-casing (and half the cost of these unique parts).
    folded = squeezed.lower() if squeezed.isascii() else fold(squeezed)
    # bigrams(folded).split() as a set, in one pass: every two neighbouring letters or digits
    # (a run of n of them has n - 1 pairs; a pair never spans a character outside the runs).
    return folded, frozenset(_LETTER_PAIRS.findall(folded))


# Names, readings, departments and titles repeat across contacts (an import of many rows
# derives the same few thousand again and again); folding them is the costliest step, so
# these pure functions remember their recent results (bounded: memory stays flat).
_repeating_search_piece = functools.lru_cache(maxsize=8192)(_search_piece)
_repeating_fold = functools.lru_cache(maxsize=4096)(fold)
_repeating_person_key = functools.lru_cache(maxsize=8192)(person_match_key)


def contact_derive_fields(contact: Contact) -> None:
    """Recompute a contact's derived fields (keys, search text). Pure: no write."""
    reading = " ".join(p for p in (contact.family_name_kana, contact.given_name_kana) if p)
    contact.sort_key = _repeating_fold(reading or contact.full_name)[:200]
    # The parts of search_text, in order; e-mail address and phone numbers rarely repeat.
    parts = [
        (contact.family_name + contact.given_name, True),
        (contact.given_name + contact.family_name, True),
        (contact.family_name_kana + contact.given_name_kana, True),
        (contact.email, False),
        (_digits(contact.phone), False),
        (_digits(contact.mobile), False),
        (contact.department, True),
        (contact.title, True),
    ]
    pieces = [
        (_repeating_search_piece if repeating else _search_piece)(part)
        for part, repeating in parts
        if part
    ]
    contact.search_text = "|".join(folded for folded, _pairs in pieces)
    contact.search_bigrams = " ".join(sorted(frozenset().union(*(p for _f, p in pieces))))
    contact.match_key = _repeating_person_key(contact.family_name, contact.given_name)[:200]
    contact.reading_key = _repeating_person_key(contact.family_name_kana, contact.given_name_kana)[
        :200
    ]
    contact.email_key = contact.email.lower()


@transaction.atomic
def contact_create(*, actor: User, account: Account, data: dict[str, Any]) -> Contact:
    _require_editor(actor)
    account = _locked_visible_account(actor=actor, account_id=account.pk)
    if account.is_archived:
        raise ApplicationError(_("This account is archived: restore it before adding contacts."))
    clean = contact_clean_data(data)
    if not clean.get("family_name"):
        raise ApplicationError(_("Enter the family name."), field="family_name", status=422)
    contact = Contact(account=account, **clean)
    contact_derive_fields(contact)
    contact.save()
    audit_record(
        actor=actor,
        action="accounts.contact.created",
        target=contact,
        changes=diff({}, snapshot(contact, clean.keys())),
        scope=account_scope(account.pk),
    )
    return contact


def _locked_visible_contact(*, actor: User, contact_id: int) -> Contact:
    contact = Contact.objects.visible_to(actor).select_for_update().filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(_("No such contact."))
    return contact


@transaction.atomic
def contact_update(
    *, actor: User, contact: Contact, data: dict[str, Any], version: int | None = None
) -> Contact:
    _require_editor(actor)
    contact = _locked_visible_contact(actor=actor, contact_id=contact.pk)
    if contact.is_archived:
        raise ApplicationError(_("This contact is archived."))
    check_version(record=contact, version=version)
    clean = contact_clean_data(data)
    before = snapshot(contact, clean.keys())
    for key, value in clean.items():
        setattr(contact, key, value)
    changes = diff(before, snapshot(contact, clean.keys()))
    if not changes:
        return contact
    contact_derive_fields(contact)
    contact.version += 1
    contact.updated_at = timezone.now()
    contact.save(update_fields=[*clean.keys(), *CONTACT_DERIVED_FIELDS, "version", "updated_at"])
    audit_record(
        actor=actor,
        action="accounts.contact.updated",
        target=contact,
        changes=changes,
        scope=account_scope(contact.account_id),
    )
    return contact


@transaction.atomic
def contact_archive(*, actor: User, contact: Contact, version: int | None = None) -> Contact:
    _require_editor(actor)
    contact = _locked_visible_contact(actor=actor, contact_id=contact.pk)
    if contact.is_archived:
        return contact
    check_version(record=contact, version=version)
    contact.archived_at = timezone.now()
    contact.version += 1
    contact.updated_at = contact.archived_at
    contact.save(update_fields=["archived_at", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="accounts.contact.archived",
        target=contact,
        changes={"archived": [False, True]},
        scope=account_scope(contact.account_id),
    )
    return contact
