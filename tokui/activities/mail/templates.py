"""E-mail templates: who may manage them, their placeholders, and rendering them for a contact.

Placeholders are ``{name}`` with a name from ``PLACEHOLDERS``. Nothing else is evaluated (no
attribute access, no format specs): an unknown ``{name}`` is a clear error naming it, both when
a template is saved and when a mail is composed. A lone brace is kept as typed.

``{honorific_name}`` follows the template's language: Japanese ``山田 様``; English ``Taro Smith``
for a name written in Latin letters (Tokui keeps no gender, so it never guesses Mr or Ms) and
``山田 様`` for a name written in Japanese (there is no romanised name to use).
"""

import re
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tokui.accounts.models import Contact
from tokui.activities.models import EmailTemplate
from tokui.core.audit import audit_record, diff, snapshot
from tokui.core.exceptions import ApplicationError, NotFound, PermissionDenied
from tokui.core.validation import ErrorCollector, check_text_fields
from tokui.users.constants import Role
from tokui.users.models import User

PLACEHOLDERS: dict[str, Any] = {
    "contact_name": gettext_lazy("the contact's full name (山田 太郎)"),
    "family_name": gettext_lazy("the contact's family name (山田)"),
    "given_name": gettext_lazy("the contact's given name (太郎)"),
    "honorific_name": gettext_lazy("the name with an honorific (山田 様)"),
    "department": gettext_lazy("the contact's department"),
    "title": gettext_lazy("the contact's title"),
    "account_name": gettext_lazy("the company's name"),
    "sender_name": gettext_lazy("your name"),
    "sender_email": gettext_lazy("your e-mail address"),
}
_PLACEHOLDER = re.compile(r"\{\s*([^{}\s]{1,60})\s*\}")
_TEMPLATE_FIELDS = ("name", "language", "subject", "body")
MAX_TEMPLATE_BODY = 20_000
LANGUAGES = ("ja", "en")


def email_template_may_manage(user: User) -> bool:
    """Administrators and heads of sales keep the company's templates."""
    return user.is_active and user.role in (Role.ADMIN, Role.HEAD)


def unknown_placeholders(*texts: str) -> list[str]:
    found: list[str] = []
    for text in texts:
        for name in _PLACEHOLDER.findall(text or ""):
            if name not in PLACEHOLDERS and name not in found:
                found.append(name)
    return found


def _unknown_message(names: list[str]) -> str:
    return _("Unknown placeholder %(names)s. You can use: %(known)s.") % {
        "names": ", ".join("{" + n + "}" for n in names),
        "known": ", ".join("{" + n + "}" for n in PLACEHOLDERS),
    }


def check_placeholders(field: str, text: str, errors: ErrorCollector) -> None:
    names = unknown_placeholders(text)
    if names:
        errors.add(field, _unknown_message(names))


def honorific_name(contact: Contact, language: str) -> str:
    family, given = contact.family_name.strip(), contact.given_name.strip()
    if language == "en" and family.isascii():
        return " ".join(p for p in (given, family) if p)
    return f"{family} 様"


def placeholder_values(*, contact: Contact, sender: User, language: str) -> dict[str, str]:
    return {
        "contact_name": contact.full_name,
        "family_name": contact.family_name,
        "given_name": contact.given_name,
        "honorific_name": honorific_name(contact, language),
        "department": contact.department,
        "title": contact.title,
        "account_name": contact.account.name,
        "sender_name": str(sender),
        "sender_email": sender.email,
    }


def render_placeholders(text: str, values: dict[str, str], *, field: str) -> str:
    """Fill ``{name}`` placeholders; an unknown one raises an ApplicationError on ``field``."""
    names = unknown_placeholders(text)
    if names:
        raise ApplicationError(_unknown_message(names), field=field, status=422)
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text or "")


# --- reads ------------------------------------------------------------------------------------


def email_template_list(*, viewer: User, language: str | None = None) -> QuerySet[EmailTemplate]:
    """Every template: they are the company's, shared by all who may send mail."""
    qs = EmailTemplate.objects.select_related("created_by").order_by("name")
    if not viewer.is_active:
        return qs.none()
    if language:
        qs = qs.filter(language=language)
    return qs


def email_template_get(*, viewer: User, template_id: int) -> EmailTemplate:
    found = email_template_list(viewer=viewer).filter(pk=template_id).first()
    if found is None:
        raise NotFound(_("No such e-mail template."))
    return found


# --- writes -----------------------------------------------------------------------------------


def _clean(data: dict[str, Any], *, current: EmailTemplate | None) -> dict[str, Any]:
    unknown = set(data) - set(_TEMPLATE_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    errors = ErrorCollector()
    check_text_fields(EmailTemplate, {k: v for k, v in data.items() if k != "body"}, errors)
    clean = {k: (v.strip() if isinstance(v, str) and k != "body" else v) for k, v in data.items()}
    if "name" in clean:
        if not clean["name"]:
            errors.add("name", _("Enter a name."))
        else:
            taken = EmailTemplate.objects.filter(name=clean["name"])
            if current is not None:
                taken = taken.exclude(pk=current.pk)
            if taken.exists():
                errors.add("name", _("Another template has this name."))
    if "language" in clean and clean["language"] not in LANGUAGES:
        errors.add("language", _("Choose Japanese or English."))
    if "subject" in clean:
        if not clean["subject"]:
            errors.add("subject", _("Enter a subject."))
        elif "\n" in clean["subject"] or "\r" in clean["subject"]:
            errors.add("subject", _("A subject is one line: remove the line breaks."))
        check_placeholders("subject", clean["subject"], errors)
    if "body" in clean:
        body = (clean["body"] or "").replace("\r\n", "\n")
        clean["body"] = body
        if not body.strip():
            errors.add("body", _("Enter the text."))
        elif len(body) > MAX_TEMPLATE_BODY:
            errors.add(
                "body",
                _("The text is too long: at most %(limit)d characters (it has %(n)d).")
                % {"limit": MAX_TEMPLATE_BODY, "n": len(body)},
            )
        elif "\x00" in body:
            errors.add("body", _("Null characters are not allowed."))
        check_placeholders("body", body, errors)
    errors.raise_if_any()
    return clean


def _require_manager(actor: User) -> None:
    if not email_template_may_manage(actor):
        raise PermissionDenied(_("Only administrators and heads of sales manage e-mail templates."))


@transaction.atomic
def email_template_create(*, actor: User, data: dict[str, Any]) -> EmailTemplate:
    _require_manager(actor)
    clean = _clean(data, current=None)
    for name in ("name", "subject", "body"):
        if not clean.get(name):
            raise ApplicationError(_("Please correct the errors below."), field=name, status=422)
    template = EmailTemplate.objects.create(created_by=actor, **clean)
    audit_record(
        actor=actor,
        action="activities.email_template.created",
        target=template,
        changes=diff({}, snapshot(template, _TEMPLATE_FIELDS)),
    )
    return template


@transaction.atomic
def email_template_update(
    *, actor: User, template: EmailTemplate, data: dict[str, Any], updated_at: str | None = None
) -> EmailTemplate:
    """Change a template. ``updated_at`` (ISO text the editor loaded) refuses a stale edit."""
    _require_manager(actor)
    locked = EmailTemplate.objects.select_for_update().filter(pk=template.pk).first()
    if locked is None:
        raise NotFound(_("No such e-mail template."))
    if updated_at and updated_at != locked.updated_at.isoformat():
        raise ApplicationError(
            _(
                "Someone changed this template while you were editing it. Your changes were "
                "not saved: reload to see the current text, then make your change again."
            ),
            status=409,
            code="conflict",
        )
    clean = _clean(data, current=locked)
    before = snapshot(locked, clean.keys())
    for key, value in clean.items():
        setattr(locked, key, value)
    changes = diff(before, snapshot(locked, clean.keys()))
    if not changes:
        return locked
    locked.updated_at = timezone.now()
    locked.save(update_fields=[*clean.keys(), "updated_at"])
    audit_record(
        actor=actor, action="activities.email_template.updated", target=locked, changes=changes
    )
    return locked


@transaction.atomic
def email_template_delete(*, actor: User, template: EmailTemplate) -> None:
    """Delete a template. Mails sent with it keep their text: it was copied when sent."""
    _require_manager(actor)
    locked = EmailTemplate.objects.select_for_update().filter(pk=template.pk).first()
    if locked is None:
        raise NotFound(_("No such e-mail template."))
    audit_record(
        actor=actor,
        action="activities.email_template.deleted",
        target=locked,
        changes={"name": [locked.name, None]},
    )
    locked.delete()
