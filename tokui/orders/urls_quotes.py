"""URLs of the quote pages (included by tokui/orders/urls.py, names ``orders:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from tokui.orders import views_quotes as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("quotes/", views.quote_index, name="quote_index"),
    path("quotes/<int:quote_id>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:quote_id>/edit/", views.quote_edit, name="quote_edit"),
    path("quotes/<int:quote_id>/pdf/", views.quote_pdf_view, name="quote_pdf"),
    path("quotes/<int:quote_id>/email/", views.quote_email, name="quote_email"),
    path("quotes/<int:quote_id>/<slug:action>/", views.quote_action, name="quote_action"),
    path("accounts/<int:account_id>/quotes/new/", views.quote_create, name="quote_create"),
    path("settings/company/", views.company_settings, name="company_settings"),
]
