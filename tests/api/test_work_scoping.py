"""Plans, activities and progress through the API follow the students' scope: every persona × every student.

Outside one's scope is 404 (never 403); a visible student on which the role may not act is 403; a refused
write leaves nothing behind.
"""

import uuid

import pytest

from bangfu.assistance.models import Activity, ActivityKind, Plan
from bangfu.assistance.services import assign_helper, save_plan
from bangfu.organisation.models import Role
from bangfu.students.services import join_ledger
from tests.api.work_helpers import D, client, log, on
from tests.conftest import TODAY, World
from tests.factories import make_staff, system_user

STUDENTS = ("own", "classmate", "dept2_student", "other_school_student")

# persona → the students it can see (as in tests/api/test_scoping.py).
VISIBLE = {
    "office": {"own", "classmate", "dept2_student"},
    "principal": {"own", "classmate", "dept2_student"},
    "leader": {"own", "classmate"},
    "other_leader": {"dept2_student"},
    "counsellor": {"own", "classmate"},
    "helper": {"own"},
    "student_user": {"own"},
    "outsider": {"other_school_student"},
}
# Who logs help for the students they see: the helper for their own, department leaders and the office.
LOGS = {"office", "leader", "other_leader", "helper", "outsider"}
# Who keeps plans: the helper, counsellors, department leaders and the office.
PLANS = {"office", "leader", "other_leader", "counsellor", "helper", "outsider"}


@pytest.fixture
def everyone(world: World) -> World:
    """Every student in the ledger with a plan; the classmate helped by another teacher."""
    actor = system_user()
    for key in ("classmate", "dept2_student", "other_school_student"):
        join_ledger(
            actor=actor,
            student=getattr(world, key),
            joined_on=D(2023, 9, 4),
            reason="入学普查：低保家庭",
            categories=["subsistence_allowance"],
            today=TODAY,
        )
    teacher = make_staff("teacher2", Role.TEACHER, world.dept1, full_name="周老师")
    assign_helper(actor=actor, student=world.classmate, helper=teacher, start=D(2023, 9, 4), today=TODAY)
    for key in STUDENTS:
        save_plan(actor=actor, student=getattr(world, key), expected_version=None, today=TODAY, direction="job")
    return world


def _expected(persona: str, student: str, allowed: set[str], ok: int) -> int:
    if student not in VISIBLE[persona]:
        return 404
    return ok if persona in allowed else 403


@pytest.mark.parametrize("persona", sorted(VISIBLE))
@pytest.mark.parametrize("student", STUDENTS)
def test_reading_a_students_plan_activities_and_progress(everyone: World, persona: str, student: str) -> None:
    api = client(getattr(everyone, persona))
    public_id = getattr(everyone, student).public_id
    expected = 200 if student in VISIBLE[persona] else 404

    with on(TODAY):
        assert api.get(f"/students/{public_id}/plan").status_code == expected
        assert api.get(f"/students/{public_id}/activities").status_code == expected
        assert api.get(f"/students/{public_id}/progress").status_code == expected


@pytest.mark.parametrize("persona", sorted(VISIBLE))
@pytest.mark.parametrize("student", STUDENTS)
def test_logging_an_activity(everyone: World, persona: str, student: str) -> None:
    target = getattr(everyone, student)

    with on(TODAY):
        response = client(getattr(everyone, persona)).post(
            f"/students/{target.public_id}/activities", {"kind": "check_in", "occurred_on": "2024-03-14"}
        )

    assert response.status_code == _expected(persona, student, LOGS, 201)
    assert Activity.objects.filter(student=target).count() == (1 if response.status_code == 201 else 0)


@pytest.mark.parametrize("persona", sorted(VISIBLE))
@pytest.mark.parametrize("student", STUDENTS)
def test_writing_a_plan_and_its_review(everyone: World, persona: str, student: str) -> None:
    target = getattr(everyone, student)
    api = client(getattr(everyone, persona))

    with on(TODAY):
        saved = api.put(f"/students/{target.public_id}/plan", {"direction": "further_study", "version": 1})
        reviewed = api.post(f"/students/{target.public_id}/plan/reviews", {"notes": "专升本备考进展顺利"})

    assert saved.status_code == _expected(persona, student, PLANS, 200)
    assert reviewed.status_code == _expected(persona, student, PLANS, 201)
    plan = Plan.objects.get(student=target)
    assert (plan.direction == "further_study") == (saved.status_code == 200)
    assert plan.reviews.exists() == (reviewed.status_code == 201)


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_an_activity_of_own_follows_the_students_scope(everyone: World, persona: str) -> None:
    activity = log(everyone.helper, everyone.own, ActivityKind.TALK, D(2024, 3, 5), notes="原记录")
    api = client(getattr(everyone, persona))

    with on(TODAY):
        read = api.get(f"/activities/{activity.public_id}")
        edited = api.patch(f"/activities/{activity.public_id}", {"notes": "改过", "version": 1})

    assert read.status_code == _expected(persona, "own", set(VISIBLE), 200)
    assert edited.status_code == _expected(persona, "own", LOGS, 200)
    activity.refresh_from_db()
    assert (activity.notes == "改过") == (edited.status_code == 200)


def test_a_helper_cannot_log_for_a_classmate_helped_by_someone_else(everyone: World) -> None:
    with on(TODAY):
        response = client(everyone.helper).post(
            f"/students/{everyone.classmate.public_id}/activities", {"kind": "talk", "occurred_on": "2024-03-14"}
        )

    assert response.status_code == 404
    assert not Activity.objects.exists()


def test_a_counsellor_sees_the_student_but_may_not_log_help(everyone: World) -> None:
    api = client(everyone.counsellor)

    with on(TODAY):
        response = api.post(
            f"/students/{everyone.own.public_id}/activities", {"kind": "talk", "occurred_on": "2024-03-14"}
        )

    assert response.status_code == 403
    assert response.json()["detail"] == "You are not allowed to do this."
    assert not Activity.objects.exists()


def test_an_outsider_cannot_touch_the_work_ledger_of_another_school(everyone: World) -> None:
    activity = log(everyone.helper, everyone.own, ActivityKind.TALK, D(2024, 3, 5), notes="原记录")
    api = client(everyone.outsider)
    own = everyone.own.public_id

    with on(TODAY):
        answers = [
            api.patch(f"/activities/{activity.public_id}", {"notes": "冒充", "version": 1}),
            api.post(
                f"/activities/{activity.public_id}/correct", {"kind": "talk", "occurred_on": "2024-03-06", "version": 1}
            ),
            api.get(f"/activities/{activity.public_id}/attachment"),
            api.post(f"/students/{own}/activities", {"kind": "talk", "occurred_on": "2024-03-14"}),
            api.put(f"/students/{own}/plan", {"direction": "army", "version": 1}),
            api.post(f"/students/{own}/plan/reviews", {"notes": "冒充"}),
        ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    activity.refresh_from_db()
    assert (activity.notes, activity.voided, Activity.objects.count()) == ("原记录", False, 1)
    assert Plan.objects.get(student=everyone.own).direction == "job"
    assert not Plan.objects.get(student=everyone.own).reviews.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/activities/{id}",
        "/activities/{id}/attachment",
        "/students/{id}/activities",
        "/students/{id}/plan",
        "/students/{id}/progress",
    ],
)
def test_a_guessed_id_is_404_even_for_the_office(everyone: World, path: str) -> None:
    response = client(everyone.office).get(path.format(id=uuid.uuid4()))

    assert response.status_code == 404
    assert response.json()["detail"] == "Not found."


def test_without_credentials_everything_is_401(everyone: World) -> None:
    api = client(None)
    own = everyone.own.public_id

    answers = [
        api.get("/due"),
        api.get(f"/students/{own}/progress"),
        api.get(f"/students/{own}/activities"),
        api.post(f"/students/{own}/activities", {"kind": "talk", "occurred_on": "2024-03-14"}),
        api.put(f"/students/{own}/plan", {"direction": "army", "version": 1}),
    ]

    assert [a.status_code for a in answers] == [401] * len(answers)
    assert not Activity.objects.exists()
