"""Every interaction with a customer, appointments, tasks, mailboxes and daily reports."""

import secrets
import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tokui.accounts.constants import AccountTier
from tokui.accounts.models import Account, Contact
from tokui.activities.constants import (
    AppointmentKind,
    AppointmentStatus,
    CallOutcome,
    Direction,
    InteractionKind,
    InteractionSource,
    MeetingMode,
    ReportStatus,
    TaskPriority,
    TaskStatus,
)


class Regarding(models.Model):
    """A generic "regarding" link to a deal, order, contract or case (apps of later issues)."""

    regarding_type = models.ForeignKey(
        ContentType,
        verbose_name=_("regarding (type)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    regarding_id = models.PositiveBigIntegerField(_("regarding (id)"), null=True, blank=True)
    regarding = GenericForeignKey("regarding_type", "regarding_id")

    class Meta:
        abstract = True


class Mailbox(models.Model):
    """An IMAP mailbox that ``tokui mail fetch`` reads (a person's or a shared one)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    address = models.EmailField(_("address"), max_length=254)
    host = models.CharField(_("IMAP host"), max_length=255)
    port = models.PositiveIntegerField(_("IMAP port"), default=993)
    use_ssl = models.BooleanField(_("TLS"), default=True)
    username = models.CharField(_("user name"), max_length=255)
    password = models.CharField(_("password"), max_length=255, blank=True)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    shared = models.BooleanField(
        _("shared mailbox"),
        default=False,
        help_text=_("First mail from an unknown sender creates an “answer” task."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner or assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mailboxes",
    )
    active = models.BooleanField(_("active"), default=True)
    uid_validity = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.PositiveBigIntegerField(default=0, editable=False)
    last_fetched_at = models.DateTimeField(_("last fetched"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class Appointment(Regarding):
    """A phone appointment or a meeting on the calendar, with a stable iCalendar UID."""

    kind = models.CharField(
        _("kind"), max_length=20, choices=AppointmentKind.choices, default=AppointmentKind.MEETING
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="appointments"
    )
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("their participants"), blank=True, related_name="appointments"
    )
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("organizer"),
        on_delete=models.PROTECT,
        related_name="appointments_organized",
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("our participants"),
        blank=True,
        related_name="appointments",
    )
    title = models.CharField(_("title"), max_length=200)
    agenda = models.TextField(_("agenda"), blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    mode = models.CharField(_("where"), max_length=20, choices=MeetingMode.choices, blank=True)
    place = models.CharField(_("place"), max_length=300, blank=True)
    meeting_url = models.URLField(_("meeting link"), max_length=500, blank=True)
    phone_number = models.CharField(_("number to call"), max_length=20, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.SCHEDULED,
    )
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # iCalendar: the UID never changes; SEQUENCE grows with every change a calendar must see.
    uid = models.CharField(max_length=255, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["organizer", "starts_at"], name="appointment_organizer_idx"),
            models.Index(fields=["account", "starts_at"], name="appointment_account_idx"),
            models.Index(fields=["starts_at"], name="appointment_starts_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="appointment_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.uid:
            self.uid = f"{uuid.uuid4()}@tokui"
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Interaction(Regarding):
    """One touch with a customer, whatever the channel: the timeline is made of these."""

    kind = models.CharField(_("kind"), max_length=20, choices=InteractionKind.choices)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, blank=True
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="interactions"
    )
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("their people"), blank=True, related_name="interactions"
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("our people"),
        blank=True,
        related_name="interactions_joined",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions_logged",
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"), blank=True)
    source = models.CharField(
        _("source"),
        max_length=20,
        choices=InteractionSource.choices,
        default=InteractionSource.MANUAL,
    )
    # Calls
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=CallOutcome.choices, blank=True)
    phone_number = models.CharField(_("their number"), max_length=20, blank=True)
    # Meetings and visits
    meeting_mode = models.CharField(
        _("where"), max_length=20, choices=MeetingMode.choices, blank=True
    )
    location = models.CharField(_("place"), max_length=300, blank=True)
    appointment = models.ForeignKey(
        Appointment,
        verbose_name=_("appointment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    # E-mail
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=998, blank=True)
    thread_key = models.CharField(_("thread"), max_length=998, blank=True, db_index=True)
    email_from = models.CharField(_("from"), max_length=500, blank=True)
    email_to = models.TextField(_("to"), blank=True)
    email_cc = models.TextField(_("cc"), blank=True)
    mailbox = models.ForeignKey(
        Mailbox,
        verbose_name=_("mailbox"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    delivery_status = models.CharField(_("delivery"), max_length=20, blank=True)
    delivery_error = models.TextField(_("delivery error"), blank=True)
    # An id given by another system (a telephony call id): posting it twice records one call.
    external_id = models.CharField(_("external id"), max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    archived_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                fields=["account", "-occurred_at", "-id"], name="interaction_timeline_idx"
            ),
            models.Index(fields=["author", "occurred_at"], name="interaction_author_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["message_id"],
                condition=~Q(message_id=""),
                name="interaction_unique_message_id",
            ),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="interaction_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()


class InteractionAttachment(models.Model):
    """A file that came with an interaction (a mail's attachment, a scanned letter)."""

    interaction = models.ForeignKey(
        Interaction,
        verbose_name=_("interaction"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to="interactions/%Y/%m/")
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("added"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Task(Regarding):
    """Something someone must do, by a date, with a priority and an optional reminder."""

    title = models.CharField(_("title"), max_length=300)
    notes = models.TextField(_("notes"), blank=True)
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    priority = models.CharField(
        _("priority"), max_length=10, choices=TaskPriority.choices, default=TaskPriority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    remind_at = models.DateTimeField(_("remind me"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    # Why the task exists when Tokui created it (e.g. "answer" for an unknown sender's mail).
    source = models.CharField(_("source"), max_length=30, blank=True)
    interaction = models.ForeignKey(
        Interaction,
        verbose_name=_("interaction"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["owner", "status", "due_at"], name="task_owner_idx"),
            models.Index(fields=["account", "status"], name="task_account_idx"),
            models.Index(fields=["status", "remind_at"], name="task_reminder_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ContactCadence(models.Model):
    """How many days an account of a tier may go without contact before "my day" shows it."""

    tier = models.CharField(_("tier"), max_length=20, choices=AccountTier.choices, unique=True)
    days = models.PositiveIntegerField(_("days without contact"))

    class Meta:
        verbose_name = _("contact cadence")
        verbose_name_plural = _("contact cadences")
        ordering = ["tier"]

    def __str__(self) -> str:
        return f"{self.get_tier_display()}: {self.days}"


def _feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A user's private iCalendar feed: the token in its URL is the only key; revoke to rotate."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
    )
    token = models.CharField(max_length=64, unique=True, default=_feed_token, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last read"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(revoked_at__isnull=True),
                name="calendar_feed_one_live_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.token[:6]}…)"


class EmailTemplate(models.Model):
    """A mail to send to a contact, with placeholders such as {contact_name}."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="ja"
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DailyReport(models.Model):
    """A person's 日報: their day, their comments, and their manager's reading."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="daily_reports",
    )
    day = models.DateField(_("day"))
    summary = models.TextField(_("comments"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("read by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("read"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("daily report")
        verbose_name_plural = _("daily reports")
        ordering = ["-day", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="daily_report_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.day:%Y-%m-%d}"


class DailyReportComment(models.Model):
    report = models.ForeignKey(
        DailyReport,
        verbose_name=_("daily report"),
        on_delete=models.CASCADE,
        related_name="comments",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("written"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:40]
