"""The shell around the domain pages: sign-in, dashboard, language switch."""

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods
from django.views.i18n import set_language as django_set_language

from tokui.accounts.screening import screening_attention_summary, screening_flags_attach
from tokui.accounts.selectors import account_counts, account_recently_updated
from tokui.activities.myday import my_day
from tokui.orders.views_monitoring import dashboard_late_panel
from tokui.users.services import login_attempt_record, login_throttle_wait_seconds


def _client_ip(request: HttpRequest) -> str | None:
    # Behind a proxy, configure it to set REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR") or None


@login_not_required
@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = AuthenticationForm(request, data=request.POST or None)
    status = 200
    if request.method == "POST":
        username = request.POST.get("username", "")[:150]
        ip = _client_ip(request)
        wait = login_throttle_wait_seconds(username=username, ip_address=ip)
        if wait:
            minutes = max(1, -(-wait // 60))
            form = AuthenticationForm(request)
            form.initial["username"] = username
            throttled = ngettext(
                "Too many failed sign-ins. Please wait %(n)d minute and try again.",
                "Too many failed sign-ins. Please wait %(n)d minutes and try again.",
                minutes,
            ) % {"n": minutes}
            return TemplateResponse(
                request,
                "web/login.html",
                {"form": form, "next": next_url, "throttled": throttled},
                status=429,
            )
        if form.is_valid():
            login_attempt_record(username=username, ip_address=ip, succeeded=True)
            auth_login(request, form.get_user())
            return redirect(next_url or settings.LOGIN_REDIRECT_URL)
        login_attempt_record(username=username, ip_address=ip, succeeded=False)
        status = 401
    return TemplateResponse(
        request, "web/login.html", {"form": form, "next": next_url}, status=status
    )


@login_not_required
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, reachable from the sign-in page too."""
    return django_set_language(request)


def dashboard(request: HttpRequest) -> TemplateResponse:
    recent = list(account_recently_updated(viewer=request.user))
    screening_flags_attach(recent)
    needs_screening, needs_screening_count = screening_attention_summary(viewer=request.user)
    return TemplateResponse(
        request,
        "web/dashboard.html",
        {
            "counts": account_counts(viewer=request.user),
            "recent": recent,
            "needs_screening": needs_screening,
            "needs_screening_count": needs_screening_count,
            "greeting": _("Welcome, %(name)s") % {"name": request.user},
            "myday": my_day(viewer=request.user),
            "late_panel": dashboard_late_panel(request.user),
        },
    )
