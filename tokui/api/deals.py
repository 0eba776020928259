"""/api/v1/deals, /api/v1/stages and an account's white space: the deal cycle.

The same selectors and services as the pages. Whoever may see an account sees its deals (others
get a 404); editors of accounts change them. Stage moves are ``POST /deals/{id}/stage``; a move
the playbook refuses is a 409 whose error carries one documented extra key, ``missing``: the
steps still to do, by stage. Send the ``version`` you loaded with a PATCH, a lines PUT or a
move: a deal somebody changed since is refused with 409 and nothing changes.
"""

import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tokui.accounts import selectors as account_selectors
from tokui.api.auth import request_user
from tokui.api.errors import ERRORS, error_body
from tokui.api.reports import Day
from tokui.api.schemas import ErrorDetail, Strict, drop_nones
from tokui.catalog.constants import Currency
from tokui.core.exceptions import ApplicationError, NotFound
from tokui.core.pagination import MAX_PAGE, page_slice
from tokui.pipeline import selectors, services
from tokui.pipeline.constants import DealSource, Likelihood, LostReason, Requirement, StageKind
from tokui.pipeline.models import Deal, DealLine, DealNeed, DealObjection, Stage
from tokui.pipeline.stages import stage_list
from tokui.users.models import User

router = Router(tags=["deals"])

Id = Annotated[int, Field(ge=1, le=2**62, strict=True)]
Money = Annotated[Decimal, Field(ge=0, lt=10**14, max_digits=16, decimal_places=2)]


# -- answers ------------------------------------------------------------------------------------


class StageOut(Schema):
    id: int
    key: str
    name: str = Field(description="In your language (Japanese when one is set).")
    name_en: str
    name_ja: str
    kind: StageKind
    position: int
    active: bool
    description: str

    @staticmethod
    def resolve_name(obj: Stage) -> str:
        return obj.label

    @staticmethod
    def resolve_name_en(obj: Stage) -> str:
        return obj.name


class StepOut(Schema):
    id: int
    text: str = Field(description="In your language.")
    requirement: Requirement
    required: bool


class StageWithStepsOut(StageOut):
    steps: list[StepOut]

    @staticmethod
    def resolve_steps(obj: Stage) -> list[dict[str, Any]]:
        return [
            {"id": s.pk, "text": s.label, "requirement": s.requirement, "required": s.required}
            for s in obj.steps.all()
        ]


class DealLineOut(Schema):
    position: int
    product: int | None = Field(description="null: the product was deleted since.")
    sku: str
    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    priced_on: datetime.date
    explanation: str = Field(description="How the price engine found the price.")

    @staticmethod
    def resolve_product(obj: DealLine) -> int | None:
        return obj.product_id


class NeedOut(Schema):
    id: int
    text: str
    line: int | None = Field(description="A product line's id.")
    important: bool
    created_at: datetime.datetime

    @staticmethod
    def resolve_line(obj: DealNeed) -> int | None:
        return obj.line_id


class ObjectionOut(Schema):
    id: int
    text: str
    response: str
    resolved: bool
    created_at: datetime.datetime


class DealOut(Schema):
    id: int
    account: int
    account_name: str
    title: str
    contact: int | None
    owner: str = Field(description="The owner's user name.")
    stage: str = Field(description="The stage's key.")
    stage_id: int
    stage_kind: StageKind
    stage_entered_at: datetime.datetime
    currency: Currency
    value: Decimal = Field(description="The sum of the lines, or the owner's estimate.")
    expected_close: datetime.date | None
    source: DealSource
    likelihood: Likelihood = Field(description="確度: A, B or C, apart from the stage.")
    description: str
    closed_at: datetime.datetime | None
    lost_reason: LostReason | Literal[""]
    lost_note: str
    lost_to: int | None = Field(description="The competitor (an account's id) who won.")
    version: int = Field(description="Send it back with a PATCH, lines PUT or stage move.")
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_account(obj: Deal) -> int:
        return obj.account_id

    @staticmethod
    def resolve_account_name(obj: Deal) -> str:
        return obj.account.name

    @staticmethod
    def resolve_contact(obj: Deal) -> int | None:
        return obj.contact_id

    @staticmethod
    def resolve_owner(obj: Deal) -> str:
        return obj.owner.username

    @staticmethod
    def resolve_stage(obj: Deal) -> str:
        return obj.stage.key

    @staticmethod
    def resolve_stage_kind(obj: Deal) -> str:
        return obj.stage.kind

    @staticmethod
    def resolve_lost_to(obj: Deal) -> int | None:
        return obj.lost_to_id


class DealDetailOut(DealOut):
    lines: list[DealLineOut]
    needs: list[NeedOut]
    objections: list[ObjectionOut]

    @staticmethod
    def resolve_lines(obj: Deal) -> list[DealLine]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_needs(obj: Deal) -> list[DealNeed]:
        return list(obj.needs.all())

    @staticmethod
    def resolve_objections(obj: Deal) -> list[DealObjection]:
        return list(obj.objections.all())


class DealPage(Schema):
    items: list[DealOut]
    count: int


class MissingStep(Schema):
    stage: str = Field(description="The stage's key.")
    stage_name: str
    step: int = Field(description="The playbook step's id.")
    text: str


class PlaybookErrorDetail(ErrorDetail):
    missing: list[MissingStep] | None = Field(
        None, description="A playbook refusal: the required steps still to do, by stage."
    )


class PlaybookErrorOut(Schema):
    error: PlaybookErrorDetail


class PlaybookStepOut(StepOut):
    met: bool
    done_by: str = Field(description="Who ticked a manual step.")
    done_at: datetime.datetime | None


class PlaybookOut(Schema):
    stage: str
    stage_name: str
    steps: list[PlaybookStepOut] = Field(description="The current stage's playbook.")
    next_stage: str | None = Field(description="The next stage's key, if any.")
    missing_for_next: list[MissingStep] = Field(
        description="What must be done before the deal may move to the next stage."
    )
    version: int


class ProductSuggestionOut(Schema):
    product: int
    sku: str
    name: str
    line: str | None
    reason: str


class LineRefOut(Schema):
    id: int
    name: str


class WhiteSpaceOut(Schema):
    bought_lines: list[LineRefOut]
    open_lines: list[LineRefOut] = Field(description="Product lines it does not buy yet.")
    suggestions: list[ProductSuggestionOut]


# -- requests -----------------------------------------------------------------------------------


class DealQuery(Schema):
    owner: int | None = Field(None, ge=1, le=2**62, description="A user's id.")
    team: int | None = Field(None, ge=1, le=2**62)
    tier: str = Field("", max_length=20)
    close_month: str = Field("", max_length=7, description="YYYY-MM.")
    account: int | None = Field(None, ge=1, le=2**62)
    stage: int | None = Field(None, ge=1, le=2**62, description="A stage's id.")
    q: str = Field("", max_length=100, description="Title or account name.")
    open: bool = Field(False, description="Only deals in open stages.")
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=200)


class DealCreate(Strict):
    account: Id
    title: str = Field(..., min_length=1, max_length=200)
    contact: Id | None = None
    owner: str | None = Field(None, max_length=150, description="User name; defaults to you.")
    currency: Currency = Currency.JPY
    value: Money | None = Field(None, description="An estimate until the deal has lines.")
    expected_close: Day | None = None
    source: DealSource = DealSource.OTHER
    likelihood: Likelihood = Likelihood.C
    description: str = Field("", max_length=4000)


class DealPatch(Strict):
    title: str | None = Field(None, min_length=1, max_length=200)
    contact: Id | None = Field(None, description="null: no contact person.")
    owner: str | None = Field(None, max_length=150)
    currency: Currency | None = None
    value: Money | None = None
    expected_close: Day | None = Field(None, description="null: not known.")
    source: DealSource | None = None
    likelihood: Likelihood | None = None
    description: str | None = Field(None, max_length=4000)
    version: int | None = Field(None, ge=1, le=2**31, strict=True)


class LineIn(Strict):
    product: Id
    quantity: int = Field(..., ge=1, lt=10**9, strict=True)
    unit_price: Money | None = Field(None, description="Empty: the engine's price.")


class LinesPut(Strict):
    lines: list[LineIn] = Field(default_factory=list, max_length=services.LINES_LIMIT)
    version: int | None = Field(None, ge=1, le=2**31, strict=True)


class StageMove(Strict):
    stage: (
        Annotated[int, Field(ge=1, le=2**62, strict=True)]
        | Annotated[str, Field(min_length=1, max_length=40)]
    ) = Field(..., description="The stage's key or id.")
    version: int | None = Field(None, ge=1, le=2**31, strict=True)
    lost_reason: LostReason | Literal[""] = Field("", description="Needed to move to lost.")
    lost_note: str = Field("", max_length=4000)
    lost_to: Id | None = Field(None, description="The competitor who won (an account's id).")


class StepSet(Strict):
    done: bool = Field(..., strict=True)


class NeedIn(Strict):
    text: str = Field(..., min_length=1, max_length=4000)
    line: Id | None = Field(None, description="A product line's id.")
    important: bool = Field(False, strict=True)


class ObjectionIn(Strict):
    text: str = Field(..., min_length=1, max_length=4000)
    response: str = Field("", max_length=4000)
    resolved: bool = Field(False, strict=True)


# -- helpers ------------------------------------------------------------------------------------


def _get(request: HttpRequest, deal_id: int) -> Deal:
    return selectors.deal_get(viewer=request_user(request), deal_id=deal_id)


def _owner(data: dict[str, Any]) -> dict[str, Any]:
    if "owner" in data:
        username = data.pop("owner")
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise ApplicationError(
                    _("There is no user named “%(u)s”.") % {"u": username},
                    field="owner",
                    status=422,
                )
            data["owner"] = user.pk
    return data


def _missing(missing: list[tuple[Stage, Any]]) -> list[dict[str, Any]]:
    return [
        {"stage": stage.key, "stage_name": stage.label, "step": step.pk, "text": step.label}
        for stage, step in missing
    ]


# -- endpoints ----------------------------------------------------------------------------------


@router.get("/deals", response={200: DealPage, **ERRORS}, summary="List deals")
def list_deals(request: HttpRequest, filters: Query[DealQuery]) -> dict[str, Any]:
    params = filters.model_dump()
    params["open"] = "1" if params["open"] else ""
    qs = selectors.deal_list(
        viewer=request_user(request), filters=selectors.DealFilters.from_query(params)
    )
    page = page_slice(qs, page=filters.page, page_size=filters.page_size)
    return {"items": page.items, "count": page.count}


@router.post("/deals", response={201: DealDetailOut, **ERRORS}, summary="Open a deal")
def create_deal(request: HttpRequest, payload: DealCreate) -> Status:
    """The deal starts in the first open stage; the owner defaults to you."""
    viewer = request_user(request)
    data = _owner(payload.model_dump(exclude_none=True))
    account_id = data.pop("account")
    try:
        account = account_selectors.account_get(viewer=viewer, account_id=account_id)
    except NotFound as exc:
        raise ApplicationError(exc.message, field="account", status=422, code="invalid") from exc
    deal = services.deal_create(actor=viewer, account=account, data=data)
    return Status(201, _get(request, deal.pk))


@router.get("/deals/{deal_id}", response={200: DealDetailOut, **ERRORS}, summary="Get a deal")
def get_deal(request: HttpRequest, deal_id: int) -> Any:
    return _get(request, deal_id)


@router.patch("/deals/{deal_id}", response={200: DealDetailOut, **ERRORS}, summary="Change a deal")
def update_deal(request: HttpRequest, deal_id: int, payload: DealPatch) -> Any:
    """Fields left out stay as they are; ``contact`` and ``expected_close`` may be null.
    The stage changes through ``POST /deals/{id}/stage``, the lines through their PUT."""
    deal = _get(request, deal_id)
    data = _owner(
        drop_nones(payload.model_dump(exclude_unset=True), keep=("contact", "expected_close"))
    )
    version = data.pop("version", None)
    services.deal_update(actor=request_user(request), deal=deal, data=data, version=version)
    return _get(request, deal_id)


@router.put(
    "/deals/{deal_id}/lines",
    response={200: DealDetailOut, **ERRORS},
    summary="Replace a deal's products",
)
def put_lines(request: HttpRequest, deal_id: int, payload: LinesPut) -> Any:
    """All or nothing, priced by the price engine for the account today (or at the unit price
    you send). Errors name the line from 1: ``lines.2``. The deal's value becomes their sum."""
    deal = _get(request, deal_id)
    services.deal_set_lines(
        actor=request_user(request),
        deal=deal,
        lines=[line.model_dump() for line in payload.lines],
        version=payload.version,
    )
    return _get(request, deal_id)


@router.post(
    "/deals/{deal_id}/stage",
    response={
        200: DealDetailOut,
        409: PlaybookErrorOut,
        **{k: v for k, v in ERRORS.items() if k != 409},
    },
    summary="Move a deal to another stage",
)
def move_deal(request: HttpRequest, deal_id: int, payload: StageMove) -> Any:
    """Moving forward needs the required playbook steps of the current stage and of every
    stage skipped; a refusal is a 409 with ``error.missing`` listing them. Moving back is always
    allowed; lost needs ``lost_reason`` (and ``lost_to`` when a competitor won); a won deal is
    handed over and not moved again (409). A stale ``version`` is a 409 too."""
    deal = _get(request, deal_id)
    try:
        services.deal_move_stage(
            actor=request_user(request),
            deal=deal,
            stage=payload.stage,
            version=payload.version,
            lost_reason=payload.lost_reason,
            lost_note=payload.lost_note,
            lost_to=payload.lost_to,
        )
    except services.PlaybookRefused as exc:
        body = error_body("playbook_refused", exc.message, exc.errors)
        body["error"]["missing"] = _missing(exc.missing)
        return Status(409, body)
    return _get(request, deal_id)


@router.post(
    "/deals/{deal_id}/steps/{step_id}",
    response={200: PlaybookOut, **ERRORS},
    summary="Tick or untick a manual playbook step",
)
def set_step(request: HttpRequest, deal_id: int, step_id: int, payload: StepSet) -> Any:
    deal = _get(request, deal_id)
    services.deal_step_set(actor=request_user(request), deal=deal, step=step_id, done=payload.done)
    return _playbook(_get(request, deal_id))


@router.post("/deals/{deal_id}/needs", response={201: NeedOut, **ERRORS}, summary="Record a need")
def add_need(request: HttpRequest, deal_id: int, payload: NeedIn) -> Status:
    deal = _get(request, deal_id)
    need = services.deal_need_add(actor=request_user(request), deal=deal, **payload.model_dump())
    return Status(201, need)


@router.post(
    "/deals/{deal_id}/objections",
    response={201: ObjectionOut, **ERRORS},
    summary="Log an objection",
)
def add_objection(request: HttpRequest, deal_id: int, payload: ObjectionIn) -> Status:
    deal = _get(request, deal_id)
    objection = services.deal_objection_add(
        actor=request_user(request), deal=deal, **payload.model_dump()
    )
    return Status(201, objection)


def _playbook(deal: Deal) -> dict[str, Any]:
    states = services.playbook_state(deal=deal).get(deal.stage_id, [])
    stages = selectors.stages_in_use()
    later = [
        s
        for s in stages
        if s.kind == StageKind.OPEN and (s.position, s.pk) > (deal.stage.position, deal.stage.pk)
    ]
    following = None
    if deal.stage.kind == StageKind.OPEN:
        following = (
            later[0] if later else next((s for s in stages if s.kind == StageKind.WON), None)
        )
    missing = services.deal_missing_steps(deal=deal, target=following) if following else []
    return {
        "stage": deal.stage.key,
        "stage_name": deal.stage.label,
        "steps": [
            {
                "id": s.step.pk,
                "text": s.step.label,
                "requirement": s.step.requirement,
                "required": s.step.required,
                "met": s.met,
                "done_by": s.done_by,
                "done_at": s.done_at,
            }
            for s in states
        ],
        "next_stage": following.key if following else None,
        "missing_for_next": _missing(missing),
        "version": deal.version,
    }


@router.get(
    "/deals/{deal_id}/playbook",
    response={200: PlaybookOut, **ERRORS},
    summary="The deal's playbook: what is met, what is missing",
)
def get_playbook(request: HttpRequest, deal_id: int) -> dict[str, Any]:
    return _playbook(_get(request, deal_id))


@router.get("/stages", response={200: list[StageWithStepsOut], **ERRORS}, summary="List stages")
def list_stages(request: HttpRequest) -> list[Stage]:
    """Every stage in order (retired ones with ``active: false``) with its playbook."""
    return stage_list(viewer=request_user(request))


@router.get(
    "/accounts/{account_id}/white-space",
    response={200: WhiteSpaceOut, **ERRORS},
    summary="What an account does not buy yet",
)
def get_white_space(request: HttpRequest, account_id: int) -> dict[str, Any]:
    """Product lines it does not buy yet and products to suggest, each with the reason."""
    viewer = request_user(request)
    account = account_selectors.account_get(viewer=viewer, account_id=account_id)
    space = selectors.white_space(viewer=viewer, account=account)
    return {
        "bought_lines": [{"id": line.pk, "name": line.name} for line in space.bought_lines],
        "open_lines": [{"id": line.pk, "name": line.name} for line in space.open_lines],
        "suggestions": [
            {
                "product": product.pk,
                "sku": product.sku,
                "name": product.name,
                "line": product.line.name if product.line else None,
                "reason": reason,
            }
            for product, reason in space.suggestions
        ],
    }
