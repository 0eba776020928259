from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tokui.users.constants import Role


class TokuiAdminSite(admin.AdminSite):
    """Django admin, for administrators only (not for every ``is_staff`` user)."""

    site_header = _("Tokui administration")
    site_title = _("Tokui administration")
    index_title = _("Administration")
    site_url = "/"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and getattr(user, "role", None) == Role.ADMIN)


class TokuiAdminConfig(AdminConfig):
    default_site = "tokui.web.admin_site.TokuiAdminSite"
