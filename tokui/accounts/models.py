import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tokui.accounts.constants import (
    AccountKind,
    AccountRank,
    AccountTier,
    EntityType,
    ImportMode,
    ImportOutcome,
    ImportStatus,
    ImportTarget,
    LegalFormPosition,
    ScreeningKind,
    ScreeningResult,
)
from tokui.core.japanese import format_phone, format_postal_code
from tokui.users.constants import ROLES_SEEING_ALL
from tokui.users.models import User


def account_scope(account_id: int) -> str:
    """The audit scope under which an account's and its contacts' history is shown."""
    return f"account:{account_id}"


class AccountQuerySet(models.QuerySet["Account"]):
    def visible_to(
        self, viewer: "User | AnonymousUser", *, for_count: bool = False
    ) -> "AccountQuerySet":
        """The one rule for who sees which account: everyone else gets a 404.

        ``for_count`` states the same rule in the shape that counts fast. Joined to the owner
        per row (the default), SQLite walks the index a list is sorted by and stops after a
        page; as "owner among these users" it counts from the owner index without reading a
        row, but would sort every visible account to show a page.
        """
        if not isinstance(viewer, User) or not viewer.is_active:
            return self.none()
        if sees_every_account(viewer):
            return self
        if for_count:
            return self.filter(owner_id__in=_owners_visible_to(viewer))
        scope = Q(owner_id=viewer.pk)
        if viewer.team_id:
            scope |= Q(owner__team_id=viewer.team_id)
        return self.filter(scope)


def sees_every_account(viewer: "User | AnonymousUser") -> bool:
    """Whether ``visible_to`` lets ``viewer`` see every account (lists may then skip the
    visibility condition altogether)."""
    return isinstance(viewer, User) and viewer.is_active and viewer.role in ROLES_SEEING_ALL


def _owners_visible_to(viewer: User) -> "models.QuerySet[User, Any]":
    """The users whose accounts ``viewer`` sees (themself and their team), as a subquery."""
    scope = Q(pk=viewer.pk)
    if viewer.team_id:
        scope |= Q(team_id=viewer.team_id)
    return User.objects.filter(scope).values("pk")


class Account(models.Model):
    """A customer company (or prospect, partner, contractor, competitor). Never a login."""

    name = models.CharField(_("company name"), max_length=200)
    legal_form = models.CharField(_("legal form"), max_length=40, blank=True)
    legal_form_position = models.CharField(
        _("legal form position"), max_length=10, choices=LegalFormPosition.choices, blank=True
    )
    name_kana = models.CharField(_("kana reading"), max_length=200, blank=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=AccountKind.choices, default=AccountKind.PROSPECT
    )
    tier = models.CharField(
        _("tier"), max_length=20, choices=AccountTier.choices, default=AccountTier.STANDARD
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_accounts",
    )
    rank = models.CharField(_("rank"), max_length=1, choices=AccountRank.choices, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    entity_type = models.CharField(
        _("entity type"),
        max_length=20,
        choices=EntityType.choices,
        default=EntityType.CORPORATION,
    )
    corporate_number = models.CharField(
        _("corporate number"), max_length=13, null=True, blank=True, unique=True
    )
    invoice_registration_number = models.CharField(
        _("invoice registration number"), max_length=14, blank=True
    )
    tags: "models.ManyToManyField[Tag, Any]" = models.ManyToManyField(
        "Tag", verbose_name=_("tags"), blank=True, related_name="+"
    )
    website = models.URLField(_("website"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    fax = models.CharField(_("fax"), max_length=20, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=7, blank=True)
    prefecture = models.CharField(_("prefecture"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    building = models.CharField(_("building"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), max_length=10000, blank=True)

    # Derived, never typed: the folded reading for 50音順 sorting, the folded text searched, and
    # the keys that find the same company written differently (see core.japanese).
    sort_key = models.CharField(max_length=200, db_index=True, editable=False, default="")
    search_text = models.TextField(editable=False, default="")
    # Two-character pieces of search_text: SQLite's trigram index cannot find "山田" alone.
    search_bigrams = models.TextField(editable=False, default="")
    match_key = models.CharField(max_length=200, db_index=True, editable=False, default="")
    reading_key = models.CharField(max_length=200, db_index=True, editable=False, default="")
    web_domain = models.CharField(max_length=200, db_index=True, editable=False, default="")
    # The account group (企業グループ): the parent company. Terms agreed with a parent may cover
    # its whole group (pricing.Agreement.applies_to_group); the services refuse loops.
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subsidiaries",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_from",
        editable=False,
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, editable=False)

    objects = AccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["sort_key", "id"]
        indexes = [
            models.Index(fields=["owner", "archived_at"], name="account_owner_idx"),
            models.Index(fields=["updated_at"], name="account_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)

    @property
    def fax_display(self) -> str:
        return format_phone(self.fax)

    @property
    def postal_code_display(self) -> str:
        return format_postal_code(self.postal_code)

    @property
    def address_display(self) -> str:
        return " ".join(p for p in (self.prefecture, self.city, self.street, self.building) if p)


class ContactQuerySet(models.QuerySet["Contact"]):
    def visible_to(
        self, viewer: "User | AnonymousUser", *, for_count: bool = False
    ) -> "ContactQuerySet":
        """A contact is visible exactly when its account is (``for_count``: see Account's)."""
        if not isinstance(viewer, User) or not viewer.is_active:
            return self.none()
        if viewer.role in ROLES_SEEING_ALL:
            return self  # every account is visible: no need to ask which
        if for_count:
            return self.filter(account__owner_id__in=_owners_visible_to(viewer))
        # The same rule as Account.visible_to, through the contact's account: joined per row
        # rather than an IN list of every visible account, which a large book pays on each query.
        scope = Q(account__owner_id=viewer.pk)
        if viewer.team_id:
            scope |= Q(account__owner__team_id=viewer.team_id)
        return self.filter(scope)


class Contact(models.Model):
    """A person at an account."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="contacts"
    )
    family_name = models.CharField(_("family name"), max_length=100)
    given_name = models.CharField(_("given name"), max_length=100, blank=True)
    family_name_kana = models.CharField(_("family name (kana)"), max_length=100, blank=True)
    given_name_kana = models.CharField(_("given name (kana)"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    marketing_consent = models.BooleanField(_("consents to marketing"), default=False)
    notes = models.TextField(_("notes"), max_length=10000, blank=True)

    sort_key = models.CharField(max_length=200, db_index=True, editable=False, default="")
    search_text = models.TextField(editable=False, default="")
    # Two-character pieces of search_text: SQLite's trigram index cannot find "山田" alone.
    search_bigrams = models.TextField(editable=False, default="")
    match_key = models.CharField(max_length=200, db_index=True, editable=False, default="")
    reading_key = models.CharField(max_length=200, db_index=True, editable=False, default="")
    email_key = models.CharField(max_length=254, db_index=True, editable=False, default="")
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, editable=False)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["sort_key", "id"]
        indexes = [
            # Counting a team's live contacts reads this index only, never the rows.
            models.Index(fields=["account", "archived_at"], name="contact_account_live_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        # Japanese order (family name first) with a space, which reads well in both languages.
        return " ".join(p for p in (self.family_name, self.given_name) if p)

    @property
    def full_name_kana(self) -> str:
        return " ".join(p for p in (self.family_name_kana, self.given_name_kana) if p)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)

    @property
    def mobile_display(self) -> str:
        return format_phone(self.mobile)


class Tag(models.Model):
    """A free label on accounts (e.g. 展示会2026, 海外展開), used in segments."""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Segment(models.Model):
    """A saved filter over accounts (industry, region, size, tier, rank, tags, …).

    ``filters`` holds the same parameters the account list takes; lists and exports apply it
    on top of what the viewer may see, so sharing a segment never widens anyone's view.
    """

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="segments",
    )
    shared = models.BooleanField(_("shared with everyone"), default=False)
    filters = models.JSONField(_("filters"), default=dict)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ScreeningCheck(models.Model):
    """One risk-screening check of a counterparty (与信・反社チェック), with its evidence.

    The latest check of each kind decides the account's flag: missing, failed or past its
    re-check date.
    """

    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="screening_checks",
    )
    kind = models.CharField(_("check"), max_length=40, choices=ScreeningKind.choices)
    result = models.CharField(
        _("result"), max_length=20, choices=ScreeningResult.choices, default=ScreeningResult.PENDING
    )
    subject = models.CharField(
        _("checked subject"),
        max_length=200,
        blank=True,
        help_text=_("e.g. the representative's name"),
    )
    credit_limit = models.DecimalField(
        _("credit limit"), max_digits=15, decimal_places=0, null=True, blank=True
    )
    source = models.CharField(_("source"), max_length=200, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("checked"), default=timezone.now)
    recheck_due = models.DateField(_("re-check by"), null=True, blank=True)
    notes = models.TextField(_("notes"), max_length=5000, blank=True)

    class Meta:
        verbose_name = _("screening check")
        verbose_name_plural = _("screening checks")
        ordering = ["-checked_at", "-id"]
        indexes = [
            models.Index(fields=["account", "kind", "-checked_at"], name="screening_latest_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_result_display()}"


class ScreeningEvidence(models.Model):
    screening_check = models.ForeignKey(
        ScreeningCheck,
        verbose_name=_("screening check"),
        on_delete=models.CASCADE,
        related_name="evidence",
    )
    file = models.FileField(_("file"), upload_to="screening/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")

    def __str__(self) -> str:
        return self.original_name


class ImportJob(models.Model):
    """One import of a file. Its id makes a re-run of the same file safe: rows up to
    ``processed_rows`` were committed and are not read again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    target = models.CharField(_("import"), max_length=20, choices=ImportTarget.choices)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    file_format = models.CharField(_("format"), max_length=10)  # csv, xlsx, vcard
    encoding = models.CharField(_("encoding"), max_length=20, default="auto")
    preset = models.CharField(_("preset"), max_length=20, blank=True)
    mode = models.CharField(
        _("existing records"), max_length=10, choices=ImportMode.choices, default=ImportMode.CREATE
    )
    mapping = models.JSONField(_("column mapping"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    error = models.TextField(_("error"), blank=True)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    merged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"


class ImportRowResult(models.Model):
    """What happened to one row that was not simply created (created rows are only counted)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_results")
    row_number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=ImportOutcome.choices)
    message = models.TextField(blank=True)
    record_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["row_number"]
        indexes = [models.Index(fields=["job", "row_number"], name="import_row_idx")]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.outcome}"


class MergeRecord(models.Model):
    """A merge of one account into another, with what it takes to undo it within 30 days."""

    survivor = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    merged = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    survivor_before = models.JSONField(default=dict)
    moved = models.JSONField(default=dict)  # {"app_label.model": [ids], ...}
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"merge {self.merged_id} → {self.survivor_id}"
