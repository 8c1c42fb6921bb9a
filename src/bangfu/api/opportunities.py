"""Employers, positions and recruitment events; recommendations with their status changes; suggestions ranked by
fit; internships, order classes and work-study posts; recommendation conversion.

Employers, positions and events are the school's: its staff see them (`staff_schools`), nobody else. What a
student holds (recommendations, internships, order-class places, work-study posts) is seen through the student:
404 for a student out of sight, 403 for an action the caller's role may not do.
"""

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar, Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from bangfu.api.auth import caller
from bangfu.api.errors import EDIT_ERRORS, READ_ERRORS, WRITE_ERRORS, ErrorOut
from bangfu.api.opportunity_schemas import EmployerRef, PositionRef, ReasonOut, reasons_of
from bangfu.api.schemas import InputSchema, Pages, PatchSchema, PersonRef, StudentRef, UnitRef
from bangfu.opportunities import creditcodes, queries, services
from bangfu.opportunities.matching import Reason
from bangfu.opportunities.models import (
    DeclineReason,
    Employer,
    EmployerSize,
    EmployerType,
    Evaluation,
    EventAttendance,
    EventKind,
    Industry,
    Internship,
    OrderClassMembership,
    Position,
    PositionKind,
    PositionStatus,
    Recommendation,
    RecommendationStatus,
    RecommendationStep,
    RecruitmentEvent,
    WorkStudyAssignment,
    WorkStudyHours,
)
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import (
    Perm,
    is_staff_member,
    require_student_perm,
    staff_schools,
    units_with,
)
from bangfu.students.models import Student
from bangfu.students.queries import get_student_for_user

router = Router(tags=["opportunities"])

MAX_VERSION = 2_000_000_000


# --- Looking things up ------------------------------------------------------------------------------------------


def _gate(user: User, perm: Perm) -> None:
    """Refuse a caller who holds `perm` nowhere before looking up what the body names (the same 403 for any id)."""
    if not user.is_superuser and not units_with(user, perm):
        raise PermissionDenied


def _school(user: User, public_id: UUID | None) -> OrgUnit:
    """The school a new employer or event belongs to: the one named, or the caller's only school."""
    schools = staff_schools(user)
    if public_id is None:
        if len(schools) == 1:
            return schools[0]
        raise ValidationError({"school": _("Choose the school.")})
    school = next((s for s in schools if s.public_id == public_id), None)
    if school is None:
        raise ValidationError({"school": _("There is no school with this id.")})
    return school


def _employer_ref(user: User, public_id: UUID, field: str = "employer") -> Employer:
    employer = queries.employers_for(user).filter(public_id=public_id).select_related("school").first()
    if employer is None:
        raise ValidationError({field: _("There is no employer with this id.")})
    return employer


def _position_ref(user: User, public_id: UUID, field: str = "position") -> Position:
    position = queries.positions_for(user).filter(public_id=public_id).select_related("employer__school").first()
    if position is None:
        raise ValidationError({field: _("There is no position with this id.")})
    return position


def _majors(public_ids: list[UUID]) -> list[OrgUnit]:
    wanted = set(public_ids)
    majors = list(OrgUnit.objects.filter(public_id__in=wanted, kind=UnitKind.MAJOR))
    if len(majors) != len(wanted):
        raise ValidationError({"majors": _("There is no major with this id.")})
    return majors


def of_visible_student(model: Any, user: User, public_id: UUID, *related: str) -> Any:
    """A record of a student the user may see; otherwise 404."""
    obj = (
        model.objects.filter(public_id=public_id, student__in=Student.objects.visible_to(user).values("pk"))
        .select_related("student__school", "student__class_unit", *related)
        .first()
    )
    if obj is None:
        raise Http404
    return obj


# --- Employers --------------------------------------------------------------------------------------------------


class EmployerOut(Schema):
    id: UUID
    school: UnitRef
    name: str
    credit_code: str = Field(description="Unified social credit code (18 characters), or empty.")
    industry: str = Field(description="Section of GB/T 4754-2017 (A–T), or empty.")
    employer_type: str
    size: str
    province: str
    city: str
    is_internship_base: bool
    is_order_class_partner: bool
    is_work_study_host: bool
    is_partner: bool
    contact_name: str
    contact_phone: str
    contact_email: str
    notes: str
    created_by: PersonRef
    created_at: dt.datetime
    version: int = Field(description="Send it back with an update; a stale version is refused with 409.")

    @staticmethod
    def resolve_id(obj: Employer) -> UUID:
        return obj.public_id


Partner = Literal["any", "internship_base", "order_class", "work_study"]
_PARTNER_Q = {
    "any": Q(is_internship_base=True) | Q(is_order_class_partner=True) | Q(is_work_study_host=True),
    "internship_base": Q(is_internship_base=True),
    "order_class": Q(is_order_class_partner=True),
    "work_study": Q(is_work_study_host=True),
}


class EmployerFilters(InputSchema):
    q: str | None = Field(None, max_length=100, description="Part of the name, or the start of the credit code.")
    industry: Industry | None = None
    employer_type: EmployerType | None = None
    partner: Partner | None = Field(None, description="Only partners (of any kind, or of this kind).")
    city: str | None = Field(None, max_length=32)


class EmployerIn(InputSchema):
    school: UUID | None = Field(None, description="Default: the caller's school, when they work in only one.")
    name: str = Field(..., max_length=200)
    credit_code: str = Field("", max_length=40, description="18 characters; spaces and full-width input are fine.")
    industry: Industry | Literal[""] = ""
    employer_type: EmployerType = EmployerType.PRIVATE
    size: EmployerSize | Literal[""] = ""
    province: str = Field("", max_length=32)
    city: str = Field("", max_length=32)
    is_internship_base: bool = False
    is_order_class_partner: bool = False
    is_work_study_host: bool = False
    contact_name: str = Field("", max_length=64)
    contact_phone: str = Field("", max_length=32)
    contact_email: str = Field("", max_length=254)
    notes: str = Field("", max_length=5000)


class EmployerPatch(PatchSchema):
    name: str | None = Field(None, max_length=200)
    credit_code: str | None = Field(None, max_length=40, description='"" removes the code.')
    industry: Industry | Literal[""] | None = None
    employer_type: EmployerType | None = None
    size: EmployerSize | Literal[""] | None = None
    province: str | None = Field(None, max_length=32)
    city: str | None = Field(None, max_length=32)
    is_internship_base: bool | None = None
    is_order_class_partner: bool | None = None
    is_work_study_host: bool | None = None
    contact_name: str | None = Field(None, max_length=64)
    contact_phone: str | None = Field(None, max_length=32)
    contact_email: str | None = Field(None, max_length=254)
    notes: str | None = Field(None, max_length=5000)


def _employers(user: User) -> QuerySet[Employer]:
    return queries.employers_for(user).select_related("school", "created_by")


def _employer(user: User, public_id: UUID) -> Employer:
    employer = _employers(user).filter(public_id=public_id).first()
    if employer is None:
        raise Http404
    return employer


@router.get("/employers", response={200: list[EmployerOut], **READ_ERRORS}, summary="List employers")
@paginate(Pages)
def employers_list(request: HttpRequest, filters: Query[EmployerFilters]) -> Any:
    """The employers of the caller's schools, by name."""
    employers = _employers(caller(request))
    q = (filters.q or "").strip()
    if q:
        found = Q(name__icontains=q)
        if key := creditcodes.name_key(q):
            found |= Q(name_key__contains=key)
        if code := creditcodes.normalise(q):
            found |= Q(credit_code__startswith=code)
        employers = employers.filter(found)
    if filters.industry:
        employers = employers.filter(industry=filters.industry)
    if filters.employer_type:
        employers = employers.filter(employer_type=filters.employer_type)
    if filters.partner:
        employers = employers.filter(_PARTNER_Q[filters.partner])
    if filters.city:
        employers = employers.filter(city=filters.city.strip())
    return employers.order_by("name", "pk")


@router.post("/employers", response={201: EmployerOut, **WRITE_ERRORS}, summary="Register an employer")
def employers_create(request: HttpRequest, payload: EmployerIn) -> Any:
    """Refused (422, naming the field) when the credit code is not valid, or when the school already has an
    employer with the same credit code or the same name (spaces, brackets and width do not count)."""
    user = caller(request)
    _gate(user, Perm.MANAGE_EMPLOYERS)
    school = _school(user, payload.school)
    employer = services.create_employer(actor=user, school=school, **payload.dict(exclude={"school"}))
    return Status(201, _employer(user, employer.public_id))


@router.get("/employers/{employer_id}", response={200: EmployerOut, **READ_ERRORS}, summary="Get an employer")
def employers_retrieve(request: HttpRequest, employer_id: UUID) -> Any:
    return _employer(caller(request), employer_id)


@router.patch("/employers/{employer_id}", response={200: EmployerOut, **EDIT_ERRORS}, summary="Update an employer")
def employers_update(request: HttpRequest, employer_id: UUID, payload: EmployerPatch) -> Any:
    user = caller(request)
    employer = _employer(user, employer_id)
    services.update_employer(actor=user, employer=employer, expected_version=payload.version, **payload.changes())
    return _employer(user, employer_id)


# --- Positions --------------------------------------------------------------------------------------------------


class PositionOut(PositionRef):
    description: str
    majors: list[UnitRef] = Field(description="Majors wanted; empty: open to every major.")
    openings: int
    is_open: bool = Field(description="Open today: status open and the deadline not passed.")
    created_by: PersonRef
    created_at: dt.datetime
    version: int

    @staticmethod
    def resolve_majors(obj: Position) -> Any:
        return obj.majors.all()

    @staticmethod
    def resolve_is_open(obj: Position) -> bool:
        return obj.status == PositionStatus.OPEN and (obj.deadline is None or obj.deadline >= timezone.localdate())


class PositionFilters(InputSchema):
    q: str | None = Field(None, max_length=100, description="Part of the title or of the employer's name.")
    kind: PositionKind | None = None
    status: PositionStatus | None = None
    employer: UUID | None = None
    major: UUID | None = Field(None, description="Positions wanting this major, or open to every major.")
    open: bool | None = Field(None, description="true: only positions open today; false: only the others.")
    city: str | None = Field(None, max_length=32)


class PositionIn(InputSchema):
    employer: UUID
    kind: PositionKind = PositionKind.JOB
    title: str = Field(..., max_length=200)
    description: str = Field("", max_length=10000)
    majors: list[UUID] = Field([], max_length=200, description="Majors wanted; none: open to every major.")
    province: str = Field("", max_length=32, description="Default (with city): the employer's.")
    city: str = Field("", max_length=32)
    salary_min: int | None = Field(None, ge=0, le=MAX_VERSION, description="Yuan a month.")
    salary_max: int | None = Field(None, ge=0, le=MAX_VERSION, description="Yuan a month.")
    openings: int = Field(1, ge=1, le=10000)
    deadline: dt.date | None = None
    status: PositionStatus = PositionStatus.OPEN


class PositionPatch(PatchSchema):
    nullable: ClassVar[frozenset[str]] = frozenset({"salary_min", "salary_max", "deadline"})

    kind: PositionKind | None = None
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=10000)
    majors: list[UUID] | None = Field(None, max_length=200)
    province: str | None = Field(None, max_length=32)
    city: str | None = Field(None, max_length=32)
    salary_min: int | None = Field(None, ge=0, le=MAX_VERSION)
    salary_max: int | None = Field(None, ge=0, le=MAX_VERSION)
    openings: int | None = Field(None, ge=1, le=10000)
    deadline: dt.date | None = None
    status: PositionStatus | None = None


def _positions(user: User) -> QuerySet[Position]:
    return queries.positions_for(user).select_related("employer", "created_by").prefetch_related("majors")


def _position(user: User, public_id: UUID) -> Position:
    position = _positions(user).filter(public_id=public_id).first()
    if position is None:
        raise Http404
    return position


@router.get("/positions", response={200: list[PositionOut], **READ_ERRORS}, summary="List positions")
@paginate(Pages)
def positions_list(request: HttpRequest, filters: Query[PositionFilters]) -> Any:
    """Positions of the caller's schools' employers, the soonest deadline first (none last)."""
    positions = _positions(caller(request))
    q = (filters.q or "").strip()
    if q:
        positions = positions.filter(Q(title__icontains=q) | Q(employer__name__icontains=q))
    if filters.kind:
        positions = positions.filter(kind=filters.kind)
    if filters.status:
        positions = positions.filter(status=filters.status)
    if filters.employer:
        positions = positions.filter(employer__public_id=filters.employer)
    if filters.major:
        majors = Position.majors.through.objects.filter(position_id=OuterRef("pk"))
        positions = positions.filter(Exists(majors.filter(orgunit__public_id=filters.major)) | ~Exists(majors))
    if filters.open is not None:
        open_ids = Position.objects.open_on(timezone.localdate()).values("pk")
        positions = positions.filter(pk__in=open_ids) if filters.open else positions.exclude(pk__in=open_ids)
    if filters.city:
        positions = positions.filter(city=filters.city.strip())
    return positions.order_by(F("deadline").asc(nulls_last=True), "title", "pk")


@router.post("/positions", response={201: PositionOut, **WRITE_ERRORS}, summary="Create a position")
def positions_create(request: HttpRequest, payload: PositionIn) -> Any:
    user = caller(request)
    _gate(user, Perm.MANAGE_EMPLOYERS)
    employer = _employer_ref(user, payload.employer)
    fields = payload.dict(exclude_unset=True, exclude={"employer", "majors"})
    position = services.create_position(actor=user, employer=employer, majors=_majors(payload.majors), **fields)
    return Status(201, _position(user, position.public_id))


@router.get("/positions/{position_id}", response={200: PositionOut, **READ_ERRORS}, summary="Get a position")
def positions_retrieve(request: HttpRequest, position_id: UUID) -> Any:
    return _position(caller(request), position_id)


@router.patch("/positions/{position_id}", response={200: PositionOut, **EDIT_ERRORS}, summary="Update a position")
def positions_update(request: HttpRequest, position_id: UUID, payload: PositionPatch) -> Any:
    user = caller(request)
    position = _position(user, position_id)
    changes = payload.changes()
    majors = changes.pop("majors", None)
    services.update_position(
        actor=user,
        position=position,
        expected_version=payload.version,
        majors=_majors(majors) if majors is not None else None,
        **changes,
    )
    return _position(user, position_id)


# --- Suggestions ------------------------------------------------------------------------------------------------


class SuggestedPositionOut(Schema):
    position: PositionRef
    score: int
    fits: bool = Field(description="Fits the major or the stated intention: recommending it can be effective.")
    reasons: list[ReasonOut] = Field(description="Why it is suggested, each worth `points` of the score.")


class SuggestedStudentOut(Schema):
    student: StudentRef
    score: int
    fits: bool
    reasons: list[ReasonOut]


class SuggestionFilters(InputSchema):
    kind: PositionKind = PositionKind.JOB
    limit: int = Field(10, ge=1, le=50)


class StudentSuggestionFilters(InputSchema):
    limit: int = Field(20, ge=1, le=100)


@router.get(
    "/students/{student_id}/suggested-positions",
    response={200: list[SuggestedPositionOut], **READ_ERRORS, 403: ErrorOut},
    summary="Positions to suggest to a student",
)
def suggestions_positions(request: HttpRequest, student_id: UUID, filters: Query[SuggestionFilters]) -> Any:
    """Open positions of the student's school not yet recommended to them, best fit first (then the earlier
    deadline), each with why: for those who may recommend to the student."""
    user = caller(request)
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.LOG_ACTIVITY, student)
    found = queries.suggest_positions(student, timezone.localdate(), kinds=(filters.kind,), limit=filters.limit)
    return [{"position": p, "score": m.score, "fits": m.fits, "reasons": m.reasons} for p, m in found]


@router.get(
    "/positions/{position_id}/suggested-students",
    response={200: list[SuggestedStudentOut], **READ_ERRORS},
    summary="Students to suggest a position to",
)
def suggestions_students(request: HttpRequest, position_id: UUID, filters: Query[StudentSuggestionFilters]) -> Any:
    """Ledger students the caller may recommend to, graduating within a year either side of today, not yet placed
    nor recommended this position: best fit first."""
    user = caller(request)
    position = _position(user, position_id)
    found = queries.suggest_students(user, position, timezone.localdate(), limit=filters.limit)
    return [{"student": s, "score": m.score, "fits": m.fits, "reasons": m.reasons} for s, m in found]


# --- Recruitment events and attendance --------------------------------------------------------------------------


class EventOut(Schema):
    id: UUID
    school: UnitRef
    kind: str
    title: str
    held_on: dt.date
    place: str
    employers: list[EmployerRef]
    notes: str
    created_by: PersonRef
    version: int

    @staticmethod
    def resolve_id(obj: RecruitmentEvent) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_employers(obj: RecruitmentEvent) -> Any:
        return obj.employers.all()


class EventFilters(InputSchema):
    kind: EventKind | None = None
    since: dt.date | None = Field(None, description="Only events on or after this day.")
    until: dt.date | None = Field(None, description="Only events on or before this day.")


class EventIn(InputSchema):
    school: UUID | None = Field(None, description="Default: the caller's school, when they work in only one.")
    kind: EventKind = EventKind.CAMPUS_FAIR
    title: str = Field(..., max_length=200)
    held_on: dt.date
    place: str = Field("", max_length=200)
    employers: list[UUID] = Field([], max_length=500)
    notes: str = Field("", max_length=5000)


class EventPatch(PatchSchema):
    kind: EventKind | None = None
    title: str | None = Field(None, max_length=200)
    held_on: dt.date | None = None
    place: str | None = Field(None, max_length=200)
    employers: list[UUID] | None = Field(None, max_length=500)
    notes: str | None = Field(None, max_length=5000)


def _events(user: User) -> QuerySet[RecruitmentEvent]:
    return (
        queries.events_for(user)
        .select_related("school", "created_by")
        .prefetch_related(Prefetch("employers", queryset=Employer.objects.order_by("name")))
    )


def _event(user: User, public_id: UUID) -> RecruitmentEvent:
    event = _events(user).filter(public_id=public_id).first()
    if event is None:
        raise Http404
    return event


def _event_employers(user: User, public_ids: list[UUID]) -> list[Employer]:
    wanted = set(public_ids)
    employers = list(queries.employers_for(user).filter(public_id__in=wanted))
    if len(employers) != len(wanted):
        raise ValidationError({"employers": _("There is no employer with this id.")})
    return employers


@router.get("/events", response={200: list[EventOut], **READ_ERRORS}, summary="List events")
@paginate(Pages)
def events_list(request: HttpRequest, filters: Query[EventFilters]) -> Any:
    """Recruitment events of the caller's schools, the latest first."""
    events = _events(caller(request))
    if filters.kind:
        events = events.filter(kind=filters.kind)
    if filters.since:
        events = events.filter(held_on__gte=filters.since)
    if filters.until:
        events = events.filter(held_on__lte=filters.until)
    return events.order_by("-held_on", "title", "pk")


@router.post("/events", response={201: EventOut, **WRITE_ERRORS}, summary="Create a recruitment event")
def events_create(request: HttpRequest, payload: EventIn) -> Any:
    user = caller(request)
    _gate(user, Perm.MANAGE_EMPLOYERS)
    school = _school(user, payload.school)
    event = services.save_event(
        actor=user,
        school=school,
        employers=_event_employers(user, payload.employers),
        **payload.dict(exclude={"school", "employers"}),
    )
    return Status(201, _event(user, event.public_id))


@router.get("/events/{event_id}", response={200: EventOut, **READ_ERRORS}, summary="Get a recruitment event")
def events_retrieve(request: HttpRequest, event_id: UUID) -> Any:
    return _event(caller(request), event_id)


@router.patch("/events/{event_id}", response={200: EventOut, **EDIT_ERRORS}, summary="Update a recruitment event")
def events_update(request: HttpRequest, event_id: UUID, payload: EventPatch) -> Any:
    user = caller(request)
    event = _event(user, event_id)
    changes = payload.changes()
    employers = changes.pop("employers", None)
    services.save_event(
        actor=user,
        school=event.school,
        event=event,
        expected_version=payload.version,
        employers=_event_employers(user, employers) if employers is not None else None,
        **changes,
    )
    return _event(user, event_id)


class EventRef(Schema):
    id: UUID
    kind: str
    title: str
    held_on: dt.date
    place: str

    @staticmethod
    def resolve_id(obj: RecruitmentEvent) -> UUID:
        return obj.public_id


class AttendanceOut(Schema):
    id: UUID
    event: EventRef
    student: StudentRef
    helper: PersonRef = Field(description="Who went with the student.")
    activity: UUID | None = Field(description='The "event together" activity of the work ledger.')
    created_at: dt.datetime

    @staticmethod
    def resolve_id(obj: EventAttendance) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_activity(obj: EventAttendance) -> UUID | None:
        return obj.activity.public_id if obj.activity is not None else None


class AttendanceIn(InputSchema):
    event: UUID
    notes: str = Field("", max_length=5000)


def _attendances(student: Student) -> QuerySet[EventAttendance]:
    return (
        EventAttendance.objects.filter(student=student)
        .select_related("event", "helper", "activity")
        .order_by("-event__held_on", "-pk")
    )


@router.get(
    "/students/{student_id}/event-attendances",
    response={200: list[AttendanceOut], **READ_ERRORS},
    summary="Recruitment events a student attended with their helper",
)
def attendances_list(request: HttpRequest, student_id: UUID) -> Any:
    student = get_student_for_user(caller(request), student_id)
    attendances = list(_attendances(student))
    for attendance in attendances:
        attendance.student = student
    return attendances


@router.post(
    "/students/{student_id}/event-attendances",
    response={201: AttendanceOut, **WRITE_ERRORS},
    summary="Record that a student attended an event with the caller",
)
def attendances_record(request: HttpRequest, student_id: UUID, payload: AttendanceIn) -> Any:
    """The student went to the event together with the caller: the "event together" activity of the work ledger,
    counted toward the standard."""
    user = caller(request)
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.LOG_ACTIVITY, student)
    event = queries.events_for(user).filter(public_id=payload.event).first()
    if event is None:
        raise ValidationError({"event": _("There is no event with this id.")})
    attendance = services.record_attendance(
        actor=user, event=event, student=student, today=timezone.localdate(), notes=payload.notes
    )
    return Status(201, _attendances(student).get(pk=attendance.pk))


# --- Recommendations --------------------------------------------------------------------------------------------


class RecommendationStepOut(Schema):
    from_status: str = Field(description='"" for the first step (the recommendation itself).')
    to_status: str
    on: dt.date
    by: PersonRef
    at: dt.datetime
    reason: str = Field(description="Why the student declined (a code of the controlled list), or empty.")
    note: str


class RecommendationOut(Schema):
    id: UUID
    student: StudentRef
    position: PositionRef
    recommended_by: PersonRef
    recommended_on: dt.date
    status: str
    next_statuses: list[str] = Field(description="The statuses it may move to next; none once closed.")
    fits_student: bool = Field(description="Fits the student's major or stated intention (judged when recommended).")
    fit_reasons: list[ReasonOut]
    acted_on: dt.date | None = Field(description="The day the student applied.")
    offered_on: dt.date | None
    decline_reason: str
    note: str
    effective: bool = Field(description="An effective job recommendation: counts toward the standard.")
    activity: UUID | None = Field(description="The work-ledger activity this recommendation is.")
    steps: list[RecommendationStepOut] = Field(description="Every status change, oldest first: who, when, why.")
    updated_at: dt.datetime
    version: int = Field(description="Send it back with a status change; a stale version is refused with 409.")

    @staticmethod
    def resolve_id(obj: Recommendation) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_next_statuses(obj: Recommendation) -> list[str]:
        return [str(s) for s in obj.next_statuses]

    @staticmethod
    def resolve_fit_reasons(obj: Recommendation) -> list[Reason]:
        return reasons_of(obj.fit_reasons)

    @staticmethod
    def resolve_effective(obj: Recommendation) -> bool:
        return obj.activity is not None and obj.activity.effective

    @staticmethod
    def resolve_activity(obj: Recommendation) -> UUID | None:
        return obj.activity.public_id if obj.activity is not None else None

    @staticmethod
    def resolve_steps(obj: Recommendation) -> Any:
        return obj.steps.all()


class RecommendationFilters(InputSchema):
    status: RecommendationStatus | None = None


class RecommendIn(InputSchema):
    position: UUID = Field(description="An open position of the student's school.")
    note: str = Field("", max_length=5000)


class StatusChangeIn(InputSchema):
    status: RecommendationStatus = Field(description="One step on from the current status (see `next_statuses`).")
    on: dt.date | None = Field(None, description="When it happened; default today. Not in the future.")
    reason: DeclineReason | Literal[""] = Field("", description="Required to decline; only for a decline.")
    note: str = Field("", max_length=5000, description='Required with the reason "other".')
    destination_code: str = Field(
        "10", max_length=8, description="Accepting a job records this destination code (default 10, an agreement)."
    )
    version: int = Field(..., ge=1, le=MAX_VERSION)


class ConversionFilters(InputSchema):
    by: Literal["helper", "employer"] = "helper"
    since: dt.date | None = Field(None, description="Only recommendations made on or after this day.")
    until: dt.date | None = Field(None, description="Only recommendations made on or before this day.")


class ConversionOut(Schema):
    id: UUID | None = Field(description="The helper's or the employer's id.")
    name: str
    recommended: int
    acted: int = Field(description="The student applied.")
    offers: int
    accepted: int
    declined: int
    effective: int
    rate: float | None = Field(description="Accepted ÷ recommended, in per cent.")


def _recommendations(user: User) -> QuerySet[Recommendation]:
    steps = RecommendationStep.objects.select_related("by").order_by("id")  # the order they were taken
    return (
        queries.recommendations_for(user).select_related("activity").prefetch_related(Prefetch("steps", queryset=steps))
    )


def _recommendation(user: User, public_id: UUID) -> Recommendation:
    recommendation = _recommendations(user).filter(public_id=public_id).first()
    if recommendation is None:
        raise Http404
    return recommendation


@router.get(
    "/students/{student_id}/recommendations",
    response={200: list[RecommendationOut], **READ_ERRORS},
    summary="A student's recommendations",
)
@paginate(Pages)
def recommendations_list(request: HttpRequest, student_id: UUID, filters: Query[RecommendationFilters]) -> Any:
    """Positions recommended to the student, the latest first, each with its steps."""
    user = caller(request)
    student = get_student_for_user(user, student_id)
    recommendations = _recommendations(user).filter(student=student)
    if filters.status:
        recommendations = recommendations.filter(status=filters.status)
    return recommendations.order_by("-recommended_on", "-pk")


@router.post(
    "/students/{student_id}/recommendations",
    response={201: RecommendationOut, **WRITE_ERRORS},
    summary="Recommend a position to a student",
)
def recommendations_create(request: HttpRequest, student_id: UUID, payload: RecommendIn) -> Any:
    """Recommend an open position today. The recommendation is also an activity of the work ledger (a job
    recommendation for a job); whether it fits the student is judged now and kept with its reasons."""
    user = caller(request)
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.LOG_ACTIVITY, student)
    position = _position_ref(user, payload.position)
    recommendation = services.recommend(
        actor=user, student=student, position=position, today=timezone.localdate(), note=payload.note
    )
    return Status(201, _recommendation(user, recommendation.public_id))


@router.get(
    "/recommendations/{recommendation_id}",
    response={200: RecommendationOut, **READ_ERRORS},
    summary="Get a recommendation with its steps",
)
def recommendations_retrieve(request: HttpRequest, recommendation_id: UUID) -> Any:
    return _recommendation(caller(request), recommendation_id)


@router.post(
    "/recommendations/{recommendation_id}/status",
    response={200: RecommendationOut, **EDIT_ERRORS},
    summary="Move a recommendation one step",
)
def recommendations_change(request: HttpRequest, recommendation_id: UUID, payload: StatusChangeIn) -> Any:
    """recommended → applied → interviewed → offer → accepted, or declined (with a reason) / rejected / expired;
    a step that skips one is refused (422). Accepting a job records the graduate's destination and strikes them
    off the unplaced list; accepting an internship, an order class or a work-study post starts it."""
    user = caller(request)
    recommendation = _recommendation(user, recommendation_id)
    today = timezone.localdate()
    services.change_recommendation(
        actor=user,
        recommendation=recommendation,
        to_status=payload.status,
        on=payload.on or today,
        today=today,
        expected_version=payload.version,
        reason=payload.reason,
        note=payload.note,
        destination_code=payload.destination_code,
    )
    return _recommendation(user, recommendation_id)


@router.get(
    "/recommendation-conversion",
    response={200: list[ConversionOut], **READ_ERRORS, 403: ErrorOut},
    summary="Recommendation conversion per helper or per employer",
)
def recommendations_conversion(request: HttpRequest, filters: Query[ConversionFilters]) -> Any:
    """Over the recommendations of the students the caller sees: how many were recommended, acted on, offered,
    accepted, declined and effective, per helper (`by=helper`) or per employer (`by=employer`), most first."""
    user = caller(request)
    if not is_staff_member(user):
        raise PermissionDenied
    recommendations = queries.recommendations_for(user)
    if filters.since:
        recommendations = recommendations.filter(recommended_on__gte=filters.since)
    if filters.until:
        recommendations = recommendations.filter(recommended_on__lte=filters.until)
    rows = queries.conversion(recommendations, by=filters.by)
    model: Any = User if filters.by == "helper" else Employer
    public_ids = dict(model.objects.filter(pk__in=[r["id"] for r in rows]).values_list("pk", "public_id"))
    return [row | {"id": public_ids.get(row["id"]), "name": row["name"] or ""} for row in rows]


# --- Internships ------------------------------------------------------------------------------------------------


class InternshipOut(Schema):
    id: UUID
    student: StudentRef
    employer: EmployerRef
    position: PositionRef | None
    started_on: dt.date
    ended_on: dt.date | None
    evaluation: str
    evaluation_note: str
    became_job: bool = Field(description="The internship turned into a job.")
    recorded_by: PersonRef
    version: int

    @staticmethod
    def resolve_id(obj: Internship) -> UUID:
        return obj.public_id


class InternshipIn(InputSchema):
    employer: UUID
    position: UUID | None = Field(None, description="A position of that employer, if the internship was one.")
    started_on: dt.date = Field(description="Not before the student's enrolment.")
    ended_on: dt.date | None = None


class InternshipPatch(PatchSchema):
    nullable: ClassVar[frozenset[str]] = frozenset({"ended_on"})

    ended_on: dt.date | None = Field(None, description="Not in the future: an internship is evaluated after it ends.")
    evaluation: Evaluation | Literal[""] | None = None
    evaluation_note: str | None = Field(None, max_length=5000)
    became_job: bool | None = None


_INTERNSHIP_RELATED = ("employer", "position__employer", "recorded_by")


@router.get(
    "/students/{student_id}/internships",
    response={200: list[InternshipOut], **READ_ERRORS},
    summary="A student's internships",
)
def internships_list(request: HttpRequest, student_id: UUID) -> Any:
    """The latest first."""
    student = get_student_for_user(caller(request), student_id)
    internships = list(
        Internship.objects.filter(student=student).select_related(*_INTERNSHIP_RELATED).order_by("-started_on", "-pk")
    )
    for internship in internships:
        internship.student = student
    return internships


@router.post(
    "/students/{student_id}/internships",
    response={201: InternshipOut, **WRITE_ERRORS},
    summary="Record an internship",
)
def internships_create(request: HttpRequest, student_id: UUID, payload: InternshipIn) -> Any:
    user = caller(request)
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.RECORD_OUTCOME, student)
    employer = _employer_ref(user, payload.employer)
    position = None
    if payload.position is not None:
        position = _position_ref(user, payload.position)
        if position.employer_id != employer.pk:
            raise ValidationError({"position": _("The position is not one of this employer's.")})
    internship = services.record_internship(
        actor=user,
        student=student,
        employer=employer,
        position=position,
        started_on=payload.started_on,
        ended_on=payload.ended_on,
        today=timezone.localdate(),
    )
    return Status(201, of_visible_student(Internship, user, internship.public_id, *_INTERNSHIP_RELATED))


@router.get("/internships/{internship_id}", response={200: InternshipOut, **READ_ERRORS}, summary="Get an internship")
def internships_retrieve(request: HttpRequest, internship_id: UUID) -> Any:
    return of_visible_student(Internship, caller(request), internship_id, *_INTERNSHIP_RELATED)


@router.patch(
    "/internships/{internship_id}",
    response={200: InternshipOut, **EDIT_ERRORS},
    summary="Close an internship with its evaluation",
)
def internships_update(request: HttpRequest, internship_id: UUID, payload: InternshipPatch) -> Any:
    user = caller(request)
    internship = of_visible_student(Internship, user, internship_id, *_INTERNSHIP_RELATED)
    services.update_internship(
        actor=user,
        internship=internship,
        expected_version=payload.version,
        today=timezone.localdate(),
        **payload.changes(),
    )
    return of_visible_student(Internship, user, internship_id, *_INTERNSHIP_RELATED)


# --- Order classes ----------------------------------------------------------------------------------------------


class MembershipOut(Schema):
    id: UUID
    student: StudentRef
    position: PositionRef
    joined_on: dt.date
    left_on: dt.date | None
    left_reason: str
    recorded_by: PersonRef
    version: int

    @staticmethod
    def resolve_id(obj: OrderClassMembership) -> UUID:
        return obj.public_id


class OrderClassJoinIn(InputSchema):
    position: UUID = Field(description="An order class (a position of the kind order_class) of the student's school.")
    joined_on: dt.date


class OrderClassLeaveIn(InputSchema):
    left_on: dt.date
    reason: str = Field(..., max_length=300)
    version: int = Field(..., ge=1, le=MAX_VERSION)


_HELD_RELATED = ("position__employer", "recorded_by")


@router.get(
    "/students/{student_id}/order-classes",
    response={200: list[MembershipOut], **READ_ERRORS},
    summary="A student's order-class places",
)
def order_classes_list(request: HttpRequest, student_id: UUID) -> Any:
    student = get_student_for_user(caller(request), student_id)
    memberships = list(
        OrderClassMembership.objects.filter(student=student)
        .select_related(*_HELD_RELATED)
        .order_by("-joined_on", "-pk")
    )
    for membership in memberships:
        membership.student = student
    return memberships


@router.post(
    "/students/{student_id}/order-classes",
    response={201: MembershipOut, **WRITE_ERRORS},
    summary="Put a student in an order class",
)
def order_classes_join(request: HttpRequest, student_id: UUID, payload: OrderClassJoinIn) -> Any:
    user = caller(request)
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.RECORD_OUTCOME, student)
    membership = services.join_order_class(
        actor=user,
        student=student,
        position=_position_ref(user, payload.position),
        joined_on=payload.joined_on,
        today=timezone.localdate(),
    )
    return Status(201, of_visible_student(OrderClassMembership, user, membership.public_id, *_HELD_RELATED))


@router.post(
    "/order-classes/{membership_id}/leave",
    response={200: MembershipOut, **EDIT_ERRORS},
    summary="A student leaves an order class",
)
def order_classes_leave(request: HttpRequest, membership_id: UUID, payload: OrderClassLeaveIn) -> Any:
    user = caller(request)
    membership = of_visible_student(OrderClassMembership, user, membership_id, *_HELD_RELATED)
    services.leave_order_class(
        actor=user,
        membership=membership,
        left_on=payload.left_on,
        reason=payload.reason,
        expected_version=payload.version,
        today=timezone.localdate(),
    )
    return of_visible_student(OrderClassMembership, user, membership_id, *_HELD_RELATED)


# --- Work-study -------------------------------------------------------------------------------------------------


class WorkStudyOut(Schema):
    id: UUID
    student: StudentRef
    position: PositionRef
    started_on: dt.date
    ended_on: dt.date | None
    hours_total: float = Field(description="Hours logged on this post.")
    recorded_by: PersonRef
    version: int

    @staticmethod
    def resolve_id(obj: WorkStudyAssignment) -> UUID:
        return obj.public_id


class WorkStudyIn(InputSchema):
    position: UUID = Field(description="A work-study post (a position of the kind work_study) of the student's school.")
    started_on: dt.date


class WorkStudyEndIn(InputSchema):
    ended_on: dt.date
    version: int = Field(..., ge=1, le=MAX_VERSION)


class HoursIn(InputSchema):
    worked_on: dt.date = Field(description="Not in the future; within the post's period.")
    hours: Decimal = Field(..., gt=0, le=24, max_digits=3, decimal_places=1)
    note: str = Field("", max_length=200)


class HoursOut(Schema):
    assignment: UUID
    worked_on: dt.date
    hours: float
    note: str
    recorded_by: PersonRef
    week_total: float = Field(description="The student's hours that week (Monday to Sunday), all posts: at most 8.")
    month_total: float = Field(description="The student's hours that calendar month, all posts: at most 40.")


def _work_study() -> QuerySet[WorkStudyAssignment]:
    return WorkStudyAssignment.objects.annotate(hours_total=Coalesce(Sum("hours__hours"), Decimal(0)))


def _assignment(user: User, public_id: UUID) -> WorkStudyAssignment:
    assignment = (
        _work_study()
        .filter(public_id=public_id, student__in=Student.objects.visible_to(user).values("pk"))
        .select_related("student__school", "student__class_unit", *_HELD_RELATED)
        .first()
    )
    if assignment is None:
        raise Http404
    return assignment


@router.get(
    "/students/{student_id}/work-study",
    response={200: list[WorkStudyOut], **READ_ERRORS},
    summary="A student's work-study posts",
)
def work_study_list(request: HttpRequest, student_id: UUID) -> Any:
    student = get_student_for_user(caller(request), student_id)
    assignments = list(
        _work_study().filter(student=student).select_related(*_HELD_RELATED).order_by("-started_on", "-pk")
    )
    for assignment in assignments:
        assignment.student = student
    return assignments


@router.post(
    "/students/{student_id}/work-study",
    response={201: WorkStudyOut, **WRITE_ERRORS},
    summary="Start a student on a work-study post",
)
def work_study_start(request: HttpRequest, student_id: UUID, payload: WorkStudyIn) -> Any:
    user = caller(request)
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.RECORD_OUTCOME, student)
    assignment = services.start_work_study(
        actor=user,
        student=student,
        position=_position_ref(user, payload.position),
        started_on=payload.started_on,
        today=timezone.localdate(),
    )
    return Status(201, _assignment(user, assignment.public_id))


@router.post(
    "/work-study/{assignment_id}/end",
    response={200: WorkStudyOut, **EDIT_ERRORS},
    summary="End a work-study post",
)
def work_study_end(request: HttpRequest, assignment_id: UUID, payload: WorkStudyEndIn) -> Any:
    user = caller(request)
    assignment = _assignment(user, assignment_id)
    services.end_work_study(
        actor=user,
        assignment=assignment,
        ended_on=payload.ended_on,
        expected_version=payload.version,
        today=timezone.localdate(),
    )
    return _assignment(user, assignment_id)


@router.post(
    "/work-study/{assignment_id}/hours",
    response={201: HoursOut, **WRITE_ERRORS},
    summary="Log hours worked on a work-study post",
)
def work_study_log_hours(request: HttpRequest, assignment_id: UUID, payload: HoursIn) -> Any:
    """Refused (422) beyond 8 hours in a week or 40 in a month, counting every post of the student."""
    user = caller(request)
    assignment = _assignment(user, assignment_id)
    row = services.log_work_study_hours(
        actor=user,
        assignment=assignment,
        worked_on=payload.worked_on,
        hours=payload.hours,
        note=payload.note,
        today=timezone.localdate(),
    )
    day = row.worked_on
    week_start = day - dt.timedelta(days=day.weekday())
    totals = WorkStudyHours.objects.filter(student_id=row.student_id).aggregate(
        week=Sum("hours", filter=Q(worked_on__range=(week_start, week_start + dt.timedelta(days=6)))),
        month=Sum("hours", filter=Q(worked_on__year=day.year, worked_on__month=day.month)),
    )
    return Status(
        201,
        {
            "assignment": assignment.public_id,
            "worked_on": day,
            "hours": row.hours,
            "note": row.note,
            "recorded_by": user,
            "week_total": totals["week"] or 0,
            "month_total": totals["month"] or 0,
        },
    )
