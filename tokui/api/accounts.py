"""/api/v1/accounts and /api/v1/contacts: the same selectors and services as the pages."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tokui.accounts import selectors, services
from tokui.accounts.constants import (
    ACCOUNT_SORTS,
    CONTACT_SORTS,
    AccountKind,
    AccountRank,
    AccountTier,
)
from tokui.accounts.screening import screening_flags_attach
from tokui.accounts.segments import EMPLOYEES_LIMIT, TAG_MAX_LENGTH, account_tags_attach
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.schemas import (
    AccountCreate,
    AccountOut,
    AccountPage,
    AccountPatch,
    ContactCreate,
    ContactOut,
    ContactPage,
    ContactPatch,
    drop_nones,
)
from tokui.core.exceptions import ApplicationError
from tokui.core.pagination import MAX_PAGE, page_slice
from tokui.users.selectors import user_get_by_username

router = Router(tags=["accounts"])


class PageQuery(Schema):
    q: str = Field("", max_length=200, description="Search: name, reading, number, phone, …")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=200)
    archived: bool = Field(False, description="List archived records instead of current ones.")


class AccountFilterQuery(Schema):
    """Filters on the account (of a contact): the same as the list pages and segments."""

    industry: str | None = Field(None, max_length=100, description="Part of the industry.")
    prefecture: str | None = Field(None, max_length=20, description="e.g. 東京都.")
    employees_min: int | None = Field(None, ge=0, le=EMPLOYEES_LIMIT)
    employees_max: int | None = Field(None, ge=0, le=EMPLOYEES_LIMIT)
    rank: AccountRank | None = None
    tag: str | None = Field(None, max_length=TAG_MAX_LENGTH, description="A tag's name.")
    segment: int | None = Field(
        None, ge=1, le=2**62, description="A segment's id (yours or a shared one)."
    )

    def account_filters(self) -> dict[str, Any]:
        return {
            "industry": self.industry,
            "prefecture": self.prefecture,
            "employees_min": self.employees_min,
            "employees_max": self.employees_max,
            "rank": self.rank,
            "tag": self.tag,
            "segment": self.segment,
        }


class AccountQuery(PageQuery, AccountFilterQuery):
    kind: AccountKind | None = None
    tier: AccountTier | None = None
    owner: str | None = Field(None, max_length=150, description="Owner's user name.")
    sort: str = Field("name", pattern="^(" + "|".join(ACCOUNT_SORTS) + ")$")


class ContactQuery(PageQuery, AccountFilterQuery):
    account: int | None = Field(None, ge=1, le=2**62)
    sort: str = Field("name", pattern="^(" + "|".join(CONTACT_SORTS) + ")$")


def _resolve_owner(data: dict[str, Any]) -> dict[str, Any]:
    if "owner" in data:
        username = data["owner"]
        owner = user_get_by_username(username=username) if username else None
        if owner is None and username:
            raise ApplicationError(
                _("There is no user named “%(u)s”.") % {"u": username}, field="owner", status=422
            )
        if owner is None:
            data.pop("owner")
        else:
            data["owner"] = owner
    return data


@router.get("/accounts", response={200: AccountPage, **ERRORS}, summary="List accounts")
def list_accounts(request: HttpRequest, filters: Query[AccountQuery]) -> dict[str, Any]:
    chosen = {
        "viewer": request_user(request),
        "search": filters.q,
        "kind": filters.kind,
        "tier": filters.tier,
        "owner": filters.owner,
        "archived": filters.archived,
        **filters.account_filters(),
    }
    page = page_slice(
        selectors.account_list(sort=filters.sort, **chosen),
        page=filters.page,
        page_size=filters.page_size,
        count_qs=selectors.account_list(for_count=True, **chosen),
    )
    screening_flags_attach(page.items)  # the page's screening flags in one query
    account_tags_attach(page.items)  # and their tags in another
    return {"items": page.items, "count": page.count}


@router.post("/accounts", response={201: AccountOut, **ERRORS}, summary="Create an account")
def create_account(request: HttpRequest, payload: AccountCreate) -> Status:
    data = _resolve_owner(payload.model_dump())
    tags = data.pop("tags", None) or []
    account = services.account_create(actor=request_user(request), data=data, tags=tags)
    return Status(201, account)


@router.get(
    "/accounts/{account_id}", response={200: AccountOut, **ERRORS}, summary="Get an account"
)
def get_account(request: HttpRequest, account_id: int) -> Any:
    return selectors.account_get(viewer=request_user(request), account_id=account_id)


@router.patch(
    "/accounts/{account_id}", response={200: AccountOut, **ERRORS}, summary="Change an account"
)
def update_account(request: HttpRequest, account_id: int, payload: AccountPatch) -> Any:
    account = selectors.account_get(viewer=request_user(request), account_id=account_id)
    data = drop_nones(
        payload.model_dump(exclude_unset=True), keep=("corporate_number", "employees", "parent")
    )
    version = data.pop("version", None)
    tags = data.pop("tags", None)
    data = _resolve_owner(data)
    return services.account_update(
        actor=request_user(request), account=account, data=data, version=version, tags=tags
    )


@router.delete(
    "/accounts/{account_id}", response={204: None, **ERRORS}, summary="Archive an account"
)
def archive_account(request: HttpRequest, account_id: int) -> Status:
    account = selectors.account_get(viewer=request_user(request), account_id=account_id)
    services.account_archive(actor=request_user(request), account=account)
    return Status(204, None)


@router.get("/contacts", response={200: ContactPage, **ERRORS}, summary="List contacts")
def list_contacts(request: HttpRequest, filters: Query[ContactQuery]) -> dict[str, Any]:
    chosen = {
        "viewer": request_user(request),
        "search": filters.q,
        "account_id": filters.account,
        "archived": filters.archived,
        **filters.account_filters(),
    }
    page = page_slice(
        selectors.contact_list(sort=filters.sort, **chosen),
        page=filters.page,
        page_size=filters.page_size,
        count_qs=selectors.contact_list(for_count=True, **chosen),
        count_limit=settings.TOKUI_CONTACT_COUNT_LIMIT,
    )
    return {"items": page.items, "count": page.count, "count_exact": page.count_exact}


@router.post("/contacts", response={201: ContactOut, **ERRORS}, summary="Add a contact")
def create_contact(request: HttpRequest, payload: ContactCreate) -> Status:
    data = payload.model_dump()
    account_id = data.pop("account")
    try:
        account = selectors.account_get(viewer=request_user(request), account_id=account_id)
    except ApplicationError as exc:
        raise ApplicationError(
            _("No such account: %(id)s.") % {"id": account_id}, field="account", status=422
        ) from exc
    return Status(
        201, services.contact_create(actor=request_user(request), account=account, data=data)
    )


@router.get("/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Get a contact")
def get_contact(request: HttpRequest, contact_id: int) -> Any:
    return selectors.contact_get(viewer=request_user(request), contact_id=contact_id)


@router.patch(
    "/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Change a contact"
)
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch) -> Any:
    contact = selectors.contact_get(viewer=request_user(request), contact_id=contact_id)
    data = drop_nones(payload.model_dump(exclude_unset=True))
    version = data.pop("version", None)
    return services.contact_update(
        actor=request_user(request), contact=contact, data=data, version=version
    )


@router.delete(
    "/contacts/{contact_id}", response={204: None, **ERRORS}, summary="Archive a contact"
)
def archive_contact(request: HttpRequest, contact_id: int) -> Status:
    contact = selectors.contact_get(viewer=request_user(request), contact_id=contact_id)
    services.contact_archive(actor=request_user(request), contact=contact)
    return Status(204, None)
