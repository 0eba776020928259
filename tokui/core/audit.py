"""Recording and reading the audit trail."""

import datetime
import decimal
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.core.exceptions import Conflict
from tokui.core.models import AuditEvent


def _display(value: Any) -> Any:
    """A JSON-safe, human-readable form of a field value as it stood at the time."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    return str(value)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Readable values of ``fields`` on ``instance``: take one before and one after a change."""
    result: dict[str, Any] = {}
    for name in fields:
        # Choice fields keep their stored code; labels are translated when shown.
        result[name] = _display(getattr(instance, name))
    return result


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields whose value changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    changes: dict[str, list[Any]] | None = None,
    scope: str = "",
    note: str = "",
) -> AuditEvent:
    """Write one audit event. Call inside the service's transaction, after the write."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:300],
        scope=scope,
        changes=changes or {},
        note=note,
    )


def audit_for_scope(*, scope: str, limit: int = 200) -> models.QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(scope=scope)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


def audit_for_target(*, target: models.Model, limit: int = 200) -> models.QuerySet[AuditEvent]:
    """One record's own events, newest first (a deal's or a quote's history): the events are
    in their account's scope, the record is their target."""
    return (
        AuditEvent.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk))
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


def check_version(*, record: Any, version: int | None) -> None:
    """Refuse a stale edit: the form or client loaded an older ``version`` than the one stored.

    The message names who changed the record last and when, from the audit trail. ``None``
    (a caller that did not send a version) is not checked.
    """
    if version is None or version == record.version:
        return
    last = (
        AuditEvent.objects.filter(target_type=record._meta.label_lower, target_id=str(record.pk))
        .select_related("actor")
        .first()
    )
    who = str(last.actor) if last and last.actor else _("someone else")
    when = timezone.localtime(last.at).strftime("%Y-%m-%d %H:%M") if last else ""
    raise Conflict(
        _(
            "%(who)s changed this record (%(when)s) while you were editing it. Your changes were "
            "not saved: reload to see the current values, then make your change again."
        )
        % {"who": who, "when": when}
    )
