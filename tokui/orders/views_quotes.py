"""Quote pages: the list, a quote with its versions and actions, making and editing one, its
PDF and its e-mail, the account page's "Quotes" section and our company's details.

Thin: parse, call a selector or a service, render. Whoever may see the account sees its quotes;
those who may edit accounts make and change them (support staff read them).
"""

from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tokui.accounts.models import Account
from tokui.accounts.selectors import account_get
from tokui.activities.pdf import pdf_response
from tokui.core.audit import audit_for_target
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.pagination import page_slice, parse_positive_int
from tokui.core.registry import audit_action_labels
from tokui.core.views import form_status, is_htmx, maps_service_errors
from tokui.orders import quotes as services
from tokui.orders import selectors
from tokui.orders.company import company_may_edit, company_profile_get, company_profile_update
from tokui.orders.constants import QuoteStatus
from tokui.orders.documents import quote_addressee, quote_filename, quote_pdf
from tokui.orders.forms_quotes import (
    CompanyForm,
    DeclineForm,
    EmailForm,
    IssueForm,
    QuoteForm,
    QuoteForms,
)
from tokui.orders.models import Quote
from tokui.pricing.approvals import approval_route_view
from tokui.users.models import User

NAV = {"nav_section": "quotes"}


def _viewer(request: HttpRequest) -> User:
    return cast(User, request.user)


def _require_editor(request: HttpRequest) -> None:
    if not selectors.quote_may_edit(viewer=_viewer(request)):
        raise PermissionDenied(_("Your role can read quotes but not change them."))


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdecimal() and len(value) <= 12 else None


def _status_choices() -> list[tuple[str, str]]:
    return [
        ("", _("Open and recent")),
        *((value, str(label)) for value, label in QuoteStatus.choices),
        ("expired", _("Expired")),
    ]


@maps_service_errors
def quote_index(request: HttpRequest) -> TemplateResponse:
    viewer = _viewer(request)
    today = timezone.localdate()
    status = request.GET.get("status", "")
    status = status if status in selectors.LIST_STATUSES else ""
    owner = parse_positive_int(request.GET.get("owner"), 0, 2**62) or None
    search = request.GET.get("q", "").strip()[:200]
    qs = selectors.quote_list(
        viewer=viewer,
        status=status or None,
        owner_id=owner,
        search=search,
        latest_only=not status,
        today=today,
    )
    page = page_slice(qs, page=parse_positive_int(request.GET.get("page"), 1, 10**6))
    for quote in page.items:
        quote.expired = services.quote_is_expired(quote, today)  # type: ignore[attr-defined]
    owners = User.objects.filter(pk__in=selectors.quote_list(viewer=viewer).values("owner_id"))
    template = "orders/quotes/quote_index.html"
    if is_htmx(request):
        template += "#results"
    context = {
        "page": page,
        "status": status,
        "statuses": _status_choices(),
        "owner": owner,
        "owners": owners.order_by("username"),
        "search": search,
        "filtered": bool(status or owner or search),
        **NAV,
    }
    return TemplateResponse(request, template, context)


def _regarding_link(quote: Quote) -> dict[str, Any] | None:
    if quote.regarding_type is None or quote.regarding_id is None:
        return None
    target = quote.regarding
    if target is None:
        return None
    url = None
    try:
        url = reverse(f"{quote.regarding_type.app_label}:deal_detail", args=[quote.regarding_id])
    except NoReverseMatch:
        url = None
    return {"label": str(target), "url": url}


def _history(quote: Quote) -> list[dict[str, Any]]:
    return [
        {"event": e, "label": audit_action_labels.get(e.action) or e.action}
        for e in audit_for_target(target=quote, limit=50)
    ]


def _detail_context(request: HttpRequest, quote: Quote, **extra: Any) -> dict[str, Any]:
    viewer = _viewer(request)
    today = timezone.localdate()
    may_edit = selectors.quote_may_edit(viewer=viewer)
    approval = quote.approval
    lines = list(quote.lines.all())
    totals = services.quote_totals_of(quote)
    context = {
        "quote": quote,
        "account": quote.account,
        "lines": lines,
        "totals": totals,
        "addressee": quote_addressee(quote),
        "versions": selectors.quote_versions(quote=quote),
        "may_edit": may_edit,
        "expired": services.quote_is_expired(quote, today),
        "stale": quote.status == QuoteStatus.DRAFT and quote.issued_on < today,
        "breaches": services.quote_breaches(actor=viewer, quote=quote)
        if may_edit and quote.status == QuoteStatus.DRAFT
        else [],
        "approval": approval,
        "approval_route": approval_route_view(approval) if approval else [],
        "regarding": _regarding_link(quote),
        "history": _history(quote),
        "any_offer": any(line.unit_price < line.engine_price for line in lines),
        "issue_form": IssueForm(initial={"version": quote.version}),
        "decline_form": DeclineForm(initial={"version": quote.version}),
        "today": today,
        **NAV,
    }
    context.update(extra)
    return context


@maps_service_errors
def quote_detail(request: HttpRequest, quote_id: int) -> TemplateResponse:
    quote = selectors.quote_get(viewer=_viewer(request), quote_id=quote_id)
    return TemplateResponse(
        request, "orders/quotes/quote_detail.html", _detail_context(request, quote)
    )


def _form_page(
    request: HttpRequest, forms: QuoteForms, account: Account, quote: Quote | None, status: int
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "orders/quotes/quote_form.html",
        {"forms": forms, "account": account, "quote": quote, **NAV},
        status=status,
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def quote_create(request: HttpRequest, account_id: int) -> HttpResponse:
    account = account_get(viewer=_viewer(request), account_id=account_id)
    _require_editor(request)
    if request.method == "POST" and "more_rows" in request.POST:
        return _form_page(
            request, QuoteForms.with_more_rows(request.POST, account=account), account, None, 200
        )
    initial: dict[str, Any] = {"issued_on": timezone.localdate(), "language": "ja"}
    contact_id = parse_positive_int(request.GET.get("contact"), 0, 2**62)
    if contact_id:
        initial["contact"] = contact_id
    forms = QuoteForms(request.POST or None, account=account, initial=initial)
    if request.method == "POST":
        if forms.is_valid():
            data = forms.form.service_data()
            try:
                quote = services.quote_create(
                    actor=_viewer(request),
                    account=account,
                    contact=data["contact"],
                    title=data["title"],
                    lines=forms.lines.service_rows(),
                    issued_on=data["issued_on"],
                    valid_until=data["valid_until"],
                    payment_terms=data["payment_terms"] or None,
                    delivery_terms=data["delivery_terms"],
                    notes=data["notes"],
                    language=data["language"],
                    era_dates=data["era_dates"],
                    department=data["addressee_department"],
                )
            except ApplicationError as exc:
                forms.add_service_error(exc)
            else:
                messages.success(
                    request,
                    _("Quote %(number)s saved as a draft.") % {"number": quote.display_number},
                )
                return redirect("orders:quote_detail", quote_id=quote.pk)
        return _form_page(request, forms, account, None, 422)
    return _form_page(request, forms, account, None, 200)


def _line_initial(quote: Quote) -> list[dict[str, Any]]:
    rows = []
    for line in quote.lines.all():
        rows.append(
            {
                "product": line.product_id,
                "quantity": line.quantity,
                "unit_price": f"{line.unit_price.normalize():f}"
                if line.unit_price < line.engine_price
                else "",
                "description": line.description
                if line.product is None or line.description != line.product.name
                else "",
            }
        )
    return rows


@maps_service_errors
@require_http_methods(["GET", "POST"])
def quote_edit(request: HttpRequest, quote_id: int) -> HttpResponse:
    quote = selectors.quote_get(viewer=_viewer(request), quote_id=quote_id)
    _require_editor(request)
    if quote.status != QuoteStatus.DRAFT:
        messages.error(request, _("Only drafts are edited: revise the quote to change it."))
        return redirect("orders:quote_detail", quote_id=quote.pk)
    account = quote.account
    if request.method == "POST" and "more_rows" in request.POST:
        forms = QuoteForms.with_more_rows(request.POST, account=account)
        return _form_page(request, forms, account, quote, 200)
    forms = QuoteForms(
        request.POST or None,
        account=account,
        initial=QuoteForm.initial_of(quote),
        lines=_line_initial(quote),
    )
    if request.method == "POST":
        if forms.is_valid():
            data = forms.form.service_data()
            try:
                services.quote_update(
                    actor=_viewer(request),
                    quote=quote,
                    data=data,
                    lines=forms.lines.service_rows(),
                    version=forms.form.cleaned_data.get("version"),
                )
            except ApplicationError as exc:
                forms.add_service_error(exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("orders:quote_detail", quote_id=quote.pk)
        return _form_page(request, forms, account, quote, 422)
    return _form_page(request, forms, account, quote, 200)


def _action_error(request: HttpRequest, quote: Quote, exc: ApplicationError) -> TemplateResponse:
    return TemplateResponse(
        request,
        "orders/quotes/quote_detail.html",
        _detail_context(request, quote, action_error=exc.message),
        status=exc.status if exc.status in (403, 409, 422) else 422,
    )


@maps_service_errors
@require_POST
def quote_action(request: HttpRequest, quote_id: int, action: str) -> HttpResponse:
    """The quote's buttons: issue, re-price, back to draft, mark sent, accept, decline,
    revise, withdraw. Each is a POST with the version the page showed."""
    viewer = _viewer(request)
    quote = selectors.quote_get(viewer=viewer, quote_id=quote_id)
    _require_editor(request)
    version = _version(request)
    reason = request.POST.get("reason", "")
    done = {
        "issue": lambda: services.quote_issue(
            actor=viewer, quote=quote, reason=reason, version=version
        ),
        "reprice": lambda: services.quote_reprice(actor=viewer, quote=quote, version=version),
        "reopen": lambda: services.quote_reopen(actor=viewer, quote=quote, version=version),
        "sent": lambda: services.quote_mark_sent(actor=viewer, quote=quote, version=version),
        "accept": lambda: services.quote_accept(actor=viewer, quote=quote, version=version),
        "decline": lambda: services.quote_decline(
            actor=viewer, quote=quote, reason=reason, version=version
        ),
        "revise": lambda: services.quote_revise(actor=viewer, quote=quote, version=version),
        "withdraw": lambda: services.quote_withdraw(
            actor=viewer, quote=quote, reason=reason, version=version
        ),
    }
    if action not in done:
        return redirect("orders:quote_detail", quote_id=quote.pk)
    try:
        result = done[action]()
    except ApplicationError as exc:
        if action == "decline" and "reason" in exc.errors:
            form = DeclineForm(request.POST)
            form.is_valid()
            form.add_service_error(exc)
            context = _detail_context(request, quote, decline_form=form, decline_open=True)
            return TemplateResponse(request, "orders/quotes/quote_detail.html", context, status=422)
        return _action_error(request, quote, exc)
    texts = {
        "issue": _("Quote %(number)s is ready to send.")
        if result.status == QuoteStatus.APPROVED
        else _("Quote %(number)s was sent for approval: it is ready once approved."),
        "reprice": _("Quote %(number)s is dated today, its prices found again."),
        "reopen": _("Quote %(number)s is a draft again."),
        "sent": _("Quote %(number)s is marked as sent."),
        "accept": _("Quote %(number)s is accepted."),
        "decline": _("Quote %(number)s is declined."),
        "revise": _("Quote %(number)s is a new draft; the previous version is kept."),
        "withdraw": _("Quote %(number)s is withdrawn."),
    }
    messages.success(request, texts[action] % {"number": result.display_number})
    return redirect("orders:quote_detail", quote_id=result.pk)


@maps_service_errors
def quote_pdf_view(request: HttpRequest, quote_id: int) -> HttpResponse:
    quote = selectors.quote_get(viewer=_viewer(request), quote_id=quote_id)
    return pdf_response(quote_pdf(quote), filename=quote_filename(quote))


@maps_service_errors
@require_http_methods(["GET", "POST"])
def quote_email(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Compose the quote's mail (the PDF attached) to its contact, send it, mark it sent."""
    viewer = _viewer(request)
    quote = selectors.quote_get(viewer=viewer, quote_id=quote_id)
    _require_editor(request)
    subject, body = services.quote_email_defaults(quote=quote, sender=viewer)
    form = EmailForm(
        request.POST or None,
        initial={"version": quote.version, "subject": subject, "body": body},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.quote_email_send(
                actor=viewer,
                quote=quote,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                version=form.cleaned_data.get("version"),
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("Quote %(number)s was e-mailed to %(who)s.")
                % {"number": quote.display_number, "who": quote.contact},
            )
            return redirect("orders:quote_detail", quote_id=quote.pk)
    return TemplateResponse(
        request,
        "orders/quotes/quote_email.html",
        {
            "quote": quote,
            "form": form,
            "filename": quote_filename(quote),
            "contact": quote.contact,
            **NAV,
        },
        status=form_status(form),
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def company_settings(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    profile = company_profile_get()
    may_edit = company_may_edit(viewer)
    form = CompanyForm(
        request.POST or None if may_edit else None, initial=CompanyForm.initial_of(profile)
    )
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied(_("Only administrators change the company's details."))
        if form.is_valid():
            try:
                company_profile_update(
                    actor=viewer, data=form.service_data(), version=form.cleaned_data["version"]
                )
            except ApplicationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("orders:company_settings")
    return TemplateResponse(
        request,
        "orders/quotes/company_settings.html",
        {"form": form, "profile": profile, "may_edit": may_edit, **NAV},
        status=form_status(form),
    )


# -- the account page's section --------------------------------------------------------------


def account_quotes_section(request: HttpRequest, account: Account) -> dict[str, Any] | None:
    """The account's latest quotes (superseded versions left out) and "New quote"."""
    viewer = _viewer(request)
    today = timezone.localdate()
    quotes = selectors.quote_for_account(viewer=viewer, account=account)
    for quote in quotes:
        quote.expired = services.quote_is_expired(quote, today)  # type: ignore[attr-defined]
    return {
        "account": account,
        "quotes": quotes,
        "may_edit": selectors.quote_may_edit(viewer=viewer) and not account.is_archived,
    }
