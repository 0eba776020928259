"""URLs of the activities app's interactions pages (included by tokui.activities.urls)."""

from django.urls import URLPattern, path

from tokui.activities import views_interactions as views

urlpatterns: list[URLPattern] = [
    path(
        "accounts/<int:account_id>/timeline/",
        views.account_timeline_view,
        name="account_timeline",
    ),
    path("accounts/<int:account_id>/log-call/", views.call_log, name="call_log"),
    path(
        "accounts/<int:account_id>/interactions/new/",
        views.interaction_new,
        name="interaction_new",
    ),
    path("interactions/", views.interaction_index, name="interaction_index"),
    path("interactions/preview/", views.markdown_preview, name="markdown_preview"),
    path(
        "interactions/<int:interaction_id>/",
        views.interaction_detail,
        name="interaction_detail",
    ),
    path(
        "interactions/<int:interaction_id>/edit/",
        views.interaction_edit,
        name="interaction_edit",
    ),
    path(
        "interactions/<int:interaction_id>/delete/",
        views.interaction_delete,
        name="interaction_delete",
    ),
    path(
        "interactions/files/<int:attachment_id>/",
        views.attachment_download,
        name="interaction_attachment",
    ),
]
