"""URLs of the pricing app's rules pages (included by tokui/pricing/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
