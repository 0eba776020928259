"""Pages of discount rules, bonus programmes and the price check ("why this price").

Thin: parse, call a selector or service, render. Heads of sales and administrators write rules
and programmes; everyone signed in reads rules and checks prices; programmes are read by whoever
may see their account.
"""

import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tokui.accounts.models import Account
from tokui.accounts.selectors import account_get, account_list
from tokui.catalog.selectors import product_list
from tokui.core.audit import audit_for_scope
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.views import form_status, is_htmx, maps_service_errors
from tokui.pricing import rebates, rules
from tokui.pricing.approvals import RuleOutcome, rule_open_requests, rule_propose
from tokui.pricing.engine import Outcome, PriceQuote, Source
from tokui.pricing.forms_rules import DiscountRuleForm, PriceCheckForm, RebateProgrammeForm
from tokui.pricing.models import DiscountRule, RebateStatus
from tokui.pricing.quotes import price_quote, quote_candidates
from tokui.users.models import User


class AuthedRequest(HttpRequest):
    user: User  # the login middleware lets only signed-in users through


# -- discount rules --------------------------------------------------------------------------


def _require_rule_writer(request: AuthedRequest) -> None:
    if not rules.may_write_rules(request.user):
        raise PermissionDenied(
            _("Only heads of sales and administrators change discount rules; you can read them.")
        )


def _sent_for_approval(request: AuthedRequest, outcome: RuleOutcome) -> None:
    """The "sent for approval: request #N" message, with a link to the request."""
    if outcome.request is None:
        return
    messages.success(
        request,
        format_html(
            '{} <a href="{}">{}</a>',
            _("Above your authority, so the rule was sent for approval:"),
            reverse("pricing:approval_detail", args=[outcome.request.pk]),
            _("request #%(n)d") % {"n": outcome.request.pk},
        ),
    )


@maps_service_errors
def rule_index(request: AuthedRequest) -> TemplateResponse:
    rule_list = list(rules.discount_rule_list(viewer=request.user))
    may_edit = rules.may_write_rules(request.user)
    changes, new = rule_open_requests()
    for rule in rule_list:
        rule.open_request = changes.get(rule.pk)  # type: ignore[attr-defined]
    return TemplateResponse(
        request,
        "pricing/rules/rule_index.html",
        {
            "rules": rule_list,
            "may_edit": may_edit,
            # Writers (heads of sales, administrators) see every request; others see the mark.
            "new_requests": [
                {"request": r, "data": (r.proposal or {}).get("data") or {}} for r in new
            ]
            if may_edit
            else [],
            "today": timezone.localdate(),
        },
    )


def _rule_form_page(
    request: AuthedRequest, form: DiscountRuleForm, rule: DiscountRule | None
) -> TemplateResponse:
    history = (
        list(audit_for_scope(scope=rules.discount_rule_scope(rule.pk), limit=20)) if rule else []
    )
    open_request = rule_open_requests()[0].get(rule.pk) if rule else None
    return TemplateResponse(
        request,
        "pricing/rules/rule_form.html",
        {"form": form, "rule": rule, "history": history, "open_request": open_request},
        status=form_status(form),
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def rule_create(request: AuthedRequest) -> HttpResponse:
    _require_rule_writer(request)
    initial = {"kind": request.GET.get("kind") or "tier", "min_quantity": 1, "priority": 0}
    form = DiscountRuleForm(request.POST or None, viewer=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = rule_propose(
                actor=request.user,
                data=form.service_data(),
                reason=form.cleaned_data.get("reason") or "",
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            if outcome.applied and outcome.rule is not None:
                messages.success(
                    request, _("Discount rule “%(name)s” added.") % {"name": outcome.rule.name}
                )
            else:
                _sent_for_approval(request, outcome)
            return redirect("pricing:rule_index")
    return _rule_form_page(request, form, None)


@maps_service_errors
@require_http_methods(["GET", "POST"])
def rule_edit(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = rules.discount_rule_get(viewer=request.user, rule_id=rule_id)
    _require_rule_writer(request)
    initial: dict[str, Any] = {
        name: getattr(rule, name)
        for name in ("name", "kind", "account_tier", "min_quantity", "valid_from", "valid_to")
    }
    initial.update(
        percent=f"{rule.percent.normalize():f}",
        segment=rule.segment_id,
        line=rule.line_id,
        priority=rule.priority,
        stackable=rule.stackable,
        notes=rule.notes,
        version=rule.version,
    )
    form = DiscountRuleForm(request.POST or None, viewer=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = rule_propose(
                actor=request.user,
                rule=rule,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
                reason=form.cleaned_data.get("reason") or "",
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            if outcome.applied:
                messages.success(request, _("Changes saved."))
            else:
                _sent_for_approval(request, outcome)
            return redirect("pricing:rule_index")
    return _rule_form_page(request, form, rule)


@maps_service_errors
@require_POST
def rule_deactivate(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = rules.discount_rule_get(viewer=request.user, rule_id=rule_id)
    try:
        rules.discount_rule_deactivate(actor=request.user, rule=rule)
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Discount rule “%(name)s” no longer applies.") % {"name": rule})
    return redirect("pricing:rule_index")


# -- the price check ("why this price") ------------------------------------------------------

SOURCE_LABELS = {
    Source.SPECIAL_PRICE: gettext_lazy("Agreement special price"),
    Source.AGREEMENT_DISCOUNT: gettext_lazy("Agreement discount"),
    Source.DISCOUNT_RULE: gettext_lazy("Discount rule"),
    Source.RULE_STACK: gettext_lazy("Stacked discount rules"),
    Source.PRICE_TIER: gettext_lazy("Price list"),
    Source.LIST_PRICE: gettext_lazy("List price"),
    Source.FLOOR: gettext_lazy("Floor"),
}
OUTCOME_LABELS = {
    Outcome.WON: gettext_lazy("applies"),
    Outcome.LOST: gettext_lazy("lost"),
    Outcome.NOT_APPLICABLE: gettext_lazy("does not apply"),
}


def quote_display(request: AuthedRequest, quote: PriceQuote) -> dict[str, Any]:
    """The quote in the reader's language: explanation and every candidate with its reason."""
    language = translation.get_language() or "en"
    candidates = quote_candidates(quote, viewer=request.user)
    names = rules.discount_rule_names(
        viewer=request.user,
        rule_ids=[c.id for c in candidates if c.source is Source.DISCOUNT_RULE and c.id],
    )
    return {
        "unit_price": quote.unit_price,
        "currency": quote.currency,
        "source": quote.winner.source,
        "source_label": str(SOURCE_LABELS[quote.winner.source]),
        "rule_id": quote.winner.id,
        "rule_name": names.get(quote.winner.id or 0, "")
        if quote.winner.source is Source.DISCOUNT_RULE
        else "",
        "explanation": quote.explain(_, language),
        "candidates": [
            {
                "source": c.source,
                "source_label": str(SOURCE_LABELS[c.source]),
                "id": c.id,
                "name": names.get(c.id or 0, "") if c.source is Source.DISCOUNT_RULE else "",
                "unit_price": c.unit_price,
                "outcome": c.outcome.value,
                "outcome_label": str(OUTCOME_LABELS[c.outcome]),
                "reason": c.reason.render(_, language),
            }
            for c in candidates
        ],
    }


def _parse_day(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value or "")
    except ValueError:
        return None


@maps_service_errors
def price_check(request: AuthedRequest) -> TemplateResponse:
    """GET form: pick an account (search), a product, a quantity and a date; see the price."""
    query = request.GET.copy()
    if query.get("account") or query.get("product"):
        query.setdefault("quantity", "1")
        query.setdefault("date", timezone.localdate().isoformat())
    form = PriceCheckForm(query or None, initial={"quantity": 1, "date": timezone.localdate()})
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    account: Account | None = None
    if data.get("account"):
        account = account_get(viewer=request.user, account_id=data["account"])
    search = request.GET.get("q", "").strip()[:200]
    found: list[Account] = []
    if search:
        found = list(account_list(viewer=request.user, search=search)[:20])
    if is_htmx(request) and request.GET.get("picker"):
        return TemplateResponse(
            request,
            "pricing/price_check.html#account-results",
            {"found": found, "search": search, "query": _query_without_account(request)},
        )
    quote = None
    error = ""
    product = data.get("product")
    on = data.get("date") or timezone.localdate()
    if account is not None and product is not None and not form.errors:
        try:
            result = price_quote(
                viewer=request.user,
                account_id=account.pk,
                product_id=product.pk,
                quantity=data.get("quantity") or 1,
                on=on,
            )
        except ApplicationError as exc:
            error = exc.message
        else:
            quote = quote_display(request, result)
    return TemplateResponse(
        request,
        "pricing/price_check.html",
        {
            "form": form,
            "account": account,
            "product": product,
            "quantity": data.get("quantity") or 1,
            "on": on,
            "search": search,
            "found": found,
            "query": _query_without_account(request),
            "quote": quote,
            "error": error,
        },
        status=422 if error or (form.is_bound and form.errors) else 200,
    )


def _query_without_account(request: AuthedRequest) -> str:
    query = request.GET.copy()
    for key in ("account", "q", "picker"):
        query.pop(key, None)
    return query.urlencode()


def account_prices_section(request: HttpRequest, account: Account) -> dict[str, Any] | None:
    """The account page's "Prices" mini form: product and quantity, checked for this account."""
    if not isinstance(request.user, User):
        return None
    return {
        "account": account,
        "products": list(product_list(viewer=request.user).exclude(status="discontinued")[:500]),
    }


# -- bonus programmes ------------------------------------------------------------------------


def account_rebates_section(request: HttpRequest, account: Account) -> dict[str, Any] | None:
    if not isinstance(request.user, User):
        return None
    programmes = list(rebates.rebate_programme_list(viewer=request.user, account_id=account.pk))
    may_edit = rebates.may_write_rebates(request.user)
    if not programmes and not may_edit:
        return None
    return {
        "account": account,
        "rows": [(p, rebates.rebate_progress(p)) for p in programmes],
        "may_edit": may_edit,
    }


@maps_service_errors
def rebate_detail(request: AuthedRequest, programme_id: int) -> TemplateResponse:
    programme = rebates.rebate_programme_get(viewer=request.user, programme_id=programme_id)
    today = timezone.localdate()
    return TemplateResponse(
        request,
        "pricing/rebates/rebate_detail.html",
        {
            "programme": programme,
            "progress": rebates.rebate_progress(programme),
            "tiers": list(programme.tiers.all()),
            "purchases": list(rebates.rebate_purchase_list(programme=programme)[:500]),
            "credit_note": getattr(programme, "credit_note", None),
            "may_edit": rebates.may_write_rebates(request.user),
            "accruing": programme.status == RebateStatus.ACTIVE,
            "may_settle_now": today >= programme.period_end,
            "today": today,
        },
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def rebate_create(request: AuthedRequest) -> HttpResponse:
    account_id = request.GET.get("account", "")
    account = account_get(
        viewer=request.user, account_id=int(account_id) if account_id.isdecimal() else 0
    )
    if not rebates.may_write_rebates(request.user):
        raise PermissionDenied(
            _("Only heads of sales and administrators change bonus programmes; you can read them.")
        )
    today = timezone.localdate()
    start = datetime.date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    initial = {
        "currency": "JPY",
        "period_start": start,
        "period_end": datetime.date(start.year + 1, 3, 31),
        "name": _("FY%(year)s volume bonus") % {"year": start.year},
    }
    form = RebateProgrammeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            programme = rebates.rebate_programme_create(
                actor=request.user, account=account, data=form.service_data()
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Bonus programme added."))
            return redirect("pricing:rebate_detail", programme_id=programme.pk)
    return TemplateResponse(
        request,
        "pricing/rebates/rebate_form.html",
        {"form": form, "account": account},
        status=form_status(form),
    )


@maps_service_errors
@require_POST
def rebate_settle(request: AuthedRequest, programme_id: int) -> HttpResponse:
    programme = rebates.rebate_programme_get(viewer=request.user, programme_id=programme_id)
    try:
        rebates.rebate_settle(actor=request.user, programme=programme, on=timezone.localdate())
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Programme settled."))
    return redirect("pricing:rebate_detail", programme_id=programme.pk)


@maps_service_errors
@require_POST
def rebate_cancel(request: AuthedRequest, programme_id: int) -> HttpResponse:
    programme = rebates.rebate_programme_get(viewer=request.user, programme_id=programme_id)
    try:
        rebates.rebate_programme_cancel(actor=request.user, programme=programme)
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Programme cancelled."))
    return redirect("pricing:rebate_detail", programme_id=programme.pk)


@maps_service_errors
def credit_note_detail(request: AuthedRequest, credit_note_id: int) -> TemplateResponse:
    note = rebates.credit_note_get(viewer=request.user, credit_note_id=credit_note_id)
    return TemplateResponse(request, "pricing/rebates/credit_note.html", {"note": note})
