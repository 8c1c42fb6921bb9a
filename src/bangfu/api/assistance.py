"""Helper assignments (一对一帮扶): who helps a student, assigning, handing over, ending.

A hand-over note is for the new helper: it is sent to that helper and to leaders, null to everyone else.
"""

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Value
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from bangfu.api.auth import caller
from bangfu.api.errors import EDIT_ERRORS, READ_ERRORS, WRITE_ERRORS
from bangfu.api.schemas import InputSchema, Pages, PersonRef, StudentRef
from bangfu.assistance.models import HelperAssignment
from bangfu.assistance.queries import get_student_to_assign, helper_candidates
from bangfu.assistance.services import assign_helper, end_assignment, hand_over
from bangfu.organisation.models import User
from bangfu.students.models import Student
from bangfu.students.queries import assignment_history, get_student_for_user, student_access

router = Router(tags=["helper assignments"])


class AssignmentOut(Schema):
    id: UUID
    student: StudentRef
    helper: PersonRef
    is_primary: bool
    is_active: bool
    started_on: date
    planned_end: date | None
    ended_on: date | None
    reason: str
    end_reason: str
    handover_note: str | None = Field(description="For the new helper and leaders; null for everyone else.")
    assigned_by: PersonRef
    version: int = Field(description="Send it back to end the assignment or hand the student over.")

    @staticmethod
    def resolve_id(obj: HelperAssignment) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_is_active(obj: HelperAssignment) -> bool:
        return obj.is_primary and obj.ended_on is None

    # Hidden unless `_out` cleared the caller: forgetting the check hides the note, never leaks it.
    @staticmethod
    def resolve_handover_note(obj: HelperAssignment) -> str | None:
        return obj.handover_note if getattr(obj, "api_show_note", False) else None


class MineFilters(Schema):
    active: bool = Field(True, description="Only assignments that are running now.")


class AssignIn(InputSchema):
    helper: UUID = Field(description="The id of a staff member of the student's school.")
    start: date
    planned_end: date | None = None
    reason: str = Field("", max_length=300)


class HandOverIn(InputSchema):
    helper: UUID = Field(description="The new helper.")
    on: date
    note: str = Field(..., max_length=5000, description="What the new helper needs to know.")
    version: int = Field(..., ge=1, le=2_000_000_000, description="The version of the current assignment.")


class EndIn(InputSchema):
    ended_on: date
    reason: str = Field(..., max_length=300)
    version: int = Field(..., ge=1, le=2_000_000_000)


def _out(user: User, assignments: Iterable[HelperAssignment], student: Student | None = None) -> list[HelperAssignment]:
    """Assignments ready for `AssignmentOut`: the hand-over note shows to its helper and to leaders only."""
    leader_of: dict[int, bool] = {}
    out = []
    for assignment in assignments:
        if student is not None:
            assignment.student = student
        show = assignment.helper_id == user.pk
        if not show:
            if assignment.student_id not in leader_of:
                leader_of[assignment.student_id] = student_access(user, assignment.student).is_leader
            show = leader_of[assignment.student_id]
        assignment.api_show_note = show  # type: ignore[attr-defined]
        out.append(assignment)
    return out


def _assignment(user: User, public_id: UUID) -> HelperAssignment:
    """An assignment of a student the user may see; otherwise 404."""
    visible = Student.objects.visible_to(user).values("pk")
    assignment = (
        HelperAssignment.objects.filter(public_id=public_id, student__in=visible)
        .select_related("student", "student__school", "helper", "assigned_by")
        .first()
    )
    if assignment is None:
        raise Http404
    return assignment


def _helper(user: User, public_id: UUID, student: Student) -> User:
    """A staff member `user` may name as the student's helper; anyone else does not exist for this purpose."""
    helper = helper_candidates(user, student.school).filter(public_id=public_id).first()
    if helper is None:
        raise ValidationError({"helper": _("There is no staff member with this id whom you can name as helper.")})
    return helper


@router.get(
    "/helper-assignments",
    response={200: list[AssignmentOut], **READ_ERRORS},
    summary="My helper assignments",
)
@paginate(Pages)
def assignments_mine(request: HttpRequest, filters: Query[MineFilters]) -> Any:
    """The students the caller helps (with `active=false`, also past assignments of students still in view)."""
    user = caller(request)
    assignments = HelperAssignment.objects.filter(
        helper=user, student__in=Student.objects.visible_to(user).values("pk")
    ).select_related("student", "helper", "assigned_by")
    if filters.active:
        assignments = assignments.active()
    # Every row is the caller's own assignment, so its hand-over note is theirs to read.
    return assignments.annotate(api_show_note=Value(True)).order_by("-started_on", "-pk")


@router.get(
    "/students/{student_id}/helper-assignments",
    response={200: list[AssignmentOut], **READ_ERRORS},
    summary="A student's helpers",
)
def assignments_for_student(request: HttpRequest, student_id: UUID) -> Any:
    """Every helper the student has had, newest first."""
    user = caller(request)
    student = get_student_for_user(user, student_id)
    return _out(user, assignment_history(student), student)


@router.post(
    "/students/{student_id}/helper-assignments",
    response={201: AssignmentOut, **WRITE_ERRORS},
    summary="Assign a helper",
)
def assignments_assign(request: HttpRequest, student_id: UUID, payload: AssignIn) -> Any:
    """Name the helper of a student who has none (a student who has one is handed over instead)."""
    user = caller(request)
    student = get_student_to_assign(user, student_id)
    assignment = assign_helper(
        actor=user,
        student=student,
        helper=_helper(user, payload.helper, student),
        start=payload.start,
        planned_end=payload.planned_end,
        reason=payload.reason,
    )
    return Status(201, _out(user, [_assignment(user, assignment.public_id)])[0])


@router.post(
    "/students/{student_id}/helper-assignments/hand-over",
    response={201: AssignmentOut, **EDIT_ERRORS},
    summary="Hand a student over to a new helper",
)
def assignments_hand_over(request: HttpRequest, student_id: UUID, payload: HandOverIn) -> Any:
    """End the current assignment and start the new helper's; answers the new assignment."""
    user = caller(request)
    student = get_student_to_assign(user, student_id)
    assignment = hand_over(
        actor=user,
        student=student,
        new_helper=_helper(user, payload.helper, student),
        on=payload.on,
        note=payload.note,
        expected_version=payload.version,
    )
    return Status(201, _out(user, [_assignment(user, assignment.public_id)])[0])


@router.get(
    "/helper-assignments/{assignment_id}",
    response={200: AssignmentOut, **READ_ERRORS},
    summary="Get a helper assignment",
)
def assignments_retrieve(request: HttpRequest, assignment_id: UUID) -> Any:
    user = caller(request)
    return _out(user, [_assignment(user, assignment_id)])[0]


@router.post(
    "/helper-assignments/{assignment_id}/end",
    response={200: AssignmentOut, **EDIT_ERRORS},
    summary="End a helper assignment",
)
def assignments_end(request: HttpRequest, assignment_id: UUID, payload: EndIn) -> Any:
    user = caller(request)
    assignment = _assignment(user, assignment_id)
    end_assignment(
        actor=user,
        assignment=assignment,
        ended_on=payload.ended_on,
        reason=payload.reason,
        expected_version=payload.version,
    )
    return _out(user, [_assignment(user, assignment_id)])[0]
