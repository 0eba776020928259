"""URLs of the pricing app's agreements pages (included by tokui/pricing/urls.py)."""

from django.urls import URLPattern, path

from tokui.pricing import views_agreements as views

urlpatterns: list[URLPattern] = [
    path("agreements/", views.agreement_index, name="agreement_index"),
    path("agreements/<int:agreement_id>/", views.agreement_detail, name="agreement_detail"),
    path("agreements/<int:agreement_id>/edit/", views.agreement_edit, name="agreement_edit"),
    path("agreements/<int:agreement_id>/terms/", views.agreement_terms, name="agreement_terms"),
    path(
        "accounts/<int:account_id>/agreements/new/",
        views.agreement_create,
        name="agreement_create",
    ),
]
