"""Read side of students and the ledger: scoped querysets, the list filters, and ledger figures.

Every function here starts from `Student.objects.visible_to(user)` (or takes a queryset built from it), so a
student outside the user's scope is never counted, listed or fetched. The web pages and the API share these.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404

from bangfu.assistance.models import HelperAssignment
from bangfu.opportunities.models import Recommendation, RecommendationStatus
from bangfu.organisation.models import OrgUnit, Role, UnitKind, User
from bangfu.organisation.permissions import (
    ROLE_PERMS,
    Perm,
    student_roles,
    units_with,
)
from bangfu.outcomes.models import PLACED_GROUPS, Destination, DestinationGroup
from bangfu.outcomes.queries import in_force, in_ledger_on
from bangfu.students.models import LedgerCategory, LedgerEntry, Student, StudentQuerySet, StudentStatus

PAGE_SIZE = 50

# Sort keys offered by the list; a leading "-" reverses. The student number breaks ties so pages are stable.
SORTS: dict[str, tuple[str, ...]] = {
    "number": ("student_number",),
    "name": ("name", "student_number"),
    "class": ("class_path", "student_number"),  # see `in_class_order`
    "cohort": ("cohort", "student_number"),
}


def class_path(student: str = "") -> Subquery:
    """The path of the student's class (`student`: the prefix of a relation to the student), to sort by class.

    Read for each row rather than joined: joined, PostgreSQL answers "the first 50 of a department by class" by
    walking every class of the province in path order and looking for its students (243 ms on the province's
    21,000 classes); read per row, it takes the department's students and sorts them (docs/benchmarks.md)."""
    return Subquery(OrgUnit.objects.filter(pk=OuterRef(f"{student}class_unit_id")).order_by().values("path")[:1])


def in_class_order(
    queryset: QuerySet[Any], student: str = "", then: tuple[str, ...] = (), within: OrgUnit | None = None
) -> QuerySet[Any]:
    """`queryset` (of students, or of rows pointing to one through `student`) by class, then student number, then
    `then`. A class's path starts with its department's, so this is also by department first.

    `within`: a unit under which every row's class lies (the user's `permissions.scope_unit`). The rows are then
    held to its classes as well and sorted by the joined class, so PostgreSQL walks that unit's classes in path
    order and stops at the page's last student: for a list of most of a unit's students (the enrolment survey:
    a school's first 50 of 50,000, 145–170 → 5–7 ms), at the price of the join in the list's count (3 → 30 ms).
    Without it the class path is read per row (`class_path`), which is cheaper where a filter keeps a few of the
    unit's students (the ledger, unplaced graduates, students without a helper), docs/benchmarks.md."""
    if within is not None:
        held = queryset.filter(**{f"{student}class_unit__path__startswith": within.path})
        return held.order_by(f"{student}class_unit__path", f"{student}student_number", *then)
    return queryset.alias(class_path=class_path(student)).order_by("class_path", f"{student}student_number", *then)


def _open_entry() -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(student=OuterRef("pk"), left_on__isnull=True)


def _active_assignment() -> QuerySet[HelperAssignment]:
    return HelperAssignment.objects.active().filter(student=OuterRef("pk"))


def student_list_queryset(user: User) -> StudentQuerySet:
    """The students `user` may see, ready for a list page.

    Each row carries `helper_name` and `helper_public_id` (the active primary helper, or None),
    `in_ledger` (bool), `class_unit` (joined) and `open_entries` (a list holding the open ledger entry with
    its `categories` prefetched). The number of queries does not depend on how many rows are read.
    """
    helper = _active_assignment().annotate(
        shown=Coalesce(NullIf(F("helper__full_name"), Value("")), F("helper__username"))
    )
    return (
        Student.objects.visible_to(user)
        .select_related("class_unit")
        .annotate(
            helper_name=Subquery(helper.values("shown")[:1]),
            helper_public_id=Subquery(helper.values("helper__public_id")[:1]),
            in_ledger=Exists(_open_entry()),
        )
        .prefetch_related(
            Prefetch(
                "ledger_entries",
                queryset=LedgerEntry.objects.filter(left_on__isnull=True).prefetch_related(
                    Prefetch("categories", queryset=LedgerCategory.objects.order_by("category"))
                ),
                to_attr="open_entries",
            )
        )
    )


def _as_uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def apply_student_filters(
    queryset: QuerySet[Student],
    *,
    q: str | None = None,
    school: uuid.UUID | str | None = None,
    department: uuid.UUID | str | None = None,
    major: uuid.UUID | str | None = None,
    class_unit: uuid.UUID | str | None = None,
    cohort: int | str | None = None,
    category: str | None = None,
    helper: uuid.UUID | str | None = None,
    in_ledger: bool | None = None,
    unassigned: bool = False,
    risk: int | str | None = None,
    overdue: bool | None = None,
    stage: str | None = None,
    compliant: bool | None = None,
    direction: str | None = None,
    graduating: int | str | None = None,
    as_of: dt.date | str | None = None,
    placed: bool | None = None,
    destination_group: str | None = None,
    verified: bool | None = None,
    placed_from: dt.date | str | None = None,
    placed_until: dt.date | str | None = None,
    recommended_by: uuid.UUID | str | None = None,
    recommendation: str | None = None,
) -> QuerySet[Student]:
    """Narrow a (scoped) student queryset by the list filters; `None` or "" leaves a filter out.

    - `q`: part of the name, or the start of the student number (whitespace trimmed).
    - `school`, `department`, `major`, `class_unit`: the unit's `public_id` (UUID or its string); `school` is
      what the province board's figures link with.
    - `cohort`: enrolment year. `category`: a `Category` code, matched against the open ledger entry.
    - `helper`: the `public_id` of the user who is the active primary helper.
    - `in_ledger`: True = has an open ledger entry, False = has none, None = either.
    - `unassigned`: True = in the ledger without an active primary helper.
    - `risk`: the lowest risk level (1 watch, 2 at risk); `overdue`: True = has overdue items, False = none;
      `stage`: a `Stage` code; `compliant`: True = meets every standard of the current stage, False = misses one.
      These four read the progress row, which only ledger students have.
    - `direction`: a `Direction` code of the student's plan (一生一策); students without a plan never match.

    Destinations and placement (the filters behind the dashboards' figures, see `bangfu.reports.dashboards`):
    - `graduating`: the cohort (届) graduating that year, as `outcomes.queries.graduates_of` counts it.
    - `as_of`: read the ledger (`in_ledger`, `category`) and destinations as they stood on that date
      (`outcomes.queries.in_ledger_on` / `in_force`); without it, the open ledger entry and the current destination.
    - `placed`: True = the destination in force is employed or further study; False = it is not, or there is none.
    - `destination_group`: a `DestinationGroup` code of the destination in force, or "none" for no destination.
    - `verified`: True = placed and verified by evidence (by `as_of`); False = placed and not (yet) verified.
    - `placed_from`, `placed_until`: placed, and struck off the unplaced list (`placed_since`) in that range.
    - `recommended_by`: the `public_id` of a user who recommended a position to the student; `recommendation`
      narrows to recommendations that reached a stage of `RECOMMENDATION_STAGES` ("acted", "accepted", …).

    A value that cannot be a UUID or a year matches no student (never an error, never "all"), so a guessed
    or stale filter can only make the list shorter. Filtering never widens the scope of `queryset`.
    """
    text = (q or "").strip()
    if text:
        queryset = queryset.filter(Q(name__icontains=text) | Q(student_number__startswith=text))
    units = (("school", school), ("department", department), ("major", major), ("class_unit", class_unit))
    for field, raw in units:
        if raw in (None, ""):
            continue
        unit_id = _as_uuid(raw)
        if unit_id is None:
            return queryset.none()
        queryset = queryset.filter(**{f"{field}__public_id": unit_id})
    if cohort not in (None, ""):
        try:
            queryset = queryset.filter(cohort=int(cohort))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return queryset.none()
    day: dt.date | None = None
    if as_of not in (None, ""):
        day = _as_date(as_of)
        if day is None:
            return queryset.none()
    if category:
        queryset = queryset.filter(Exists(_ledger_entry(day).filter(categories__category=category)))
    if helper not in (None, ""):
        helper_id = _as_uuid(helper)
        if helper_id is None:
            return queryset.none()
        queryset = queryset.filter(Exists(_active_assignment().filter(helper__public_id=helper_id)))
    if in_ledger is True:
        queryset = queryset.filter(Exists(_ledger_entry(day)))
    elif in_ledger is False:
        queryset = queryset.filter(~Exists(_ledger_entry(day)))
    if unassigned:
        queryset = queryset.filter(Exists(_open_entry()), ~Exists(_active_assignment()))
    if risk not in (None, ""):
        try:
            queryset = queryset.filter(progress__risk__gte=int(risk))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return queryset.none()
    if overdue is not None:
        queryset = queryset.filter(**{"progress__overdue_count__gt" if overdue else "progress__overdue_count": 0})
    if stage:
        queryset = queryset.filter(progress__stage=stage)
    if compliant is not None:
        lookup = "progress__standards_met" if compliant else "progress__standards_met__lt"
        queryset = queryset.filter(**{lookup: F("progress__standards_total")})
    if direction:
        queryset = queryset.filter(plan__direction=direction)
    return _apply_outcome_filters(
        queryset,
        graduating=graduating,
        day=day,
        placed=placed,
        destination_group=destination_group,
        verified=verified,
        placed_from=placed_from,
        placed_until=placed_until,
        recommended_by=recommended_by,
        recommendation=recommendation,
    )


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _ledger_entry(day: dt.date | None) -> QuerySet[LedgerEntry]:
    """The student's ledger spell: the open one, or the one that covered `day`."""
    if day is None:
        return _open_entry()
    return LedgerEntry.objects.filter(in_ledger_on(day), student=OuterRef("pk"))


def destination_in_force(day: dt.date | None = None, student_ref: str = "pk") -> QuerySet[Destination]:
    """The student's destination in force on `day`, or the current one (at most one either way)."""
    found = Destination.objects.filter(student=OuterRef(student_ref))
    return found.filter(in_force(day)) if day is not None else found.filter(superseded_on__isnull=True)


def placed_q(day: dt.date | None = None, student_ref: str = "pk") -> Q:
    """The condition of `placed=yes` on a Student row (or, with `student_ref`, on a row pointing at a student)."""
    return Q(Exists(destination_in_force(day, student_ref).filter(code__group__in=PLACED_GROUPS)))


# The stages of a recommendation, as `opportunities.queries.conversion` counts them.
RECOMMENDATION_STAGES: dict[str, Q] = {
    "recommended": Q(),
    "acted": Q(acted_on__isnull=False),
    "offered": Q(offered_on__isnull=False),
    "accepted": Q(status=RecommendationStatus.ACCEPTED),
    "declined": Q(status=RecommendationStatus.DECLINED),
    "effective": Q(activity__effective=True),
}
DESTINATION_GROUPS = (*DestinationGroup.values, "none")


def _apply_outcome_filters(
    queryset: QuerySet[Student],
    *,
    graduating: int | str | None,
    day: dt.date | None,
    placed: bool | None,
    destination_group: str | None,
    verified: bool | None,
    placed_from: dt.date | str | None,
    placed_until: dt.date | str | None,
    recommended_by: uuid.UUID | str | None,
    recommendation: str | None,
) -> QuerySet[Student]:
    if graduating not in (None, ""):
        try:
            year = int(graduating)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return queryset.none()
        queryset = queryset.filter(expected_graduation__year=year).exclude(status=StudentStatus.WITHDRAWN)
    dest = destination_in_force(day)
    placed_dest = dest.filter(code__group__in=PLACED_GROUPS)
    if placed is True:
        queryset = queryset.filter(Exists(placed_dest))
    elif placed is False:
        queryset = queryset.filter(~Exists(placed_dest))
    if destination_group:
        if destination_group not in DESTINATION_GROUPS:
            return queryset.none()
        if destination_group == "none":
            queryset = queryset.filter(~Exists(dest))
        else:
            queryset = queryset.filter(Exists(dest.filter(code__group=destination_group)))
    if verified is not None:
        checked = Q(verified_on__isnull=False) & (Q(verified_on__lte=day) if day is not None else Q())
        queryset = queryset.filter(Exists(placed_dest.filter(checked if verified else ~checked)))
    for lookup, raw in (("placed_since__gte", placed_from), ("placed_since__lte", placed_until)):
        if raw in (None, ""):
            continue
        bound = _as_date(raw)
        if bound is None:
            return queryset.none()
        queryset = queryset.filter(Exists(placed_dest.filter(**{lookup: bound})))
    if recommended_by not in (None, "") or recommendation:
        stage = RECOMMENDATION_STAGES.get(recommendation or "recommended")
        if stage is None:
            return queryset.none()
        recs = Recommendation.objects.filter(stage, student=OuterRef("pk"))
        if recommended_by not in (None, ""):
            by = _as_uuid(recommended_by)
            if by is None:
                return queryset.none()
            recs = recs.filter(recommended_by__public_id=by)
        queryset = queryset.filter(Exists(recs))
    return queryset


def sort_students(queryset: QuerySet[Student], sort: str | None) -> QuerySet[Student]:
    """Order by one of `SORTS` ("name", "-cohort", ...); anything else sorts by student number."""
    key = (sort or "").lstrip("-")
    fields = SORTS.get(key, SORTS["number"])
    if key == "class":
        queryset = queryset.alias(class_path=class_path())
    if (sort or "").startswith("-") and key in SORTS:
        return queryset.order_by(*(f"-{f}" for f in fields))
    return queryset.order_by(*fields)


def get_student_for_user(user: User, public_id: uuid.UUID | str) -> Student:
    """The student with this public id if `user` may see them; otherwise 404, whether it exists or not."""
    student = (
        Student.objects.visible_to(user)
        .select_related("school", "department", "major", "class_unit", "user")
        .filter(public_id=public_id)
        .first()
    )
    if student is None:
        raise Http404
    return student


def own_student_record(user: User) -> Student:
    """The student record linked to a student login; 404 for users without one."""
    if not user.is_authenticated:
        raise Http404
    student = Student.objects.filter(user=user).select_related("department", "major", "class_unit").first()
    if student is None:
        raise Http404
    return student


# Who reads a hand-over note besides the helper it was written for: the people who lead and assign helpers.
LEADER_ROLES = frozenset({Role.SCHOOL_LEADER, Role.DEPARTMENT_LEADER, Role.EMPLOYMENT_OFFICE})


@dataclass(frozen=True)
class StudentAccess:
    """What `user` may do on one student, read once per page (the same rule as `has_student_perm`)."""

    perms: frozenset[Perm]
    is_leader: bool

    def can(self, perm: Perm) -> bool:
        return perm in self.perms


def student_access(user: User, student: Student) -> StudentAccess:
    if user.is_superuser:
        return StudentAccess(frozenset(Perm), True)
    roles = student_roles(user, student)
    return StudentAccess(
        frozenset(p for role in roles for p in ROLE_PERMS[role]),
        bool(LEADER_ROLES & roles),
    )


# ---------------------------------------------------------------------------------------------------------
# Filter choices: only what lies in the user's scope.


def units_in_scope(user: User, kinds: tuple[str, ...] = (UnitKind.DEPARTMENT, UnitKind.MAJOR, UnitKind.CLASS)):
    """Units of these kinds the user's list can show: their grants' subtrees plus the units of helped students."""
    units = OrgUnit.objects.filter(kind__in=kinds)
    if user.is_superuser:
        return units
    q = Q(pk__in=[])
    for unit in units_with(user, Perm.VIEW_STUDENT):
        q |= Q(path__startswith=unit.path)
    helped = HelperAssignment.objects.active().filter(helper=user)
    for field in ("student__department_id", "student__major_id", "student__class_unit_id"):
        q |= Q(pk__in=helped.values(field))
    return units.filter(q)


def class_choices(user: User, perm: Perm) -> QuerySet[OrgUnit]:
    """Classes on which `user` holds `perm` (e.g. CREATE_STUDENT), for a form's class field."""
    classes = OrgUnit.objects.filter(kind=UnitKind.CLASS)
    if user.is_superuser:
        return classes
    q = Q(pk__in=[])
    for unit in units_with(user, perm):
        q |= Q(path__startswith=unit.path)
    return classes.filter(q)


def helpers_in_scope(user: User) -> QuerySet[User]:
    """Users who are the active helper of at least one student the user can see."""
    visible = Student.objects.visible_to(user).values("pk")
    return (
        User.objects.filter(pk__in=HelperAssignment.objects.active().filter(student__in=visible).values("helper_id"))
        .order_by("full_name", "username")
        .only("public_id", "full_name", "username")
    )


def cohorts_in_scope(user: User) -> list[int]:
    return list(Student.objects.visible_to(user).order_by("-cohort").values_list("cohort", flat=True).distinct())


def graduation_years_in_scope(user: User) -> list[int]:
    return graduation_years(Student.objects.visible_to(user))


def graduation_years(students: QuerySet[Student]) -> list[int]:
    """The years from the first to the last graduation of `students`, newest first: two aggregates that the
    (school, expected graduation) index answers, where the distinct years would read every student (and SQLite
    would run a Python function per row to truncate each date to its year)."""
    span = students.aggregate(first=Min("expected_graduation"), last=Max("expected_graduation"))
    if span["first"] is None:
        return []
    return list(range(span["last"].year, span["first"].year - 1, -1))


# ---------------------------------------------------------------------------------------------------------
# The department ledger page.


@dataclass(frozen=True)
class Semester:
    start: dt.date
    end: dt.date


def semester_of(today: dt.date) -> Semester:
    """Autumn semester 1 Sep – end of Feb, spring semester 1 Mar – 31 Aug."""
    if today.month >= 9:
        year = today.year + 1
        return Semester(dt.date(today.year, 9, 1), dt.date(year, 2, calendar.monthrange(year, 2)[1]))
    if today.month <= 2:
        return Semester(dt.date(today.year - 1, 9, 1), dt.date(today.year, 2, calendar.monthrange(today.year, 2)[1]))
    return Semester(dt.date(today.year, 3, 1), dt.date(today.year, 8, 31))


def ledger_entries_in_scope(user: User, department: uuid.UUID | str | None = None) -> QuerySet[LedgerEntry]:
    entries = LedgerEntry.objects.filter(student__in=Student.objects.visible_to(user).values("pk"))
    if department not in (None, ""):
        dept_id = _as_uuid(department)
        if dept_id is None:
            return entries.none()
        entries = entries.filter(student__department__public_id=dept_id)
    return entries


def ledger_figures(entries: QuerySet[LedgerEntry], semester: Semester) -> dict[str, Any]:
    """Counts for the ledger page, computed by the database: open entries, joins and leaves this semester,
    students without a helper, and open entries per category."""
    open_entries = entries.filter(left_on__isnull=True)
    totals = entries.aggregate(
        in_ledger=Count("pk", filter=Q(left_on__isnull=True)),
        joined=Count("pk", filter=Q(joined_on__range=(semester.start, semester.end))),
        left=Count("pk", filter=Q(left_on__range=(semester.start, semester.end))),
        # Each open entry's student looked up in the index of active helpers, not every active assignment of
        # the database gathered first (an `IN` list of 198,000 on the province: 116 ms).
        unassigned=Count(
            "pk",
            filter=Q(left_on__isnull=True)
            & ~Q(Exists(HelperAssignment.objects.active().filter(student_id=OuterRef("student_id")))),
        ),
    )
    by_category = dict(
        LedgerCategory.objects.filter(entry__in=open_entries.values("pk"))
        .values_list("category")
        .annotate(n=Count("pk"))
        .values_list("category", "n")
    )
    return {**totals, "by_category": by_category}


def semester_movements(entries: QuerySet[LedgerEntry], semester: Semester) -> dict[str, QuerySet[LedgerEntry]]:
    """Who joined and who left the ledger during the semester, with who decided."""
    base = entries.select_related("student", "student__class_unit", "joined_by", "left_by")
    return {
        "joined": base.filter(joined_on__range=(semester.start, semester.end)).order_by("-joined_on", "pk"),
        "left": base.filter(left_on__range=(semester.start, semester.end)).order_by("-left_on", "pk"),
    }


# ---------------------------------------------------------------------------------------------------------
# The history section of the student page.

# Profile fields whose changes the history shows (school, department and major follow the class).
HISTORY_FIELDS = (
    "student_number",
    "class_unit",
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "home_province",
    "home_city",
    "home_county",
    "address",
    "phone",
    "level",
    "program_years",
    "cohort",
    "enrolled_on",
    "expected_graduation",
    "status",
)


@dataclass(frozen=True)
class ProfileChange:
    at: dt.datetime
    by: User | None
    created: bool
    fields: list[str]  # verbose names of the changed fields


def profile_changes(student: Student, limit: int = 20) -> list[ProfileChange]:
    """The latest `limit` changes of the student record: who, when and which fields (never the values).

    One query: `limit + 1` history rows are read so the oldest shown row can be diffed too.
    """
    records = list(student.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    changes: list[ProfileChange] = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        if len(changes) == limit:
            break
        if older is None:
            # The oldest row read: shown only if it is the creation (otherwise its diff is unknown here).
            if newer.history_type == "+":
                changes.append(ProfileChange(newer.history_date, newer.history_user, True, []))
            continue
        names = list(newer.diff_against(older, included_fields=HISTORY_FIELDS).changed_fields)
        # The ID number is not an editable form field of the model, so diff_against leaves it out.
        if newer.id_number_masked != older.id_number_masked:
            names.append("id_number_masked")
        if not names:
            continue
        labels = [str(getattr(Student._meta.get_field(n), "verbose_name", n)) for n in names]
        changes.append(ProfileChange(newer.history_date, newer.history_user, False, labels))
    return changes


def ledger_history(student: Student) -> QuerySet[LedgerEntry]:
    """Every ledger spell of the student, newest first, with categories and who decided."""
    return (
        LedgerEntry.objects.filter(student=student)
        .select_related("joined_by", "left_by")
        .prefetch_related(Prefetch("categories", queryset=LedgerCategory.objects.order_by("category")))
        .order_by("-joined_on", "-pk")
    )


def assignment_history(student: Student) -> QuerySet[HelperAssignment]:
    """Every helper assignment of the student, newest first."""
    return (
        HelperAssignment.objects.filter(student=student)
        .select_related("helper", "assigned_by")
        .order_by("-started_on", "-pk")
    )
