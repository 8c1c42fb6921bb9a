"""`bangfu create_token USERNAME [--name NAME]`: print a new API token for the user."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bangfu.organisation.models import User
from bangfu.organisation.services import create_api_token


class Command(BaseCommand):
    help = (
        "Make an API token for a user and print it. Only a digest is stored, so the token is shown this once; "
        "send it as 'Authorization: Bearer <token>'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for, e.g. 'nightly export'.")

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        if not user.is_active:
            raise CommandError(f"The user {username!r} is not active.")
        self.stdout.write(create_api_token(user=user, name=name.strip()[:100]))
