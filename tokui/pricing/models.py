"""Key-account agreements: an account's special prices, discounts and payment terms.

Money is ``Decimal`` (14 digits, 2 after the point) in the agreement's currency; the services
refuse digits the currency cannot hold (no sen for the yen). One account has at most one
agreement valid on any day (the services refuse overlapping periods), so the price engine
reads exactly one. Closing and payment days are 1–28, or 0 for the month end (月末).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tokui.catalog.constants import Currency
from tokui.core.models import VersionedModel
from tokui.users.constants import Role

MONTH_END = 0  # closing_day / payment_day: the last day of the month (月末)


class BusinessDayRule(models.TextChoices):
    """When a payment date falls on a weekend or a Japanese holiday (土日祝)."""

    NEXT = "next", _("next business day (翌営業日)")
    PREVIOUS = "previous", _("previous business day (前営業日)")
    NONE = "none", _("no adjustment")


class Agreement(VersionedModel):
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Empty: until further notice.")
    )
    closing_day = models.PositiveSmallIntegerField(
        _("closing day"), default=MONTH_END, help_text=_("1–28, or 0 for the month end.")
    )
    payment_month_offset = models.PositiveSmallIntegerField(
        _("payment month"),
        default=1,
        help_text=_("Months after the closing: 0 this month, 1 next month (翌月) …"),
    )
    payment_day = models.PositiveSmallIntegerField(
        _("payment day"), default=MONTH_END, help_text=_("1–28, or 0 for the month end.")
    )
    applies_to_group = models.BooleanField(
        _("for the whole group"),
        default=False,
        help_text=_(
            "Also applies to the account's subsidiaries that have no agreement of their own."
        ),
    )
    business_day_rule = models.CharField(
        _("if the payment day is not a business day"),
        max_length=10,
        choices=BusinessDayRule.choices,
        default=BusinessDayRule.NEXT,
    )
    notes = models.TextField(_("notes"), blank=True)
    # The approval whose terms are in force: set, the terms change only through a new approval
    # or by someone whose own authority covers them (tokui.pricing.approvals).
    approved_by = models.ForeignKey(
        "ApprovalRequest",
        verbose_name=_("terms approved by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["account_id", "-valid_from", "id"]
        indexes = [models.Index(fields=["account", "valid_from"], name="pricing_agr_account_from")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="pricing_agreement_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(closing_day__lte=28), name="pricing_agreement_closing_day"
            ),
            models.CheckConstraint(
                condition=Q(payment_day__lte=28), name="pricing_agreement_payment_day"
            ),
            models.CheckConstraint(
                condition=Q(payment_month_offset__lte=12),
                name="pricing_agreement_payment_month",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AgreementPrice(models.Model):
    """A special price: from ``min_quantity`` units on, each costs ``unit_price``."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="prices"
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="agreement_prices",
    )
    min_quantity = models.PositiveIntegerField(_("from quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("special price")
        verbose_name_plural = _("special prices")
        ordering = ["agreement_id", "product_id", "min_quantity"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "product", "min_quantity"],
                name="pricing_agreement_price_unique_tier",
            ),
            models.CheckConstraint(
                condition=Q(min_quantity__gte=1), name="pricing_agreement_price_quantity"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="pricing_agreement_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement}: #{self.product_id} ≥{self.min_quantity}"


class AgreementDiscount(models.Model):
    """A percentage off the base price for one product or for one whole product line."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="discounts"
    )
    product = models.ForeignKey(
        "catalog.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreement_discounts",
    )
    line = models.ForeignKey(
        "catalog.ProductLine",
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreement_discounts",
    )
    percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("agreement discount")
        verbose_name_plural = _("agreement discounts")
        ordering = ["agreement_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(product__isnull=True) & Q(line__isnull=False))
                | (Q(product__isnull=False) & Q(line__isnull=True)),
                name="pricing_agreement_discount_one_target",
            ),
            models.CheckConstraint(
                condition=Q(percent__gt=0) & Q(percent__lt=100),
                name="pricing_agreement_discount_percent",
            ),
        ]

    def __str__(self) -> str:
        target = f"product #{self.product_id}" if self.product_id else f"line #{self.line_id}"
        return f"{self.agreement}: {self.percent}% {target}"


# -- discount rules --------------------------------------------------------------------------


class DiscountRuleKind(models.TextChoices):
    SEGMENT = "segment", _("segment")
    TIER = "tier", _("account tier")
    PRODUCT_LINE = "product_line", _("product line")
    VOLUME = "volume", _("volume")
    PROMOTION = "promotion", _("promotion period")


class DiscountRule(VersionedModel):
    """A percentage off the base price for every account and product the conditions select.

    The kind names the condition that defines the rule (it must be set); the others may narrow
    it. Mirrors ``tokui.pricing.engine.DiscountRule``, which decides precedence.
    """

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=DiscountRuleKind.choices)
    percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2)
    priority = models.IntegerField(
        _("priority"), default=0, help_text=_("Breaks ties between equal prices: higher wins.")
    )
    stackable = models.BooleanField(
        _("stackable"),
        default=False,
        help_text=_("Stackable rules are compounded with each other; others apply alone."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    segment = models.ForeignKey(
        "accounts.Segment",
        verbose_name=_("segment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="discount_rules",
    )
    account_tier = models.CharField(_("account tier"), max_length=20, blank=True)
    line = models.ForeignKey(
        "catalog.ProductLine",
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="discount_rules",
    )
    min_quantity = models.PositiveIntegerField(_("from quantity"), default=1)
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("discount rule")
        verbose_name_plural = _("discount rules")
        ordering = ["-active", "-priority", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gt=0) & Q(percent__lt=100),
                name="pricing_discount_rule_percent",
            ),
            models.CheckConstraint(
                condition=Q(min_quantity__gte=1), name="pricing_discount_rule_quantity"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="pricing_discount_rule_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# -- bonus and rebate programmes ---------------------------------------------------------------


class RebateStatus(models.TextChoices):
    ACTIVE = "active", _("accruing")
    SETTLED = "settled", _("settled")
    CANCELLED = "cancelled", _("cancelled")


class RebateProgramme(VersionedModel):
    """A retroactive volume bonus for one account over one period (e.g. a fiscal year).

    Purchases accrue as orders come; the highest tier whose threshold the period's purchases
    reach applies to all of them (retroactively). At the period end it is settled once, as a
    credit note.
    """

    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="rebate_programmes",
    )
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    period_start = models.DateField(_("period starts"))
    period_end = models.DateField(_("period ends"))
    status = models.CharField(
        _("status"), max_length=20, choices=RebateStatus.choices, default=RebateStatus.ACTIVE
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("rebate programme")
        verbose_name_plural = _("rebate programmes")
        ordering = ["account_id", "-period_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="pricing_rebate_period_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RebateTier(models.Model):
    """From ``threshold`` of purchases in the period, ``percent`` of all of them."""

    programme = models.ForeignKey(
        RebateProgramme, verbose_name=_("programme"), on_delete=models.CASCADE, related_name="tiers"
    )
    threshold = models.DecimalField(_("purchases from"), max_digits=16, decimal_places=2)
    percent = models.DecimalField(_("bonus (%)"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("rebate tier")
        verbose_name_plural = _("rebate tiers")
        ordering = ["programme_id", "threshold"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "threshold"], name="pricing_rebate_tier_unique"
            ),
            models.CheckConstraint(
                condition=Q(threshold__gte=0), name="pricing_rebate_tier_threshold"
            ),
            models.CheckConstraint(
                condition=Q(percent__gt=0) & Q(percent__lt=100), name="pricing_rebate_tier_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme}: ≥{self.threshold} {self.percent}%"


class RebatePurchase(models.Model):
    """One purchase counted towards a programme (an order line, an ERP feed row).

    ``source`` identifies it ("order:123"); the same source is counted once per programme, so
    feeding an order twice changes nothing. A credit (return) is a negative amount.
    """

    programme = models.ForeignKey(
        RebateProgramme,
        verbose_name=_("programme"),
        on_delete=models.CASCADE,
        related_name="purchases",
    )
    on = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    source = models.CharField(_("source"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("counted purchase")
        verbose_name_plural = _("counted purchases")
        ordering = ["programme_id", "on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "source"], name="pricing_rebate_purchase_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme}: {self.source} {self.amount}"


class CreditNote(models.Model):
    """The settlement of a programme: one per programme, numbered, never edited."""

    programme = models.OneToOneField(
        RebateProgramme,
        verbose_name=_("programme"),
        on_delete=models.PROTECT,
        related_name="credit_note",
    )
    number = models.CharField(_("number"), max_length=30, unique=True)
    purchases = models.DecimalField(_("purchases"), max_digits=16, decimal_places=2)
    percent = models.DecimalField(_("bonus (%)"), max_digits=5, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    issued_on = models.DateField(_("issued on"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-issued_on", "-id"]

    def __str__(self) -> str:
        return self.number


# -- authority and approvals (稟議) ------------------------------------------------------------


class AuthorityLimit(models.Model):
    """What someone may decide alone. A row per role, and optionally one per person, which
    overrides its role's row field by field (an empty field keeps the role's value).

    Empty on a role row: no limit of that kind for the role.
    """

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="authority_limit",
    )
    max_discount_percent = models.DecimalField(
        _("maximum discount (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    min_margin_percent = models.DecimalField(
        _("minimum margin (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    max_deal_value = models.DecimalField(
        _("maximum deal value (JPY)"), max_digits=16, decimal_places=0, null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("authority limit")
        verbose_name_plural = _("authority limits")
        ordering = ["role", "user_id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(role="") & Q(user__isnull=False))
                | (~Q(role="") & Q(user__isnull=True)),
                name="pricing_authority_role_or_user",
            ),
            models.UniqueConstraint(
                fields=["role"], condition=~Q(role=""), name="pricing_authority_one_per_role"
            ),
            models.CheckConstraint(
                condition=Q(max_discount_percent__isnull=True)
                | (Q(max_discount_percent__gte=0) & Q(max_discount_percent__lt=100)),
                name="pricing_authority_discount",
            ),
            models.CheckConstraint(
                condition=Q(min_margin_percent__isnull=True)
                | (Q(min_margin_percent__gt=-100) & Q(min_margin_percent__lt=100)),
                name="pricing_authority_margin",
            ),
            models.CheckConstraint(
                condition=Q(max_deal_value__isnull=True) | Q(max_deal_value__gte=0),
                name="pricing_authority_value",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display() if self.role else self.user}"


class ApprovalMode(models.TextChoices):
    ANY = "any", _("any one of them")
    ALL = "all", _("all of them")


class ApprovalChain(VersionedModel):
    """A configured route for one kind of request: sequential steps of named approvers.

    Without an active chain for its kind, a request goes up the reporting line (the team's
    manager, then heads of sales) to the first person with enough authority.
    """

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("for requests of kind"), max_length=40)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("approval chain")
        verbose_name_plural = _("approval chains")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(active=True), name="pricing_chain_one_active_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApprovalStep(models.Model):
    chain = models.ForeignKey(
        ApprovalChain, verbose_name=_("chain"), on_delete=models.CASCADE, related_name="steps"
    )
    position = models.PositiveSmallIntegerField(_("step"))
    mode = models.CharField(
        _("who must approve"), max_length=10, choices=ApprovalMode.choices, default=ApprovalMode.ANY
    )
    approvers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("approvers"), related_name="+"
    )

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["chain_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "position"], name="pricing_approval_step_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chain} #{self.position}"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("waiting for approval")
    RETURNED = "returned", _("sent back")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")


class ApprovalRequest(VersionedModel):
    """A decision outside its requester's authority, waiting for (or given by) others.

    ``kind`` names the handler that applies the proposal when the last step approves
    (``tokui.pricing.approvals`` keeps the registry); ``proposal`` is that handler's input,
    ``needs`` what authority it takes (discount %, margin %, deal value), ``route`` the steps
    fixed when it was submitted: ``[{"mode": "any"|"all", "approvers": [user ids]}, …]``.
    """

    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("subject"), max_length=300)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="approval_requests",
    )
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval_requests",
    )
    agreement = models.ForeignKey(
        Agreement,
        verbose_name=_("agreement"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval_requests",
    )
    subject_key = models.CharField(
        _("subject key"),
        max_length=100,
        blank=True,
        help_text=_("What the request changes (e.g. agreement:12); one open request each."),
    )
    reason = models.TextField(_("reason"), blank=True)
    proposal = models.JSONField(_("proposal"), default=dict)
    needs = models.JSONField(_("authority needed"), default=dict)
    route = models.JSONField(_("route"), default=list)
    step = models.PositiveSmallIntegerField(_("current step"), default=0)
    status = models.CharField(
        _("status"), max_length=20, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="pricing_approval_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_key"],
                condition=Q(status__in=["pending", "returned"]) & ~Q(subject_key=""),
                name="pricing_approval_one_open_per_subject",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ApprovalDecisionKind(models.TextChoices):
    SUBMIT = "submit", pgettext_lazy("approval decision", "submitted")
    APPROVE = "approve", _("approved")
    REJECT = "reject", _("rejected")
    RETURN = "return", _("sent back")
    RESUBMIT = "resubmit", _("submitted again")
    WITHDRAW = "withdraw", _("withdrew")


class ApprovalDecision(models.Model):
    """One step of a request's history: who did what, at which step, and what they said."""

    request = models.ForeignKey(
        ApprovalRequest,
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="decisions",
    )
    step = models.PositiveSmallIntegerField(_("step"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(_("decision"), max_length=20, choices=ApprovalDecisionKind.choices)
    comment = models.TextField(_("comment"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("approval decision")
        verbose_name_plural = _("approval decisions")
        ordering = ["request_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.request} {self.decision}"
