"""Call events from a telephony system (PBX, cloud phone) become call interactions.

The system posts each finished call to ``POST /api/v1/telephony/calls`` with a bearer token of
a *service user*: an ordinary Tokui user created for the phone system (the service department
role sees every account and is the usual choice; a team member's token sees that team's
accounts only). The caller's number (the callee's for an outgoing call) is normalised to E.164
whatever its format (``03-1234-5678``, ``+81312345678``, ``0312345678``, full-width digits) and
matched to the phone or mobile of a contact the service user may see, else to an account's
phone. A matched call is recorded once per ``call_id`` (a repeat returns the same interaction);
an unknown or withheld number records nothing and answers "unmatched" — a phone system posts
every call, most of them from numbers that are no customer's, and a task for each would bury
the real ones.

``user`` names the Tokui user on our side (their user name): they become the call's author and
participant. Tokui stores no extension numbers, so an extension is not resolved to a person.
"""

import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.accounts.models import Account, Contact
from tokui.activities.constants import CallOutcome, Direction, InteractionKind, InteractionSource
from tokui.activities.models import Interaction
from tokui.activities.services import interaction_record
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.japanese import normalize_phone, to_halfwidth_digits
from tokui.core.validation import ErrorCollector
from tokui.users.models import User

MAX_CALL_SECONDS = 24 * 3600


@dataclass
class CallResult:
    status: str  # "created", "existing" or "unmatched"
    interaction: Interaction | None = None
    number: str = ""
    contacts: list[Contact] = field(default_factory=list)


def phone_e164(value: str) -> str:
    """E.164 of a number as a phone system sends it; "" when it is no valid number."""
    text = to_halfwidth_digits(value or "").strip()
    if not text or not any(ch.isdigit() for ch in text):
        return ""  # "anonymous", "非通知", "unknown" …
    try:
        return normalize_phone(text)
    except ApplicationError:
        return ""


def _match(actor: User, number: str) -> tuple[Account | None, list[Contact]]:
    contacts = list(
        Contact.objects.visible_to(actor)
        .filter(Q(phone=number) | Q(mobile=number), archived_at=None, account__archived_at=None)
        .select_related("account")
        .order_by("id")[:20]
    )
    if contacts:
        account = contacts[0].account
        return account, [c for c in contacts if c.account_id == account.pk]
    found = (
        Account.objects.visible_to(actor)
        .filter(Q(phone=number) | Q(fax=number), archived_at=None)
        .order_by("id")
        .first()
    )
    return found, []


def call_event_record(
    *,
    actor: User,
    call_id: str,
    direction: str,
    from_number: str,
    to_number: str,
    started_at: datetime.datetime,
    duration_seconds: int | None = None,
    answered: bool | None = None,
    user: str = "",
) -> CallResult:
    """Record one call event (idempotent on ``call_id``); see the module's docstring."""
    if not actor.is_active:
        raise PermissionDenied(_("Your user is not active."))
    errors = ErrorCollector()
    call_id = (call_id or "").strip()
    if not call_id or len(call_id) > 200 or "\x00" in call_id:
        errors.add("call_id", _("Send the call's id (1 to 200 characters)."))
    if direction not in Direction.values:
        errors.add("direction", _("Choose in or out."))
    if started_at is None:
        errors.add("started_at", _("Enter a date and time."))
    elif timezone.is_naive(started_at):
        started_at = timezone.make_aware(started_at)
    if duration_seconds is not None and not 0 <= duration_seconds <= MAX_CALL_SECONDS:
        errors.add("duration_seconds", _("Enter a duration between 0 and 24 hours."))
    person: User | None = None
    if user:
        person = User.objects.filter(username=user, is_active=True).first()
        if person is None:
            errors.add("user", _("There is no active user named “%(u)s”.") % {"u": user[:150]})
    errors.raise_if_any()

    existing = (
        Interaction.objects.filter(source=InteractionSource.TELEPHONY, external_id=call_id)
        .select_related("account")
        .first()
    )
    if existing is not None:
        return CallResult("existing", existing, existing.phone_number)
    theirs = from_number if direction == Direction.INBOUND else to_number
    number = phone_e164(theirs)
    if not number:
        return CallResult("unmatched")
    account, contacts = _match(actor, number)
    if account is None:
        return CallResult("unmatched", number=number)
    outcome = {None: "", True: CallOutcome.REACHED, False: CallOutcome.NO_ANSWER}[answered]
    with transaction.atomic():
        interaction = interaction_record(
            actor=person or actor,
            account=account,
            kind=InteractionKind.CALL,
            source=InteractionSource.TELEPHONY,
            data={
                "direction": direction,
                "occurred_at": started_at,
                "duration_seconds": duration_seconds,
                "outcome": outcome,
                "phone_number": number,
                "contacts": contacts,
                "participants": [person] if person else [],
            },
            external_id=call_id,
        )
    return CallResult("created", interaction, number, contacts)
