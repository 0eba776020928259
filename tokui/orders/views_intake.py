"""The order import pages (/orders/import/): upload, preview (nothing written), import, and
the template file. The work is in tokui.orders.order_import; the uploaded file waits between
the preview and the import in a private temporary file named by a random token."""

import os
import re
import secrets
import tempfile
import time
from pathlib import Path

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tokui.core.exceptions import ApplicationError
from tokui.core.views import maps_service_errors
from tokui.orders import order_import as importer
from tokui.orders.orders import require_editor
from tokui.users.models import User

NAV = {"nav_section": "orders"}
TEMPLATE = "orders/intake/order_import.html"
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


class OrderImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV (UTF-8 or Shift_JIS) or XLSX, at most 2 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )


def _viewer(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _stash_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "tokui-order-imports"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _stash_path(user: User, token: str) -> Path | None:
    if not _TOKEN.match(token):
        return None
    return _stash_dir() / f"{user.pk}-{token}"


STASH_KEPT_SECONDS = 24 * 3600  # a preview not imported within a day is forgotten


def _forget_old_previews(now: float) -> None:
    for old in _stash_dir().iterdir():
        try:
            if now - old.stat().st_mtime > STASH_KEPT_SECONDS:
                old.unlink()
        except OSError:
            continue  # another request removed it first


def _stash(user: User, data: bytes) -> str:
    _forget_old_previews(time.time())
    token = secrets.token_hex(16)
    path = _stash_path(user, token)
    assert path is not None
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return token


@maps_service_errors
@require_http_methods(["GET", "POST"])
def order_import(request: HttpRequest) -> TemplateResponse:
    """Upload a file (GET: the form); POST: the preview, every row's problems, nothing written."""
    require_editor(_viewer(request))
    form = OrderImportForm(request.POST or None, request.FILES or None)
    context: dict[str, object] = {**NAV, "form": form, "max_rows": importer.MAX_ROWS}
    if request.method != "POST" or not form.is_valid():
        return TemplateResponse(
            request, TEMPLATE, context, status=422 if request.method == "POST" else 200
        )
    upload = form.cleaned_data["file"]
    if upload.size > importer.MAX_BYTES:
        form.add_error(
            "file",
            _("The file is too big: an order import takes at most %(n)d MB.")
            % {"n": importer.MAX_BYTES // (1024 * 1024)},
        )
        return TemplateResponse(request, TEMPLATE, context, status=422)
    try:
        plan = importer.order_import_preview(
            actor=_viewer(request), file=upload.file, name=upload.name or ""
        )
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        form.add_error("file", exc.message)
        return TemplateResponse(request, TEMPLATE, context, status=422)
    upload.file.seek(0)
    token = _stash(_viewer(request), upload.file.read()) if plan.ok and plan.new_orders else ""
    context |= {
        "plan": plan,
        "errors": importer.error_rows(plan.errors),
        "token": token,
        "file_name": (upload.name or "")[:200],
    }
    return TemplateResponse(request, TEMPLATE, context, status=200 if plan.ok else 422)


@maps_service_errors
@require_POST
def order_import_run(request: HttpRequest) -> HttpResponse:
    """Import the previewed file (its token); a second click finds nothing left to do."""
    viewer = _viewer(request)
    require_editor(viewer)
    path = _stash_path(viewer, request.POST.get("token", ""))
    name = request.POST.get("file_name", "")[:200]
    if path is None or not path.exists():
        messages.info(request, _("This file was already imported (or the preview expired)."))
        return redirect("orders:order_import")
    try:
        with path.open("rb") as data:
            result = importer.order_import_run(actor=viewer, file=data, name=name)
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
        return redirect("orders:order_import")
    path.unlink(missing_ok=True)
    if result.created:
        messages.success(
            request,
            ngettext("%(n)d order imported.", "%(n)d orders imported.", len(result.created))
            % {"n": len(result.created)},
        )
    if result.existing:
        messages.info(
            request,
            ngettext(
                "%(n)d order of the file was imported before: nothing new was made for it.",
                "%(n)d orders of the file were imported before: nothing new was made for them.",
                len(result.existing),
            )
            % {"n": len(result.existing)},
        )
    return redirect("orders:order_index")


@maps_service_errors
@require_GET
def order_import_template(request: HttpRequest) -> HttpResponse:
    """The template file: the columns and two example rows."""
    viewer = _viewer(request)
    require_editor(viewer)
    response = HttpResponse(
        importer.template_csv(viewer=viewer), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="order-import-template.csv"'
    return response
