"""Students: list with the list page's filters, retrieve, create, update (with a version)."""

from datetime import date
from typing import Any, ClassVar, Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from bangfu.api.auth import caller
from bangfu.api.errors import EDIT_ERRORS, READ_ERRORS, WRITE_ERRORS
from bangfu.api.schemas import InputSchema, Pages, PatchSchema, Person, PersonRef, UnitRef
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import Perm, grants_of, require_student_perm, units_with
from bangfu.organisation.services import school_of
from bangfu.students import queries
from bangfu.students.models import Category, Gender, Level, Student, StudentStatus
from bangfu.students.services import create_student, update_student

router = Router(tags=["students"])

Sort = Literal["number", "-number", "name", "-name", "class", "-class", "cohort", "-cohort"]


class StudentOut(Schema):
    id: UUID
    student_number: str
    name: str
    gender: str
    ethnicity: str
    id_number_masked: str = Field(
        description="Region code and last four characters only; the full number is never sent."
    )
    birth_date: date | None
    home_province: str
    home_city: str
    home_county: str
    address: str
    phone: str
    level: str
    program_years: int
    cohort: int
    enrolled_on: date
    expected_graduation: date
    status: str
    school: UnitRef
    department: UnitRef
    major: UnitRef
    class_unit: UnitRef
    in_ledger: bool
    categories: list[str] = Field(description="Categories of the open ledger entry.")
    helper: PersonRef | None = Field(description="The active primary helper.")
    version: int = Field(description="Send it back with an update; a stale version is refused with 409.")

    @staticmethod
    def resolve_id(obj: Student) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_categories(obj: Student) -> list[str]:
        entries = obj.open_entries  # type: ignore[attr-defined]
        return [c.category for c in entries[0].categories.all()] if entries else []

    @staticmethod
    def resolve_helper(obj: Student) -> Person | None:
        if obj.helper_public_id is None:  # type: ignore[attr-defined]
            return None
        return Person(obj.helper_public_id, obj.helper_name)  # type: ignore[attr-defined]


class StudentFilters(InputSchema):
    q: str | None = Field(None, max_length=100, description="Part of the name, or the start of the student number.")
    school: UUID | None = Field(None, description="The id of a school (a province's office sees several).")
    department: UUID | None = None
    major: UUID | None = None
    class_unit: UUID | None = None
    cohort: int | None = Field(None, ge=1900, le=2100)
    category: Category | None = None
    helper: UUID | None = Field(None, description="The id of the active primary helper.")
    in_ledger: bool | None = None
    unassigned: bool = Field(False, description="Only ledger students without a helper.")
    sort: Sort = "number"


class StudentIn(InputSchema):
    class_unit: UUID
    student_number: str = Field(..., max_length=32)
    name: str = Field(..., max_length=64)
    gender: Gender
    cohort: int = Field(..., ge=1950, le=2100, description="Year of enrolment.")
    id_number: str = Field("", max_length=32, description="Stored encrypted; answers show it masked only.")
    level: Level = Level.VOCATIONAL
    program_years: int | None = Field(None, ge=1, le=8, description="Default: 4 for a bachelor, otherwise 3.")
    enrolled_on: date | None = Field(None, description="Default: 1 September of the cohort year.")
    expected_graduation: date | None = Field(None, description="Default: 30 June after the programme's years.")
    ethnicity: str = Field("汉族", max_length=32)
    birth_date: date | None = Field(None, description="Default: read from the ID number.")
    home_province: str = Field("", max_length=32)
    home_city: str = Field("", max_length=32)
    home_county: str = Field("", max_length=32)
    address: str = Field("", max_length=200)
    phone: str = Field("", max_length=32)
    status: StudentStatus = StudentStatus.ENROLLED


class StudentPatch(PatchSchema):
    nullable: ClassVar[frozenset[str]] = frozenset({"birth_date"})

    class_unit: UUID | None = None
    student_number: str | None = Field(None, max_length=32)
    name: str | None = Field(None, max_length=64)
    gender: Gender | None = None
    cohort: int | None = Field(None, ge=1950, le=2100)
    id_number: str | None = Field(None, max_length=32, description='"" removes the ID number.')
    level: Level | None = None
    program_years: int | None = Field(None, ge=1, le=8)
    enrolled_on: date | None = None
    expected_graduation: date | None = None
    ethnicity: str | None = Field(None, max_length=32)
    birth_date: date | None = None
    home_province: str | None = Field(None, max_length=32)
    home_city: str | None = Field(None, max_length=32)
    home_county: str | None = Field(None, max_length=32)
    address: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=32)
    status: StudentStatus | None = None


def _listed(user: User) -> QuerySet[Student]:
    return queries.student_list_queryset(user).select_related("school", "department", "major", "class_unit")


def _read(user: User, public_id: UUID) -> Student:
    """The student as the list shows it (helper, ledger state), if `user` may see them; else 404."""
    student = _listed(user).filter(public_id=public_id).first()
    if student is None:
        raise Http404
    return student


def _in_callers_schools(user: User, unit: OrgUnit) -> bool:
    if user.is_superuser:
        return True
    for grant in grants_of(user):
        scope = grant.unit if grant.unit.kind in (UnitKind.PROVINCE, UnitKind.SCHOOL) else school_of(grant.unit)
        if scope.covers(unit):
            return True
    return False


def _class_unit(user: User, public_id: UUID) -> OrgUnit:
    """A class by id; one in a school the caller has nothing to do with does not exist for them."""
    unit = OrgUnit.objects.filter(public_id=public_id, kind=UnitKind.CLASS).first()
    if unit is None or not _in_callers_schools(user, unit):
        raise ValidationError({"class_unit": _("There is no class with this id.")})
    return unit


@router.get("/students", response={200: list[StudentOut], **READ_ERRORS}, summary="List students")
@paginate(Pages)
def students_list(request: HttpRequest, filters: Query[StudentFilters]) -> Any:
    """The students the caller may see, with the same filters and sort keys as the student list page."""
    params = filters.dict(exclude={"sort"})
    students = queries.apply_student_filters(_listed(caller(request)), **params)
    return queries.sort_students(students, filters.sort)


_CREATE_ARGUMENTS = frozenset(
    {
        "class_unit",
        "student_number",
        "name",
        "gender",
        "cohort",
        "id_number",
        "level",
        "program_years",
        "enrolled_on",
        "expected_graduation",
    }
)


@router.post("/students", response={201: StudentOut, **WRITE_ERRORS}, summary="Create a student")
def students_create(request: HttpRequest, payload: StudentIn) -> Any:
    user = caller(request)
    if not user.is_superuser and not units_with(user, Perm.CREATE_STUDENT):
        raise PermissionDenied
    # Fields the caller left out keep the model's defaults.
    profile = {k: v for k, v in payload.dict(exclude_unset=True).items() if k not in _CREATE_ARGUMENTS}
    student = create_student(
        actor=user,
        class_unit=_class_unit(user, payload.class_unit),
        student_number=payload.student_number,
        name=payload.name,
        gender=payload.gender,
        cohort=payload.cohort,
        id_number=payload.id_number,
        level=payload.level,
        program_years=payload.program_years,
        enrolled_on=payload.enrolled_on,
        expected_graduation=payload.expected_graduation,
        **profile,
    )
    return Status(201, _read(user, student.public_id))


@router.get("/students/{student_id}", response={200: StudentOut, **READ_ERRORS}, summary="Get a student")
def students_retrieve(request: HttpRequest, student_id: UUID) -> Any:
    return _read(caller(request), student_id)


@router.patch("/students/{student_id}", response={200: StudentOut, **EDIT_ERRORS}, summary="Update a student")
def students_update(request: HttpRequest, student_id: UUID, payload: StudentPatch) -> Any:
    """Change the fields sent; `version` must be the one read, or someone else's save is kept and 409 answers."""
    user = caller(request)
    student = queries.get_student_for_user(user, student_id)
    require_student_perm(user, Perm.EDIT_STUDENT, student)
    changes = payload.changes()
    class_id = changes.pop("class_unit", None)
    update_student(
        actor=user,
        student=student,
        expected_version=payload.version,
        class_unit=_class_unit(user, class_id) if class_id is not None else None,
        id_number=changes.pop("id_number", None),
        student_number=changes.pop("student_number", None),
        **changes,
    )
    return _read(user, student.public_id)
