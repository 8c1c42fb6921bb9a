"""`bangfu seed_demo [--if-empty] [--students N]`: load the demo university (idempotent)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from bangfu.demo.builder import LOGINS, build_demo, demo_school
from bangfu.demo.data import PASSWORD, SCHOOL_CODE
from bangfu.organisation.models import User
from bangfu.students.models import Student

MIN_STUDENTS = 100


class Command(BaseCommand):
    help = "Load the demo university (school DEMO, about 3,000 students) and its five demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database already holds any student."
        )
        parser.add_argument("--students", type=int, default=3000, help="How many students to create (default 3000).")

    def handle(self, *args: Any, if_empty: bool = False, students: int = 3000, **options: Any) -> None:
        if students < MIN_STUDENTS:
            raise CommandError(_("The demo needs at least %(count)d students.") % {"count": MIN_STUDENTS})
        if if_empty and Student.objects.exists():
            self.stdout.write(_("The database already holds students: the demo was not loaded."))
            return
        if demo_school() is None:
            taken = User.objects.filter(username__in=[login.username for login in LOGINS]).values_list(
                "username", flat=True
            )
            if taken:
                raise CommandError(
                    _("Cannot load the demo: these user names are taken: %(names)s") % {"names": ", ".join(taken)}
                )
        started = time.monotonic()
        summary = build_demo(students=students)
        if summary.created:
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "Loaded the demo school %(code)s: %(students)d students, %(ledger)d in the ledger, "
                        "%(staff)d staff, in %(seconds).1f seconds."
                    )
                    % {
                        "code": SCHOOL_CODE,
                        "students": summary.students,
                        "ledger": summary.ledger,
                        "staff": summary.staff,
                        "seconds": time.monotonic() - started,
                    }
                )
            )
            self.stdout.write(
                _(
                    "With %(employers)d employers, %(recommendations)d recommendations of their positions and "
                    "%(destinations)d graduate destinations."
                )
                % {
                    "employers": summary.employers,
                    "recommendations": summary.recommendations,
                    "destinations": summary.destinations,
                }
            )
        else:
            self.stdout.write(_("The demo school %(code)s is already loaded.") % {"code": SCHOOL_CODE})
        self.stdout.write(_("Demo logins, all with the password %(password)s:") % {"password": PASSWORD})
        for login in summary.logins:
            self.stdout.write(f"  {login.username:<10} {login.description}")
