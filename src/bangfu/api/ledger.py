"""Ledger entries (困难群体学生台账): a student's spells in the ledger, joining, changing, leaving.

Family situation and disability level are sent only to callers who may view sensitive data (null otherwise),
and every answer that carries them is written to the access log.
"""

from collections.abc import Iterable
from datetime import date
from typing import Any, Literal
from uuid import UUID

from django.db.models import Prefetch
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status

from bangfu.api.auth import caller
from bangfu.api.errors import EDIT_ERRORS, READ_ERRORS, WRITE_ERRORS
from bangfu.api.schemas import InputSchema, PatchSchema, PersonRef, StudentRef
from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.organisation.models import User
from bangfu.organisation.permissions import Perm, has_student_perm
from bangfu.students import queries
from bangfu.students.models import (
    Category,
    DisabilityLevel,
    HardshipLevel,
    LedgerCategory,
    LedgerEntry,
    LedgerSource,
    Student,
)
from bangfu.students.services import join_ledger, leave_ledger, update_ledger_entry

router = Router(tags=["ledger"])

SENSITIVE_FIELDS = ("family_situation", "disability_level")


class LedgerCategoryOut(Schema):
    category: str
    verified_on: date | None
    has_evidence: bool

    @staticmethod
    def resolve_has_evidence(obj: LedgerCategory) -> bool:
        return bool(obj.evidence)


class LedgerEntryOut(Schema):
    id: UUID
    student: StudentRef
    is_open: bool
    categories: list[LedgerCategoryOut]
    source: str
    hardship_level: str
    intends_to_work: bool
    joined_on: date
    join_reason: str
    joined_by: PersonRef
    left_on: date | None
    leave_reason: str
    left_by: PersonRef | None
    family_situation: str | None = Field(description="null unless the caller may view sensitive data.")
    disability_level: str | None = Field(description="null unless the caller may view sensitive data.")
    version: int

    @staticmethod
    def resolve_id(obj: LedgerEntry) -> UUID:
        return obj.public_id

    @staticmethod
    def resolve_categories(obj: LedgerEntry) -> Iterable[LedgerCategory]:
        return obj.categories.all()

    # Hidden unless `_entries_out` cleared the caller for this student: forgetting the check hides, never leaks.
    @staticmethod
    def resolve_family_situation(obj: LedgerEntry) -> str | None:
        return obj.family_situation if getattr(obj, "api_show_sensitive", False) else None

    @staticmethod
    def resolve_disability_level(obj: LedgerEntry) -> str | None:
        return obj.disability_level if getattr(obj, "api_show_sensitive", False) else None


class LedgerJoinIn(InputSchema):
    joined_on: date
    reason: str = Field(..., max_length=300)
    categories: list[Category] = Field(..., max_length=len(Category.values))
    source: LedgerSource = LedgerSource.SURVEY
    hardship_level: HardshipLevel | Literal[""] = ""
    disability_level: DisabilityLevel | Literal[""] = Field("", description="Only with the disabled category.")
    family_situation: str = Field("", max_length=5000)
    intends_to_work: bool = True


class LedgerEntryPatch(PatchSchema):
    categories: list[Category] | None = Field(None, max_length=len(Category.values))
    source: LedgerSource | None = None
    hardship_level: HardshipLevel | Literal[""] | None = None
    disability_level: DisabilityLevel | Literal[""] | None = None
    family_situation: str | None = Field(None, max_length=5000)
    intends_to_work: bool | None = None


class LedgerLeaveIn(InputSchema):
    left_on: date
    reason: str = Field(..., max_length=300)
    version: int = Field(..., ge=1, le=2_000_000_000)


def _entries_out(request: HttpRequest, student: Student, entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    """Entries as the caller may see them; a read of sensitive fields goes into the access log."""
    user = caller(request)
    sensitive = has_student_perm(user, Perm.VIEW_SENSITIVE, student)
    shown: set[str] = set()
    out = []
    for entry in entries:
        entry.student = student
        entry.api_show_sensitive = sensitive  # type: ignore[attr-defined]
        if sensitive:
            shown.update(name for name in SENSITIVE_FIELDS if getattr(entry, name))
        out.append(entry)
    if shown:
        log_access(
            actor=user,
            action=AccessAction.VIEW_SENSITIVE,
            student=student,
            fields=",".join(sorted(shown)),
            detail="API",
            ip_address=request.META.get("REMOTE_ADDR"),
        )
    return out


def _entry(user: User, public_id: UUID) -> LedgerEntry:
    """A ledger entry of a student the user may see; otherwise 404."""
    entry = (
        queries.ledger_entries_in_scope(user)
        .select_related("student", "joined_by", "left_by")
        .prefetch_related(Prefetch("categories", queryset=LedgerCategory.objects.order_by("category")))
        .filter(public_id=public_id)
        .first()
    )
    if entry is None:
        raise Http404
    return entry


def _one_out(request: HttpRequest, public_id: UUID) -> LedgerEntry:
    entry = _entry(caller(request), public_id)
    return _entries_out(request, entry.student, [entry])[0]


@router.get(
    "/students/{student_id}/ledger-entries",
    response={200: list[LedgerEntryOut], **READ_ERRORS},
    summary="A student's ledger history",
)
def ledger_list(request: HttpRequest, student_id: UUID) -> Any:
    """Every spell of the student in the ledger, newest first (the open one, if any, comes first)."""
    student = queries.get_student_for_user(caller(request), student_id)
    return _entries_out(request, student, queries.ledger_history(student))


@router.post(
    "/students/{student_id}/ledger-entries",
    response={201: LedgerEntryOut, **WRITE_ERRORS},
    summary="Put a student in the ledger",
)
def ledger_join(request: HttpRequest, student_id: UUID, payload: LedgerJoinIn) -> Any:
    user = caller(request)
    student = queries.get_student_for_user(user, student_id)
    entry = join_ledger(
        actor=user,
        student=student,
        joined_on=payload.joined_on,
        reason=payload.reason,
        categories=[c.value for c in payload.categories],
        source=payload.source,
        hardship_level=payload.hardship_level,
        disability_level=payload.disability_level,
        family_situation=payload.family_situation,
        intends_to_work=payload.intends_to_work,
    )
    return Status(201, _one_out(request, entry.public_id))


@router.get("/ledger-entries/{entry_id}", response={200: LedgerEntryOut, **READ_ERRORS}, summary="Get a ledger entry")
def ledger_retrieve(request: HttpRequest, entry_id: UUID) -> Any:
    return _one_out(request, entry_id)


@router.patch(
    "/ledger-entries/{entry_id}", response={200: LedgerEntryOut, **EDIT_ERRORS}, summary="Update an open ledger entry"
)
def ledger_update(request: HttpRequest, entry_id: UUID, payload: LedgerEntryPatch) -> Any:
    user = caller(request)
    entry = _entry(user, entry_id)
    changes = payload.changes()
    categories = changes.pop("categories", None)
    update_ledger_entry(
        actor=user,
        entry=entry,
        expected_version=payload.version,
        categories=[c.value for c in categories] if categories is not None else None,
        **changes,
    )
    return _one_out(request, entry_id)


@router.post(
    "/ledger-entries/{entry_id}/leave",
    response={200: LedgerEntryOut, **EDIT_ERRORS},
    summary="Take a student out of the ledger",
)
def ledger_leave(request: HttpRequest, entry_id: UUID, payload: LedgerLeaveIn) -> Any:
    user = caller(request)
    entry = _entry(user, entry_id)
    leave_ledger(
        actor=user, entry=entry, left_on=payload.left_on, reason=payload.reason, expected_version=payload.version
    )
    return _one_out(request, entry_id)
