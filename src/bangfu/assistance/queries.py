"""Read side of one-on-one help: who may be a helper, caseloads, students without a helper, my students,
the helper's board and a student's timeline.

Everything is scoped through `bangfu.organisation.permissions`; totals are database aggregates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from bangfu.assistance.labels import stage_label
from bangfu.assistance.models import Activity, HelperAssignment, PlanReview, StudentProgress
from bangfu.assistance.rules import Timeline, stage_on, versions_for_schools
from bangfu.organisation.models import OrgUnit, RoleGrant, User
from bangfu.organisation.permissions import STAFF_ROLES, Perm, require_student_perm, student_q, units_with
from bangfu.students.models import LedgerCategory, LedgerEntry, Student, StudentQuerySet
from bangfu.students.queries import in_class_order


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
    heaviest first.

    Counted per staff member from their own assignments (the index on helper): as one join and GROUP BY over
    everyone's assignments, PostgreSQL hashed every open ledger entry of the province to test the few hundred
    staff's students (best of five: 112 → 27 ms for a school of 380 staff, docs/benchmarks.md)."""
    mine = HelperAssignment.objects.active().filter(helper=OuterRef("pk"))
    return (
        staff_in_scope(actor)
        .annotate(
            caseload=_count(mine, by="helper"),
            ledger_caseload=_count(mine.filter(_open_entry_exists("student_id")), by="helper"),
        )
        .order_by("-caseload", "-ledger_caseload", "full_name", "username")
    )


def _count(rows: QuerySet[Any], *, by: str) -> Coalesce:
    """How many `rows` there are, as a subquery for each row of the outer query (0 for none); `by` is the column
    that the outer reference fixes, so the rows make one group."""
    return Coalesce(Subquery(rows.order_by().values(by).annotate(n=Count("pk")).values("n")), 0)


def unassigned_ledger_students(actor: User) -> StudentQuerySet:
    """Students in the ledger, in the actor's assigning scope, with no active helper.

    Found by their progress rows (no helper on the row), which every assignment, hand-over and ledger change
    keeps, and from which the compliance pages count the students "without a helper", so the two agree; each is
    confirmed on their own ledger entry and assignments. A school's few among its 10,000 ledger students come from
    the index the boards read, where testing each of its 50,000 students took 93 ms (docs/benchmarks.md)."""
    has_helper = Exists(HelperAssignment.objects.active().filter(student_id=OuterRef("pk")))
    without_helper = StudentProgress.objects.filter(
        student_q(actor, Perm.ASSIGN_HELPER, student="student__"), helper__isnull=True
    )
    return in_class_order(
        Student.objects.visible_to(actor, Perm.ASSIGN_HELPER)
        .filter(pk__in=without_helper.values("student_id"))
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


# --- The work ledger: the helper's board, one student's timeline ---------------------------------------------


def get_student(user: User, public_id: UUID, perm: Perm | None = None) -> Student:
    """The student, if `user` sees them (else 404) and, when `perm` is given, holds it on them (else 403)."""
    student = (
        Student.objects.visible_to(user)
        .select_related("school", "department", "class_unit", "user")
        .filter(public_id=public_id)
        .first()
    )
    if student is None:
        raise Http404
    if perm is not None:
        require_student_perm(user, perm, student)
    return student


def get_activity(student: Student, public_id: UUID) -> Activity:
    """An activity of this student (404 for another student's, whatever the user may see)."""
    activity = (
        Activity.objects.filter(student=student, public_id=public_id).select_related("helper", "corrects").first()
    )
    if activity is None:
        raise Http404
    activity.student = student  # already fetched and scoped
    return activity


def my_board(user: User) -> QuerySet[HelperAssignment]:
    """The user's students as their current helper, most urgent first: risk, overdue items, next due date.

    Each row carries the student, their class and their progress row (joined) and the open ledger entry's
    categories (prefetched): three queries whatever the number of students. Activities are never read.
    """
    return (
        HelperAssignment.objects.active()
        .filter(helper=user)
        .select_related("student", "student__class_unit", "student__progress")
        .prefetch_related(
            Prefetch(
                "student__ledger_entries",
                queryset=LedgerEntry.objects.filter(left_on__isnull=True).prefetch_related("categories"),
                to_attr="open_entries",
            )
        )
        .order_by(
            F("student__progress__risk").desc(nulls_last=True),
            F("student__progress__overdue_count").desc(nulls_last=True),
            F("student__progress__next_due_on").asc(nulls_last=True),
            "student__student_number",
        )
    )


@dataclass(frozen=True)
class TimelineItem:
    """One dated fact of a student's history. `what` names the template branch that shows it."""

    day: dt.date
    what: str  # enrolled, ledger_joined, ledger_left, helper_started, helper_ended, plan_review, activity
    stage: str
    order: int = 0  # breaks ties on one day: later facts of the same day come first
    obj: Any = None


@dataclass
class TimelineStage:
    stage: str
    items: list[TimelineItem] = field(default_factory=list)

    @property
    def label(self) -> str:
        return stage_label(self.stage)


def student_timeline(student: Student) -> list[TimelineStage]:
    """Everything that happened to a ledger student, from enrolment to now, newest first, grouped by stage.

    A fixed number of queries: ledger spells (with categories), assignments, the plan's reviews, activities,
    and the school's policy versions. Each activity carries `correction` (the record that replaced it, if voided)
    and `original` (the record it corrects, if any).
    """
    versions = versions_for_schools({student.school_id})[student.school_id]
    timeline = Timeline(student.cohort, student.program_years, student.expected_graduation)

    def stage(day: dt.date) -> str:
        return stage_on(timeline, day, versions.on(day))

    items = [TimelineItem(student.enrolled_on, "enrolled", stage(student.enrolled_on), -10, student)]
    entries = (
        LedgerEntry.objects.filter(student=student)
        .select_related("joined_by", "left_by")
        .prefetch_related(Prefetch("categories", queryset=LedgerCategory.objects.order_by("category")))
    )
    for entry in entries:
        items.append(TimelineItem(entry.joined_on, "ledger_joined", stage(entry.joined_on), 0, entry))
        if entry.left_on is not None:
            items.append(TimelineItem(entry.left_on, "ledger_left", stage(entry.left_on), 3, entry))
    for a in HelperAssignment.objects.filter(student=student).select_related("helper", "assigned_by"):
        items.append(TimelineItem(a.started_on, "helper_started", stage(a.started_on), 2, a))
        if a.ended_on is not None:
            items.append(TimelineItem(a.ended_on, "helper_ended", stage(a.ended_on), 1, a))
    for review in PlanReview.objects.filter(plan__student=student).select_related("reviewer"):
        items.append(TimelineItem(review.reviewed_on, "plan_review", stage(review.reviewed_on), 4, review))
    activities = list(Activity.objects.filter(student=student).select_related("helper"))
    by_pk = {a.pk: a for a in activities}
    correction_of = {a.corrects_id: a for a in activities if a.corrects_id is not None}
    for activity in activities:
        activity.correction = correction_of.get(activity.pk)  # type: ignore[attr-defined]
        activity.original = by_pk.get(activity.corrects_id) if activity.corrects_id else None  # type: ignore[attr-defined]
        items.append(TimelineItem(activity.occurred_on, "activity", activity.stage, 5 + activity.pk, activity))
    items.sort(key=lambda i: (i.day, i.order), reverse=True)
    groups: list[TimelineStage] = []
    for item in items:
        if not groups or groups[-1].stage != item.stage:
            groups.append(TimelineStage(item.stage))
        groups[-1].items.append(item)
    return groups
