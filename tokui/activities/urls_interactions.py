"""URLs of the activities app's interactions pages (included by tokui.activities.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
