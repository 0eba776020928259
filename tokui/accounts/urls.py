from django.urls import path, re_path

from tokui.accounts import (
    views,
    views_dedupe,
    views_export,
    views_postal,
    views_screening,
    views_segments,
)
from tokui.accounts.imports import views as views_imports

app_name = "accounts"
urlpatterns = [
    path("accounts/", views.account_index, name="index"),
    path("accounts/new/", views.account_create, name="create"),
    path("accounts/postal-lookup/", views_postal.postal_lookup_view, name="postal_lookup"),
    path("accounts/<int:account_id>/", views.account_detail, name="detail"),
    path("accounts/<int:account_id>/edit/", views.account_edit, name="edit"),
    path("accounts/<int:account_id>/archive/", views.account_archive, name="archive"),
    path("accounts/<int:account_id>/restore/", views.account_restore, name="restore"),
    path("accounts/<int:account_id>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/", views.contact_index, name="contact_index"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:contact_id>/archive/", views.contact_archive, name="contact_archive"),
    path(
        "accounts/<int:account_id>/screening/new/",
        views_screening.screening_new,
        name="screening_new",
    ),
    path("screening/", views_screening.screening_index, name="screening_index"),
    path(
        "screening/checks/<int:check_id>/",
        views_screening.screening_check_detail,
        name="screening_check",
    ),
    path(
        "screening/evidence/<int:evidence_id>/",
        views_screening.screening_evidence,
        name="screening_evidence",
    ),
    # Exports and segments (issue 3)
    re_path(r"^accounts/export\.(?P<fmt>csv|xlsx)$", views_export.account_export, name="export"),
    re_path(
        r"^contacts/export\.(?P<fmt>csv|xlsx)$",
        views_export.contact_export,
        name="contact_export",
    ),
    path("accounts/segments/", views_segments.segment_index, name="segment_index"),
    path("accounts/segments/new/", views_segments.segment_create, name="segment_create"),
    path("accounts/segments/save/", views_segments.segment_save, name="segment_save"),
    path(
        "accounts/segments/<int:segment_id>/edit/",
        views_segments.segment_edit,
        name="segment_edit",
    ),
    path(
        "accounts/segments/<int:segment_id>/delete/",
        views_segments.segment_delete,
        name="segment_delete",
    ),
    # Duplicates and merges (issue 3)
    path("accounts/duplicates/", views_dedupe.duplicates_index, name="duplicates"),
    path(
        "accounts/<int:account_id>/duplicates/",
        views_dedupe.account_duplicates,
        name="account_duplicates",
    ),
    path(
        "accounts/<int:account_id>/duplicates/actions/",
        views_dedupe.account_duplicates_actions,
        name="account_duplicates_actions",
    ),
    path(
        "accounts/<int:account_id>/merge-into/<int:survivor_id>/",
        views_dedupe.account_merge,
        name="merge",
    ),
    path("accounts/merges/<int:merge_id>/", views_dedupe.merge_detail, name="merge_detail"),
    path("accounts/merges/<int:merge_id>/undo/", views_dedupe.merge_undo, name="merge_undo"),
    path(
        "accounts/history/<int:event_id>/merge/",
        views_dedupe.merge_event_actions,
        name="merge_event",
    ),
    # Imports (issue 3)
    path("imports/", views_imports.import_index, name="import_index"),
    path("imports/new/", views_imports.import_new, name="import_new"),
    path("imports/<uuid:job_id>/", views_imports.import_detail, name="import_detail"),
    path("imports/<uuid:job_id>/mapping/", views_imports.import_mapping, name="import_mapping"),
    path("imports/<uuid:job_id>/resume/", views_imports.import_resume, name="import_resume"),
    path("imports/<uuid:job_id>/report.csv", views_imports.import_report, name="import_report"),
]
