"""`bangfu anonymise_expired` and the access-log retention step of the daily job.

World: cohort 2021, graduating 2024-06-30, default policy (12 months of follow-up): the follow-up period ends
2025-06-30. Judged on 2031-01-15 with 5 years of retention, the cutoff is 2026-01-15.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from bangfu.assistance.models import Activity, ActivityKind, Policy
from bangfu.assistance.services import record_activity
from bangfu.audit.models import AccessAction, AccessLog
from bangfu.audit.services import log_access
from bangfu.notifications.tasks import daily_job
from bangfu.operations.checksums import database_checksums, table_models
from bangfu.operations.models import AnonymisationRun, AnonymisedStudent
from bangfu.operations.retention import CHANGE_REASON, expired_students, follow_up_end, purge_access_log
from bangfu.organisation.models import User
from bangfu.outcomes.models import Destination
from bangfu.outcomes.queries import graduates_of, placement_figures
from bangfu.outcomes.services import record_destination, record_follow_up
from bangfu.students import idnumbers
from bangfu.students.models import LedgerEntry, Student
from bangfu.students.services import update_student
from tests.conftest import PASSWORD, TODAY, World
from tests.factories import make_student
from tests.operations.helpers import CONTRACT, RESUME, add_records_with_files, files_under, pdf

JUDGED_ON = dt.date(2031, 1, 15)
PHONE = "13912345678"
ADDRESS = "河北省辛集市旧城镇王家庄村3号"
EMAIL = "tianbinchen@example.com"


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def graduates(world: World, media: Path) -> dict[str, object]:
    """`own` with everything a record can hold; `dept2_student` followed up late (not expired yet); a student of
    cohort 2024 (graduating 2027, not expired); destinations for the placement figures."""
    own = update_student(
        actor=world.office, student=world.own, expected_version=world.own.version, phone=PHONE, address=ADDRESS
    )
    User.objects.filter(pk=world.student_user.pk).update(email=EMAIL)
    add_records_with_files(world, today=TODAY)
    record_follow_up(
        actor=world.helper,
        student=own,
        done_on=dt.date(2024, 9, 1),
        status="still_employed",
        today=dt.date(2024, 9, 1),
        notes="田斌臣在华信科技工作稳定，电话13912345678。",
    )
    log_access(actor=world.office, action=AccessAction.DOWNLOAD_EVIDENCE, student=own, detail="田斌臣-简历.pdf")
    record_destination(
        actor=world.office, student=world.classmate, code="80", today=dt.date(2024, 7, 10), employer_name="河北科技大学"
    )
    record_destination(actor=world.office, student=world.dept2_student, code="70", today=dt.date(2024, 7, 10))
    record_follow_up(
        actor=world.office,
        student=world.dept2_student,
        done_on=dt.date(2026, 3, 1),
        status="unemployed",
        today=dt.date(2026, 3, 1),
        notes="陈静仍在找工作。",
    )
    newer = make_student(world.class1, name="王小明", cohort=2024, phone="13700001111")
    record_activity(
        actor=world.office,
        student=newer,
        kind=ActivityKind.TALK,
        occurred_on=dt.date(2024, 10, 8),
        today=dt.date(2024, 10, 8),
        notes="王小明入学谈心。",
        attachment=pdf("王小明-谈话记录.pdf", RESUME),
    )
    return {"own": own, "id_number": idnumbers.decrypt(own.id_number_cipher), "newer": newer}


def figures() -> list[dict[str, object]]:
    students = graduates_of(Student.objects.all(), 2024)
    return [
        {"by": by, "key": f.key, **f.as_dict()}
        for by in (None, "department", "category", "ledger")
        for f in placement_figures(students=students, as_of=dt.date(2024, 12, 31), by=by)
    ]


TEXT_TYPES = ("CharField", "TextField", "EmailField", "FileField", "JSONField")


def places_holding(texts: list[str]) -> dict[str, list[str]]:
    """For each text, every table.column (all text and JSON columns of every table, history included) holding it,
    also as JSON escapes it (SQLite keeps JSON as ASCII). The database finds the rows, one query per table."""
    needles = {text: {text, json.dumps(text)[1:-1]} for text in texts}
    position = "instr" if connection.vendor == "sqlite" else "strpos"
    found: dict[str, set[str]] = {text: set() for text in texts}
    with connection.cursor() as cursor:
        for model in table_models():
            fields = [f for f in model._meta.concrete_fields if f.get_internal_type() in TEXT_TYPES]
            if not fields:
                continue
            columns = [f"CAST({connection.ops.quote_name(f.column)} AS TEXT)" for f in fields]
            every = [n for group in needles.values() for n in group]
            where = " OR ".join(f"{position}({c}, %s) > 0" for c in columns for _ in every)
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}", every * len(columns))
            for row in cursor.fetchall():
                for field, value in zip(fields, row, strict=True):
                    for text, group in needles.items():
                        if value and any(n in value for n in group):
                            found[text].add(f"{model._meta.db_table}.{field.column}")
    return {text: sorted(places) for text, places in found.items()}


def anonymise(*args: str) -> str:
    out = io.StringIO()
    call_command("anonymise_expired", "--date", JUDGED_ON.isoformat(), *args, stdout=out)
    return out.getvalue()


def test_follow_up_ends_after_the_policy_months_or_at_the_last_follow_up() -> None:
    graduation = dt.date(2024, 6, 30)
    assert follow_up_end(graduation=graduation, follow_up_months=12, last_follow_up=None) == dt.date(2025, 6, 30)
    assert follow_up_end(graduation=graduation, follow_up_months=12, last_follow_up=dt.date(2025, 1, 1)) == dt.date(
        2025, 6, 30
    )
    assert follow_up_end(graduation=graduation, follow_up_months=12, last_follow_up=dt.date(2026, 3, 1)) == dt.date(
        2026, 3, 1
    )
    assert follow_up_end(graduation=dt.date(2024, 2, 29), follow_up_months=24, last_follow_up=None) == dt.date(
        2026, 2, 28
    )


def test_who_has_expired_follows_the_school_policy_and_late_follow_ups(world: World, graduates) -> None:  # type: ignore[no-untyped-def]
    expired = expired_students(today=JUDGED_ON, years=5)
    assert [(e.student_number, e.school, e.cohort, e.follow_up_ended_on) for e in expired] == [
        ("2021000001", "HEBUST", 2021, dt.date(2025, 6, 30)),
        ("2021000002", "HEBUST", 2021, dt.date(2025, 6, 30)),
        ("2021000004", "OTHER", 2021, dt.date(2025, 6, 30)),
    ]
    # The other school follows its graduates for three years (policy in force on the graduation date).
    Policy.objects.create(school=world.other_school, valid_from=dt.date(2024, 1, 1), follow_up_months=36)
    assert [e.student_number for e in expired_students(today=JUDGED_ON, years=5)] == ["2021000001", "2021000002"]
    # Judged later: the late follow-up of 2026-03-01 has now been over for five years too.
    assert [e.student_number for e in expired_students(today=dt.date(2031, 3, 2), years=5)] == [
        "2021000001",
        "2021000002",
        "2021000003",
    ]


def test_dry_run_lists_who_and_writes_nothing(world: World, graduates) -> None:  # type: ignore[no-untyped-def]
    before = database_checksums()

    said = anonymise("--dry-run")

    assert said.splitlines() == [
        "Dry run: 3 graduates whose follow-up ended before 2026-01-15 would be anonymised.",
        "  HEBUST, cohort 2021: 2 — 2021000001 2021000002",
        "  OTHER, cohort 2021: 1 — 2021000004",
    ]
    assert database_checksums() == before


def test_anonymising_erases_the_person_and_keeps_the_figures(
    world: World, graduates, media: Path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    own: Student = graduates["own"]
    secrets = ["田斌臣", PHONE, ADDRESS, EMAIL, graduates["id_number"], own.id_number_masked, own.id_number_hash]
    secrets += ["祖父母抚养", "刘洋", "孙磊", "2021000001", "田斌臣-简历"]
    # The scan finds each of them before, except the ID number itself, which is never stored unencrypted.
    assert [s for s, places in places_holding(secrets).items() if not places] == [graduates["id_number"]]
    figures_before = figures()
    files_before = files_under(media)
    newer_file = Activity.objects.get(student=graduates["newer"]).attachment.name
    own_files = {
        Activity.objects.get(student=own, kind=ActivityKind.RESUME_REVISION).attachment.name,
        Destination.objects.get(student=own).evidence.name,
    }
    assert own_files <= set(files_before)

    with django_capture_on_commit_callbacks(execute=True):  # files are deleted once the batch has committed
        said = anonymise()

    assert said.splitlines() == [
        "Anonymised 3 graduates whose follow-up ended before 2026-01-15 (run 1).".replace(
            "run 1", f"run {AnonymisationRun.objects.get().pk}"
        ),
        "  HEBUST, cohort 2021: 2",
        "  OTHER, cohort 2021: 1",
    ]
    assert places_holding(secrets) == {s: [] for s in secrets}
    assert figures() == figures_before
    # Files: the anonymised students' are gone, the others' stay.
    assert set(files_under(media)) == {newer_file}
    assert files_under(media)[newer_file] == RESUME
    assert CONTRACT not in files_under(media).values()

    # What the statistics need stays.
    row = Student.objects.get(pk=own.pk)
    assert (row.name, row.student_number, row.phone, row.address, row.id_number_cipher, row.birth_date) == (
        "已匿名",
        f"anon-{own.pk}",
        "",
        "",
        "",
        None,
    )
    assert (row.cohort, row.gender, row.department_id, row.major_id, row.expected_graduation, row.home_province) == (
        own.cohort,
        own.gender,
        own.department_id,
        own.major_id,
        dt.date(2024, 6, 30),
        "河北省",
    )
    entry = LedgerEntry.objects.get(student=own)
    assert sorted(entry.categories.values_list("category", flat=True)) == ["orphan", "poverty_alleviated"]
    assert (entry.family_situation, entry.join_reason, entry.joined_on) == ("", "", dt.date(2021, 11, 1))
    assert sorted(Activity.objects.filter(student=own).values_list("kind", "occurred_on", "notes")) == [
        ("follow_up", dt.date(2024, 9, 1), ""),
        ("resume_revision", TODAY, ""),
    ]
    destination = Destination.objects.get(student=own)
    assert (destination.code.code, destination.salary, destination.verified_on, destination.note) == (
        "11",
        4500,
        TODAY,
        "",
    )
    # The portal account is closed and nameless.
    account = User.objects.get(pk=world.student_user.pk)
    assert (account.username, account.full_name, account.email, account.is_active) == (
        f"anonymised-{account.pk}",
        "",
        "",
        False,
    )
    assert not account.has_usable_password() and not account.check_password(PASSWORD)
    # Others are untouched.
    assert Student.objects.get(pk=world.dept2_student.pk).name == "陈静"
    assert Student.objects.get(pk=graduates["newer"].pk).phone == "13700001111"
    # The audit: one history row per student says who and why; the run counts without naming anyone.
    reasons = list(own.history.filter(history_change_reason=CHANGE_REASON).values_list("name", flat=True))
    assert reasons == ["已匿名"]
    run = AnonymisationRun.objects.get()
    assert (run.anonymised, run.summary, run.retention_years, run.cutoff) == (
        3,
        {"HEBUST": {"2021": 2}, "OTHER": {"2021": 1}},
        5,
        dt.date(2026, 1, 15),
    )
    assert AnonymisedStudent.objects.filter(run=run).count() == 3


def test_anonymising_twice_changes_nothing_more(world: World, graduates) -> None:  # type: ignore[no-untyped-def]
    anonymise()
    after_first = database_checksums()

    said = anonymise()

    assert said.splitlines()[0].startswith("Anonymised 0 graduates")
    after_second = database_checksums()
    runs = "operations_anonymisationrun"
    assert after_second[runs]["rows"] == after_first[runs]["rows"] + 1
    assert {k: v for k, v in after_second.items() if k != runs} == {k: v for k, v in after_first.items() if k != runs}


def test_daily_job_deletes_access_log_rows_past_retention(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ACCESS_LOG_RETENTION_DAYS = 183
    day = dt.date(2024, 9, 30)
    ages = {"fresh": 10, "last kept": 183, "just past": 184, "old": 400}
    for detail, age in ages.items():
        row = log_access(actor=world.office, action=AccessAction.EXPORT, detail=detail)
        at = dt.datetime.combine(day - dt.timedelta(days=age), dt.time(9), tzinfo=dt.UTC)
        AccessLog.objects.filter(pk=row.pk).update(at=at)

    result = daily_job.call(day.isoformat())

    assert result["access_log_deleted"] == 2
    assert sorted(AccessLog.objects.values_list("detail", flat=True)) == ["fresh", "last kept"]


def test_access_log_is_purged_in_batches(world: World) -> None:
    day = dt.date(2024, 9, 30)
    for n in range(5):
        row = log_access(actor=world.office, action=AccessAction.REVEAL_ID, detail=f"old {n}")
        AccessLog.objects.filter(pk=row.pk).update(at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
    log_access(actor=world.office, action=AccessAction.REVEAL_ID, detail="today")

    assert purge_access_log(today=day, days=200, batch_size=2) == 5
    assert list(AccessLog.objects.values_list("detail", flat=True)) == ["today"]
    assert purge_access_log(today=day, days=200, batch_size=2) == 0
