from django.urls import URLPattern, URLResolver

from tokui.pricing import urls_agreements, urls_approvals, urls_rules

app_name = "pricing"
urlpatterns: list[URLPattern | URLResolver] = [
    *urls_agreements.urlpatterns,
    *urls_rules.urlpatterns,
    *urls_approvals.urlpatterns,
]
