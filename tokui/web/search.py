"""The one search box: accounts and contacts together, as the viewer may see them."""

from django.http import HttpRequest
from django.template.response import TemplateResponse

from tokui.accounts.selectors import search_everything
from tokui.core.views import is_htmx


def search(request: HttpRequest) -> TemplateResponse:
    query = request.GET.get("q", "").strip()[:200]
    accounts, contacts = search_everything(viewer=request.user, query=query, limit=20)
    template = "web/search.html#results" if is_htmx(request) else "web/search.html"
    return TemplateResponse(
        request, template, {"query": query, "accounts": accounts, "contacts": contacts}
    )
