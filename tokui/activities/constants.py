"""Choices of the activities app: kinds of interaction, appointments, tasks and reports."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class InteractionKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    FAX = "fax", _("Fax")
    CHAT = "chat", _("Chat message")
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("Visit")
    NOTE = "note", _("Note")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


# Kinds that have a direction (a call comes in or goes out; a note has none).
DIRECTED_KINDS = frozenset(
    {
        InteractionKind.CALL,
        InteractionKind.EMAIL,
        InteractionKind.FAX,
        InteractionKind.CHAT,
        InteractionKind.LETTER,
    }
)


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    VOICEMAIL = "voicemail", _("Left a voicemail")
    BUSY = "busy", _("Busy")
    CALL_BACK = "call_back", _("Asked to call back")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


class MeetingMode(models.TextChoices):
    ON_SITE = "on_site", _("At the customer's")
    ONLINE = "online", _("Online")
    OUR_OFFICE = "our_office", _("At our office")


class InteractionSource(models.TextChoices):
    MANUAL = "manual", _("Logged by hand")
    MAIL_OUT = "mail_out", _("Sent from Tokui")
    MAIL_IN = "mail_in", _("Fetched from a mailbox")
    TELEPHONY = "telephony", _("Telephony system")
    APPOINTMENT = "appointment", _("Appointment held")
    API = "api", _("API")


class AppointmentKind(models.TextChoices):
    PHONE = "phone", _("Phone appointment")
    MEETING = "meeting", _("Meeting")


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class TaskPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


# Sort order of priorities, most pressing first.
PRIORITY_RANK = {
    TaskPriority.URGENT: 0,
    TaskPriority.HIGH: 1,
    TaskPriority.NORMAL: 2,
    TaskPriority.LOW: 3,
}


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    REVIEWED = "reviewed", _("Read by the manager")
