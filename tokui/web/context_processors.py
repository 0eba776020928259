from typing import Any

from django.http import HttpRequest
from django.urls import Resolver404, resolve

from tokui.users.constants import Role

APPROVAL_PAGES = ("approval", "authority", "chain", "notification")


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Which section of the navigation is current, and what the signed-in user may reach."""
    section = ""
    try:
        match = resolve(request.path_info)
        section = match.namespace or match.url_name or ""
        if match.namespace == "accounts" and (match.url_name or "").startswith("contact"):
            section = "contacts"
        if match.namespace == "web" and match.url_name != "dashboard":
            section = match.url_name or ""
        if match.namespace == "pricing":
            # Terms and prices sit with the catalog; approvals and notifications have their own.
            name = match.url_name or ""
            section = "approvals" if name.startswith(APPROVAL_PAGES) else "catalog"
    except Resolver404:
        pass
    user = getattr(request, "user", None)
    return {
        "nav_section": section,
        "nav_is_admin": bool(
            user and user.is_authenticated and user.is_staff and user.role == Role.ADMIN
        ),
    }
