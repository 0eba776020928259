"""Periodic work while ``tokui serve`` runs: each job is enqueued on its interval and the
``db_worker`` started beside the web server runs it.

Django's tasks framework has no scheduler, so ``tokui serve`` starts this one thread. A job is
not enqueued again while the previous run still waits or runs. Where workers run elsewhere
(another task backend, several machines), run the same commands from cron instead:
``tokui mail fetch`` and ``tokui calendar reminders``; both are safe to run concurrently.
"""

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections

from tokui.activities.mail.tasks import mail_fetch_enqueue_if_due
from tokui.activities.tasks import send_task_reminders, task_pending

logger = logging.getLogger(__name__)

REMINDERS_TASK_PATH = "tokui.activities.tasks.send_task_reminders"


def reminders_enqueue_if_due() -> bool:
    if task_pending(REMINDERS_TASK_PATH):
        return False
    send_task_reminders.enqueue()
    return True


@dataclass(frozen=True)
class Job:
    name: str
    minutes_variable: str
    default_minutes: float
    enqueue_if_due: Callable[[], bool]

    def minutes(self) -> float:
        try:
            return max(0.0, float(os.environ.get(self.minutes_variable, self.default_minutes)))
        except ValueError:
            return self.default_minutes


JOBS = (
    Job("mail fetch", "TOKUI_MAIL_FETCH_MINUTES", 5, mail_fetch_enqueue_if_due),
    Job("task reminders", "TOKUI_REMINDER_MINUTES", 1, reminders_enqueue_if_due),
)


def start_scheduler(
    stop: threading.Event, jobs: tuple[Job, ...] = JOBS, *, tick: float = 15.0
) -> threading.Thread:
    """A daemon thread that enqueues each job on its interval (0 minutes: never) until ``stop``;
    the first runs come one ``tick`` after the start."""
    active = [(job, job.minutes() * 60) for job in jobs if job.minutes()]
    next_run = {job.name: 0.0 for job, _ in active}

    def loop() -> None:
        elapsed = 0.0
        while not stop.wait(tick):
            elapsed += tick
            for job, seconds in active:
                if elapsed < next_run[job.name]:
                    continue
                next_run[job.name] = elapsed + seconds
                try:
                    job.enqueue_if_due()
                except Exception:
                    logger.exception("Could not enqueue %s", job.name)
                finally:
                    close_old_connections()

    thread = threading.Thread(target=loop, name="tokui-scheduler", daemon=True)
    thread.start()
    return thread
