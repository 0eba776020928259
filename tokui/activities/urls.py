"""Pages of the activities app, one module per area (each owns its own URL list)."""

from tokui.activities import urls_calendar, urls_interactions, urls_mail, urls_reports

app_name = "activities"

urlpatterns = [
    *urls_interactions.urlpatterns,
    *urls_calendar.urlpatterns,
    *urls_mail.urlpatterns,
    *urls_reports.urlpatterns,
]
