"""/api/v1/ endpoints for interactions and the account timeline (see tokui.activities).

The same selectors and services as the pages: an interaction is visible exactly when its
account is (404 otherwise); its author, the account's owner and heads of sales change it.
"""

import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tokui.accounts.selectors import account_get
from tokui.activities import selectors, services
from tokui.activities.constants import CallOutcome, InteractionKind, MeetingMode
from tokui.activities.models import Interaction
from tokui.activities.services import MAX_CALL_SECONDS, MAX_CONTACTS, MAX_PARTICIPANTS
from tokui.activities.timeline import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    TimelineEntry,
    account_timeline,
    parse_kinds,
    timeline_sources,
)
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.schemas import Strict, drop_nones
from tokui.core.exceptions import ApplicationError
from tokui.core.models import AuditEvent
from tokui.core.pagination import MAX_PAGE, page_slice
from tokui.core.registry import audit_action_labels
from tokui.users.models import User
from tokui.users.selectors import user_get_by_username

router = Router(tags=["interactions"])

Id = Field(..., ge=1, le=2**62, strict=True)
ContactId = Annotated[int, Field(ge=1, le=2**62, strict=True)]
UserName = Annotated[str, Field(min_length=1, max_length=150, pattern=r"^[^\x00]*$")]
OutcomeValue = Literal["", "reached", "no_answer", "voicemail", "busy", "call_back", "wrong_number"]
ModeValue = Literal["", "on_site", "online", "our_office"]
WHEN_HELP = (
    "ISO 8601 (2025-06-02T10:30:00+09:00); without a UTC offset it is read in the server's "
    "time zone (Asia/Tokyo)."
)
# Times arrive as ISO 8601 text only (pydantic would also take a number as a Unix time).
IsoTime = Annotated[
    str,
    Field(
        max_length=40,
        pattern=r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?$",
        examples=["2025-06-02T10:30:00+09:00"],
    ),
]

assert set(OutcomeValue.__args__) == {"", *CallOutcome.values}  # type: ignore[attr-defined]
assert set(ModeValue.__args__) == {"", *MeetingMode.values}  # type: ignore[attr-defined]


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str = Field(description="Download (the same visibility rules).")


class InteractionOut(Schema):
    id: int
    account: int
    kind: InteractionKind
    direction: Literal["", "in", "out"]
    occurred_at: datetime.datetime
    subject: str
    body: str = Field(description="Markdown for notes typed in Tokui; plain text for mail.")
    body_format: Literal["markdown", "text"]
    source: str
    author: str | None = Field(description="The user name of who logged it.")
    contacts: list[int]
    participants: list[str] = Field(description="User names of our people.")
    duration_seconds: int | None
    outcome: OutcomeValue
    phone_number: str
    meeting_mode: ModeValue
    location: str
    email_from: str
    email_to: str
    email_cc: str
    message_id: str
    external_id: str
    attachments: list[AttachmentOut]
    version: int = Field(description="Send it back with a PATCH to refuse stale edits.")
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_account(obj: Interaction) -> int:
        return obj.account_id

    @staticmethod
    def resolve_author(obj: Interaction) -> str | None:
        return obj.author.username if obj.author_id and obj.author else None

    @staticmethod
    def resolve_body_format(obj: Interaction) -> str:
        return "markdown" if selectors.body_is_markdown(obj) else "text"

    @staticmethod
    def resolve_contacts(obj: Interaction) -> list[int]:
        return [c.pk for c in obj.contacts.all()]

    @staticmethod
    def resolve_participants(obj: Interaction) -> list[str]:
        return [u.username for u in obj.participants.all()]

    @staticmethod
    def resolve_attachments(obj: Interaction) -> list[dict[str, Any]]:
        return [
            {
                "id": a.pk,
                "name": a.name,
                "content_type": a.content_type,
                "size": a.size,
                "url": f"/interactions/files/{a.pk}/",
            }
            for a in obj.attachments.all()
        ]


class InteractionPage(Schema):
    items: list[InteractionOut]
    count: int


class InteractionFields(Strict):
    direction: Literal["", "in", "out"] = Field(
        "", description="Required for call, email, fax, chat and letter; empty for the others."
    )
    occurred_at: IsoTime | None = Field(None, description="Defaults to now. " + WHEN_HELP)
    subject: str = Field("", max_length=300)
    body: str = Field("", max_length=50_000, description="Markdown (no HTML, no images).")
    contacts: list[ContactId] = Field(
        default_factory=list, max_length=MAX_CONTACTS, description="Contact ids of this account."
    )
    participants: list[UserName] = Field(
        default_factory=list,
        max_length=MAX_PARTICIPANTS,
        description="User names of our people who took part.",
    )
    duration_seconds: int | None = Field(
        None, ge=0, le=MAX_CALL_SECONDS, strict=True, description="Calls only."
    )
    outcome: OutcomeValue = Field("", description="Calls only.")
    phone_number: str = Field("", max_length=30, description="Calls only.")
    meeting_mode: ModeValue = Field("", description="Meetings and visits only.")
    location: str = Field("", max_length=300, description="Meetings and visits only.")


class InteractionCreate(InteractionFields):
    account: int = Id
    kind: InteractionKind


class InteractionPatch(Strict):
    kind: InteractionKind | None = None
    direction: Literal["", "in", "out"] | None = None
    occurred_at: IsoTime | None = Field(None, description=WHEN_HELP)
    subject: str | None = Field(None, max_length=300)
    body: str | None = Field(None, max_length=50_000)
    contacts: list[ContactId] | None = Field(None, max_length=MAX_CONTACTS)
    participants: list[UserName] | None = Field(None, max_length=MAX_PARTICIPANTS)
    duration_seconds: int | None = Field(None, ge=0, le=MAX_CALL_SECONDS, strict=True)
    outcome: OutcomeValue | None = None
    phone_number: str | None = Field(None, max_length=30)
    meeting_mode: ModeValue | None = None
    location: str | None = Field(None, max_length=300)
    version: int | None = Field(
        None, ge=1, le=2**31, strict=True, description="The version you loaded."
    )


class InteractionQuery(Schema):
    account: int | None = Field(None, ge=1, le=2**62)
    contact: int | None = Field(None, ge=1, le=2**62)
    kind: InteractionKind | None = None
    author: str | None = Field(
        None, max_length=150, pattern=r"^[^\x00]*$", description="The author's user name."
    )
    since: IsoTime | None = Field(None, description="Inclusive. " + WHEN_HELP)
    until: IsoTime | None = Field(None, description="Exclusive. " + WHEN_HELP)
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=200)


class ChangeOut(Schema):
    id: int
    action: str
    label: str = Field(description="The action in your language.")
    actor: str | None = Field(description="User name, or null for the system.")
    target_type: str
    target_id: str
    target_repr: str
    changes: dict[str, Any] = Field(description="{field: [old, new]}")
    note: str

    @staticmethod
    def resolve_label(obj: AuditEvent) -> str:
        return audit_action_labels.get(obj.action) or obj.action

    @staticmethod
    def resolve_actor(obj: AuditEvent) -> str | None:
        return obj.actor.username if obj.actor_id and obj.actor else None


class TimelineItemOut(Schema):
    type: str = Field(
        description='Which source the item comes from: "interaction", "change" (an audit '
        'event), and in later versions e.g. "order". The matching field holds the item.'
    )
    id: int
    at: datetime.datetime
    kind: str = Field(description='The filter kind: an interaction kind, or "changes".')
    interaction: InteractionOut | None = None
    change: ChangeOut | None = None
    data: dict[str, Any] | None = Field(None, description="Items of other sources.")


class TimelineOut(Schema):
    items: list[TimelineItemOut]
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null at the end."
    )


class TimelineQuery(Schema):
    cursor: str | None = Field(None, max_length=200)
    kind: list[Annotated[str, Field(max_length=30)]] = Field(
        default_factory=list,
        max_length=20,
        description="Only these kinds (repeat the parameter): call, meeting, email, fax, chat, "
        "letter, visit, note, changes.",
    )
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


def _aware(value: str | None, field: str = "occurred_at") -> datetime.datetime | None:
    """A time from a client, parsed and made aware; a date that does not exist or a year no
    calendar of ours holds is a 422 on ``field``."""
    if value is None:
        return None
    invalid = ApplicationError(
        _("Enter a date and time such as 2025-06-02T10:30:00+09:00 (years 1900 to 9000)."),
        field=field,
        status=422,
    )
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError as exc:
        raise invalid from exc
    if not 1900 <= parsed.year <= 9000:
        raise invalid
    if timezone.is_naive(parsed):
        return timezone.make_aware(parsed)
    return parsed


def _users(names: list[str]) -> list[User]:
    users = []
    for name in dict.fromkeys(names):
        user = user_get_by_username(username=name[:150])
        if user is None:
            raise ApplicationError(
                _("There is no user named “%(u)s”.") % {"u": name[:60]},
                field="participants",
                status=422,
            )
        users.append(user)
    return users


def _service_data(data: dict[str, Any]) -> dict[str, Any]:
    if "occurred_at" in data:
        data["occurred_at"] = _aware(data["occurred_at"])
    if "participants" in data:
        data["participants"] = _users(data["participants"])
    return data


def _item(entry: TimelineEntry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": entry.source,
        "id": entry.id,
        "at": entry.at,
        "kind": entry.kind,
    }
    source = timeline_sources.get(entry.source)
    extra = source.serialize(entry) if source and source.serialize else {}
    if entry.source in ("interaction", "change"):
        item.update(extra)
    else:
        item["data"] = extra
    return item


@router.get(
    "/accounts/{account_id}/timeline",
    response={200: TimelineOut, **ERRORS},
    summary="An account's timeline",
    description="Interactions and changes (audit events), newest first, paged by cursor.",
)
def get_timeline(
    request: HttpRequest, account_id: int, params: Query[TimelineQuery]
) -> dict[str, Any]:
    viewer = request_user(request)
    account = account_get(viewer=viewer, account_id=account_id)
    page = account_timeline(
        viewer=viewer,
        account=account,
        kinds=parse_kinds(params.kind),
        cursor=params.cursor,
        limit=params.limit,
    )
    return {"items": [_item(e) for e in page.entries], "next_cursor": page.next_cursor}


@router.get("/interactions", response={200: InteractionPage, **ERRORS}, summary="List interactions")
def list_interactions(request: HttpRequest, filters: Query[InteractionQuery]) -> dict[str, Any]:
    qs = selectors.interaction_list(
        viewer=request_user(request),
        account_id=filters.account,
        contact_id=filters.contact,
        kind=filters.kind,
        author=filters.author,
        since=_aware(filters.since, "since"),
        until=_aware(filters.until, "until"),
    )
    page = page_slice(qs, page=filters.page, page_size=filters.page_size)
    selectors.interactions_prepare(page.items)
    return {"items": page.items, "count": page.count}


@router.post(
    "/interactions", response={201: InteractionOut, **ERRORS}, summary="Log an interaction"
)
def create_interaction(request: HttpRequest, payload: InteractionCreate) -> Status:
    viewer = request_user(request)
    data = payload.model_dump()
    account_id = data.pop("account")
    try:
        account = account_get(viewer=viewer, account_id=account_id)
    except ApplicationError as exc:
        raise ApplicationError(
            _("No such account: %(id)s.") % {"id": account_id}, field="account", status=422
        ) from exc
    if data.get("occurred_at") is None:
        data.pop("occurred_at", None)
    data = _service_data(data)
    data["source"] = "api"
    interaction = services.interaction_create(actor=viewer, account=account, data=data)
    return Status(201, selectors.interaction_get(viewer=viewer, interaction_id=interaction.pk))


@router.get(
    "/interactions/{interaction_id}",
    response={200: InteractionOut, **ERRORS},
    summary="Get an interaction",
)
def get_interaction(request: HttpRequest, interaction_id: int) -> Any:
    return selectors.interaction_get(viewer=request_user(request), interaction_id=interaction_id)


@router.patch(
    "/interactions/{interaction_id}",
    response={200: InteractionOut, **ERRORS},
    summary="Change an interaction",
    description="Send only what changes. Changing the kind, clear the fields the new kind "
    'does not have (e.g. "outcome": "" when a call becomes a note).',
)
def update_interaction(request: HttpRequest, interaction_id: int, payload: InteractionPatch) -> Any:
    viewer = request_user(request)
    interaction = selectors.interaction_get(viewer=viewer, interaction_id=interaction_id)
    data = drop_nones(payload.model_dump(exclude_unset=True), keep=("duration_seconds",))
    version = data.pop("version", None)
    services.interaction_update(
        actor=viewer, interaction=interaction, data=_service_data(data), version=version
    )
    return selectors.interaction_get(viewer=viewer, interaction_id=interaction_id)


@router.delete(
    "/interactions/{interaction_id}",
    response={204: None, **ERRORS},
    summary="Delete an interaction",
    description="Soft: it leaves the timeline; the account's history records the deletion.",
)
def delete_interaction(request: HttpRequest, interaction_id: int) -> Status:
    viewer = request_user(request)
    interaction = selectors.interaction_get(viewer=viewer, interaction_id=interaction_id)
    services.interaction_delete(actor=viewer, interaction=interaction)
    return Status(204, None)
