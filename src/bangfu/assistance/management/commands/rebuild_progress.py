"""`bangfu rebuild_progress [--date YYYY-MM-DD] [--school CODE]`: recompute progress rows from scratch."""

import datetime as dt
import time
from argparse import ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from bangfu.assistance.progress import rebuild_progress
from bangfu.organisation.models import OrgUnit, UnitKind
from bangfu.students.models import Student


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as e:
        raise ArgumentTypeError(_("Give the date as YYYY-MM-DD.")) from e


class Command(BaseCommand):
    help = "Recompute every ledger student's progress row from the activities (e.g. after a policy change)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=_day, default=None, help="The day to judge progress on (default: today).")
        parser.add_argument("--school", default="", help="Only the students of the school with this code.")

    def handle(self, *args: Any, date: dt.date | None = None, school: str = "", **options: Any) -> None:
        today = date or timezone.localdate()
        students = None
        if school:
            schools = list(OrgUnit.objects.filter(kind=UnitKind.SCHOOL, code=school))
            if len(schools) != 1:
                raise CommandError(_("There is no single school with the code %(code)s.") % {"code": school})
            students = Student.objects.filter(school=schools[0])
        started = time.perf_counter()
        rows = rebuild_progress(today=today, students=students)
        self.stdout.write(
            _("Rebuilt the progress of %(rows)d students for %(day)s in %(seconds).2f seconds.")
            % {"rows": rows, "day": today.isoformat(), "seconds": time.perf_counter() - started}
        )
