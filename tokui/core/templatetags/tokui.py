"""Template helpers shared by every app's pages."""

from typing import Any
from urllib.parse import urlencode

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from tokui.core.models import AuditEvent
from tokui.core.registry import audit_action_labels

register = template.Library()


def _label_and_choices(target_type: str, field_name: str) -> tuple[str, dict[str, str]]:
    try:
        model = apps.get_model(target_type)
        field = model._meta.get_field(field_name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return field_name.replace("_", " "), {}
    choices = {str(k): str(v) for k, v in (getattr(field, "choices", None) or [])}
    return str(getattr(field, "verbose_name", field_name)), choices


def _shown(value: Any, choices: dict[str, str]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):  # e.g. tags
        return ", ".join(choices.get(str(v), str(v)) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return choices.get(str(value), str(value))


@register.simple_tag
def audit_changes(event: AuditEvent) -> list[dict[str, str]]:
    """The event's field changes as rows of (field label, old value, new value) for people."""
    rows = []
    for name, pair in (event.changes or {}).items():
        old, new = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        choices: dict[str, str] = {}
        # Changes that are not a model field of their own (a flag, attached files).
        extra = {"archived": _("archived"), "evidence": _("Evidence")}
        if name in extra:
            label = extra[name]
        else:
            label, choices = _label_and_choices(event.target_type, name)
        rows.append(
            {"field": capfirst(label), "old": _shown(old, choices), "new": _shown(new, choices)}
        )
    return rows


@register.simple_tag
def audit_action(event: AuditEvent) -> str:
    # Apps register labels for their own actions (tokui.core.registry.audit_action_labels).
    return audit_action_labels.get(event.action) or event.action


@register.simple_tag(takes_context=True)
def query_with(context: Any, **changes: Any) -> str:
    """The current query string with some parameters replaced (for sort and page links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    if "page" not in changes:
        params.pop("page", None)
    return "?" + urlencode(sorted(params.lists()), doseq=True)
