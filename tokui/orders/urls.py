from django.urls import URLPattern, URLResolver

from tokui.orders import urls_quotes

app_name = "orders"
urlpatterns: list[URLPattern | URLResolver] = [*urls_quotes.urlpatterns]
