"""/api/v1/telephony/calls: a telephony system posts its call events (see tokui.activities)."""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field

from tokui.activities.telephony import CallResult, call_event_record
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.schemas import Strict
from tokui.core.exceptions import ApplicationError

router = Router(tags=["telephony"])


class CallEventIn(Strict):
    call_id: str = Field(
        ..., min_length=1, max_length=200, description="The phone system's id of the call."
    )
    direction: Literal["in", "out"]
    from_: str = Field(..., alias="from", max_length=40, description="Caller's number, any format.")
    to: str = Field(..., max_length=40, description="Callee's number, any format.")
    started_at: str = Field(
        ...,
        max_length=40,
        pattern=r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$",
        examples=["2026-11-26T10:00:00+09:00"],
        description="ISO 8601; without an offset, Tokui's time zone.",
    )
    duration_seconds: int | None = Field(None, ge=0, le=86400, strict=True)
    answered: bool | None = Field(None, strict=True)
    user: str = Field(
        "", max_length=150, description="User name of the Tokui user on our side of the call."
    )


class CallEventOut(Schema):
    status: Literal["created", "existing", "unmatched"] = Field(
        description="created (201), existing (200: this call_id was recorded before) or "
        "unmatched (202: the number is no visible contact's or account's; nothing stored)."
    )
    interaction: int | None
    account: int | None
    contacts: list[int]
    number: str = Field(description="Their number in E.164, or empty when it was no number.")


def _out(result: CallResult) -> dict:
    interaction = result.interaction
    contacts = [c.pk for c in result.contacts]
    if interaction is not None and not contacts:
        contacts = list(interaction.contacts.values_list("pk", flat=True))
    return {
        "status": result.status,
        "interaction": interaction.pk if interaction else None,
        "account": interaction.account_id if interaction else None,
        "contacts": contacts,
        "number": result.number,
    }


@router.post(
    "/telephony/calls",
    response={200: CallEventOut, 201: CallEventOut, 202: CallEventOut, **ERRORS},
    summary="Record a call event from a telephony system",
    description="Authenticate with the bearer token of a service user. The other side's number "
    "is matched to contacts (phone, mobile) and then accounts the user may see. Posting the "
    "same call_id again returns the same interaction.",
)
def post_call(request: HttpRequest, payload: CallEventIn) -> Status:
    try:
        started_at = datetime.fromisoformat(payload.started_at)
    except ValueError:
        started_at = None
    if started_at is None or not 1950 <= started_at.year <= 9000:
        raise ApplicationError(
            _("Enter a date and time such as 2026-11-26T10:00:00+09:00."),
            field="started_at",
            status=422,
        )
    result = call_event_record(
        actor=request_user(request),
        call_id=payload.call_id,
        direction=payload.direction,
        from_number=payload.from_,
        to_number=payload.to,
        started_at=started_at,
        duration_seconds=payload.duration_seconds,
        answered=payload.answered,
        user=payload.user,
    )
    code = {"created": 201, "existing": 200, "unmatched": 202}[result.status]
    return Status(code, _out(result))
