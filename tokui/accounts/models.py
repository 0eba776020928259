from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tokui.accounts.constants import AccountKind, AccountTier
from tokui.core.japanese import format_phone, format_postal_code
from tokui.users.constants import ROLES_SEEING_ALL
from tokui.users.models import User


def account_scope(account_id: int) -> str:
    """The audit scope under which an account's and its contacts' history is shown."""
    return f"account:{account_id}"


class AccountQuerySet(models.QuerySet["Account"]):
    def visible_to(self, viewer: "User | AnonymousUser") -> "AccountQuerySet":
        """The one rule for who sees which account: everyone else gets a 404."""
        if not isinstance(viewer, User) or not viewer.is_active:
            return self.none()
        if viewer.role in ROLES_SEEING_ALL:
            return self
        scope = Q(owner_id=viewer.pk)
        if viewer.team_id:
            scope |= Q(owner__team_id=viewer.team_id)
        return self.filter(scope)


class Account(models.Model):
    """A customer company (or prospect, partner, contractor, competitor). Never a login."""

    name = models.CharField(_("company name"), max_length=200)
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
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    corporate_number = models.CharField(
        _("corporate number"), max_length=13, null=True, blank=True, unique=True
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

    # Derived, never typed: the folded reading for 50音順 sorting and the folded text searched.
    sort_key = models.CharField(max_length=200, db_index=True, editable=False, default="")
    search_text = models.TextField(editable=False, default="")
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
    def visible_to(self, viewer: "User | AnonymousUser") -> "ContactQuerySet":
        """A contact is visible exactly when its account is."""
        return self.filter(account__in=Account.objects.visible_to(viewer))


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
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, editable=False)

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["sort_key", "id"]

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
