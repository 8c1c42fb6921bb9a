"""Graduate destinations (毕业去向) with their history, evidence and verification; follow-ups after leaving; the
placement figures of a cohort.

A destination is never edited into another: recording one replaces the one in force, which stays in the list as
history. The figures cover the students of the caller's unit-level view (a helper's own students are not a
unit, so a helper without a unit-wide role is refused).
"""

import datetime as dt
import os
from typing import Annotated, Any, Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.params.functions import File, Form

from bangfu.api.auth import caller
from bangfu.api.errors import EDIT_ERRORS, READ_ERRORS, WRITE_ERRORS, ErrorOut
from bangfu.api.opportunities import of_visible_student
from bangfu.api.opportunity_schemas import EmployerRef
from bangfu.api.schemas import InputSchema, PersonRef, StudentRef, file_download
from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.concurrency import StaleEdit
from bangfu.opportunities.models import EmployerType, Industry
from bangfu.opportunities.queries import employers_for
from bangfu.organisation.models import OrgUnit, User
from bangfu.organisation.permissions import Perm, has_student_perm, require_student_perm, unit_q, units_with
from bangfu.outcomes import queries
from bangfu.outcomes.models import Destination, DestinationCode, EvidenceKind, FollowUp, FollowUpStatus
from bangfu.outcomes.services import (
    attach_evidence,
    current_destination,
    record_destination,
    record_follow_up,
    verify_destination,
)
from bangfu.students.models import Category, Student
from bangfu.students.queries import get_student_for_user

router = Router(tags=["outcomes"])

MAX_VERSION = 2_000_000_000
_DESTINATION_RELATED = ("code", "employer", "recorded_by", "verified_by")


# --- Destinations -----------------------------------------------------------------------------------------------


class DestinationCodeOut(Schema):
    code: str
    label: str = Field(description="The name in Chinese, as the national list has it.")
    label_en: str
    group: str = Field(description="employed, further_study or not_placed.")
    flexible: bool
    not_seeking: bool

    @staticmethod
    def resolve_label(obj: DestinationCode) -> str:
        return obj.label


class DestinationOut(Schema):
    id: UUID
    student: StudentRef
    code: DestinationCodeOut
    employer: EmployerRef | None = Field(description="The employer's record, when the destination names one.")
    employer_name: str = Field(description="The employer or, for further study, the school, as written then.")
    employer_type: str
    industry: str
    position_title: str
    work_province: str
    work_city: str
    started_on: dt.date | None
    salary: int | None = Field(description="Starting salary, yuan a month.")
    matches_major: bool | None
    employer_is_partner: bool
    note: str
    recorded_on: dt.date
    recorded_by: PersonRef
    is_current: bool = Field(description="In force now; the others are history.")
    superseded_on: dt.date | None = Field(description="The day a later destination replaced this one.")
    placed_since: dt.date | None = Field(description="Struck off the unplaced list (销号) on this day.")
    has_evidence: bool
    evidence_name: str | None = Field(description="Download it from `/destinations/{id}/evidence`.")
    evidence_kind: str
    is_verified: bool = Field(description="Evidence attached and checked by a department or office user.")
    verified_on: dt.date | None
    verified_by: PersonRef | None
    confirmation: str = Field(description="pending, confirmed or disputed by the graduate.")
    confirmation_note: str
    confirmed_on: dt.date | None
    version: int = Field(description="Send it back to attach evidence or verify; a stale one answers 409.")

    @staticmethod
    def resolve_id(obj: Destination) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_has_evidence(obj: Destination) -> bool:
        return bool(obj.evidence)

    @staticmethod
    def resolve_evidence_name(obj: Destination) -> str | None:
        return os.path.basename(obj.evidence.name or "") if obj.evidence else None


class DestinationIn(InputSchema):
    code: str = Field(..., max_length=8, description="A code of the list the school uses, e.g. 10, 11, 80, 70.")
    employer: UUID | None = Field(None, description="An employer of the student's school; fills the fields not sent.")
    employer_name: str = Field("", max_length=200, description="Required when employed or in further study.")
    employer_type: EmployerType | Literal[""] = ""
    industry: Industry | Literal[""] = ""
    position_title: str = Field("", max_length=200)
    work_province: str = Field("", max_length=32)
    work_city: str = Field("", max_length=32)
    started_on: dt.date | None = Field(None, description="Not before the student's enrolment.")
    salary: int | None = Field(None, ge=0, le=MAX_VERSION, description="Starting salary, yuan a month.")
    matches_major: bool | None = None
    employer_is_partner: bool = False
    note: str = Field("", max_length=5000)
    replaces: UUID | None = Field(
        None,
        description="The id of the destination in force as the caller read it (null: none). When sent and another "
        "has been recorded since, 409.",
    )


class DestinationEvidenceIn(InputSchema):
    evidence_kind: EvidenceKind = Field(description="What the document is; it must be one that proves this code.")
    version: int = Field(..., ge=1, le=MAX_VERSION)


class VerifyIn(InputSchema):
    version: int = Field(..., ge=1, le=MAX_VERSION)


def _destinations(student: Student) -> list[Destination]:
    destinations = list(
        Destination.objects.filter(student=student)
        .select_related(*_DESTINATION_RELATED)
        .order_by("-recorded_on", "-pk")
    )
    for destination in destinations:
        destination.student = student
    return destinations


def _destination(user: User, public_id: UUID) -> Destination:
    return of_visible_student(Destination, user, public_id, *_DESTINATION_RELATED)  # type: ignore[no-any-return]


@router.get(
    "/students/{student_id}/destinations",
    response={200: list[DestinationOut], **READ_ERRORS},
    summary="A graduate's destinations, with their history",
)
def destinations_list(request: HttpRequest, student_id: UUID) -> Any:
    """The destination in force first, then those it replaced, the latest first."""
    return _destinations(get_student_for_user(caller(request), student_id))


@router.post(
    "/students/{student_id}/destinations",
    response={201: DestinationOut, **EDIT_ERRORS},
    summary="Record a graduate's destination",
)
def destinations_create(request: HttpRequest, student_id: UUID, payload: DestinationIn) -> Any:
    """Record the destination as of today; the one in force until now is kept as history. A placed destination
    strikes the student off the unplaced list; "not placed" puts them back."""
    user = caller(request)
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.RECORD_OUTCOME, student)
    employer = None
    if payload.employer is not None:
        employer = employers_for(user).filter(public_id=payload.employer).first()
        if employer is None:
            raise ValidationError({"employer": _("There is no employer with this id.")})
    fields = payload.dict(exclude_unset=True, exclude={"code", "employer", "replaces"})
    with transaction.atomic():
        if "replaces" in payload.model_fields_set:
            # The caller changes the destination they read: if someone recorded another since, they look again.
            Student.objects.select_for_update().filter(pk=student.pk).first()
            current = current_destination(student)
            if (current.public_id if current else None) != payload.replaces:
                raise StaleEdit()
        destination = record_destination(
            actor=user, student=student, code=payload.code, today=timezone.localdate(), employer=employer, **fields
        )
    return Status(201, _destination(user, destination.public_id))


@router.get(
    "/destinations/{destination_id}", response={200: DestinationOut, **READ_ERRORS}, summary="Get a destination"
)
def destinations_retrieve(request: HttpRequest, destination_id: UUID) -> Any:
    return _destination(caller(request), destination_id)


@router.post(
    "/destinations/{destination_id}/evidence",
    response={200: DestinationOut, **EDIT_ERRORS},
    summary="Attach the evidence of a destination",
)
def destinations_attach_evidence(
    request: HttpRequest,
    destination_id: UUID,
    payload: Annotated[DestinationEvidenceIn, Form(...)],
    evidence: Annotated[UploadedFile, File(..., description="The document: a PDF, JPEG or PNG file.")],
) -> Any:
    """A multipart form: the file as `evidence`, with `evidence_kind` and `version`. An internship certificate
    cannot prove a job (422). A new document needs a new verification."""
    user = caller(request)
    destination = _destination(user, destination_id)
    attach_evidence(
        actor=user,
        destination=destination,
        evidence=evidence,
        kind=payload.evidence_kind,
        expected_version=payload.version,
    )
    return _destination(user, destination_id)


@router.get(
    "/destinations/{destination_id}/evidence",
    response={200: None, **READ_ERRORS, 403: ErrorOut},
    summary="Download the evidence of a destination",
    openapi_extra=file_download("The file: a PDF, JPEG or PNG."),
)
def destinations_evidence(request: HttpRequest, destination_id: UUID) -> Any:
    """For staff who see the student; every download is written to the access log."""
    user = caller(request)
    destination = _destination(user, destination_id)
    if not destination.evidence:
        raise Http404
    if not has_student_perm(user, Perm.VIEW_SENSITIVE, destination.student):
        raise PermissionDenied
    log_access(
        actor=user,
        action=AccessAction.DOWNLOAD_EVIDENCE,
        student=destination.student,
        fields="evidence",
        detail=f"API destination {destination.public_id}",
        ip_address=request.META.get("REMOTE_ADDR"),
    )
    name = os.path.basename(destination.evidence.name or "")
    return FileResponse(destination.evidence.open("rb"), as_attachment=True, filename=name)


@router.post(
    "/destinations/{destination_id}/verify",
    response={200: DestinationOut, **EDIT_ERRORS},
    summary="Verify a destination against its evidence",
)
def destinations_verify(request: HttpRequest, destination_id: UUID, payload: VerifyIn) -> Any:
    """By a department leader or the employment office, once evidence that proves the code is attached."""
    user = caller(request)
    destination = _destination(user, destination_id)
    verify_destination(
        actor=user, destination=destination, today=timezone.localdate(), expected_version=payload.version
    )
    return _destination(user, destination_id)


# --- Follow-ups after leaving -----------------------------------------------------------------------------------


class FollowUpOut(Schema):
    id: UUID
    student: StudentRef
    destination: UUID | None = Field(description="The destination in force when the follow-up was recorded.")
    done_on: dt.date
    months_after_leaving: int
    status: str = Field(description="still_employed, changed_job, unemployed or further_study.")
    notes: str
    activity: UUID | None = Field(description="The follow-up activity of the work ledger.")
    recorded_by: PersonRef
    created_at: dt.datetime

    @staticmethod
    def resolve_id(obj: FollowUp) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_destination(obj: FollowUp) -> UUID | None:
        return obj.destination.public_id if obj.destination is not None else None

    @staticmethod
    def resolve_activity(obj: FollowUp) -> UUID | None:
        return obj.activity.public_id if obj.activity is not None else None


class FollowUpIn(InputSchema):
    done_on: dt.date = Field(description="After graduation, not in the future.")
    status: FollowUpStatus
    notes: str = Field("", max_length=5000)


def _follow_ups(student: Student) -> QuerySet[FollowUp]:
    return (
        FollowUp.objects.filter(student=student)
        .select_related("destination", "activity", "recorded_by")
        .order_by("-done_on", "-pk")
    )


@router.get(
    "/students/{student_id}/follow-ups",
    response={200: list[FollowUpOut], **READ_ERRORS},
    summary="A graduate's follow-ups after leaving",
)
def follow_ups_list(request: HttpRequest, student_id: UUID) -> Any:
    """The latest first."""
    student = get_student_for_user(caller(request), student_id)
    follow_ups = list(_follow_ups(student))
    for follow_up in follow_ups:
        follow_up.student = student
    return follow_ups


@router.post(
    "/students/{student_id}/follow-ups",
    response={201: FollowUpOut, **WRITE_ERRORS},
    summary="Record a follow-up after leaving",
)
def follow_ups_create(request: HttpRequest, student_id: UUID, payload: FollowUpIn) -> Any:
    """Also an activity of the work ledger. An unemployed graduate goes back on the unplaced list (code 70); one
    unemployed more than six months after leaving is flagged long-unemployed."""
    user = caller(request)
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.LOG_ACTIVITY, student)
    follow_up = record_follow_up(
        actor=user,
        student=student,
        done_on=payload.done_on,
        status=payload.status,
        notes=payload.notes,
        today=timezone.localdate(),
    )
    return Status(201, _follow_ups(student).get(pk=follow_up.pk))


# --- Placement figures ------------------------------------------------------------------------------------------


class PlacementFilters(InputSchema):
    year: int = Field(..., ge=1950, le=2100, description="The graduation year: the cohort (届) of that year.")
    as_of: dt.date | None = Field(
        None,
        description="The figures as recorded on this day (default today); 31 August and 31 December are the "
        "reporting snapshots.",
    )
    by: Literal["department", "major", "category", "ledger"] | None = Field(
        None, description="Rows per department, major, ledger category, or ledger students vs the others."
    )


class FiguresOut(Schema):
    key: str | None = Field(
        description='The department\'s or major\'s id, the category\'s code, "ledger" or "others"; null for the total.'
    )
    label: str
    graduates: int
    known: int = Field(description="Graduates with a destination recorded by then.")
    unknown: int
    employed: int
    flexible: int = Field(description="Of the employed: flexible employment.")
    further_study: int
    placed: int = Field(description="Employed or in further study.")
    seeking: int = Field(description="Known, not placed, seeking work.")
    not_seeking: int
    verified: int = Field(description="Placed, with the destination verified by evidence by then.")
    placement_rate: float | None = Field(description="毕业去向落实率: placed ÷ graduates, in per cent.")
    knowledge_rate: float | None = Field(description="Known ÷ graduates (NACE: publish at 65 % or more).")
    verified_share: float | None = Field(description="Verified ÷ placed.")
    career_outcomes_rate: float | None = Field(description="NACE: placed ÷ known, leaving out those not seeking.")
    employed_share: float | None
    further_study_share: float | None
    not_placed_share: float | None


class PlacementOut(Schema):
    year: int
    as_of: dt.date
    by: str | None
    snapshots: list[dt.date] = Field(description="The year's reporting dates: 31 August and 31 December.")
    total: FiguresOut
    rows: list[FiguresOut] = Field(description="One per group when `by` is given; empty otherwise.")


def _labelled(figures: queries.Figures, key: str | None, label: str) -> dict[str, Any]:
    return {"key": key, "label": label, **figures.as_dict()}


def _rows(figures: list[queries.Figures], by: str) -> list[dict[str, Any]]:
    if by in ("department", "major"):
        units = OrgUnit.objects.in_bulk([f.key for f in figures])
        language = get_language() or "zh-hans"
        return [
            _labelled(f, str(units[f.key].public_id), units[f.key].display_name(language))
            for f in figures
            if f.key in units
        ]
    if by == "category":
        return [_labelled(f, f.key, str(Category(f.key).label)) for f in figures if f.key in Category.values]
    labels = {True: ("ledger", _("Ledger students")), False: ("others", _("Other students"))}
    return [_labelled(f, *labels[bool(f.key)]) for f in sorted(figures, key=lambda f: not f.key)]


@router.get(
    "/placement",
    response={200: PlacementOut, **READ_ERRORS, 403: ErrorOut},
    summary="Placement figures of a cohort",
)
def placement_figures(request: HttpRequest, filters: Query[PlacementFilters]) -> Any:
    """The placement rate (毕业去向落实率) of the year's graduates in the caller's units, as recorded on `as_of`,
    with each group's share, how much is known and verified, and the NACE career-outcomes rate beside it."""
    user = caller(request)
    units = units_with(user, Perm.VIEW_STUDENT)
    if not user.is_superuser and not units:
        raise PermissionDenied
    students = Student.objects.all() if user.is_superuser else Student.objects.filter(unit_q(units))
    cohort = queries.graduates_of(students, filters.year)
    as_of = filters.as_of or timezone.localdate()
    total = queries.placement_figures(students=cohort, as_of=as_of)[0]
    rows = (
        _rows(queries.placement_figures(students=cohort, as_of=as_of, by=filters.by), filters.by) if filters.by else []
    )
    return {
        "year": filters.year,
        "as_of": as_of,
        "by": filters.by,
        "snapshots": list(queries.snapshot_dates(filters.year)),
        "total": _labelled(total, None, _("All graduates")),
        "rows": rows,
    }
