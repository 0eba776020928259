"""URLs of the activities app's calendar pages (included by tokui.activities.urls).

Pages live under /appointments/ and /tasks/ (behind sign-in); only the feed is under /calendar/,
which the sign-in middleware lets through: its token is the key.
"""

from django.urls import URLPattern, path

from tokui.activities import views_calendar as views

urlpatterns: list[URLPattern] = [
    path("appointments/", views.calendar_week, name="calendar"),
    path("appointments/agenda/", views.calendar_agenda, name="calendar_agenda"),
    path("appointments/new/", views.appointment_create, name="appointment_create"),
    path("appointments/conflicts/", views.appointment_conflicts, name="appointment_conflicts"),
    path(
        "appointments/subscription/",
        views.calendar_subscription,
        name="calendar_subscription",
    ),
    path(
        "appointments/subscription/reset/",
        views.calendar_subscription_reset,
        name="calendar_subscription_reset",
    ),
    path(
        "appointments/<int:appointment_id>/",
        views.appointment_detail,
        name="appointment_detail",
    ),
    path(
        "appointments/<int:appointment_id>/edit/",
        views.appointment_edit,
        name="appointment_edit",
    ),
    path(
        "appointments/<int:appointment_id>/cancel/",
        views.appointment_cancel,
        name="appointment_cancel",
    ),
    path(
        "appointments/<int:appointment_id>/held/",
        views.appointment_held,
        name="appointment_held",
    ),
    path("calendar/<str:token>.ics", views.calendar_feed_ics, name="calendar_feed"),
    path("tasks/", views.task_index, name="task_index"),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/<int:task_id>/edit/", views.task_edit, name="task_edit"),
    path("tasks/<int:task_id>/toggle/", views.task_toggle, name="task_toggle"),
    path("tasks/<int:task_id>/cancel/", views.task_cancel, name="task_cancel"),
]
