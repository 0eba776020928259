"""/api/v1/referrals, the referral tree of an account, rewards and reward rules.

The same selectors and services as the pages. A referral is listed when the caller may see
either of its accounts; the side the caller may not see comes as ``null`` (no id, no name).
Recording and deleting need a role that edits accounts and both accounts visible; reward rules
are written by heads of sales and administrators. Rewards are granted by the services when a
referred account wins its first deal or pays its first order, never through the API.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tokui.accounts.selectors import account_get
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.reports import Day
from tokui.api.schemas import Strict
from tokui.catalog.constants import Currency
from tokui.core.pagination import MAX_PAGE, page_slice
from tokui.pipeline import referrals
from tokui.pipeline.constants import RewardKind, RewardStatus, RewardTrigger
from tokui.pipeline.models import Referral, ReferralReward, ReferralRewardRule

router = Router(tags=["referrals"])


def _id_field(description: str = "") -> Any:
    return Field(None, ge=1, le=2**62, description=description)


# -- referrals -------------------------------------------------------------------------------


def _both_visible(obj: Referral) -> bool:
    return bool(getattr(obj, "account_visible", False) and getattr(obj, "referrer_visible", False))


class ReferralOut(Schema):
    id: int
    account: int | None = Field(description="The referred account; null if you may not see it.")
    account_name: str | None
    referrer: int | None = Field(description="The referring account; null if you may not see it.")
    referrer_name: str | None
    referrer_contact: int | None = Field(description="The person who referred (a contact).")
    deal: int | None = Field(description="The referred deal; null for the account itself.")
    referred_on: datetime.date
    note: str
    version: int
    created_at: datetime.datetime

    @staticmethod
    def resolve_account(obj: Referral) -> int | None:
        return obj.account_id if getattr(obj, "account_visible", False) else None

    @staticmethod
    def resolve_account_name(obj: Referral) -> str | None:
        return obj.account.name if getattr(obj, "account_visible", False) else None

    @staticmethod
    def resolve_referrer(obj: Referral) -> int | None:
        return obj.referrer_id if getattr(obj, "referrer_visible", False) else None

    @staticmethod
    def resolve_referrer_name(obj: Referral) -> str | None:
        return obj.referrer.name if getattr(obj, "referrer_visible", False) else None

    @staticmethod
    def resolve_referrer_contact(obj: Referral) -> int | None:
        return obj.referrer_contact_id if getattr(obj, "referrer_visible", False) else None

    @staticmethod
    def resolve_deal(obj: Referral) -> int | None:
        return obj.deal_id if getattr(obj, "account_visible", False) else None

    @staticmethod
    def resolve_note(obj: Referral) -> str:
        return obj.note if _both_visible(obj) else ""


class ReferralPage(Schema):
    items: list[ReferralOut]
    count: int


class ReferralQuery(Schema):
    account: int | None = _id_field("Referrals of this referred account.")
    referrer: int | None = _id_field("Referrals made by this account.")
    q: str = Field("", max_length=200, description="Part of either company's name.")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=200)


class ReferralCreate(Strict):
    account: int = Field(..., ge=1, le=2**62, description="The referred account.")
    referrer: int = Field(..., ge=1, le=2**62, description="The account that referred it.")
    referrer_contact: int | None = _id_field("One of the referrer's contacts.")
    deal: int | None = _id_field("One of the account's deals; omit for the account itself.")
    referred_on: Day | None = Field(None, description="YYYY-MM-DD; today when omitted.")
    note: str = Field("", max_length=5000)


@router.get("/referrals", response={200: ReferralPage, **ERRORS}, summary="List referrals")
def list_referrals(request: HttpRequest, filters: Query[ReferralQuery]) -> dict[str, Any]:
    """Newest first. A side you may not see comes as null."""
    user = request_user(request)
    page = page_slice(
        referrals.referral_list(
            viewer=user, account_id=filters.account, referrer_id=filters.referrer, search=filters.q
        ),
        page=filters.page,
        page_size=filters.page_size,
    )
    referrals.referrals_mark_visible(viewer=user, referrals=page.items)
    return {"items": page.items, "count": page.count}


@router.post("/referrals", response={201: ReferralOut, **ERRORS}, summary="Record a referral")
def create_referral(request: HttpRequest, payload: ReferralCreate) -> Status:
    """Refused (422, naming the field) for the account itself as referrer, a contact not of
    the referrer, a deal not of the account or already referred, a second referral of the
    account itself, a future date, or a loop in the referral tree."""
    user = request_user(request)
    account = account_get(viewer=user, account_id=payload.account)
    referral = referrals.referral_record(
        actor=user,
        account=account,
        referrer=payload.referrer,
        referrer_contact=payload.referrer_contact,
        deal=payload.deal,
        referred_on=payload.referred_on,
        note=payload.note,
    )
    return Status(201, referrals.referral_get(viewer=user, referral_id=referral.pk))


@router.get(
    "/referrals/{referral_id}", response={200: ReferralOut, **ERRORS}, summary="Get a referral"
)
def get_referral(request: HttpRequest, referral_id: int) -> Any:
    return referrals.referral_get(viewer=request_user(request), referral_id=referral_id)


@router.delete(
    "/referrals/{referral_id}", response={204: None, **ERRORS}, summary="Delete a referral"
)
def delete_referral(request: HttpRequest, referral_id: int) -> Status:
    """For a referral recorded by mistake; refused (409) once a reward was granted for it."""
    user = request_user(request)
    referral = referrals.referral_get(viewer=user, referral_id=referral_id)
    referrals.referral_delete(actor=user, referral=referral)
    return Status(204, None)


# -- the tree --------------------------------------------------------------------------------


class TreeNodeOut(Schema):
    account: int | None = Field(description="null for an account you may not see.")
    name: str | None = Field(description="null for an account you may not see.")
    referred_on: datetime.date | None
    deals: list[str] = Field(description="Titles of deals it was referred for.")
    children: list["TreeNodeOut"] = Field(description="What it referred in turn.")


class ReferralTreeOut(Schema):
    account: int
    referrers: list[TreeNodeOut] = Field(
        description="Who referred the account, who referred that one, … nearest first."
    )
    referred: list[TreeNodeOut] = Field(description="What the account referred, as a tree.")
    truncated: bool = Field(description="The tree goes deeper or wider than returned.")


def _node(node: referrals.TreeNode) -> dict[str, Any]:
    return {
        "account": node.account_id if node.visible else None,
        "name": node.name,
        "referred_on": node.referral.referred_on if node.referral else None,
        "deals": node.deals,
        "children": [_node(c) for c in node.children],
    }


@router.get(
    "/accounts/{account_id}/referral-tree",
    response={200: ReferralTreeOut, **ERRORS},
    summary="An account's referral tree",
)
def get_referral_tree(request: HttpRequest, account_id: int) -> dict[str, Any]:
    """Up to five levels up and down; accounts you may not see keep their place, unnamed."""
    user = request_user(request)
    account = account_get(viewer=user, account_id=account_id)
    tree = referrals.referral_tree(viewer=user, account=account)
    return {
        "account": account.pk,
        "referrers": [_node(n) for n in tree.referrers],
        "referred": [_node(n) for n in tree.referred],
        "truncated": tree.truncated,
    }


# -- rewards ---------------------------------------------------------------------------------


class RewardOut(Schema):
    id: int
    referral: int
    referrer: int | None = Field(description="The account that earned it; null if hidden.")
    account: int | None = Field(description="The referred account; null if hidden.")
    rule: int
    rule_name: str
    source: str = Field(description='What granted it: "deal:42" or "order:7".')
    amount: Decimal | None
    currency: Currency
    points: int | None
    status: RewardStatus
    granted_at: datetime.datetime

    @staticmethod
    def resolve_referral(obj: ReferralReward) -> int:
        return obj.referral_id

    @staticmethod
    def resolve_referrer(obj: ReferralReward) -> int | None:
        visible = getattr(obj.referral, "referrer_visible", False)
        return obj.referral.referrer_id if visible else None

    @staticmethod
    def resolve_account(obj: ReferralReward) -> int | None:
        visible = getattr(obj.referral, "account_visible", False)
        return obj.referral.account_id if visible else None

    @staticmethod
    def resolve_rule(obj: ReferralReward) -> int:
        return obj.rule_id

    @staticmethod
    def resolve_rule_name(obj: ReferralReward) -> str:
        return obj.rule.name


class RewardPage(Schema):
    items: list[RewardOut]
    count: int


class RewardQuery(Schema):
    status: RewardStatus | None = None
    referrer: int | None = _id_field("Rewards earned by this account.")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=200)


@router.get(
    "/referral-rewards", response={200: RewardPage, **ERRORS}, summary="List referral rewards"
)
def list_rewards(request: HttpRequest, filters: Query[RewardQuery]) -> dict[str, Any]:
    """Rewards of the referrals you may read, newest first."""
    user = request_user(request)
    page = page_slice(
        referrals.reward_list(viewer=user, referrer_id=filters.referrer, status=filters.status),
        page=filters.page,
        page_size=filters.page_size,
    )
    referrals.rewards_mark_visible(viewer=user, rewards=page.items)
    return {"items": page.items, "count": page.count}


# -- reward rules ----------------------------------------------------------------------------


class RewardRuleOut(Schema):
    id: int
    name: str
    trigger: RewardTrigger
    kind: RewardKind
    amount: Decimal | None = Field(description="A bonus's amount, in currency.")
    percent: Decimal | None = Field(
        description="A percentage bonus: of the deal's or order's value."
    )
    points: int | None
    currency: Currency
    valid_from: datetime.date | None
    valid_to: datetime.date | None
    active: bool
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class RewardRuleCreate(Strict):
    name: str = Field(..., min_length=1, max_length=200)
    trigger: RewardTrigger
    kind: RewardKind
    amount: Decimal | None = Field(
        None, gt=0, lt=10**13, max_digits=16, decimal_places=2, description="For kind bonus."
    )
    percent: Decimal | None = Field(
        None, gt=0, le=100, max_digits=5, decimal_places=2, description="For kind percent."
    )
    points: int | None = Field(
        None, ge=1, le=1_000_000_000, strict=True, description="For kind points."
    )
    currency: Currency = Currency.JPY
    valid_from: Day | None = Field(None, description="YYYY-MM-DD.")
    valid_to: Day | None = Field(None, description="YYYY-MM-DD.")
    active: bool = True


class RewardRuleQuery(Schema):
    active: bool | None = Field(None, description="Only active (true) or stopped (false) rules.")


@router.get(
    "/referral-reward-rules",
    response={200: list[RewardRuleOut], **ERRORS},
    summary="List referral reward rules",
)
def list_reward_rules(request: HttpRequest, filters: Query[RewardRuleQuery]) -> Any:
    return list(referrals.reward_rule_list(viewer=request_user(request), active=filters.active))


@router.post(
    "/referral-reward-rules",
    response={201: RewardRuleOut, **ERRORS},
    summary="Add a referral reward rule",
)
def create_reward_rule(request: HttpRequest, payload: RewardRuleCreate) -> Status:
    """Heads of sales and administrators. A bonus needs ``amount``, a percentage ``percent``
    (0–100), points ``points``; the other values are ignored."""
    rule: ReferralRewardRule = referrals.reward_rule_create(
        actor=request_user(request), data=payload.model_dump()
    )
    return Status(201, rule)
