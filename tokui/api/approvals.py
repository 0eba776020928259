"""/api/v1/approvals (稟議) and /api/v1/authority-limits.

The same selectors and services as the pages. A request is visible to its requester, to the
people on its route once it reaches them (and after they decided), and to heads of sales and
administrators; others get a 404. Decisions: 403 for one's own request or a non-approver,
409 when the request was decided meanwhile or the ``version`` sent is stale, 422 for a missing
comment (reject and return need one).
"""

import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from tokui.api.auth import request_user
from tokui.api.errors import ERRORS
from tokui.api.schemas import Strict
from tokui.core.exceptions import ApplicationError
from tokui.core.pagination import MAX_PAGE, page_slice
from tokui.pricing import approvals, authority
from tokui.pricing.models import ApprovalRequest, ApprovalStatus, AuthorityLimit
from tokui.users.constants import Role
from tokui.users.models import User

router = Router(tags=["approvals"])

Id = Field(..., ge=1, le=2**62)


class RouteApproverOut(Schema):
    id: int
    name: str
    approved: bool


class RouteStepOut(Schema):
    number: int
    mode: Literal["any", "all"]
    state: str = Field(description="approved, current, waiting, returned or rejected …")
    approvers: list[RouteApproverOut]


class DecisionOut(Schema):
    step: int = Field(description="1-based step the decision was made at.")
    actor: int
    actor_name: str
    decision: str
    comment: str
    at: datetime.datetime


class ApprovalFields(Schema):
    id: int
    kind: str
    title: str
    status: ApprovalStatus
    requester: int
    requester_name: str
    account: int | None
    agreement: int | None
    reason: str
    step: int = Field(description="The current step, 1-based.")
    needs: dict[str, str | None] = Field(
        description="discount_percent, margin_percent, deal_value (decimal strings or null)."
    )
    waiting_for: list[int] = Field(description="Who may decide now.")
    version: int
    created_at: datetime.datetime
    decided_at: datetime.datetime | None


class ApprovalOut(ApprovalFields):
    @staticmethod
    def resolve_requester(obj: ApprovalRequest) -> int:
        return obj.requester_id

    @staticmethod
    def resolve_requester_name(obj: ApprovalRequest) -> str:
        return str(obj.requester)

    @staticmethod
    def resolve_account(obj: ApprovalRequest) -> int | None:
        return obj.account_id

    @staticmethod
    def resolve_agreement(obj: ApprovalRequest) -> int | None:
        return obj.agreement_id

    @staticmethod
    def resolve_step(obj: ApprovalRequest) -> int:
        return obj.step + 1

    @staticmethod
    def resolve_needs(obj: ApprovalRequest) -> dict[str, str | None]:
        return authority.Needs.from_json(obj.needs).as_json()

    @staticmethod
    def resolve_waiting_for(obj: ApprovalRequest) -> list[int]:
        return approvals.waiting_for(obj)


class ApprovalDetailOut(ApprovalFields):
    proposal: dict[str, Any]
    why: list[str] = Field(description="Why it needs approval.")
    route: list[RouteStepOut]
    history: list[DecisionOut]


class ApprovalPage(Schema):
    items: list[ApprovalOut]
    count: int


class ApprovalQuery(Schema):
    waiting_for_me: bool = Field(False, description="Only those waiting for my decision.")
    mine: bool = Field(False, description="Only my own requests.")
    status: ApprovalStatus | None = None
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=200)


class DecisionIn(Strict):
    comment: str = Field("", max_length=2000, description="Required to reject or send back.")
    version: int | None = Field(
        None, ge=1, le=2**31, strict=True, description="The version you read: stale is a 409."
    )


def _detail(request: ApprovalRequest) -> dict[str, Any]:
    route = [
        {
            "number": s["number"],
            "mode": s["mode"],
            "state": s["state"],
            "approvers": [
                {"id": a["id"], "name": str(a["user"] or a["id"]), "approved": a["approved"]}
                for a in s["approvers"]
            ],
        }
        for s in approvals.approval_route_view(request)
    ]
    history = [
        {
            "step": d.step + 1,
            "actor": d.actor_id,
            "actor_name": str(d.actor),
            "decision": d.decision,
            "comment": d.comment,
            "at": d.at,
        }
        for d in approvals.approval_history(request)
    ]
    return {
        **{
            f: getattr(request, f)
            for f in (
                "id",
                "kind",
                "status",
                "reason",
                "version",
                "created_at",
                "decided_at",
            )
        },
        "title": approvals.approval_title(request),
        "requester": request.requester_id,
        "requester_name": str(request.requester),
        "account": request.account_id,
        "agreement": request.agreement_id,
        "step": request.step + 1,
        "needs": authority.Needs.from_json(request.needs).as_json(),
        "waiting_for": approvals.waiting_for(request),
        "proposal": request.proposal if isinstance(request.proposal, dict) else {},
        "why": approvals.approval_breaches(request),
        "route": route,
        "history": history,
    }


def _get(request: HttpRequest, request_id: int) -> ApprovalRequest:
    return approvals.approval_request_get(viewer=request_user(request), request_id=request_id)


@router.get("/approvals", response={200: ApprovalPage, **ERRORS}, summary="List approval requests")
def list_approvals(request: HttpRequest, filters: Query[ApprovalQuery]) -> dict[str, Any]:
    qs = approvals.approval_request_list(
        viewer=request_user(request),
        waiting_for_me=filters.waiting_for_me,
        mine=filters.mine,
        status=filters.status,
    )
    page = page_slice(qs, page=filters.page, page_size=filters.page_size)
    return {"items": page.items, "count": page.count}


@router.get(
    "/approvals/{request_id}",
    response={200: ApprovalDetailOut, **ERRORS},
    summary="One approval request with its route and history",
)
def get_approval(request: HttpRequest, request_id: int) -> dict[str, Any]:
    return _detail(_get(request, request_id))


def _decision(name: str, service: Any, summary: str) -> None:
    def handler(request: HttpRequest, request_id: int, payload: DecisionIn) -> dict[str, Any]:
        approval = _get(request, request_id)
        service(
            actor=request_user(request),
            request=approval,
            comment=payload.comment,
            version=payload.version,
        )
        return _detail(_get(request, request_id))

    handler.__name__ = f"{name}_approval"
    router.post(
        f"/approvals/{{request_id}}/{name}",
        response={200: ApprovalDetailOut, **ERRORS},
        summary=summary,
        operation_id=f"{name}_approval",
    )(handler)


_decision("approve", approvals.approval_approve, "Approve the current step")
_decision("reject", approvals.approval_reject, "Reject (comment required)")
_decision("return", approvals.approval_return, "Send back to the requester (comment required)")
_decision("withdraw", approvals.approval_withdraw, "Withdraw one's own request")


# -- authority limits ---------------------------------------------------------------------------


class AuthorityLimitOut(Schema):
    id: int
    role: Role | None = Field(description="Set on a role's row.")
    user: int | None = Field(description="Set on a person's override.")
    max_discount_percent: Decimal | None
    min_margin_percent: Decimal | None
    max_deal_value: Decimal | None

    @staticmethod
    def resolve_role(obj: AuthorityLimit) -> str | None:
        return obj.role or None

    @staticmethod
    def resolve_user(obj: AuthorityLimit) -> int | None:
        return obj.user_id


class AuthorityLimitIn(Strict):
    role: Role | None = Field(None, description="Give a role or a user, not both.")
    user: int | None = Field(None, ge=1, le=2**62, strict=True)
    max_discount_percent: Decimal | None = Field(None, ge=0, lt=100, max_digits=5, decimal_places=2)
    min_margin_percent: Decimal | None = Field(
        None, gt=-100, lt=100, max_digits=5, decimal_places=2
    )
    max_deal_value: Decimal | None = Field(None, ge=0, lt=10**15, max_digits=16, decimal_places=0)


@router.get(
    "/authority-limits",
    response={200: list[AuthorityLimitOut], **ERRORS},
    summary="Authority limits by role and personal overrides (heads and administrators)",
)
def list_authority_limits(request: HttpRequest) -> list[AuthorityLimit]:
    return list(authority.authority_limit_list(viewer=request_user(request)))


@router.put(
    "/authority-limits",
    response={200: AuthorityLimitOut, **ERRORS},
    summary="Set a role's limits or a person's override (empty values: no limit / role's)",
)
def put_authority_limit(request: HttpRequest, payload: AuthorityLimitIn) -> AuthorityLimit:
    actor = request_user(request)
    user = None
    if payload.user is not None:
        user = User.objects.filter(pk=payload.user).first()
        if user is None or not authority.may_manage_authority(actor):
            raise ApplicationError(_("Choose an existing person."), field="user", status=422)
    data = {name: getattr(payload, name) for name in authority.LIMIT_FIELDS}
    return authority.authority_limit_set(actor=actor, role=payload.role or "", user=user, data=data)
