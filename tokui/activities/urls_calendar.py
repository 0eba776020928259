"""URLs of the activities app's calendar pages (included by tokui.activities.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
