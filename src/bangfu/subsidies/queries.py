"""Read side of subsidies: scoped applications, "waiting for me", budgets with what is committed, batch totals,
and the subsidies a student has received.

Applications are seen through their student: whoever sees the student (`Student.objects.visible_to`) sees the
student's applications; anything else does not exist (404). Types, budgets and batches belong to a school and
are handled by the employment office: staff of another school get 404, staff of the school without the
office's permission get 403 (checked in the views and again by the services).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.http import Http404

from bangfu.organisation.models import OrgUnit, User
from bangfu.organisation.permissions import Perm, has_perm_in, staff_schools
from bangfu.students.models import Student
from bangfu.subsidies.models import (
    COMMITTED,
    Application,
    ApplicationStatus,
    ApplicationStep,
    Budget,
    PaymentBatch,
    SubsidyType,
)
from bangfu.subsidies.services import committed_amount

S = ApplicationStatus
PAGE_SIZE = 50
ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=12, decimal_places=2))


def as_uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- Schools, types, batches ----------------------------------------------------------------------------------------


def office_schools(user: User) -> list[OrgUnit]:
    """The schools whose subsidy types, budgets, notices and payment batches `user` handles (the office)."""
    return [school for school in staff_schools(user) if has_perm_in(user, Perm.APPROVE_SCHOOL, school)]


def pick_school(schools: list[OrgUnit], public_id: Any) -> OrgUnit:
    """The school chosen by `school=<public_id>` among `schools`, or the first one when none is chosen.

    A chosen school that is not among them does not exist for the user (404)."""
    if public_id in (None, ""):
        if not schools:
            raise Http404
        return schools[0]
    wanted = as_uuid(public_id)
    for school in schools:
        if school.public_id == wanted:
            return school
    raise Http404


def get_type_for_user(user: User, public_id: uuid.UUID) -> SubsidyType:
    """A subsidy type of a school where `user` works; 404 otherwise (the view checks the office's permission)."""
    found = (
        SubsidyType.objects.filter(school__in=[s.pk for s in staff_schools(user)], public_id=public_id)
        .select_related("school")
        .first()
    )
    if found is None:
        raise Http404
    return found


def get_batch_for_user(user: User, public_id: uuid.UUID) -> PaymentBatch:
    found = (
        PaymentBatch.objects.filter(school__in=[s.pk for s in staff_schools(user)], public_id=public_id)
        .select_related("school", "created_by", "paid_by")
        .first()
    )
    if found is None:
        raise Http404
    return found


def types_of(schools: Iterable[OrgUnit]) -> QuerySet[SubsidyType]:
    return SubsidyType.objects.filter(school__in=[s.pk for s in schools]).select_related("school")


def budget_rows(school: OrgUnit, year: int) -> QuerySet[SubsidyType]:
    """The school's types with `budget` (None when none is set), `committed` and `left` for the year, each one
    figure computed by the database."""
    budget = Budget.objects.filter(subsidy_type=OuterRef("pk"), year=year)
    committed = (
        Application.objects.filter(subsidy_type=OuterRef("pk"), year=year, status__in=COMMITTED)
        .values("subsidy_type")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    return (
        SubsidyType.objects.filter(school=school)
        .annotate(
            budget=Subquery(budget.values("amount")[:1], output_field=money),
            committed=Coalesce(Subquery(committed, output_field=money), ZERO),
        )
        .annotate(left=Coalesce("budget", ZERO) - Coalesce("committed", ZERO))
        .order_by("code")
    )


def batch_figures(batch: PaymentBatch) -> dict[str, Any]:
    totals = batch.applications.aggregate(count=Count("pk"), total=Sum("amount"))
    return {"count": totals["count"], "total": totals["total"] or Decimal(0)}


def batches_of(schools: Iterable[OrgUnit]) -> QuerySet[PaymentBatch]:
    return (
        PaymentBatch.objects.filter(school__in=[s.pk for s in schools])
        .select_related("school", "created_by")
        .annotate(count=Count("applications"), total=Coalesce(Sum("applications__amount"), ZERO))
        .order_by("-created_on", "-pk")
    )


def payable(school: OrgUnit) -> QuerySet[Application]:
    """Applications approved for payment and in no batch yet: what a new batch can hold."""
    return (
        Application.objects.filter(student__school=school, status=S.APPROVED, batch__isnull=True)
        .select_related("student", "student__department", "subsidy_type")
        .order_by("subsidy_type__code", "student__student_number")
    )


def batch_applications(batch: PaymentBatch) -> QuerySet[Application]:
    return batch.applications.select_related("student", "student__department", "subsidy_type").order_by(
        "subsidy_type__code", "student__student_number", "pk"
    )


# --- Applications ----------------------------------------------------------------------------------------------------


def applications_for(user: User) -> QuerySet[Application]:
    """The applications of every student `user` may see, ready for a list page."""
    return Application.objects.filter(student__in=Student.objects.visible_to(user).values("pk")).select_related(
        "student", "student__department", "subsidy_type", "applied_by"
    )


def get_application_for_user(user: User, public_id: uuid.UUID) -> Application:
    """The application if `user` sees its student; otherwise 404, whether it exists or not."""
    found = (
        applications_for(user)
        .select_related("student__school", "student__class_unit", "student__user", "batch")
        .filter(public_id=public_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def waiting_for(user: User, today: dt.date) -> Q:
    """The applications whose next step `user` may take now: a department approval, a school approval, starting
    the notice, or the final approval after the notice. Never one the user applied for, or their own, and never
    the school approval of one whose department approval (this round) was theirs."""
    by_department = Student.objects.visible_to(user, Perm.APPROVE_DEPARTMENT).values("pk")
    by_school = Student.objects.visible_to(user, Perm.APPROVE_SCHOOL).values("pk")
    own = Q(applied_by=user) | Q(student__user=user)
    department_approver = Subquery(
        ApplicationStep.objects.filter(application=OuterRef("pk"), to_status=S.DEPARTMENT_APPROVED)
        .order_by("-at", "-id")
        .values("by")[:1]
    )
    return (
        (Q(status=S.SUBMITTED, student__in=by_department) & ~own)
        | (Q(status=S.DEPARTMENT_APPROVED, student__in=by_school) & ~own & ~Q(Exact(department_approver, user.pk)))
        | Q(status=S.SCHOOL_APPROVED, student__in=by_school)
        | (Q(status=S.ON_NOTICE, notice_ends_on__lt=today, student__in=by_school) & ~own)
    )


def filter_applications(
    queryset: QuerySet[Application],
    *,
    user: User,
    today: dt.date,
    subsidy_type: Any = None,
    status: str | None = None,
    year: int | str | None = None,
    department: Any = None,
    waiting: bool = False,
) -> QuerySet[Application]:
    """Narrow a scoped queryset by the list's filters; a value that cannot be an id matches nothing."""
    for field, raw in (("subsidy_type__public_id", subsidy_type), ("student__department__public_id", department)):
        if raw in (None, ""):
            continue
        value = as_uuid(raw)
        if value is None:
            return queryset.none()
        queryset = queryset.filter(**{field: value})
    if status:
        queryset = queryset.filter(status=status)
    if year not in (None, ""):
        try:
            queryset = queryset.filter(year=int(year))
        except (TypeError, ValueError):
            return queryset.none()
    if waiting:
        queryset = queryset.filter(waiting_for(user, today))
    return queryset


def years_in(queryset: QuerySet[Application], today: dt.date) -> list[int]:
    years = set(queryset.order_by().values_list("year", flat=True).distinct()) | {today.year}
    return sorted(years, reverse=True)


def left_for(application: Application) -> Decimal:
    """What is left of the application's type budget for its year, not counting the application itself (the
    figure `services.approve_by_school` checks)."""
    budget = Budget.objects.filter(subsidy_type=application.subsidy_type_id, year=application.year).first()
    spent = committed_amount(application.subsidy_type, application.year, exclude=application)
    return (budget.amount if budget else Decimal(0)) - spent


# --- What a student has received -------------------------------------------------------------------------------------


def received(student: Student) -> QuerySet[Application]:
    """The subsidies paid to the student, newest first."""
    return (
        Application.objects.filter(student=student, status=S.PAID)
        .select_related("subsidy_type")
        .order_by("-paid_on", "-pk")
    )


def received_by_student(students: Iterable[Student]) -> dict[int, list[Application]]:
    """The subsidies paid to each of `students` (one query), keyed by the student's primary key."""
    rows = (
        Application.objects.filter(student__in=[s.pk for s in students], status=S.PAID)
        .select_related("subsidy_type")
        .order_by("student", "-paid_on", "-pk")
    )
    found: dict[int, list[Application]] = defaultdict(list)
    for row in rows:
        found[row.student_id].append(row)
    return dict(found)


def student_applications(student: Student) -> QuerySet[Application]:
    return Application.objects.filter(student=student).select_related("subsidy_type").order_by("-created_at", "-pk")
