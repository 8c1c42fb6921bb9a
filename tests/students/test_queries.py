"""The read helpers the pages and the API share: filters take plain values and never widen the scope."""

import uuid

import pytest
from django.http import Http404

from bangfu.students.models import Student
from bangfu.students.queries import (
    apply_student_filters,
    get_student_for_user,
    sort_students,
    student_list_queryset,
)
from tests.students.pages import ledger_student


def names(qs) -> set[str]:
    return {s.name for s in qs}


def test_filters_accept_uuid_objects_and_strings(world):
    qs = Student.objects.all()
    assert names(apply_student_filters(qs, department=world.dept2.public_id)) == {"陈静"}
    assert names(apply_student_filters(qs, department=str(world.dept2.public_id))) == {"陈静"}


@pytest.mark.parametrize("bad", [{"department": "not-a-uuid"}, {"helper": "x"}, {"cohort": "二〇二一年"}])
def test_unparseable_values_match_nothing(world, bad):
    assert not apply_student_filters(Student.objects.all(), **bad).exists()


def test_none_and_blank_leave_a_filter_out(world):
    qs = Student.objects.all()
    assert apply_student_filters(qs, q=None, department="", cohort=None, in_ledger=None).count() == qs.count()


def test_filters_never_widen_the_scope(world):
    scoped = student_list_queryset(world.helper)
    assert names(apply_student_filters(scoped, department=world.dept1.public_id)) == {"田斌臣"}
    assert names(apply_student_filters(scoped, class_unit=world.class1.public_id, in_ledger=False)) == set()


def test_list_queryset_annotates_helper_and_ledger(world):
    ledger_student(world.class1, name="钱芳")
    rows = {s.name: s for s in student_list_queryset(world.office)}
    assert rows["田斌臣"].helper_name == "郑银乐" and rows["田斌臣"].in_ledger
    assert rows["田斌臣"].helper_public_id == world.helper.public_id
    assert rows["钱芳"].helper_name is None and rows["钱芳"].in_ledger
    assert not rows["刘洋"].in_ledger and rows["刘洋"].open_entries == []
    assert [c.category for c in rows["田斌臣"].open_entries[0].categories.all()] == ["orphan", "poverty_alleviated"]


def test_unknown_sort_falls_back_to_the_student_number(world):
    qs = sort_students(Student.objects.all(), "password")
    assert [s.student_number for s in qs] == sorted(s.student_number for s in qs)


def test_get_student_for_user_is_404_outside_the_scope(world):
    assert get_student_for_user(world.helper, world.own.public_id) == world.own
    with pytest.raises(Http404):
        get_student_for_user(world.helper, world.classmate.public_id)
    with pytest.raises(Http404):
        get_student_for_user(world.office, uuid.uuid4())


def test_class_order_is_department_then_class_then_student_number(db):
    """The ledger, survey, caseload, unplaced and track lists show students by class (so by department first),
    then by number; the class's path is read per row (see `class_path`), the order is the tree's."""
    from bangfu.organisation.models import UnitKind
    from bangfu.organisation.services import create_unit
    from bangfu.students.queries import in_class_order, sort_students
    from tests.factories import make_school, make_student

    u = make_school(departments=2)
    later = create_unit(kind=UnitKind.CLASS, code="C102", name="专业12102班", parent=u["major1"])
    made = [
        make_student(u["class2"], name="赵二", student_number="2021000001"),
        make_student(later, name="钱一", student_number="2021000002"),
        make_student(u["class1"], name="孙一", student_number="2021000009"),
        make_student(u["class1"], name="李一", student_number="2021000003"),
    ]
    students = Student.objects.filter(pk__in=[s.pk for s in made])

    expected = ["李一", "孙一", "钱一", "赵二"]  # D1's C101 by number, D1's C102, then D2
    assert [s.name for s in in_class_order(students)] == expected
    assert [s.name for s in sort_students(students, "class")] == expected
    assert [s.name for s in sort_students(students, "-class")] == expected[::-1]
    # Held to a unit that holds every row, the order is the same; held to a department, its students alone.
    assert [s.name for s in in_class_order(students, within=u["school"])] == expected
    d1 = students.filter(department=u["dept1"])
    assert [s.name for s in in_class_order(d1, within=u["dept1"])] == expected[:3]
