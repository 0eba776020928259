from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AccountKind(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    CLIENT = "client", _("Client")
    PARTNER = "partner", _("Partner")
    CONTRACTOR = "contractor", _("Contractor")
    COMPETITOR = "competitor", _("Competitor")


class AccountTier(models.TextChoices):
    KEY = "key", _("Key account")
    STANDARD = "standard", _("Standard")


class LegalFormPosition(models.TextChoices):
    BEFORE = "before", _("Before the name (前株)")
    AFTER = "after", _("After the name (後株)")


class EntityType(models.TextChoices):
    CORPORATION = "corporation", _("Corporation")
    SOLE_PROPRIETOR = "sole_proprietor", _("Sole proprietor")


class AccountRank(models.TextChoices):
    S = "S", "S"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class ScreeningKind(models.TextChoices):
    ANTISOCIAL_COMPANY = "antisocial_company", _("Anti-social forces check: company")
    ANTISOCIAL_REPRESENTATIVE = (
        "antisocial_representative",
        _("Anti-social forces check: representative"),
    )
    CREDIT = "credit", _("Credit check")
    REGISTRY = "registry", _("Registry check")


class ScreeningResult(models.TextChoices):
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    PENDING = "pending", _("Pending")


class ImportTarget(models.TextChoices):
    ACCOUNTS = "accounts", _("Accounts")
    CONTACTS = "contacts", _("Contacts")


class ImportMode(models.TextChoices):
    CREATE = "create", _("Create new records only")
    UPDATE = "update", _("Update existing records")
    SKIP = "skip", _("Skip existing records")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Finished")
    FAILED = "failed", pgettext_lazy("import status", "Failed")


class ImportOutcome(models.TextChoices):
    # Contexts: "Updated" alone is a date column elsewhere, "Created" too.
    CREATED = "created", pgettext_lazy("import rows", "Created")
    UPDATED = "updated", pgettext_lazy("import rows", "Updated")
    MERGED = "merged", pgettext_lazy("import rows", "Merged")
    SKIPPED = "skipped", pgettext_lazy("import rows", "Skipped")
    REJECTED = "rejected", pgettext_lazy("import rows", "Rejected")


# Fields a person edits on an account, in form order; the audit trail compares these.
ACCOUNT_EDITABLE_FIELDS = (
    "name",
    "legal_form",
    "legal_form_position",
    "name_kana",
    "kind",
    "tier",
    "rank",
    "owner",
    "industry",
    "employees",
    "entity_type",
    "corporate_number",
    "invoice_registration_number",
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
