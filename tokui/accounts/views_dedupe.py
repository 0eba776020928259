"""Pages for duplicates and merges: the list of likely pairs, one account's possible duplicates,
the side-by-side merge screen, a merge's details and its undo."""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tokui.accounts import dedupe, merge, selectors
from tokui.accounts.models import Account
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.pagination import parse_positive_int
from tokui.core.views import is_htmx, maps_service_errors


def _require_editor(request: HttpRequest) -> None:
    if not request.user.may_edit_accounts:
        raise PermissionDenied(_("Your role can read accounts but not change them."))


@maps_service_errors
@require_GET
def duplicates_index(request: HttpRequest) -> TemplateResponse:
    raw_score = request.GET.get("min_score", "")
    min_score = min(int(raw_score), 100) if raw_score.isdecimal() and len(raw_score) < 4 else 0
    page = dedupe.duplicate_page(
        viewer=request.user,
        page=parse_positive_int(request.GET.get("page"), 1, 10**6),
        min_score=min_score,
    )
    template = "accounts/dedupe/duplicates_index.html"
    if is_htmx(request):
        template += "#results"
    return TemplateResponse(
        request,
        template,
        {"page": page, "min_score": min_score, "score_steps": (0, 25, 50, 75)},
    )


@maps_service_errors
@require_GET
def account_duplicates(request: HttpRequest, account_id: int) -> TemplateResponse:
    account = selectors.account_get(viewer=request.user, account_id=account_id)
    pairs = dedupe.account_duplicates(viewer=request.user, account=account)
    search = request.GET.get("q", "").strip()[:200]
    found: list[Account] = []
    if search:
        known = {account.pk} | {p.a_id for p in pairs} | {p.b_id for p in pairs}
        found = [
            a
            for a in selectors.account_list(viewer=request.user, search=search)[:20]
            if a.pk not in known
        ][:10]
    return TemplateResponse(
        request,
        "accounts/dedupe/account_duplicates.html",
        {
            "account": account,
            "candidates": [(p, p.other(account.pk)) for p in pairs],
            "search": search,
            "found": found,
        },
    )


@maps_service_errors
@require_GET
def account_duplicates_actions(request: HttpRequest, account_id: int) -> HttpResponse:
    """The account page's "possible duplicates" button, loaded after the page (htmx)."""
    account = selectors.account_get(viewer=request.user, account_id=account_id)
    if not is_htmx(request):
        return redirect("accounts:account_duplicates", account_id=account.pk)
    pairs = dedupe.account_duplicates(viewer=request.user, account=account)
    return TemplateResponse(
        request,
        "accounts/dedupe/_actions_button.html",
        {"account": account, "duplicate_count": len(pairs)},
    )


@dataclass
class _Row:
    name: str
    label: str
    survivor: str
    merged: str
    differs: bool
    choice: str
    errors: list[str]


def _shown(account: Account, name: str) -> str:
    if name == "owner":
        return str(account.owner)
    if name in ("phone", "fax", "postal_code"):
        return str(getattr(account, f"{name}_display"))
    field = Account._meta.get_field(name)
    value = getattr(account, name)
    if value is None or value == "":
        return ""
    if getattr(field, "choices", None):
        return str(getattr(account, f"get_{name}_display")())
    return str(value)


def _rows(
    survivor: Account, merged: Account, choices: dict[str, str], errors: dict[str, list[str]]
) -> list[_Row]:
    rows = []
    differing = set(merge.merge_differing_fields(survivor=survivor, merged=merged))
    for name in merge.MERGE_FIELDS:
        label = _("Owner") if name == "owner" else Account._meta.get_field(name).verbose_name
        rows.append(
            _Row(
                name=name,
                label=str(label).capitalize(),
                survivor=_shown(survivor, name),
                merged=_shown(merged, name),
                differs=name in differing,
                choice=choices.get(name, merge.SURVIVOR),
                errors=errors.get(name, []),
            )
        )
    return rows


def _posted_choices(request: HttpRequest) -> dict[str, str]:
    choices = {}
    for name in merge.MERGE_FIELDS:
        side = request.POST.get(f"choice_{name}")
        if side in (merge.SURVIVOR, merge.MERGED):
            choices[name] = side
    return choices


def _posted_version(request: HttpRequest, name: str) -> int | None:
    value = request.POST.get(name, "")
    return int(value) if value.isdecimal() and len(value) < 10 else None


@maps_service_errors
@require_http_methods(["GET", "POST"])
def account_merge(request: HttpRequest, account_id: int, survivor_id: int) -> HttpResponse:
    """Compare two accounts side by side and merge ``account_id`` into ``survivor_id``."""
    merged = selectors.account_get(viewer=request.user, account_id=account_id)
    survivor = selectors.account_get(viewer=request.user, account_id=survivor_id)
    if request.method == "POST":
        _require_editor(request)
    choices = merge.merge_default_choices(survivor=survivor, merged=merged)
    errors: dict[str, list[str]] = {}
    error_message = ""
    status = 200
    if request.method == "POST":
        choices |= _posted_choices(request)
        try:
            merge.account_merge(
                actor=request.user,
                survivor=survivor,
                merged=merged,
                choices=choices,
                survivor_version=_posted_version(request, "survivor_version"),
                merged_version=_posted_version(request, "merged_version"),
            )
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            error_message, errors, status = exc.message, exc.errors, 422
            if exc.status == 409:
                status = 409
        else:
            messages.success(
                request,
                _(
                    "“%(merged)s” was merged into “%(survivor)s”. You can undo it from the "
                    "history for %(days)d days."
                )
                % {"merged": merged.name, "survivor": survivor.name, "days": merge.MERGE_UNDO_DAYS},
            )
            return redirect("accounts:detail", account_id=survivor.pk)
    problem = ""
    if survivor.pk == merged.pk:
        problem = _("An account cannot be merged into itself.")
    elif merged.merged_into_id or survivor.merged_into_id:
        problem = _("One of these accounts has already been merged into another account.")
    elif merged.is_archived or survivor.is_archived:
        problem = _("One of these accounts is archived: restore it before merging.")
    context: dict[str, Any] = {
        "survivor": survivor,
        "merged": merged,
        "rows": _rows(survivor, merged, choices, errors),
        "reasons": [
            str(dedupe.REASON_LABELS[r]) for r in dedupe.pair_reasons(a=survivor, b=merged)
        ],
        "moves": merge.merge_preview_moves(merged=merged),
        "error_message": error_message,
        "non_field_errors": [
            m for f, ms in errors.items() if f not in merge.MERGE_FIELDS for m in ms
        ],
        "problem": problem,
        "undo_days": merge.MERGE_UNDO_DAYS,
    }
    return TemplateResponse(request, "accounts/dedupe/merge.html", context, status=status)


def _merge_context(record: Any) -> dict[str, Any]:
    return {
        "record": record,
        "event": merge.merge_event(record),
        "moved": merge.merge_moved_counts(record),
        "blocker": merge.merge_undo_blocker(record),
        "deadline": merge.merge_undo_deadline(record),
    }


@maps_service_errors
@require_GET
def merge_detail(request: HttpRequest, merge_id: int) -> TemplateResponse:
    record = merge.merge_record_get(viewer=request.user, merge_id=merge_id)
    return TemplateResponse(request, "accounts/dedupe/merge_detail.html", _merge_context(record))


@maps_service_errors
@require_GET
def merge_event_actions(request: HttpRequest, event_id: int) -> HttpResponse:
    """The undo button under a merge's history entry, loaded after the page (htmx)."""
    record = merge.merge_record_for_event(viewer=request.user, event_id=event_id)
    if not is_htmx(request):
        return redirect("accounts:merge_detail", merge_id=record.pk)
    return TemplateResponse(
        request, "accounts/dedupe/_merge_event_actions.html", _merge_context(record)
    )


@maps_service_errors
@require_POST
def merge_undo(request: HttpRequest, merge_id: int) -> HttpResponseRedirect:
    record = merge.merge_record_get(viewer=request.user, merge_id=merge_id)
    try:
        merge.account_merge_undo(actor=request.user, merge_record=record)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
        return redirect("accounts:merge_detail", merge_id=record.pk)
    messages.success(
        request,
        _("The merge was undone: “%(merged)s” is a separate account again.")
        % {"merged": record.merged.name},
    )
    return redirect("accounts:detail", account_id=record.survivor_id)
