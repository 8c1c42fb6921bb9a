"""The plan per student (一生一策): direction, job intentions, strengths and needs, and a review each semester."""

import datetime as dt
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from bangfu.api.auth import caller
from bangfu.api.errors import EDIT_ERRORS, READ_ERRORS, WRITE_ERRORS
from bangfu.api.schemas import InputSchema, PersonRef, StudentRef
from bangfu.assistance.models import Direction, Plan, PlanReview
from bangfu.assistance.services import review_plan, save_plan
from bangfu.concurrency import StaleEdit
from bangfu.organisation.permissions import Perm, require_student_perm
from bangfu.students.models import Student
from bangfu.students.queries import get_student_for_user

router = Router(tags=["plans"])


class PlanReviewOut(Schema):
    semester: int = Field(description="Semester since enrolment: 1 from 1 September of the cohort year.")
    reviewed_on: dt.date
    notes: str
    reviewer: PersonRef


class PlanOut(Schema):
    id: UUID
    student: StudentRef
    direction: str
    industries: str
    places: str
    near_home: bool
    salary_expectation: int | None = Field(description="Monthly, in yuan.")
    strengths: str
    needs: str
    updated_by: PersonRef
    updated_at: dt.datetime
    reviews: list[PlanReviewOut] = Field(description="Newest first; one per semester.")
    version: int = Field(description="Send it back with a change; a stale version is refused with 409.")

    @staticmethod
    def resolve_id(obj: Plan) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_reviews(obj: Plan) -> Any:
        return obj.reviews.all()


class PlanIn(InputSchema):
    direction: Direction
    industries: str = Field("", max_length=200)
    places: str = Field("", max_length=200, description="E.g. near home: the home county.")
    near_home: bool = False
    salary_expectation: int | None = Field(None, ge=0, le=2_000_000_000, description="Monthly, in yuan.")
    strengths: str = Field("", max_length=5000)
    needs: str = Field("", max_length=5000)
    version: int | None = Field(
        None, ge=1, le=2_000_000_000, description="The plan's version as read; leave it out to write the first plan."
    )


class PlanReviewIn(InputSchema):
    notes: str = Field(
        ..., max_length=5000, description="What the review found; a second review this semester replaces the first."
    )


def _plan(student: Student) -> Plan | None:
    plan = (
        Plan.objects.filter(student=student)
        .select_related("updated_by")
        .prefetch_related(
            Prefetch("reviews", queryset=PlanReview.objects.select_related("reviewer").order_by("-semester"))
        )
        .first()
    )
    if plan is not None:
        plan.student = student
    return plan


@router.get("/students/{student_id}/plan", response={200: PlanOut, **READ_ERRORS}, summary="A student's plan")
def plans_retrieve(request: HttpRequest, student_id: UUID) -> Any:
    """404 also when no plan has been written for the student yet."""
    plan = _plan(get_student_for_user(caller(request), student_id))
    if plan is None:
        raise Http404
    return plan


@router.put(
    "/students/{student_id}/plan",
    response={200: PlanOut, 201: PlanOut, **EDIT_ERRORS},
    summary="Write a student's plan",
)
def plans_save(request: HttpRequest, student_id: UUID, payload: PlanIn) -> Any:
    """Write the whole plan: 201 for the first plan (sent without `version`), 200 after, with the version read."""
    user = caller(request)
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.MANAGE_PLAN, student)
    fields = payload.dict(exclude={"version"})
    try:
        with transaction.atomic():
            exists = Plan.objects.filter(student=student).exists()
            if exists and payload.version is None:
                raise StaleEdit()  # someone wrote the first plan since the caller saw none
            if not exists and payload.version is not None:
                raise ValidationError({"version": _("This student has no plan yet: send no version.")})
            save_plan(
                actor=user,
                student=student,
                expected_version=payload.version,
                today=timezone.localdate(),
                **fields,
            )
    except IntegrityError:
        # Two first plans at once: the other one was saved first.
        raise StaleEdit() from None
    return Status(200 if exists else 201, _plan(student))


@router.post(
    "/students/{student_id}/plan/reviews",
    response={201: PlanReviewOut, **WRITE_ERRORS},
    summary="Review a student's plan this semester",
)
def plans_review(request: HttpRequest, student_id: UUID, payload: PlanReviewIn) -> Any:
    user = caller(request)
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.MANAGE_PLAN, student)
    plan = Plan.objects.filter(student=student).first()
    if plan is None:
        raise ValidationError(_("Write the student's plan before reviewing it."))
    plan.student = student
    review = review_plan(actor=user, plan=plan, notes=payload.notes, today=timezone.localdate())
    return Status(201, review)
