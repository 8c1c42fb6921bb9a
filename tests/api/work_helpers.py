"""Helpers for the work-ledger API tests: a frozen clock, English answers, multipart posts."""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings

from bangfu.assistance.services import assign_helper, record_activity
from bangfu.organisation.models import User
from bangfu.students.models import Student
from bangfu.students.services import join_ledger
from tests.api.conftest import API, ApiClient
from tests.conftest import TODAY
from tests.factories import make_student, system_user

D = dt.date
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@contextmanager
def on(day: dt.date) -> Iterator[None]:
    """The clock stands at 10:00 in Shijiazhuang on `day` (what `timezone.localdate()` reads in the views)."""
    with time_machine.travel(
        dt.datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    ):
        yield


class WorkApiClient(ApiClient):
    def put(self, path: str, data: Any = None) -> Any:
        return self._call("put", path, data)


def client(user: User | None) -> WorkApiClient:
    """An API client (bearer token) whose answers are in English, the source language of the messages."""
    api = WorkApiClient(user)
    api.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return api


def post_form(api: ApiClient, path: str, data: dict[str, Any]) -> Any:
    """A multipart POST (e.g. with a file) through the API client's credentials."""
    return api.client.post(f"{API}{path}", data, headers=api.headers)


def log(actor: User, student: Student, kind: str, day: dt.date, *, today: dt.date | None = None, **details: Any) -> Any:
    """An activity recorded through the service, as the pages would."""
    return record_activity(actor=actor, student=student, kind=kind, occurred_on=day, today=today or day, **details)


def ledger_student(class_unit: Any, *, name: str, helper: User | None, cohort: int, joined_on: dt.date) -> Student:
    """A student of `cohort` in the ledger since `joined_on`, helped by `helper` from then (rows as of TODAY)."""
    student = make_student(class_unit, name=name, cohort=cohort)
    join_ledger(
        actor=system_user(),
        student=student,
        joined_on=joined_on,
        reason="入学普查：低保家庭",
        categories=["subsistence_allowance"],
        today=TODAY,
    )
    if helper is not None:
        assign_helper(actor=system_user(), student=student, helper=helper, start=joined_on, today=TODAY)
    return student
