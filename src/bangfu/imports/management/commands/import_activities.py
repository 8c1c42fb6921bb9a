"""`bangfu import_activities FILE --school CODE [--skip-invalid] [--dry-run] [--as USERNAME]`."""

from bangfu.imports.cli import ImportCommand


class Command(ImportCommand):
    help = "Import the old work ledger (past help, one activity per row) from a spreadsheet (all or nothing)."
    target = "activities"
