"""Pages of referrals (紹介), their rewards and the reward rules.

Thin: parse, call a selector or service, render. Account managers record referrals of the
accounts they see; heads of sales and administrators manage reward rules and settle rewards.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tokui.accounts.models import Account
from tokui.accounts.selectors import account_get
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.pagination import page_slice, parse_positive_int
from tokui.core.views import form_status, is_htmx, maps_service_errors
from tokui.pipeline import referrals
from tokui.pipeline.constants import RewardStatus
from tokui.pipeline.forms_referrals import ReferralForm, RewardRuleForm
from tokui.pipeline.models import Referral, ReferralRewardRule
from tokui.users.models import User


class AuthedRequest(HttpRequest):
    user: User  # the login middleware lets only signed-in users through


# -- the account page's section --------------------------------------------------------------


def account_referrals_section(request: HttpRequest, account: Account) -> dict[str, Any] | None:
    """Who referred the account, what it referred (the tree), the revenue through its
    referrals and the rewards it earned. Left out when there is nothing and nothing to do."""
    user = request.user
    if not isinstance(user, User):
        return None
    own = referrals.referral_of_account(viewer=user, account=account)
    deal_referrals = referrals.referrals_mark_visible(
        viewer=user,
        referrals=list(
            referrals.referral_list(viewer=user, account_id=account.pk).exclude(deal=None)[:20]
        ),
    )
    tree = referrals.referral_tree(viewer=user, account=account)
    revenue = referrals.referral_revenue(viewer=user, account=account)
    rewards = referrals.rewards_mark_visible(
        viewer=user,
        rewards=list(referrals.reward_list(viewer=user, referrer_id=account.pk)[:20]),
    )
    may_edit = referrals.may_record_referrals(user) and not account.is_archived
    if own is None and not deal_referrals and tree.is_empty and not rewards and not may_edit:
        return None
    return {
        "account": account,
        "own": own,
        "deal_referrals": deal_referrals,
        "tree": tree,
        "revenue": revenue,
        "rewards": rewards,
        "may_edit": may_edit,
    }


# -- referrals -------------------------------------------------------------------------------


@maps_service_errors
def referral_index(request: AuthedRequest) -> TemplateResponse:
    search = request.GET.get("q", "").strip()[:200]
    status = request.GET.get("status", "")
    page = page_slice(
        referrals.referral_list(viewer=request.user, search=search),
        page=parse_positive_int(request.GET.get("page"), 1, 10**6),
    )
    referrals.referrals_mark_visible(viewer=request.user, referrals=page.items)
    rewards = referrals.rewards_mark_visible(
        viewer=request.user,
        rewards=list(
            referrals.reward_list(
                viewer=request.user, status=status if status in RewardStatus.values else None
            )[:100]
        ),
    )
    template = "pipeline/referrals/referral_index.html"
    if is_htmx(request) and request.GET.get("part") == "rows":
        template += "#referral-rows"
    return TemplateResponse(
        request,
        template,
        {
            "page": page,
            "search": search,
            "rewards": rewards,
            "status": status,
            "statuses": RewardStatus.choices,
            "revenue": referrals.referral_revenue(viewer=request.user),
            "rules": list(referrals.reward_rule_list(viewer=request.user, active=True)),
            "may_manage": referrals.may_manage_rewards(request.user),
        },
    )


def _referral_form(
    request: AuthedRequest, *, account: Account, initial: dict[str, Any]
) -> tuple[ReferralForm, bool]:
    """The form, and whether it is to be saved (the "Find" button only searches)."""
    source = request.POST if request.method == "POST" else request.GET
    search = source.get("referrer_q", "").strip()[:200]
    if request.method == "POST" and "referrer_search" not in request.POST:
        form = ReferralForm(
            request.POST, viewer=request.user, account=account, initial=initial, search=search
        )
        return form, True
    if request.method == "POST":
        initial = {**initial, **request.POST.dict()}
    else:
        for key in ("referrer", "referrer_contact"):
            if key in request.GET:
                initial = {**initial, key: request.GET.get(key, "")}
    form = ReferralForm(viewer=request.user, account=account, initial=initial, search=search)
    return form, False


def _form_page(
    request: AuthedRequest, form: ReferralForm, account: Account, referral: Referral | None
) -> TemplateResponse:
    template = "pipeline/referrals/referral_form.html"
    if is_htmx(request) and request.method == "GET" and request.GET.get("part") == "referrer":
        template += "#referrer-choice"
    return TemplateResponse(
        request,
        template,
        {"form": form, "account": account, "referral": referral},
        status=form_status(form),
    )


def _require_editor(request: AuthedRequest) -> None:
    if not referrals.may_record_referrals(request.user):
        raise PermissionDenied(_("Your role can read referrals but not change them."))


@maps_service_errors
@require_http_methods(["GET", "POST"])
def referral_create(request: AuthedRequest, account_id: int) -> HttpResponse:
    account = account_get(viewer=request.user, account_id=account_id)
    _require_editor(request)
    initial: dict[str, Any] = {"referred_on": timezone.localdate()}
    deal = request.GET.get("deal", "")
    if deal.isdecimal():
        initial["deal"] = deal
    form, submitted = _referral_form(request, account=account, initial=initial)
    if submitted and form.is_valid():
        try:
            referrals.referral_record(actor=request.user, account=account, **form.service_data())
        except ApplicationError as exc:
            if exc.status in (403, 404) and not exc.errors:
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("Referral recorded."))
            return redirect("accounts:detail", account_id=account.pk)
    return _form_page(request, form, account, None)


@maps_service_errors
@require_http_methods(["GET", "POST"])
def referral_edit(request: AuthedRequest, referral_id: int) -> HttpResponse:
    referral = referrals.referral_get(viewer=request.user, referral_id=referral_id)
    _require_editor(request)
    if not (referral.account_visible and referral.referrer_visible):  # type: ignore[attr-defined]
        raise PermissionDenied(
            _("You may change a referral only when you can see both of its accounts.")
        )
    initial = {
        "referrer": referral.referrer_id,
        "referrer_contact": referral.referrer_contact_id,
        "deal": referral.deal_id,
        "referred_on": referral.referred_on,
        "note": referral.note,
        "version": referral.version,
    }
    form, submitted = _referral_form(request, account=referral.account, initial=initial)
    if submitted and form.is_valid():
        try:
            referrals.referral_update(
                actor=request.user,
                referral=referral,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
        except ApplicationError as exc:
            if exc.status in (403, 404) and not exc.errors:
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("accounts:detail", account_id=referral.account_id)
    return _form_page(request, form, referral.account, referral)


@maps_service_errors
@require_POST
def referral_delete(request: AuthedRequest, referral_id: int) -> HttpResponse:
    referral = referrals.referral_get(viewer=request.user, referral_id=referral_id)
    try:
        referrals.referral_delete(actor=request.user, referral=referral)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Referral deleted."))
    return redirect("accounts:detail", account_id=referral.account_id)


# -- rewards ---------------------------------------------------------------------------------


def _back(request: AuthedRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("pipeline:referral_index")


@maps_service_errors
@require_POST
def reward_paid(request: AuthedRequest, reward_id: int) -> HttpResponse:
    reward = referrals.reward_get(viewer=request.user, reward_id=reward_id)
    try:
        referrals.reward_mark_paid(actor=request.user, reward=reward)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Reward marked as paid."))
    return _back(request)


@maps_service_errors
@require_POST
def reward_cancel(request: AuthedRequest, reward_id: int) -> HttpResponse:
    reward = referrals.reward_get(viewer=request.user, reward_id=reward_id)
    try:
        referrals.reward_cancel(actor=request.user, reward=reward)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Reward cancelled."))
    return _back(request)


# -- reward rules ----------------------------------------------------------------------------


def _require_manager(request: AuthedRequest) -> None:
    if not referrals.may_manage_rewards(request.user):
        raise PermissionDenied(
            _("Only heads of sales and administrators manage referral rewards; you can read them.")
        )


@maps_service_errors
def rule_index(request: AuthedRequest) -> TemplateResponse:
    return TemplateResponse(
        request,
        "pipeline/referrals/rule_index.html",
        {
            "rules": list(referrals.reward_rule_list(viewer=request.user)),
            "may_manage": referrals.may_manage_rewards(request.user),
            "today": timezone.localdate(),
        },
    )


def _rule_page(
    request: AuthedRequest, form: RewardRuleForm, rule: ReferralRewardRule | None
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "pipeline/referrals/rule_form.html",
        {"form": form, "rule": rule},
        status=form_status(form),
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def rule_create(request: AuthedRequest) -> HttpResponse:
    _require_manager(request)
    initial = {"trigger": "first_deal_won", "kind": "bonus", "currency": "JPY"}
    form = RewardRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rule = referrals.reward_rule_create(actor=request.user, data=form.service_data())
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Reward rule “%(name)s” added.") % {"name": rule.name})
            return redirect("pipeline:referral_rule_index")
    return _rule_page(request, form, None)


@maps_service_errors
@require_http_methods(["GET", "POST"])
def rule_edit(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = referrals.reward_rule_get(viewer=request.user, rule_id=rule_id)
    _require_manager(request)
    initial: dict[str, Any] = {
        name: getattr(rule, name)
        for name in ("name", "trigger", "kind", "points", "currency", "valid_from", "valid_to")
    }
    initial.update(
        amount=f"{rule.amount.normalize():f}" if rule.amount is not None else "",
        percent=f"{rule.percent.normalize():f}" if rule.percent is not None else "",
        version=rule.version,
    )
    form = RewardRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            referrals.reward_rule_update(
                actor=request.user,
                rule=rule,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("pipeline:referral_rule_index")
    return _rule_page(request, form, rule)


@maps_service_errors
@require_POST
def rule_activate(request: AuthedRequest, rule_id: int) -> HttpResponse:
    """Stop a rule (``active=0``) or start it again (``active=1``)."""
    rule = referrals.reward_rule_get(viewer=request.user, rule_id=rule_id)
    active = request.POST.get("active") == "1"
    try:
        if active:
            referrals.reward_rule_update(actor=request.user, rule=rule, data={"active": True})
        else:
            referrals.reward_rule_deactivate(actor=request.user, rule=rule)
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if active:
            messages.success(request, _("Reward rule “%(name)s” applies again.") % {"name": rule})
        else:
            messages.success(
                request, _("Reward rule “%(name)s” no longer applies.") % {"name": rule}
            )
    return redirect("pipeline:referral_rule_index")
