"""Progress kept by every write equals progress rebuilt from scratch, on random histories."""

import datetime as dt

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bangfu.assistance.models import Activity, ActivityKind, Response
from bangfu.assistance.models import StudentProgress as Progress
from bangfu.assistance.progress import rebuild_progress
from bangfu.assistance.services import end_assignment, hand_over, record_activity
from bangfu.students.services import join_ledger, leave_ledger
from tests.factories import system_user

START = dt.date(2021, 9, 1)
TODAYS = [dt.date(2022, 1, 15), dt.date(2022, 12, 10), dt.date(2023, 12, 20), dt.date(2024, 6, 1), dt.date(2024, 11, 5)]

activity = st.tuples(
    st.just("activity"),
    st.sampled_from([0, 1]),  # which student
    st.sampled_from(ActivityKind.values),
    st.integers(min_value=0, max_value=1200),  # days after enrolment
    st.booleans(),  # fits the student
    st.sampled_from(Response.values),
)
correction = st.tuples(st.just("correct"), st.integers(min_value=0, max_value=50), st.sampled_from(ActivityKind.values))
other = st.sampled_from([("hand_over",), ("end_help",), ("leave",), ("rejoin",)])
operations = st.lists(st.one_of(activity, activity, activity, correction, other), max_size=25)


def fields_of(row: Progress) -> dict:
    return {f.name: getattr(row, f.name) for f in Progress._meta.concrete_fields if f.name != "id"}


def snapshot() -> dict:
    return {row.student_id: fields_of(row) for row in Progress.objects.order_by("student_id")}


def apply(world, op, today):
    actor = system_user()
    students = [world.own, world.classmate]
    if op[0] == "activity":
        _, who, kind, offset, fits, response = op
        day = min(START + dt.timedelta(days=offset), today)
        details = {"fits_student": fits}
        if kind == ActivityKind.JOB_RECOMMENDATION:
            details |= {"employer_name": "石家庄某制衣厂", "position_title": "版师助理", "response": response}
        if kind == ActivityKind.EVENT_TOGETHER:
            details["event_name"] = "校园双选会"
        if kind == ActivityKind.RESUME_REVISION:
            kind = ActivityKind.TALK  # attachments are covered elsewhere; keep the history cheap
        record_activity(actor=actor, student=students[who], kind=kind, occurred_on=day, today=today, **details)
    elif op[0] == "correct":
        candidates = list(Activity.objects.filter(voided=False).order_by("pk"))
        if candidates:
            original = candidates[op[1] % len(candidates)]
            kind = op[2] if op[2] not in (ActivityKind.RESUME_REVISION, ActivityKind.JOB_RECOMMENDATION) else "talk"
            details = {"event_name": "校园双选会"} if kind == ActivityKind.EVENT_TOGETHER else {}
            record_activity(
                actor=actor,
                student=original.student,
                kind=kind,
                occurred_on=original.occurred_on,
                today=today,
                corrects=original,
                **details,
            )
    elif op[0] == "hand_over":
        current = world.own.helper_assignments.filter(ended_on__isnull=True).first()
        new = world.counsellor if current and current.helper == world.helper else world.helper
        if current:
            hand_over(
                actor=actor, student=world.own, new_helper=new, on=today, note="交接：学生情况见台账", today=today
            )
    elif op[0] == "end_help":
        current = world.own.helper_assignments.filter(ended_on__isnull=True).first()
        if current:
            end_assignment(
                actor=actor, assignment=current, ended_on=today, reason="调岗", expected_version=None, today=today
            )
    elif op[0] == "leave":
        entry = world.own.ledger_entries.filter(left_on__isnull=True).first()
        if entry and entry.joined_on <= today:
            leave_ledger(actor=actor, entry=entry, left_on=today, reason="已就业", expected_version=None, today=today)
    elif op[0] == "rejoin" and not world.own.ledger_entries.filter(left_on__isnull=True).exists():
        join_ledger(
            actor=actor, student=world.own, joined_on=today, reason="复核后重新纳入", categories=["rural"], today=today
        )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, today=st.sampled_from(TODAYS))
def test_incremental_progress_equals_a_rebuild(world, ops, today):
    with transaction.atomic():
        rebuild_progress(today=today)  # the nightly job has brought every row to `today`
        join_ledger(
            actor=system_user(),
            student=world.classmate,
            joined_on=dt.date(2021, 10, 8),
            reason="低保家庭",
            categories=["subsistence_allowance"],
            today=today,
        )
        for op in ops:
            apply(world, op, today)
        kept = snapshot()
        Progress.objects.all().delete()
        rebuild_progress(today=today)
        assert snapshot() == kept
        transaction.set_rollback(True)
