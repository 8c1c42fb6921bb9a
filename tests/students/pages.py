"""Shared helpers for the student page tests: URLs and ledger students made through the services."""

import datetime as dt

from django.urls import reverse

from bangfu.assistance.services import assign_helper
from bangfu.organisation.models import OrgUnit, User
from bangfu.students.models import Student
from bangfu.students.services import join_ledger
from tests.conftest import TODAY
from tests.factories import make_student, system_user

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def url(name: str, student: Student | None = None, *args: object) -> str:
    if student is None:
        return reverse(f"students:{name}", args=args)
    return reverse(f"students:{name}", args=[student.public_id, *args])


def ledger_student(
    class_unit: OrgUnit,
    *,
    name: str,
    categories: list[str] | None = None,
    helper: User | None = None,
    joined_on: dt.date = dt.date(2023, 10, 9),
    **kw: object,
) -> Student:
    """A student in the ledger (joined through the service), optionally with a helper."""
    student = make_student(class_unit, name=name, **kw)
    join_ledger(
        actor=system_user(),
        student=student,
        joined_on=joined_on,
        reason="学期复核：家庭经济困难",
        categories=categories or ["subsistence_allowance"],
        hardship_level="hardship",
        today=TODAY,
    )
    if helper is not None:
        assign_helper(actor=system_user(), student=student, helper=helper, start=joined_on, today=TODAY)
    return student
