"""`bangfu rotate_data_key [--check]`: move every encrypted ID number onto the newest key of BANGFU_DATA_KEY."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from bangfu.operations.keys import key_status, rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every ID number with the newest data key (the first of BANGFU_DATA_KEY) and recompute its "
        "look-up hash, in batches of one transaction each. Safe to stop and run again. Put the new key first in "
        "BANGFU_DATA_KEY, restart the app, run this, confirm with --check, then remove the old key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Only report how many ID numbers are not yet on the newest key."
        )

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        status = key_status() if check else rotate()
        if check:
            self.stdout.write(
                _("%(stale)d of %(total)d ID numbers are not yet on the newest key.")
                % {"stale": status.stale, "total": status.total}
            )
        else:
            self.stdout.write(
                _("Re-encrypted %(rotated)d of %(total)d ID numbers with the newest key.")
                % {"rotated": status.rotated, "total": status.total}
            )
        if status.unreadable:
            raise CommandError(
                _(
                    "%(count)d ID numbers cannot be decrypted with any configured key: put the old key back in "
                    "BANGFU_DATA_KEY (after the new one) and run again."
                )
                % {"count": status.unreadable}
            )
        if check and status.stale:
            raise CommandError(_("Run `bangfu rotate_data_key` before removing the old key."))
