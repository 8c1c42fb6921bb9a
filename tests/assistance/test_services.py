"""Assigning, handing over, ending and bulk-assigning helpers, through the services."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from bangfu.assistance.models import HelperAssignment
from bangfu.assistance.services import assign_helper, bulk_assign, end_assignment, hand_over
from bangfu.concurrency import StaleEdit
from bangfu.organisation.models import Role
from tests.assistance.helpers import english, ledger_student
from tests.conftest import TODAY, World
from tests.factories import make_staff, make_student, system_user

START = dt.date(2023, 9, 4)


pytestmark = pytest.mark.usefixtures(english.__name__)


def active_helpers(student):  # type: ignore[no-untyped-def]
    return list(HelperAssignment.objects.active().filter(student=student).values_list("helper__username", flat=True))


# --- one active primary helper -------------------------------------------------------------------------------


def test_a_second_active_helper_is_refused_by_the_service(world: World) -> None:
    with pytest.raises(ValidationError) as e:
        assign_helper(actor=world.leader, student=world.own, helper=world.counsellor, start=START, today=TODAY)
    assert "田斌臣 already has a helper" in e.value.messages[0]
    assert active_helpers(world.own) == ["helper"]


def test_a_second_active_helper_is_refused_by_the_database(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        HelperAssignment.objects.create(
            student=world.own, helper=world.counsellor, started_on=START, assigned_by=world.leader
        )
    assert active_helpers(world.own) == ["helper"]


def test_an_ended_assignment_does_not_block_a_new_one(world: World) -> None:
    current = HelperAssignment.objects.active().get(student=world.own)
    end_assignment(
        actor=world.leader,
        assignment=current,
        ended_on=START,
        reason="郑银乐老师调往机电工程系",
        expected_version=current.version,
        today=TODAY,
    )
    assign_helper(actor=world.leader, student=world.own, helper=world.counsellor, start=START, today=TODAY)
    assert active_helpers(world.own) == ["counsellor"]
    assert HelperAssignment.objects.filter(student=world.own).count() == 2


def test_assign_records_the_period_and_who_assigned(world: World) -> None:
    a = assign_helper(
        actor=world.leader,
        student=world.classmate,
        helper=world.counsellor,
        start=START,
        planned_end=dt.date(2024, 8, 31),
        reason="  一对一帮扶，直至毕业  ",
        today=TODAY,
    )
    assert (a.helper, a.started_on, a.planned_end, a.reason, a.assigned_by) == (
        world.counsellor,
        START,
        dt.date(2024, 8, 31),
        "一对一帮扶，直至毕业",
        world.leader,
    )
    assert a.history.first().history_user == world.leader


@pytest.mark.parametrize(
    ("start", "planned_end", "message"),
    [
        (dt.date(2024, 3, 16), None, "The start date cannot be in the future."),
        (START, dt.date(2023, 9, 1), "The planned end must come after the start."),
    ],
)
def test_assign_refuses_bad_dates(world: World, start, planned_end, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as e:
        assign_helper(
            actor=world.leader,
            student=world.classmate,
            helper=world.counsellor,
            start=start,
            planned_end=planned_end,
            today=TODAY,
        )
    assert message in e.value.messages
    assert active_helpers(world.classmate) == []


# --- who may be a helper, and who may assign -----------------------------------------------------------------


def test_staff_of_another_school_cannot_help(world: World) -> None:
    with pytest.raises(ValidationError) as e:
        assign_helper(actor=world.office, student=world.classmate, helper=world.outsider, start=START, today=TODAY)
    assert "The helper must belong to the student's school." in e.value.messages


def test_staff_without_a_home_unit_count_by_their_grants(world: World) -> None:
    # A teacher whose only tie is a grant in the other school is not staff of this one, even for a superuser.
    drifter = make_staff("drifter", Role.TEACHER, world.outsider.unit, full_name="孙老师")
    drifter.unit = None
    drifter.save()
    with pytest.raises(ValidationError) as e:
        assign_helper(actor=system_user(), student=world.classmate, helper=drifter, start=START, today=TODAY)
    assert "The helper must belong to the student's school." in e.value.messages


def test_a_student_user_cannot_be_a_helper(world: World) -> None:
    with pytest.raises(ValidationError) as e:
        assign_helper(actor=world.leader, student=world.classmate, helper=world.student_user, start=START, today=TODAY)
    assert "田斌臣 is not an active staff member." in e.value.messages


def test_a_leader_picks_helpers_among_the_staff_of_their_department(world: World) -> None:
    dept2_teacher = make_staff("dept2teacher", Role.TEACHER, world.dept2, full_name="周老师")
    with pytest.raises(ValidationError) as e:
        assign_helper(actor=world.leader, student=world.classmate, helper=dept2_teacher, start=START, today=TODAY)
    assert "周老师 works outside the units where you assign helpers." in e.value.messages
    # The office covers the whole school.
    assign_helper(actor=world.office, student=world.classmate, helper=dept2_teacher, start=START, today=TODAY)
    assert active_helpers(world.classmate) == ["dept2teacher"]


@pytest.mark.parametrize("who", ["helper", "counsellor", "principal", "student_user"])
def test_roles_without_the_assign_permission_are_refused(world: World, who: str) -> None:
    with pytest.raises(PermissionDenied):
        assign_helper(actor=getattr(world, who), student=world.own, helper=world.counsellor, start=START, today=TODAY)


def test_a_leader_cannot_assign_in_another_department(world: World) -> None:
    with pytest.raises(PermissionDenied):
        assign_helper(
            actor=world.leader, student=world.dept2_student, helper=world.counsellor, start=START, today=TODAY
        )


# --- hand-over -----------------------------------------------------------------------------------------------


def test_hand_over_ends_the_old_help_and_carries_the_note(world: World) -> None:
    old = HelperAssignment.objects.active().get(student=world.own)
    new = hand_over(
        actor=world.leader,
        student=world.own,
        new_helper=world.counsellor,
        on=dt.date(2024, 3, 1),
        note="祖父母年事已高，学生想在家乡附近就业；简历已修改两次。",
        expected_version=old.version,
        expected_assignment=old,
        today=TODAY,
    )
    old.refresh_from_db()
    assert old.ended_on == dt.date(2024, 3, 1)
    assert "Handed over to 赵辅导员" in old.end_reason
    assert (new.helper, new.started_on) == (world.counsellor, dt.date(2024, 3, 1))
    assert new.handover_note == "祖父母年事已高，学生想在家乡附近就业；简历已修改两次。"
    assert active_helpers(world.own) == ["counsellor"]


@pytest.mark.parametrize("note", ["", "   \n "])
def test_hand_over_without_a_note_is_refused_and_nothing_is_written(world: World, note: str) -> None:
    old = HelperAssignment.objects.active().get(student=world.own)
    with pytest.raises(ValidationError) as e:
        hand_over(
            actor=world.leader,
            student=world.own,
            new_helper=world.counsellor,
            on=dt.date(2024, 3, 1),
            note=note,
            expected_version=old.version,
            today=TODAY,
        )
    assert e.value.message_dict == {"note": ["A hand-over needs a note for the new helper."]}
    old.refresh_from_db()
    assert (old.ended_on, old.version) == (None, 1)
    assert HelperAssignment.objects.filter(student=world.own).count() == 1


def test_hand_over_to_an_invalid_helper_leaves_the_current_help_untouched(world: World) -> None:
    old = HelperAssignment.objects.active().get(student=world.own)
    with pytest.raises(ValidationError):
        hand_over(
            actor=world.leader,
            student=world.own,
            new_helper=world.outsider,
            on=dt.date(2024, 3, 1),
            note="交接说明",
            expected_version=old.version,
            today=TODAY,
        )
    old.refresh_from_db()
    assert old.ended_on is None
    assert active_helpers(world.own) == ["helper"]


def test_hand_over_from_a_stale_page_is_refused(world: World) -> None:
    """Someone handed the student over after the form was opened: the second hand-over must not apply."""
    seen = HelperAssignment.objects.active().get(student=world.own)
    hand_over(
        actor=world.office,
        student=world.own,
        new_helper=world.counsellor,
        on=dt.date(2024, 3, 1),
        note="第一次交接",
        today=TODAY,
    )
    third = make_staff("teacher3", Role.TEACHER, world.dept1, full_name="吴老师")
    with pytest.raises(StaleEdit):
        hand_over(
            actor=world.leader,
            student=world.own,
            new_helper=third,
            on=dt.date(2024, 3, 2),
            note="第二次交接",
            expected_version=seen.version,
            expected_assignment=seen,
            today=TODAY,
        )
    assert active_helpers(world.own) == ["counsellor"]


# --- ending --------------------------------------------------------------------------------------------------


def test_a_stale_end_is_refused(world: World) -> None:
    current = HelperAssignment.objects.active().get(student=world.own)
    opened_at = current.version
    end_assignment(
        actor=world.office,
        assignment=current,
        ended_on=dt.date(2024, 3, 1),
        reason="学生休学",
        expected_version=opened_at,
        today=TODAY,
    )
    with pytest.raises(StaleEdit):
        end_assignment(
            actor=world.leader,
            assignment=current,
            ended_on=dt.date(2024, 3, 2),
            reason="重复操作",
            expected_version=opened_at,
            today=TODAY,
        )
    current.refresh_from_db()
    assert (current.ended_on, current.end_reason) == (dt.date(2024, 3, 1), "学生休学")


def test_end_needs_a_reason_and_a_sensible_date(world: World) -> None:
    current = HelperAssignment.objects.active().get(student=world.own)
    kw = {"actor": world.leader, "assignment": current, "expected_version": 1, "today": TODAY}
    with pytest.raises(ValidationError, match=r"Say why the help ends\."):
        end_assignment(ended_on=TODAY, reason=" ", **kw)
    with pytest.raises(ValidationError, match="before the start date"):
        end_assignment(ended_on=dt.date(2021, 10, 31), reason="错误", **kw)
    with pytest.raises(ValidationError, match="cannot be in the future"):
        end_assignment(ended_on=dt.date(2024, 3, 16), reason="提前", **kw)
    assert active_helpers(world.own) == ["helper"]


# --- bulk ----------------------------------------------------------------------------------------------------


def test_bulk_assign_assigns_everyone(world: World) -> None:
    a = ledger_student(world.class1, name="王芳")
    b = ledger_student(world.class1, name="李强")
    done = bulk_assign(
        actor=world.leader, students=[a, b, a], helper=world.counsellor, start=START, reason="新学期", today=TODAY
    )
    assert len(done) == 2
    assert active_helpers(a) == active_helpers(b) == ["counsellor"]


def test_bulk_assign_is_all_or_nothing_and_names_the_student(world: World) -> None:
    a = ledger_student(world.class1, name="王芳")
    b = make_student(world.class1, name="李强")
    with pytest.raises(ValidationError) as e:
        bulk_assign(actor=world.leader, students=[a, world.own, b], helper=world.counsellor, start=START, today=TODAY)
    assert "田斌臣" in e.value.messages[0]
    assert world.own.student_number in e.value.messages[0]
    assert active_helpers(a) == active_helpers(b) == []
    assert active_helpers(world.own) == ["helper"]


def test_bulk_assign_outside_the_department_is_refused_entirely(world: World) -> None:
    a = ledger_student(world.class1, name="王芳")
    with pytest.raises(PermissionDenied):
        bulk_assign(
            actor=world.leader,
            students=[a, world.dept2_student],
            helper=world.counsellor,
            start=START,
            today=TODAY,
        )
    assert active_helpers(a) == []
