"""Shared setup for the work-ledger page tests: a frozen clock, students in given stages, uploads."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from bangfu.assistance.services import assign_helper
from bangfu.organisation.models import OrgUnit, User
from bangfu.students.models import Student
from bangfu.students.services import join_ledger
from tests.conftest import TODAY
from tests.factories import make_student, system_user

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def frozen(time_machine):  # type: ignore[no-untyped-def]
    """The pages read the clock: freeze it on the world's day (15 March 2024, `own` is in the job-search stage)."""
    time_machine.move_to(
        dt.datetime(TODAY.year, TODAY.month, TODAY.day, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    )
    return TODAY


@pytest.fixture
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def helped_student(
    class_unit: OrgUnit, helper: User, *, name: str, cohort: int = 2021, joined_on: dt.date = dt.date(2023, 10, 9)
) -> Student:
    """A ledger student of `cohort` helped by `helper` (cohort 2022 is in the study stage on TODAY)."""
    student = make_student(class_unit, name=name, cohort=cohort)
    join_ledger(
        actor=system_user(),
        student=student,
        joined_on=joined_on,
        reason="入学普查：低保家庭",
        categories=["subsistence_allowance"],
        today=TODAY,
    )
    assign_helper(actor=system_user(), student=student, helper=helper, start=joined_on, today=TODAY)
    return student


def url(name: str, *args) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"assistance:{name}", args=[getattr(a, "public_id", a) for a in args])


def texts(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in get_messages(response.wsgi_request)]
