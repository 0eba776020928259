"""Deals (商談) through the work cycle, stages with playbooks, needs and objections, referrals.

Stages are business settings (ARCHITECTURE rule 6): an administrator renames, reorders, adds
and retires them; a stage is never deleted while deals use it. Each stage's playbook is a list
of steps; a *required* step must be met before a deal moves past the stage (``services``).
The stage and the likelihood (確度 A/B/C) are separate: the board's weighted totals use the
likelihood.

Money is ``Decimal`` in the deal's currency; a deal's lines are all in that currency.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from tokui.accounts.models import Account, Contact
from tokui.catalog.constants import Currency
from tokui.catalog.models import Product, ProductLine
from tokui.core.models import VersionedModel
from tokui.pipeline.constants import (
    DealSource,
    Likelihood,
    LostReason,
    Requirement,
    RewardKind,
    RewardStatus,
    RewardTrigger,
    StageKind,
)


def deal_scope(deal_id: int) -> str:
    """The audit scope of a deal's own history (its events also go to the account's)."""
    return f"pipeline:deal:{deal_id}"


class Stage(VersionedModel):
    key = models.SlugField(_("key"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_ja = models.CharField(_("name (Japanese)"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(
        _("kind"), max_length=10, choices=StageKind.choices, default=StageKind.OPEN
    )
    active = models.BooleanField(_("in use"), default=True)
    description = models.TextField(_("what happens in this stage"), blank=True)
    description_ja = models.TextField(_("what happens in this stage (Japanese)"), blank=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the reader's language (Japanese when one is given)."""
        return self.name_ja if _reads_japanese() and self.name_ja else self.name

    @property
    def description_label(self) -> str:
        return (
            self.description_ja if _reads_japanese() and self.description_ja else self.description
        )


def _reads_japanese() -> bool:
    return (get_language() or "en").split("-")[0] == "ja"


class PlaybookStep(models.Model):
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="steps"
    )
    position = models.PositiveSmallIntegerField(_("order"))
    text = models.CharField(_("step"), max_length=200)
    text_ja = models.CharField(_("step (Japanese)"), max_length=200, blank=True)
    requirement = models.CharField(
        _("checked by"), max_length=20, choices=Requirement.choices, default=Requirement.MANUAL
    )
    required = models.BooleanField(
        _("required to move on"),
        default=True,
        help_text=_("A deal cannot leave the stage until this step is met."),
    )

    class Meta:
        verbose_name = _("playbook step")
        verbose_name_plural = _("playbook steps")
        ordering = ["stage", "position", "pk"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        language = (get_language() or "en").split("-")[0]
        return self.text_ja if language == "ja" and self.text_ja else self.text


class Deal(VersionedModel):
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="deals"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    title = models.CharField(pgettext_lazy("deal", "title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="deals",
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    # The sum of the lines when there are lines; otherwise the owner's estimate.
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2, default=0)
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=DealSource.choices, default=DealSource.OTHER
    )
    likelihood = models.CharField(
        _("likelihood (確度)"), max_length=1, choices=Likelihood.choices, default=Likelihood.C
    )
    description = models.TextField(_("description"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    lost_reason = models.CharField(
        _("reason lost"), max_length=20, choices=LostReason.choices, blank=True
    )
    lost_note = models.TextField(_("what happened"), blank=True)
    lost_to = models.ForeignKey(
        Account,
        verbose_name=_("competitor who won"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals_won_against_us",
    )
    handed_over_at = models.DateTimeField(_("handed over"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["expected_close", "pk"]
        indexes = [
            models.Index(fields=["stage", "expected_close"], name="deal_stage_close"),
            models.Index(fields=["owner", "stage"], name="deal_owner_stage"),
            models.Index(fields=["account", "-created_at"], name="deal_account_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="deal_value_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title


class DealLine(models.Model):
    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deal_lines",
    )
    # A snapshot, so the deal reads the same after the product changes or goes away.
    sku = models.CharField(_("code"), max_length=50, blank=True)
    description = models.CharField(_("description"), max_length=300)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    priced_on = models.DateField(_("priced on"))
    explanation = models.TextField(_("how the price was found"), blank=True)

    class Meta:
        verbose_name = _("deal line")
        verbose_name_plural = _("deal lines")
        ordering = ["deal", "position"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "position"], name="deal_line_position"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="deal_line_quantity"),
        ]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity}"


class DealStageChange(models.Model):
    """Every stage a deal passed through, for the deal's history and time-in-stage figures."""

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage, verbose_name=_("from"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(
        Stage, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["deal", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"


class DealStepDone(models.Model):
    """A manual playbook step ticked on a deal."""

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="steps_done"
    )
    step = models.ForeignKey(
        PlaybookStep, verbose_name=_("step"), on_delete=models.CASCADE, related_name="+"
    )
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    done_at = models.DateTimeField(_("done"), default=timezone.now)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("step done")
        verbose_name_plural = _("steps done")
        constraints = [
            models.UniqueConstraint(fields=["deal", "step"], name="deal_step_once"),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.step_id}"


class DealNeed(models.Model):
    """A need the customer expressed (ニーズ), optionally tied to a product line."""

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="needs"
    )
    text = models.TextField(_("need"))
    line = models.ForeignKey(
        ProductLine,
        verbose_name=_("product line"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    important = models.BooleanField(_("decisive"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["deal", "created_at", "pk"]

    def __str__(self) -> str:
        return self.text[:80]


class DealObjection(models.Model):
    """An objection the customer raised, and how it was answered (反論処理)."""

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="objections"
    )
    text = models.TextField(_("objection"))
    response = models.TextField(_("our answer"), blank=True)
    resolved = models.BooleanField(_("resolved"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["deal", "created_at", "pk"]

    def __str__(self) -> str:
        return self.text[:80]


class Referral(VersionedModel):
    """Who referred a new account (and, optionally, a particular deal) to us (紹介)."""

    account = models.ForeignKey(
        Account,
        verbose_name=_("referred account"),
        on_delete=models.PROTECT,
        related_name="referrals_received",
    )
    deal = models.OneToOneField(
        Deal,
        verbose_name=_("referred deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referral",
    )
    referrer = models.ForeignKey(
        Account,
        verbose_name=_("referred by"),
        on_delete=models.PROTECT,
        related_name="referrals_given",
    )
    referrer_contact = models.ForeignKey(
        Contact,
        verbose_name=_("person who referred"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals_given",
    )
    referred_on = models.DateField(_("referred on"), default=timezone.localdate)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-referred_on", "-pk"]
        constraints = [
            # One "who brought this account to us" per account; deals may add their own.
            models.UniqueConstraint(
                fields=["account"], condition=Q(deal=None), name="referral_one_per_account"
            ),
            models.CheckConstraint(
                condition=~Q(account=models.F("referrer")), name="referral_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referrer} → {self.account}"


class ReferralRewardRule(VersionedModel):
    """What a referrer gets, and when (e.g. ¥30,000 when the referred account's first order is
    paid). Applied automatically by the services; every reward is audited."""

    name = models.CharField(_("name"), max_length=200)
    trigger = models.CharField(_("when"), max_length=30, choices=RewardTrigger.choices)
    kind = models.CharField(_("reward"), max_length=20, choices=RewardKind.choices)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    percent = models.DecimalField(
        _("percent"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    points = models.PositiveIntegerField(_("points"), null=True, blank=True)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("referral reward rule")
        verbose_name_plural = _("referral reward rules")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class ReferralReward(models.Model):
    referral = models.ForeignKey(
        Referral, verbose_name=_("referral"), on_delete=models.PROTECT, related_name="rewards"
    )
    rule = models.ForeignKey(
        ReferralRewardRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="+"
    )
    # What triggered it ("deal:42", "order:7"): with the rule, a reward is granted once.
    source = models.CharField(_("because of"), max_length=100)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    points = models.PositiveIntegerField(_("points"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=RewardStatus.choices, default=RewardStatus.GRANTED
    )
    granted_at = models.DateTimeField(_("granted"), default=timezone.now)

    class Meta:
        verbose_name = _("referral reward")
        verbose_name_plural = _("referral rewards")
        ordering = ["-granted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "rule"], name="referral_reward_once"),
        ]

    def __str__(self) -> str:
        value = f"{self.points} pt" if self.points else f"{self.amount} {self.currency}"
        return f"{self.rule} — {self.referral}: {value}"
