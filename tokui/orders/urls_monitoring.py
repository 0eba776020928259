"""URLs of the monitoring pages (included by tokui/orders/urls.py, names ``orders:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from tokui.orders import views_monitoring as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("orders/late/", views.late_orders, name="late_orders"),
    path("orders/otif/", views.otif_report, name="otif"),
]
