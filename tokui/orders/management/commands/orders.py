import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tokui.orders.monitoring import order_digest_send, rhythm_check


def _day(value: str | None) -> datetime.date:
    if not value:
        return timezone.localdate()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"“{value}” is not a date: write it as YYYY-MM-DD.") from exc


class Command(BaseCommand):
    help = (
        "Order monitoring. `digest` mails each owner with late or at-risk orders or overdue "
        "invoices on their accounts the day's digest (once a day: a second run sends nothing). "
        "`rhythm` raises one open task per account whose buying rhythm is overdue (never a "
        "second while one is open). Run both every morning, e.g. from cron; `tokui serve` "
        "schedules them itself."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("digest", "Send the daily digest of late orders and overdue invoices."),
            ("rhythm", "Raise tasks for accounts whose buying rhythm is overdue."),
        ):
            command = sub.add_parser(name, help=text)
            command.add_argument("--date", help="The day to run for (YYYY-MM-DD; default today).")

    def handle(self, *args: Any, **options: Any) -> None:
        day = _day(options.get("date"))
        if options["action"] == "digest":
            sent = order_digest_send(today=day)
            self.stdout.write(f"Order digests sent for {day.isoformat()}: {sent}.")
            return
        created = rhythm_check(today=day)
        self.stdout.write(f"Buying rhythm tasks raised for {day.isoformat()}: {len(created)}.")
