"""Read side of the leaders' compliance pages: each helper's caseload against the standards, by department.

Every figure is a database aggregate over StudentProgress and HelperAssignment (Count with a filter), never a
loop over students, so a page costs the same number of queries for ten students or thirty thousand.

Every figure counts `apply_student_filters(Student.objects.visible_to(user), **filters)` for the very filters
that its link passes to the student list, so the list behind a number always shows that number of students.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, FilteredRelation, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language

from bangfu.assistance.models import HelperAssignment, RiskLevel
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import grants_of
from bangfu.students.models import Student
from bangfu.students.queries import LEADER_ROLES, apply_student_filters


# The conditions behind each figure, on a Student row (or, with a prefix, on a row pointing at a student). The
# student list applies the same ones through the filter keyword named beside each (see `apply_student_filters`).
def meets_all(prefix: str = "") -> Q:  # compliant=yes
    return Q(**{f"{prefix}progress__standards_met": F(f"{prefix}progress__standards_total")})


def overdue(prefix: str = "") -> Q:  # overdue=yes
    return Q(**{f"{prefix}progress__overdue_count__gt": 0})


def at_risk(prefix: str = "") -> Q:  # risk=2
    return Q(**{f"{prefix}progress__risk__gte": RiskLevel.AT_RISK})


HELPER = "active_assignment__helper"  # the helper of a row of `with_active_helper`


def with_active_helper(students: QuerySet[Student]) -> QuerySet[Student]:
    """`students` who have an active (primary) helper, that assignment joined as `active_assignment`: the rows to
    count per helper (`values(HELPER + "__public_id")`); the figures' conditions apply to them as they are.

    Counting from the students lets the database walk from the few in scope to their assignments. Counting the
    same from `HelperAssignment.objects.filter(student__in=students)` made PostgreSQL expect most assignments of
    the database to match and read all of them and every progress row (docs/benchmarks.md)."""
    return students.annotate(active_assignment=active_assignment()).filter(active_assignment__isnull=False)


def active_assignment() -> FilteredRelation:
    """A student's active (primary) helper assignment, to join as `active_assignment`: a student has at most one,
    so the join adds no rows."""
    return FilteredRelation(
        "helper_assignments",
        condition=Q(helper_assignments__ended_on__isnull=True, helper_assignments__is_primary=True),
    )


def helper_shown() -> Coalesce:
    """The helper's name as the boards show it (the username when no full name is recorded)."""
    return Coalesce(NullIf(F(f"{HELPER}__full_name"), Value("")), F(f"{HELPER}__username"))


# Each figure: its name, the extra student-list filters of its link, and how it is counted.
FIGURES: tuple[tuple[str, dict[str, str], Any], ...] = (
    ("ledger", {}, Count("pk")),
    ("meeting", {"compliant": "yes"}, Count("pk", filter=meets_all())),
    ("overdue", {"overdue": "yes"}, Count("pk", filter=overdue())),
    ("at_risk", {"risk": str(RiskLevel.AT_RISK)}, Count("pk", filter=at_risk())),
)
FIGURE_FILTERS = {name: extra for name, extra, _count in FIGURES}


def students_url(**filters: Any) -> str:
    """The student list narrowed by `filters` (query parameters of the list, as the list's form names them)."""
    query = {k: str(v) for k, v in filters.items() if v not in (None, "")}
    return reverse("students:list") + ("?" + urlencode(query) if query else "")


@dataclass
class Row:
    """One line of a compliance table: a helper, a department, or a total."""

    label: str
    ledger: int = 0
    meeting: int = 0
    overdue: int = 0
    at_risk: int = 0
    unassigned: int | None = None
    helpers: int | None = None
    filters: dict[str, str] = field(default_factory=dict)  # the student-list filters of the row's students
    drill_url: str = ""  # the department's own page, on the school view

    @property
    def compliance(self) -> int | None:
        """Share of the row's ledger students who meet every standard of their current stage, in %."""
        return round(100 * self.meeting / self.ledger) if self.ledger else None

    def url(self, figure: str) -> str:
        extra = {"unassigned": "on"} if figure == "unassigned" else FIGURE_FILTERS[figure]
        base = {k: v for k, v in self.filters.items() if not (figure == "unassigned" and k == "helper")}
        return students_url(**base, in_ledger="yes", **extra)

    @property
    def links(self) -> dict[str, str]:
        names = [name for name, _extra, _count in FIGURES]
        if self.unassigned is not None:
            names.append("unassigned")
        return {name: self.url(name) for name in names}


# ---------------------------------------------------------------------------------------------------------
# Scope


def leader_units(user: User) -> list[OrgUnit]:
    """The units whose compliance `user` follows: a department leader's department, the school of the
    employment office and of a school leader. A superuser follows every school."""
    if user.is_superuser:
        return list(OrgUnit.objects.filter(kind=UnitKind.SCHOOL))
    return [g.unit for g in grants_of(user) if g.role in LEADER_ROLES]


def can_view_compliance(user: User) -> bool:
    """Whether the menu shows the compliance page (the page checks `leader_units` itself)."""
    return user.is_superuser or any(g.role in LEADER_ROLES for g in grants_of(user))


def departments_in_scope(units: list[OrgUnit]) -> QuerySet[OrgUnit]:
    q = Q(pk__in=[])
    for unit in units:
        q |= Q(path__startswith=unit.path)
    return OrgUnit.objects.filter(q, kind=UnitKind.DEPARTMENT).select_related("parent").order_by("path")


def get_department(units: list[OrgUnit], public_id: uuid.UUID | str) -> OrgUnit:
    """A department the user leads (directly or through their school); 404 for any other id."""
    try:
        wanted = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    department = departments_in_scope(units).filter(public_id=wanted).first()
    if department is None:
        raise Http404
    return department


def single_department(units: list[OrgUnit]) -> OrgUnit | None:
    """The department to open directly: the only unit of a leader of one department (or a unit below it)."""
    if len(units) == 1 and units[0].kind == UnitKind.DEPARTMENT:
        return units[0]
    return None


# ---------------------------------------------------------------------------------------------------------
# Figures


def ledger_students(user: User, **filters: Any) -> QuerySet[Student]:
    """The ledger students the student list shows `user` for these filters."""
    return apply_student_filters(Student.objects.visible_to(user), in_ledger=True, **filters)


def _counts(with_unassigned: bool = False) -> dict[str, Any]:
    """The figures' aggregates; "unassigned" (no active helper) counts on rows that join `active_assignment`."""
    counts = {name: count for name, _extra, count in FIGURES}
    if with_unassigned:
        counts["unassigned"] = Count("pk", filter=Q(active_assignment__isnull=True))
    return counts


def total_row(user: User, label: str, **filters: Any) -> Row:
    """The figures of every ledger student the list shows for `filters`, in one query."""
    students = ledger_students(user, **filters).annotate(active_assignment=active_assignment())
    figures = students.aggregate(**_counts(with_unassigned=True))
    return Row(label=label, filters={k: str(v) for k, v in filters.items() if v}, **figures)


def helper_rows(user: User, department: OrgUnit) -> list[Row]:
    """Each helper of the department's ledger students with their figures, weakest compliance first; one query."""
    students = ledger_students(user, department=department.public_id)
    rows = (
        with_active_helper(students)
        .values(f"{HELPER}__public_id")
        .annotate(name=helper_shown(), **_counts())
        .order_by(f"{HELPER}__full_name", f"{HELPER}__username", f"{HELPER}__public_id")
    )
    result = [
        Row(
            label=r["name"],
            ledger=r["ledger"],
            meeting=r["meeting"],
            overdue=r["overdue"],
            at_risk=r["at_risk"],
            filters={"department": str(department.public_id), "helper": str(r[f"{HELPER}__public_id"])},
        )
        for r in rows
    ]
    # Weakest first: the leader's attention goes to the helpers furthest behind.
    return sorted(result, key=lambda row: (row.compliance if row.compliance is not None else 101, -row.ledger))


def department_rows(user: User, departments: QuerySet[OrgUnit]) -> list[Row]:
    """Each department with its figures and how many helpers serve it, in two queries."""
    grouped = (
        ledger_students(user)
        .filter(department__in=departments)
        .annotate(active_assignment=active_assignment())
        .values("department_id")
        .annotate(**_counts(with_unassigned=True), helpers=Count(f"{HELPER}_id", distinct=True))
        .order_by()
    )
    by_department = {r["department_id"]: {k: v for k, v in r.items() if k != "department_id"} for r in grouped}
    empty = {name: 0 for name in (*FIGURE_FILTERS, "unassigned", "helpers")}
    return [
        Row(
            label=d.display_name(get_language() or ""),
            filters={"department": str(d.public_id)},
            drill_url=reverse("assistance:compliance") + "?" + urlencode({"department": str(d.public_id)}),
            **by_department.get(d.pk, empty),
        )
        for d in departments
    ]


def _with_helper_name(students: QuerySet[Student]) -> QuerySet[Student]:
    helper = HelperAssignment.objects.active().filter(student=OuterRef("pk"))
    shown = Coalesce(NullIf(F("helper__full_name"), Value("")), F("helper__username"))
    return students.annotate(helper_name=Subquery(helper.annotate(shown=shown).values("shown")[:1]))


def late_students(user: User, department: OrgUnit) -> QuerySet[Student]:
    """The department's ledger students with overdue items, most overdue first (progress joined)."""
    students = ledger_students(user, department=department.public_id).filter(overdue())
    return (
        _with_helper_name(students)
        .select_related("progress", "class_unit")
        .order_by("-progress__overdue_count", "progress__next_due_on", "student_number")
    )


def at_risk_students(user: User, department: OrgUnit) -> QuerySet[Student]:
    """The department's ledger students at risk, with the reasons on their progress row."""
    students = ledger_students(user, department=department.public_id).filter(at_risk())
    return (
        _with_helper_name(students)
        .select_related("progress", "class_unit")
        .order_by("-progress__risk", "-progress__overdue_count", "student_number")
    )
