from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from tokui.users.models import ApiToken, LoginAttempt, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Tokui"), {"fields": ("display_name", "role", "team")}),
    )


class TeamAdminForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ("name", "manager")

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        # Refuse a reporting line that loops back to this team (A's manager in B, B's in A).
        # A manager sitting in their own team ends the line; that is not a loop.
        manager, team_id = cleaned.get("manager"), self.instance.pk
        seen: set[int] = {team_id} if team_id else set()
        while manager is not None and team_id is not None and manager.team_id is not None:
            current = manager.team_id
            if current == team_id and len(seen) > 1:
                raise forms.ValidationError(
                    _("This manager's reporting line leads back to this team: choose another.")
                )
            if current in seen:
                break
            seen.add(current)
            upper = Team.objects.filter(pk=current).select_related("manager").first()
            manager = upper.manager if upper and upper.manager_id else None
            if manager is not None and manager.team_id == current:
                break
        return cleaned


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamAdminForm
    search_fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")


@admin.register(LoginAttempt)
class LoginAttemptAdmin(admin.ModelAdmin):
    list_display = ("username", "ip_address", "succeeded", "at")
    list_filter = ("succeeded",)
