"""Pages of the customer data bank. Thin: parse, call a selector or service, render."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format_value
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tokui.accounts import selectors, services
from tokui.accounts.constants import (
    ACCOUNT_EDITABLE_FIELDS,
    CONTACT_EDITABLE_FIELDS,
    AccountKind,
    AccountTier,
)
from tokui.accounts.forms import AccountForm, ContactForm
from tokui.accounts.groups import account_group
from tokui.accounts.models import Account
from tokui.accounts.screening import screening_flags_attach, screening_overview
from tokui.accounts.segments import account_tag_names, account_tags_attach
from tokui.accounts.views_segments import account_list_context, extra_account_filters
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.pagination import page_slice, parse_positive_int
from tokui.core.sections import account_sections, contact_sections
from tokui.core.views import form_status, is_htmx, maps_service_errors, query_flag
from tokui.users.selectors import user_assignable_owners


def _require_editor(request: HttpRequest) -> None:
    if not request.user.may_edit_accounts:
        raise PermissionDenied(_("Your role can read accounts but not change them."))


def _label_rows(accounts: list[Account]) -> None:
    """Per-row display values computed once per page rather than per row in the template."""
    kinds = {value: str(label) for value, label in AccountKind.choices}
    date_format = get_format("SHORT_DATE_FORMAT")
    for account in accounts:
        account.kind_label = kinds.get(account.kind, account.kind)
        account.updated_on = date_format_value(timezone.localtime(account.updated_at), date_format)


@maps_service_errors
def account_index(request: HttpRequest) -> TemplateResponse:
    filters = {
        "search": request.GET.get("q", "").strip()[:200],
        "kind": request.GET.get("kind") if request.GET.get("kind") in AccountKind.values else None,
        "tier": request.GET.get("tier") if request.GET.get("tier") in AccountTier.values else None,
        "owner": request.GET.get("owner", "")[:150] or None,
        "archived": query_flag(request, "archived"),
        "sort": request.GET.get("sort", "name"),
    }
    filters.update(extra_account_filters(request.GET))  # industry, prefecture, …, segment
    accounts = selectors.account_list(viewer=request.user, **filters)
    page = page_slice(
        accounts,
        page=parse_positive_int(request.GET.get("page"), 1, 10**6),
        count_qs=selectors.account_list(viewer=request.user, for_count=True, **filters),
    )
    screening_flags_attach(page.items)  # one query for the page's risk-screening badges
    account_tags_attach(page.items)  # and one for their tags
    _label_rows(page.items)
    template = "accounts/account_index.html"
    if is_htmx(request):
        template += "#results"
    context = {
        "page": page,
        "filters": filters,
        "kinds": AccountKind.choices,
        "tiers": AccountTier.choices,
        "owners": user_assignable_owners(viewer=request.user),
        "sort": filters["sort"],
        "key_label": _("Key"),
    }
    context.update(account_list_context(request, filters))
    return TemplateResponse(request, template, context)


@maps_service_errors
def account_detail(request: HttpRequest, account_id: int) -> TemplateResponse:
    account = selectors.account_get(viewer=request.user, account_id=account_id)
    contacts = selectors.contact_list(viewer=request.user, account_id=account.pk)
    screening = screening_overview(viewer=request.user, account=account)
    group = account_group(viewer=request.user, account=account)
    return TemplateResponse(
        request,
        "accounts/account_detail.html",
        {
            "account": account,
            "screening": screening,
            "screening_flag": screening.flag,
            "contacts": list(contacts),
            "identity_warnings": services.account_identity_warnings(account),
            "group": group,
            "sections": account_sections.render(request, account),
        },
    )


def _parent_search(request: HttpRequest) -> str:
    """What was typed in the parent company's "find" box (GET from htmx, POST without JS)."""
    source = request.POST if request.method == "POST" else request.GET
    return source.get("parent_q", "").strip()[:200]


def _account_form(
    request: HttpRequest, *, account: Account | None, initial: dict[str, Any]
) -> tuple[AccountForm, bool]:
    """The account form, and whether it is to be saved.

    The "Find" button of the parent company (no JavaScript) redisplays the form as typed, with
    the companies found, saving nothing; so does htmx as one types (only the choice is sent).
    """
    search = _parent_search(request)
    if request.method == "POST" and "parent_search" not in request.POST:
        bound = AccountForm(
            request.POST,
            viewer=request.user,
            account=account,
            initial=initial,
            parent_search=search,
        )
        return bound, True
    if request.method == "POST":
        initial = {**initial, **request.POST.dict()}
    elif "parent" in request.GET:
        initial = {**initial, "parent": request.GET.get("parent", "")}
    form = AccountForm(viewer=request.user, account=account, initial=initial, parent_search=search)
    return form, False


def _form_page(
    request: HttpRequest, form: AccountForm, account: Account | None
) -> TemplateResponse:
    template = "accounts/account_form.html"
    if is_htmx(request) and request.method == "GET" and "parent_q" in request.GET:
        template += "#parent-choice"
    return TemplateResponse(
        request, template, {"form": form, "account": account}, status=form_status(form)
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    form, submitted = _account_form(request, account=None, initial={"owner": request.user})
    if submitted and form.is_valid():
        try:
            account = services.account_create(
                actor=request.user, data=form.service_data(), tags=form.tag_names()
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Account “%(name)s” created.") % {"name": account.name})
            return redirect("accounts:detail", account_id=account.pk)
    return _form_page(request, form, None)


@maps_service_errors
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    account = selectors.account_get(viewer=request.user, account_id=account_id)
    _require_editor(request)
    initial = {name: getattr(account, name) for name in ACCOUNT_EDITABLE_FIELDS}
    # Show identifiers the way people write them, not as stored (E.164, 7 digits).
    initial.update(
        phone=account.phone_display,
        fax=account.fax_display,
        postal_code=account.postal_code_display.lstrip("〒"),
        version=account.version,
        tags=", ".join(account_tag_names(account)),
        parent=account.parent_id,
    )
    form, submitted = _account_form(request, account=account, initial=initial)
    if submitted and form.is_valid():
        try:
            services.account_update(
                actor=request.user,
                account=account,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
                tags=form.tag_names(),
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("accounts:detail", account_id=account.pk)
    return _form_page(request, form, account)


@maps_service_errors
@require_POST
def account_archive(request: HttpRequest, account_id: int) -> HttpResponseRedirect:
    account = selectors.account_get(viewer=request.user, account_id=account_id)
    try:
        services.account_archive(actor=request.user, account=account)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("“%(name)s” archived. It no longer appears in lists; you can restore it here.")
            % {"name": account.name},
        )
    return redirect("accounts:detail", account_id=account.pk)


@maps_service_errors
@require_POST
def account_restore(request: HttpRequest, account_id: int) -> HttpResponseRedirect:
    account = selectors.account_get(viewer=request.user, account_id=account_id)
    services.account_restore(actor=request.user, account=account)
    messages.success(request, _("“%(name)s” restored.") % {"name": account.name})
    return redirect("accounts:detail", account_id=account.pk)


@maps_service_errors
def contact_index(request: HttpRequest) -> TemplateResponse:
    search = request.GET.get("q", "").strip()[:200]
    sort = request.GET.get("sort", "name")
    filters = {"search": search, "archived": query_flag(request, "archived")}
    contacts = selectors.contact_list(viewer=request.user, sort=sort, **filters)
    page = page_slice(
        contacts,
        page=parse_positive_int(request.GET.get("page"), 1, 10**6),
        count_qs=selectors.contact_list(viewer=request.user, for_count=True, **filters),
        count_limit=settings.TOKUI_CONTACT_COUNT_LIMIT,
    )
    screening_flags_attach(c.account for c in page.items)  # the accounts' badges, one query
    template = "accounts/contact_index.html"
    if is_htmx(request):
        template += "#results"
    return TemplateResponse(
        request, template, {"page": page, "filters": {"search": search}, "sort": sort}
    )


@maps_service_errors
def contact_detail(request: HttpRequest, contact_id: int) -> TemplateResponse:
    contact = selectors.contact_get(viewer=request.user, contact_id=contact_id)
    screening_flags_attach([contact.account])
    return TemplateResponse(
        request,
        "accounts/contact_detail.html",
        {"contact": contact, "sections": contact_sections.render(request, contact)},
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest, account_id: int) -> HttpResponse:
    account = selectors.account_get(viewer=request.user, account_id=account_id)
    _require_editor(request)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(
                actor=request.user, account=account, data=form.service_data()
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Contact “%(name)s” added.") % {"name": contact})
            return redirect("accounts:detail", account_id=account.pk)
    return TemplateResponse(
        request,
        "accounts/contact_form.html",
        {"form": form, "account": account, "contact": None},
        status=form_status(form),
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = selectors.contact_get(viewer=request.user, contact_id=contact_id)
    _require_editor(request)
    initial = {name: getattr(contact, name) for name in CONTACT_EDITABLE_FIELDS}
    initial.update(
        phone=contact.phone_display, mobile=contact.mobile_display, version=contact.version
    )
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(
                actor=request.user,
                contact=contact,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("accounts:contact_detail", contact_id=contact.pk)
    return TemplateResponse(
        request,
        "accounts/contact_form.html",
        {"form": form, "account": contact.account, "contact": contact},
        status=form_status(form),
    )


@maps_service_errors
@require_POST
def contact_archive(request: HttpRequest, contact_id: int) -> HttpResponseRedirect:
    contact = selectors.contact_get(viewer=request.user, contact_id=contact_id)
    services.contact_archive(actor=request.user, contact=contact)
    messages.success(request, _("Contact “%(name)s” archived.") % {"name": contact})
    return HttpResponseRedirect(reverse("accounts:detail", args=[contact.account_id]))
