"""Who may see and do what: the one module where role grants are read.

A grant on a unit covers the unit's subtree. Unit-wide roles see every student below their unit; a helper
(any staff member) sees the students currently assigned to them; a student user sees only their own record.
Everything else is invisible, and views answer 404 for it (see `students.queries.get_student_for_user`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from bangfu.organisation.models import OrgUnit, Role, RoleGrant, UnitKind, User

if TYPE_CHECKING:
    from bangfu.students.models import Student


class Perm(StrEnum):
    VIEW_STUDENT = "view_student"
    VIEW_SENSITIVE = "view_sensitive"  # family situation, disability
    REVEAL_ID = "reveal_id"
    EDIT_STUDENT = "edit_student"
    CREATE_STUDENT = "create_student"
    MANAGE_LEDGER = "manage_ledger"
    ASSIGN_HELPER = "assign_helper"
    MANAGE_SURVEY = "manage_survey"
    BROWSE_AUDIT = "browse_audit"
    MANAGE_STAFF = "manage_staff"
    LOG_ACTIVITY = "log_activity"
    MANAGE_PLAN = "manage_plan"
    MANAGE_POLICY = "manage_policy"
    MANAGE_EMPLOYERS = "manage_employers"  # employers, positions, recruitment events
    RECORD_OUTCOME = "record_outcome"  # destinations, internships, order classes, work-study
    VERIFY_DESTINATION = "verify_destination"
    APPLY_SUBSIDY = "apply_subsidy"
    RESPOND_RECOMMENDATION = "respond_recommendation"  # the student answers their own recommendations
    APPROVE_DEPARTMENT = "approve_department"  # first approval of a subsidy application
    APPROVE_SCHOOL = "approve_school"  # school approval, public notice, budgets, payment


HELPER = "helper"  # pseudo-role: the student's current helper
SELF = "self"  # pseudo-role: the student themself

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.SCHOOL_LEADER: frozenset({Perm.VIEW_STUDENT, Perm.VIEW_SENSITIVE}),
    Role.EMPLOYMENT_OFFICE: frozenset(Perm),
    Role.DEPARTMENT_LEADER: frozenset(
        {
            Perm.VIEW_STUDENT,
            Perm.VIEW_SENSITIVE,
            Perm.REVEAL_ID,
            Perm.EDIT_STUDENT,
            Perm.CREATE_STUDENT,
            Perm.MANAGE_LEDGER,
            Perm.ASSIGN_HELPER,
            Perm.MANAGE_SURVEY,
            Perm.LOG_ACTIVITY,
            Perm.MANAGE_PLAN,
            Perm.MANAGE_EMPLOYERS,
            Perm.RECORD_OUTCOME,
            Perm.VERIFY_DESTINATION,
            Perm.APPLY_SUBSIDY,
            Perm.APPROVE_DEPARTMENT,
        }
    ),
    Role.COUNSELLOR: frozenset(
        {
            Perm.VIEW_STUDENT,
            Perm.VIEW_SENSITIVE,
            Perm.EDIT_STUDENT,
            Perm.MANAGE_LEDGER,
            Perm.MANAGE_SURVEY,
            Perm.MANAGE_PLAN,
            Perm.MANAGE_EMPLOYERS,
            Perm.RECORD_OUTCOME,
            Perm.APPLY_SUBSIDY,
        }
    ),
    Role.TEACHER: frozenset(),
    Role.STUDENT: frozenset(),
    # A helper logs help and keeps the plan of their own students; a counsellor who is not the student's
    # helper may not log for them (the work ledger names who did the work).
    HELPER: frozenset(
        {
            Perm.VIEW_STUDENT,
            Perm.VIEW_SENSITIVE,
            Perm.LOG_ACTIVITY,
            Perm.MANAGE_PLAN,
            Perm.RECORD_OUTCOME,
            Perm.APPLY_SUBSIDY,
        }
    ),
    # A student reads their own record, answers their recommendations and applies for subsidies themself.
    SELF: frozenset({Perm.VIEW_STUDENT, Perm.RESPOND_RECOMMENDATION, Perm.APPLY_SUBSIDY}),
}

STAFF_ROLES = frozenset(
    {Role.SCHOOL_LEADER, Role.EMPLOYMENT_OFFICE, Role.DEPARTMENT_LEADER, Role.COUNSELLOR, Role.TEACHER}
)


def grants_of(user: User) -> list[RoleGrant]:
    """The user's grants with their units, read once per user object (i.e. once per request)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_bangfu_grants", None)
    if cached is None:
        cached = list(RoleGrant.objects.filter(user=user).select_related("unit"))
        user._bangfu_grants = cached  # type: ignore[attr-defined]
    return cached


def is_staff_member(user: User) -> bool:
    return user.is_superuser or any(g.role in STAFF_ROLES for g in grants_of(user))


def is_student_user(user: User) -> bool:
    return not is_staff_member(user) and any(g.role == Role.STUDENT for g in grants_of(user))


def units_with(user: User, perm: Perm) -> list[OrgUnit]:
    """The units on which the user holds `perm` through a grant (each covers its subtree)."""
    return [g.unit for g in grants_of(user) if perm in ROLE_PERMS[g.role]]


def has_unit_perm(user: User, perm: Perm, unit: OrgUnit) -> bool:
    if user.is_superuser:
        return True
    return any(u.covers(unit) for u in units_with(user, perm))


def schools_under(unit: OrgUnit) -> list[int]:
    """The ids of the schools under a provincial unit, read once per unit object (i.e. once per request)."""
    cached = getattr(unit, "_bangfu_schools", None)
    if cached is None:
        cached = list(
            OrgUnit.objects.filter(kind=UnitKind.SCHOOL, path__startswith=unit.path).values_list("pk", flat=True)
        )
        unit._bangfu_schools = cached  # type: ignore[attr-defined]
    return cached


def unit_q(units: list[OrgUnit], prefix: str = "") -> Q:
    """A filter for rows whose class/department/school lies under one of `units`."""
    q = Q(pk__in=[])
    for unit in units:
        if unit.kind == UnitKind.PROVINCE:  # its schools, as a list: no join, and the planner knows how many rows
            q |= Q(**{f"{prefix}school_id__in": schools_under(unit)})
        elif unit.kind == UnitKind.SCHOOL:
            q |= Q(**{f"{prefix}school_id": unit.pk})
        elif unit.kind == UnitKind.DEPARTMENT:
            q |= Q(**{f"{prefix}department_id": unit.pk})
        else:
            q |= Q(**{f"{prefix}class_unit__path__startswith": unit.path})
    return q


class _Assignments:
    """Counts the helper assignments saved in this process, so a list of helped students read earlier in the same
    request (or test) is read again after one changes."""

    changes = 0


def assignments_changed() -> None:
    _Assignments.changes += 1


def helped_ids(user: User) -> list[int]:
    """The ids of the students `user` helps now, read once per user object (i.e. once per request)."""
    from bangfu.assistance.models import HelperAssignment

    cached = getattr(user, "_bangfu_helped", None)
    if cached is None or cached[0] != _Assignments.changes:
        ids = list(HelperAssignment.objects.active().filter(helper=user).values_list("student_id", flat=True))
        cached = (_Assignments.changes, ids)
        user._bangfu_helped = cached  # type: ignore[attr-defined]
    return cached[1]


def own_student_ids(user: User) -> list[int]:
    """The id of the user's own student record, read once per user object; none without the student role (the
    portal grants it with the account, and taking it away takes the record's self-service with it), so staff
    pay no query."""
    from bangfu.students.models import Student

    cached = getattr(user, "_bangfu_own", None)
    if cached is None:
        if any(g.role == Role.STUDENT for g in grants_of(user)):
            cached = list(Student.objects.filter(user=user).values_list("pk", flat=True))
        else:
            cached = []
        user._bangfu_own = cached  # type: ignore[attr-defined]
    return cached


def student_q(user: User, perm: Perm = Perm.VIEW_STUDENT, *, student: str = "") -> Q:
    """The filter for students on which `user` holds `perm`: used by every list, page, export and API.

    `student="student__"` filters the rows of a model that copies the student's unit columns (the progress row)
    by the same rule: units on the row itself, the helper's and the student's own through the relation.

    The helper's students are a list of ids, not a subquery: PostgreSQL can then combine the index on the unit
    columns with the primary key for the OR, where `id IN (SELECT …)` makes it test every student of the
    database (docs/benchmarks.md)."""
    if user.is_superuser:
        return Q()
    q = unit_q(units_with(user, perm))
    if perm in ROLE_PERMS[HELPER]:
        helped = helped_ids(user)
        if helped:
            q |= Q(**{f"{student}pk__in": helped})
    if perm in ROLE_PERMS[SELF]:
        # The user's own record as a list of (at most one) id: no join, and no OR for staff, which would keep
        # PostgreSQL from reading a school's students (or their cohorts and years) from the unit indexes alone.
        own = own_student_ids(user)
        if own:
            q |= Q(**{f"{student}pk__in": own})
    return q


def scope_unit(user: User, perm: Perm = Perm.VIEW_STUDENT) -> OrgUnit | None:
    """The one unit whose subtree holds every student on which `user` holds `perm` (a school's employment office,
    a department's leader), or None: a superuser, grants on several units, or students reached as their helper or
    as themselves. A list in class order walks that unit's classes only (`students.queries.in_class_order`)."""
    if user.is_superuser:
        return None
    units = units_with(user, perm)
    if len(units) != 1:
        return None
    if perm in ROLE_PERMS[HELPER] and helped_ids(user):
        return None
    if perm in ROLE_PERMS[SELF] and own_student_ids(user):
        return None
    return units[0]


def student_roles(user: User, student: Student) -> set[str]:
    """Every role (and pseudo-role) through which `user` reaches `student`."""
    from bangfu.assistance.models import HelperAssignment

    roles = {g.role for g in grants_of(user) if g.unit.covers(student.class_unit)}
    roles.discard(Role.STUDENT)
    if student.user_id is not None and student.user_id == user.pk:
        roles.add(SELF)
    if HelperAssignment.objects.active().filter(student=student, helper=user).exists():
        roles.add(HELPER)
    return roles


def has_student_perm(user: User, perm: Perm, student: Student) -> bool:
    if user.is_superuser:
        return True
    return any(perm in ROLE_PERMS[r] for r in student_roles(user, student))


def require_student_perm(user: User, perm: Perm, student: Student) -> None:
    if not has_student_perm(user, perm, student):
        raise PermissionDenied


def has_perm_in(user: User, perm: Perm, unit: OrgUnit) -> bool:
    """Whether `user` holds `perm` on `unit` or anywhere inside it (a department leader within their school)."""
    if user.is_superuser:
        return True
    return any(u.covers(unit) or unit.covers(u) for u in units_with(user, perm))


def require_perm_in(user: User, perm: Perm, unit: OrgUnit) -> None:
    if not has_perm_in(user, perm, unit):
        raise PermissionDenied


def require_unit_perm(user: User, perm: Perm, unit: OrgUnit) -> None:
    if not has_unit_perm(user, perm, unit):
        raise PermissionDenied


def staff_schools(user: User) -> list[OrgUnit]:
    """The schools where `user` works as staff (through a staff grant or their home unit): the schools whose
    employers, positions and events they see. Read once per user object."""
    cached = getattr(user, "_bangfu_staff_schools", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        schools = list(OrgUnit.objects.filter(kind=UnitKind.SCHOOL))
    elif not is_staff_member(user):
        schools = []
    else:
        units = [g.unit for g in grants_of(user) if g.role in STAFF_ROLES]
        if user.unit is not None:
            units.append(user.unit)
        q = Q(pk__in=[])
        for unit in units:
            parts = unit.path.strip("/").split("/")
            prefixes = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
            q |= Q(path__in=prefixes) | Q(path__startswith=unit.path)
        schools = list(OrgUnit.objects.filter(q, kind=UnitKind.SCHOOL))
    user._bangfu_staff_schools = schools  # type: ignore[attr-defined]
    return schools


def can_browse_audit(user: User) -> bool:
    return user.is_superuser or bool(units_with(user, Perm.BROWSE_AUDIT))
