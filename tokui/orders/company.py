"""Our own company as printed on quotes (and later invoices): one ``CompanyProfile`` row.

Administrators change it; everyone reads it (every quote prints it). The invoice registration
number (適格請求書発行事業者登録番号) is checked like an account's: ``T`` + 13 digits with a valid
check digit.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tokui.core.audit import audit_record, check_version, diff, snapshot
from tokui.core.exceptions import ApplicationError, PermissionDenied
from tokui.core.japanese import normalize_invoice_number, normalize_phone, normalize_postal_code
from tokui.core.validation import ErrorCollector, check_text_fields, normalize_email
from tokui.orders.models import CompanyProfile
from tokui.users.constants import Role
from tokui.users.models import User

COMPANY_FIELDS = (
    "name",
    "name_en",
    "registration_number",
    "postal_code",
    "address",
    "address_en",
    "phone",
    "fax",
    "email",
    "bank_account",
    "quote_validity_days",
)
_RAW_LIMITS = {"postal_code": 10, "phone": 30, "fax": 30, "registration_number": 20}


def company_profile_get() -> CompanyProfile:
    """Our company's profile; an unsaved blank one until an administrator fills it in."""
    return CompanyProfile.objects.order_by("pk").first() or CompanyProfile(name="")


def company_may_edit(user: Any) -> bool:
    return isinstance(user, User) and user.is_active and user.role == Role.ADMIN


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(COMPANY_FIELDS)
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}, status=422
        )
    errors = ErrorCollector()
    check_text_fields(CompanyProfile, data, errors, raw_limits=_RAW_LIMITS)
    errors.raise_if_any()
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    if "name" in clean and not clean["name"]:
        errors.add("name", _("Enter the company name."))
    if "registration_number" in clean:
        try:
            clean["registration_number"], _warning = normalize_invoice_number(
                clean["registration_number"], corporate_number=None, sole_proprietor=False
            )
        except ApplicationError as exc:
            errors.add("registration_number", exc.message)
    if "postal_code" in clean:
        clean["postal_code"] = errors.run(
            "postal_code", normalize_postal_code, clean["postal_code"]
        )
    for name in ("phone", "fax"):
        if name in clean:
            clean[name] = errors.run(name, normalize_phone, clean[name], field=name) or ""
    if "email" in clean:
        clean["email"] = normalize_email(clean["email"], errors)
    if "quote_validity_days" in clean:
        days = clean["quote_validity_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
            errors.add("quote_validity_days", _("Enter a number of days from 1 to 365."))
    errors.raise_if_any()
    return clean


@transaction.atomic
def company_profile_update(
    *, actor: User, data: dict[str, Any], version: int | None = None
) -> CompanyProfile:
    """Change our company's details (administrators only); the first save creates the row."""
    if not company_may_edit(actor):
        raise PermissionDenied(_("Only administrators change the company's details."))
    profile = CompanyProfile.objects.select_for_update().order_by("pk").first()
    clean = _clean(data)
    if profile is None:
        if not clean.get("name"):
            raise ApplicationError(_("Enter the company name."), field="name", status=422)
        profile = CompanyProfile(**clean)
        profile.save()
        audit_record(
            actor=actor,
            action="orders.company.updated",
            target=profile,
            changes=diff({}, snapshot(profile, clean.keys())),
        )
        return profile
    check_version(record=profile, version=version)
    before = snapshot(profile, clean.keys())
    for key, value in clean.items():
        setattr(profile, key, value)
    changes = diff(before, snapshot(profile, clean.keys()))
    if not changes:
        return profile
    profile.version += 1
    profile.updated_at = timezone.now()
    profile.save(update_fields=[*clean.keys(), "version", "updated_at"])
    audit_record(actor=actor, action="orders.company.updated", target=profile, changes=changes)
    return profile
