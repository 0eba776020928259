from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    CLIENT = "client", _("Client")
    PARTNER = "partner", _("Partner")
    CONTRACTOR = "contractor", _("Contractor")
    COMPETITOR = "competitor", _("Competitor")


class AccountTier(models.TextChoices):
    KEY = "key", _("Key account")
    STANDARD = "standard", _("Standard")


# Fields a person edits on an account, in form order; the audit trail compares these.
ACCOUNT_EDITABLE_FIELDS = (
    "name",
    "name_kana",
    "kind",
    "tier",
    "owner",
    "industry",
    "corporate_number",
    "website",
    "phone",
    "fax",
    "postal_code",
    "prefecture",
    "city",
    "street",
    "building",
    "notes",
)

CONTACT_EDITABLE_FIELDS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "title",
    "department",
    "email",
    "phone",
    "mobile",
    "marketing_consent",
    "notes",
)

# Sort keys a list accepts, mapped to the ORM ordering they stand for.
ACCOUNT_SORTS = {
    "name": ("sort_key", "id"),
    "-name": ("-sort_key", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "kind": ("kind", "sort_key", "id"),
    "-kind": ("-kind", "sort_key", "id"),
    "owner": ("owner__username", "sort_key", "id"),
    "-owner": ("-owner__username", "sort_key", "id"),
}
CONTACT_SORTS = {
    "name": ("sort_key", "id"),
    "-name": ("-sort_key", "-id"),
    "account": ("account__sort_key", "sort_key", "id"),
    "-account": ("-account__sort_key", "sort_key", "id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}
