"""Helpers every page uses: htmx detection and turning service errors into HTTP answers."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from tokui.core.exceptions import NotFound, PermissionDenied


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def maps_service_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """NotFound becomes a 404 page and PermissionDenied a 403 page, with the service's words."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from exc

    return wrapper


def query_flag(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name, "") in {"1", "true", "on", "yes"}


def form_status(form: Any) -> int:
    """422 for a submitted form with errors (so tests and scripts see the refusal), else 200."""
    return 422 if form.is_bound and form.errors else 200
