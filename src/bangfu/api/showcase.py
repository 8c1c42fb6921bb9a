"""Exemplary cases: case types (the office's), cases through nomination, approval and publication, and the
students' consents to publication. The same services and scoping as the pages:

- case types are seen by the staff of their school and changed by the employment office;
- a case is seen by staff who see its student (404 otherwise; a student user gets 403: their own page is
  `/cases/me/`), and each step is refused (403) to those whose role may not take it;
- a student's consents are seen by whoever sees the student, the student included, who may also withdraw.
"""

import datetime as dt
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from bangfu.api.auth import caller
from bangfu.api.errors import EDIT_ERRORS, READ_ERRORS, WRITE_ERRORS, ErrorOut
from bangfu.api.schemas import InputSchema, Pages, PatchSchema, PersonRef, SchoolIn, StudentRef, UnitRef
from bangfu.organisation.models import OrgUnit, User
from bangfu.organisation.permissions import Perm, is_staff_member, require_student_perm, staff_schools
from bangfu.showcase import queries, services
from bangfu.showcase.models import CONSENT_FIELDS, Case, CaseStatus, CaseStep, CaseType, Consent, NameShown
from bangfu.students.models import Student
from bangfu.students.queries import get_student_for_user

router = Router(tags=["cases"])


def _version() -> Any:
    return Field(..., ge=1, le=2_000_000_000, description="The version as read; a stale one answers 409.")


# --- Schemas ---------------------------------------------------------------------------------------------------


class CaseTypeRef(Schema):
    id: UUID
    code: str
    name: str
    name_en: str

    @staticmethod
    def resolve_id(obj: CaseType) -> UUID:
        return obj.public_id


class CaseTypeOut(CaseTypeRef):
    school: UnitRef
    description: str
    is_active: bool
    version: int


class CaseTypeIn(InputSchema):
    school: UUID
    code: str = Field(..., max_length=32)
    name: str = Field(..., max_length=100, description="In Chinese.")
    name_en: str = Field("", max_length=150)
    description: str = Field("", max_length=5000)
    is_active: bool = True


class CaseTypePatch(PatchSchema):
    code: str | None = Field(None, max_length=32)
    name: str | None = Field(None, max_length=100)
    name_en: str | None = Field(None, max_length=150)
    description: str | None = Field(None, max_length=5000)
    is_active: bool | None = None


class CaseStepOut(Schema):
    from_status: str
    to_status: str
    by: PersonRef
    on: dt.date
    comment: str


class CaseOut(Schema):
    id: UUID
    student: StudentRef
    case_type: CaseTypeRef
    title: str
    status: str
    nominated_by: PersonRef
    nominated_on: dt.date
    approved_on: dt.date | None
    published_on: dt.date | None
    version: int = Field(description="Send it back with an edit or a step; a stale one answers 409.")

    @staticmethod
    def resolve_id(obj: Case) -> UUID:
        return obj.public_id


class CaseDetailOut(CaseOut):
    title_en: str
    story: str
    story_en: str
    family_story: str = Field(description="Published only if the student consents to showing the family situation.")
    family_story_en: str
    employer: str
    position: str
    has_photo: bool
    approved_by: PersonRef | None
    consent: UUID | None = Field(description="The consent the case is published under.")
    steps: list[CaseStepOut] = Field(description="Who moved the case, when, with what comment; oldest first.")

    @staticmethod
    def resolve_has_photo(obj: Case) -> bool:
        return bool(obj.photo)

    @staticmethod
    def resolve_consent(obj: Case) -> UUID | None:
        return obj.consent.public_id if obj.consent else None

    @staticmethod
    def resolve_steps(obj: Case) -> Any:
        return obj.steps.all()


class CaseFilters(InputSchema):
    status: CaseStatus | None = None
    case_type: UUID | None = None
    student: UUID | None = None


class CaseIn(InputSchema):
    case_type: UUID
    title: str = Field(..., max_length=120, description="In Chinese.")
    title_en: str = Field("", max_length=200)
    story: str = Field(..., max_length=20000, description="In Chinese.")
    story_en: str = Field("", max_length=20000)
    family_story: str = Field("", max_length=5000)
    family_story_en: str = Field("", max_length=5000)
    employer: str = Field("", max_length=200)
    position: str = Field("", max_length=120)
    comment: str = Field("", max_length=2000, description="Why this student, for the office.")

    def texts(self) -> dict[str, Any]:
        return self.dict(exclude={"case_type", "comment"})


class CasePatch(PatchSchema):
    case_type: UUID | None = None
    title: str | None = Field(None, max_length=120)
    title_en: str | None = Field(None, max_length=200)
    story: str | None = Field(None, max_length=20000)
    story_en: str | None = Field(None, max_length=20000)
    family_story: str | None = Field(None, max_length=5000)
    family_story_en: str | None = Field(None, max_length=5000)
    employer: str | None = Field(None, max_length=200)
    position: str | None = Field(None, max_length=120)


class CaseStepIn(InputSchema):
    version: int = _version()
    comment: str = Field("", max_length=2000, description="Required to reject or unpublish.")


class ConsentOut(Schema):
    id: UUID
    student: StudentRef
    purpose: str
    name_shown: str = Field(description="full, surname (e.g. “Student Wang”) or anonymous.")
    show_photo: bool
    show_department: bool = Field(description="The department and the major.")
    show_graduation_year: bool
    show_employer: bool = Field(description="The employer and the position.")
    show_story: bool
    show_family: bool
    given_on: dt.date
    recorded_by: PersonRef
    has_evidence: bool = Field(description="A signed consent form is on file.")
    note: str
    is_active: bool
    withdrawn_on: dt.date | None
    withdrawn_by: PersonRef | None
    withdrawal_note: str
    replaced_on: dt.date | None = Field(description="When a newer consent replaced this one.")
    version: int

    @staticmethod
    def resolve_id(obj: Consent) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_has_evidence(obj: Consent) -> bool:
        return bool(obj.evidence)


class ConsentIn(InputSchema):
    name_shown: NameShown
    show_photo: bool = False
    show_department: bool = False
    show_graduation_year: bool = False
    show_employer: bool = False
    show_story: bool = False
    show_family: bool = False
    given_on: dt.date
    note: str = Field("", max_length=300)

    def flags(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CONSENT_FIELDS}


class WithdrawIn(InputSchema):
    version: int = _version()
    note: str = Field("", max_length=300)


class CaseRef(Schema):
    id: UUID
    title: str
    status: str

    @staticmethod
    def resolve_id(obj: Case) -> UUID:
        return obj.public_id


class WithdrawalOut(Schema):
    consent: ConsentOut
    unpublished: list[CaseRef] = Field(description="The cases taken off the public page by the withdrawal.")


# --- Scoping ---------------------------------------------------------------------------------------------------


def _school(user: User, public_id: UUID) -> OrgUnit:
    school = next((s for s in staff_schools(user) if s.public_id == public_id), None)
    if school is None:
        raise ValidationError({"school": _("There is no school with this id.")})
    return school


def _types(user: User) -> QuerySet[CaseType]:
    return queries.types_of(staff_schools(user))


def _type(user: User, public_id: UUID) -> CaseType:
    case_type = _types(user).filter(public_id=public_id).first()
    if case_type is None:
        raise Http404
    return case_type


def _staff(user: User) -> None:
    if not is_staff_member(user):
        raise PermissionDenied


def _cases(user: User) -> QuerySet[Case]:
    _staff(user)
    return queries.cases_for(user)


def _case(user: User, public_id: UUID, *, detail: bool = False) -> Case:
    cases = _cases(user)
    if detail:
        cases = cases.select_related("approved_by", "consent").prefetch_related(
            Prefetch("steps", queryset=CaseStep.objects.select_related("by").order_by("at", "id"))
        )
    case = cases.filter(public_id=public_id).first()
    if case is None:
        raise Http404
    return case


def _student_type(user: User, public_id: UUID, school_id: int) -> CaseType:
    """A case type of the student's school, named in a request body; any other is a refused input."""
    case_type = _types(user).filter(public_id=public_id, school_id=school_id).first()
    if case_type is None:
        raise ValidationError({"case_type": _("There is no case type with this id.")})
    return case_type


def _consents(user: User) -> QuerySet[Consent]:
    return Consent.objects.filter(student__in=Student.objects.visible_to(user).values("pk")).select_related(
        "student", "recorded_by", "withdrawn_by"
    )


# --- Case types ------------------------------------------------------------------------------------------------


@router.get("/case-types", response={200: list[CaseTypeOut], **READ_ERRORS}, summary="List case types")
def case_types_list(request: HttpRequest) -> Any:
    """The case types of the schools the caller works in, in use and not."""
    return _types(caller(request)).order_by("school__path", "code")


@router.post(
    "/case-types/install-defaults",
    response={201: list[CaseTypeOut], **WRITE_ERRORS},
    summary="Add the default case types",
)
def case_types_install_defaults(request: HttpRequest, payload: SchoolIn) -> Any:
    """Add the six typical cases the school does not have yet, by code; answers the types added."""
    user = caller(request)
    installed = services.install_default_types(actor=user, school=_school(user, payload.school))
    return Status(201, _types(user).filter(pk__in=[t.pk for t in installed]).order_by("code"))


@router.post("/case-types", response={201: CaseTypeOut, **WRITE_ERRORS}, summary="Create a case type")
def case_types_create(request: HttpRequest, payload: CaseTypeIn) -> Any:
    user = caller(request)
    fields = payload.dict(exclude={"school"})
    case_type = services.save_case_type(actor=user, school=_school(user, payload.school), **fields)
    return Status(201, _type(user, case_type.public_id))


@router.patch("/case-types/{type_id}", response={200: CaseTypeOut, **EDIT_ERRORS}, summary="Update a case type")
def case_types_update(request: HttpRequest, type_id: UUID, payload: CaseTypePatch) -> Any:
    user = caller(request)
    case_type = _type(user, type_id)
    services.save_case_type(
        actor=user,
        school=case_type.school,
        case_type=case_type,
        expected_version=payload.version,
        **payload.changes(),
    )
    return _type(user, type_id)


# --- Cases -----------------------------------------------------------------------------------------------------


@router.get("/cases", response={200: list[CaseOut], **READ_ERRORS, 403: ErrorOut}, summary="List cases")
@paginate(Pages)
def cases_list(request: HttpRequest, filters: Query[CaseFilters]) -> Any:  # type: ignore[type-arg]
    """The cases of the students the caller may see (staff only), newest first."""
    cases = _cases(caller(request))
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.case_type:
        cases = cases.filter(case_type__public_id=filters.case_type)
    if filters.student:
        cases = cases.filter(student__public_id=filters.student)
    return cases.order_by("-created_at", "-pk")


@router.post("/students/{student_id}/cases", response={201: CaseDetailOut, **WRITE_ERRORS}, summary="Nominate a case")
def cases_create(request: HttpRequest, student_id: UUID, payload: CaseIn) -> Any:
    """Nominate the student's story (a helper or leader); the employment office approves and publishes it."""
    user = caller(request)
    _staff(user)
    student = get_student_for_user(user, student_id)
    require_student_perm(user, Perm.MANAGE_PLAN, student)
    case = services.nominate_case(
        actor=user,
        student=student,
        case_type=_student_type(user, payload.case_type, student.school_id),
        today=timezone.localdate(),
        comment=payload.comment,
        **payload.texts(),
    )
    return Status(201, _case(user, case.public_id, detail=True))


@router.get("/cases/{case_id}", response={200: CaseDetailOut, **READ_ERRORS, 403: ErrorOut}, summary="Get a case")
def cases_retrieve(request: HttpRequest, case_id: UUID) -> Any:
    return _case(caller(request), case_id, detail=True)


@router.patch("/cases/{case_id}", response={200: CaseDetailOut, **EDIT_ERRORS}, summary="Edit a case")
def cases_update(request: HttpRequest, case_id: UUID, payload: CasePatch) -> Any:
    """Change the fields sent of a case not yet published; a change after approval sends it back for approval."""
    user = caller(request)
    case = _case(user, case_id)
    changes = payload.changes()
    type_id = changes.pop("case_type", None)
    case_type = _student_type(user, type_id, case.student.school_id) if type_id else None
    services.update_case(
        actor=user,
        case=case,
        today=timezone.localdate(),
        expected_version=payload.version,
        case_type=case_type,
        **{name: changes.get(name, getattr(case, name)) for name in services.CASE_TEXT_FIELDS},
    )
    return _case(user, case_id, detail=True)


def _step(request: HttpRequest, case_id: UUID, payload: CaseStepIn, service: Any) -> Any:
    user = caller(request)
    service(
        actor=user,
        case=_case(user, case_id),
        today=timezone.localdate(),
        comment=payload.comment,
        expected_version=payload.version,
    )
    return _case(user, case_id, detail=True)


@router.post("/cases/{case_id}/approve", response={200: CaseDetailOut, **EDIT_ERRORS}, summary="Approve a case")
def cases_approve(request: HttpRequest, case_id: UUID, payload: CaseStepIn) -> Any:
    """The employment office approves a nominated case; not the person who nominated it (code `own`)."""
    return _step(request, case_id, payload, services.approve_case)


@router.post("/cases/{case_id}/reject", response={200: CaseDetailOut, **EDIT_ERRORS}, summary="Reject a case")
def cases_reject(request: HttpRequest, case_id: UUID, payload: CaseStepIn) -> Any:
    return _step(request, case_id, payload, services.reject_case)


@router.post("/cases/{case_id}/publish", response={200: CaseDetailOut, **EDIT_ERRORS}, summary="Publish a case")
def cases_publish(request: HttpRequest, case_id: UUID, payload: CaseStepIn) -> Any:
    """Put an approved case on the public page under the student's consent in force (code `no_consent` without
    one; `withheld_text` when the texts print what the consent or the rules withhold)."""
    return _step(request, case_id, payload, services.publish_case)


@router.post("/cases/{case_id}/unpublish", response={200: CaseDetailOut, **EDIT_ERRORS}, summary="Unpublish a case")
def cases_unpublish(request: HttpRequest, case_id: UUID, payload: CaseStepIn) -> Any:
    return _step(request, case_id, payload, services.unpublish_case)


# --- Consents --------------------------------------------------------------------------------------------------


@router.get(
    "/students/{student_id}/consents",
    response={200: list[ConsentOut], **READ_ERRORS},
    summary="List a student's consents to publication",
)
def consents_list(request: HttpRequest, student_id: UUID) -> Any:
    """Every consent of the student, newest first; at most one is in force (`is_active`)."""
    user = caller(request)
    student = get_student_for_user(user, student_id)
    return _consents(user).filter(student=student).order_by("-given_on", "-created_at", "-pk")


@router.post(
    "/students/{student_id}/consents",
    response={201: ConsentOut, **WRITE_ERRORS},
    summary="Record a student's consent to publication",
)
def consents_create(request: HttpRequest, student_id: UUID, payload: ConsentIn) -> Any:
    """Record what the student agreed to show. A consent in force is replaced; the student's published cases
    then show what the new one allows (a case whose texts it no longer allows is unpublished)."""
    user = caller(request)
    student = get_student_for_user(user, student_id)
    consent = services.record_consent(
        actor=user,
        student=student,
        given_on=payload.given_on,
        name_shown=str(payload.name_shown),
        today=timezone.localdate(),
        note=payload.note,
        **payload.flags(),
    )
    return Status(201, _consents(user).get(pk=consent.pk))


@router.post(
    "/consents/{consent_id}/withdraw",
    response={200: WithdrawalOut, **EDIT_ERRORS},
    summary="Withdraw a consent to publication",
)
def consents_withdraw(request: HttpRequest, consent_id: UUID, payload: WithdrawIn) -> Any:
    """The student, or staff on the student's behalf: every published case of the student is unpublished at once."""
    user = caller(request)
    consent = _consents(user).filter(public_id=consent_id).first()
    if consent is None:
        raise Http404
    unpublished = services.withdraw_consent(
        actor=user, consent=consent, today=timezone.localdate(), note=payload.note, expected_version=payload.version
    )
    return {"consent": _consents(user).get(pk=consent.pk), "unpublished": unpublished}
