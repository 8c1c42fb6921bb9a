"""The shape every import command shares:

    bangfu import_<target> FILE --school CODE [--create-units] [--skip-invalid] [--dry-run] [--as USERNAME]

Exit status 0 when every row asked for was imported (with --skip-invalid: every valid row; with --dry-run:
when no row has a problem); otherwise 1, with each row's problem on standard error.
"""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentTypeError
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from bangfu.imports import services
from bangfu.imports.models import ImportJob, JobStatus
from bangfu.organisation.models import OrgUnit, UnitKind, User


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as e:
        raise ArgumentTypeError(_("Give the date as YYYY-MM-DD.")) from e


class ImportCommand(BaseCommand):
    target: str
    can_create_units = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The .xlsx, .xls or .csv file.")
        parser.add_argument("--school", required=True, help="The code of the school the rows belong to.")
        if self.can_create_units:
            parser.add_argument(
                "--create-units",
                action="store_true",
                help="Create missing majors and classes under the departments the file names.",
            )
        parser.add_argument("--skip-invalid", action="store_true", help="Import the valid rows, leave out the others.")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and write nothing.")
        parser.add_argument(
            "--as", dest="username", default="", help="Import as this user (default: the only superuser)."
        )
        parser.add_argument("--date", type=_day, default=None, help="Judge dates as of this day (default: today).")

    def _actor(self, username: str) -> User:
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(_("There is no active user %(name)s.") % {"name": username})
            return user
        superusers = list(User.objects.filter(is_superuser=True, is_active=True)[:2])
        if len(superusers) != 1:
            raise CommandError(_("Say who imports the file with --as USERNAME."))
        return superusers[0]

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        actor = self._actor(options["username"])
        schools = list(OrgUnit.objects.filter(kind=UnitKind.SCHOOL, code=options["school"]))
        if len(schools) != 1:
            raise CommandError(_("There is no single school with the code %(code)s.") % {"code": options["school"]})
        today = options["date"] or timezone.localdate()
        try:
            with path.open("rb") as stream:
                job = services.create_job(
                    actor=actor,
                    target=self.target,
                    school=schools[0],
                    upload=stream,
                    name=path.name,
                    options={
                        "create_units": options.get("create_units", False),
                        "skip_invalid": options["skip_invalid"],
                    },
                )
            if options["dry_run"]:
                job = services.preview(actor=actor, job=job, today=today)
            else:
                job = services.commit(actor=actor, job=job, today=today)
        except PermissionDenied:
            raise CommandError(
                _("%(user)s may not import into %(school)s.") % {"user": actor.username, "school": schools[0].name}
            ) from None
        except ValidationError as e:
            raise CommandError(" ".join(e.messages)) from None
        self._report(job, dry_run=options["dry_run"])

    def _report(self, job: ImportJob, *, dry_run: bool) -> None:
        for problem in job.problems:
            self.stderr.write(
                _("Row %(row)d, %(column)s: %(message)s") % problem
                if problem["column"]
                else _("Row %(row)d: %(message)s") % problem
            )
        if job.problems_total > len(job.problems):
            self.stderr.write(_("… and %(n)d more problems.") % {"n": job.problems_total - len(job.problems)})
        if dry_run:
            self.stdout.write(
                _(
                    "Checked %(rows)d rows: %(valid)d valid, %(invalid)d with problems; an import would create "
                    "%(created)d, update %(updated)d and leave %(unchanged)d unchanged. Nothing was written."
                )
                % {
                    "rows": job.total_rows,
                    "valid": job.valid_rows,
                    "invalid": job.invalid_rows,
                    "created": job.created_count,
                    "updated": job.updated_count,
                    "unchanged": job.unchanged_count,
                }
            )
            if job.invalid_rows:
                raise CommandError(_("%(n)d rows have problems.") % {"n": job.invalid_rows}, returncode=1)
            return
        if job.status != JobStatus.DONE:
            raise CommandError(job.message, returncode=1)
        self.stdout.write(job.message)
