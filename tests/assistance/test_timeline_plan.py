"""A student's timeline from enrolment to now, the plan (一生一策) with its semester reviews, the student page's box,
and the student list's direction filter."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bangfu.assistance.models import Activity, ActivityKind, Direction, Plan, PlanReview
from bangfu.assistance.services import hand_over, record_activity, review_plan, save_plan
from bangfu.students.models import Student
from bangfu.students.queries import apply_student_filters
from tests.assistance.helpers import english
from tests.assistance.work_helpers import frozen, helped_student, texts, url
from tests.conftest import TODAY, World

pytestmark = pytest.mark.usefixtures(frozen.__name__, english.__name__)

D = dt.date


def log(world: World, kind: str, day: dt.date, **details) -> Activity:  # type: ignore[no-untyped-def]
    return record_activity(actor=world.helper, student=world.own, kind=kind, occurred_on=day, today=TODAY, **details)


# --- timeline --------------------------------------------------------------------------------------------------


def test_the_timeline_runs_from_enrolment_to_now_newest_first_grouped_by_stage(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    log(world, ActivityKind.TALK, D(2021, 11, 20), notes="第一次谈心：了解家庭情况")
    log(world, ActivityKind.CHECK_IN, D(2022, 10, 8), notes="十月对接")
    log(world, ActivityKind.EVENT_TOGETHER, D(2024, 3, 9), event_name="石家庄春季大型招聘会")
    save_plan(actor=world.helper, student=world.own, expected_version=None, today=TODAY, direction=Direction.JOB)
    review_plan(actor=world.helper, plan=Plan.objects.get(), notes="目标：石家庄服装企业", today=TODAY)
    response = as_user(world.helper).get(url("timeline", world.own))
    assert response.status_code == 200
    html = response.content.decode()
    headings = [g.label for g in response.context["groups"]]
    assert headings == ["Job search", "Study", "Enrolment"]
    order = [
        "Plan reviewed for semester 6 by 郑银乐.",
        "石家庄春季大型招聘会",
        "十月对接",
        "第一次谈心：了解家庭情况",
        "郑银乐 became the helper.",
        "Joined the disadvantaged-student ledger.",
        "Enrolled: Vocational (3-year), cohort 2021.",
    ]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)
    assert "入学普查：脱贫家庭，由祖父母抚养" in html  # the helper sees why the student joined


def test_a_voided_activity_is_struck_through_and_links_to_its_correction(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    talk = log(world, ActivityKind.TALK, D(2024, 2, 20), notes="记错的谈话")
    fix = log(world, ActivityKind.CHECK_IN, D(2024, 2, 20), notes="其实是对接", corrects=talk)
    html = as_user(world.helper).get(url("timeline", world.own)).content.decode()
    item = html[html.index(f'id="activity-{talk.public_id}"') :]
    item = item[: item.index("</li>")]
    assert "<del" in item and "记错的谈话" in item
    assert f'href="#activity-{fix.public_id}"' in item
    assert url("activity_edit", world.own, talk) not in item  # a voided record is not edited
    assert f'href="#activity-{talk.public_id}"' in html  # the correction points back


@pytest.mark.parametrize(
    ("who", "sees"),
    [("helper", True), ("leader", True), ("office", True), ("counsellor", False), ("student_user", False)],
)
def test_internal_notes_are_for_helpers_and_leaders_only(world: World, as_user, who, sees) -> None:  # type: ignore[no-untyped-def]
    log(world, ActivityKind.PSYCHOLOGICAL_GUIDANCE, D(2024, 3, 1), notes="情绪低落，建议心理中心随访")
    log(world, ActivityKind.TALK, D(2024, 3, 2), notes="谈求职意向")
    response = as_user(getattr(world, who)).get(url("timeline", world.own))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Psychological guidance" in html and "谈求职意向" in html
    assert ("情绪低落，建议心理中心随访" in html) is sees


def test_a_hand_over_note_shows_to_the_new_helper_and_leaders_only(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    hand_over(
        actor=world.leader,
        student=world.own,
        new_helper=world.counsellor,
        on=D(2024, 3, 1),
        note="祖父母年迈，学生想回辛集工作",
        today=TODAY,
    )
    assert "祖父母年迈" in as_user(world.counsellor).get(url("timeline", world.own)).content.decode()
    assert "祖父母年迈" in as_user(world.leader).get(url("timeline", world.own)).content.decode()
    html = as_user(world.principal).get(url("timeline", world.own)).content.decode()
    assert "祖父母年迈" in html  # the school leader leads too
    html = as_user(world.student_user).get(url("timeline", world.own)).content.decode()
    assert "祖父母年迈" not in html and "Help by 郑银乐 ended." in html


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("helper", "classmate", 404),
        ("outsider", "own", 404),
        ("other_leader", "own", 404),
        ("student_user", "classmate", 404),
    ],
)
def test_the_timeline_outside_scope_is_not_found(world: World, as_user, who, target, status) -> None:  # type: ignore[no-untyped-def]
    assert as_user(getattr(world, who)).get(url("timeline", getattr(world, target))).status_code == status


def test_the_timeline_runs_a_bounded_number_of_queries(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.helper)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("timeline", world.own)).status_code == 200
        return len(ctx.captured_queries)

    log(world, ActivityKind.TALK, D(2023, 9, 20))
    small = count()
    for day in range(1, 13):
        log(world, ActivityKind.CHECK_IN, D(2023, 1, day), notes=f"对接{day}")
    first = log(world, ActivityKind.TALK, D(2024, 1, 5))
    log(world, ActivityKind.CHECK_IN, D(2024, 1, 5), corrects=first)
    assert count() == small


# --- plan ------------------------------------------------------------------------------------------------------


PLAN = {
    "direction": "job",
    "industries": "服装设计、电商",
    "places": "辛集市，离家近，方便照顾祖父母",
    "near_home": "on",
    "salary_expectation": "4500",
    "strengths": "动手能力强，吃苦耐劳",
    "needs": "简历指导、面试训练",
}


def test_the_helper_writes_the_plan(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.helper)
    assert client.get(url("plan", world.own)).status_code == 200
    response = client.post(url("plan", world.own), {**PLAN, "version": 0})
    assert response.status_code == 302 and texts(response) == ["The plan was saved."]
    plan = Plan.objects.get(student=world.own)
    assert (plan.direction, plan.places, plan.near_home, plan.salary_expectation, plan.updated_by) == (
        "job",
        "辛集市，离家近，方便照顾祖父母",
        True,
        4500,
        world.helper,
    )
    response = client.post(url("plan", world.own), {**PLAN, "direction": "public_exam", "version": plan.version})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.direction == "public_exam" and plan.version == 2


def test_a_stale_plan_is_refused(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    save_plan(actor=world.helper, student=world.own, expected_version=None, today=TODAY, direction="job")
    client = as_user(world.counsellor)  # the class counsellor keeps plans too
    response = client.post(url("plan", world.own), {**PLAN, "direction": "army", "version": 0})
    assert "Someone else saved this record after you opened it." in response.content.decode()
    assert Plan.objects.get().direction == "job"


def test_a_salary_that_is_not_monthly_is_refused(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.helper).post(
        url("plan", world.own), {**PLAN, "salary_expectation": "300000", "version": 0}
    )
    assert "Give the expected salary per month, in yuan." in response.context["form"].errors["salary_expectation"]
    assert not Plan.objects.exists()


@pytest.mark.parametrize(
    ("who", "target", "get", "post"),
    [
        ("principal", "own", 200, 403),  # reads, does not write
        ("student_user", "own", 200, 403),  # the student reads their own plan
        ("helper", "classmate", 404, 404),
        ("outsider", "own", 404, 404),
        ("leader", "own", 200, 302),
    ],
)
def test_who_reads_and_writes_the_plan(world: World, as_user, who, target, get, post) -> None:  # type: ignore[no-untyped-def]
    client = as_user(getattr(world, who))
    student = getattr(world, target)
    response = client.get(url("plan", student))
    assert response.status_code == get
    if get == 200:
        assert ('id="plan-form"' in response.content.decode()) is (post == 302)
    assert client.post(url("plan", student), {**PLAN, "version": 0}).status_code == post
    assert client.post(url("plan_review", student), {"notes": "复盘"}).status_code == post
    assert Plan.objects.filter(student=student).exists() is (post == 302)
    assert PlanReview.objects.exists() is (post == 302)


def test_a_review_each_semester(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.helper)
    response = client.post(url("plan_review", world.own), {"notes": "本学期：简历两次修改"})
    assert response.status_code == 200 and "Save the plan before reviewing it." in response.content.decode()
    assert not PlanReview.objects.exists()
    save_plan(actor=world.helper, student=world.own, expected_version=None, today=TODAY, direction="job")
    response = client.post(url("plan_review", world.own), {"notes": ""})
    assert "This field is required." in response.content.decode()
    response = client.post(url("plan_review", world.own), {"notes": "本学期：简历两次修改"})
    assert response.status_code == 302
    client.post(url("plan_review", world.own), {"notes": "本学期：简历三次修改，参加两场招聘会"})
    review = PlanReview.objects.get()
    assert (review.semester, review.notes, review.reviewer) == (6, "本学期：简历三次修改，参加两场招聘会", world.helper)
    page = client.get(url("plan", world.own)).content.decode()
    assert "This semester has a review; saving replaces its notes." in page and "Semester 6" in page
    assert as_user(world.principal).post(url("plan_review", world.own), {"notes": "x"}).status_code == 403


# --- the student page and the student list ---------------------------------------------------------------------


def test_the_student_page_links_to_the_timeline_plan_and_log(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    detail = reverse("students:detail", args=[world.own.public_id])
    html = as_user(world.helper).get(detail).content.decode()
    assert url("timeline", world.own) in html and url("plan", world.own) in html
    assert url("activity_new", world.own) in html and "Talks 0/3" in html
    html = as_user(world.counsellor).get(detail).content.decode()
    assert url("timeline", world.own) in html and url("activity_new", world.own) not in html


def test_the_student_list_filters_by_direction(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    other = helped_student(world.class1, world.helper, name="王芳")
    save_plan(actor=world.helper, student=world.own, expected_version=None, today=TODAY, direction="job")
    save_plan(actor=world.helper, student=other, expected_version=None, today=TODAY, direction="public_exam")
    visible = Student.objects.visible_to(world.office)
    assert list(apply_student_filters(visible, direction="job")) == [world.own]
    assert list(apply_student_filters(visible, direction="army")) == []
    assert apply_student_filters(visible, direction=None).count() == visible.count()
    html = as_user(world.office).get(reverse("students:list"), {"direction": "public_exam"}).content.decode()
    assert "王芳" in html and "田斌臣" not in html
    assert f'<option value="{Direction.PUBLIC_EXAM}" selected>' in html
