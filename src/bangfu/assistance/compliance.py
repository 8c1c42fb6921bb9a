"""Read side of the leaders' compliance pages: each helper's caseload against the standards, by department.

Every figure is a database aggregate over the ledger students' progress rows (Count with a filter), never a loop
over students, so a page costs the same number of queries for ten students or thirty thousand.

Every figure counts the rows of `apply_student_filters(Student.objects.visible_to(user), **filters)` for the very
filters that its link passes to the student list (`standing` reads them on the progress rows), so the list behind
a number always shows that number of students.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404
from django.urls import get_script_prefix, reverse
from django.utils.http import urlencode
from django.utils.translation import get_language

from bangfu.assistance.models import HelperAssignment, RiskLevel, StudentProgress
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import grants_of, student_q
from bangfu.outcomes.models import PLACED_GROUPS
from bangfu.students.models import Student
from bangfu.students.queries import LEADER_ROLES, apply_student_filters


# The conditions behind each figure, on a Student row (or, with `progress=""`, on the progress row itself). The
# student list applies the same ones through the filter keyword named beside each (see `apply_student_filters`).
def meets_all(progress: str = "progress__") -> Q:  # compliant=yes
    return Q(**{f"{progress}standards_met": F(f"{progress}standards_total")})


def behind(progress: str = "progress__") -> Q:  # compliant=no
    return Q(**{f"{progress}standards_met__lt": F(f"{progress}standards_total")})


def overdue(progress: str = "progress__") -> Q:  # overdue=yes
    return Q(**{f"{progress}overdue_count__gt": 0})


def at_risk(progress: str = "progress__") -> Q:  # risk=2
    return Q(**{f"{progress}risk__gte": RiskLevel.AT_RISK})


def helper_shown() -> Coalesce:
    """The helper's name as the boards show it (the username when no full name is recorded), on a progress row."""
    return Coalesce(NullIf(F("helper__full_name"), Value("")), F("helper__username"))


# Each figure: its name, the extra student-list filters of its link, and how it is counted on progress rows.
FIGURES: tuple[tuple[str, dict[str, str], Any], ...] = (
    ("ledger", {}, Count("pk")),
    ("meeting", {"compliant": "yes"}, Count("pk", filter=meets_all(""))),
    ("overdue", {"overdue": "yes"}, Count("pk", filter=overdue(""))),
    ("at_risk", {"risk": str(RiskLevel.AT_RISK)}, Count("pk", filter=at_risk(""))),
)
FIGURE_FILTERS = {name: extra for name, extra, _count in FIGURES}


def students_url(**filters: Any) -> str:
    """The student list narrowed by `filters` (query parameters of the list, as the list's form names them)."""
    query = {k: str(v) for k, v in filters.items() if v not in (None, "")}
    return student_list_path() + ("?" + urlencode(query) if query else "")


def student_list_path() -> str:
    """`reverse("students:list")`, worked out once per script prefix: a board links a few hundred figures to it."""
    return _student_list_path(get_script_prefix())


@functools.lru_cache(maxsize=8)
def _student_list_path(_prefix: str) -> str:
    return reverse("students:list")


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


def standing(user: User, **filters: Any) -> QuerySet[StudentProgress]:
    """The progress rows of `ledger_students(user, **filters)`: one per ledger student, holding the student's unit,
    graduation year, active helper and destination group beside the standards (kept by the same refresh), so that
    the figures of a school or a province count one table instead of joining five (docs/benchmarks.md).

    The filters are the student list's, as their links pass them; those a board uses are understood, any other
    is an error (it would count something other than the list shows)."""
    return StudentProgress.objects.filter(student_q(user, student="student__"), standing_q(**filters))


def standing_q(**filters: Any) -> Q:
    """The condition of the student list's `filters` on a progress row (see `standing`)."""
    unknown = set(filters) - set(_STANDING_FILTERS)
    if unknown:
        raise TypeError(f"not kept on the progress row: {sorted(unknown)}")
    q = Q()
    for name, value in filters.items():
        if value is not None:
            q &= _STANDING_FILTERS[name](value)
    return q


def _placed(placed: bool) -> Q:
    q = Q(destination_group__in=PLACED_GROUPS)
    return q if placed else ~q


def _destination_group(group: str) -> Q:
    return Q(destination_group="" if group == "none" else group)


def _in_ledger(in_ledger: bool) -> Q:
    if not in_ledger:
        raise TypeError("a progress row is a ledger student's")
    return Q()


_STANDING_FILTERS: dict[str, Callable[[Any], Q]] = {
    "in_ledger": _in_ledger,
    "school": lambda public_id: Q(school__public_id=public_id),
    "department": lambda public_id: Q(department__public_id=public_id),
    "helper": lambda public_id: Q(helper__public_id=public_id),
    "graduating": lambda year: Q(graduates_in=int(year)),
    "placed": _placed,
    "destination_group": _destination_group,
    "compliant": lambda compliant: meets_all("") if compliant else behind(""),
}


def _counts(with_unassigned: bool = False) -> dict[str, Any]:
    """The figures' aggregates on progress rows; "unassigned": no active helper."""
    counts = {name: count for name, _extra, count in FIGURES}
    if with_unassigned:
        counts["unassigned"] = Count("pk", filter=Q(helper__isnull=True))
    return counts


def total_row(user: User, label: str, **filters: Any) -> Row:
    """The figures of every ledger student the list shows for `filters`, in one query."""
    figures = standing(user, **filters).aggregate(**_counts(with_unassigned=True))
    return Row(label=label, filters={k: str(v) for k, v in filters.items() if v}, **figures)


def helper_rows(user: User, department: OrgUnit) -> list[Row]:
    """Each helper of the department's ledger students with their figures, weakest compliance first; one query."""
    rows = (
        standing(user, department=department.public_id)
        .filter(helper__isnull=False)
        .values("helper__public_id")
        .annotate(name=helper_shown(), **_counts())
        .order_by("helper__full_name", "helper__username", "helper__public_id")
    )
    result = [
        Row(
            label=r["name"],
            ledger=r["ledger"],
            meeting=r["meeting"],
            overdue=r["overdue"],
            at_risk=r["at_risk"],
            filters={"department": str(department.public_id), "helper": str(r["helper__public_id"])},
        )
        for r in rows
    ]
    # Weakest first: the leader's attention goes to the helpers furthest behind.
    return sorted(result, key=lambda row: (row.compliance if row.compliance is not None else 101, -row.ledger))


def department_rows(user: User, departments: QuerySet[OrgUnit]) -> list[Row]:
    """Each department with its figures and how many helpers serve it, in two queries."""
    grouped = (
        standing(user)
        .filter(department__in=departments)
        .values("department_id")
        .annotate(**_counts(with_unassigned=True), helpers=Count("helper_id", distinct=True))
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
