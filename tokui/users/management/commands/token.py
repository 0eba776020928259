from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tokui.users.models import ApiToken
from tokui.users.selectors import user_get_by_username
from tokui.users.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Personal API tokens: create (prints only the token), list, revoke."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token; prints only the token.")
        create.add_argument("--user", required=True, help="User name.")
        create.add_argument("--name", default="", help="What the token is for.")
        listing = sub.add_parser("list", help="List a user's tokens (never the tokens).")
        listing.add_argument("--user", required=True)
        revoke = sub.add_parser("revoke", help="Revoke a token by its id or prefix.")
        revoke.add_argument("--user", required=True)
        revoke.add_argument("token", help="Token id (from list) or its first characters.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_get_by_username(username=options["user"])
        if user is None:
            raise CommandError(f"There is no user named {options['user']!r}.")
        action = options["action"]
        if action == "create":
            _token, key = api_token_create(actor=None, user=user, name=options["name"])
            self.stdout.write(key)
        elif action == "list":
            for token in ApiToken.objects.filter(user=user):
                state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
                self.stdout.write(f"{token.pk}\t{token.prefix}…\t{token.name}\t{state}")
        else:
            ref = options["token"]
            tokens = ApiToken.objects.filter(user=user)
            match = (
                tokens.filter(pk=int(ref))
                if ref.isdigit()
                else tokens.filter(prefix__startswith=ref[:12])
            )
            if match.count() != 1:
                raise CommandError(f"No single token of {user.username} matches {ref!r}.")
            api_token_revoke(actor=None, token=match.get())
            self.stdout.write(f"Revoked token {ref}.")
