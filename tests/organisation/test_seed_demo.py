"""`bangfu seed_demo`: the demo university, its five logins, and loading it twice."""

import datetime as dt
import io
from collections import Counter

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from bangfu.assistance.models import HelperAssignment
from bangfu.organisation.models import OrgUnit, Role, RoleGrant, UnitKind, User
from bangfu.students import idnumbers
from bangfu.students.models import Gender, LedgerCategory, LedgerEntry, Student

# A fixed day in the autumn semester, so cohorts and dates do not depend on when the suite runs.
AUTUMN = dt.datetime(2025, 11, 3, 10, 0, tzinfo=dt.UTC)
LOGINS = ("principal", "office", "leader", "helper", "student")


def seed(*args: str) -> str:
    out = io.StringIO()
    with time_machine.travel(AUTUMN, tick=False), translation.override("en"):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(db: None) -> str:
    return seed("--students", "300")


def open_ledger() -> "list[Student]":
    return list(Student.objects.filter(ledger_entries__left_on__isnull=True, ledger_entries__isnull=False))


def test_the_five_demo_logins_work_with_the_demo_password_and_are_printed(demo):
    for username in LOGINS:
        assert username in demo
        client = Client()
        response = client.post(reverse("login"), {"username": username, "password": "bangfu-demo"})
        assert response.status_code == 302, username
        assert client.session["_auth_user_id"] == str(User.objects.get(username=username).pk)
    assert "bangfu-demo" in demo


def test_other_staff_cannot_log_in(demo):
    others = User.objects.exclude(username__in=LOGINS)
    assert others.count() >= 140
    assert not any(u.has_usable_password() for u in others)


def test_school_structure_departments_majors_cohorts_classes(demo):
    school = OrgUnit.objects.get(kind=UnitKind.SCHOOL, code="DEMO")
    assert school.name and school.name_en
    departments = OrgUnit.objects.filter(parent=school)
    assert departments.count() >= 6
    assert all(d.name_en for d in departments)
    for dept in departments:
        assert 2 <= dept.children.count() <= 3
    cohorts = set(Student.objects.values_list("cohort", flat=True))
    assert cohorts == {2022, 2023, 2024, 2025}
    for major in OrgUnit.objects.filter(kind=UnitKind.MAJOR, path__startswith=school.path):
        assert major.children.count() == 4  # one class per cohort
    assert Student.objects.filter(school=school).count() == 300
    # Graduated cohorts are marked so; everybody else is studying.
    assert set(Student.objects.filter(cohort=2022).values_list("status", flat=True)) == {"graduated"}
    assert set(Student.objects.filter(cohort__gte=2023).values_list("status", flat=True)) == {"enrolled"}


def test_roles_and_scopes_of_the_logins(demo):
    school = OrgUnit.objects.get(code="DEMO", parent=None)
    users = {u.username: u for u in User.objects.filter(username__in=LOGINS)}

    def grants(name: str) -> set[tuple[str, str]]:
        return {(g.role, g.unit.kind) for g in RoleGrant.objects.filter(user=users[name]).select_related("unit")}

    assert grants("principal") == {(Role.SCHOOL_LEADER, UnitKind.SCHOOL)}
    assert grants("office") == {(Role.EMPLOYMENT_OFFICE, UnitKind.SCHOOL)}
    assert grants("leader") == {(Role.DEPARTMENT_LEADER, UnitKind.DEPARTMENT)}
    assert grants("helper") == {(Role.COUNSELLOR, UnitKind.CLASS)}
    assert grants("student") == {(Role.STUDENT, UnitKind.CLASS)}

    assert Student.objects.visible_to(users["principal"]).count() == 300
    assert Student.objects.visible_to(users["office"]).count() == 300
    leader_dept = RoleGrant.objects.get(user=users["leader"]).unit
    assert Student.objects.visible_to(users["leader"]).count() == Student.objects.filter(department=leader_dept).count()

    # The counsellor's classes are final-year classes of the leader's department; their ledger students are theirs.
    classes = [g.unit for g in RoleGrant.objects.filter(user=users["helper"])]
    assert len(classes) >= 2
    assert all(c.path.startswith(leader_dept.path) for c in classes)
    assert {s.cohort for s in Student.objects.filter(class_unit__in=classes)} == {2023}
    helped = Student.objects.filter(
        helper_assignments__in=HelperAssignment.objects.active().filter(helper=users["helper"])
    )
    in_classes_ledger = [s for s in open_ledger() if s.class_unit in classes]
    assert helped.count() == len(in_classes_ledger) >= 1
    assert set(helped) <= set(Student.objects.visible_to(users["helper"]))

    # The student login is a ledger student, helped by `helper`, who sees only themself.
    me = Student.objects.get(user=users["student"])
    assert me in helped
    assert list(Student.objects.visible_to(users["student"])) == [me]
    assert me.school == school


def test_about_a_fifth_are_in_the_ledger_and_each_has_a_helper(demo):
    ledger = open_ledger()
    assert 0.17 <= len(ledger) / 300 <= 0.23
    active = Counter(HelperAssignment.objects.active().values_list("student_id", flat=True))
    assert all(active[s.pk] == 1 for s in ledger)
    # Every helper is a member of staff of the student's school.
    for assignment in HelperAssignment.objects.active().select_related("helper__unit", "student__school"):
        assert assignment.helper.unit.path.startswith(assignment.student.school.path)
        assert RoleGrant.objects.filter(user=assignment.helper).exclude(role=Role.STUDENT).exists()
    categories = Counter(LedgerCategory.objects.filter(entry__left_on__isnull=True).values_list("category", flat=True))
    assert {"poverty_alleviated", "rural", "student_loan"} <= set(categories)
    for entry in LedgerEntry.objects.filter(left_on__isnull=True):
        assert entry.family_situation and entry.join_reason and entry.hardship_level
        assert entry.joined_on <= AUTUMN.date()


def test_students_have_valid_consistent_id_numbers_and_realistic_data(demo):
    ethnicities = Counter()
    for s in Student.objects.select_related("class_unit", "major", "department", "school"):
        number = idnumbers.decrypt(s.id_number_cipher)
        assert idnumbers.validate(number) == number
        assert s.id_number_hash == idnumbers.keyed_hash(number)
        assert s.id_number_masked == idnumbers.mask(number)
        assert idnumbers.birth_date(number) == s.birth_date
        assert (int(number[16]) % 2 == 1) == (s.gender == Gender.MALE)
        assert s.class_unit.parent == s.major and s.major.parent == s.department and s.department.parent == s.school
        assert 2 <= len(s.name) <= 3
        assert s.phone.isdigit() and len(s.phone) == 11
        ethnicities[s.ethnicity] += 1
    assert ethnicities.most_common(1)[0] == ("汉族", ethnicities["汉族"])
    assert ethnicities["汉族"] / 300 > 0.85
    hebei = Student.objects.filter(home_province="河北省").count()
    assert 0.75 < hebei / 300 < 0.98


def test_running_it_again_changes_nothing(demo):
    def counts() -> dict[str, int]:
        models = [OrgUnit, User, RoleGrant, Student, LedgerEntry, LedgerCategory, HelperAssignment]
        totals = {m.__name__: m.objects.count() for m in models}
        totals.update({f"history {m.__name__}": m.history.count() for m in models if hasattr(m, "history")})
        return totals

    before = counts()
    assert "already loaded" in seed()
    seed("--if-empty")
    assert counts() == before


def test_if_empty_leaves_a_database_with_students_alone(world):
    out = seed("--if-empty")
    assert "not loaded" in out
    assert not OrgUnit.objects.filter(code="DEMO").exists()


def test_refuses_when_a_demo_user_name_is_taken(db):
    User.objects.create(username="office")
    with pytest.raises(CommandError, match="office"):
        seed("--students", "300")
    assert not OrgUnit.objects.filter(code="DEMO").exists()
