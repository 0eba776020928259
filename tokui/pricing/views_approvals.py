"""Pages of approvals (稟議), authority limits, approval chains and notifications. Thin."""

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tokui.catalog.constants import ROLES_SEEING_COST
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.pagination import page_slice, parse_positive_int
from tokui.core.views import form_status, maps_service_errors
from tokui.pricing import approvals, authority
from tokui.pricing.forms_approvals import (
    AuthorityLimitForm,
    ChainForm,
    DecisionForm,
    OverrideForm,
)
from tokui.pricing.models import ApprovalChain, ApprovalStatus, AuthorityLimit
from tokui.users import notifications
from tokui.users.constants import Role
from tokui.users.models import User

TABS = ("waiting", "mine", "all")


# -- inbox and detail ---------------------------------------------------------------------------


@maps_service_errors
def approval_index(request: HttpRequest) -> TemplateResponse:
    user: User = request.user  # type: ignore[assignment]
    sees_all = approvals.sees_all_requests(user)
    tab = request.GET.get("tab") or "waiting"
    if tab not in TABS or (tab == "all" and not sees_all):
        tab = "waiting"
    status = (
        request.GET.get("status") if request.GET.get("status") in ApprovalStatus.values else None
    )
    qs = approvals.approval_request_list(
        viewer=user, waiting_for_me=tab == "waiting", mine=tab == "mine", status=status
    )
    page = page_slice(qs, page=parse_positive_int(request.GET.get("page"), 1, 10**6))
    for item in page.items:
        item.title = approvals.approval_title(item)
    return TemplateResponse(
        request,
        "pricing/approvals/index.html",
        {
            "page": page,
            "tab": tab,
            "sees_all": sees_all,
            "status": status,
            "statuses": ApprovalStatus.choices,
            "waiting_count": approvals.approval_waiting_count(viewer=user),
        },
    )


def _detail_page(
    request: HttpRequest, approval: Any, form: DecisionForm | None = None
) -> TemplateResponse:
    user: User = request.user  # type: ignore[assignment]
    kind = approvals.approval_kinds.get(approval.kind)
    waiting = approvals.waiting_for(approval)
    may_decide = user.pk in waiting and approval.requester_id != user.pk
    is_requester = approval.requester_id == user.pk
    form = form or DecisionForm(initial={"version": approval.version})
    return TemplateResponse(
        request,
        "pricing/approvals/detail.html",
        {
            "approval": approval,
            "kind_label": kind.label if kind else approval.kind,
            "rows": kind.describe(approval, user) if kind else [],
            "sees_cost": user.role in ROLES_SEEING_COST,
            "breaches": approvals.approval_breaches(approval),
            "route": approvals.approval_route_view(approval),
            "history": approvals.approval_history(approval),
            "may_decide": may_decide,
            "may_withdraw": is_requester and approval.status in approvals.OPEN_STATUSES,
            "may_resubmit": is_requester and approval.status == ApprovalStatus.RETURNED,
            "form": form,
        },
        status=form_status(form),
    )


@maps_service_errors
def approval_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    approval = approvals.approval_request_get(viewer=user, request_id=request_id)
    approval.title = approvals.approval_title(approval)
    if request.method != "POST":
        return _detail_page(request, approval)
    form = DecisionForm(request.POST)
    if form.is_valid():
        action = form.cleaned_data["action"]
        args: dict[str, Any] = {
            "actor": user,
            "request": approval,
            "comment": form.cleaned_data.get("comment") or "",
            "version": form.cleaned_data.get("version"),
        }
        services: dict[str, Any] = {
            "approve": approvals.approval_approve,
            "reject": approvals.approval_reject,
            "return": approvals.approval_return,
            "withdraw": approvals.approval_withdraw,
            "resubmit": approvals.approval_resubmit,
        }
        done = {
            "approve": _("Approved."),
            "reject": _("Rejected; the requester has been told why."),
            "return": _("Sent back to the requester with your comment."),
            "withdraw": _("Request withdrawn."),
            "resubmit": _("Submitted again."),
        }
        try:
            services[action](**args)
        except (NotFound, PermissionDenied) as exc:
            form.add_service_error(exc)
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, done[action])
            return redirect("pricing:approval_detail", request_id=approval.pk)
    approval.refresh_from_db()
    return _detail_page(request, approval, form)


# -- authority limits ---------------------------------------------------------------------------


def _plain(value: Decimal | None) -> str:
    """40.00 → "40"; None → "" (an empty field: no limit)."""
    return "" if value is None else f"{value.normalize():f}"


def _require_manager(user: User) -> None:
    if not authority.may_manage_authority(user):
        raise PermissionDenied(
            _("Only heads of sales and administrators see and change authority limits.")
        )


@maps_service_errors
def authority_index(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    _require_manager(user)
    rows = list(authority.authority_limit_list(viewer=user))
    by_role = {r.role: r for r in rows if r.role}
    role_forms = []
    bound_role = request.POST.get("role") if request.method == "POST" else None
    bound_form: AuthorityLimitForm | OverrideForm | None = None
    status = 200
    if request.method == "POST" and bound_role in Role.values:
        bound_form = AuthorityLimitForm(request.POST, prefix=bound_role)
        if bound_form.is_valid():
            try:
                authority.authority_limit_set(
                    actor=user, role=bound_role, data=bound_form.service_data()
                )
            except ApplicationError as exc:
                bound_form.add_service_error(exc)
            else:
                messages.success(request, _("Limits saved."))
                return redirect("pricing:authority_index")
        status = 422
    override_form = OverrideForm(prefix="override")
    if request.method == "POST" and request.POST.get("override"):
        override_form = OverrideForm(request.POST, prefix="override")
        if override_form.is_valid():
            try:
                authority.authority_limit_set(
                    actor=user,
                    user=override_form.cleaned_data["user"],
                    data=override_form.service_data(),
                )
            except ApplicationError as exc:
                override_form.add_service_error(exc)
            else:
                messages.success(request, _("Override saved."))
                return redirect("pricing:authority_index")
        status = 422
    for role, label in Role.choices:
        row = by_role.get(role)
        if bound_form is not None and role == bound_role:
            form = bound_form
        else:
            initial = {name: _plain(getattr(row, name, None)) for name in authority.LIMIT_FIELDS}
            form = AuthorityLimitForm(initial=initial, prefix=role)
        for field in form.fields.values():
            field.widget.attrs["form"] = f"role-{role}"  # one small form per table row
        effective = authority.DEFAULTS.get(role) if row is None else None
        role_forms.append({"role": role, "label": label, "form": form, "row": row,
                           "default": effective})  # fmt: skip
    overrides = [r for r in rows if r.user_id]
    return TemplateResponse(
        request,
        "pricing/approvals/authority.html",
        {"role_forms": role_forms, "overrides": overrides, "override_form": override_form},
        status=status,
    )


@maps_service_errors
@require_POST
def authority_override_delete(request: HttpRequest, limit_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    authority.authority_limit_delete(actor=user, limit_id=limit_id)
    messages.success(request, _("Override removed: the role's limits apply again."))
    return redirect("pricing:authority_index")


@maps_service_errors
def authority_override_edit(request: HttpRequest, limit_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    _require_manager(user)
    row = AuthorityLimit.objects.select_related("user").filter(pk=limit_id, role="").first()
    if row is None or row.user is None:
        raise NotFound(_("No such override."))
    if request.method == "POST":
        form = AuthorityLimitForm(request.POST)
        if form.is_valid():
            try:
                authority.authority_limit_set(actor=user, user=row.user, data=form.service_data())
            except ApplicationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("Override saved."))
                return redirect("pricing:authority_index")
    else:
        form = AuthorityLimitForm(
            initial={n: _plain(getattr(row, n)) for n in authority.LIMIT_FIELDS}
        )
    return TemplateResponse(
        request,
        "pricing/approvals/override_form.html",
        {"row": row, "form": form},
        status=form_status(form),
    )


# -- approval chains ----------------------------------------------------------------------------


@maps_service_errors
def chain_index(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    chains = list(approvals.approval_chain_list(viewer=user))
    labels = dict(approvals.approval_kinds.choices())
    return TemplateResponse(
        request,
        "pricing/approvals/chain_index.html",
        {"chains": chains, "labels": labels},
    )


@maps_service_errors
def chain_form(request: HttpRequest, chain_id: int | None = None) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    chains = approvals.approval_chain_list(viewer=user)
    chain: ApprovalChain | None = None
    if chain_id is not None:
        chain = chains.filter(pk=chain_id).first()
        if chain is None:
            raise NotFound(_("No such approval chain."))
    kinds = approvals.approval_kinds.choices()
    if request.method == "POST":
        form = ChainForm(request.POST, kinds=kinds)
        if form.is_valid():
            try:
                saved = approvals.approval_chain_save(
                    actor=user,
                    chain=chain,
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    active=form.cleaned_data["active"],
                    steps=form.steps(),
                    version=form.cleaned_data.get("version"),
                )
            except ApplicationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("Approval chain “%(n)s” saved.") % {"n": saved.name})
                return redirect("pricing:chain_index")
    else:
        initial: dict[str, Any] = {"active": True}
        if chain is not None:
            initial = {"name": chain.name, "kind": chain.kind, "active": chain.active,
                       "version": chain.version}  # fmt: skip
            for index, step in enumerate(chain.steps.all()):
                initial[f"step_{index}_mode"] = step.mode
                initial[f"step_{index}_approvers"] = list(step.approvers.all())
        form = ChainForm(initial=initial, kinds=kinds)
    return TemplateResponse(
        request,
        "pricing/approvals/chain_form.html",
        {"chain": chain, "form": form},
        status=form_status(form),
    )


# -- notifications ------------------------------------------------------------------------------


def notification_index(request: HttpRequest) -> TemplateResponse:
    user: User = request.user  # type: ignore[assignment]
    page = page_slice(
        notifications.notification_list(viewer=user),
        page=parse_positive_int(request.GET.get("page"), 1, 10**6),
    )
    return TemplateResponse(request, "pricing/approvals/notifications.html", {"page": page})


@maps_service_errors
@require_POST
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark read and follow the link (only a link within this site is followed)."""
    user: User = request.user  # type: ignore[assignment]
    notification = notifications.notification_open(actor=user, notification_id=notification_id)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("pricing:notification_index")


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    count = notifications.notification_mark_all_read(actor=user)
    if count:
        messages.success(request, _("All notifications marked as read."))
    return redirect(reverse("pricing:notification_index"))


def approvals_nav(request: HttpRequest) -> dict[str, Any]:
    """Context processor: how many requests wait for the signed-in person (counted lazily)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "approvals_waiting": SimpleLazyObject(lambda: approvals.approval_waiting_count(viewer=user))
    }
