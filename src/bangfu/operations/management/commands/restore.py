"""`bangfu restore FILE [--yes]`: check an archive of `bangfu backup`, restore it, and check the result."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils.translation import gettext as _

from bangfu.operations.backup import ENGINE_NAMES, BackupError, restore_verified, verify_archive


class Command(BaseCommand):
    help = (
        "Restore a backup made by `bangfu backup`: the whole archive is checked against its manifest first (a "
        "damaged or foreign archive is refused before anything changes), then the database and the uploaded files "
        "are replaced, and every table's row count and checksum and every file are compared with the backup. "
        "Exits non-zero on any difference. Stop the app servers and workers first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="The .tar.gz file written by `bangfu backup`.")
        parser.add_argument("--yes", action="store_true", help="Do not ask before replacing the data.")

    def handle(self, *args: Any, archive: Path, yes: bool = False, **options: Any) -> None:
        try:
            verified = verify_archive(archive)
        except BackupError as e:
            raise CommandError(str(e)) from e
        try:
            manifest = verified.manifest
            self.stdout.write(
                _("%(path)s: a backup of %(created)s, %(tables)d tables, %(files)d uploaded files; checked.")
                % {
                    "path": archive,
                    "created": manifest["created_at"],
                    "tables": len(manifest["tables"]),
                    "files": len(manifest["files"]),
                }
            )
            if not yes:
                self._confirm()
            try:
                report = restore_verified(verified)
            except BackupError as e:
                raise CommandError(str(e)) from e
        finally:
            verified.cleanup()
        self.stdout.write(
            _(
                "Restored the %(engine)s database and the uploaded files: %(written)d written, %(same)d unchanged, "
                "%(removed)d removed (not in the backup)."
            )
            % {
                "engine": ENGINE_NAMES[manifest["engine"]],
                "written": report.files_written,
                "same": report.files_unchanged,
                "removed": report.files_removed,
            }
        )
        if report.pending_migrations:
            self.stdout.write(
                _("The backup predates %(count)d migrations of this version: run `bangfu migrate` now.")
                % {"count": len(report.pending_migrations)}
            )
        if report.problems:
            for problem in report.problems:
                self.stderr.write(problem)
            raise CommandError(
                _("The restored data differs from the backup in %(count)d places (listed above).")
                % {"count": len(report.problems)}
            )
        self.stdout.write(_("Every table's row count and checksum and every file match the backup."))

    def _confirm(self) -> None:
        target = connection.settings_dict["NAME"]
        question = _(
            "This replaces ALL data in the database %(db)s and the files in %(media)s with the backup. "
            "Type 'yes' to go on: "
        ) % {"db": target, "media": settings.MEDIA_ROOT}
        try:
            answer = input(question)
        except (EOFError, OSError):  # no terminal to ask
            answer = ""
        if answer.strip().lower() != "yes":
            raise CommandError(_("Not restored: nothing was changed. (Use --yes to skip this question.)"))
