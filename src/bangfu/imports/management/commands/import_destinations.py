"""`bangfu import_destinations FILE --school CODE [--skip-invalid] [--dry-run] [--as USERNAME] [--date DAY]`."""

from bangfu.imports.cli import ImportCommand


class Command(ImportCommand):
    help = (
        "Import graduate destinations from a spreadsheet, one graduate per row, recorded as of --date (all or nothing)."
    )
    target = "destinations"
