"""Pages for interactions: the account timeline, quick call logging, the full form, files.

Thin: parse, call a selector or service, render. Every page works without JavaScript; with
htmx the timeline pages in place (infinite scroll) and the quick form answers in place.
"""

from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tokui.accounts.models import Account, Contact
from tokui.accounts.selectors import account_get, contact_get, contact_list
from tokui.activities import selectors, services
from tokui.activities.constants import InteractionKind
from tokui.activities.forms_interactions import InteractionForm, QuickCallForm
from tokui.activities.markdown import render_markdown
from tokui.activities.models import Interaction
from tokui.activities.timeline import TimelinePage, account_timeline, timeline_sources
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.pagination import page_slice, parse_positive_int
from tokui.core.views import form_status, is_htmx, maps_service_errors
from tokui.users.models import User


class AuthedRequest(HttpRequest):
    """A request past the login middleware: ``user`` is a signed-in ``User``."""

    user: User  # type: ignore[assignment]


KIND_ICONS = {
    "call": "☎",
    "meeting": "◎",
    "email": "✉",
    "fax": "℻",
    "chat": "…",
    "letter": "〒",
    "visit": "⌂",
    "note": "✎",
    "changes": "↻",
}


def _safe_next(request: AuthedRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _chosen_kind(value: str | None) -> str | None:
    known = {code for code, _label in timeline_sources.kinds()}
    return value if value in known else None


def _mark_rights(request: AuthedRequest, items: list[Interaction]) -> None:
    for item in items:
        item.may_change = services.interaction_may_change(  # type: ignore[attr-defined]
            actor=request.user, interaction=item
        )
        item.icon = KIND_ICONS.get(item.kind, "•")  # type: ignore[attr-defined]


def _timeline_context(
    request: AuthedRequest,
    account: Account,
    page: TimelinePage,
    kind: str | None,
    quick_form: QuickCallForm | None = None,
    logged: bool = False,
) -> dict[str, Any]:
    timeline_url = reverse("activities:account_timeline", args=[account.pk])
    detail_url = reverse("accounts:detail", args=[account.pk])
    chips = [
        {
            "code": "",
            "label": _("All"),
            "href": f"{detail_url}#timeline",
            "hx": timeline_url,
            "active": kind is None,
        }
    ]
    for code, label in timeline_sources.kinds():
        chips.append(
            {
                "code": code,
                "label": label,
                "icon": KIND_ICONS.get(code, "•"),
                "href": f"{detail_url}?{urlencode({'tl': code})}#timeline",
                "hx": f"{timeline_url}?{urlencode({'kind': code})}",
                "active": kind == code,
            }
        )
    more_url = None
    if page.next_cursor:
        params = {"cursor": page.next_cursor, **({"kind": kind} if kind else {})}
        more_url = f"{timeline_url}?{urlencode(params)}"
    _mark_rights(request, [e.obj for e in page.entries if e.source == "interaction"])
    may_log = services.interaction_may_log(actor=request.user, account=account)
    if may_log and quick_form is None:
        quick_form = QuickCallForm(
            contacts=contact_list(viewer=request.user, account_id=account.pk)
        )
    return {
        "account": account,
        "page": page,
        "chips": chips,
        "kind": kind,
        "more_url": more_url,
        "may_log": may_log,
        "quick_form": quick_form,
        "logged": logged,
        "kind_icons": KIND_ICONS,
    }


def account_timeline_section(
    section_request: HttpRequest, account: Account
) -> dict[str, Any] | None:
    """The timeline on the account page ("side" place). ``?tl=call`` filters it without JS."""
    request = cast(AuthedRequest, section_request)
    kind = _chosen_kind(request.GET.get("tl"))
    page = account_timeline(
        viewer=request.user, account=account, kinds=frozenset([kind]) if kind else None
    )
    return _timeline_context(request, account, page, kind)


def account_actions_section(
    section_request: HttpRequest, account: Account
) -> dict[str, Any] | None:
    request = cast(AuthedRequest, section_request)
    if not services.interaction_may_log(actor=request.user, account=account):
        return None
    return {"account": account, "contact": None}


def contact_interactions_section(section_request: HttpRequest, contact: Contact) -> dict[str, Any]:
    request = cast(AuthedRequest, section_request)
    items = selectors.contact_interactions(viewer=request.user, contact=contact)
    _mark_rights(request, items)
    may_log = services.interaction_may_log(actor=request.user, account=contact.account)
    quick_form = None
    if may_log:
        quick_form = QuickCallForm(
            contacts=contact_list(viewer=request.user, account_id=contact.account_id),
            initial={"contact": contact.pk},
        )
    return {
        "contact": contact,
        "account": contact.account,
        "items": items,
        "may_log": may_log,
        "quick_form": quick_form,
        "kind_icons": KIND_ICONS,
    }


def contact_actions_section(
    section_request: HttpRequest, contact: Contact
) -> dict[str, Any] | None:
    request = cast(AuthedRequest, section_request)
    if not services.interaction_may_log(actor=request.user, account=contact.account):
        return None
    return {"account": contact.account, "contact": contact}


@maps_service_errors
@require_GET
def account_timeline_view(request: AuthedRequest, account_id: int) -> HttpResponse:
    """More of the timeline: list items for infinite scroll (htmx with a cursor), the
    section's body for a filter chip (htmx), or a page of its own (without JavaScript)."""
    account = account_get(viewer=request.user, account_id=account_id)
    kind = _chosen_kind(request.GET.get("kind"))
    cursor = request.GET.get("cursor") or None
    try:
        page = account_timeline(
            viewer=request.user,
            account=account,
            kinds=frozenset([kind]) if kind else None,
            cursor=cursor,
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        # A damaged or stale cursor: start again from the newest entries.
        cursor = None
        page = account_timeline(
            viewer=request.user, account=account, kinds=frozenset([kind]) if kind else None
        )
    context = _timeline_context(request, account, page, kind)
    if is_htmx(request):
        template = "activities/interactions/_timeline_items.html"
        if not cursor:
            template = "activities/_account_timeline.html#timeline-body"
        return TemplateResponse(request, template, context)
    return TemplateResponse(request, "activities/interactions/timeline_page.html", context)


def _render_quick_result(
    request: AuthedRequest, account: Account, form: QuickCallForm | None, logged: bool
) -> HttpResponse:
    page = account_timeline(viewer=request.user, account=account)
    context = _timeline_context(request, account, page, None, quick_form=form, logged=logged)
    html = render_to_string(
        "activities/_account_timeline.html#timeline-body", context, request=request
    )
    return HttpResponse(html)


@maps_service_errors
@require_http_methods(["GET", "POST"])
def call_log(request: AuthedRequest, account_id: int) -> HttpResponse:
    """ "Log a call": the quick form. In the timeline (htmx) it answers with the refreshed
    timeline; on its own page it saves and goes back where it came from."""
    account = account_get(viewer=request.user, account_id=account_id)
    contacts = contact_list(viewer=request.user, account_id=account.pk)
    initial = {}
    contact_id = request.GET.get("contact")
    if contact_id and contact_id.isdecimal():
        initial["contact"] = int(contact_id)
    form = QuickCallForm(request.POST or None, contacts=contacts, initial=initial)
    fallback = reverse("accounts:detail", args=[account.pk]) + "#timeline"
    if request.method == "POST":
        if form.is_valid():
            try:
                services.interaction_create(
                    actor=request.user, account=account, data=form.service_data()
                )
            except ApplicationError as exc:
                if exc.status in (403, 404):
                    raise
                form.add_service_error(exc)
            else:
                if is_htmx(request):
                    return _render_quick_result(request, account, None, logged=True)
                messages.success(request, _("Call logged."))
                return redirect(_safe_next(request, fallback))
        if is_htmx(request):
            # htmx swaps 2xx answers only: the form comes back with its errors in place.
            return _render_quick_result(request, account, form, logged=False)
    return TemplateResponse(
        request,
        "activities/interactions/call_form.html",
        {"account": account, "form": form, "next": _safe_next(request, "")},
        status=form_status(form),
    )


def _form_context(
    request: AuthedRequest, account: Account, form: InteractionForm, **extra: Any
) -> dict[str, Any]:
    return {
        "account": account,
        "form": form,
        "kinds": InteractionKind.choices,
        "kind_icons": KIND_ICONS,
        "next": _safe_next(request, ""),
        **extra,
    }


def _interaction_form(request: AuthedRequest, account: Account, **kwargs: Any) -> InteractionForm:
    return InteractionForm(
        request.POST or None,
        account=account,
        contacts=contact_list(viewer=request.user, account_id=account.pk),
        participants=selectors.interaction_participant_choices(),
        **kwargs,
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def interaction_new(request: AuthedRequest, account_id: int) -> HttpResponse:
    account = account_get(viewer=request.user, account_id=account_id)
    initial: dict[str, Any] = {}
    if request.GET.get("kind") in InteractionKind.values:
        initial["kind"] = request.GET["kind"]
    contact_id = request.GET.get("contact", "")
    if contact_id.isdecimal():
        initial["contacts"] = [int(contact_id)]
    form = _interaction_form(request, account, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = render_markdown(form.cleaned_data.get("body") or "")
        else:
            try:
                interaction = services.interaction_create(
                    actor=request.user, account=account, data=form.service_data()
                )
            except ApplicationError as exc:
                if exc.status in (403, 404):
                    raise
                form.add_service_error(exc)
            else:
                messages.success(
                    request,
                    _("%(kind)s logged.") % {"kind": interaction.get_kind_display()},
                )
                fallback = reverse("accounts:detail", args=[account.pk]) + "#timeline"
                return redirect(_safe_next(request, fallback))
    return TemplateResponse(
        request,
        "activities/interactions/interaction_form.html",
        _form_context(request, account, form, interaction=None, preview=preview),
        status=form_status(form),
    )


def _changeable(request: AuthedRequest, interaction_id: int) -> Interaction:
    interaction = selectors.interaction_get(viewer=request.user, interaction_id=interaction_id)
    if not services.interaction_may_change(actor=request.user, interaction=interaction):
        raise PermissionDenied(
            _(
                "Only the author, the account's owner or a head of sales may change this "
                "interaction."
            )
        )
    return interaction


@maps_service_errors
@require_http_methods(["GET", "POST"])
def interaction_edit(request: AuthedRequest, interaction_id: int) -> HttpResponse:
    interaction = _changeable(request, interaction_id)
    account = interaction.account
    form = _interaction_form(request, account, initial=InteractionForm.initial_from(interaction))
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = render_markdown(form.cleaned_data.get("body") or "")
        else:
            try:
                services.interaction_update(
                    actor=request.user,
                    interaction=interaction,
                    data=form.service_data(),
                    version=form.cleaned_data.get("version"),
                )
            except ApplicationError as exc:
                if exc.status in (403, 404):
                    raise
                form.add_service_error(exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect(reverse("activities:interaction_detail", args=[interaction.pk]))
    return TemplateResponse(
        request,
        "activities/interactions/interaction_form.html",
        _form_context(request, account, form, interaction=interaction, preview=preview),
        status=form_status(form),
    )


@maps_service_errors
@require_http_methods(["GET", "POST"])
def interaction_delete(request: AuthedRequest, interaction_id: int) -> HttpResponse:
    interaction = _changeable(request, interaction_id)
    error = None
    if request.method == "POST":
        version = parse_positive_int(request.POST.get("version"), 0, 2**31) or None
        try:
            services.interaction_delete(
                actor=request.user, interaction=interaction, version=version
            )
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            error = exc.message
        else:
            messages.success(request, _("Interaction deleted."))
            return redirect(reverse("accounts:detail", args=[interaction.account_id]))
    _mark_rights(request, [interaction])
    return TemplateResponse(
        request,
        "activities/interactions/interaction_delete.html",
        {"interaction": interaction, "account": interaction.account, "error": error},
        status=409 if error else 200,
    )


@maps_service_errors
@require_GET
def interaction_detail(request: AuthedRequest, interaction_id: int) -> TemplateResponse:
    interaction = selectors.interaction_get(viewer=request.user, interaction_id=interaction_id)
    _mark_rights(request, [interaction])
    return TemplateResponse(
        request,
        "activities/interactions/interaction_detail.html",
        {"interaction": interaction, "account": interaction.account},
    )


@maps_service_errors
@require_GET
def interaction_index(request: AuthedRequest) -> TemplateResponse:
    """Interactions of one contact or one account (the contact page's "all" link)."""
    contact = account = None
    contact_id = request.GET.get("contact", "")
    account_id = request.GET.get("account", "")
    if contact_id.isdecimal():
        contact = contact_get(viewer=request.user, contact_id=int(contact_id))
    elif account_id.isdecimal():
        account = account_get(viewer=request.user, account_id=int(account_id))
    else:
        raise Http404(_("Choose an account or a contact."))
    kind = request.GET.get("kind")
    qs = selectors.interaction_list(
        viewer=request.user,
        contact_id=contact.pk if contact else None,
        account_id=account.pk if account else None,
        kind=kind if kind in InteractionKind.values else None,
    )
    page = page_slice(qs, page=parse_positive_int(request.GET.get("page"), 1, 10**6))
    selectors.interactions_prepare(page.items)
    _mark_rights(request, page.items)
    return TemplateResponse(
        request,
        "activities/interactions/interaction_index.html",
        {
            "page": page,
            "contact": contact,
            "account": contact.account if contact else account,
            "kind_icons": KIND_ICONS,
        },
    )


@maps_service_errors
@require_GET
def attachment_download(request: AuthedRequest, attachment_id: int) -> HttpResponse:
    attachment = selectors.interaction_attachment_get(
        viewer=request.user, attachment_id=attachment_id
    )
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404(_("The file is missing from storage.")) from exc
    # Always a download, never shown inline: a mail's HTML or SVG must not run on our origin.
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.name,
        content_type="application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return cast(HttpResponse, response)


@require_POST
def markdown_preview(request: AuthedRequest) -> HttpResponse:
    """The note as it will look (htmx), rendered by the same code as the timeline."""
    text = request.POST.get("body", "")[:50_000]
    html = render_markdown(text)
    if not html:
        return HttpResponse('<p class="muted small">' + _("Nothing to preview yet.") + "</p>")
    return HttpResponse(html)
