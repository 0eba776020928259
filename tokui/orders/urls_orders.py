"""URLs of the orders pages (included by tokui/orders/urls.py, names ``orders:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from tokui.orders import views_orders as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("orders/", views.order_index, name="order_index"),
    path("orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path(
        "orders/<int:order_id>/confirm/",
        views.order_action,
        {"action": "confirm"},
        name="order_confirm",
    ),
    path(
        "orders/<int:order_id>/start-fulfilment/",
        views.order_action,
        {"action": "fulfil"},
        name="order_start_fulfilment",
    ),
    path(
        "orders/<int:order_id>/cancel/",
        views.order_action,
        {"action": "cancel"},
        name="order_cancel",
    ),
    path(
        "orders/<int:order_id>/reorder/",
        views.order_action,
        {"action": "reorder"},
        name="order_reorder",
    ),
    path(
        "orders/<int:order_id>/lines/<int:line_id>/substitute/",
        views.order_line_substitute,
        name="order_line_substitute",
    ),
    path("accounts/<int:account_id>/orders/new/", views.order_create, name="order_create"),
    path("quotes/<int:quote_id>/order/", views.order_from_quote, name="order_from_quote"),
]
