from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tokui.activities.mail.inbound import mail_fetch_all
from tokui.activities.models import Mailbox


class Command(BaseCommand):
    help = (
        "Mail: `tokui mail fetch` reads every active IMAP mailbox (or --mailbox NAME) and puts "
        "new messages on their accounts' timelines. Safe to re-run: a message is stored once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        fetch = sub.add_parser("fetch", help="Fetch new messages from the IMAP mailboxes.")
        fetch.add_argument(
            "--mailbox", metavar="NAME", help="Only this mailbox (even if it is inactive)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options.get("mailbox")
        if name and not Mailbox.objects.filter(name=name).exists():
            known = ", ".join(Mailbox.objects.values_list("name", flat=True)) or "—"
            raise CommandError(f"There is no mailbox named “{name}”. Mailboxes: {known}")
        summaries = mail_fetch_all(name=name)
        if not summaries:
            self.stdout.write("No active mailboxes.")
            return
        for summary in summaries:
            style = self.style.ERROR if summary.error else self.style.SUCCESS
            self.stdout.write(style(summary.line()))
        if all(s.error for s in summaries):
            raise CommandError("No mailbox could be read.")
