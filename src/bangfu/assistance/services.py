"""Writes for one-on-one help: assigning, handing over and ending a helper's responsibility."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bangfu.assistance.models import HelperAssignment
from bangfu.concurrency import StaleEdit, lock_current
from bangfu.organisation.models import OrgUnit, User
from bangfu.organisation.permissions import (
    STAFF_ROLES,
    Perm,
    grants_of,
    is_staff_member,
    require_student_perm,
    units_with,
)
from bangfu.students.models import Student


def helper_units(helper: User) -> list[OrgUnit]:
    """Where a staff member works: their home unit and the units of their staff grants."""
    units = [g.unit for g in grants_of(helper) if g.role in STAFF_ROLES]
    if helper.unit is not None:
        units.append(helper.unit)
    return units


def _check_helper(helper: User, student: Student, actor: User) -> None:
    if not helper.is_active or not is_staff_member(helper):
        raise ValidationError({"helper": _("%(name)s is not an active staff member.") % {"name": helper}})
    units = helper_units(helper)
    if not any(student.school.covers(u) for u in units):
        raise ValidationError({"helper": _("The helper must belong to the student's school.")})
    # An assigner picks helpers among the staff of the units they lead (the office: the whole school).
    if not actor.is_superuser:
        scope = units_with(actor, Perm.ASSIGN_HELPER)
        if not any(s.covers(u) for s in scope for u in units):
            raise ValidationError(
                {"helper": _("%(name)s works outside the units where you assign helpers.") % {"name": helper}}
            )


@transaction.atomic
def assign_helper(
    *,
    actor: User,
    student: Student,
    helper: User,
    start: dt.date,
    reason: str = "",
    planned_end: dt.date | None = None,
    handover_note: str = "",
    today: dt.date | None = None,
) -> HelperAssignment:
    """Name the helper of a student who has none. A student who has one is handed over instead."""
    require_student_perm(actor, Perm.ASSIGN_HELPER, student)
    _check_helper(helper, student, actor)
    today = today or timezone.localdate()
    if start > today:
        raise ValidationError({"start": _("The start date cannot be in the future.")})
    if planned_end is not None and planned_end < start:
        raise ValidationError({"planned_end": _("The planned end must come after the start.")})
    if HelperAssignment.objects.active().filter(student=student).exists():
        raise ValidationError(
            _("%(name)s already has a helper; hand the student over instead.") % {"name": student.name},
            code="has_helper",
        )
    assignment = HelperAssignment(
        student=student,
        helper=helper,
        started_on=start,
        planned_end=planned_end,
        reason=reason.strip(),
        handover_note=handover_note.strip(),
        assigned_by=actor,
    )
    assignment._history_user = actor  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:
        # Someone assigned a helper between our check and our insert: the constraint is the last word.
        raise ValidationError(
            _("%(name)s already has a helper; hand the student over instead.") % {"name": student.name},
            code="has_helper",
        ) from None
    return assignment


@transaction.atomic
def end_assignment(
    *,
    actor: User,
    assignment: HelperAssignment,
    ended_on: dt.date,
    reason: str,
    expected_version: int | None,
    today: dt.date | None = None,
) -> HelperAssignment:
    require_student_perm(actor, Perm.ASSIGN_HELPER, assignment.student)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the help ends.")})
    current = lock_current(HelperAssignment, assignment.pk, expected_version)
    if current.ended_on is not None:
        raise ValidationError(_("This assignment has already ended."))
    if ended_on < current.started_on:
        raise ValidationError({"ended_on": _("The end date cannot be before the start date.")})
    if ended_on > (today or timezone.localdate()):
        raise ValidationError({"ended_on": _("The end date cannot be in the future.")})
    current.ended_on = ended_on
    current.end_reason = reason
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current


@transaction.atomic
def hand_over(
    *,
    actor: User,
    student: Student,
    new_helper: User,
    on: dt.date,
    note: str,
    expected_version: int | None = None,
    expected_assignment: HelperAssignment | None = None,
    today: dt.date | None = None,
) -> HelperAssignment:
    """End the current helper's responsibility and start the new one's; the note travels to the new helper.

    `expected_assignment` and `expected_version` are what the actor's form showed: if the student was handed
    over meanwhile, the hand-over is refused as stale rather than applied to the newer assignment.
    """
    require_student_perm(actor, Perm.ASSIGN_HELPER, student)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("A hand-over needs a note for the new helper.")})
    current = HelperAssignment.objects.active().filter(student=student).first()
    if expected_assignment is not None and (current is None or current.pk != expected_assignment.pk):
        raise StaleEdit()
    if current is None:
        raise ValidationError(_("%(name)s has no helper to hand over from.") % {"name": student.name})
    if current.helper_id == new_helper.pk:
        raise ValidationError({"helper": _("The new helper is already this student's helper.")})
    # Check the new helper before the current assignment is touched, so the error names the right field.
    _check_helper(new_helper, student, actor)
    end_assignment(
        actor=actor,
        assignment=current,
        ended_on=on,
        reason=_("Handed over to %(name)s") % {"name": new_helper},
        expected_version=expected_version,
        today=today,
    )
    return assign_helper(
        actor=actor,
        student=student,
        helper=new_helper,
        start=on,
        reason=_("Hand-over"),
        handover_note=note,
        today=today,
    )


def bulk_assign(
    *,
    actor: User,
    students: list[Student],
    helper: User,
    start: dt.date,
    reason: str = "",
    today: dt.date | None = None,
) -> list[HelperAssignment]:
    """Assign one helper to several students, all or nothing; the error names the first student refused."""
    unique = list({s.pk: s for s in students}.values())
    if not unique:
        raise ValidationError({"students": _("Choose at least one student.")})
    assignments = []
    with transaction.atomic():
        for student in unique:
            try:
                assignments.append(
                    assign_helper(actor=actor, student=student, helper=helper, start=start, reason=reason, today=today)
                )
            except ValidationError as e:
                raise ValidationError(
                    _("%(name)s (%(number)s): %(error)s")
                    % {"name": student.name, "number": student.student_number, "error": " ".join(e.messages)},
                    code=getattr(e, "code", None) or "refused",
                ) from None
    return assignments
