"""URLs of the activities app's reports pages (included by tokui.activities.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
