"""Approvals (稟議): requests for decisions outside their requester's authority.

``agreement_propose_terms`` is what pages and the API call to change an agreement's special
prices and discounts: within the actor's authority (and, for terms already approved, an
authority that covers them) the terms apply at once; otherwise an approval request is opened
and the terms apply when the last approver approves.

Routing (fixed when a request is submitted, kept in ``ApprovalRequest.route``): the active
``ApprovalChain`` of the request's kind, step by step; without one, a single "any" step with the
first people up the reporting line whose authority covers the request — the requester's team
manager, that manager's team manager, … (a loop in the line is detected and skipped), then the
heads of sales, then the administrators. Nobody approves their own request.

Decisions lock the request row (``select_for_update``) and re-check its status and step, so of
two approvers clicking at once exactly one wins; the other gets a Conflict. When the last step
approves, the kind's ``apply`` handler runs in the same transaction: if it fails, nothing of the
approval is kept and the approver is told why. See docs/adr/0007-approvals.md.
"""

import datetime
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tokui.accounts.constants import AccountTier
from tokui.accounts.models import Account, Segment, account_scope
from tokui.catalog.constants import ROLES_SEEING_COST
from tokui.catalog.models import Product, ProductLine
from tokui.core.audit import audit_record, check_version
from tokui.core.exceptions import ApplicationError, Conflict, NotFound, PermissionDenied
from tokui.core.money import format_money
from tokui.core.validation import ErrorCollector, check_plain_text
from tokui.pricing import rules
from tokui.pricing.authority import (
    Needs,
    agreement_current_terms,
    agreement_terms_needs,
    authority_for,
    breaches,
    covers,
)
from tokui.pricing.models import (
    Agreement,
    ApprovalChain,
    ApprovalDecision,
    ApprovalDecisionKind,
    ApprovalMode,
    ApprovalRequest,
    ApprovalStatus,
    ApprovalStep,
    AuthorityLimit,
    DiscountRule,
    DiscountRuleKind,
)
from tokui.pricing.services import agreement_set_terms
from tokui.users.constants import Role
from tokui.users.models import Team, User
from tokui.users.notifications import notify

OPEN_STATUSES = (ApprovalStatus.PENDING, ApprovalStatus.RETURNED)
ROLES_SEEING_ALL_REQUESTS = frozenset({Role.ADMIN, Role.HEAD})
ROLES_MANAGING_CHAINS = frozenset({Role.ADMIN, Role.HEAD})
COMMENT_LIMIT = 2000
REASON_LIMIT = 4000
STEPS_LIMIT = 10
APPROVERS_LIMIT = 20


# -- the kinds registry -------------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalKind:
    key: str
    label: Any
    # Applies the approved proposal (inside the approval's transaction); raise ApplicationError
    # to refuse, which rolls the approval back.
    apply: Callable[[ApprovalRequest, User], None]
    # Rows for the detail page: dicts with label, list_price, current, proposed, discount,
    # margin (None: not shown), changed.
    describe: Callable[[ApprovalRequest, User], list[dict[str, Any]]]
    # The subject in the reader's language (the stored title is in the requester's).
    title: Callable[[ApprovalRequest], str] | None = None


class ApprovalKindRegistry:
    def __init__(self) -> None:
        self._kinds: dict[str, ApprovalKind] = {}

    def register(
        self,
        key: str,
        *,
        apply: Callable[[ApprovalRequest, User], None],
        describe: Callable[[ApprovalRequest, User], list[dict[str, Any]]],
        label: Any = None,
        title: Callable[[ApprovalRequest], str] | None = None,
    ) -> None:
        self._kinds[key] = ApprovalKind(
            key=key, label=label or key, apply=apply, describe=describe, title=title
        )

    def get(self, key: str) -> ApprovalKind | None:
        return self._kinds.get(key)

    def choices(self) -> list[tuple[str, str]]:
        return [(k.key, str(k.label)) for k in self._kinds.values()]

    def __contains__(self, key: object) -> bool:
        return key in self._kinds


approval_kinds = ApprovalKindRegistry()


def approval_title(request: ApprovalRequest) -> str:
    """The request's subject in the current language (its kind says how), else as stored."""
    kind = approval_kinds.get(request.kind)
    return kind.title(request) if kind is not None and kind.title is not None else request.title


# -- routing ------------------------------------------------------------------------------------


def _covering(users: Iterable[User], needs: Needs, rows: list[AuthorityLimit]) -> list[User]:
    return [u for u in users if u.is_active and covers(authority_for(u, rows=rows), needs)]


def reporting_line(requester: User) -> tuple[list[User], bool]:
    """The requester's managers upwards (team manager, their team's manager, …).

    Returns the managers in order and whether the line loops (a team met twice); the walk stops
    at the loop, so a misconfigured line can never hang a request.
    """
    managers: list[User] = []
    seen_teams: set[int] = set()
    looped = False
    team_id = requester.team_id
    while team_id is not None:
        if team_id in seen_teams:
            looped = True
            break
        seen_teams.add(team_id)
        team = Team.objects.select_related("manager").filter(pk=team_id).first()
        if team is None or team.manager is None:
            break
        manager = team.manager
        if manager.team_id == team_id:
            if manager.pk != requester.pk and manager not in managers:
                managers.append(manager)
            break  # a manager in their own team is the top of this line
        if manager.pk != requester.pk and manager not in managers:
            managers.append(manager)
        elif manager.pk == requester.pk and team_id != requester.team_id:
            looped = True  # the line came back to the requester
            break
        team_id = manager.team_id
    return managers, looped


def _reporting_line_approvers(
    requester: User, needs: Needs, rows: list[AuthorityLimit]
) -> list[int]:
    managers, _looped = reporting_line(requester)
    for manager in managers:
        if _covering([manager], needs, rows):
            return [manager.pk]
    for role in (Role.HEAD, Role.ADMIN):
        people = User.objects.filter(role=role, is_active=True).exclude(pk=requester.pk)
        found = _covering(people.order_by("username"), needs, rows)
        if found:
            return [u.pk for u in found]
    return []


def approval_route(*, requester: User, kind: str, needs: Needs) -> list[dict[str, Any]]:
    """The steps a new request of ``kind`` takes: ``[{"mode", "approvers": [ids]}]``."""
    rows = list(AuthorityLimit.objects.all())
    chain = ApprovalChain.objects.filter(kind=kind, active=True).first()
    route: list[dict[str, Any]] = []
    if chain is not None:
        for step in chain.steps.prefetch_related("approvers").order_by("position"):
            ids = [u.pk for u in step.approvers.all() if u.is_active and u.pk != requester.pk]
            if ids:
                route.append({"mode": step.mode, "approvers": sorted(ids)})
            else:
                # Everyone of the step is the requester (or left): the reporting line decides.
                fallback = _reporting_line_approvers(requester, needs, rows)
                if fallback:
                    route.append({"mode": ApprovalMode.ANY, "approvers": fallback})
    else:
        approvers = _reporting_line_approvers(requester, needs, rows)
        if approvers:
            route.append({"mode": ApprovalMode.ANY, "approvers": approvers})
    if not route:
        raise ApplicationError(
            _(
                "Nobody has the authority to approve this. Ask an administrator to raise "
                "someone's authority limits or to set up an approval chain."
            ),
            status=422,
        )
    return route


# -- reads ----------------------------------------------------------------------------------------


def sees_all_requests(user: User) -> bool:
    return user.is_active and user.role in ROLES_SEEING_ALL_REQUESTS


def _last_submission_id(request: ApprovalRequest) -> int:
    last = (
        request.decisions.filter(
            decision__in=[ApprovalDecisionKind.SUBMIT, ApprovalDecisionKind.RESUBMIT]
        )
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return last or 0


def approved_at_step(request: ApprovalRequest) -> set[int]:
    """Who has approved the current step since the request was last submitted."""
    return set(
        request.decisions.filter(
            decision=ApprovalDecisionKind.APPROVE,
            step=request.step,
            id__gt=_last_submission_id(request),
        ).values_list("actor_id", flat=True)
    )


def current_approvers(request: ApprovalRequest) -> list[int]:
    if request.status != ApprovalStatus.PENDING or request.step >= len(request.route or []):
        return []
    step = request.route[request.step]
    return [int(i) for i in step.get("approvers", [])]


def waiting_for(request: ApprovalRequest) -> list[int]:
    """Who may decide the request now (in mode "all": those who have not approved yet)."""
    approvers = current_approvers(request)
    if not approvers:
        return []
    if request.route[request.step].get("mode") == ApprovalMode.ALL:
        done = approved_at_step(request)
        return [i for i in approvers if i not in done]
    return approvers


def _participants(request: ApprovalRequest) -> set[int]:
    return {int(i) for step in request.route or [] for i in step.get("approvers", [])}


def _waiting_ids(viewer: User) -> list[int]:
    # Open requests are few; the route is JSON, read in Python on every database alike.
    ids = []
    pending = ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING).exclude(
        requester=viewer
    )
    for request in pending.only("id", "route", "step", "status"):
        approvers = current_approvers(request)
        if viewer.pk not in approvers:
            continue
        if request.route[request.step].get("mode") == ApprovalMode.ALL and (
            viewer.pk in approved_at_step(request)
        ):
            continue
        ids.append(request.pk)
    return ids


def approval_waiting_count(*, viewer: User) -> int:
    if not viewer.is_authenticated or not viewer.is_active:
        return 0
    return len(_waiting_ids(viewer))


def approval_request_list(
    *,
    viewer: User,
    waiting_for_me: bool = False,
    mine: bool = False,
    status: str | None = None,
) -> QuerySet[ApprovalRequest]:
    """Requests the viewer may see: their own, those waiting for them or that they decided;
    heads of sales and administrators see all."""
    qs = ApprovalRequest.objects.select_related("requester", "account", "agreement")
    if waiting_for_me:
        qs = qs.filter(pk__in=_waiting_ids(viewer))
    elif mine:
        qs = qs.filter(requester=viewer)
    elif not sees_all_requests(viewer):
        qs = qs.filter(
            Q(requester=viewer) | Q(decisions__actor=viewer) | Q(pk__in=_waiting_ids(viewer))
        ).distinct()
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def approval_request_get(*, viewer: User, request_id: int) -> ApprovalRequest:
    request = (
        ApprovalRequest.objects.select_related("requester", "account", "agreement")
        .filter(pk=request_id)
        .first()
    )
    if request is None or not _may_see(viewer, request):
        raise NotFound(_("No such approval request."))
    return request


def _may_see(viewer: User, request: ApprovalRequest) -> bool:
    if not viewer.is_active:
        return False
    if sees_all_requests(viewer) or request.requester_id == viewer.pk:
        return True
    if viewer.pk in _participants(request):
        return True
    return request.decisions.filter(actor=viewer).exists()


def approval_history(request: ApprovalRequest) -> list[ApprovalDecision]:
    return list(request.decisions.select_related("actor").order_by("at", "id"))


def approval_route_view(request: ApprovalRequest) -> list[dict[str, Any]]:
    """The route with people and each step's state, for pages and the API."""
    ids = _participants(request)
    people = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    since = _last_submission_id(request)
    approvals = {
        (d.step, d.actor_id)
        for d in request.decisions.filter(decision=ApprovalDecisionKind.APPROVE, id__gt=since)
    }
    steps = []
    for index, step in enumerate(request.route or []):
        if request.status == ApprovalStatus.APPROVED or index < request.step:
            state = "approved"
        elif index == request.step and request.status == ApprovalStatus.PENDING:
            state = "current"
        elif index == request.step:
            state = request.status
        else:
            state = "waiting"
        steps.append(
            {
                "number": index + 1,
                "mode": step.get("mode", ApprovalMode.ANY),
                "mode_label": ApprovalMode(step.get("mode", ApprovalMode.ANY)).label,
                "state": state,
                "approvers": [
                    {
                        "user": people.get(int(i)),
                        "id": int(i),
                        "approved": (index, int(i)) in approvals,
                    }
                    for i in step.get("approvers", [])
                ],
            }
        )
    return steps


def approval_breaches(request: ApprovalRequest) -> list[str]:
    """Why the request needs approval, against the requester's limits as they are now."""
    reasons = breaches(authority_for(request.requester), Needs.from_json(request.needs), own=False)
    locked_by = (request.proposal or {}).get("locked_by")
    if locked_by:
        reasons.append(
            _(
                "The terms in force were approved (request #%(n)s): changing them needs a new "
                "approval."
            )
            % {"n": locked_by}
        )
    return reasons


# -- writes ---------------------------------------------------------------------------------------


def _url(request: ApprovalRequest) -> str:
    return reverse("pricing:approval_detail", args=[request.pk])


def _scope(request: ApprovalRequest) -> str:
    return account_scope(request.account_id) if request.account_id else ""


def _notify_approvers(request: ApprovalRequest, user_ids: Iterable[int]) -> None:
    people = User.objects.filter(pk__in=list(user_ids), is_active=True)
    notify(
        users=people,
        title=_("Approval needed: %(title)s") % {"title": request.title},
        body=_("%(who)s asks for your approval: %(title)s")
        % {"who": request.requester, "title": request.title},
        url=_url(request),
    )


def _notify_requester(request: ApprovalRequest, title: str, comment: str) -> None:
    notify(users=[request.requester], title=title, body=comment, url=_url(request))


def _clean_comment(comment: str, *, required: bool, errors: ErrorCollector) -> str:
    comment = (comment or "").strip() if isinstance(comment, str) else ""
    if required and not comment:
        errors.add("comment", _("Say why, so the requester knows what to change."))
    if len(comment) > COMMENT_LIMIT:
        errors.add("comment", _("At most %(n)d characters, please.") % {"n": COMMENT_LIMIT})
    if "\x00" in comment:
        errors.add("comment", _("Null characters are not allowed."))
    check_plain_text("comment", comment, errors)
    return comment


def _needs_json(needs: Needs | dict[str, Any]) -> dict[str, Any]:
    return needs.as_json() if isinstance(needs, Needs) else Needs.from_json(needs).as_json()


def _decide(request: ApprovalRequest, actor: User, decision: str, comment: str) -> None:
    ApprovalDecision.objects.create(
        request=request, step=request.step, actor=actor, decision=decision, comment=comment
    )


def _open_conflict(open_request: ApprovalRequest) -> Conflict:
    return Conflict(
        _(
            "Request #%(n)s “%(title)s” by %(who)s is still open for this: wait for its decision "
            "or withdraw it first."
        )
        % {"n": open_request.pk, "title": open_request.title, "who": open_request.requester}
    )


@transaction.atomic
def approval_request_create(
    *,
    actor: User,
    kind: str,
    title: str,
    proposal: dict[str, Any],
    needs: Needs | dict[str, Any],
    account: Account | None = None,
    agreement: Agreement | None = None,
    subject_key: str = "",
    reason: str = "",
) -> ApprovalRequest:
    """Open a request: the route is fixed now; the first step's approvers are notified."""
    if kind not in approval_kinds:
        raise ApplicationError(_("Unknown kind of request: %(k)s") % {"k": kind}, status=422)
    if not actor.is_active:
        raise PermissionDenied(_("Your account is deactivated."))
    errors = ErrorCollector()
    title = (title or "").strip()
    if not title:
        errors.add("title", _("Give the request a subject."))
    reason = (reason or "").strip()
    if len(reason) > REASON_LIMIT:
        errors.add("reason", _("At most %(n)d characters, please.") % {"n": REASON_LIMIT})
    check_plain_text("reason", reason, errors)
    errors.raise_if_any()
    if subject_key:
        open_request = (
            ApprovalRequest.objects.filter(subject_key=subject_key, status__in=OPEN_STATUSES)
            .select_related("requester")
            .first()
        )
        if open_request is not None:
            raise _open_conflict(open_request)
    needs_json = _needs_json(needs)
    route = approval_route(requester=actor, kind=kind, needs=Needs.from_json(needs_json))
    try:
        with transaction.atomic():
            request = ApprovalRequest.objects.create(
                kind=kind,
                title=title[:300],
                requester=actor,
                account=account,
                agreement=agreement,
                subject_key=subject_key[:100],
                reason=reason,
                proposal=proposal,
                needs=needs_json,
                route=route,
            )
    except IntegrityError:
        # Another request for the same subject was opened at the same moment.
        open_request = (
            ApprovalRequest.objects.filter(subject_key=subject_key, status__in=OPEN_STATUSES)
            .select_related("requester")
            .first()
        )
        if open_request is not None:
            raise _open_conflict(open_request) from None
        raise
    _decide(request, actor, ApprovalDecisionKind.SUBMIT, reason)
    audit_record(
        actor=actor,
        action="pricing.approval.submitted",
        target=request,
        changes={"status": [None, request.status]},
        scope=_scope(request),
        note=reason,
    )
    _notify_approvers(request, waiting_for(request))
    return request


def _lock(request: ApprovalRequest) -> ApprovalRequest:
    locked = (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("requester")
        .filter(pk=request.pk)
        .first()
    )
    if locked is None:
        raise NotFound(_("No such approval request."))
    return locked


def _check_open(request: ApprovalRequest, version: int | None, *, statuses: Iterable[str]) -> None:
    if request.status not in statuses:
        last = request.decisions.select_related("actor").order_by("-id").first()
        who = str(last.actor) if last else _("someone")
        raise Conflict(
            _("This request is already %(status)s (by %(who)s): it takes no further decisions.")
            % {"status": ApprovalStatus(request.status).label, "who": who}
        )
    if version is not None and version != request.version:
        raise Conflict(
            _("The request changed while you were reading it: reload it and decide again.")
        )


def _check_approver(request: ApprovalRequest, actor: User) -> None:
    if request.requester_id == actor.pk:
        raise PermissionDenied(_("You cannot decide your own request."))
    if not actor.is_active or actor.pk not in current_approvers(request):
        raise PermissionDenied(_("You are not an approver of this request's current step."))


def _bump(request: ApprovalRequest, fields: list[str]) -> None:
    request.version += 1
    request.updated_at = timezone.now()
    request.save(update_fields=[*fields, "version", "updated_at"])


@transaction.atomic
def approval_approve(
    *, actor: User, request: ApprovalRequest, comment: str = "", version: int | None = None
) -> ApprovalRequest:
    """Approve the current step; the last step's approval applies the proposal.

    Side effects: the next step's approvers or the requester are notified (after commit).
    """
    request = _lock(request)
    if request.status == ApprovalStatus.PENDING and request.requester_id == actor.pk:
        raise PermissionDenied(_("You cannot approve your own request."))
    _check_open(request, version, statuses=[ApprovalStatus.PENDING])
    _check_approver(request, actor)
    errors = ErrorCollector()
    comment = _clean_comment(comment, required=False, errors=errors)
    errors.raise_if_any()
    step = request.route[request.step]
    if step.get("mode") == ApprovalMode.ALL and actor.pk in approved_at_step(request):
        raise Conflict(_("You have already approved this step; the others still have to."))
    _decide(request, actor, ApprovalDecisionKind.APPROVE, comment)
    before_status, before_step = request.status, request.step
    remaining = waiting_for(request)
    if step.get("mode") == ApprovalMode.ALL and remaining:
        _bump(request, [])
        audit_record(
            actor=actor,
            action="pricing.approval.approved",
            target=request,
            scope=_scope(request),
            note=comment,
        )
        return request
    if request.step + 1 < len(request.route):
        request.step += 1
        _bump(request, ["step"])
        audit_record(
            actor=actor,
            action="pricing.approval.approved",
            target=request,
            changes={"step": [before_step + 1, request.step + 1]},
            scope=_scope(request),
            note=comment,
        )
        _notify_approvers(request, waiting_for(request))
        return request
    request.status = ApprovalStatus.APPROVED
    request.decided_at = timezone.now()
    _bump(request, ["status", "decided_at"])
    kind = approval_kinds.get(request.kind)
    if kind is None:
        raise ApplicationError(_("Unknown kind of request: %(k)s") % {"k": request.kind})
    try:
        kind.apply(request, actor)
    except ApplicationError as exc:
        # Nothing of the approval is kept (the transaction rolls back); say why.
        raise type(exc)(
            _("The approval was not saved: %(why)s") % {"why": exc.message},
            errors=exc.errors,
            status=exc.status,
            code=exc.code,
        ) from exc
    audit_record(
        actor=actor,
        action="pricing.approval.approved",
        target=request,
        changes={"status": [before_status, request.status]},
        scope=_scope(request),
        note=comment,
    )
    _notify_requester(request, _("Approved: %(title)s") % {"title": request.title}, comment)
    return request


@transaction.atomic
def approval_reject(
    *, actor: User, request: ApprovalRequest, comment: str, version: int | None = None
) -> ApprovalRequest:
    """Reject for good (the requester may propose again in a new request). Comment required."""
    return _close(actor, request, comment, version, ApprovalStatus.REJECTED)


@transaction.atomic
def approval_return(
    *, actor: User, request: ApprovalRequest, comment: str, version: int | None = None
) -> ApprovalRequest:
    """Send back to the requester to change and resubmit. Comment required."""
    return _close(actor, request, comment, version, ApprovalStatus.RETURNED)


def _close(
    actor: User, request: ApprovalRequest, comment: str, version: int | None, status: str
) -> ApprovalRequest:
    request = _lock(request)
    _check_open(request, version, statuses=[ApprovalStatus.PENDING])
    _check_approver(request, actor)
    errors = ErrorCollector()
    comment = _clean_comment(comment, required=True, errors=errors)
    errors.raise_if_any()
    rejected = status == ApprovalStatus.REJECTED
    _decide(
        request,
        actor,
        ApprovalDecisionKind.REJECT if rejected else ApprovalDecisionKind.RETURN,
        comment,
    )
    before = request.status
    request.status = status
    fields = ["status"]
    if rejected:
        request.decided_at = timezone.now()
        fields.append("decided_at")
    _bump(request, fields)
    audit_record(
        actor=actor,
        action="pricing.approval.rejected" if rejected else "pricing.approval.returned",
        target=request,
        changes={"status": [before, status]},
        scope=_scope(request),
        note=comment,
    )
    title = _("Rejected: %(title)s") if rejected else _("Sent back to you: %(title)s")
    _notify_requester(request, title % {"title": request.title}, comment)
    return request


@transaction.atomic
def approval_resubmit(
    *,
    actor: User,
    request: ApprovalRequest,
    proposal: dict[str, Any] | None = None,
    needs: Needs | dict[str, Any] | None = None,
    comment: str = "",
    version: int | None = None,
) -> ApprovalRequest:
    """The requester submits a returned request again, maybe changed; it starts from step 1."""
    request = _lock(request)
    if request.requester_id != actor.pk:
        raise PermissionDenied(_("Only the requester can submit the request again."))
    _check_open(request, version, statuses=[ApprovalStatus.RETURNED])
    errors = ErrorCollector()
    comment = _clean_comment(comment, required=False, errors=errors)
    errors.raise_if_any()
    if proposal is not None:
        request.proposal = proposal
    if needs is not None:
        request.needs = _needs_json(needs)
    request.route = approval_route(
        requester=actor, kind=request.kind, needs=Needs.from_json(request.needs)
    )
    request.step = 0
    request.status = ApprovalStatus.PENDING
    _bump(request, ["proposal", "needs", "route", "step", "status"])
    _decide(request, actor, ApprovalDecisionKind.RESUBMIT, comment)
    audit_record(
        actor=actor,
        action="pricing.approval.resubmitted",
        target=request,
        changes={"status": [ApprovalStatus.RETURNED, ApprovalStatus.PENDING]},
        scope=_scope(request),
        note=comment,
    )
    _notify_approvers(request, waiting_for(request))
    return request


@transaction.atomic
def approval_withdraw(
    *, actor: User, request: ApprovalRequest, comment: str = "", version: int | None = None
) -> ApprovalRequest:
    """The requester takes an open request back; nothing is applied."""
    request = _lock(request)
    if request.requester_id != actor.pk:
        raise PermissionDenied(_("Only the requester can withdraw the request."))
    _check_open(request, version, statuses=OPEN_STATUSES)
    errors = ErrorCollector()
    comment = _clean_comment(comment, required=False, errors=errors)
    errors.raise_if_any()
    before = request.status
    request.status = ApprovalStatus.WITHDRAWN
    request.decided_at = timezone.now()
    _bump(request, ["status", "decided_at"])
    _decide(request, actor, ApprovalDecisionKind.WITHDRAW, comment)
    audit_record(
        actor=actor,
        action="pricing.approval.withdrawn",
        target=request,
        changes={"status": [before, request.status]},
        scope=_scope(request),
        note=comment,
    )
    return request


# -- approval chains ------------------------------------------------------------------------------


def may_manage_chains(user: User) -> bool:
    return user.is_active and user.role in ROLES_MANAGING_CHAINS


def approval_chain_list(*, viewer: User) -> QuerySet[ApprovalChain]:
    if not may_manage_chains(viewer):
        raise PermissionDenied(_("Only heads of sales and administrators set up approval chains."))
    return ApprovalChain.objects.prefetch_related("steps__approvers").order_by("kind", "name")


@transaction.atomic
def approval_chain_save(
    *,
    actor: User,
    chain: ApprovalChain | None = None,
    name: str,
    kind: str,
    active: bool,
    steps: list[dict[str, Any]],
    version: int | None = None,
) -> ApprovalChain:
    """Create or replace a chain with its steps: ``[{"mode": "any"|"all", "approvers": [ids]}]``.

    Refused (nothing saved): a person in two steps (a circular route), a step without an
    active approver, an unknown kind, a second active chain for the same kind.
    """
    if not may_manage_chains(actor):
        raise PermissionDenied(_("Only heads of sales and administrators set up approval chains."))
    if chain is not None:
        chain = ApprovalChain.objects.select_for_update().filter(pk=chain.pk).first()
        if chain is None:
            raise NotFound(_("No such approval chain."))
        if version is not None and version != chain.version:
            raise Conflict(_("Someone changed this chain meanwhile: reload it and try again."))
    errors = ErrorCollector()
    name = (name or "").strip()
    if not name:
        errors.add("name", _("Give the chain a name."))
    elif len(name) > 200:
        errors.add("name", _("At most %(n)d characters, please.") % {"n": 200})
    if kind not in approval_kinds:
        errors.add("kind", _("Choose a kind of request."))
    if not steps:
        errors.add("steps", _("Add at least one step."))
    if len(steps) > STEPS_LIMIT:
        errors.add("steps", _("At most %(n)d steps.") % {"n": STEPS_LIMIT})
    all_ids = {i for s in steps for i in (s.get("approvers") or []) if isinstance(i, int)}
    people = {u.pk: u for u in User.objects.filter(pk__in=all_ids)}
    placed: dict[int, int] = {}
    clean_steps: list[tuple[str, list[User]]] = []
    for index, step in enumerate(steps[:STEPS_LIMIT]):
        key = f"steps.{index}"
        mode = step.get("mode") or ApprovalMode.ANY
        if mode not in ApprovalMode.values:
            errors.add(f"{key}.mode", _("Choose “any one of them” or “all of them”."))
        ids = [i for i in (step.get("approvers") or []) if isinstance(i, int)]
        if len(ids) > APPROVERS_LIMIT:
            errors.add(
                f"{key}.approvers", _("At most %(n)d approvers a step.") % {"n": APPROVERS_LIMIT}
            )
        approvers = [people[i] for i in dict.fromkeys(ids) if i in people]
        if len(approvers) != len(set(ids)):
            errors.add(f"{key}.approvers", _("Choose existing people."))
        if not any(u.is_active for u in approvers):
            errors.add(
                f"{key}.approvers",
                _("Step %(n)d needs at least one active approver.") % {"n": index + 1},
            )
        for user in approvers:
            if user.pk in placed:
                errors.add(
                    f"{key}.approvers",
                    _(
                        "%(who)s is already an approver in step %(m)d: a person may appear in "
                        "one step only, or the route would go round in a circle."
                    )
                    % {"who": user, "m": placed[user.pk] + 1},
                )
            else:
                placed[user.pk] = index
        clean_steps.append((mode, approvers))
    if active and kind in approval_kinds:
        other = ApprovalChain.objects.filter(kind=kind, active=True)
        if chain is not None:
            other = other.exclude(pk=chain.pk)
        clash = other.first()
        if clash is not None:
            errors.add(
                "active",
                _("“%(name)s” is already the active chain for this kind: deactivate it first.")
                % {"name": clash.name},
            )
    errors.raise_if_any()
    created = chain is None
    if chain is None:
        chain = ApprovalChain(name=name, kind=kind, active=active)
        chain.save()
    else:
        chain.name, chain.kind, chain.active = name, kind, active
        chain.version += 1
        chain.updated_at = timezone.now()
        chain.save(update_fields=["name", "kind", "active", "version", "updated_at"])
        chain.steps.all().delete()
    summary = []
    for index, (mode, approvers) in enumerate(clean_steps):
        step_row = ApprovalStep.objects.create(chain=chain, position=index + 1, mode=mode)
        step_row.approvers.set(approvers)
        summary.append(f"{index + 1}:{mode}:{','.join(u.username for u in approvers)}")
    audit_record(
        actor=actor,
        action="pricing.approval_chain.created" if created else "pricing.approval_chain.changed",
        target=chain,
        changes={"steps": [None, " / ".join(summary)], "active": [None, active]},
    )
    return chain


# -- agreement terms ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TermsOutcome:
    agreement: Agreement
    applied: bool  # True: the terms are in force now
    request: ApprovalRequest | None = None  # the request opened when they need approval


def _json_rows(
    prices: list[dict[str, Any]], discounts: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    def ref(value: Any) -> Any:
        return value.pk if isinstance(value, Product | ProductLine) else value

    clean_prices = [
        {
            "product": ref(r.get("product")),
            "min_quantity": r.get("min_quantity", 1),
            "unit_price": str(r.get("unit_price")),
        }
        for r in prices
    ]
    clean_discounts = []
    for r in discounts:
        row: dict[str, Any] = {"percent": str(r.get("percent"))}
        if r.get("product") is not None:
            row["product"] = ref(r["product"])
        else:
            row["line"] = ref(r.get("line"))
        clean_discounts.append(row)
    return clean_prices, clean_discounts


def _combine(a: Needs, b: Needs) -> Needs:
    def high(x: Decimal | None, y: Decimal | None) -> Decimal | None:
        return y if x is None else x if y is None else max(x, y)

    def low(x: Decimal | None, y: Decimal | None) -> Decimal | None:
        return y if x is None else x if y is None else min(x, y)

    return Needs(
        discount_percent=high(a.discount_percent, b.discount_percent),
        margin_percent=low(a.margin_percent, b.margin_percent),
        deal_value=high(a.deal_value, b.deal_value),
    )


def agreement_propose_terms(
    *,
    actor: User,
    agreement: Agreement,
    prices: list[dict[str, Any]],
    discounts: list[dict[str, Any]],
    version: int | None = None,
    reason: str = "",
) -> TermsOutcome:
    """Change the agreement's terms now, or open an approval request for them.

    Applied now when the terms are within the actor's authority and — if the terms in force were
    approved — the actor's authority also covers those (approved terms are locked against edits
    without a new approval). Otherwise the terms are validated exactly as ``agreement_set_terms``
    would (bad rows are refused before any request exists) and a request is opened (one open per
    agreement: a second is a Conflict naming the first). The requester's own returned request is
    submitted again with the new terms instead.
    """
    with transaction.atomic():
        visible = Account.objects.visible_to(actor).filter(pk=agreement.account_id).exists()
        locked = Agreement.objects.select_for_update().filter(pk=agreement.pk).first()
        if locked is None or not visible:
            raise NotFound(_("No such agreement."))
        if not actor.may_edit_accounts:
            raise PermissionDenied(_("Your role can read accounts but not change their terms."))
        agreement = locked
        subject = f"agreement:{agreement.pk}"
        open_request = (
            ApprovalRequest.objects.filter(subject_key=subject, status__in=OPEN_STATUSES)
            .select_related("requester")
            .first()
        )
        own_returned = (
            open_request is not None
            and open_request.requester_id == actor.pk
            and open_request.status == ApprovalStatus.RETURNED
        )
        if open_request is not None and not own_returned:
            raise _open_conflict(open_request)
        rows = list(AuthorityLimit.objects.all())
        authority = authority_for(actor, rows=rows)
        if not isinstance(prices, list | tuple) or not isinstance(discounts, list | tuple):
            raise ApplicationError(_("Give lists of prices and discounts."), status=422)
        prices, discounts = list(prices), list(discounts)
        needs = agreement_terms_needs(agreement, prices, discounts)
        old_needs = agreement_terms_needs(agreement, *agreement_current_terms(agreement))
        unlocked = agreement.approved_by_id is None or covers(authority, old_needs)
        if covers(authority, needs) and unlocked:
            agreement = agreement_set_terms(
                actor=actor,
                agreement=agreement,
                prices=prices,
                discounts=discounts,
                version=version,
            )
            if agreement.approved_by_id is not None:
                agreement.approved_by = None
                agreement.save(update_fields=["approved_by"])
            if own_returned and open_request is not None:
                approval_withdraw(
                    actor=actor,
                    request=open_request,
                    comment=_("Replaced by terms within my authority."),
                )
            return TermsOutcome(agreement=agreement, applied=True)
        # Validate exactly as the real write would, then undo it: bad rows are a 422 now.
        savepoint = transaction.savepoint_create()
        try:
            agreement_set_terms(
                actor=actor,
                agreement=agreement,
                prices=prices,
                discounts=discounts,
                version=version,
            )
        finally:
            transaction.savepoint_rollback(savepoint)
        agreement.refresh_from_db()
        before_prices, before_discounts = agreement_current_terms(agreement)
        json_prices, json_discounts = _json_rows(prices, discounts)
        proposal: dict[str, Any] = {
            "agreement_version": agreement.version,
            "prices": json_prices,
            "discounts": json_discounts,
            "before": {"prices": before_prices, "discounts": before_discounts},
        }
        request_needs = needs
        if not unlocked and agreement.approved_by_id is not None:
            proposal["locked_by"] = agreement.approved_by_id
            request_needs = _combine(needs, old_needs)
        if own_returned and open_request is not None:
            request = approval_resubmit(
                actor=actor,
                request=open_request,
                proposal=proposal,
                needs=request_needs,
                comment=reason,
            )
        else:
            request = approval_request_create(
                actor=actor,
                kind="agreement_terms",
                title=_agreement_terms_title(agreement, agreement.account),
                proposal=proposal,
                needs=request_needs,
                account=agreement.account,
                agreement=agreement,
                subject_key=subject,
                reason=reason,
            )
        return TermsOutcome(agreement=agreement, applied=False, request=request)


def _same_terms(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def norm(terms: dict[str, Any]) -> tuple[Any, Any]:
        prices = sorted(
            (int(p["product"]), int(p["min_quantity"]), Decimal(str(p["unit_price"])))
            for p in terms.get("prices", [])
        )
        discounts = sorted(
            (
                "p" if d.get("product") is not None else "l",
                int(d.get("product") or d.get("line") or 0),
                Decimal(str(d["percent"])),
            )
            for d in terms.get("discounts", [])
        )
        return prices, discounts

    return norm(a) == norm(b)


def _apply_agreement_terms(request: ApprovalRequest, approver: User) -> None:
    """Set the approved terms as the requester would, and mark the agreement approved."""
    if request.agreement_id is None:
        raise ApplicationError(_("The request names no agreement."))
    agreement = Agreement.objects.select_for_update().filter(pk=request.agreement_id).first()
    if agreement is None:
        raise NotFound(_("The agreement no longer exists."))
    proposal = request.proposal or {}
    now_prices, now_discounts = agreement_current_terms(agreement)
    if not _same_terms(
        proposal.get("before", {}), {"prices": now_prices, "discounts": now_discounts}
    ):
        raise Conflict(
            _(
                "The agreement's terms were changed after this request was made, so these terms "
                "may no longer fit: send it back so the requester can propose again."
            )
        )
    agreement = agreement_set_terms(
        actor=request.requester,
        agreement=agreement,
        prices=list(proposal.get("prices", [])),
        discounts=list(proposal.get("discounts", [])),
    )
    agreement.approved_by = request
    agreement.save(update_fields=["approved_by"])
    audit_record(
        actor=approver,
        action="pricing.agreement.terms_approved",
        target=agreement,
        changes={"approved_by": [None, f"#{request.pk}"]},
        scope=account_scope(agreement.account_id),
        note=request.title,
    )


def _pct(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return f"{value.quantize(Decimal('0.1')).normalize():f}%"


def _describe_agreement_terms(request: ApprovalRequest, viewer: User) -> list[dict[str, Any]]:
    """Current vs proposed per special-price tier and discount, with discount and margin."""
    proposal = request.proposal or {}
    before = proposal.get("before", {})
    currency = request.agreement.currency if request.agreement else "JPY"
    sees_cost = viewer.role in ROLES_SEEING_COST
    rows_by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    product_ids: set[int] = set()
    line_ids: set[int] = set()
    for side in ("before", "after"):
        terms = before if side == "before" else proposal
        for p in terms.get("prices", []):
            key = ("price", p.get("product"), p.get("min_quantity"))
            rows_by_key.setdefault(key, {})[side] = p
            if isinstance(p.get("product"), int):
                product_ids.add(p["product"])
        for d in terms.get("discounts", []):
            target = (
                ("product", d["product"])
                if d.get("product") is not None
                else ("line", d.get("line"))
            )
            rows_by_key.setdefault(("discount", *target), {})[side] = d
            if target[0] == "product" and isinstance(target[1], int):
                product_ids.add(target[1])
            elif isinstance(target[1], int):
                line_ids.add(target[1])
    products = {p.pk: p for p in Product.objects.filter(pk__in=product_ids)}
    lines = {line.pk: line for line in ProductLine.objects.filter(pk__in=line_ids)}
    result = []
    for key, sides in sorted(rows_by_key.items(), key=lambda kv: (kv[0][0], str(kv[0][1:]))):
        old, new = sides.get("before"), sides.get("after")
        if key[0] == "price":
            product = products.get(key[1])
            label = (
                (f"{product.sku} {product.name}" if product else f"#{key[1]}")
                + " · "
                + _("from %(q)s units") % {"q": key[2]}
            )
            needs = (
                agreement_terms_needs(request.agreement, [new], [])
                if new and request.agreement
                else Needs()
            )
            result.append(
                {
                    "kind": _("Special price"),
                    "label": label,
                    "list_price": format_money(product.list_price, currency) if product else "—",
                    "current": format_money(Decimal(old["unit_price"]), currency) if old else "—",
                    "proposed": format_money(Decimal(new["unit_price"]), currency)
                    if new
                    else _("removed"),
                    "discount": _pct(needs.discount_percent),
                    "margin": _pct(needs.margin_percent) if sees_cost else None,
                    "changed": old != new,
                }
            )
        else:
            if key[1] == "product":
                product = products.get(key[2])
                label = f"{product.sku} {product.name}" if product else f"#{key[2]}"
                list_price = format_money(product.list_price, currency) if product else "—"
            else:
                line = lines.get(key[2])
                label = _("Product line %(name)s") % {"name": line.name if line else f"#{key[2]}"}
                list_price = "—"
            needs = (
                agreement_terms_needs(request.agreement, [], [new])
                if new and request.agreement
                else Needs()
            )
            result.append(
                {
                    "kind": _("Discount"),
                    "label": label,
                    "list_price": list_price,
                    "current": f"{Decimal(old['percent']).normalize():f}%" if old else "—",
                    "proposed": f"{Decimal(new['percent']).normalize():f}%"
                    if new
                    else _("removed"),
                    "discount": _pct(needs.discount_percent),
                    "margin": _pct(needs.margin_percent) if sees_cost else None,
                    "changed": old != new,
                }
            )
    return result


def _agreement_terms_title(agreement: Agreement, account: Account) -> str:
    return _("Terms of %(agreement)s (%(account)s)") % {
        "agreement": agreement.name,
        "account": account.name,
    }


approval_kinds.register(
    "agreement_terms",
    apply=_apply_agreement_terms,
    describe=_describe_agreement_terms,
    label=gettext_lazy("Agreement terms"),
    title=lambda r: (
        _agreement_terms_title(r.agreement, r.account) if r.agreement and r.account else r.title
    ),
)


# -- discount rules -------------------------------------------------------------------------------

RULE_KIND = "discount_rule"
RULE_SUBJECT_PREFIX = "discount_rule:"
RULE_NEW_SUBJECT_PREFIX = "discount_rule:new:"
# Changing only these never changes a price, so it needs no approval.
RULE_COSMETIC_FIELDS = frozenset({"name", "notes"})


@dataclass(frozen=True)
class RuleOutcome:
    rule: DiscountRule | None  # the rule as it is now (None: a new rule waiting for approval)
    applied: bool  # True: the change is in force now
    request: ApprovalRequest | None = None  # the request opened when it needs approval


def rule_subject_key(rule_id: int) -> str:
    return f"{RULE_SUBJECT_PREFIX}{rule_id}"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _rule_json_value(value: Any) -> Any:
    if isinstance(value, Segment | ProductLine):
        return value.pk
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _rule_json(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe values the rule services accept back (ids, ISO dates, decimal strings)."""
    return {name: _rule_json_value(value) for name, value in values.items()}


def _rule_values(rule: DiscountRule) -> dict[str, Any]:
    return _rule_json(
        {
            name: getattr(rule, f"{name}_id" if name in ("segment", "line") else name)
            for name in rules.RULE_EDITABLE_FIELDS
        }
    )


def _clean_reason(reason: Any) -> str:
    errors = ErrorCollector()
    reason = reason.strip() if isinstance(reason, str) else ""
    if len(reason) > REASON_LIMIT:
        errors.add("reason", _("At most %(n)d characters, please.") % {"n": REASON_LIMIT})
    if "\x00" in reason:
        errors.add("reason", _("Null characters are not allowed."))
    check_plain_text("reason", reason, errors)
    errors.raise_if_any()
    return reason


def _rule_title(name: str, *, new: bool) -> str:
    if new:
        return _("New discount rule “%(name)s”") % {"name": name}
    return _("Discount rule “%(name)s”") % {"name": name}


def _request_rule_title(request: ApprovalRequest) -> str:
    proposal = _dict(request.proposal)
    data = _dict(proposal.get("data"))
    before = _dict(proposal.get("before"))
    name = str(data.get("name") or before.get("name") or "")
    if not name:
        return request.title
    return _rule_title(name, new=not before)


def rule_propose(
    *,
    actor: User,
    rule: DiscountRule | None = None,
    data: dict[str, Any],
    version: int | None = None,
    reason: str = "",
) -> RuleOutcome:
    """Add (``rule`` None) or change a discount rule now, or open an approval request for it.

    Applied now when the rule after the change is within the actor's authority
    (``max_discount_percent``), when it is not active (stopping a rule never needs approval)
    or when only its name or notes change. Otherwise the data is validated exactly as
    ``discount_rule_create``/``discount_rule_update`` would (bad data is refused before any
    request exists; a stale ``version`` is a Conflict) and a "discount_rule" request is opened;
    the rule is written when the last approver approves. One open request per rule: a change
    while another person's request is open is a Conflict naming it (stopping the rule is not).
    The requester's own returned request is submitted again with the new data instead.
    """
    with transaction.atomic():
        rules.require_rule_writer(actor)
        if not isinstance(data, dict):
            raise ApplicationError(_("Give the rule's fields."), status=422)
        current: DiscountRule | None = None
        if rule is not None:
            current = DiscountRule.objects.select_for_update().filter(pk=rule.pk).first()
            if current is None:
                raise NotFound(_("No such discount rule."))
            check_version(record=current, version=version)
        clean = rules.discount_rule_clean_data(actor=actor, data=data, current=current)
        reason = _clean_reason(reason)

        def after(name: str) -> Any:
            if name in clean:
                return clean[name]
            if current is None:
                return {"active": True, "min_quantity": 1}.get(name)
            return getattr(current, name)

        if current is None:
            prices_change = True
        else:
            prices_change = any(
                clean[name] != getattr(current, name)
                for name in clean
                if name not in RULE_COSMETIC_FIELDS
            )
        active = bool(after("active"))
        needs = Needs(discount_percent=after("percent"))
        within = covers(authority_for(actor), needs)
        open_request = None
        if current is not None:
            open_request = (
                ApprovalRequest.objects.filter(
                    subject_key=rule_subject_key(current.pk), status__in=OPEN_STATUSES
                )
                .select_related("requester")
                .first()
            )
        own_returned = (
            open_request is not None
            and open_request.requester_id == actor.pk
            and open_request.status == ApprovalStatus.RETURNED
        )
        stopping = current is not None and current.active and not active
        if open_request is not None and not own_returned and not stopping:
            raise _open_conflict(open_request)
        if within or not active or not prices_change:
            if current is None:
                saved = rules.discount_rule_create(actor=actor, data=data)
            else:
                saved = rules.discount_rule_update(
                    actor=actor, rule=current, data=data, version=version
                )
            if own_returned and open_request is not None:
                approval_withdraw(
                    actor=actor,
                    request=open_request,
                    comment=_("Replaced by a change within my authority."),
                )
            return RuleOutcome(rule=saved, applied=True)
        proposal: dict[str, Any] = {
            "rule": current.pk if current else None,
            "rule_version": current.version if current else None,
            "data": _rule_json(clean),
            "before": _rule_values(current) if current else {},
        }
        if own_returned and open_request is not None:
            request = approval_resubmit(
                actor=actor, request=open_request, proposal=proposal, needs=needs, comment=reason
            )
        else:
            name = str(after("name") or "")
            request = approval_request_create(
                actor=actor,
                kind=RULE_KIND,
                title=_rule_title(name, new=current is None),
                proposal=proposal,
                needs=needs,
                subject_key=rule_subject_key(current.pk)
                if current
                else f"{RULE_NEW_SUBJECT_PREFIX}{uuid.uuid4().hex}",
                reason=reason,
            )
        return RuleOutcome(rule=current, applied=False, request=request)


def rule_open_requests() -> tuple[dict[int, ApprovalRequest], list[ApprovalRequest]]:
    """Open discount-rule requests: changes by rule id, and new rules waiting for approval.

    The rules list shows them to writers (heads of sales and administrators, who see every
    request); open requests are few.
    """
    changes: dict[int, ApprovalRequest] = {}
    new: list[ApprovalRequest] = []
    qs = ApprovalRequest.objects.filter(kind=RULE_KIND, status__in=OPEN_STATUSES).select_related(
        "requester"
    )
    for request in qs.order_by("created_at", "id"):
        key = request.subject_key
        if key.startswith(RULE_NEW_SUBJECT_PREFIX) or not key:
            new.append(request)
        elif key.startswith(RULE_SUBJECT_PREFIX) and key[len(RULE_SUBJECT_PREFIX) :].isdecimal():
            changes[int(key[len(RULE_SUBJECT_PREFIX) :])] = request
    return changes, new


def _apply_discount_rule(request: ApprovalRequest, approver: User) -> None:
    """Write the approved rule as the requester would, and record the approval on the rule."""
    proposal = _dict(request.proposal)
    data = proposal.get("data")
    if not isinstance(data, dict):
        raise ApplicationError(_("The request holds no rule to write."))
    rule_id = proposal.get("rule")
    if rule_id is None:
        rule = rules.discount_rule_create(actor=request.requester, data=dict(data))
        request.proposal = {**proposal, "rule": rule.pk, "created": True}
        request.save(update_fields=["proposal"])
    else:
        locked = DiscountRule.objects.select_for_update().filter(pk=rule_id).first()
        if locked is None:
            raise NotFound(_("The discount rule no longer exists."))
        rule = locked
        if rule.version != proposal.get("rule_version"):
            raise Conflict(
                _(
                    "The discount rule was changed after this request was made, so this change "
                    "may no longer fit: send it back so the requester can propose again."
                )
            )
        rule = rules.discount_rule_update(
            actor=request.requester, rule=rule, data=dict(data), version=rule.version
        )
    audit_record(
        actor=approver,
        action="pricing.discount_rule.approved",
        target=rule,
        changes={"approved_by": [None, f"#{request.pk}"]},
        scope=rules.discount_rule_scope(rule.pk),
        note=request.title,
    )


def _rule_percent_text(value: Any) -> str:
    try:
        return f"{Decimal(str(value)).normalize():f}%"
    except (ArithmeticError, ValueError):
        return "—"


def _rule_condition_text(values: dict[str, Any]) -> str:
    """The kind and its conditions in words: "account tier: key accounts · from 100 units"."""
    kind = values.get("kind")
    parts = [str(DiscountRuleKind(kind).label) if kind in DiscountRuleKind.values else "—"]
    segment_id, line_id = values.get("segment"), values.get("line")
    if isinstance(segment_id, int):
        segment = Segment.objects.filter(pk=segment_id).first()
        parts.append(
            _("Segment %(name)s") % {"name": segment.name if segment else f"#{segment_id}"}
        )
    tier = values.get("account_tier")
    if tier in AccountTier.values:
        parts.append(str(AccountTier(tier).label))
    if isinstance(line_id, int):
        line = ProductLine.objects.filter(pk=line_id).first()
        parts.append(_("Product line %(name)s") % {"name": line.name if line else f"#{line_id}"})
    quantity = values.get("min_quantity")
    if isinstance(quantity, int) and quantity > 1:
        parts.append(_("from %(q)s units") % {"q": quantity})
    return " · ".join(parts)


def _rule_period_text(values: dict[str, Any]) -> str:
    start, end = values.get("valid_from"), values.get("valid_to")
    if not start and not end:
        return _("always")
    return f"{start or '…'} – {end or '…'}"


def _describe_discount_rule(request: ApprovalRequest, viewer: User) -> list[dict[str, Any]]:
    """Current vs proposed: the discount, the kind and its conditions, the period (and whether
    the rule is active, when that changes)."""
    proposal = _dict(request.proposal)
    before = _dict(proposal.get("before"))
    data = _dict(proposal.get("data"))
    after = {**before, **data}
    after.setdefault("active", True)
    name = str(after.get("name") or "")
    new = not before

    def row(kind: Any, current: str, proposed: str, discount: str | None = None) -> dict:
        return {
            "kind": kind,
            "label": "" if rows else name,  # the rule's name once, on the first row
            "list_price": "—",
            "current": "—" if new else current,
            "proposed": proposed,
            "discount": discount,
            "margin": None,
            "changed": new or current != proposed,
        }

    rows: list[dict[str, Any]] = []
    proposed_percent = _rule_percent_text(after.get("percent"))
    rows.append(
        row(
            _("Discount"),
            _rule_percent_text(before.get("percent")),
            proposed_percent,
            proposed_percent,
        )
    )
    rows.append(
        row(_("Kind and conditions"), _rule_condition_text(before), _rule_condition_text(after))
    )
    rows.append(row(_("Period"), _rule_period_text(before), _rule_period_text(after)))
    if not new and bool(before.get("active")) != bool(after.get("active")):
        rows.append(
            row(
                _("Status"),
                _("active") if before.get("active") else _("stopped"),
                _("active") if after.get("active") else _("stopped"),
            )
        )
    return rows


approval_kinds.register(
    RULE_KIND,
    apply=_apply_discount_rule,
    describe=_describe_discount_rule,
    label=gettext_lazy("Discount rule"),
    title=_request_rule_title,
)
