from django.urls import URLPattern, URLResolver

from tokui.orders import (
    urls_deliveries,
    urls_intake,
    urls_invoices,
    urls_monitoring,
    urls_orders,
    urls_quotes,
)

app_name = "orders"
# Order matters only where paths could overlap: specific paths before catch-alls.
urlpatterns: list[URLPattern | URLResolver] = [
    *urls_monitoring.urlpatterns,
    *urls_intake.urlpatterns,
    *urls_orders.urlpatterns,  # "quotes/<id>/order/" before the quotes' "<slug:action>/"
    *urls_quotes.urlpatterns,
    *urls_deliveries.urlpatterns,
    *urls_invoices.urlpatterns,
]
