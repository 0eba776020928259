"""PDF documents rendered by WeasyPrint from HTML templates (meeting briefs; later quotes and
invoices).

Templates are complete HTML pages with their own ``@page`` CSS (A4, running header, page
numbers: see ``activities/brief/brief_pdf.html``) and ``font-family: "Noto Sans CJK JP"`` for
Japanese. Nothing is fetched from outside while rendering: only ``data:`` URLs are loaded, so
a link or image in user text can never make the server request another machine.
"""

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from tokui.core.exceptions import ApplicationError

PDF_CONTENT_TYPE = "application/pdf"


def _local_only(url: str, *args: Any, **kwargs: Any) -> Any:
    if url.startswith("data:"):
        from weasyprint.urls import default_url_fetcher

        return default_url_fetcher(url, *args, **kwargs)
    raise ValueError(f"External resources are not loaded: {url[:80]}")


def html_to_pdf(html: str) -> bytes:
    """The PDF of a complete HTML document."""
    from weasyprint import HTML  # imported lazily: it loads Pango and fonts

    # WeasyPrint logs every rendering step at INFO; a server log wants only its warnings.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

    try:
        return HTML(string=html, url_fetcher=_local_only, base_url=None).write_pdf()
    except Exception as exc:  # a rendering failure must be a clear error, not a 500
        raise ApplicationError(_("The PDF could not be made."), status=400) from exc


def render_pdf(template: str, context: dict[str, Any], request: HttpRequest | None = None) -> bytes:
    return html_to_pdf(render_to_string(template, context, request=request))


def pdf_response(data: bytes, *, filename: str, inline: bool = True) -> HttpResponse:
    """An HTTP answer carrying a PDF; ``filename`` may hold Japanese (RFC 6266 encoding)."""
    from urllib.parse import quote

    response = HttpResponse(data, content_type=PDF_CONTENT_TYPE)
    disposition = "inline" if inline else "attachment"
    ascii_name = filename.encode("ascii", "ignore").decode() or "document.pdf"
    response["Content-Disposition"] = (
        f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response["Cache-Control"] = "private, no-store"
    return response
