"""Employers, recommendations, event attendance, what an accepted recommendation starts, work-study limits and the
expiry of recommendations, through the services.

World: cohort 2021, vocational, graduating 2024-06-30 (TODAY 2024-03-15 is in the job-search stage); `own` is in
the ledger, helped by `helper`, and has no plan (so a position open to every major fits them).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from bangfu.assistance.models import Activity, ActivityKind, Metric, Response, StudentProgress
from bangfu.concurrency import StaleEdit
from bangfu.opportunities.models import (
    NEXT_STATUSES,
    STUDENT_ANSWERS,
    Employer,
    EventAttendance,
    Internship,
    OrderClassMembership,
    Recommendation,
    RecommendationStatus,
    RecommendationStep,
    WorkStudyAssignment,
    WorkStudyHours,
)
from bangfu.opportunities.services import (
    change_recommendation,
    create_employer,
    expire_recommendations,
    log_work_study_hours,
    recommend,
    record_attendance,
    save_event,
    start_work_study,
    update_employer,
)
from bangfu.outcomes.models import Destination
from bangfu.outcomes.queries import struck_off, unplaced
from bangfu.students.models import Student
from tests.conftest import TODAY, World
from tests.factories import make_credit_code, make_employer, make_position

D = dt.date
S = RecommendationStatus
CODE = make_credit_code(31415926)


@pytest.fixture
def jobs(world: World) -> SimpleNamespace:
    employer = make_employer(world.school, "石家庄华信科技有限公司", credit_code=CODE)
    return SimpleNamespace(
        employer=employer,
        job=make_position(employer, "软件测试工程师", deadline=D(2024, 4, 30)),
        internship=make_position(employer, "测试实习生", kind="internship"),
        order_class=make_position(employer, "华信订单班", kind="order_class"),
        work_study=make_position(employer, "机房管理员", kind="work_study"),
    )


def _meter(student: Student, metric: str) -> int:
    row = StudentProgress.objects.get(student=student)
    return next(m["done"] for m in row.meters if m["metric"] == metric)


def _declines(student: Student) -> int:
    return StudentProgress.objects.get(student=student).declined_count


def _step(rec: Recommendation, to: str, *, actor=None, on: dt.date = TODAY, **kw) -> Recommendation:  # type: ignore[no-untyped-def]
    if to == S.DECLINED:
        kw.setdefault("reason", "salary")
    return change_recommendation(
        actor=actor or rec.recommended_by, recommendation=rec, to_status=to, on=on, today=TODAY, **kw
    )


# --- Employers --------------------------------------------------------------------------------------------------


def test_an_employer_is_created_with_its_code_normalised(world: World) -> None:
    employer = create_employer(
        actor=world.counsellor, school=world.school, name=" 河北冀之力商贸有限公司 ", credit_code=CODE.lower()
    )

    assert (employer.name, employer.name_key, employer.credit_code) == (
        "河北冀之力商贸有限公司",
        "河北冀之力商贸有限公司",
        CODE,
    )
    assert employer.history.get().history_user == world.counsellor


@pytest.mark.parametrize(
    "name",
    ["石家庄华信科技有限公司", "石家庄 华信科技有限公司", "石家庄华信科技（有限公司）", "石家庄华信科技[有限公司]"],
)
def test_a_duplicate_by_normalised_name_is_refused(world: World, jobs: SimpleNamespace, name: str) -> None:
    with pytest.raises(ValidationError) as refused:
        create_employer(actor=world.office, school=world.school, name=name, credit_code=make_credit_code(1))

    assert refused.value.message_dict == {"name": ["This employer is already registered as 石家庄华信科技有限公司."]}
    assert Employer.objects.count() == 1


@pytest.mark.parametrize("code", [CODE, CODE.lower(), " ".join(CODE[i : i + 6] for i in range(0, 18, 6))])
def test_a_duplicate_by_credit_code_is_refused(world: World, jobs: SimpleNamespace, code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        create_employer(actor=world.office, school=world.school, name="新华书店", credit_code=code)

    assert refused.value.message_dict == {"credit_code": ["石家庄华信科技有限公司 already has this credit code."]}
    assert Employer.objects.count() == 1


def test_the_same_employer_may_be_known_to_another_school(world: World, jobs: SimpleNamespace) -> None:
    other = create_employer(
        actor=world.outsider, school=world.other_school, name="石家庄华信科技有限公司", credit_code=CODE
    )

    assert other.school == world.other_school
    assert Employer.objects.count() == 2


def test_an_update_into_a_duplicate_is_refused_and_the_employer_is_kept(world: World, jobs: SimpleNamespace) -> None:
    other = make_employer(world.school, "河北冀之力商贸有限公司", credit_code=make_credit_code(2))

    with pytest.raises(ValidationError) as refused:
        update_employer(actor=world.office, employer=other, expected_version=1, name="石家庄华信科技 有限公司")

    assert list(refused.value.message_dict) == ["name"]
    other.refresh_from_db()
    assert (other.name, other.version) == ("河北冀之力商贸有限公司", 1)


def test_an_invalid_code_is_refused_and_nothing_is_written(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        create_employer(actor=world.office, school=world.school, name="新华书店", credit_code=CODE[:17] + "I")

    assert list(refused.value.message_dict) == ["credit_code"]
    assert not Employer.objects.exists()


def test_employers_are_managed_by_the_office_leaders_and_counsellors_only(world: World, jobs: SimpleNamespace) -> None:
    for persona in ("helper", "principal", "student_user", "outsider"):
        with pytest.raises(PermissionDenied):
            create_employer(actor=getattr(world, persona), school=world.school, name=f"{persona}公司")
    with pytest.raises(StaleEdit):
        update_employer(actor=world.leader, employer=jobs.employer, expected_version=7, city="保定市")
    assert Employer.objects.count() == 1


# --- Recommendation steps ---------------------------------------------------------------------------------------

# How to bring a fresh recommendation to each status, one allowed step at a time.
REACH: dict[str, tuple[str, ...]] = {
    S.RECOMMENDED: (),
    S.INTERESTED: (S.INTERESTED,),
    S.APPLIED: (S.APPLIED,),
    S.INTERVIEWED: (S.APPLIED, S.INTERVIEWED),
    S.OFFER: (S.APPLIED, S.INTERVIEWED, S.OFFER),
    S.ACCEPTED: (S.APPLIED, S.OFFER, S.ACCEPTED),
    S.DECLINED: (S.DECLINED,),
    S.REJECTED: (S.APPLIED, S.REJECTED),
    S.EXPIRED: (S.EXPIRED,),
}
ALLOWED = [pytest.param(a, b, id=f"{a}-{b}") for a, nexts in NEXT_STATUSES.items() for b in nexts]
SKIPPING = [pytest.param(a, b, id=f"{a}-{b}") for a in S.values for b in S.values if b not in NEXT_STATUSES[a]]


def _reach(world: World, jobs: SimpleNamespace, status: str) -> Recommendation:
    rec = recommend(actor=world.helper, student=world.own, position=jobs.job, today=D(2024, 3, 1))
    for step in REACH[status]:
        rec = _step(rec, step)
    assert rec.status == status
    return rec


def test_every_status_is_reached_and_the_allowed_steps_are_complete() -> None:
    assert set(REACH) == set(S.values)
    assert len(ALLOWED) == 17
    assert len(ALLOWED) + len(SKIPPING) == len(S.values) ** 2


@pytest.mark.parametrize(("current", "to"), ALLOWED)
def test_each_allowed_step_is_taken_and_kept_with_who_and_when(
    world: World, jobs: SimpleNamespace, current: str, to: str
) -> None:
    rec = _reach(world, jobs, current)
    steps = rec.steps.count()

    rec = _step(rec, to, actor=world.leader, on=D(2024, 3, 14), note="电话确认")

    rec.refresh_from_db()
    assert rec.status == to
    assert rec.steps.count() == steps + 1
    last = rec.steps.order_by("-id").first()
    assert (last.from_status, last.to_status, last.on, last.by, last.note) == (
        current,
        to,
        D(2024, 3, 14),
        world.leader,
        "电话确认",
    )
    assert last.reason == ("salary" if to == S.DECLINED else "")


@pytest.mark.parametrize(("current", "to"), SKIPPING)
def test_each_step_that_skips_or_reopens_is_refused_and_nothing_is_written(
    world: World, jobs: SimpleNamespace, current: str, to: str
) -> None:
    rec = _reach(world, jobs, current)
    version, steps = rec.version, rec.steps.count()

    with pytest.raises(ValidationError) as refused:
        _step(rec, to)

    assert list(refused.value.message_dict) == ["status"]
    rec.refresh_from_db()
    assert (rec.status, rec.version, rec.steps.count()) == (current, version, steps)


def test_the_refusal_names_both_statuses(world: World, jobs: SimpleNamespace) -> None:
    rec = _reach(world, jobs, S.RECOMMENDED)

    with pytest.raises(ValidationError) as refused:
        _step(rec, S.OFFER)

    assert refused.value.message_dict == {
        "status": ["A recommendation that is “Recommended” cannot become “Offer received”."]
    }


@pytest.mark.parametrize(
    ("kw", "field"),
    [({"reason": ""}, "reason"), ({"reason": "weather"}, "reason"), ({"reason": "other", "note": " "}, "note")],
)
def test_a_decline_needs_a_reason_from_the_list(world: World, jobs: SimpleNamespace, kw: dict, field: str) -> None:  # type: ignore[type-arg]
    rec = _reach(world, jobs, S.RECOMMENDED)

    with pytest.raises(ValidationError) as refused:
        _step(rec, S.DECLINED, **kw)

    assert list(refused.value.message_dict) == [field]
    rec.refresh_from_db()
    assert (rec.status, rec.decline_reason) == (S.RECOMMENDED, "")


def test_a_step_cannot_be_dated_before_the_recommendation_nor_in_the_future(
    world: World, jobs: SimpleNamespace
) -> None:
    rec = _reach(world, jobs, S.RECOMMENDED)

    with pytest.raises(ValidationError) as before:
        _step(rec, S.APPLIED, on=D(2024, 2, 29))
    with pytest.raises(ValidationError) as future:
        _step(rec, S.APPLIED, on=D(2024, 3, 16))

    assert before.value.message_dict == {"on": ["The date cannot be before the recommendation (2024-03-01)."]}
    assert future.value.message_dict == {"on": ["The date cannot be in the future."]}


def test_only_those_who_log_help_and_the_student_move_a_recommendation(world: World, jobs: SimpleNamespace) -> None:
    rec = _reach(world, jobs, S.RECOMMENDED)
    theirs = recommend(actor=world.leader, student=world.classmate, position=jobs.job, today=D(2024, 3, 1))

    for persona in ("counsellor", "principal", "outsider"):
        with pytest.raises(PermissionDenied):
            _step(rec, S.APPLIED, actor=getattr(world, persona))
    with pytest.raises(PermissionDenied):  # a student answers only their own recommendations
        _step(theirs, S.APPLIED, actor=world.student_user)
    with pytest.raises(StaleEdit):
        _step(rec, S.APPLIED, expected_version=2)
    assert list(Recommendation.objects.order_by("id").values_list("status", "version")) == [
        (S.RECOMMENDED, 1),
        (S.RECOMMENDED, 1),
    ]


# --- The student's own answers ----------------------------------------------------------------------------------

# Each answer a student may give, from a status where it is the next step.
STUDENT_STEPS = [
    pytest.param(S.RECOMMENDED, S.INTERESTED, id="interested"),
    pytest.param(S.INTERESTED, S.APPLIED, id="applied"),
    pytest.param(S.APPLIED, S.INTERVIEWED, id="interviewed"),
    pytest.param(S.INTERVIEWED, S.OFFER, id="offer"),
    pytest.param(S.OFFER, S.ACCEPTED, id="accepted"),
    pytest.param(S.INTERESTED, S.DECLINED, id="declined"),
]


def test_the_student_answers_are_exactly_the_steps_the_student_may_take() -> None:
    assert sorted(p.values[1] for p in STUDENT_STEPS) == sorted(STUDENT_ANSWERS)
    assert S.REJECTED not in STUDENT_ANSWERS and S.EXPIRED not in STUDENT_ANSWERS


@pytest.mark.parametrize(("current", "to"), STUDENT_STEPS)
def test_the_student_answers_their_own_recommendation(
    world: World, jobs: SimpleNamespace, current: str, to: str
) -> None:
    rec = _reach(world, jobs, current)
    steps = rec.steps.count()

    rec = _step(rec, to, actor=world.student_user, note="已在网上投递简历")

    rec.refresh_from_db()
    last = rec.steps.order_by("-id").first()
    assert (rec.status, rec.steps.count()) == (to, steps + 1)
    assert (last.from_status, last.to_status, last.by, last.note) == (
        current,
        to,
        world.student_user,
        "已在网上投递简历",
    )


@pytest.mark.parametrize("to", [S.REJECTED, S.EXPIRED])
def test_the_student_cannot_record_the_employers_answer_or_an_expiry(
    world: World, jobs: SimpleNamespace, to: str
) -> None:
    rec = _reach(world, jobs, S.APPLIED)
    version, steps = rec.version, rec.steps.count()

    with pytest.raises(PermissionDenied):
        _step(rec, to, actor=world.student_user)

    rec.refresh_from_db()
    assert (rec.status, rec.version, rec.steps.count()) == (S.APPLIED, version, steps)


def test_the_student_cannot_skip_a_step_either(world: World, jobs: SimpleNamespace) -> None:
    rec = _reach(world, jobs, S.INTERESTED)

    with pytest.raises(ValidationError) as refused:
        _step(rec, S.OFFER, actor=world.student_user)

    assert refused.value.message_dict == {
        "status": ["A recommendation that is “Student interested” cannot become “Offer received”."]
    }
    assert Recommendation.objects.get().status == S.INTERESTED


def test_a_student_declining_without_a_reason_is_refused_and_nothing_is_written(
    world: World, jobs: SimpleNamespace
) -> None:
    rec = _reach(world, jobs, S.RECOMMENDED)

    with pytest.raises(ValidationError) as refused:
        change_recommendation(actor=world.student_user, recommendation=rec, to_status=S.DECLINED, on=TODAY, today=TODAY)

    assert refused.value.message_dict == {"reason": ["Choose why the student declined."]}
    rec.refresh_from_db()
    assert (rec.status, rec.version, rec.steps.count(), _declines(world.own)) == (S.RECOMMENDED, 1, 1, 0)


def test_interest_is_not_effective_applying_is(world: World, jobs: SimpleNamespace) -> None:
    rec = recommend(actor=world.helper, student=world.own, position=jobs.job, today=D(2024, 3, 1))

    rec = _step(rec, S.INTERESTED, actor=world.student_user, on=D(2024, 3, 5))

    activity = Activity.objects.get(recommendation=rec)
    assert (activity.response, activity.effective, rec.acted_on) == (Response.NONE, False, None)
    assert _meter(world.own, Metric.EFFECTIVE_RECOMMENDATION) == 0

    rec = _step(rec, S.APPLIED, actor=world.student_user, on=D(2024, 3, 8))

    activity.refresh_from_db()
    assert (activity.response, activity.effective, rec.acted_on) == (Response.APPLIED, True, D(2024, 3, 8))
    assert _meter(world.own, Metric.EFFECTIVE_RECOMMENDATION) == 1


def test_a_student_declining_after_interest_counts_as_a_decline(world: World, jobs: SimpleNamespace) -> None:
    rec = _reach(world, jobs, S.INTERESTED)

    _step(rec, S.DECLINED, actor=world.student_user, reason="location", note="")

    activity = Activity.objects.get(recommendation=rec)
    assert (activity.response, activity.effective) == (Response.DECLINED, False)
    assert (_meter(world.own, Metric.EFFECTIVE_RECOMMENDATION), _declines(world.own)) == (0, 1)


def test_a_student_accepting_a_job_records_the_destination_as_theirs(world: World, jobs: SimpleNamespace) -> None:
    rec = _reach(world, jobs, S.OFFER)

    _step(rec, S.ACCEPTED, actor=world.student_user, on=D(2024, 3, 14))

    destination = Destination.objects.get(student=world.own)
    assert (destination.code.code, destination.employer_name, destination.recorded_by) == (
        "10",
        "石家庄华信科技有限公司",
        world.student_user,
    )


# --- Effective recommendations and progress ---------------------------------------------------------------------


def test_fits_and_applied_is_effective_and_progress_moves_in_the_same_transaction(
    world: World, jobs: SimpleNamespace
) -> None:
    rec = recommend(actor=world.helper, student=world.own, position=jobs.job, today=TODAY)
    assert (rec.fits_student, rec.activity.effective, _meter(world.own, Metric.EFFECTIVE_RECOMMENDATION)) == (
        True,
        False,
        0,
    )

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        _step(rec, S.APPLIED)
        # Within the transaction that moved the recommendation, the standard has already moved.
        assert _meter(world.own, Metric.EFFECTIVE_RECOMMENDATION) == 1
        raise Undo
    # Undone together.
    assert (Recommendation.objects.get().status, _meter(world.own, Metric.EFFECTIVE_RECOMMENDATION)) == (
        S.RECOMMENDED,
        0,
    )

    _step(rec, S.APPLIED)

    activity = Activity.objects.get(recommendation=rec)
    assert (activity.response, activity.effective) == (Response.APPLIED, True)
    assert _meter(world.own, Metric.EFFECTIVE_RECOMMENDATION) == 1


def test_a_position_that_fits_neither_major_nor_intention_is_not_effective(world: World, jobs: SimpleNamespace) -> None:
    elsewhere = make_position(jobs.employer, "机电维修工", province="广东省", city="深圳市")
    elsewhere.majors.set([world.class2.parent])  # wants dept2's major, not the student's
    rec = recommend(actor=world.helper, student=world.own, position=elsewhere, today=TODAY)

    _step(rec, S.APPLIED)

    rec.refresh_from_db()
    assert (rec.fits_student, rec.fit_reasons) == (False, [])
    assert Activity.objects.get(recommendation=rec).effective is False
    assert _meter(world.own, Metric.EFFECTIVE_RECOMMENDATION) == 0


def test_declined_before_applying_is_not_effective_and_counts_as_a_decline(world: World, jobs: SimpleNamespace) -> None:
    rec = recommend(actor=world.helper, student=world.own, position=jobs.job, today=TODAY)

    _step(rec, S.DECLINED, reason="location", note="要照顾爷爷奶奶")

    activity = Activity.objects.get(recommendation=rec)
    assert (activity.response, activity.effective) == (Response.DECLINED, False)
    assert (_meter(world.own, Metric.EFFECTIVE_RECOMMENDATION), _declines(world.own)) == (0, 1)
    assert Recommendation.objects.get().decline_reason == "location"


def test_declined_after_applying_stays_effective(world: World, jobs: SimpleNamespace) -> None:
    rec = recommend(actor=world.helper, student=world.own, position=jobs.job, today=TODAY)
    rec = _step(rec, S.APPLIED)
    rec = _step(rec, S.INTERVIEWED)

    _step(rec, S.DECLINED, reason="other_offer")

    activity = Activity.objects.get(recommendation=rec)
    assert (activity.response, activity.effective) == (Response.INTERVIEWED, True)
    assert (_meter(world.own, Metric.EFFECTIVE_RECOMMENDATION), _declines(world.own)) == (1, 0)


def test_three_effective_recommendations_meet_the_standard(world: World, jobs: SimpleNamespace) -> None:
    for i in range(3):
        rec = recommend(
            actor=world.helper, student=world.own, position=make_position(jobs.employer, f"岗位{i}"), today=TODAY
        )
        _step(rec, S.APPLIED)

    meter = next(
        m
        for m in StudentProgress.objects.get(student=world.own).meters
        if m["metric"] == Metric.EFFECTIVE_RECOMMENDATION
    )
    assert (meter["done"], meter["required"], meter["met"]) == (3, 3, True)


def test_a_recommendation_is_a_work_ledger_activity_of_its_kind(world: World, jobs: SimpleNamespace) -> None:
    kinds = {}
    for position in (jobs.job, jobs.internship, jobs.order_class, jobs.work_study):
        rec = recommend(actor=world.helper, student=world.own, position=position, today=TODAY, note="推荐")
        kinds[position.kind] = (rec.activity.kind, rec.activity.employer_name, rec.activity.position_title)

    assert kinds == {
        "job": (ActivityKind.JOB_RECOMMENDATION, "石家庄华信科技有限公司", "软件测试工程师"),
        "internship": (ActivityKind.INTERNSHIP_ARRANGED, "石家庄华信科技有限公司", "测试实习生"),
        "order_class": (ActivityKind.ORDER_CLASS_RECOMMENDATION, "石家庄华信科技有限公司", "华信订单班"),
        "work_study": (ActivityKind.WORK_STUDY_RECOMMENDATION, "石家庄华信科技有限公司", "机房管理员"),
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "closed"}, "This position is no longer open."),
        ({"deadline": D(2024, 3, 14)}, "This position is no longer open."),
    ],
)
def test_a_closed_position_is_not_recommended(world: World, jobs: SimpleNamespace, change: dict, message: str) -> None:  # type: ignore[type-arg]
    for name, value in change.items():
        setattr(jobs.job, name, value)
    jobs.job.save()

    with pytest.raises(ValidationError) as refused:
        recommend(actor=world.helper, student=world.own, position=jobs.job, today=TODAY)

    assert refused.value.messages == [message]
    assert not Activity.objects.exists()


def test_a_position_is_recommended_once_and_only_within_the_school(world: World, jobs: SimpleNamespace) -> None:
    recommend(actor=world.helper, student=world.own, position=jobs.job, today=TODAY)
    far = make_position(make_employer(world.other_school, "保定远航物流有限公司"), "仓储管理员")

    with pytest.raises(ValidationError) as twice:
        recommend(actor=world.helper, student=world.own, position=jobs.job, today=TODAY)
    with pytest.raises(ValidationError) as foreign:
        recommend(actor=world.helper, student=world.own, position=far, today=TODAY)

    assert twice.value.messages == ["This position has already been recommended to 田斌臣."]
    assert foreign.value.messages == ["The position is not offered to the student's school."]
    assert Activity.objects.count() == 1


# --- Event attendance -------------------------------------------------------------------------------------------


def test_attending_an_event_with_the_helper_counts_as_event_together(world: World) -> None:
    event = save_event(actor=world.office, school=world.school, title="2024届春季双选会", held_on=D(2024, 3, 9))

    attendance = record_attendance(actor=world.helper, event=event, student=world.own, today=TODAY, notes="一起逛展位")

    activity = attendance.activity
    assert (activity.kind, activity.occurred_on, activity.event_name, activity.helper) == (
        ActivityKind.EVENT_TOGETHER,
        D(2024, 3, 9),
        "2024届春季双选会",
        world.helper,
    )
    assert _meter(world.own, Metric.EVENT_TOGETHER) == 1
    with pytest.raises(ValidationError):
        record_attendance(actor=world.helper, event=event, student=world.own, today=TODAY)
    assert (EventAttendance.objects.count(), _meter(world.own, Metric.EVENT_TOGETHER)) == (1, 1)


def test_attendance_needs_an_event_of_the_students_school_that_took_place(world: World) -> None:
    future = save_event(actor=world.office, school=world.school, title="五月双选会", held_on=D(2024, 5, 10))
    foreign = save_event(actor=world.outsider, school=world.other_school, title="保定双选会", held_on=D(2024, 3, 1))

    with pytest.raises(ValidationError) as early:
        record_attendance(actor=world.helper, event=future, student=world.own, today=TODAY)
    with pytest.raises(ValidationError) as elsewhere:
        record_attendance(actor=world.helper, event=foreign, student=world.own, today=TODAY)
    with pytest.raises(PermissionDenied):
        record_attendance(actor=world.counsellor, event=future, student=world.own, today=D(2024, 5, 10))

    assert early.value.messages == ["Attendance is recorded on or after the day of the event (2024-05-10)."]
    assert elsewhere.value.messages == ["The event is not one of the student's school."]
    assert not EventAttendance.objects.exists()
    assert _meter(world.own, Metric.EVENT_TOGETHER) == 0


# --- What an accepted recommendation starts ---------------------------------------------------------------------


def test_accepting_a_job_records_the_destination_and_strikes_the_student_off(
    world: World, jobs: SimpleNamespace
) -> None:
    ledger = Student.objects.in_ledger().filter(school=world.school)
    rec = _reach(world, jobs, S.OFFER)
    assert list(unplaced(ledger)) == [world.own]

    _step(rec, S.ACCEPTED, on=D(2024, 3, 14))

    destination = Destination.objects.get(student=world.own)
    assert (
        destination.code.code,
        destination.employer,
        destination.employer_name,
        destination.position_title,
        destination.salary,
        destination.work_city,
        destination.recorded_by,
        destination.note,
    ) == (
        "10",
        jobs.employer,
        "石家庄华信科技有限公司",
        "软件测试工程师",
        4000,
        "石家庄市",
        world.helper,
        "Accepted the recommended position.",
    )
    assert list(unplaced(ledger)) == []
    assert [(s, s.struck_off_on) for s in struck_off(ledger)] == [(world.own, TODAY)]


def test_accepting_a_job_with_another_destination_code(world: World, jobs: SimpleNamespace) -> None:
    rec = _reach(world, jobs, S.OFFER)

    _step(rec, S.ACCEPTED, destination_code="11")

    assert Destination.objects.get().code.code == "11"


@pytest.mark.parametrize(
    ("position", "model"),
    [("internship", Internship), ("order_class", OrderClassMembership), ("work_study", WorkStudyAssignment)],
)
def test_accepting_an_internship_order_class_or_work_study_starts_it(
    world: World, jobs: SimpleNamespace, position: str, model: type
) -> None:
    rec = recommend(actor=world.helper, student=world.own, position=getattr(jobs, position), today=D(2024, 3, 1))
    for status in (S.APPLIED, S.OFFER):
        rec = _step(rec, status)

    _step(rec, S.ACCEPTED, on=D(2024, 3, 12))

    held = model.objects.get()
    start = held.joined_on if model is OrderClassMembership else held.started_on
    assert (held.student, start, held.recorded_by) == (world.own, D(2024, 3, 12), world.helper)
    assert not Destination.objects.exists()


# --- Work-study limits ------------------------------------------------------------------------------------------


@pytest.fixture
def posts(world: World, jobs: SimpleNamespace) -> tuple[WorkStudyAssignment, WorkStudyAssignment]:
    library = make_position(jobs.employer, "图书馆助理", kind="work_study")
    first = start_work_study(
        actor=world.helper, student=world.own, position=jobs.work_study, started_on=D(2024, 3, 1), today=TODAY
    )
    second = start_work_study(
        actor=world.helper, student=world.own, position=library, started_on=D(2024, 3, 1), today=TODAY
    )
    return first, second


def _log(world: World, post: WorkStudyAssignment, day: dt.date, hours: str, today: dt.date = TODAY) -> WorkStudyHours:
    return log_work_study_hours(actor=world.helper, assignment=post, worked_on=day, hours=Decimal(hours), today=today)


def test_eight_hours_a_week_across_posts_with_the_boundary_allowed(world: World, posts) -> None:  # type: ignore[no-untyped-def]
    first, second = posts
    _log(world, first, D(2024, 3, 4), "5")  # Monday
    _log(world, second, D(2024, 3, 6), "3")  # Wednesday, another post: exactly 8 that week

    with pytest.raises(ValidationError) as refused:
        _log(world, first, D(2024, 3, 10), "0.5")  # Sunday of the same week

    assert refused.value.message_dict == {"hours": ["At most 8 hours a week: 8 already logged that week."]}
    _log(world, first, D(2024, 3, 11), "8")  # the next Monday starts a new week
    assert WorkStudyHours.objects.count() == 3


def test_forty_hours_a_month_with_the_boundary_allowed(world: World, posts) -> None:  # type: ignore[no-untyped-def]
    first, second = posts
    today = D(2024, 10, 1)
    # September 2024 touches six weeks: Sunday 1 September ends a week, Monday 30 September starts one.
    for day in (D(2024, 9, 1), D(2024, 9, 2), D(2024, 9, 9), D(2024, 9, 16), D(2024, 9, 23)):
        _log(world, first if day.day % 2 else second, day, "8", today)

    with pytest.raises(ValidationError) as refused:
        _log(world, first, D(2024, 9, 30), "1", today)

    assert refused.value.message_dict == {"hours": ["At most 40 hours a month: 40 already logged that month."]}
    _log(world, first, D(2024, 10, 1), "7", today)  # the same week, a new month
    with pytest.raises(ValidationError):
        _log(world, second, D(2024, 10, 1), "1.5", today)  # 7 + 1.5 > 8 that week (1.5 alone fits the month)
    assert WorkStudyHours.objects.filter(worked_on__month=9).count() == 5


@pytest.mark.parametrize(
    ("day", "hours", "field"),
    [
        (D(2024, 3, 16), "2", "worked_on"),  # the future
        (D(2024, 2, 29), "2", "worked_on"),  # before the post started
        (D(2024, 3, 12), "0", "hours"),
        (D(2024, 3, 12), "25", "hours"),
    ],
)
def test_hours_outside_the_post_or_out_of_range_are_refused(world: World, posts, day, hours, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as refused:
        _log(world, posts[0], day, hours)

    assert list(refused.value.message_dict) == [field]
    assert not WorkStudyHours.objects.exists()


def test_hours_are_logged_by_those_who_record_outcomes(world: World, posts) -> None:  # type: ignore[no-untyped-def]
    for persona in ("principal", "student_user", "other_leader"):
        with pytest.raises(PermissionDenied):
            log_work_study_hours(
                actor=getattr(world, persona),
                assignment=posts[0],
                worked_on=D(2024, 3, 12),
                hours=Decimal(1),
                today=TODAY,
            )
    assert not WorkStudyHours.objects.exists()


# --- Expiry -----------------------------------------------------------------------------------------------------


def test_expire_recommendations_closes_only_those_nobody_acted_on_after_the_deadline(
    world: World, jobs: SimpleNamespace
) -> None:
    short = make_position(jobs.employer, "短期招聘", deadline=D(2024, 3, 10))
    short2 = make_position(jobs.employer, "短期招聘二", deadline=D(2024, 3, 10))
    open_ended = make_position(jobs.employer, "长期招聘")
    stale = recommend(actor=world.helper, student=world.own, position=short, today=D(2024, 3, 1))
    applied = _step(recommend(actor=world.helper, student=world.own, position=short2, today=D(2024, 3, 1)), S.APPLIED)
    waiting = recommend(actor=world.helper, student=world.own, position=jobs.job, today=D(2024, 3, 1))
    no_deadline = recommend(actor=world.leader, student=world.own, position=open_ended, today=D(2024, 3, 1))

    assert expire_recommendations(today=TODAY) == 1
    assert expire_recommendations(today=TODAY) == 0  # a second run changes nothing

    statuses = {r.pk: (r.status, r.version) for r in Recommendation.objects.all()}
    assert statuses == {
        stale.pk: (S.EXPIRED, 2),
        applied.pk: (S.APPLIED, 2),
        waiting.pk: (S.RECOMMENDED, 1),
        no_deadline.pk: (S.RECOMMENDED, 1),
    }
    step = RecommendationStep.objects.filter(recommendation=stale).order_by("-id").first()
    assert (step.from_status, step.to_status, step.on, step.by) == (S.RECOMMENDED, S.EXPIRED, TODAY, world.helper)
    with pytest.raises(ValidationError):
        _step(Recommendation.objects.get(pk=stale.pk), S.APPLIED)


def test_an_expired_recommendation_leaves_the_work_ledger_as_it_was(world: World, jobs: SimpleNamespace) -> None:
    short = make_position(jobs.employer, "短期招聘", deadline=D(2024, 3, 10))
    rec = recommend(actor=world.helper, student=world.own, position=short, today=D(2024, 3, 1))

    expire_recommendations(today=TODAY)

    activity = Activity.objects.get(recommendation=rec)
    assert (activity.response, activity.effective, activity.voided) == (Response.NONE, False, False)
    assert _declines(world.own) == 0
