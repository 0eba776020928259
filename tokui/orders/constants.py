from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class QuoteStatus(models.TextChoices):
    """Where a quote (見積書) stands. A revision supersedes the version it revises."""

    DRAFT = "draft", pgettext_lazy("quote status", "Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    APPROVED = "approved", pgettext_lazy("quote status", "Ready to send")
    SENT = "sent", pgettext_lazy("quote status", "Sent")
    ACCEPTED = "accepted", pgettext_lazy("quote status", "Accepted")
    DECLINED = "declined", pgettext_lazy("quote status", "Declined")
    SUPERSEDED = "superseded", _("Superseded by a revision")
    WITHDRAWN = "withdrawn", pgettext_lazy("quote status", "Withdrawn")


# A quote in these statuses can still be edited; afterwards only a revision changes it.
EDITABLE_QUOTE_STATUSES = frozenset({QuoteStatus.DRAFT})
# Statuses in which a quote is still "live" (not replaced, not finished).
OPEN_QUOTE_STATUSES = frozenset(
    {QuoteStatus.DRAFT, QuoteStatus.AWAITING_APPROVAL, QuoteStatus.APPROVED, QuoteStatus.SENT}
)


class DocumentLanguage(models.TextChoices):
    JA = "ja", _("Japanese")
    EN = "en", _("English")


class Honorific(models.TextChoices):
    """How the addressee is written on a document: 御中 for an organisation, 様 for a person."""

    ONCHU = "onchu", _("御中 (company or department)")
    SAMA = "sama", _("様 (named person)")
