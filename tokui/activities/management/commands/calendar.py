from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tokui.activities.calendar_feed import (
    calendar_feed_get_or_create,
    calendar_feed_rotate,
    calendar_feed_url,
)
from tokui.activities.tasks import send_task_reminders
from tokui.core.exceptions import ApplicationError
from tokui.users.selectors import user_get_by_username


class Command(BaseCommand):
    help = (
        "Calendar feeds and reminders. `url --user NAME` prints the user's private iCalendar "
        "feed URL (on TOKUI_BASE_URL), creating the feed if there is none; add --rotate to "
        "revoke the current link and make a new one. `reminders` sends the task reminders "
        "that are due (run it every few minutes, e.g. from cron)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        url = sub.add_parser("url", help="Print a user's calendar feed URL.")
        url.add_argument("--user", required=True, help="User name.")
        url.add_argument(
            "--rotate",
            action="store_true",
            help="Revoke the current link (calendars using it get 404) and print a new one.",
        )
        sub.add_parser("reminders", help="Send the task reminders that are due.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "reminders":
            result = send_task_reminders.enqueue()
            self.stdout.write(f"Task reminders queued ({result.id}).")
            return
        user = user_get_by_username(username=options["user"])
        if user is None:
            raise CommandError(f"There is no user named “{options['user']}”.")
        if not user.is_active:
            raise CommandError(f"“{user.username}” is inactive: their feed answers 404.")
        try:
            if options["rotate"]:
                feed = calendar_feed_rotate(actor=user, user=user)
            else:
                feed = calendar_feed_get_or_create(actor=user, user=user)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(calendar_feed_url(feed))
