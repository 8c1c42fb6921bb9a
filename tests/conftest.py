"""Personas and a small realistic world: two schools, departments, staff of every role, students."""

import datetime as dt
import os
from dataclasses import dataclass

import pytest
from django.test import Client, override_settings
from django.utils import translation

from bangfu.assistance.services import assign_helper
from bangfu.organisation.models import OrgUnit, Role, User
from bangfu.students.models import Student
from bangfu.students.services import join_ledger
from tests.factories import PASSWORD, make_school, make_staff, make_student, system_user
from tests.snapshot import replayable

IN_CI = os.environ.get("CI", "").lower() == "true"
TODAY = dt.date(2024, 3, 15)


@dataclass
class World:
    school: OrgUnit
    dept1: OrgUnit
    dept2: OrgUnit
    class1: OrgUnit
    class2: OrgUnit
    other_school: OrgUnit
    office: User
    principal: User
    leader: User  # leader of dept1
    other_leader: User  # leader of dept2
    counsellor: User  # counsellor of class1
    helper: User  # a teacher in dept1 who helps `own`
    student_user: User
    outsider: User  # employment office of the other school
    own: Student  # dept1, in the ledger, helped by `helper`, has a student login
    classmate: Student  # dept1, same class, not helped by `helper`
    dept2_student: Student
    other_school_student: Student


@pytest.fixture(autouse=True)
def english_by_default(request: pytest.FixtureRequest, settings) -> object:  # type: ignore[no-untyped-def]
    """Tests read the English source texts; a test about the school's Chinese default asks for `chinese_default`."""
    language = "zh-hans" if "chinese_default" in request.fixturenames else "en"
    settings.LANGUAGE_CODE = language
    with translation.override(language):
        yield


@pytest.fixture(autouse=True)
def generous_rate_limits(settings) -> None:  # type: ignore[no-untyped-def]
    """The suite logs in and calls the API far more often than anyone would: tests of the limits (tests/security/)
    set low rates of their own."""
    settings.API_THROTTLE_RATES = {"user": "100000/min", "anon": "100000/min"}
    settings.LOGIN_RATE = "100000/min"


@pytest.fixture
def chinese_default() -> None:
    """Keep Chinese, the default of a new school (see `english_by_default`)."""


@pytest.fixture
def world(request: pytest.FixtureRequest, db: None) -> World:
    """The world, built once per test process and written back for each test (tests/snapshot.py); a test that
    commits (`transactional_db`, `live_server`) builds its own."""
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        return make_world()
    return _replayed_world()


def make_world() -> World:
    """The `world` fixture's data, for a fixture of a wider scope (see tests/test_authorization_matrix.py)."""
    u = make_school()
    o = make_school(code="OTHER", name="另一所大学", departments=1)
    office = make_staff("office", Role.EMPLOYMENT_OFFICE, u["school"], full_name="李主任")
    principal = make_staff("principal", Role.SCHOOL_LEADER, u["school"], full_name="张校长")
    leader = make_staff("leader", Role.DEPARTMENT_LEADER, u["dept1"], full_name="郑书记")
    other_leader = make_staff("leader2", Role.DEPARTMENT_LEADER, u["dept2"], full_name="王主任")
    counsellor = make_staff("counsellor", Role.COUNSELLOR, u["class1"], full_name="赵辅导员")
    helper = make_staff("helper", Role.TEACHER, u["dept1"], full_name="郑银乐")
    outsider = make_staff("outsider", Role.EMPLOYMENT_OFFICE, o["school"], full_name="外校老师")
    student_user = make_staff("student", Role.STUDENT, u["class1"], full_name="田斌臣")

    own = make_student(u["class1"], name="田斌臣", user=student_user)
    classmate = make_student(u["class1"], name="刘洋")
    dept2_student = make_student(u["class2"], name="陈静")
    other_school_student = make_student(o["class1"], name="孙磊")
    actor = system_user()
    join_ledger(
        actor=actor,
        student=own,
        joined_on=dt.date(2021, 11, 1),
        reason="入学普查：脱贫家庭，由祖父母抚养",
        categories=["poverty_alleviated", "orphan"],
        family_situation="父亲车祸去世，母亲改嫁，由七十多岁务农的祖父母抚养。",
        hardship_level="special",
        today=TODAY,
    )
    assign_helper(actor=actor, student=own, helper=helper, start=dt.date(2021, 11, 1), today=TODAY)
    return World(
        school=u["school"],
        dept1=u["dept1"],
        dept2=u["dept2"],
        class1=u["class1"],
        class2=u["class2"],
        other_school=o["school"],
        office=office,
        principal=principal,
        leader=leader,
        other_leader=other_leader,
        counsellor=counsellor,
        helper=helper,
        student_user=student_user,
        outsider=outsider,
        own=own,
        classmate=classmate,
        dept2_student=dept2_student,
        other_school_student=other_school_student,
    )


_replayed_world = replayable(make_world)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    """The suite builds its test databases from the models (`--no-migrations` in pyproject.toml), which is much
    faster than running every migration: record every migration as applied, as `bangfu migrate` leaves a database
    (the national destination codes that a migration installs come with the `post_migrate` signal, see
    `outcomes.apps`). `make migrations-check` keeps the migrations equal to the models; `tests/operations` and
    the bench tests run them for real."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    with django_db_blocker.unblock():
        recorder = MigrationRecorder(connection)
        recorder.ensure_schema()
        with override_settings(MIGRATION_MODULES={}):  # pytest-django hides them for the session
            nodes = MigrationLoader(connection, ignore_no_migrations=True).graph.nodes
        for app, name in nodes:
            recorder.record_applied(app, name)


def login(client: Client, user: User) -> Client:
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def as_user(client: Client):  # type: ignore[no-untyped-def]
    """`as_user(world.helper)` → a test client logged in as that user."""
    return lambda user: login(client, user)


__all__ = ["IN_CI", "PASSWORD", "TODAY", "World", "login", "make_world"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `postgres` run only against PostgreSQL; in the CI PostgreSQL pass they must not skip. Tests
    marked `own_sqlite` never touch the configured database, so the PostgreSQL pass leaves them to the SQLite one."""
    from django.conf import settings

    on_postgres = "postgresql" in settings.DATABASES["default"]["ENGINE"]
    if on_postgres:
        same = pytest.mark.skip(reason="builds its own SQLite database: run in the SQLite pass")
        for item in items:
            if "own_sqlite" in item.keywords:
                item.add_marker(same)
        return
    if os.environ.get("BANGFU_REQUIRE_POSTGRES") == "1":
        raise pytest.UsageError("BANGFU_REQUIRE_POSTGRES=1 but DATABASE_URL does not point at PostgreSQL")
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://… (CI does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
