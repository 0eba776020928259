from django.urls import URLPattern, URLResolver

from tokui.pipeline import urls_board, urls_deals, urls_referrals, urls_stages

app_name = "pipeline"
urlpatterns: list[URLPattern | URLResolver] = [
    *urls_board.urlpatterns,
    *urls_deals.urlpatterns,
    *urls_stages.urlpatterns,
    *urls_referrals.urlpatterns,
]
