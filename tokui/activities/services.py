"""Writes for interactions: every touch with a customer (calls, meetings, mail, notes …).

Who may do what:

- **Log** an interaction: anyone who may see the account, the service department included
  (support staff talk to customers too, and their calls belong on the timeline). An archived
  account takes no new hand-logged interactions; restore it first.
- **Change or delete** one: its author, the account's owner, a head of sales or an
  administrator. Deleting is soft (``archived_at``): the interaction leaves the timeline and
  the audit trail keeps what it was.

Every write is one transaction with one audit event under the account's scope
(``account:<id>``), so it shows on the account's timeline.

``interaction_record`` is the entry point for the other parts of Tokui that create
interactions on their own (mail in and out, telephony, appointments held): it is idempotent on
the Message-ID and on (source, external id).
"""

import datetime
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, Contact, account_scope
from tokui.activities.constants import (
    DIRECTED_KINDS,
    CallOutcome,
    Direction,
    InteractionKind,
    InteractionSource,
    MeetingMode,
)
from tokui.activities.models import Interaction, InteractionAttachment
from tokui.core.audit import audit_record, check_version, diff, snapshot
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.japanese import normalize_phone
from tokui.core.validation import ErrorCollector, check_text_fields
from tokui.users.constants import Role
from tokui.users.models import User

# Fields a person (page or API) may set; the mail, telephony and appointment code may set more
# through ``interaction_record``.
INTERACTION_EDITABLE_FIELDS = (
    "kind",
    "direction",
    "occurred_at",
    "subject",
    "body",
    "duration_seconds",
    "outcome",
    "phone_number",
    "meeting_mode",
    "location",
    "contacts",
    "participants",
)
# Fields only the system paths set (mail headers, the appointment held, the mailbox …).
INTERACTION_RECORD_FIELDS = (
    *INTERACTION_EDITABLE_FIELDS,
    "in_reply_to",
    "thread_key",
    "email_from",
    "email_to",
    "email_cc",
    "mailbox",
    "appointment",
    "delivery_status",
    "delivery_error",
    "regarding_type",
    "regarding_id",
)
# Fields whose changes the audit trail records (the many-to-many as lists of names).
_AUDITED = (
    "kind",
    "direction",
    "occurred_at",
    "subject",
    "body",
    "duration_seconds",
    "outcome",
    "phone_number",
    "meeting_mode",
    "location",
)
CALL_ONLY = ("duration_seconds", "outcome", "phone_number")
MEETING_KINDS = frozenset({InteractionKind.MEETING, InteractionKind.VISIT})
MEETING_ONLY = ("meeting_mode", "location")
# A logged interaction happened already; clocks differ by a little.
CLOCK_SKEW = datetime.timedelta(minutes=5)
EARLIEST = datetime.datetime(1950, 1, 1, tzinfo=datetime.UTC)
MAX_CALL_SECONDS = 24 * 3600
MAX_BODY = 50_000  # typed by a person
MAX_RECORDED_BODY = 2_000_000  # a fetched mail
MAX_CONTACTS = 50
MAX_PARTICIPANTS = 50
_RAW_LIMITS = {"phone_number": 30}


@dataclass(frozen=True)
class AttachmentIn:
    """A file that comes with a recorded interaction (a mail's attachment)."""

    name: str
    content: bytes
    content_type: str = ""


def interaction_may_change(*, actor: User, interaction: Interaction) -> bool:
    """Author, the account's owner, heads of sales and administrators change an interaction."""
    if not actor.is_active:
        return False
    if actor.role in (Role.HEAD, Role.ADMIN):
        return True
    return actor.pk in (interaction.author_id, interaction.account.owner_id)


def interaction_may_log(*, actor: User, account: Account) -> bool:
    return actor.is_active and account.archived_at is None


def _visible_account(*, actor: User, account_id: int) -> Account:
    account = Account.objects.visible_to(actor).filter(pk=account_id).first()
    if account is None:
        raise NotFound(_("No such account."))
    return account


def _locked_interaction(*, actor: User, interaction_id: int) -> Interaction:
    found = (
        Interaction.objects.select_for_update()
        .filter(
            pk=interaction_id,
            archived_at__isnull=True,
            account__in=Account.objects.visible_to(actor).values("pk"),
        )
        .first()
    )
    if found is None:
        raise NotFound(_("No such interaction."))
    # The account (for the owner check) without locking it as well.
    found.account = Account.objects.get(pk=found.account_id)
    return found


def _ids(values: Iterable[Any]) -> list[int] | None:
    """Ids from model instances or numbers; None when one is not an id at all."""
    ids: list[int] = []
    for value in values:
        pk = getattr(value, "pk", value)
        if isinstance(pk, bool) or not isinstance(pk, int):
            try:
                pk = int(str(pk))
            except ValueError:
                return None
        ids.append(pk)
    return ids


def interaction_clean_data(
    *,
    account: Account,
    data: dict[str, Any],
    current: Interaction | None,
    allowed: Sequence[str] = INTERACTION_EDITABLE_FIELDS,
    body_limit: int = MAX_BODY,
) -> dict[str, Any]:
    """Validate and normalise interaction fields; raises one ApplicationError listing all.

    ``data`` holds the fields to set (``contacts``/``participants`` as lists of instances or
    ids). The rules look at the result: on an update, the stored values fill what ``data``
    leaves out, so changing a call into a note asks to clear the call's fields.
    """
    unknown = set(data) - set(allowed)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    errors = ErrorCollector()
    text = {
        k: v
        for k, v in data.items()
        if isinstance(v, str) and k not in ("contacts", "participants", "regarding_type")
    }
    check_text_fields(Interaction, text, errors, raw_limits=_RAW_LIMITS)
    clean: dict[str, Any] = {}
    for key, value in data.items():
        clean[key] = value.strip() if isinstance(value, str) and key != "body" else value
    if isinstance(clean.get("body"), str) and len(clean["body"]) > body_limit:
        errors.add(
            "body",
            _("The text is too long: at most %(limit)d characters (it has %(n)d).")
            % {"limit": body_limit, "n": len(clean["body"])},
        )

    def value_of(name: str) -> Any:
        if name in clean:
            return clean[name]
        return getattr(current, name) if current is not None else None

    kind = value_of("kind")
    if kind not in InteractionKind.values:
        errors.add("kind", _("Choose one of: %(v)s.") % {"v": ", ".join(InteractionKind.values)})
        errors.raise_if_any()
    kind_label = str(InteractionKind(kind).label)

    direction = value_of("direction") or ""
    if kind in DIRECTED_KINDS:
        if direction not in Direction.values:
            errors.add("direction", _("Choose inbound or outbound."))
    elif direction:
        errors.add(
            "direction", _("A %(kind)s has no direction: leave it empty.") % {"kind": kind_label}
        )

    if kind != InteractionKind.CALL:
        for name in CALL_ONLY:
            if value_of(name) not in (None, ""):
                errors.add(name, _("Only calls have this: leave it empty."))
    else:
        duration = value_of("duration_seconds")
        if duration is not None and (
            isinstance(duration, bool)
            or not isinstance(duration, int)
            or not 0 <= duration <= MAX_CALL_SECONDS
        ):
            errors.add("duration_seconds", _("Enter a duration between 0 and 24 hours."))
        outcome = value_of("outcome") or ""
        if outcome and outcome not in CallOutcome.values:
            errors.add("outcome", _("Choose one of: %(v)s.") % {"v": ", ".join(CallOutcome.values)})
        if clean.get("phone_number"):
            clean["phone_number"] = (
                errors.run(
                    "phone_number", normalize_phone, clean["phone_number"], field="phone_number"
                )
                or ""
            )

    if kind not in MEETING_KINDS:
        for name in MEETING_ONLY:
            if value_of(name):
                errors.add(name, _("Only meetings and visits have this: leave it empty."))
    else:
        mode = value_of("meeting_mode") or ""
        if mode and mode not in MeetingMode.values:
            errors.add(
                "meeting_mode", _("Choose one of: %(v)s.") % {"v": ", ".join(MeetingMode.values)}
            )

    if "occurred_at" in clean:
        when = clean["occurred_at"]
        if not isinstance(when, datetime.datetime) or timezone.is_naive(when):
            errors.add("occurred_at", _("Enter a date and time."))
        elif when > timezone.now() + CLOCK_SKEW:
            errors.add(
                "occurred_at",
                _("This is in the future: log an interaction once it has happened."),
            )
        elif when < EARLIEST:
            errors.add("occurred_at", _("Enter a date after 1950."))

    if "contacts" in clean:
        ids = _ids(clean["contacts"] or [])
        if ids is None:
            errors.add("contacts", _("Choose contacts of this account."))
        elif len(set(ids)) > MAX_CONTACTS:
            errors.add("contacts", _("Choose at most %(n)d contacts.") % {"n": MAX_CONTACTS})
        else:
            found = list(Contact.objects.filter(pk__in=set(ids), account_id=account.pk))
            if len(found) != len(set(ids)):
                errors.add(
                    "contacts", _("Some of the chosen contacts do not belong to this account.")
                )
            clean["contacts"] = sorted(found, key=lambda c: c.pk)
    if "participants" in clean:
        ids = _ids(clean["participants"] or [])
        if ids is None:
            errors.add("participants", _("Choose active users."))
        elif len(set(ids)) > MAX_PARTICIPANTS:
            errors.add("participants", _("Choose at most %(n)d people.") % {"n": MAX_PARTICIPANTS})
        else:
            users = list(User.objects.filter(pk__in=set(ids), is_active=True))
            if len(users) != len(set(ids)):
                errors.add("participants", _("Some of the chosen people are not active users."))
            clean["participants"] = sorted(users, key=lambda u: u.pk)
    errors.raise_if_any()
    return clean


def _people_snapshot(interaction: Interaction) -> dict[str, Any]:
    return {
        "contacts": sorted(str(c) for c in interaction.contacts.all()),
        "participants": sorted(str(u) for u in interaction.participants.all()),
    }


def _apply(interaction: Interaction, clean: dict[str, Any]) -> list[str]:
    """Set the plain fields of ``clean``; returns their names (the m2m are set after save)."""
    names = []
    for key, value in clean.items():
        if key in ("contacts", "participants"):
            continue
        if key in ("direction", "outcome", "meeting_mode", "location", "phone_number"):
            value = value or ""
        setattr(interaction, key, value)
        names.append(key)
    return names


def _set_people(interaction: Interaction, clean: dict[str, Any]) -> None:
    if "contacts" in clean:
        interaction.contacts.set(clean["contacts"])
    if "participants" in clean:
        interaction.participants.set(clean["participants"])


@transaction.atomic
def interaction_create(
    *, actor: User, account: Account, data: dict[str, Any], regarding: models.Model | None = None
) -> Interaction:
    """Log an interaction by hand (page or API). ``occurred_at`` defaults to now.

    ``regarding``: the record it is about (a deal …), set by the higher app's page that logs it;
    the caller has checked that record is the actor's to see.
    """
    account = _visible_account(actor=actor, account_id=account.pk)
    if not actor.is_active:
        raise PermissionDenied(_("Your user is not active."))
    if account.archived_at is not None:
        raise ApplicationError(
            _("This account is archived: restore it before logging interactions."), status=422
        )
    data = dict(data)
    source = data.pop("source", InteractionSource.MANUAL)
    data.setdefault("occurred_at", timezone.now())
    clean = interaction_clean_data(account=account, data=data, current=None)
    interaction = Interaction(account=account, author=actor, source=source)
    _apply(interaction, clean)
    if regarding is not None:
        interaction.regarding = regarding
    interaction.save()
    _set_people(interaction, clean)
    changes = diff({}, snapshot(interaction, [f for f in _AUDITED if f in clean]))
    changes.update(diff({}, _people_snapshot(interaction)))
    audit_record(
        actor=actor,
        action="activities.interaction.created",
        target=interaction,
        changes={k: v for k, v in changes.items() if v[1] not in ("", [], None)},
        scope=account_scope(account.pk),
    )
    return interaction


@transaction.atomic
def interaction_update(
    *,
    actor: User,
    interaction: Interaction,
    data: dict[str, Any],
    version: int | None = None,
) -> Interaction:
    """Change an interaction; ``version`` is what the editor loaded (a stale one is refused)."""
    interaction = _locked_interaction(actor=actor, interaction_id=interaction.pk)
    if not interaction_may_change(actor=actor, interaction=interaction):
        raise PermissionDenied(
            _(
                "Only the author, the account's owner or a head of sales may change this "
                "interaction."
            )
        )
    check_version(record=interaction, version=version)
    clean = interaction_clean_data(account=interaction.account, data=data, current=interaction)
    before = {**snapshot(interaction, _AUDITED), **_people_snapshot(interaction)}
    names = _apply(interaction, clean)
    _set_people(interaction, clean)
    after = {**snapshot(interaction, _AUDITED), **_people_snapshot(interaction)}
    changes = diff(before, after)
    if not changes:
        return interaction
    interaction.version += 1
    interaction.updated_at = timezone.now()
    interaction.save(update_fields=[*names, "version", "updated_at"])
    audit_record(
        actor=actor,
        action="activities.interaction.updated",
        target=interaction,
        changes=changes,
        scope=account_scope(interaction.account_id),
    )
    return interaction


@transaction.atomic
def interaction_delete(
    *, actor: User, interaction: Interaction, version: int | None = None
) -> Interaction:
    """Delete (soft) an interaction: it leaves the timeline; the audit event keeps it."""
    interaction = _locked_interaction(actor=actor, interaction_id=interaction.pk)
    if not interaction_may_change(actor=actor, interaction=interaction):
        raise PermissionDenied(
            _(
                "Only the author, the account's owner or a head of sales may delete this "
                "interaction."
            )
        )
    check_version(record=interaction, version=version)
    interaction.archived_at = timezone.now()
    interaction.version += 1
    interaction.updated_at = interaction.archived_at
    interaction.save(update_fields=["archived_at", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="activities.interaction.deleted",
        target=interaction,
        changes={"archived": [False, True]},
        scope=account_scope(interaction.account_id),
    )
    return interaction


def _existing(*, message_id: str, source: str, external_id: str) -> Interaction | None:
    if message_id:
        found = Interaction.objects.filter(message_id=message_id).first()
        if found is not None:
            return found
    if external_id:
        return Interaction.objects.filter(source=source, external_id=external_id).first()
    return None


def _store_attachments(interaction: Interaction, attachments: Sequence[AttachmentIn]) -> None:
    for item in attachments:
        name = (item.name or "attachment").replace("/", "_").replace("\\", "_")[:255]
        record = InteractionAttachment(
            interaction=interaction,
            name=name,
            content_type=(item.content_type or "")[:255],
            size=len(item.content),
            sha256=hashlib.sha256(item.content).hexdigest(),
        )
        record.file.save(name, ContentFile(item.content), save=False)
        record.save()


def interaction_record(
    *,
    actor: User | None,
    account: Account,
    kind: str,
    source: str,
    data: dict[str, Any],
    message_id: str = "",
    external_id: str = "",
    attachments: Sequence[AttachmentIn] = (),
) -> Interaction:
    """Create an interaction that another part of Tokui observed (a mail fetched or sent, a
    telephony call event, an appointment held), or return the one already recorded.

    Idempotent: a ``message_id`` (a mail's Message-ID) or a (``source``, ``external_id``) pair
    seen before returns the existing interaction unchanged, even when two workers record the
    same message at once. The caller has checked who may record (this path trusts it); the
    fields are validated like a hand-logged interaction, except that the time may be anything
    a real clock produced and the text may be as long as a mail. Side effects: one audit event
    (``activities.interaction.recorded``), attachments stored through the storage API.
    """
    if source not in InteractionSource.values:
        raise ApplicationError(
            _("Choose one of: %(v)s.") % {"v": ", ".join(InteractionSource.values)},
            field="source",
            status=422,
        )
    message_id = (message_id or "").strip()
    external_id = (external_id or "").strip()
    errors = ErrorCollector()
    check_text_fields(Interaction, {"message_id": message_id, "external_id": external_id}, errors)
    errors.raise_if_any()
    found = _existing(message_id=message_id, source=source, external_id=external_id)
    if found is not None:
        return found
    data = {**data, "kind": kind}
    data.setdefault("occurred_at", timezone.now())
    # A recorded time comes from a clock (a mail's Date header may be a little ahead).
    when = data["occurred_at"]
    if isinstance(when, datetime.datetime) and timezone.is_aware(when):
        data["occurred_at"] = min(when, timezone.now())
    clean = interaction_clean_data(
        account=account,
        data=data,
        current=None,
        allowed=INTERACTION_RECORD_FIELDS,
        body_limit=MAX_RECORDED_BODY,
    )
    try:
        with transaction.atomic():
            interaction = Interaction(
                account=account,
                author=actor if actor is not None and actor.pk else None,
                source=source,
                message_id=message_id,
                external_id=external_id,
            )
            _apply(interaction, clean)
            interaction.save()
            _set_people(interaction, clean)
            if attachments:
                _store_attachments(interaction, attachments)
            audit_record(
                actor=actor,
                action="activities.interaction.recorded",
                target=interaction,
                changes={"source": [None, source]},
                scope=account_scope(account.pk),
            )
    except IntegrityError:
        # Another worker recorded the same message between our look-up and our insert.
        found = _existing(message_id=message_id, source=source, external_id=external_id)
        if found is None:
            raise
        return found
    return interaction
