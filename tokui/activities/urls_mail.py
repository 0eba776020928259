"""URLs of the activities app's mail pages (included by tokui.activities.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
