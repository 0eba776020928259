"""The fast path of an import: new records of a batch written with one INSERT each kind.

A row takes the fast path only when nothing about it needs a decision: it matches no record
(visible or not), shares no key with another row of its batch and, for a contact, belongs to an
account that exists, is visible and is not archived. Such a row would be created by the
service in every mode, so the fast path does exactly what ``account_create`` /
``contact_create`` do (same normalisation and validation functions, same derived fields, one
``accounts.*.created`` audit event per record) but with the batch's look-ups done in a few
queries and the records and events written a batch at a time (contacts and all events with
``RowInserter``'s prepared INSERT, accounts with ``bulk_create``). Every other row (matches,
new accounts for contacts, duplicates within the batch) and every row with an error takes the
service path one by one, so reports and error messages are the service's own. See
docs/adr/0003-bulk-import.md.
"""

import functools
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model

from tokui.accounts.constants import ACCOUNT_EDITABLE_FIELDS
from tokui.accounts.imports.bulkinsert import RowInserter
from tokui.accounts.imports.convert import RowInput
from tokui.accounts.imports.matching import PREFERRED, AccountKeys, ContactKeys
from tokui.accounts.models import Account, Contact, account_scope
from tokui.accounts.services import (
    account_clean_data,
    account_derive_fields,
    contact_clean_data,
    contact_derive_fields,
)
from tokui.core.audit import diff, snapshot
from tokui.core.exceptions import ApplicationError
from tokui.core.japanese import company_match_key
from tokui.core.models import AuditEvent
from tokui.users.models import User

# Contact fields whose values repeat across rows (names, readings, titles, a company's
# switchboard number): contact_clean_data checks each field on its own, so the result for one value
# is the result wherever it appears. Phone numbers are the costliest field to check (parsing
# with phonenumbers), so a repeated one is parsed once.
_REPEATING = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "title",
    "department",
    "phone",
    "mobile",
)
_UNKNOWN = object()
_CACHE_LIMIT = 50_000


class ContactCleaner:
    """``contact_clean_data`` with the results for repeating field values remembered.

    Returns None when the row has any error: the caller then sends it through the service,
    which reports the error exactly as it would for a form.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, Any], Any] = {}

    def clean(self, data: dict[str, Any]) -> dict[str, Any] | None:
        known: dict[str, Any] = {}
        for name in _REPEATING:
            if name in data:
                found = self._cache.get((name, data[name]), _UNKNOWN)
                if found is not _UNKNOWN:
                    known[name] = found
        # One call for everything not remembered (a new name, a new phone number, the e-mail
        # address): one call per row costs less than one per new value.
        try:
            rest = contact_clean_data({k: v for k, v in data.items() if k not in known})
        except ApplicationError:
            return None  # not remembered: which field was refused is the service's to say
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()  # memory stays flat on any file
        for name in _REPEATING:
            if name in rest:
                self._cache[(name, data[name])] = rest[name]
        merged = {**known, **rest}
        if not merged.get("family_name"):
            return None
        return {k: merged[k] for k in data}  # the service's key order, for the audit event


@functools.lru_cache(maxsize=10_000)
def _company_key(company: str) -> str:
    """``company_match_key`` (as ``company_account`` cuts it) of a company named on many rows."""
    return company_match_key(company)[:200]


@functools.cache
def _inserter(model: type[Model]) -> RowInserter:
    return RowInserter(model)


def _created_event(
    *, defaults: dict[str, Any], actor: User, record: Any, fields: Any, scope: str
) -> dict[str, Any]:
    """The event ``audit_record`` writes for a created record, as a row for ``RowInserter``."""
    return {
        **defaults,
        "actor_id": actor.pk if getattr(actor, "pk", None) else None,
        "action": f"accounts.{record._meta.model_name}.created",
        "target_type": record._meta.label_lower,
        "target_id": str(record.pk),
        "target_repr": str(record)[:300],
        "scope": scope,
        "changes": diff({}, snapshot(record, fields)),
        "note": "",
    }


def _created_changes(record: Any, clean: dict[str, Any]) -> dict[str, list[Any]]:
    """``diff({}, snapshot(record, clean.keys()))`` of a record just built from ``clean``.

    A snapshot shows strings and booleans as they are, and ``diff`` keeps every value that is
    not None, so for the usual row (nothing but strings and booleans) the changes are each value
    after None; anything else takes the audit module's own functions.
    """
    for value in clean.values():
        if value.__class__ is not str and value.__class__ is not bool:
            return diff({}, snapshot(record, clean.keys()))
    return {name: [None, value] for name, value in clean.items()}


def _unsaved_contact(values: dict[str, Any]) -> Contact:
    """A Contact holding ``values`` (every field's attname), without ``Model.__init__``.

    ``Contact(**clean)`` cost more per row than validating it. ``contact_derive_fields``, the
    audit snapshot and ``str()`` only read and set field attributes, so a bare instance whose
    ``__dict__`` holds the same values as ``__init__`` would have set does for them; it is
    never saved (``RowInserter`` writes its ``vars()``).
    """
    contact = Contact.__new__(Contact)
    contact.__dict__.update(values)
    return contact


def _unique(keys: list[Any]) -> set[Any]:
    counts = Counter(k for k in keys if k)
    return {k for k, n in counts.items() if n == 1}


@dataclass(slots=True)
class ContactRow:
    """What the fast path needs of one contact row, worked out without the database.

    ``contact`` is the row's contact as ``contact_create`` would build it (cleaned, derived
    fields set; no account and no timestamps yet) with the changes of its audit event, or None
    when the row can only take the service path (a value the service refuses, no family name,
    no company, no name key).
    """

    number: int
    row: RowInput
    keys: ContactKeys
    company_key: str
    contact: Contact | None = None
    changes: dict[str, list[Any]] | None = None
    label: str = ""


def contact_rows(rows: list[tuple[int, RowInput]], cleaner: ContactCleaner) -> list[ContactRow]:
    """The database-free half of ``fast_contacts``: keys, validation, derived fields, changes.

    Pure (no query, no write), so it may run ahead of the batch before it being written.
    """
    defaults = _inserter(Contact).defaults()
    prepared = []
    for number, row in rows:
        item = ContactRow(number, row, ContactKeys.of(row.data), _company_key(row.company))
        if item.keys.name and item.company_key:
            clean = cleaner.clean(row.data)
            if clean is not None:
                # What Contact(**clean) would hold: defaults, then the row's values.
                contact = _unsaved_contact({**defaults, **clean})
                contact_derive_fields(contact)
                item.contact, item.changes = contact, _created_changes(contact, clean)
                item.label = str(contact)[:300]
        prepared.append(item)
    return prepared


def fast_contacts(*, actor: User, rows: list[ContactRow]) -> tuple[dict[int, int], set[int]]:
    """Create the contacts of the rows that need no decision.

    ``rows`` come from ``contact_rows``; returns ``({row number: contact id}, row numbers left
    to the service path)``.
    """
    wanted = {r.company_key for r in rows if r.company_key}
    accounts: dict[str, tuple[int, bool]] = {}
    for key, pk, archived_at in (
        Account.objects.visible_to(actor)
        .filter(match_key__in=wanted)
        .order_by(*PREFERRED)
        .values_list("match_key", "pk", "archived_at")
    ):
        accounts.setdefault(key, (pk, archived_at is None))
    live_accounts = {key: pk for key, (pk, live) in accounts.items() if live}
    account_of = {
        r.number: live_accounts[r.company_key] for r in rows if r.company_key in live_accounts
    }
    emails = {r.keys.email for r in rows if r.keys.email}
    taken_emails = set(
        Contact.objects.filter(email_key__in=emails).values_list("email_key", flat=True)
    )
    # contact_match's rule: a name matches at the account when the row or the stored contact
    # has no e-mail address (two namesakes with their own addresses are two people).
    # Two queries, so that the one for rows with an address can use the e-mail index (stored
    # contacts without an address are few) rather than scan every namesake.
    named: set[tuple[int, str]] = set()
    named_without_email: set[tuple[int, str]] = set()
    for with_email, found in ((True, named_without_email), (False, named)):
        people = [
            (account_of[r.number], r.keys.name)
            for r in rows
            if r.keys.name and r.number in account_of and bool(r.keys.email) == with_email
        ]
        if not people:
            continue
        stored = Contact.objects.filter(
            account_id__in={a for a, _name in people}, match_key__in={m for _a, m in people}
        )
        if with_email:
            stored = stored.filter(email_key="")
        found.update(stored.values_list("account_id", "match_key").distinct())
    named |= named_without_email
    unique_emails = _unique([r.keys.email for r in rows])
    in_batch = Counter((account_of.get(r.number), r.keys.name) for r in rows)
    in_batch_without_email = Counter(
        (account_of.get(r.number), r.keys.name) for r in rows if not r.keys.email
    )

    kept: list[tuple[int, Contact, ContactRow]] = []
    slow: set[int] = set()
    for r in rows:
        keys = r.keys
        account_id: int | None = account_of.get(r.number)
        person = (account_id, keys.name)
        if keys.email:
            clash = (
                keys.email in taken_emails
                or keys.email not in unique_emails
                or person in named_without_email
                or in_batch_without_email[person] > 0
            )
        else:
            clash = person in named or in_batch[person] > 1
        if account_id is None or not keys.name or clash or r.contact is None:
            slow.add(r.number)
            continue
        kept.append((account_id, r.contact, r))
    if not kept:
        return {}, slow
    contacts = _inserter(Contact)
    with transaction.atomic():
        # contact_create locks the account; so does the batch, once for all its rows.
        live = set(
            Account.objects.select_for_update(of=("self",))
            .filter(pk__in={account_id for account_id, _c, _r in kept}, archived_at__isnull=True)
            .values_list("pk", flat=True)
        )
        slow.update(r.number for account_id, _c, r in kept if account_id not in live)
        kept = [item for item in kept if item[0] in live]
        # The batch is written now: its rows take this moment's timestamps.
        stamps = contacts.stamps()
        values = []
        for account_id, contact, _r in kept:
            row = vars(contact)
            row.update(stamps)
            row["account_id"] = account_id
            values.append(row)
        pks = contacts.insert(values, returning=True)
        events = _inserter(AuditEvent)
        # What audit_record writes for each (see _created_event), built once for the batch.
        event = {
            **events.defaults(),
            "actor_id": actor.pk if getattr(actor, "pk", None) else None,
            "action": "accounts.contact.created",
            "target_type": Contact._meta.label_lower,
            "note": "",
        }
        events.insert(
            [
                {
                    **event,
                    "target_id": str(pk),
                    "target_repr": r.label,
                    "scope": account_scope(account_id),
                    "changes": r.changes,
                }
                for (account_id, _contact, r), pk in zip(kept, pks, strict=True)
            ]
        )
    return {r.number: pk for (_a, _c, r), pk in zip(kept, pks, strict=True)}, slow


def fast_accounts(
    *, actor: User, rows: list[tuple[int, RowInput]]
) -> tuple[dict[int, int], set[int]]:
    """Create the accounts of the rows that need no decision; like ``fast_contacts``."""
    keys = {number: AccountKeys.of(row.data) for number, row in rows}
    numbers = {k.corporate_number for k in keys.values() if k.corporate_number}
    taken_numbers = set(
        Account.objects.filter(corporate_number__in=numbers).values_list(
            "corporate_number", flat=True
        )
    )
    match_keys = {k.match_key for k in keys.values() if k.match_key}
    taken_phones, taken_domains = set(), set()
    for match_key, phone, domain in Account.objects.filter(match_key__in=match_keys).values_list(
        "match_key", "phone", "web_domain"
    ):
        taken_phones.add((match_key, phone))
        taken_domains.add((match_key, domain))
    unique_numbers = _unique([k.corporate_number for k in keys.values()])
    unique_names = _unique([k.match_key for k in keys.values()])

    kept: list[tuple[int, Account, dict[str, Any]]] = []
    slow: set[int] = set()
    for number, row in rows:
        k = keys[number]
        if (
            not k.match_key
            or k.match_key not in unique_names
            or (k.corporate_number and k.corporate_number not in unique_numbers)
            or k.corporate_number in taken_numbers
            or (k.phone and (k.match_key, k.phone) in taken_phones)
            or (k.domain and (k.match_key, k.domain) in taken_domains)
        ):
            slow.add(number)
            continue
        data = dict(row.data)
        data.setdefault("owner", actor)
        try:
            clean = account_clean_data(actor=actor, data=data, current=None)
        except ApplicationError:
            slow.add(number)
            continue
        if not clean.get("name"):
            slow.add(number)
            continue
        account = Account(**clean)
        account_derive_fields(account)
        kept.append((number, account, clean))
    if not kept:
        return {}, slow
    try:
        with transaction.atomic():
            Account.objects.bulk_create([account for _n, account, _c in kept])
            events = _inserter(AuditEvent)
            event_defaults = events.defaults()
            events.insert(
                [
                    _created_event(
                        defaults=event_defaults,
                        actor=actor,
                        record=account,
                        fields=[
                            f
                            for f in ACCOUNT_EDITABLE_FIELDS
                            if f in clean or f in ("kind", "tier")
                        ],
                        scope=account_scope(account.pk),
                    )
                    for _number, account, clean in kept
                ]
            )
    except IntegrityError:
        # Someone saved the same 法人番号 meanwhile: the service path sorts the rows out.
        return {}, slow | {number for number, _account, _clean in kept}
    return {number: account.pk for number, account, _clean in kept}, slow
