"""The periodic mail fetch, as a background task (django-tasks-db by default).

``tokui serve`` enqueues ``mail_fetch_task`` every ``TOKUI_MAIL_FETCH_MINUTES`` minutes (5 by
default; 0 turns it off) while there is an active mailbox (tokui.activities.schedule), and its
``db_worker`` runs it. A fetch still waiting or running is not enqueued twice. Where workers run
elsewhere, run ``tokui mail fetch`` from cron instead: both are safe to run at the same time as
each other (a Message-ID is stored once).
"""

import logging
from typing import Any

from django.tasks import task

from tokui.activities.mail.inbound import mail_fetch_all
from tokui.activities.models import Mailbox
from tokui.activities.tasks import task_pending

logger = logging.getLogger(__name__)

TASK_PATH = "tokui.activities.mail.tasks.mail_fetch_task"


@task
def mail_fetch_task(mailbox: str = "") -> dict[str, Any]:
    """Fetch every active mailbox (or one by name); the summary lines are the result."""
    summaries = mail_fetch_all(name=mailbox or None)
    return {
        "mailboxes": len(summaries),
        "stored": sum(s.stored for s in summaries),
        "errors": [s.mailbox for s in summaries if s.error],
    }


def mail_fetch_enqueue_if_due() -> bool:
    """Enqueue a fetch when a mailbox is active and none is pending; True when enqueued."""
    if not Mailbox.objects.filter(active=True).exists() or task_pending(TASK_PATH):
        return False
    mail_fetch_task.enqueue()
    return True
