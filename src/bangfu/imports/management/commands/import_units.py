"""`bangfu import_units FILE --school CODE [--staff] [--skip-invalid] [--dry-run] [--as USERNAME]`."""

from typing import Any

from django.core.management.base import CommandParser

from bangfu.imports.cli import ImportCommand


class Command(ImportCommand):
    help = (
        "Import the school's departments, majors and classes from a spreadsheet, or with --staff its staff "
        "members and their roles (all or nothing)."
    )
    target = "units"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--staff", action="store_true", help="The file lists staff members and their roles.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.target = "staff" if options["staff"] else "units"
        super().handle(*args, **options)
