"""Postal code → prefecture and city, from the offline postal data, for the address form."""

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from tokui.core.exceptions import ApplicationError
from tokui.core.japanese import format_postal_code, normalize_postal_code, postal_lookup


@require_GET
def postal_lookup_view(request: HttpRequest) -> HttpResponse:
    """An htmx fragment: a hint under the postal code, and the address fields filled in."""
    raw = request.GET.get("postal_code", "")[:20]
    try:
        code = normalize_postal_code(raw)
    except ApplicationError:
        code = ""
    found = postal_lookup(code) if code else None
    return TemplateResponse(
        request,
        "accounts/_postal_lookup.html",
        {
            "code": format_postal_code(code) if code else "",
            "typed": raw.strip(),
            "prefecture": found[0] if found else "",
            "city": found[1] if found else "",
            "found": bool(found),
        },
    )
