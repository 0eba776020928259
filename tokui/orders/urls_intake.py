"""URLs of the intake pages (included by tokui/orders/urls.py, names ``orders:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from tokui.orders import views_intake as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("orders/import/", views.order_import, name="order_import"),
    path("orders/import/run/", views.order_import_run, name="order_import_run"),
    path("orders/import/template.csv", views.order_import_template, name="order_import_template"),
]
