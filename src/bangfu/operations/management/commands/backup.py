"""`bangfu backup [--output FILE]`: one archive with the database, the uploaded files and a manifest."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from bangfu.operations.backup import BackupError, create_backup, default_archive_name


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite online backup or pg_dump) and the uploaded files into one .tar.gz archive "
        "with a manifest of row counts and checksums of every table. Safe while the app runs. "
        "Default file: var/backups/bangfu-backup-<date>-<time>.tar.gz."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", type=Path, default=None, help="Write the archive to this file.")

    def handle(self, *args: Any, output: Path | None = None, **options: Any) -> None:
        output = output or Path(settings.VAR_DIR) / "backups" / default_archive_name()
        try:
            result = create_backup(output=output)
        except BackupError as e:
            raise CommandError(str(e)) from e
        manifest = result.manifest
        rows = sum(t["rows"] for t in manifest["tables"].values())
        self.stdout.write(
            _("Backup written to %(path)s (%(size)s): %(tables)d tables, %(rows)d rows, %(files)d uploaded files.")
            % {
                "path": result.path,
                "size": filesizeformat(result.size),
                "tables": len(manifest["tables"]),
                "rows": rows,
                "files": len(manifest["files"]),
            }
        )
