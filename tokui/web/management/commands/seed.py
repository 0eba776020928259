from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tokui.web.seed import seed


class Command(BaseCommand):
    help = "Generate a large book for benchmarks: N accounts and 3·N contacts (not demo data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=int, default=10_000, help="Number of accounts.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["scale"] <= 10_000_000:
            raise CommandError("--scale must be between 1 and 10,000,000.")
        counts = seed(scale=options["scale"], stdout=self.stdout)
        self.stdout.write(f"Seeded: {counts['accounts']} accounts, {counts['contacts']} contacts.")
