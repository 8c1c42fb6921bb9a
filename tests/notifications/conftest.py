"""A department with two helpers whose students are due and late on Monday 25 March 2024."""

import datetime as dt
from dataclasses import dataclass

import pytest

from bangfu.assistance.services import assign_helper
from bangfu.organisation.models import Role, User
from bangfu.students.models import Student
from bangfu.students.services import join_ledger
from tests.conftest import World
from tests.factories import make_staff, make_student, system_user

MONDAY = dt.date(2024, 3, 25)
TUESDAY = dt.date(2024, 3, 26)
NEXT_MONDAY = dt.date(2024, 4, 1)


@dataclass
class Reminders:
    world: World
    helper: User  # 郑银乐, Chinese (no language chosen): helps own, 王芳 and 李强
    helper_en: User  # an English-speaking teacher who helps 赵敏
    due: Student  # 王芳: joined the ledger on 1 March, March check-in due on the 31st
    late: Student  # 李强: no check-in since October: five months overdue, at risk, March due too
    late_en: Student  # 赵敏: the same, helped by helper_en


def ledger_student(world: World, name: str, helper: User, joined_on: dt.date) -> Student:
    """A second-year student (cohort 2022, three-year programme: in the study stage in March 2024)."""
    student = make_student(world.class1, name=name, cohort=2022)
    actor = system_user()
    join_ledger(
        actor=actor,
        student=student,
        joined_on=joined_on,
        reason="入学普查：低保家庭",
        categories=["subsistence_allowance"],
        today=MONDAY,
    )
    assign_helper(actor=actor, student=student, helper=helper, start=joined_on, today=MONDAY)
    return student


@pytest.fixture
def reminders(world: World) -> Reminders:
    helper_en = make_staff("teacher_en", Role.TEACHER, world.dept1, full_name="Anna Li", language="en")
    for user in (world.helper, world.leader, helper_en):
        user.email = f"{user.username}@hebust.edu.cn"
        user.save(update_fields=["email"])
    return Reminders(
        world=world,
        helper=world.helper,
        helper_en=helper_en,
        due=ledger_student(world, "王芳", world.helper, dt.date(2024, 3, 1)),
        late=ledger_student(world, "李强", world.helper, dt.date(2023, 10, 9)),
        late_en=ledger_student(world, "赵敏", helper_en, dt.date(2023, 10, 9)),
    )
