"""The one error type that services raise for a rule a user broke.

Views turn it into a message next to the form (``field`` names the field when there is one);
the API turns it into the common JSON error shape with ``status``.
"""

from typing import Any


class ApplicationError(Exception):
    status: int = 400
    code: str = "invalid"

    def __init__(
        self,
        message: Any,
        *,
        field: str | None = None,
        errors: dict[str, list[str]] | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        self.errors: dict[str, list[str]] = dict(errors or {})
        if field and field not in self.errors:
            self.errors[field] = [self.message]
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class NotFound(ApplicationError):
    """The record does not exist or the viewer may not see it: the two are never told apart."""

    status = 404
    code = "not_found"


class PermissionDenied(ApplicationError):
    status = 403
    code = "forbidden"


class Conflict(ApplicationError):
    """A stale edit: somebody changed the record after the editor loaded it."""

    status = 409
    code = "conflict"
