"""The API sees exactly what the pages see: every persona × every student × every resource.

Outside one's scope is 404 (never 403), whether the id exists or was guessed; a visible student on which the
role may not act is 403.
"""

import uuid

import pytest

from bangfu.assistance.models import HelperAssignment
from tests.conftest import World

STUDENTS = ("own", "classmate", "dept2_student", "other_school_student")

# persona → the students it can see.
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

# persona → may edit a visible student's record (PATCH) or not (403).
EDITS = {"office", "leader", "other_leader", "counsellor", "outsider"}


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_the_student_list_holds_exactly_the_students_in_scope(world: World, api, persona: str) -> None:
    response = api(getattr(world, persona)).get("/students")

    assert response.status_code == 200
    names = {s["name"] for s in response.json()["items"]}
    assert names == {getattr(world, key).name for key in VISIBLE[persona]}
    assert response.json()["count"] == len(VISIBLE[persona])


@pytest.mark.parametrize("persona", sorted(VISIBLE))
@pytest.mark.parametrize("student", STUDENTS)
def test_reading_a_student_and_their_ledger_and_helpers(world: World, api, persona: str, student: str) -> None:
    client = api(getattr(world, persona))
    public_id = getattr(world, student).public_id
    expected = 200 if student in VISIBLE[persona] else 404

    assert client.get(f"/students/{public_id}").status_code == expected
    assert client.get(f"/students/{public_id}/ledger-entries").status_code == expected
    assert client.get(f"/students/{public_id}/helper-assignments").status_code == expected


@pytest.mark.parametrize("persona", sorted(VISIBLE))
@pytest.mark.parametrize("student", STUDENTS)
def test_editing_a_student(world: World, api, persona: str, student: str) -> None:
    target = getattr(world, student)

    response = api(getattr(world, persona)).patch(
        f"/students/{target.public_id}", {"phone": "13812345678", "version": 1}
    )

    if student not in VISIBLE[persona]:
        assert response.status_code == 404
    elif persona in EDITS:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
    target.refresh_from_db()
    assert (target.phone == "13812345678") == (response.status_code == 200)


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_the_ledger_entry_and_the_assignment_of_own_follow_the_students_scope(world: World, api, persona: str) -> None:
    client = api(getattr(world, persona))
    entry = world.own.ledger_entries.get()
    assignment = HelperAssignment.objects.get(student=world.own)
    expected = 200 if "own" in VISIBLE[persona] else 404

    assert client.get(f"/ledger-entries/{entry.public_id}").status_code == expected
    assert client.get(f"/helper-assignments/{assignment.public_id}").status_code == expected


@pytest.mark.parametrize(
    "path",
    [
        "/students/{id}",
        "/students/{id}/ledger-entries",
        "/students/{id}/helper-assignments",
        "/ledger-entries/{id}",
        "/helper-assignments/{id}",
    ],
)
def test_a_guessed_id_is_404_even_for_the_office(world: World, api, path: str) -> None:
    response = api(world.office).get(path.format(id=uuid.uuid4()))

    assert response.status_code == 404
    assert response.json()["detail"]


def test_an_outsider_cannot_write_to_students_of_another_school(world: World, api) -> None:
    client = api(world.outsider)
    own = world.own
    entry = own.ledger_entries.get()
    assignment = HelperAssignment.objects.get(student=own)

    answers = [
        client.patch(f"/students/{own.public_id}", {"name": "改名", "version": 1}),
        client.post(
            f"/students/{world.classmate.public_id}/ledger-entries",
            {"joined_on": "2024-03-01", "reason": "冒充", "categories": ["orphan"]},
        ),
        client.patch(f"/ledger-entries/{entry.public_id}", {"hardship_level": "general", "version": 1}),
        client.post(f"/ledger-entries/{entry.public_id}/leave", {"left_on": "2024-03-01", "reason": "x", "version": 1}),
        client.post(
            f"/students/{world.classmate.public_id}/helper-assignments",
            {"helper": str(world.outsider.public_id), "start": "2024-03-01"},
        ),
        client.post(
            f"/helper-assignments/{assignment.public_id}/end", {"ended_on": "2024-03-01", "reason": "x", "version": 1}
        ),
    ]

    assert [a.status_code for a in answers] == [404] * len(answers)
    own.refresh_from_db()
    assert own.name == "田斌臣"
    assert world.classmate.ledger_entries.count() == 0
    assert HelperAssignment.objects.get(pk=assignment.pk).ended_on is None


def test_my_assignments_are_my_own(world: World, api) -> None:
    mine = api(world.helper).get("/helper-assignments")
    leaders = api(world.leader).get("/helper-assignments")

    assert [a["student"]["name"] for a in mine.json()["items"]] == ["田斌臣"]
    assert leaders.json() == {"items": [], "count": 0}
