"""Small builders for the one-on-one help tests: ledger students and staff made through the services."""

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from bangfu.assistance.services import assign_helper
from bangfu.organisation.models import OrgUnit, User
from bangfu.students.models import Student
from bangfu.students.services import join_ledger
from tests.conftest import TODAY
from tests.factories import make_student, system_user


def ledger_student(
    class_unit: OrgUnit,
    *,
    name: str,
    categories: list[str] | None = None,
    helper: User | None = None,
    joined_on: dt.date = dt.date(2023, 10, 9),
) -> Student:
    student = make_student(class_unit, name=name)
    join_ledger(
        actor=system_user(),
        student=student,
        joined_on=joined_on,
        reason="入学普查：低保家庭",
        categories=categories or ["subsistence_allowance"],
        today=TODAY,
    )
    if helper is not None:
        assign_helper(actor=system_user(), student=student, helper=helper, start=joined_on, today=TODAY)
    return student


@pytest.fixture
def english(client: Client):  # type: ignore[no-untyped-def]
    """Assertions read the English source text, whatever translations are added later."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield
