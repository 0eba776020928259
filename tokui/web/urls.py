from django.urls import path

from tokui.web import search, views

app_name = "web"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("search/", search.search, name="search"),
]
