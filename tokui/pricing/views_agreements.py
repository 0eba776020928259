"""Agreement pages: the list, an agreement with its terms, adding and editing one.

Thin: parse, call a selector or a service, render. Anyone who may see the account sees its
agreements; editors of accounts add and change them. New terms go through
``agreement_propose_terms``: they apply now or wait for an approval (稟議).
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tokui.accounts.models import Account
from tokui.accounts.selectors import account_get
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.pagination import page_slice, parse_positive_int
from tokui.core.views import form_status, is_htmx, maps_service_errors
from tokui.pricing import selectors, services
from tokui.pricing.approvals import agreement_propose_terms
from tokui.pricing.forms_agreements import AgreementForm, AgreementTermsForms
from tokui.pricing.models import MONTH_END, Agreement, BusinessDayRule
from tokui.pricing.payment_terms import PaymentTerms, payment_terms_label
from tokui.pricing.quotes import group_agreement_for
from tokui.users.models import User

NAV = {"nav_section": "catalog", "tab": "agreements"}


def _viewer(request: HttpRequest) -> User:
    """Every page here is behind the sign-in middleware: the user is a signed-in ``User``."""
    return cast(User, request.user)


def _url_or_none(name: str, *args: Any, query: dict[str, Any] | None = None) -> str | None:
    """A URL other pages own (price check, approvals): None until they exist."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


def _require_editor(request: HttpRequest, target: Agreement | Account) -> None:
    if not selectors.agreement_may_edit(viewer=_viewer(request), agreement_or_account=target):
        raise PermissionDenied(_("Your role can read agreements but not change them."))


@maps_service_errors
def agreement_index(request: HttpRequest) -> TemplateResponse:
    today = timezone.localdate()
    state = request.GET.get("state", "")
    state = state if state in selectors.AGREEMENT_STATES else ""
    search = request.GET.get("q", "").strip()[:200]
    page = page_slice(
        selectors.agreement_list(
            viewer=_viewer(request), on=today, state=state or None, search=search
        ),
        page=parse_positive_int(request.GET.get("page"), 1, 10**6),
    )
    for agreement in page.items:
        agreement.state = selectors.agreement_state(agreement, today)  # type: ignore[attr-defined]
        agreement.terms_label = payment_terms_label(agreement)  # type: ignore[attr-defined]
    template = "pricing/agreements/agreement_index.html"
    if is_htmx(request):
        template += "#results"
    states = [
        ("", _("All")),
        ("current", _("In force")),
        ("upcoming", _("Upcoming")),
        ("expired", _("Expired")),
    ]
    context = {
        "page": page,
        "state": state,
        "states": states,
        "search": search,
        "filtered": bool(state or search),
        "today": today,
        **NAV,
    }
    return TemplateResponse(request, template, context)


def _percent_off(price: Decimal, list_price: Decimal) -> str | None:
    """ "−12.5%" below the list price, "+3.0%" above it."""
    if list_price <= 0:
        return None
    off = ((1 - price / list_price) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"−{off}%" if off > 0 else f"+{-off}%" if off < 0 else "±0%"


def _detail_context(
    request: HttpRequest, agreement: Agreement, terms: AgreementTermsForms | None = None
) -> dict[str, Any]:
    today = timezone.localdate()
    may_edit = selectors.agreement_may_edit(viewer=_viewer(request), agreement_or_account=agreement)
    price_rows = []
    for price in agreement.prices.all():
        product = price.product
        same_currency = product.currency == agreement.currency
        price_rows.append(
            {
                "price": price,
                "product": product,
                "list_price": product.list_price if same_currency else None,
                "off": _percent_off(price.unit_price, product.list_price)
                if same_currency
                else None,
                "check_url": _url_or_none(
                    "pricing:price_check",
                    query={
                        "account": agreement.account_id,
                        "product": product.pk,
                        "quantity": price.min_quantity,
                    },
                ),
            }
        )
    discount_rows = [
        {
            "discount": d,
            "check_url": _url_or_none(
                "pricing:price_check",
                query={"account": agreement.account_id, "product": d.product_id, "quantity": 1},
            )
            if d.product_id
            else None,
        }
        for d in agreement.discounts.all()
    ]
    open_request = selectors.agreement_open_request(agreement=agreement)
    if may_edit and terms is None:
        terms = AgreementTermsForms(agreement=agreement)
    return {
        "agreement": agreement,
        "account": agreement.account,
        "state": selectors.agreement_state(agreement, today),
        "terms_label": payment_terms_label(agreement),
        "rule_label": BusinessDayRule(agreement.business_day_rule).label,
        "examples": PaymentTerms.of(agreement).examples(today),
        "price_rows": price_rows,
        "discount_rows": discount_rows,
        "open_request": open_request,
        "open_request_url": _url_or_none("pricing:approval_detail", open_request.request.pk)
        if open_request
        else None,
        "approved_url": _url_or_none("pricing:approval_detail", agreement.approved_by_id)
        if agreement.approved_by_id
        else None,
        "may_edit": may_edit,
        "terms": terms,
        "today": today,
        **NAV,
    }


@maps_service_errors
def agreement_detail(request: HttpRequest, agreement_id: int) -> TemplateResponse:
    agreement = selectors.agreement_get(viewer=_viewer(request), agreement_id=agreement_id)
    return TemplateResponse(
        request, "pricing/agreements/agreement_detail.html", _detail_context(request, agreement)
    )


@maps_service_errors
@require_POST
def agreement_terms(request: HttpRequest, agreement_id: int) -> HttpResponse:
    """Propose new terms; "more rows" redisplays the form with blank rows, saving nothing."""
    agreement = selectors.agreement_get(viewer=_viewer(request), agreement_id=agreement_id)
    _require_editor(request, agreement)
    template = "pricing/agreements/agreement_detail.html"
    if "more_rows" in request.POST:
        terms = AgreementTermsForms.with_more_rows(request.POST, agreement=agreement)
        context = _detail_context(request, agreement, terms) | {"terms_open": True}
        return TemplateResponse(request, template, context)
    terms = AgreementTermsForms(request.POST, agreement=agreement)
    if terms.is_valid():
        try:
            outcome = agreement_propose_terms(
                actor=_viewer(request), agreement=agreement, **terms.service_kwargs()
            )
        except ApplicationError as exc:
            terms.add_service_error(exc)
        else:
            if outcome.applied:
                messages.success(request, _("The new terms are in force."))
            elif outcome.request is not None:
                messages.success(
                    request,
                    _("The terms were sent for approval: request #%(n)d.")
                    % {"n": outcome.request.pk},
                )
            return redirect("pricing:agreement_detail", agreement_id=agreement.pk)
    context = _detail_context(request, agreement, terms) | {"terms_open": True}
    return TemplateResponse(request, template, context, status=422)


def _form_page(
    request: HttpRequest, form: AgreementForm, account: Account, agreement: Agreement | None
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "pricing/agreements/agreement_form.html",
        {"form": form, "account": account, "agreement": agreement, **NAV},
        status=form_status(form),
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def agreement_create(request: HttpRequest, account_id: int) -> HttpResponse:
    account = account_get(viewer=_viewer(request), account_id=account_id)
    _require_editor(request, account)
    today = timezone.localdate()
    initial = {
        "valid_from": today,
        "valid_to": datetime.date(today.year + (today.month >= 4), 3, 31),
        "currency": "JPY",
        "closing_day": MONTH_END,
        "payment_month_offset": 1,
        "payment_day": MONTH_END,
        "business_day_rule": BusinessDayRule.NEXT,
    }
    form = AgreementForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services.agreement_create(
                actor=_viewer(request), account=account, data=form.service_data()
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("Agreement “%(name)s” added. Now add its special prices and discounts.")
                % {"name": agreement.name},
            )
            return redirect("pricing:agreement_detail", agreement_id=agreement.pk)
    return _form_page(request, form, account, None)


@maps_service_errors
@require_http_methods(["GET", "POST"])
def agreement_edit(request: HttpRequest, agreement_id: int) -> HttpResponse:
    agreement = selectors.agreement_get(viewer=_viewer(request), agreement_id=agreement_id)
    _require_editor(request, agreement)
    form = AgreementForm(request.POST or None, initial=AgreementForm.initial_of(agreement))
    if request.method == "POST" and form.is_valid():
        try:
            services.agreement_update(
                actor=_viewer(request),
                agreement=agreement,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("pricing:agreement_detail", agreement_id=agreement.pk)
    return _form_page(request, form, agreement.account, agreement)


# -- sections of the account page -------------------------------------------------------------


def account_agreements_section(request: HttpRequest, account: Account) -> dict[str, Any] | None:
    """The account's agreements with their period and state (the account page's main column)."""
    today = timezone.localdate()
    agreements = selectors.agreement_for_account(viewer=_viewer(request), account=account)
    for agreement in agreements:
        agreement.state = selectors.agreement_state(agreement, today)  # type: ignore[attr-defined]
        agreement.terms_label = payment_terms_label(agreement)  # type: ignore[attr-defined]
    group = group_agreement_for(account_id=account.pk, on=today)
    group_visible = (
        group is not None
        and group.group_parent is not None
        and Account.objects.visible_to(_viewer(request)).filter(pk=group.group_parent.pk).exists()
    )
    return {
        "account": account,
        "agreements": agreements,
        "group_agreement": group,
        "group_agreement_visible": group_visible,
        # The group's terms apply today only when the account has none of its own in force.
        "group_agreement_applies": group is not None
        and not any(a.state == "current" for a in agreements),  # type: ignore[attr-defined]
        "today": today,
        "may_edit": selectors.agreement_may_edit(
            viewer=_viewer(request), agreement_or_account=account
        ),
    }


def account_agreement_action(request: HttpRequest, account: Account) -> dict[str, Any] | None:
    """The "Add agreement" button, for those who may add one."""
    if not selectors.agreement_may_edit(viewer=_viewer(request), agreement_or_account=account):
        return None
    return {"account": account}
