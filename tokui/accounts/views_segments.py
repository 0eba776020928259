"""Segment pages and the account list's extra filters. Thin: parse, call, render."""

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tokui.accounts import segments
from tokui.accounts.constants import AccountKind, AccountRank, AccountTier
from tokui.accounts.forms import ServiceErrorsMixin
from tokui.accounts.models import Segment
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.views import form_status, maps_service_errors
from tokui.users.models import User
from tokui.users.selectors import user_assignable_owners

# Query parameters of the account list that a segment can hold (q is its "search").
SEGMENT_QUERY_KEYS = (
    "q",
    "kind",
    "tier",
    "owner",
    "industry",
    "prefecture",
    "employees_min",
    "employees_max",
    "rank",
    "tag",
)
_EXTRA_KEYS = ("industry", "prefecture", "employees_min", "employees_max", "rank", "tag")


def _whole_number(value: Any, maximum: int) -> int | None:
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    number = int(text)
    return number if number <= maximum else None


def extra_account_filters(query: QueryDict) -> dict[str, Any]:
    """The list filters added with segments, from a query string; junk is ignored.

    Keys are ``account_list``'s keywords: industry (comma-separated, any of), prefecture, rank
    and tag (repeatable), employees_min/employees_max and segment (an id).
    """
    tags = [name for raw in query.getlist("tag")[:20] for name in segments.split_names(raw[:1100])]
    return {
        "industry": segments.split_names(query.get("industry", "")[:300])[:20] or None,
        "prefecture": [p for p in query.getlist("prefecture") if p in segments.PREFECTURES] or None,
        "employees_min": _whole_number(query.get("employees_min"), segments.EMPLOYEES_LIMIT),
        "employees_max": _whole_number(query.get("employees_max"), segments.EMPLOYEES_LIMIT),
        "rank": [r for r in query.getlist("rank") if r in AccountRank.values] or None,
        "tag": [t[: segments.TAG_MAX_LENGTH] for t in tags][:20] or None,
        "segment": _whole_number(query.get("segment"), 2**62) or None,
    }


def account_filters_from_query(query: QueryDict) -> dict[str, Any]:
    """Every account list filter from a query string, as ``account_list`` keywords."""
    kind, tier = query.get("kind"), query.get("tier")
    filters = {
        "search": query.get("q", "").strip()[:200],
        "kind": kind if kind in AccountKind.values else None,
        "tier": tier if tier in AccountTier.values else None,
        "owner": query.get("owner", "")[:150] or None,
        "archived": query.get("archived", "") in {"1", "true", "on", "yes"},
        "sort": query.get("sort", "name"),
    }
    filters.update(extra_account_filters(query))
    return filters


def contact_filters_from_query(query: QueryDict) -> dict[str, Any]:
    """The contact list's filters (and its account's) from a query string."""
    filters = account_filters_from_query(query)
    if filters["sort"] not in ("name", "-name", "account", "-account", "updated", "-updated"):
        filters["sort"] = "name"
    return filters


def _segment_filters_from_list(filters: dict[str, Any]) -> dict[str, Any]:
    """List filters in a segment's shape (search, lists of values, bounds)."""
    result: dict[str, Any] = {}
    if filters.get("search"):
        result["search"] = filters["search"]
    for key in ("kind", "tier"):
        if filters.get(key):
            result[key] = [filters[key]]
    if filters.get("owner"):
        result["owner"] = filters["owner"]
    for key in _EXTRA_KEYS:
        if filters.get(key) is not None:
            result[key] = filters[key]
    return result


def _list_query(filters: dict[str, Any]) -> str:
    """A query string for the account list showing ``filters`` again."""
    pairs: list[tuple[str, Any]] = []
    for key, value in filters.items():
        name = "q" if key == "search" else key
        if value in (None, "", [], False) or (key == "sort" and value == "name"):
            continue
        if key == "industry":
            value = ", ".join(value)
        if key == "archived":
            value = "1"
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, item))
    return urlencode(pairs)


def account_list_context(request: HttpRequest, filters: dict[str, Any]) -> dict[str, Any]:
    """What the account list shows for segments and the extra filters."""
    viewer = request.user
    assert isinstance(viewer, User)
    usable = list(segments.segment_list(viewer=viewer))
    current = next((s for s in usable if s.pk == filters.get("segment")), None)
    hidden = [
        (key, value)
        for key, values in request.GET.lists()
        if key in (*SEGMENT_QUERY_KEYS, "segment")
        for value in values
        if value
    ]
    return {
        "segments": usable,
        "current_segment": current,
        "segment_summary": segments.segment_filter_summary(current.filters) if current else [],
        "tag_choices": [t.name for t in segments.tag_list(viewer=viewer)],
        "prefectures": segments.PREFECTURES,
        "ranks": AccountRank.values,
        "more_filters_open": any(filters.get(k) not in (None, "", []) for k in _EXTRA_KEYS),
        "segment_hidden_fields": hidden,
        "may_save_segment": viewer.may_edit_accounts,
    }


# Pages ------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    # The login middleware lets no anonymous request reach these views.
    assert isinstance(request.user, User)
    return request.user


def _require_editor(request: HttpRequest) -> None:
    if not _user(request).may_edit_accounts:
        raise PermissionDenied(_("Your role can read accounts but not change them."))


class SegmentForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    shared = forms.BooleanField(label=gettext_lazy("Share with everyone"), required=False)
    search = forms.CharField(label=gettext_lazy("Search"), max_length=200, required=False)
    kind = forms.MultipleChoiceField(
        label=gettext_lazy("Kind"),
        choices=AccountKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    tier = forms.MultipleChoiceField(
        label=gettext_lazy("Tier"),
        choices=AccountTier.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    rank = forms.MultipleChoiceField(
        label=gettext_lazy("Rank"),
        choices=AccountRank.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    owner = forms.ChoiceField(label=gettext_lazy("Owner"), required=False)
    industry = forms.CharField(
        label=gettext_lazy("Industry"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("Part of the industry; separate several with commas."),
    )
    prefecture = forms.MultipleChoiceField(
        label=gettext_lazy("Prefecture"),
        choices=[(p, p) for p in segments.PREFECTURES],
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=gettext_lazy("Hold Ctrl (⌘ on a Mac) to choose several."),
    )
    tag = forms.CharField(
        label=gettext_lazy("Tags"),
        max_length=1100,
        required=False,
        help_text=gettext_lazy("Accounts with any of these tags; separate with commas."),
    )
    employees_min = forms.IntegerField(
        label=gettext_lazy("Employees from"), min_value=0, required=False
    )
    employees_max = forms.IntegerField(
        label=gettext_lazy("Employees up to"), min_value=0, required=False
    )

    def __init__(self, *args: Any, viewer: Any, current_owner: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owners = [(u.username, str(u)) for u in user_assignable_owners(viewer=viewer)]
        if current_owner and current_owner not in {name for name, _label in owners}:
            owners.append((current_owner, current_owner))
        field = self.fields["owner"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Any owner")), *owners]
        self.fields["name"].widget.attrs["autofocus"] = True

    @staticmethod
    def initial_from(segment: Segment) -> dict[str, Any]:
        filters = segment.filters or {}
        initial: dict[str, Any] = {"name": segment.name, "shared": segment.shared}
        for key in ("search", "owner", "employees_min", "employees_max"):
            initial[key] = filters.get(key)
        for key in ("kind", "tier", "rank", "prefecture"):
            initial[key] = filters.get(key) or []
        for key in ("industry", "tag"):
            initial[key] = ", ".join(filters.get(key) or [])
        return initial

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        filters = {
            key: data.get(key)
            for key in segments.SEGMENT_FILTER_KEYS
            if data.get(key) not in (None, "", [])
        }
        return {"name": data["name"], "shared": bool(data.get("shared")), "filters": filters}


def _with_summaries(items: list[Segment], viewer: Any) -> list[Segment]:
    for segment in items:
        segment.summary = segments.segment_filter_summary(segment.filters or {})  # type: ignore[attr-defined]
        segment.changeable = segments.segment_may_change(viewer=viewer, segment=segment)  # type: ignore[attr-defined]
    return items


@maps_service_errors
def segment_index(request: HttpRequest) -> TemplateResponse:
    items = _with_summaries(list(segments.segment_list(viewer=_user(request))), _user(request))
    return TemplateResponse(request, "accounts/segments/segment_index.html", {"segments": items})


@maps_service_errors
@require_http_methods(["GET", "POST"])
def segment_create(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    form = SegmentForm(request.POST or None, viewer=_user(request))
    if request.method == "POST" and form.is_valid():
        try:
            segment = segments.segment_create(actor=_user(request), **form.service_data())
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
            return redirect(f"{reverse('accounts:index')}?segment={segment.pk}")
    return TemplateResponse(
        request,
        "accounts/segments/segment_form.html",
        {"form": form, "segment": None},
        status=form_status(form),
    )


@maps_service_errors
@require_POST
def segment_save(request: HttpRequest) -> HttpResponseRedirect:
    """ "Save as segment" on the account list: the filters shown, on top of the chosen segment's."""
    _require_editor(request)
    filters = account_filters_from_query(request.POST)
    saved: dict[str, Any] = {}
    if filters.get("segment"):
        base = segments.segment_get(viewer=_user(request), segment_id=filters["segment"])
        saved.update(base.filters or {})
    saved.update(_segment_filters_from_list(filters))
    try:
        segment = segments.segment_create(
            actor=_user(request),
            name=request.POST.get("name", "")[:200],
            filters=saved,
            shared=request.POST.get("shared", "") in {"1", "true", "on", "yes"},
        )
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, _("The segment was not saved: %(why)s") % {"why": exc.message})
        query = _list_query(filters)
        return redirect(reverse("accounts:index") + (f"?{query}" if query else ""))
    messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
    return redirect(f"{reverse('accounts:index')}?segment={segment.pk}")


@maps_service_errors
@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = segments.segment_get(viewer=_user(request), segment_id=segment_id)
    if not segments.segment_may_change(viewer=_user(request), segment=segment):
        raise PermissionDenied(_("Only the segment's owner can change it."))
    form = SegmentForm(
        request.POST or None,
        viewer=_user(request),
        current_owner=(segment.filters or {}).get("owner", ""),
        initial=SegmentForm.initial_from(segment),
    )
    if request.method == "POST" and form.is_valid():
        try:
            segments.segment_update(actor=_user(request), segment=segment, data=form.service_data())
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("accounts:segment_index")
    return TemplateResponse(
        request,
        "accounts/segments/segment_form.html",
        {"form": form, "segment": segment},
        status=form_status(form),
    )


@maps_service_errors
@require_POST
def segment_delete(request: HttpRequest, segment_id: int) -> HttpResponseRedirect:
    segment = segments.segment_get(viewer=_user(request), segment_id=segment_id)
    segments.segment_delete(actor=_user(request), segment=segment)
    messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
    return redirect("accounts:segment_index")
