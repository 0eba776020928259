"""/api/v1/search: the one search box for scripts."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from tokui.accounts.selectors import search_everything
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.schemas import AccountOut, ContactOut

router = Router(tags=["search"])


class SearchQuery(Schema):
    q: str = Field(
        ...,
        min_length=1,
        max_length=200,
        description="Any part of a name, reading, e-mail, phone (any format) or corporate number.",
    )
    limit: int = Field(20, ge=1, le=100)


class SearchResults(Schema):
    accounts: list[AccountOut]
    contacts: list[ContactOut]


@router.get("/search", response={200: SearchResults, **ERRORS}, summary="Search everything")
def search(request: HttpRequest, params: Query[SearchQuery]) -> dict[str, Any]:
    accounts, contacts = search_everything(
        viewer=request_user(request), query=params.q, limit=params.limit
    )
    return {"accounts": accounts, "contacts": contacts}
