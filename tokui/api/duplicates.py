"""/api/v1/duplicates, account merges and their undo: the same selectors and services as the
pages (tokui.accounts.dedupe and tokui.accounts.merge)."""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tokui.accounts import dedupe, merge, selectors
from tokui.accounts.models import Account, MergeRecord
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.schemas import Strict
from tokui.core.pagination import MAX_PAGE

router = Router(tags=["duplicates"])


class AccountRef(Schema):
    id: int
    name: str


class ReasonOut(Schema):
    code: dedupe.Reason
    label: str
    weight: int = Field(description="What this reason adds to the score.")


class DuplicatePairOut(Schema):
    a: AccountRef = Field(description="The older account of the pair.")
    b: AccountRef
    score: int = Field(ge=0, le=100, description="The reasons' weights summed, at most 100.")
    reasons: list[ReasonOut]


class DuplicatePage(Schema):
    items: list[DuplicatePairOut]
    count: int


class DuplicateQuery(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=200)
    min_score: int = Field(0, ge=0, le=100, description="Leave out pairs scoring less.")
    account: int | None = Field(
        None, ge=1, le=2**62, description="Only the possible duplicates of this account."
    )


MergeSide = Literal["survivor", "merged"]


class MergeIn(Strict):
    into: int = Field(..., ge=1, le=2**62, description="The id of the account that stays.")
    choices: dict[str, MergeSide] = Field(
        default_factory=dict,
        description="Per editable field, whose value the survivor keeps. Fields left out keep "
        "the survivor's value, or take the merged account's where the survivor's is empty.",
    )
    survivor_version: int | None = Field(
        None, ge=1, le=2**31, description="The survivor's version you compared."
    )
    merged_version: int | None = Field(
        None, ge=1, le=2**31, description="The merged account's version you compared."
    )


class MergeOut(Schema):
    id: int
    survivor: AccountRef
    merged: AccountRef
    at: datetime
    undone_at: datetime | None
    undo_until: datetime = Field(description="The last moment the merge can be undone.")
    moved: dict[str, int] = Field(description="How many records of each kind moved.")

    @staticmethod
    def resolve_undo_until(obj: MergeRecord) -> datetime:
        return merge.merge_undo_deadline(obj)

    @staticmethod
    def resolve_moved(obj: MergeRecord) -> dict[str, int]:
        return {key: len(ids) for key, ids in obj.moved.items()}


def _ref(account: Account | None, pk: int) -> dict[str, Any]:
    return {"id": pk, "name": account.name if account is not None else ""}


def _pair_out(pair: dedupe.DuplicatePair) -> dict[str, Any]:
    return {
        "a": _ref(pair.a, pair.a_id),
        "b": _ref(pair.b, pair.b_id),
        "score": pair.score,
        "reasons": [
            {"code": r, "label": str(dedupe.REASON_LABELS[r]), "weight": dedupe.REASON_WEIGHTS[r]}
            for r in pair.reasons
        ],
    }


@router.get(
    "/duplicates", response={200: DuplicatePage, **ERRORS}, summary="List likely duplicate pairs"
)
def list_duplicates(request: HttpRequest, filters: Query[DuplicateQuery]) -> dict[str, Any]:
    """Pairs of accounts you can both see that may be one company, highest score first."""
    user = request_user(request)
    if filters.account is not None:
        account = selectors.account_get(viewer=user, account_id=filters.account)
        pairs = [
            p
            for p in dedupe.account_duplicates(viewer=user, account=account)
            if p.score >= filters.min_score
        ]
        start = (filters.page - 1) * filters.page_size
        items = pairs[start : start + filters.page_size]
        return {"items": [_pair_out(p) for p in items], "count": len(pairs)}
    page = dedupe.duplicate_page(
        viewer=user, page=filters.page, page_size=filters.page_size, min_score=filters.min_score
    )
    return {"items": [_pair_out(p) for p in page.items], "count": page.count}


@router.post(
    "/accounts/{account_id}/merge",
    response={201: MergeOut, **ERRORS},
    summary="Merge an account into another",
)
def merge_account(request: HttpRequest, account_id: int, payload: MergeIn) -> Status:
    """Merge account ``account_id`` into ``into``: see the merge screen for what it does.
    Undo it with ``POST /merges/{id}/undo`` within 30 days."""
    user = request_user(request)
    merged = selectors.account_get(viewer=user, account_id=account_id)
    survivor = selectors.account_get(viewer=user, account_id=payload.into)
    record = merge.account_merge(
        actor=user,
        survivor=survivor,
        merged=merged,
        choices=payload.choices,
        survivor_version=payload.survivor_version,
        merged_version=payload.merged_version,
    )
    return Status(201, merge.merge_record_get(viewer=user, merge_id=record.pk))


@router.get("/merges/{merge_id}", response={200: MergeOut, **ERRORS}, summary="Get a merge")
def get_merge(request: HttpRequest, merge_id: int) -> Any:
    return merge.merge_record_get(viewer=request_user(request), merge_id=merge_id)


@router.post("/merges/{merge_id}/undo", response={200: MergeOut, **ERRORS}, summary="Undo a merge")
def undo_merge(request: HttpRequest, merge_id: int) -> Any:
    """Within 30 days, unless already undone or a later merge involved either account."""
    user = request_user(request)
    record = merge.merge_record_get(viewer=user, merge_id=merge_id)
    merge.account_merge_undo(actor=user, merge_record=record)
    return merge.merge_record_get(viewer=user, merge_id=merge_id)
