"""Helper assignments through the API: assigning, the one-active-helper rule, hand-over, ending."""

import pytest

from bangfu.assistance.models import HelperAssignment
from bangfu.organisation.models import Role, User
from tests.conftest import World
from tests.factories import make_staff


@pytest.fixture
def teacher(world: World) -> User:
    return make_staff("teacher2", Role.TEACHER, world.dept1, full_name="周老师")


def test_a_leader_assigns_a_helper(world: World, api, teacher: User) -> None:
    response = api(world.leader).post(
        f"/students/{world.classmate.public_id}/helper-assignments",
        {"helper": str(teacher.public_id), "start": "2024-03-01", "planned_end": "2024-08-31", "reason": "就业帮扶"},
    )

    assert response.status_code == 201
    body = response.json()
    assignment = HelperAssignment.objects.get(student=world.classmate)
    assert body["id"] == str(assignment.public_id)
    assert body["helper"] == {"id": str(teacher.public_id), "name": "周老师"}
    assert (body["is_active"], body["started_on"], body["planned_end"]) == (True, "2024-03-01", "2024-08-31")
    assert body["assigned_by"]["name"] == "郑书记"
    assert [a["student"]["name"] for a in api(teacher).get("/helper-assignments").json()["items"]] == ["刘洋"]


def test_a_second_active_helper_is_refused(world: World, api, teacher: User) -> None:
    response = api(world.leader).post(
        f"/students/{world.own.public_id}/helper-assignments", {"helper": str(teacher.public_id), "start": "2024-03-01"}
    )

    assert response.status_code == 422
    assert "hand the student over" in response.json()["detail"]
    assert list(HelperAssignment.objects.filter(student=world.own).values_list("helper", flat=True)) == [
        world.helper.pk
    ]


def test_a_helper_from_another_school_cannot_be_named(world: World, api) -> None:
    response = api(world.leader).post(
        f"/students/{world.classmate.public_id}/helper-assignments",
        {"helper": str(world.outsider.public_id), "start": "2024-03-01"},
    )

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["helper"]
    assert not HelperAssignment.objects.filter(student=world.classmate).exists()


@pytest.mark.parametrize("persona", ["helper", "counsellor", "principal", "student_user"])
def test_roles_that_do_not_assign_helpers_get_403(world: World, api, teacher: User, persona: str) -> None:
    response = api(getattr(world, persona)).post(
        f"/students/{world.own.public_id}/helper-assignments/hand-over",
        {"helper": str(teacher.public_id), "on": "2024-03-01", "note": "交接", "version": 1},
    )

    assert response.status_code == 403
    assert HelperAssignment.objects.get(student=world.own, ended_on__isnull=True).helper == world.helper


def test_a_hand_over_needs_a_note(world: World, api, teacher: User) -> None:
    response = api(world.leader).post(
        f"/students/{world.own.public_id}/helper-assignments/hand-over",
        {"helper": str(teacher.public_id), "on": "2024-03-01", "note": "  ", "version": 1},
    )

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["note"]
    assert HelperAssignment.objects.filter(student=world.own).count() == 1


def test_a_hand_over_ends_the_old_help_and_the_note_reaches_the_new_helper_only(
    world: World, api, teacher: User
) -> None:
    note = "学生由祖父母抚养，性格内向；求职意向为石家庄本地服装企业，已修改简历两次。"

    response = api(world.leader).post(
        f"/students/{world.own.public_id}/helper-assignments/hand-over",
        {"helper": str(teacher.public_id), "on": "2024-03-01", "note": note, "version": 1},
    )

    assert response.status_code == 201
    new_id = response.json()["id"]
    assert response.json()["handover_note"] == note
    history = api(world.leader).get(f"/students/{world.own.public_id}/helper-assignments").json()
    assert [(a["helper"]["name"], a["is_active"]) for a in history] == [("周老师", True), ("郑银乐", False)]
    assert api(teacher).get(f"/helper-assignments/{new_id}").json()["handover_note"] == note
    assert api(teacher).get("/helper-assignments").json()["items"][0]["handover_note"] == note
    assert api(world.counsellor).get(f"/helper-assignments/{new_id}").json()["handover_note"] is None
    assert api(world.student_user).get(f"/helper-assignments/{new_id}").json()["handover_note"] is None
    assert api(world.helper).get(f"/helper-assignments/{new_id}").status_code == 404  # no longer their student


def test_a_hand_over_from_a_stale_version_is_409(world: World, api, teacher: User) -> None:
    current = HelperAssignment.objects.get(student=world.own)
    api(world.leader).post(
        f"/helper-assignments/{current.public_id}/end", {"ended_on": "2024-02-01", "reason": "调岗", "version": 1}
    )
    api(world.leader).post(
        f"/students/{world.own.public_id}/helper-assignments",
        {"helper": str(world.helper.public_id), "start": "2024-02-02"},
    )
    latest = HelperAssignment.objects.active().get(student=world.own)
    latest.version = 2  # someone edited it since the caller read version 1
    latest.save(update_fields=["version"])

    response = api(world.leader).post(
        f"/students/{world.own.public_id}/helper-assignments/hand-over",
        {"helper": str(teacher.public_id), "on": "2024-03-01", "note": "交接说明", "version": 1},
    )

    assert response.status_code == 409
    assert HelperAssignment.objects.active().get(student=world.own).helper == world.helper


def test_ending_an_assignment(world: World, api) -> None:
    current = HelperAssignment.objects.get(student=world.own)

    missing_reason = api(world.leader).post(
        f"/helper-assignments/{current.public_id}/end", {"ended_on": "2024-03-01", "reason": "", "version": 1}
    )
    ended = api(world.leader).post(
        f"/helper-assignments/{current.public_id}/end",
        {"ended_on": "2024-03-01", "reason": "学生已签约就业", "version": 1},
    )
    again = api(world.leader).post(
        f"/helper-assignments/{current.public_id}/end", {"ended_on": "2024-03-02", "reason": "重复", "version": 2}
    )

    assert missing_reason.status_code == 422
    assert ended.status_code == 200
    assert (ended.json()["is_active"], ended.json()["end_reason"]) == (False, "学生已签约就业")
    assert again.status_code == 422
    assert api(world.leader).get("/students", unassigned="true").json()["items"][0]["name"] == "田斌臣"


def test_a_stale_end_is_409(world: World, api) -> None:
    current = HelperAssignment.objects.get(student=world.own)

    response = api(world.leader).post(
        f"/helper-assignments/{current.public_id}/end", {"ended_on": "2024-03-01", "reason": "毕业", "version": 7}
    )

    assert response.status_code == 409
    assert HelperAssignment.objects.get(pk=current.pk).ended_on is None


def test_past_assignments_are_listed_only_for_students_still_in_view(world: World, api, teacher: User) -> None:
    leader = api(world.leader)
    leader.post(
        f"/students/{world.classmate.public_id}/helper-assignments",
        {"helper": str(world.counsellor.public_id), "start": "2024-01-02"},
    )
    for student in (world.classmate, world.own):
        version = HelperAssignment.objects.active().get(student=student).version
        leader.post(
            f"/students/{student.public_id}/helper-assignments/hand-over",
            {"helper": str(teacher.public_id), "on": "2024-03-01", "note": "交接", "version": version},
        )

    counsellor_now = api(world.counsellor).get("/helper-assignments").json()
    counsellor_ever = api(world.counsellor).get("/helper-assignments", active="false").json()
    helper_ever = api(world.helper).get("/helper-assignments", active="false").json()

    assert counsellor_now["count"] == 0
    assert [(a["student"]["name"], a["is_active"]) for a in counsellor_ever["items"]] == [("刘洋", False)]
    assert helper_ever["count"] == 0  # the student left the helper's view with the hand-over
