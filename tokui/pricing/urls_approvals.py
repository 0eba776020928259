"""URLs of the pricing app's approvals pages (included by tokui/pricing/urls.py)."""

from django.urls import URLPattern, path

from tokui.pricing import views_approvals as views

urlpatterns: list[URLPattern] = [
    path("pricing/approvals/", views.approval_index, name="approval_index"),
    path("pricing/approvals/<int:request_id>/", views.approval_detail, name="approval_detail"),
    path("pricing/approvals/chains/", views.chain_index, name="chain_index"),
    path("pricing/approvals/chains/new/", views.chain_form, name="chain_create"),
    path("pricing/approvals/chains/<int:chain_id>/", views.chain_form, name="chain_edit"),
    path("pricing/authority/", views.authority_index, name="authority_index"),
    path(
        "pricing/authority/overrides/<int:limit_id>/",
        views.authority_override_edit,
        name="authority_override_edit",
    ),
    path(
        "pricing/authority/overrides/<int:limit_id>/delete/",
        views.authority_override_delete,
        name="authority_override_delete",
    ),
    path("notifications/", views.notification_index, name="notification_index"),
    path(
        "notifications/<int:notification_id>/open/",
        views.notification_open,
        name="notification_open",
    ),
    path("notifications/read-all/", views.notification_read_all, name="notification_read_all"),
]
