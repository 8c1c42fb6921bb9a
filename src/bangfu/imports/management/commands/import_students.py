"""`bangfu import_students FILE --school CODE [--create-units] [--skip-invalid] [--dry-run] [--as USERNAME]`."""

from bangfu.imports.cli import ImportCommand


class Command(ImportCommand):
    help = "Import students with their ledger categories and helpers from a spreadsheet (all or nothing)."
    target = "students"
    can_create_units = True
