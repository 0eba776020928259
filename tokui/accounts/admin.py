from django.contrib import admin

from tokui.accounts.models import Account, Contact


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    """Read-mostly: edits belong in the app, where services validate and audit them."""

    list_display = ("name", "name_kana", "kind", "tier", "owner", "corporate_number", "archived_at")
    list_filter = ("kind", "tier", "archived_at")
    search_fields = ("name", "name_kana", "corporate_number")
    readonly_fields = [f.name for f in Account._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("family_name", "given_name", "account", "email", "archived_at")
    search_fields = ("family_name", "given_name", "email")
    readonly_fields = [f.name for f in Contact._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
