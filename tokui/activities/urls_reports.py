"""URLs of the activities app's reports pages (included by tokui.activities.urls)."""

from django.urls import URLPattern, path

from tokui.activities import views_reports as views

urlpatterns: list[URLPattern] = [
    path("daily-report/", views.my_daily_report, name="daily_report"),
    path("daily-reports/team/", views.team_reports, name="daily_report_team"),
    path("daily-reports/rollups/", views.rollups, name="daily_report_rollups"),
    path(
        "daily-reports/<int:report_id>/comments/",
        views.report_comment,
        name="daily_report_comment",
    ),
    path("daily-reports/<int:report_id>/read/", views.report_mark_read, name="daily_report_read"),
    # After the two above: a day is any string here, and "comments" or "read" must not be one.
    path(
        "daily-reports/<int:user_id>/<str:day>/",
        views.report_detail,
        name="daily_report_detail",
    ),
    path(
        "appointments/<int:appointment_id>/brief/",
        views.appointment_brief,
        name="appointment_brief",
    ),
    path(
        "appointments/<int:appointment_id>/brief.pdf",
        views.appointment_brief_pdf,
        name="appointment_brief_pdf",
    ),
]
