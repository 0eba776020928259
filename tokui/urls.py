from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from tokui.api.v1 import api as api_v1
from tokui.web import views as web_views

urlpatterns = [
    path("login/", web_views.login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", web_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", api_v1.urls),
    path("", include("tokui.accounts.urls")),
    path("", include("tokui.activities.urls")),
    path("", include("tokui.catalog.urls")),
    path("", include("tokui.pricing.urls")),
    path("", include("tokui.orders.urls")),
    path("", include("tokui.pipeline.urls")),
    path("", include("tokui.web.urls")),
]
