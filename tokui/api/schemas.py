"""Shapes of the API's requests and answers (v1). Limits mirror the model fields."""

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from tokui.accounts.constants import AccountKind, AccountTier, EntityType
from tokui.accounts.models import Account, Contact
from tokui.accounts.screening import screening_flag_of
from tokui.accounts.segments import TAG_MAX_LENGTH, TAGS_PER_ACCOUNT, account_tag_names


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


TagName = Annotated[str, Field(max_length=TAG_MAX_LENGTH)]


class ScreeningFlagOut(Schema):
    level: Literal["ok", "info", "warning", "danger"] = Field(
        description="ok; info (a prospect not fully screened); warning (a check missing, "
        "pending or past its re-check date); danger (a check failed)."
    )
    label: str = Field(description="A short label, e.g. “Screening expired”.")
    reasons: list[str] = Field(description="Why, one sentence per check, in your language.")
    required: bool = Field(description="False for competitors, which are never screened.")


class AccountOut(Schema):
    id: int
    name: str
    name_kana: str
    legal_form: str = Field(description="e.g. 株式会社, Co., Ltd.; found from the name if empty.")
    legal_form_position: str = Field(description='"before" (前株), "after" (後株) or "".')
    kind: AccountKind
    tier: AccountTier
    rank: str = Field(description='"S", "A", "B", "C" or "".')
    owner: str = Field(description="The owner's user name.")
    industry: str
    employees: int | None
    entity_type: EntityType
    corporate_number: str | None
    invoice_registration_number: str = Field(description="T + 13 digits, or empty.")
    website: str
    phone: str = Field(description="E.164, e.g. +81312345678.")
    fax: str
    postal_code: str = Field(description="7 digits.")
    prefecture: str
    city: str
    street: str
    building: str
    notes: str
    version: int = Field(description="Send it back with a PATCH to refuse stale edits.")
    archived: bool
    created_at: datetime
    updated_at: datetime
    screening: ScreeningFlagOut = Field(description="Risk screening (与信・反社チェック).")
    tags: list[str] = Field(description="Tag names, in name order.")
    parent: int | None = Field(description="The parent company's account id (企業グループ).")

    @staticmethod
    def resolve_parent(obj: Account) -> int | None:
        return obj.parent_id

    @staticmethod
    def resolve_owner(obj: Account) -> str:
        return obj.owner.username

    @staticmethod
    def resolve_tags(obj: Account) -> list[str]:
        return account_tag_names(obj)

    @staticmethod
    def resolve_screening(obj: Account) -> dict[str, Any]:
        # Lists attach the page's flags in one query; a single account computes its own.
        return screening_flag_of(obj).as_dict()

    @staticmethod
    def resolve_archived(obj: Account) -> bool:
        return obj.archived_at is not None


class AccountPage(Schema):
    items: list[AccountOut]
    count: int


class AccountFields(Strict):
    name_kana: str = Field("", max_length=200)
    legal_form: str = Field("", max_length=40)
    legal_form_position: Literal["", "before", "after"] = ""
    rank: Literal["", "S", "A", "B", "C"] = ""
    employees: int | None = Field(None, ge=0, le=10_000_000, strict=True)
    entity_type: EntityType = EntityType.CORPORATION
    invoice_registration_number: str = Field("", max_length=20)
    kind: AccountKind = AccountKind.PROSPECT
    tier: AccountTier = AccountTier.STANDARD
    owner: str | None = Field(None, max_length=150, description="User name; defaults to you.")
    industry: str = Field("", max_length=100)
    corporate_number: str | None = Field(None, max_length=20)
    website: str = Field("", max_length=300)
    phone: str = Field("", max_length=30)
    fax: str = Field("", max_length=30)
    postal_code: str = Field("", max_length=10)
    prefecture: str = Field("", max_length=20)
    city: str = Field("", max_length=100)
    street: str = Field("", max_length=200)
    building: str = Field("", max_length=200)
    notes: str = Field("", max_length=10000)
    parent: int | None = Field(
        None, ge=1, le=2**62, strict=True, description="The parent company's account id."
    )
    tags: list[TagName] = Field(
        default_factory=list,
        max_length=TAGS_PER_ACCOUNT,
        description="Tag names (at most 50 characters each); new tags are created.",
    )


class AccountCreate(AccountFields):
    name: str = Field(..., min_length=1, max_length=200)


class AccountPatch(Strict):
    legal_form: str | None = Field(None, max_length=40)
    legal_form_position: Literal["", "before", "after"] | None = None
    rank: Literal["", "S", "A", "B", "C"] | None = None
    employees: int | None = Field(None, ge=0, le=10_000_000, strict=True)
    entity_type: EntityType | None = None
    invoice_registration_number: str | None = Field(None, max_length=20)
    name: str | None = Field(None, min_length=1, max_length=200)
    name_kana: str | None = Field(None, max_length=200)
    kind: AccountKind | None = None
    tier: AccountTier | None = None
    owner: str | None = Field(None, max_length=150)
    industry: str | None = Field(None, max_length=100)
    corporate_number: str | None = Field(None, max_length=20)
    website: str | None = Field(None, max_length=300)
    phone: str | None = Field(None, max_length=30)
    fax: str | None = Field(None, max_length=30)
    postal_code: str | None = Field(None, max_length=10)
    prefecture: str | None = Field(None, max_length=20)
    city: str | None = Field(None, max_length=100)
    street: str | None = Field(None, max_length=200)
    building: str | None = Field(None, max_length=200)
    notes: str | None = Field(None, max_length=10000)
    parent: int | None = Field(
        None, ge=1, le=2**62, strict=True, description="The parent company's id; null: none."
    )
    tags: list[TagName] | None = Field(
        None,
        max_length=TAGS_PER_ACCOUNT,
        description="Replaces all tags ([] removes them); leave out to keep them.",
    )
    version: int | None = Field(
        None, ge=1, le=2**31, strict=True, description="The version you loaded."
    )


class ContactOut(Schema):
    id: int
    account: int
    account_name: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    title: str
    department: str
    email: str
    phone: str
    mobile: str
    marketing_consent: bool
    notes: str
    version: int
    archived: bool
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_account(obj: Contact) -> int:
        return obj.account_id

    @staticmethod
    def resolve_account_name(obj: Contact) -> str:
        return obj.account.name

    @staticmethod
    def resolve_archived(obj: Contact) -> bool:
        return obj.archived_at is not None


class ContactPage(Schema):
    items: list[ContactOut]
    count: int = Field(
        description="How many contacts match, counted up to a limit (10,000 by default, "
        "TOKUI_CONTACT_COUNT_LIMIT): past it, count is the limit and count_exact is false; "
        "page on until a page has fewer items than page_size."
    )
    count_exact: bool = Field(description="False when count is a lower bound (see count).")


class ContactCreate(Strict):
    account: int = Field(..., ge=1, le=2**62, strict=True)
    family_name: str = Field(..., min_length=1, max_length=100)
    given_name: str = Field("", max_length=100)
    family_name_kana: str = Field("", max_length=100)
    given_name_kana: str = Field("", max_length=100)
    title: str = Field("", max_length=100)
    department: str = Field("", max_length=100)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=30)
    mobile: str = Field("", max_length=30)
    marketing_consent: bool = Field(False, strict=True)
    notes: str = Field("", max_length=10000)


class ContactPatch(Strict):
    family_name: str | None = Field(None, min_length=1, max_length=100)
    given_name: str | None = Field(None, max_length=100)
    family_name_kana: str | None = Field(None, max_length=100)
    given_name_kana: str | None = Field(None, max_length=100)
    title: str | None = Field(None, max_length=100)
    department: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=30)
    mobile: str | None = Field(None, max_length=30)
    marketing_consent: bool | None = Field(None, strict=True)
    notes: str | None = Field(None, max_length=10000)
    version: int | None = Field(None, ge=1, le=2**31, strict=True)


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] | None = None


class ErrorOut(Schema):
    error: ErrorDetail


def drop_nones(data: dict[str, Any], *, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """PATCH fields sent as null mean "leave as is", except those that may be cleared."""
    return {k: v for k, v in data.items() if v is not None or k in keep}
