from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tokui.web.demo import DEMO_PASSWORD, MAX_ACCOUNTS, demo_load


class Command(BaseCommand):
    help = (
        "Load demo data (a Japanese B2B supplier's customer book) into an empty Tokui; "
        "running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--accounts",
            type=int,
            default=320,
            help=f"How many accounts to create (1–{MAX_ACCOUNTS}, default 320).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = options["accounts"]
        if not 1 <= accounts <= MAX_ACCOUNTS:
            raise CommandError(f"--accounts must be between 1 and {MAX_ACCOUNTS}.")
        verbose = options["verbosity"] >= 1
        counts = demo_load(accounts=accounts, stdout=self.stdout if verbose else None)
        summary = (
            f"{counts['accounts']} accounts, {counts['contacts']} contacts, {counts['users']} users"
        )
        if counts["created"]:
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}."))
            self.stdout.write(
                f"Sign in as admin, head, kam, am or support with the password {DEMO_PASSWORD}."
            )
        else:
            self.stdout.write(f"Demo data already present: {summary} (nothing changed).")
