"""Background tasks of the activities app: task reminders by e-mail.

``send_task_reminders`` is idempotent and safe to run from several workers at once: each
reminder is claimed (``reminded_at`` set) by one conditional UPDATE before its mail is sent, so a
reminder is never sent twice. Run it every few minutes (``tokui calendar reminders`` from cron,
or enqueue the task); the in-app "due" list shows the same reminders without mail.
"""

import datetime
import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.tasks import task
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tokui.activities.constants import TaskStatus
from tokui.activities.models import Task

logger = logging.getLogger(__name__)
BATCH = 500


def _base_url() -> str:
    return str(getattr(settings, "TOKUI_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")


def _mail(item: Task) -> EmailMessage:
    due = (
        timezone.localtime(item.due_at).strftime("%Y-%m-%d %H:%M")
        if item.due_at
        else _("no due date")
    )
    lines = [
        _("Reminder: %(title)s") % {"title": item.title},
        "",
        _("Due: %(due)s") % {"due": due},
        _("Priority: %(p)s") % {"p": item.get_priority_display()},
    ]
    if item.account_id:
        lines.append(_("Account: %(name)s") % {"name": item.account})
    if item.notes:
        lines += ["", item.notes]
    lines += ["", f"{_base_url()}/tasks/{item.pk}/edit/"]
    return EmailMessage(
        subject=_("Reminder: %(title)s") % {"title": item.title[:150]},
        body="\n".join(lines),
        to=[item.owner.email],
    )


def task_reminders_send(*, limit: int = BATCH) -> dict[str, int]:
    """Send the reminders that are due; returns how many were sent, skipped and failed."""
    now = timezone.now()
    due = list(
        Task.objects.filter(status=TaskStatus.OPEN, remind_at__lte=now, reminded_at__isnull=True)
        .select_related("owner", "account")
        .order_by("remind_at", "id")[:limit]
    )
    sent = skipped = failed = 0
    for item in due:
        # Claim it: only the worker whose UPDATE changes the row sends the mail.
        claimed = Task.objects.filter(
            Q(pk=item.pk), reminded_at__isnull=True, status=TaskStatus.OPEN
        ).update(reminded_at=now)
        if not claimed:
            continue
        if not item.owner.email or not item.owner.is_active:
            skipped += 1  # shown in the in-app "due" list only
            continue
        try:
            with translation.override(settings.LANGUAGE_CODE):
                _mail(item).send()
        except Exception:
            logger.exception("Task reminder %s could not be sent; will retry", item.pk)
            Task.objects.filter(pk=item.pk, reminded_at=now).update(reminded_at=None)
            failed += 1
        else:
            sent += 1
    return {"sent": sent, "skipped": skipped, "failed": failed}


@task
def send_task_reminders() -> dict[str, Any]:
    """Send due task reminders by e-mail (see the module docstring)."""
    return task_reminders_send()


def task_pending(task_path: str) -> bool:
    """Whether a run of ``task_path`` waits or runs in the database queue (django-tasks-db)."""
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # another backend: a second run of an idempotent job is harmless
        return False
    # A run "running" for over an hour died with its worker: it no longer blocks.
    recent = timezone.now() - datetime.timedelta(hours=1)
    return (
        DBTaskResult.objects.filter(task_path=task_path)
        .filter(Q(status="READY") | Q(status="RUNNING", started_at__gte=recent))
        .exists()
    )
