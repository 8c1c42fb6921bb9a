"""The work ledger against the standards, with a frozen clock: stages, months, policy versions, risk."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F

from bangfu.assistance.models import Activity, ActivityKind, Metric, Period, Policy, Response, RiskLevel, Stage
from bangfu.assistance.models import StudentProgress as Progress
from bangfu.assistance.rules import DEFAULT_RULES, Timeline, stage_on
from bangfu.assistance.services import record_activity, save_policy, update_activity
from bangfu.outcomes.services import record_destination
from bangfu.students.services import leave_ledger
from tests.factories import system_user

D = dt.date
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def meter(student, metric):
    row = Progress.objects.get(student=student)
    return next(m for m in row.meters if m["metric"] == metric)


def log(world, kind, day, today=None, actor=None, **details):
    return record_activity(
        actor=actor or world.helper, student=world.own, kind=kind, occurred_on=day, today=today or day, **details
    )


@pytest.mark.parametrize(
    ("day", "stage"),
    [
        (D(2021, 9, 1), Stage.ENROLMENT),
        (D(2022, 2, 28), Stage.ENROLMENT),
        (D(2022, 3, 1), Stage.STUDY),
        (D(2023, 8, 31), Stage.STUDY),
        (D(2023, 9, 1), Stage.JOB_SEARCH),  # semester 5 of a 3-year programme
        (D(2024, 6, 30), Stage.JOB_SEARCH),
        (D(2024, 7, 1), Stage.AFTER_LEAVING),
        (D(2025, 6, 30), Stage.AFTER_LEAVING),
        (D(2025, 7, 1), Stage.CLOSED),
    ],
)
def test_stages_of_a_three_year_programme(day, stage):
    assert stage_on(Timeline(2021, 3, D(2024, 6, 30)), day, DEFAULT_RULES) == stage


def test_a_four_year_programme_starts_job_search_in_semester_seven():
    t = Timeline(2021, 4, D(2025, 6, 30))
    assert stage_on(t, D(2024, 8, 31), DEFAULT_RULES) == Stage.STUDY
    assert stage_on(t, D(2024, 9, 1), DEFAULT_RULES) == Stage.JOB_SEARCH


def test_job_search_meters_count_three_three_three_three(world):
    today = D(2023, 12, 20)
    log(world, ActivityKind.TALK, D(2023, 9, 10), today)
    log(world, ActivityKind.TALK, D(2023, 10, 8), today)
    log(world, ActivityKind.TALK, D(2023, 3, 8), today)  # study stage: does not count toward job search
    log(world, ActivityKind.EVENT_TOGETHER, D(2023, 11, 2), today, event_name="石家庄秋季大型招聘会")
    row = Progress.objects.get(student=world.own)
    assert row.stage == Stage.JOB_SEARCH
    assert {m["metric"]: (m["done"], m["required"]) for m in row.meters} == {
        Metric.TALK: (2, 3),
        Metric.RESUME_REVISION: (0, 3),
        Metric.EVENT_TOGETHER: (1, 3),
        Metric.EFFECTIVE_RECOMMENDATION: (0, 3),
    }
    assert (row.standards_met, row.standards_total) == (0, 4)
    assert row.next_due_on == D(2024, 6, 30)
    assert row.last_contact_on == D(2023, 11, 2)


def test_only_effective_recommendations_count(world):
    today = D(2023, 12, 20)
    job = {"employer_name": "河北冀之力商贸有限公司", "position_title": "服装设计助理"}
    log(world, ActivityKind.JOB_RECOMMENDATION, D(2023, 12, 1), today, fits_student=True, **job)
    log(world, ActivityKind.JOB_RECOMMENDATION, D(2023, 12, 2), today, response=Response.APPLIED, **job)
    assert meter(world.own, Metric.EFFECTIVE_RECOMMENDATION)["done"] == 0
    fitting = Activity.objects.get(occurred_on=D(2023, 12, 1))
    update_activity(actor=world.helper, activity=fitting, expected_version=1, today=today, response=Response.APPLIED)
    assert meter(world.own, Metric.EFFECTIVE_RECOMMENDATION)["done"] == 1


def test_monthly_check_in_counts_missed_months_and_the_due_date(world):
    today = D(2022, 6, 15)
    log(world, ActivityKind.CHECK_IN, D(2022, 3, 20), today)
    log(world, ActivityKind.CHECK_IN, D(2022, 5, 31), today)
    m = meter(world.own, Metric.CHECK_IN)
    assert (m["done"], m["overdue"], m["due_on"]) == (0, 1, "2022-06-30")  # April missed; June due
    log(world, ActivityKind.CHECK_IN, D(2022, 6, 1), today)
    m = meter(world.own, Metric.CHECK_IN)
    assert (m["done"], m["overdue"], m["due_on"]) == (1, 1, None)
    assert Progress.objects.get(student=world.own).last_check_in_on == D(2022, 6, 1)


def test_a_new_policy_version_judges_only_the_months_after_it_starts(world, time_machine):
    time_machine.move_to(dt.datetime(2022, 4, 20, 9, tzinfo=dt.UTC))
    save_policy(
        actor=world.office,
        school=world.school,
        valid_from=D(2022, 5, 1),
        standards=[{"stage": Stage.STUDY, "metric": Metric.CHECK_IN, "min_count": 2, "period": Period.MONTH}],
    )
    today = D(2022, 7, 2)
    for day in (D(2022, 3, 3), D(2022, 4, 3), D(2022, 5, 3), D(2022, 6, 3), D(2022, 6, 17)):
        log(world, ActivityKind.CHECK_IN, day, today)
    # March and April needed one (the article's default), May and June two: only May is short.
    m = meter(world.own, Metric.CHECK_IN)
    assert (m["required"], m["overdue"]) == (2, 1)


def test_a_policy_version_already_in_force_cannot_be_rewritten(world, time_machine):
    time_machine.move_to(dt.datetime(2022, 6, 1, 9, tzinfo=dt.UTC))
    standards = [{"stage": Stage.JOB_SEARCH, "metric": Metric.EFFECTIVE_RECOMMENDATION, "min_count": 5}]
    save_policy(actor=world.office, school=world.school, valid_from=D(2022, 5, 1), standards=standards)
    with pytest.raises(ValidationError, match="already in force"):
        save_policy(actor=world.office, school=world.school, valid_from=D(2022, 5, 1), standards=standards)
    with pytest.raises(PermissionDenied):
        save_policy(actor=world.leader, school=world.school, valid_from=D(2022, 7, 1), standards=standards)
    assert Policy.objects.count() == 1


def test_follow_ups_after_leaving_fall_due_at_one_three_six_and_twelve_months(world):
    today = D(2024, 10, 15)
    log(world, ActivityKind.FOLLOW_UP, D(2024, 8, 2), today)
    m = meter(world.own, Metric.FOLLOW_UP)
    # Due 30 Jul (1 month) and 30 Sep (3 months) have passed; one follow-up done; next due 30 Sep.
    assert (m["done"], m["required"], m["overdue"], m["due_on"]) == (1, 2, 1, "2024-09-30")


@pytest.mark.parametrize(
    ("day", "message"),
    [(D(2024, 1, 2), "future"), (D(2021, 8, 31), "before the student's enrolment")],
)
def test_dates_in_the_future_or_before_enrolment_are_refused(world, day, message):
    with pytest.raises(ValidationError, match=message):
        log(world, ActivityKind.TALK, day, today=D(2024, 1, 1))
    assert not Activity.objects.exists()


def test_only_the_helper_or_a_leader_logs_for_a_student(world):
    today = D(2023, 10, 1)
    with pytest.raises(PermissionDenied):
        log(world, ActivityKind.TALK, today, actor=world.counsellor)  # the class counsellor is not the helper
    with pytest.raises(PermissionDenied):
        record_activity(
            actor=world.helper, student=world.classmate, kind=ActivityKind.TALK, occurred_on=today, today=today
        )
    log(world, ActivityKind.TALK, today, actor=world.leader)
    assert Activity.objects.get().helper == world.leader


def test_a_closed_month_cannot_be_edited_but_can_be_corrected(world):
    talk = log(world, ActivityKind.TALK, D(2023, 9, 5), D(2023, 9, 5), notes="谈职业规划")
    update_activity(
        actor=world.helper, activity=talk, expected_version=1, today=D(2023, 10, 10), notes="谈职业规划与实习"
    )
    with pytest.raises(ValidationError, match="closed"):
        update_activity(actor=world.helper, activity=talk, expected_version=2, today=D(2023, 10, 11), notes="改")
    correction = log(world, ActivityKind.CHECK_IN, D(2023, 9, 5), D(2023, 10, 11), corrects=talk)
    talk.refresh_from_db()
    assert talk.voided and correction.corrects == talk
    assert meter(world.own, Metric.TALK)["done"] == 0


def test_a_stale_edit_is_refused(world):
    talk = log(world, ActivityKind.TALK, D(2023, 9, 5))
    update_activity(actor=world.helper, activity=talk, expected_version=1, today=D(2023, 9, 6), notes="第一次")
    with pytest.raises(ValidationError, match="Someone else saved"):
        update_activity(actor=world.helper, activity=talk, expected_version=1, today=D(2023, 9, 6), notes="第二次")
    talk.refresh_from_db()
    assert talk.notes == "第一次"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("简历.pdf", PDF + b"0" * (6 * 1024 * 1024)), "at most"),
        (SimpleUploadedFile("简历.exe", b"MZ\x90\x00"), "PDF, JPEG or PNG"),
        (SimpleUploadedFile("简历.pdf", b"MZ\x90\x00 not a pdf"), "not a real PDF"),
    ],
)
def test_bad_attachments_are_refused_and_nothing_is_written(world, upload, message):
    with pytest.raises(ValidationError, match=message):
        log(world, ActivityKind.RESUME_REVISION, D(2023, 10, 1), attachment=upload)
    assert not Activity.objects.exists()


def test_a_resume_revision_carries_the_resume(world):
    with pytest.raises(ValidationError, match="Attach the revised"):
        log(world, ActivityKind.RESUME_REVISION, D(2023, 10, 1))
    log(world, ActivityKind.RESUME_REVISION, D(2023, 10, 1), attachment=SimpleUploadedFile("简历v2.pdf", PDF))
    assert meter(world.own, Metric.RESUME_REVISION)["done"] == 1


def test_risk_reasons_say_why(world):
    log(world, ActivityKind.TALK, D(2024, 2, 1), D(2024, 5, 10))
    row = Progress.objects.get(student=world.own)
    codes = {r["code"] for r in row.risk_reasons}
    # Seven weeks before graduation with 1 of 12 job-search standards done, and 99 days without contact.
    assert codes == {"no_contact", "behind_before_graduation"}
    assert row.risk == RiskLevel.AT_RISK


def test_declined_recommendations_put_a_student_on_watch(world):
    today = D(2023, 11, 30)
    for day in (1, 2, 3):
        log(
            world,
            ActivityKind.JOB_RECOMMENDATION,
            D(2023, 11, day),
            today,
            employer_name="某物流公司",
            position_title="仓库管理员",
            response=Response.DECLINED,
        )
    row = Progress.objects.get(student=world.own)
    assert {"code": "declined", "level": RiskLevel.WATCH, "count": 3} in row.risk_reasons


def test_leaving_the_ledger_removes_the_progress_row(world):
    log(world, ActivityKind.TALK, D(2023, 9, 5))
    entry = world.own.ledger_entries.get()
    leave_ledger(
        actor=system_user(),
        entry=entry,
        left_on=D(2023, 9, 6),
        reason="家庭经济好转",
        expected_version=None,
        today=D(2023, 9, 6),
    )
    assert not Progress.objects.filter(student=world.own).exists()


def test_the_progress_row_copies_where_the_student_stands_and_the_migration_fills_it_the_same_way(world):
    """Unit, graduation year, active helper and destination group: copied from the student's rows by each refresh,
    and by the migration that added them (run here on rows emptied of them)."""
    record_destination(actor=system_user(), student=world.own, code="11", today=D(2024, 7, 10), employer_name="华信")
    row = Progress.objects.get(student=world.own)
    own = world.own
    assert (row.school_id, row.department_id, row.class_unit_id) == (
        own.school_id,
        own.department_id,
        own.class_unit_id,
    )
    assert (row.graduates_in, row.helper, row.destination_group) == (
        own.expected_graduation.year,
        world.helper,
        "employed",
    )
    before = {r.student_id: fields_of(r) for r in Progress.objects.all()}

    migration = importlib.import_module("bangfu.assistance.migrations.0004_progress_standing")
    Progress.objects.update(
        school_id=F("department_id"),
        graduates_in=None,
        helper=None,
        destination_group="",
        placed_since=None,
        class_unit_id=F("school_id"),
    )
    migration.fill(apps, None)

    assert {r.student_id: fields_of(r) for r in Progress.objects.all()} == before


def fields_of(row):
    return {f.attname: getattr(row, f.attname) for f in Progress._meta.concrete_fields}
