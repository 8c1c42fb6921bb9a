"""Every student page × persona × student: outside the scope is 404, visible-but-not-allowed is 403."""

import uuid

import pytest

from bangfu.audit.models import AccessLog
from bangfu.students.models import LedgerEntry
from tests.students.pages import url

# (URL name, HTTP method) of every page about one student.
STUDENT_PAGES = [
    ("detail", "get"),
    ("edit", "get"),
    ("edit", "post"),
    ("reveal_id", "post"),
    ("ledger_join", "get"),
    ("ledger_join", "post"),
    ("ledger_edit", "get"),
    ("ledger_edit", "post"),
    ("ledger_leave", "get"),
    ("ledger_leave", "post"),
    ("evidence", "get"),
    ("evidence_upload", "get"),
    ("evidence_upload", "post"),
]

# Who must get a 404 for which student: the student lies outside their scope.
INVISIBLE = [
    ("helper", "classmate"),
    ("helper", "dept2_student"),
    ("helper", "other_school_student"),
    ("leader", "dept2_student"),
    ("leader", "other_school_student"),
    ("other_leader", "own"),
    ("counsellor", "dept2_student"),
    ("principal", "other_school_student"),
    ("office", "other_school_student"),
    ("outsider", "own"),
    ("outsider", "classmate"),
    ("outsider", "dept2_student"),
    ("student_user", "classmate"),
    ("student_user", "dept2_student"),
    ("student_user", "other_school_student"),
]


def _request(client, name: str, method: str, student):
    args = (student,) if name not in ("evidence", "evidence_upload") else (student, _category_id(student))
    target = url(name, *args)
    data = {"reason": "越权尝试", "left_on": "2024-03-01", "version": "1", "categories": ["rural"]}
    return client.post(target, data) if method == "post" else client.get(target)


def _category_id(student) -> int:
    # A real category id where there is one, so a 404 cannot come from a missing category alone.
    entry = LedgerEntry.objects.filter(student=student).first()
    return entry.categories.first().pk if entry else 1


@pytest.mark.parametrize(("persona", "target"), INVISIBLE)
def test_students_outside_the_scope_are_404_on_every_page(world, as_user, persona, target):
    client = as_user(getattr(world, persona))
    student = getattr(world, target)
    before = (LedgerEntry.objects.count(), AccessLog.objects.count(), student.version)
    for name, method in STUDENT_PAGES:
        response = _request(client, name, method, student)
        assert response.status_code == 404, (name, method, response.status_code)
    student.refresh_from_db()
    assert (LedgerEntry.objects.count(), AccessLog.objects.count(), student.version) == before


def test_an_unknown_id_is_404(world, as_user):
    response = as_user(world.office).get(f"/students/{uuid.uuid4()}/")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("persona", "target"),
    [
        ("helper", "own"),
        ("counsellor", "own"),
        ("counsellor", "classmate"),
        ("leader", "own"),
        ("leader", "classmate"),
        ("other_leader", "dept2_student"),
        ("principal", "dept2_student"),
        ("office", "own"),
        ("outsider", "other_school_student"),
    ],
)
def test_students_in_the_scope_open(world, as_user, persona, target):
    response = as_user(getattr(world, persona)).get(url("detail", getattr(world, target)))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("persona", "name", "method"),
    [
        ("helper", "edit", "get"),
        ("helper", "reveal_id", "post"),
        ("helper", "ledger_leave", "post"),
        ("helper", "evidence_upload", "post"),
        ("principal", "edit", "post"),
        ("principal", "reveal_id", "post"),
        ("principal", "ledger_join", "get"),
        ("counsellor", "reveal_id", "post"),
        ("student_user", "edit", "get"),
        ("student_user", "reveal_id", "post"),
        ("student_user", "ledger_edit", "get"),
        ("student_user", "evidence", "get"),
    ],
)
def test_visible_but_not_allowed_is_403(world, as_user, persona, name, method):
    response = _request(as_user(getattr(world, persona)), name, method, world.own)
    assert response.status_code == 403


def test_student_user_opening_their_own_page_goes_to_my_record(world, as_user):
    response = as_user(world.student_user).get(url("detail", world.own))
    assert response.status_code == 302 and response.url == url("me")


def test_the_ledger_page_is_scoped(world, as_user):
    response = as_user(world.outsider).get(url("ledger"))
    assert response.status_code == 200
    assert response.context["figures"]["in_ledger"] == 0
    assert "田斌臣" not in response.content.decode()


def test_anonymous_users_are_sent_to_log_in(client, world):
    for target in (url("list"), url("detail", world.own), url("ledger"), url("me")):
        response = client.get(target)
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_a_student_sees_their_own_record_while_they_hold_the_student_role(world):
    """The scope's arm for one's own record: a student login reaches its record (and nobody else's); staff scopes
    have no such arm, so their filters stay on the unit indexes; taking the student role away ends it."""
    from bangfu.organisation.models import RoleGrant, User
    from bangfu.organisation.permissions import student_q
    from bangfu.students.models import Student

    def visible(user: User) -> list[str]:
        fresh = User.objects.get(pk=user.pk)  # scopes are read once per user object, i.e. once per request
        return list(Student.objects.visible_to(fresh).values_list("name", flat=True))

    assert visible(world.student_user) == ["田斌臣"]
    assert str(Student.objects.filter(student_q(world.office)).order_by().values("pk").query).endswith(
        f'WHERE "students_student"."school_id" = {world.school.pk}'
    )
    RoleGrant.objects.filter(user=world.student_user).delete()
    assert visible(world.student_user) == []


def test_the_scope_unit_is_the_one_unit_holding_every_student_the_user_reaches(world):
    """`scope_unit` lets a list in class order walk one unit's classes: only when the user's whole scope is that
    unit's subtree. A helper's own students, a student's own record or grants on two units leave it unknown."""
    from bangfu.organisation.models import Role, RoleGrant, User
    from bangfu.organisation.permissions import Perm, scope_unit
    from tests.factories import UserFactory

    def fresh(user: User) -> User:
        return User.objects.get(pk=user.pk)  # scopes are read once per user object

    assert scope_unit(fresh(world.office)) == world.school
    assert scope_unit(fresh(world.leader)) == world.dept1
    assert scope_unit(fresh(world.helper)) is None  # reaches `own` as their helper
    assert scope_unit(fresh(world.student_user)) is None  # their own record
    assert scope_unit(UserFactory(username="root", is_superuser=True)) is None
    assert scope_unit(fresh(world.office), Perm.ASSIGN_HELPER) == world.school
    RoleGrant.objects.create(user=world.leader, role=Role.DEPARTMENT_LEADER, unit=world.dept2)
    assert scope_unit(fresh(world.leader)) is None
