"""The catalog in the admin site: read-only, since every write goes through the services."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tokui.catalog.models import CompetitorProduct, PriceList, PriceListItem, Product, ProductLine


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProductLine)
class ProductLineAdmin(_ReadOnly):
    list_display = ("name", "name_kana", "sort_order")


@admin.register(Product)
class ProductAdmin(_ReadOnly):
    list_display = ("sku", "name", "line", "list_price", "currency", "status")
    list_filter = ("line", "status", "tax_category")
    search_fields = ("sku", "name", "name_kana")


@admin.register(CompetitorProduct)
class CompetitorProductAdmin(_ReadOnly):
    list_display = ("name", "competitor", "price", "currency")


@admin.register(PriceList)
class PriceListAdmin(_ReadOnly):
    list_display = ("name", "currency", "valid_from", "valid_to", "is_default")


@admin.register(PriceListItem)
class PriceListItemAdmin(_ReadOnly):
    list_display = ("price_list", "product", "min_quantity", "unit_price")
