"""Progress against the standards: a student's progress row, and the caller's due list.

Both read `StudentProgress` (kept current by every write, rebuilt nightly), never the activities. Codes come
with their text in the caller's language (`label`, `text`).
"""

import datetime as dt
from typing import Any
from uuid import UUID

from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from bangfu.api.auth import caller
from bangfu.api.errors import READ_ERRORS
from bangfu.api.schemas import Pages, StudentRef
from bangfu.assistance import labels
from bangfu.assistance.models import HelperAssignment, StudentProgress
from bangfu.students.models import Student
from bangfu.students.queries import get_student_for_user

router = Router(tags=["progress"])

# Most urgent first: at risk, then most overdue, then the soonest due; the student number keeps pages stable.
URGENCY = (
    F("risk").desc(),
    F("overdue_count").desc(),
    F("next_due_on").asc(nulls_last=True),
    F("student__student_number").asc(),
)


class MeterOut(Schema):
    metric: str
    label: str
    period: str = Field(description="stage, month (this month's count), days or milestones.")
    required: int
    done: int
    overdue: int = Field(description="Months missed, or milestones passed without a follow-up.")
    met: bool
    due_on: dt.date | None
    text: str = Field(description='The meter as a line, e.g. "Talks 2/3".')

    @staticmethod
    def resolve_label(obj: dict[str, Any]) -> str:
        return labels.metric_label(obj["metric"])

    @staticmethod
    def resolve_text(obj: dict[str, Any]) -> str:
        return labels.meter_text(obj)


class RiskReasonOut(Schema):
    code: str = Field(description="unassigned, no_contact, behind_before_graduation, overdue or declined.")
    level: int = Field(description="1 watch, 2 at risk.")
    text: str
    days: int | None = Field(None, description="no_contact: days without contact.")
    share: int | None = Field(None, description="behind_before_graduation: % of the standards met.")
    count: int | None = Field(None, description="overdue: items overdue; declined: recommendations declined.")

    @staticmethod
    def resolve_text(obj: dict[str, Any]) -> str:
        return labels.risk_reason_text(obj)


class _ProgressBase(Schema):
    student: StudentRef
    stage: str
    stage_label: str
    standards_met: int
    standards_total: int
    overdue_count: int
    next_due_on: dt.date | None
    next_due_metric: str | None
    next_due_text: str = Field(description='E.g. "Next: a check-in by 2024-03-31"; "" when nothing is due.')
    last_contact_on: dt.date | None
    risk: int = Field(description="0 none, 1 watch, 2 at risk.")
    risk_label: str
    risk_reasons: list[RiskReasonOut]

    @staticmethod
    def resolve_stage_label(obj: StudentProgress) -> str:
        return labels.stage_label(obj.stage)

    @staticmethod
    def resolve_next_due_metric(obj: StudentProgress) -> str | None:
        return obj.next_due_metric or None

    @staticmethod
    def resolve_next_due_text(obj: StudentProgress) -> str:
        return labels.next_due_text(obj.next_due_metric, obj.next_due_on)

    @staticmethod
    def resolve_risk_label(obj: StudentProgress) -> str:
        return labels.risk_label(obj.risk)


class ProgressOut(_ProgressBase):
    computed_on: dt.date = Field(description="The day the row was last computed (at every change, and nightly).")
    meters: list[MeterOut] = Field(description="One per standard of the current stage.")
    last_check_in_on: dt.date | None
    declined_count: int


class DueOut(_ProgressBase):
    pass


@router.get(
    "/students/{student_id}/progress",
    response={200: ProgressOut, **READ_ERRORS},
    summary="A student's progress against the standards",
)
def progress_retrieve(request: HttpRequest, student_id: UUID) -> Any:
    """404 also for a student outside the ledger: no standards apply to them."""
    student = get_student_for_user(caller(request), student_id)
    row = StudentProgress.objects.filter(student=student).first()
    if row is None:
        raise Http404
    row.student = student
    return row


def _due(user: Any) -> QuerySet[StudentProgress]:
    mine = HelperAssignment.objects.active().filter(helper=user).values("student_id")
    return (
        StudentProgress.objects.filter(student__in=mine)
        .filter(student__in=Student.objects.visible_to(user).values("pk"))
        .select_related("student")
        .order_by(*URGENCY)
    )


@router.get("/due", response={200: list[DueOut], **READ_ERRORS}, summary="My students, most urgent first")
@paginate(Pages)
def progress_due(request: HttpRequest) -> Any:
    """The ledger students the caller helps, each with the next due item and what is overdue: at-risk students
    first, then the most overdue, then the soonest due."""
    return _due(caller(request))
