"""`bangfu anonymise_expired [--dry-run] [--years N] [--date YYYY-MM-DD] [--as USERNAME]`."""

import datetime as dt
from argparse import ArgumentTypeError
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from bangfu.operations.retention import (
    anonymise,
    expired_students,
    purge_old_imports,
    summarise,
    years_before,
)
from bangfu.organisation.models import User


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as e:
        raise ArgumentTypeError(_("Give the date as YYYY-MM-DD.")) from e


class Command(BaseCommand):
    help = (
        "Anonymise graduates whose follow-up period ended more than RETENTION_YEARS years ago (BANGFU_RETENTION_YEARS, "
        "default 5). A graduate's follow-up period ends the school's follow-up months (policy in force on the "
        "expected graduation date, 12 by default) after the expected graduation date, or on the last follow-up "
        "recorded if that is later. Names, ID numbers, contact details, addresses, family and hardship details, "
        "free-text notes, uploaded files, history rows and the portal account are erased; cohort, department, "
        "major, gender, ledger categories, activity kinds and dates, destinations and subsidy amounts stay, so the "
        "figures do not change. Import files older than the retention period are deleted too. Idempotent; "
        "--dry-run lists who would be anonymised and changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List who would be anonymised; change nothing.")
        parser.add_argument(
            "--years", type=int, default=None, help="Retention in years (default: settings.RETENTION_YEARS)."
        )
        parser.add_argument("--date", type=_day, default=None, help="Judge as of this day (default: today).")
        parser.add_argument("--as", dest="username", default="", help="Record this user as the one who ran it.")

    def handle(
        self,
        *args: Any,
        dry_run: bool = False,
        years: int | None = None,
        date: dt.date | None = None,
        username: str = "",
        **options: Any,
    ) -> None:
        years = settings.RETENTION_YEARS if years is None else years
        if years < 1:
            raise CommandError(_("The retention period is at least one year."))
        today = date or timezone.localdate()
        actor = None
        if username:
            actor = User.objects.filter(username=username, is_active=True).first()
            if actor is None:
                raise CommandError(_("No active user %(name)s.") % {"name": username})
        expired = expired_students(today=today, years=years)
        cutoff = years_before(today, years)
        if dry_run:
            self.stdout.write(
                _("Dry run: %(count)d graduates whose follow-up ended before %(cutoff)s would be anonymised.")
                % {"count": len(expired), "cutoff": cutoff.isoformat()}
            )
            for school, cohorts in summarise(expired).items():
                for cohort, count in sorted(cohorts.items()):
                    numbers = [e.student_number for e in expired if e.school == school and str(e.cohort) == cohort]
                    self.stdout.write(
                        _("  %(school)s, cohort %(cohort)s: %(count)d — %(numbers)s")
                        % {"school": school, "cohort": cohort, "count": count, "numbers": " ".join(numbers)}
                    )
            return
        run = anonymise(expired, today=today, years=years, actor=actor)
        imports = purge_old_imports(today=today, years=years)
        self.stdout.write(
            _("Anonymised %(count)d graduates whose follow-up ended before %(cutoff)s (run %(run)d).")
            % {"count": run.anonymised, "cutoff": cutoff.isoformat(), "run": run.pk}
        )
        for school, cohorts in run.summary.items():
            for cohort, count in sorted(cohorts.items()):
                self.stdout.write(
                    _("  %(school)s, cohort %(cohort)s: %(count)d")
                    % {"school": school, "cohort": cohort, "count": count}
                )
        if imports:
            self.stdout.write(_("Deleted the files of %(count)d old imports.") % {"count": imports})
