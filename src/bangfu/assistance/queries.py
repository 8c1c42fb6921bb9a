"""Read side of one-on-one help: who may be a helper, caseloads, students without a helper, my students.

Everything is scoped through `bangfu.organisation.permissions`; totals are database aggregates.
"""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from bangfu.assistance.models import HelperAssignment
from bangfu.organisation.models import OrgUnit, RoleGrant, User
from bangfu.organisation.permissions import STAFF_ROLES, Perm, require_student_perm, units_with
from bangfu.students.models import LedgerEntry, Student, StudentQuerySet


def _staff_in_units_q(units: list[OrgUnit]) -> Q:
    """Staff whose home unit or one of whose staff grants lies under one of `units`."""
    q = Q(pk__in=[])
    for unit in units:
        q |= Q(unit__path__startswith=unit.path)
        q |= Q(
            pk__in=RoleGrant.objects.filter(role__in=STAFF_ROLES, unit__path__startswith=unit.path).values("user_id")
        )
    return q


def _assign_scope(actor: User) -> list[OrgUnit] | None:
    """The units where `actor` assigns helpers; None means everywhere (superuser)."""
    return None if actor.is_superuser else units_with(actor, Perm.ASSIGN_HELPER)


def staff_in_scope(actor: User) -> QuerySet[User]:
    """Active staff members working in the units where `actor` assigns helpers."""
    qs = (
        User.objects.filter(is_active=True, pk__in=RoleGrant.objects.filter(role__in=STAFF_ROLES).values("user_id"))
        .select_related("unit")
        .order_by("full_name", "username")
    )
    scope = _assign_scope(actor)
    return qs if scope is None else qs.filter(_staff_in_units_q(scope))


def helper_candidates(actor: User, school: OrgUnit) -> QuerySet[User]:
    """Whom `actor` may name as helper of a student of `school`: any staff member in their scope and that school."""
    return staff_in_scope(actor).filter(_staff_in_units_q([school]))


def _open_entry_exists(student_ref: str) -> Exists:
    return Exists(LedgerEntry.objects.filter(student_id=OuterRef(student_ref), left_on__isnull=True))


def caseloads(actor: User) -> QuerySet[User]:
    """Each staff member in scope with `caseload` (active students) and `ledger_caseload` (ledger among them),
    heaviest first."""
    active = Q(assignments__ended_on__isnull=True, assignments__is_primary=True)
    return (
        staff_in_scope(actor)
        .annotate(
            caseload=Count("assignments", filter=active),
            ledger_caseload=Count("assignments", filter=active & Q(_open_entry_exists("assignments__student_id"))),
        )
        .order_by("-caseload", "-ledger_caseload", "full_name", "username")
    )


def unassigned_ledger_students(actor: User) -> StudentQuerySet:
    """Students in the ledger, in the actor's assigning scope, with no active helper."""
    has_helper = Exists(HelperAssignment.objects.active().filter(student_id=OuterRef("pk")))
    return (
        Student.objects.visible_to(actor, Perm.ASSIGN_HELPER)
        .filter(_open_entry_exists("pk"))
        .filter(~has_helper)
        .select_related("department", "class_unit")
        .prefetch_related(
            Prefetch(
                "ledger_entries",
                queryset=LedgerEntry.objects.filter(left_on__isnull=True).prefetch_related("categories"),
                to_attr="open_entries",
            )
        )
        .order_by("department__path", "class_unit__path", "student_number")
    )


def my_assignments(user: User) -> QuerySet[HelperAssignment]:
    """The user's students as their current helper, with class and ledger categories, in three queries."""
    return (
        HelperAssignment.objects.active()
        .filter(helper=user)
        .select_related("student", "student__class_unit")
        .prefetch_related(
            Prefetch(
                "student__ledger_entries",
                queryset=LedgerEntry.objects.filter(left_on__isnull=True).prefetch_related("categories"),
                to_attr="open_entries",
            )
        )
        .order_by("student__class_unit__path", "student__student_number")
    )


def get_student_to_assign(user: User, public_id: UUID) -> Student:
    """The student, if `user` sees them (else 404) and may assign their helper (else 403)."""
    student = (
        Student.objects.visible_to(user).select_related("school", "class_unit").filter(public_id=public_id).first()
    )
    if student is None:
        raise Http404
    require_student_perm(user, Perm.ASSIGN_HELPER, student)
    return student


def students_to_assign(user: User, public_ids: list[UUID]) -> list[Student]:
    """Several students for a bulk assignment: 404 if any is invisible, 403 if any may not be assigned by `user`."""
    wanted = set(public_ids)
    found = list(Student.objects.visible_to(user).select_related("school").filter(public_id__in=wanted))
    if len(found) != len(wanted):
        raise Http404
    allowed = Student.objects.visible_to(user, Perm.ASSIGN_HELPER).filter(public_id__in=wanted).count()
    if allowed != len(wanted):
        raise PermissionDenied
    return sorted(found, key=lambda s: s.student_number)


def current_assignment(student: Student) -> HelperAssignment | None:
    return HelperAssignment.objects.active().filter(student=student).select_related("helper").first()
