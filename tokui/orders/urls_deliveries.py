"""URLs of the deliveries pages (included by tokui/orders/urls.py, names ``orders:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from tokui.orders import views_deliveries as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("orders/<int:order_id>/deliveries/new/", views.delivery_create, name="delivery_create"),
    path("deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery_detail"),
    path("deliveries/<int:delivery_id>/pdf/", views.delivery_pdf_view, name="delivery_pdf"),
    path("deliveries/<int:delivery_id>/email/", views.delivery_email, name="delivery_email"),
    path(
        "deliveries/<int:delivery_id>/delivered/",
        views.delivery_delivered,
        name="delivery_delivered",
    ),
]
