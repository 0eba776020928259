"""URLs of the invoices pages (included by tokui/orders/urls.py, names ``orders:<name>``)."""

from django.urls import URLPattern, URLResolver, path

from tokui.orders import views_invoices as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("invoices/", views.invoice_index, name="invoice_index"),
    path("invoices/<int:invoice_id>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:invoice_id>/pdf/", views.invoice_pdf_view, name="invoice_pdf"),
    path("invoices/<int:invoice_id>/email/", views.invoice_email, name="invoice_email"),
    path("invoices/<int:invoice_id>/payment/", views.invoice_payment, name="invoice_payment"),
    path(
        "invoices/<int:invoice_id>/correction/",
        views.invoice_correction,
        name="invoice_correction",
    ),
    path(
        "invoices/<int:invoice_id>/credit-note/",
        views.invoice_credit_note,
        name="invoice_credit_note",
    ),
    path("orders/<int:order_id>/invoice/", views.invoice_issue_order, name="invoice_issue_order"),
    path(
        "accounts/<int:account_id>/invoices/new/",
        views.invoice_issue_period,
        name="invoice_issue_period",
    ),
]
