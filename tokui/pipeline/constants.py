from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class StageKind(models.TextChoices):
    OPEN = "open", pgettext_lazy("stage kind", "Open")
    WON = "won", pgettext_lazy("stage kind", "Won")
    LOST = "lost", pgettext_lazy("stage kind", "Lost")


class Likelihood(models.TextChoices):
    """確度: the owner's judgement of the chance to win, kept apart from the stage."""

    A = "A", _("A — very likely (80%)")
    B = "B", _("B — even chance (50%)")
    C = "C", _("C — unlikely so far (20%)")


# The weights of the forecast ("weighted totals"): what a yen of each likelihood counts for.
LIKELIHOOD_WEIGHTS = {Likelihood.A: 80, Likelihood.B: 50, Likelihood.C: 20}


class DealSource(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    CAMPAIGN = "campaign", _("Campaign")
    EXHIBITION = "exhibition", _("Exhibition or fair")
    INBOUND = "inbound", _("Inbound enquiry")
    REFERRAL = "referral", _("Referral")
    EXISTING = "existing", _("Existing customer")
    OTHER = "other", pgettext_lazy("deal source", "Other")


class LostReason(models.TextChoices):
    PRICE = "price", _("Price")
    COMPETITOR = "competitor", _("Chose a competitor")
    PRODUCT_FIT = "product_fit", _("Product did not fit the need")
    TIMING = "timing", _("Timing or postponed")
    BUDGET = "budget", _("No budget")
    NO_DECISION = "no_decision", _("No decision made")
    RELATIONSHIP = "relationship", _("Relationship")
    OTHER = "other", pgettext_lazy("lost reason", "Other")


class Requirement(models.TextChoices):
    """What a playbook step checks before a deal may leave its stage.

    ``manual`` is a checklist item somebody ticks; the others are read from the deal itself.
    """

    MANUAL = "manual", _("Ticked by hand")
    CONTACT = "contact", _("A contact person is set")
    VALUE = "value", _("The deal has a value")
    CLOSE_DATE = "close_date", _("An expected close date is set")
    PRODUCTS = "products", _("Products are added")
    APPOINTMENT = "appointment", _("An appointment is booked")
    MEETING = "meeting", _("A meeting is logged")
    NEEDS = "needs", _("Needs are recorded")
    OBJECTIONS = "objections", _("Objections are logged")
    QUOTE = "quote", _("A quote is issued")


class RewardTrigger(models.TextChoices):
    FIRST_DEAL_WON = "first_deal_won", _("the referred account's first deal is won")
    FIRST_ORDER_PAID = "first_order_paid", _("the referred account's first order is paid")


class RewardKind(models.TextChoices):
    BONUS = "bonus", _("Bonus (amount)")
    PERCENT = "percent", _("Bonus (a percentage of the first deal or order)")
    POINTS = "points", _("Loyalty points")


class RewardStatus(models.TextChoices):
    GRANTED = "granted", _("Granted")
    PAID = "paid", pgettext_lazy("reward status", "Paid")
    CANCELLED = "cancelled", pgettext_lazy("reward status", "Cancelled")
