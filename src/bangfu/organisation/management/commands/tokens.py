"""`bangfu tokens USERNAME [--revoke PREFIX | --revoke-all]`: list a user's API tokens, or revoke them.

A token that leaked, or that a system no longer needs, is revoked at once: the API answers 401 to it from the
next request. Tokens are never deleted, so the list keeps when each was made, last used and revoked."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from bangfu.organisation.models import User
from bangfu.organisation.services import revoke_api_tokens


class Command(BaseCommand):
    help = "List a user's API tokens (prefix, name, made, last used, revoked), or revoke one or all of them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--revoke", metavar="PREFIX", help="Revoke the token that starts with PREFIX (bf_…).")
        which.add_argument("--revoke-all", action="store_true", help="Revoke every token of the user.")

    def handle(self, *args: Any, username: str, revoke: str | None, revoke_all: bool, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        tokens = user.api_tokens.filter(revoked_at__isnull=True)
        if revoke is not None:
            revoke = revoke.strip().rstrip("…")
            if not 4 <= len(revoke) <= 8:
                raise CommandError("Give the first 4 to 8 characters of the token, as this command lists them.")
            tokens = tokens.filter(prefix__startswith=revoke)
            if tokens.count() != 1:
                found = "no unrevoked token" if not tokens.exists() else "more than one token"
                raise CommandError(f"{username!r} has {found} starting with {revoke!r}; nothing was revoked.")
        if revoke is not None or revoke_all:
            count = revoke_api_tokens(tokens)
            self.stdout.write(f"Revoked {count} token(s) of {username}.")
            return
        for token in user.api_tokens.order_by("created_at"):
            when = {
                "made": token.created_at,
                "last used": token.last_used_at,
                "revoked": token.revoked_at,
            }
            dates = ", ".join(f"{k} {timezone.localtime(v):%Y-%m-%d %H:%M}" for k, v in when.items() if v)
            self.stdout.write(f"{token.prefix}…  {token.name or '-'}  ({dates})")
