"""Downloads of the account and contact lists (CSV streamed, XLSX built in a temporary file).

They take the lists' own query parameters, so "Export" hands over exactly the rows on screen
(all pages of them), and nothing the user may not see.
"""

import tempfile
from typing import Any

from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from tokui.accounts import exports
from tokui.accounts.views_segments import account_filters_from_query, contact_filters_from_query
from tokui.core.views import maps_service_errors
from tokui.users.models import User


def _user(request: HttpRequest) -> User:
    # The login middleware lets no anonymous request reach these views.
    assert isinstance(request.user, User)
    return request.user


def _respond(export: exports.Export) -> HttpResponseBase:
    if export.fmt == "csv":
        response: HttpResponseBase = StreamingHttpResponse(
            export.csv_chunks(), content_type=exports.CSV_CONTENT_TYPES[export.encoding]
        )
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    else:
        # openpyxl needs a seekable file; a temporary one keeps memory flat and goes away when
        # the response is closed.
        handle: Any = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        export.write_xlsx(handle)
        handle.seek(0)
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=export.filename,
            content_type=exports.XLSX_CONTENT_TYPE,
        )
    response["Cache-Control"] = "no-store"
    return response


def _encoding(request: HttpRequest) -> str:
    encoding = request.GET.get("encoding", "utf-8").lower().replace("_", "-")
    return "cp932" if encoding in ("cp932", "shift-jis", "sjis", "windows-31j") else "utf-8"


@maps_service_errors  # type: ignore[arg-type]  # a file response is no HttpResponse
@require_GET
def account_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    filters = account_filters_from_query(request.GET)
    export = exports.export_start(
        actor=_user(request),
        target="accounts",
        fmt=fmt,
        filters=filters,
        lang=get_language(),
        encoding=_encoding(request),
    )
    return _respond(export)


@maps_service_errors  # type: ignore[arg-type]  # a file response is no HttpResponse
@require_GET
def contact_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    filters = contact_filters_from_query(request.GET)
    export = exports.export_start(
        actor=_user(request),
        target="contacts",
        fmt=fmt,
        filters=filters,
        lang=get_language(),
        encoding=_encoding(request),
    )
    return _respond(export)
