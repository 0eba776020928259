"""/api/v1/segments: saved filters over accounts, the same services as the pages.

Use a segment with ``GET /accounts?segment=ID`` or ``GET /contacts?segment=ID``: it narrows what
the caller may see and never widens it.
"""

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from tokui.accounts import segments
from tokui.accounts.constants import AccountKind, AccountRank, AccountTier
from tokui.accounts.models import Segment
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.schemas import Strict

router = Router(tags=["segments"])

Text100 = Annotated[str, Field(max_length=100)]
Prefecture = Annotated[str, Field(max_length=20)]
TagName = Annotated[str, Field(max_length=segments.TAG_MAX_LENGTH)]
Employees = Annotated[int, Field(ge=0, le=segments.EMPLOYEES_LIMIT, strict=True)]


class SegmentFilters(Schema):
    """Every filter is optional; an account matches when it matches all that are set, and a
    list matches any of its values."""

    search: str | None = Field(None, max_length=200, description="As the list's search box.")
    kind: list[AccountKind] | None = Field(None, max_length=10)
    tier: list[AccountTier] | None = Field(None, max_length=10)
    owner: str | None = Field(None, max_length=150, description="The owner's user name.")
    industry: list[Text100] | None = Field(
        None, max_length=20, description="Parts of the industry, e.g. [“製造業”]."
    )
    prefecture: list[Prefecture] | None = Field(
        None, max_length=47, description="Prefectures, e.g. [“東京都”, “神奈川県”]."
    )
    employees_min: Employees | None = None
    employees_max: Employees | None = None
    rank: list[AccountRank] | None = Field(None, max_length=10)
    tag: list[TagName] | None = Field(None, max_length=20, description="Tag names (any of).")


class SegmentFiltersIn(SegmentFilters):
    model_config = ConfigDict(extra="forbid")


class SegmentOut(Schema):
    id: int
    name: str
    owner: str = Field(description="The owner's user name.")
    shared: bool = Field(description="Shared segments are listed for everyone.")
    filters: SegmentFilters
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_owner(obj: Segment) -> str:
        return obj.owner.username

    @staticmethod
    def resolve_filters(obj: Segment) -> dict[str, Any]:
        # Only the known filters: the schema is the contract, whatever the row holds.
        return {k: v for k, v in (obj.filters or {}).items() if k in segments.SEGMENT_FILTER_KEYS}


class SegmentList(Schema):
    items: list[SegmentOut]
    count: int


class SegmentCreate(Strict):
    name: str = Field(..., min_length=1, max_length=100)
    shared: bool = Field(False, strict=True)
    filters: SegmentFiltersIn


class SegmentPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=100)
    shared: bool | None = Field(None, strict=True)
    filters: SegmentFiltersIn | None = Field(None, description="Replaces all the filters.")


def _filters(filters: SegmentFilters) -> dict[str, Any]:
    return {k: v for k, v in filters.model_dump(mode="json").items() if v is not None}


@router.get("/segments", response={200: SegmentList, **ERRORS}, summary="List segments")
def list_segments(request: HttpRequest) -> dict[str, Any]:
    """Your segments and those others shared, by name."""
    items = list(segments.segment_list(viewer=request_user(request)))
    return {"items": items, "count": len(items)}


@router.post("/segments", response={201: SegmentOut, **ERRORS}, summary="Create a segment")
def create_segment(request: HttpRequest, payload: SegmentCreate) -> Status:
    segment = segments.segment_create(
        actor=request_user(request),
        name=payload.name,
        shared=payload.shared,
        filters=_filters(payload.filters),
    )
    return Status(201, segment)


@router.get("/segments/{segment_id}", response={200: SegmentOut, **ERRORS}, summary="Get a segment")
def get_segment(request: HttpRequest, segment_id: int) -> Any:
    return segments.segment_get(viewer=request_user(request), segment_id=segment_id)


@router.patch(
    "/segments/{segment_id}", response={200: SegmentOut, **ERRORS}, summary="Change a segment"
)
def update_segment(request: HttpRequest, segment_id: int, payload: SegmentPatch) -> Any:
    segment = segments.segment_get(viewer=request_user(request), segment_id=segment_id)
    data: dict[str, Any] = {}
    if payload.name is not None:
        data["name"] = payload.name
    if payload.shared is not None:
        data["shared"] = payload.shared
    if payload.filters is not None:
        data["filters"] = _filters(payload.filters)
    return segments.segment_update(actor=request_user(request), segment=segment, data=data)


@router.delete("/segments/{segment_id}", response={204: None, **ERRORS}, summary="Delete a segment")
def delete_segment(request: HttpRequest, segment_id: int) -> Status:
    segment = segments.segment_get(viewer=request_user(request), segment_id=segment_id)
    segments.segment_delete(actor=request_user(request), segment=segment)
    return Status(204, None)
