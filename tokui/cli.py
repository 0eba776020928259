"""The ``tokui`` console script: Django's management commands, Tokui's own listed first."""

import os
import sys
from collections import defaultdict

from django.core.management import ManagementUtility, get_commands

TOKUI_APP_PREFIX = "tokui"


class TokuiUtility(ManagementUtility):
    def main_help_text(self, commands_only: bool = False) -> str:
        ours = sorted(
            name for name, app in get_commands().items() if app.startswith(TOKUI_APP_PREFIX)
        )
        if commands_only:
            return "\n".join(ours + sorted(n for n in get_commands() if n not in ours))
        lines = [
            "Usage: tokui <command> [options]",
            "",
            "Tokui commands:",
            *(f"    {name}" for name in ours),
            "",
            "Django commands (tokui <command> --help for one):",
        ]
        others: dict[str, list[str]] = defaultdict(list)
        for name, app in sorted(get_commands().items()):
            if not app.startswith(TOKUI_APP_PREFIX):
                others[app.rpartition(".")[-1] if app != "django.core" else "django"].append(name)
        for app in sorted(others):
            lines.append(f"  [{app}]")
            lines.extend(f"    {name}" for name in others[app])
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokui.settings")
    TokuiUtility(list(argv if argv is not None else sys.argv)).execute()


if __name__ == "__main__":
    main()
