"""The employment promotion tracks: the school's track types, a student's enrolments with the milestones reached
(join, record the next milestone, leave), and the counts per track of a department or school.

Same services and scoping as the pages: a student's tracks are seen by whoever sees the student; joining,
recording and leaving need the right to keep the student's plan; the counts cover the caller's unit-level view.
"""

import datetime as dt
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from bangfu.api.auth import caller
from bangfu.api.errors import EDIT_ERRORS, READ_ERRORS, WRITE_ERRORS, ErrorOut
from bangfu.api.schemas import InputSchema, PersonRef, StudentRef, UnitRef
from bangfu.organisation.permissions import Perm, require_student_perm, staff_schools
from bangfu.students.queries import get_student_for_user
from bangfu.tracks import queries, services
from bangfu.tracks.models import MilestoneRecord, TrackEnrolment, TrackType

router = Router(tags=["tracks"])

MAX_VERSION = 2_000_000_000


class MilestoneOut(Schema):
    code: str
    label: str = Field(description="The label in Chinese.")
    label_en: str
    final: bool = Field(description="Reaching a final milestone closes the enrolment with its outcome.")
    outcome: str | None = Field(description='"success" or "failure" for a final milestone, null for a step.')


class ProgrammeOut(Schema):
    code: str
    label: str
    label_en: str


class TrackTypeOut(Schema):
    id: UUID
    school: UnitRef
    code: str
    name: str
    name_en: str
    description: str
    position: int
    milestones: list[MilestoneOut] = Field(description="In order: the steps, then the final milestones.")
    programmes: list[ProgrammeOut] = Field(description="Empty when the track has none (then joining names none).")
    is_active: bool
    version: int

    @staticmethod
    def resolve_id(obj: TrackType) -> UUID:
        return obj.public_id


class TrackRef(Schema):
    id: UUID
    code: str
    name: str
    name_en: str

    @staticmethod
    def resolve_id(obj: TrackType) -> UUID:
        return obj.public_id


class MilestoneRecordOut(Schema):
    milestone: str
    label: str = Field(description="The milestone's label in the caller's language.")
    reached_on: dt.date
    note: str
    recorded_by: PersonRef


class EnrolmentOut(Schema):
    id: UUID
    student: StudentRef
    track: TrackRef
    programme: str = Field(description="The programme's code, or empty.")
    joined_on: dt.date
    status: str = Field(description='"open", "succeeded", "failed" (a final milestone closed it) or "left".')
    current_milestone: str = Field(description="The code of the last milestone reached; empty before the first.")
    current_reached_on: dt.date | None
    left_on: dt.date | None = Field(description="The day it closed: the final milestone's date, or the day left.")
    left_reason: str
    next_milestones: list[str] = Field(description="The codes that may be recorded next; empty once closed.")
    records: list[MilestoneRecordOut] = Field(description="The milestones reached, oldest first.")
    version: int = Field(description="Send it back with a change; a stale version is refused with 409.")


def _out(enrolment: TrackEnrolment) -> dict[str, Any]:
    lang = queries.language()
    track = enrolment.track
    status = "open"
    if enrolment.outcome:
        status = "succeeded" if enrolment.outcome == "success" else "failed"
    elif not enrolment.is_open:
        status = "left"
    records: list[MilestoneRecord] = list(enrolment.records.all())
    return {
        "id": enrolment.public_id,
        "student": enrolment.student,
        "track": track,
        "programme": enrolment.programme,
        "joined_on": enrolment.joined_on,
        "status": status,
        "current_milestone": enrolment.current_milestone,
        "current_reached_on": enrolment.current_reached_on,
        "left_on": enrolment.left_on,
        "left_reason": enrolment.left_reason,
        "next_milestones": (
            [m["code"] for m in services.next_milestones(track, enrolment.current_milestone)]
            if enrolment.is_open
            else []
        ),
        "records": [
            {
                "milestone": r.milestone,
                "label": track.milestone_label(r.milestone, lang),
                "reached_on": r.reached_on,
                "note": r.note,
                "recorded_by": r.recorded_by,
            }
            for r in records
        ],
        "version": enrolment.version,
    }


def _fresh(enrolment: TrackEnrolment) -> dict[str, Any]:
    found = next(e for e in queries.student_enrolments(enrolment.student) if e.pk == enrolment.pk)
    found.student = enrolment.student
    return _out(found)


# --- Track types ---------------------------------------------------------------------------------------------------


class TypeFilters(Schema):
    school: UUID | None = Field(None, description="One school's types; default: every school where the caller works.")


@router.get("/tracks/types", response={200: list[TrackTypeOut], **READ_ERRORS}, summary="Track types")
def tracks_types_list(request: HttpRequest, filters: Query[TypeFilters]) -> Any:
    """The track types of the schools where the caller works as staff, in the order the school set."""
    schools = [s.pk for s in staff_schools(caller(request))]
    types = TrackType.objects.filter(school__in=schools).select_related("school")
    if filters.school is not None:
        types = types.filter(school__public_id=filters.school)
    return types.order_by("school__path", "position", "code")


# --- Enrolments --------------------------------------------------------------------------------------------------


@router.get(
    "/students/{student_id}/tracks", response={200: list[EnrolmentOut], **READ_ERRORS}, summary="A student's tracks"
)
def tracks_enrolments_list(request: HttpRequest, student_id: UUID) -> Any:
    """Every enrolment of the student, the open ones first, with the milestones reached."""
    student = get_student_for_user(caller(request), student_id)
    enrolments = queries.student_enrolments(student)
    for enrolment in enrolments:
        enrolment.student = student
    return [_out(e) for e in enrolments]


class TrackJoinIn(InputSchema):
    track: UUID = Field(description="A track type of the student's school.")
    joined_on: dt.date
    programme: str = Field("", max_length=32, description="Required when the track has programmes: its code.")


@router.post(
    "/students/{student_id}/tracks",
    response={201: EnrolmentOut, **WRITE_ERRORS},
    summary="Put a student on a track",
)
def tracks_join(request: HttpRequest, student_id: UUID, payload: TrackJoinIn) -> Any:
    user = caller(request)
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.MANAGE_PLAN, student)
    track = TrackType.objects.filter(school=student.school_id, public_id=payload.track).first()
    if track is None:
        raise ValidationError({"track": _("The student's school has no such track.")})
    enrolment = services.join_track(
        actor=user,
        student=student,
        track=track,
        joined_on=payload.joined_on,
        programme=payload.programme,
        today=timezone.localdate(),
    )
    return Status(201, _fresh(enrolment))


class MilestoneIn(InputSchema):
    milestone: str = Field(..., max_length=32, description="The code of the next milestone (see next_milestones).")
    reached_on: dt.date
    note: str = Field("", max_length=500)
    version: int = Field(..., ge=1, le=MAX_VERSION, description="The enrolment's version as read.")


@router.post(
    "/tracks/enrolments/{enrolment_id}/milestones",
    response={201: EnrolmentOut, **EDIT_ERRORS},
    summary="Record the next milestone",
)
def tracks_record_milestone(request: HttpRequest, enrolment_id: UUID, payload: MilestoneIn) -> Any:
    """Milestones come in order without skipping, dated on or after the previous one and not in the future; a
    final milestone closes the enrolment (a failure may close it after any step)."""
    user = caller(request)
    enrolment = queries.get_enrolment_for_user(user, enrolment_id)
    require_student_perm(user, Perm.MANAGE_PLAN, enrolment.student)
    services.record_milestone(
        actor=user,
        enrolment=enrolment,
        milestone=payload.milestone,
        reached_on=payload.reached_on,
        note=payload.note,
        expected_version=payload.version,
        today=timezone.localdate(),
    )
    return Status(201, _fresh(enrolment))


class TrackLeaveIn(InputSchema):
    left_on: dt.date
    reason: str = Field(..., max_length=300)
    version: int = Field(..., ge=1, le=MAX_VERSION, description="The enrolment's version as read.")


@router.post(
    "/tracks/enrolments/{enrolment_id}/leave",
    response={200: EnrolmentOut, **EDIT_ERRORS},
    summary="Take a student off a track",
)
def tracks_leave(request: HttpRequest, enrolment_id: UUID, payload: TrackLeaveIn) -> Any:
    user = caller(request)
    enrolment = queries.get_enrolment_for_user(user, enrolment_id)
    require_student_perm(user, Perm.MANAGE_PLAN, enrolment.student)
    services.leave_track(
        actor=user,
        enrolment=enrolment,
        left_on=payload.left_on,
        reason=payload.reason,
        expected_version=payload.version,
        today=timezone.localdate(),
    )
    return _fresh(enrolment)


# --- Counts ------------------------------------------------------------------------------------------------------


class CountFilters(Schema):
    unit: UUID | None = Field(None, description="A school or department in the caller's view; default the widest.")
    cohort: int | None = Field(None, ge=1950, le=2100, description="Only students of this enrolment year.")


class MilestoneCountOut(Schema):
    milestone: str
    label: str
    count: int = Field(description="Open enrolments whose last milestone reached is this one.")


class TrackCountsOut(Schema):
    track: TrackRef
    open: int = Field(description="Enrolments open now.")
    not_started: int = Field(description="Open, no milestone reached yet.")
    at: list[MilestoneCountOut] = Field(description="Open enrolments at each step, in order.")
    succeeded: int
    failed: int
    left: int


class CountsOut(Schema):
    unit: UnitRef
    cohort: int | None
    tracks: list[TrackCountsOut]


@router.get(
    "/tracks/counts",
    response={200: CountsOut, **READ_ERRORS, 403: ErrorOut},
    summary="Counts per track of a unit",
)
def tracks_counts(request: HttpRequest, filters: Query[CountFilters]) -> Any:
    """How many of the unit's students are on each track, at each step, succeeded, failed or left (enrolments;
    a student on several tracks counts on each). Needs a unit-wide view of students."""
    user = caller(request)
    units = queries.figure_units(user)
    if not units:
        raise PermissionDenied
    unit = queries.pick_unit(units, filters.unit)
    school = queries.school_of(unit)
    tracks = list(TrackType.objects.filter(school=school).order_by("position", "code")) if school else []
    rows = queries.track_figures(queries.students_in(user, unit, filters.cohort), tracks, unit=unit)
    return {
        "unit": unit,
        "cohort": filters.cohort,
        "tracks": [
            {
                "track": row.track,
                "open": row.open,
                "not_started": row.not_started,
                "at": [{"milestone": m.code, "label": m.label, "count": m.count} for m in row.at],
                "succeeded": row.succeeded,
                "failed": row.failed,
                "left": row.left,
            }
            for row in rows
        ],
    }
