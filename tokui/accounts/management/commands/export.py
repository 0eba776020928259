import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tokui.accounts.constants import AccountKind, AccountRank, AccountTier
from tokui.accounts.exports import ENCODINGS, FORMATS, export_start, replaced_summary
from tokui.accounts.segments import split_names
from tokui.core.exceptions import ApplicationError, NotFound
from tokui.users.selectors import user_get_by_username


class Command(BaseCommand):
    help = (
        "Export the account or contact list to CSV or XLSX, as one user sees it (--as): "
        "only their visible records, with the list's filters. The export is recorded in the "
        "audit trail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", choices=("accounts", "contacts"), help="What to export.")
        parser.add_argument(
            "-o", "--output", required=True, help="File to write (replaced if it exists)."
        )
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="csv or xlsx (default: from the file name's extension, else csv).",
        )
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USER",
            help="User name whose view is exported (required: exports hold only what they see).",
        )
        parser.add_argument(
            "--encoding",
            choices=ENCODINGS,
            default="utf-8",
            help="CSV encoding: utf-8 (with a BOM, for Excel; default) or cp932 (Shift_JIS).",
        )
        parser.add_argument(
            "--lang",
            choices=[code for code, _name in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
            help="Language of the column labels and values (default: %(default)s).",
        )
        filters = parser.add_argument_group("filters (as on the list pages)")
        filters.add_argument("--q", default="", help="Search: name, reading, number, phone, …")
        filters.add_argument("--kind", choices=AccountKind.values)
        filters.add_argument("--tier", choices=AccountTier.values)
        filters.add_argument("--owner", help="Owner's user name.")
        filters.add_argument("--industry", help="Part of the industry; several comma-separated.")
        filters.add_argument("--prefecture", action="append", help="Prefecture (repeatable).")
        filters.add_argument("--rank", action="append", choices=AccountRank.values)
        filters.add_argument("--tag", action="append", help="Tag name (repeatable: any of).")
        filters.add_argument("--employees-min", type=int, metavar="N")
        filters.add_argument("--employees-max", type=int, metavar="N")
        filters.add_argument("--segment", type=int, metavar="ID", help="A segment's id.")
        filters.add_argument("--archived", action="store_true", help="Archived records only.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["as_user"]:
            raise CommandError(
                "Say whose view to export with --as USER: an export holds only the records "
                "that user may see (an administrator or head of sales sees all)."
            )
        user = user_get_by_username(username=options["as_user"])
        if user is None:
            raise CommandError(f"There is no user named {options['as_user']!r}.")
        if not user.is_active:
            raise CommandError(f"The user {user.username!r} is deactivated and sees nothing.")
        output = Path(options["output"])
        fmt = options["format"] or ("xlsx" if output.suffix.lower() == ".xlsx" else "csv")
        if fmt == "xlsx" and options["encoding"] != "utf-8":
            raise CommandError("--encoding applies to CSV only.")
        filters: dict[str, Any] = {
            "search": options["q"].strip()[:200],
            "kind": options["kind"],
            "tier": options["tier"],
            "owner": options["owner"],
            "archived": options["archived"],
            "industry": split_names(options["industry"] or "") or None,
            "prefecture": options["prefecture"],
            "rank": options["rank"],
            "tag": options["tag"],
            "employees_min": options["employees_min"],
            "employees_max": options["employees_max"],
            "segment": options["segment"],
        }
        try:
            export = export_start(
                actor=user,
                target=options["target"],
                fmt=fmt,
                filters=filters,
                lang=options["lang"],
                encoding=options["encoding"],
            )
        except NotFound as exc:
            raise CommandError(f"{exc.message} (segment {options['segment']})") from exc
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

        # Write next to the target and move into place: a failed export leaves no half file.
        directory = output.resolve().parent
        if not directory.is_dir():
            raise CommandError(f"The directory {directory} does not exist.")
        fd, temp_name = tempfile.mkstemp(dir=directory, prefix=".tokui-export-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                if fmt == "csv":
                    for chunk in export.csv_chunks():
                        handle.write(chunk)
                else:
                    export.write_xlsx(handle)
            os.replace(temp_name, output)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        if export.replaced:
            total = sum(export.replaced.values())
            self.stderr.write(
                f"{total} character(s) have no CP932 (Shift_JIS) code and were replaced "
                f"(accented letters by their base letter, others by “?”): "
                f"{replaced_summary(export.replaced)}. Use --encoding utf-8 to keep them."
            )
        self.stdout.write(f"Exported {export.count} {options['target']} to {output}.")
