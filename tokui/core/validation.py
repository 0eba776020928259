"""Checks shared by every service that takes text from people or programs."""

import functools
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import models
from django.utils.translation import gettext as _

from tokui.core.exceptions import ApplicationError

_HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^<>]*>")


class ErrorCollector:
    """Collects every field error of one submission so a person sees them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(str(message))

    def run(self, field: str, func: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Call a normaliser; an ApplicationError it raises becomes an error on ``field``."""
        try:
            return func(*args, **kwargs)
        except ApplicationError as exc:
            self.add(field, exc.message)
            return None

    def raise_if_any(self) -> None:
        if self.errors:
            first = next(iter(self.errors.values()))[0]
            message = first if len(self.errors) == 1 else _("Please correct the errors below.")
            raise ApplicationError(message, errors=self.errors, status=422, code="invalid")


def check_text_fields(
    model: type[models.Model],
    data: dict[str, Any],
    errors: ErrorCollector,
    *,
    raw_limits: dict[str, int] | None = None,
) -> None:
    """Length limits and control characters for every text field in ``data``.

    Guards the API and scripts the way a form's max_length guards a page, so an over-long or
    NUL-carrying value is a clear error, never a database exception. ``raw_limits`` bounds
    fields that are normalised before they are stored (a typed ``〒100-0001`` is longer than the
    stored ``1000001``).
    """
    for name, value in data.items():
        if not isinstance(value, str):
            continue
        field = model._meta.get_field(name)
        if "\x00" in value:
            errors.add(name, _("Null characters are not allowed."))
            continue
        limit = (raw_limits or {}).get(name) or getattr(field, "max_length", None)
        if limit and len(value) > limit:
            errors.add(
                name,
                _("%(field)s is too long: at most %(limit)d characters (it has %(n)d).")
                % {
                    "field": str(getattr(field, "verbose_name", name)).capitalize(),
                    "limit": limit,
                    "n": len(value),
                },
            )


def check_plain_text(field: str, value: str, errors: ErrorCollector) -> None:
    """Notes are plain text. HTML would be shown as code, so it is refused with a clear reason."""
    if value and _HTML_TAG.search(value):
        errors.add(
            field,
            _("Notes are plain text: please remove the HTML tags (such as <b> or <script>)."),
        )


_EMAIL_VALIDATOR = EmailValidator()


@functools.lru_cache(maxsize=4096)
def _is_email(value: str) -> bool:
    """Django's e-mail check, remembered: an import checks each address twice (the contact's
    fields, then matching), and the check is a noticeable part of a row's cost."""
    try:
        _EMAIL_VALIDATOR(value)
    except ValidationError:
        return False
    return True


def normalize_email(value: str, errors: ErrorCollector, field: str = "email") -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if not _is_email(value):
        errors.add(field, _("“%(value)s” is not a valid e-mail address.") % {"value": value[:60]})
        return value
    local, _sep, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalize_url(value: str, errors: ErrorCollector, field: str = "website") -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if "://" not in value:
        value = "https://" + value
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        errors.add(field, _("“%(value)s” is not a valid web address.") % {"value": value[:60]})
    return value
