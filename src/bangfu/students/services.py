"""Every write to students and the ledger. Views, the API, imports and commands all call these."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bangfu.concurrency import lock_current
from bangfu.files import validate_evidence
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import Perm, require_student_perm, require_unit_perm
from bangfu.organisation.services import ancestors
from bangfu.students import idnumbers
from bangfu.students.models import (
    Category,
    LedgerCategory,
    LedgerEntry,
    LedgerSource,
    Level,
    Student,
)

# Fields a user may edit on a student record, besides the class and the ID number.
PROFILE_FIELDS = (
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "home_province",
    "home_city",
    "home_county",
    "address",
    "phone",
    "level",
    "program_years",
    "cohort",
    "enrolled_on",
    "expected_graduation",
    "status",
)


def _place_in(student: Student, class_unit: OrgUnit) -> None:
    if class_unit.kind != UnitKind.CLASS:
        raise ValidationError({"class_unit": _("A student belongs to a class.")})
    above = ancestors(class_unit)
    student.class_unit = class_unit
    student.major = above[UnitKind.MAJOR]
    student.department = above[UnitKind.DEPARTMENT]
    student.school = above[UnitKind.SCHOOL]


def _set_id_number(student: Student, raw: str) -> None:
    raw = (raw or "").strip()
    if not raw:
        student.id_number_cipher = student.id_number_hash = student.id_number_masked = ""
        return
    try:
        number = idnumbers.validate(raw)
    except ValidationError as e:
        raise ValidationError({"id_number": e.messages}) from None
    digest = idnumbers.keyed_hash(number)
    clash = Student.objects.filter(school=student.school, id_number_hash=digest).exclude(pk=student.pk)
    if clash.exists():
        raise ValidationError({"id_number": _("Another student of this school already has this ID number.")})
    student.id_number_cipher = idnumbers.encrypt(number)
    student.id_number_hash = digest
    student.id_number_masked = idnumbers.mask(number)
    if student.birth_date is None:
        student.birth_date = idnumbers.birth_date(number)


def profile_errors(
    *, student_number: str, name: str, enrolled_on: dt.date | None, expected_graduation: dt.date | None
) -> dict[str, str]:
    """The profile rules that need no database; the spreadsheet import checks its rows with them too."""
    errors: dict[str, str] = {}
    if not student_number:
        errors["student_number"] = _("A student number is required.")
    if not name:
        errors["name"] = _("A name is required.")
    if expected_graduation and enrolled_on and expected_graduation <= enrolled_on:
        errors["expected_graduation"] = _("Graduation must come after enrolment.")
    return errors


def number_taken_message(number: str) -> str:
    return _("Student number %(number)s is already used in this school.") % {"number": number}


def _check_profile(student: Student) -> None:
    student.student_number = (student.student_number or "").strip()
    student.name = (student.name or "").strip()
    errors = profile_errors(
        student_number=student.student_number,
        name=student.name,
        enrolled_on=student.enrolled_on,
        expected_graduation=student.expected_graduation,
    )
    if (
        student.student_number
        and Student.objects.filter(school=student.school, student_number=student.student_number)
        .exclude(pk=student.pk)
        .exists()
    ):
        errors["student_number"] = number_taken_message(student.student_number)
    if errors:
        raise ValidationError(errors)
    student.full_clean(exclude=["school", "department", "major", "class_unit", "student_number", "user"])


@transaction.atomic
def create_student(
    *,
    actor: User,
    class_unit: OrgUnit,
    student_number: str,
    name: str,
    gender: str,
    cohort: int,
    id_number: str = "",
    level: str = Level.VOCATIONAL,
    program_years: int | None = None,
    enrolled_on: dt.date | None = None,
    expected_graduation: dt.date | None = None,
    **profile: Any,
) -> Student:
    require_unit_perm(actor, Perm.CREATE_STUDENT, class_unit)
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"unknown student fields: {sorted(unknown)}")
    years = program_years or (4 if level == Level.BACHELOR else 3)
    student = Student(
        student_number=student_number,
        name=name,
        gender=gender,
        cohort=cohort,
        level=level,
        program_years=years,
        enrolled_on=enrolled_on or dt.date(cohort, 9, 1),
        expected_graduation=expected_graduation or dt.date(cohort + years, 6, 30),
        **profile,
    )
    _place_in(student, class_unit)
    _set_id_number(student, id_number)
    _check_profile(student)
    student._history_user = actor  # type: ignore[attr-defined]
    student.save()
    return student


@transaction.atomic
def update_student(
    *,
    actor: User,
    student: Student,
    expected_version: int | None,
    class_unit: OrgUnit | None = None,
    id_number: str | None = None,
    student_number: str | None = None,
    **changes: Any,
) -> Student:
    require_student_perm(actor, Perm.EDIT_STUDENT, student)
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"unknown student fields: {sorted(unknown)}")
    current = lock_current(Student, student.pk, expected_version)
    for field, value in changes.items():
        setattr(current, field, value)
    if student_number is not None:
        current.student_number = student_number
    if class_unit is not None and class_unit.pk != current.class_unit_id:
        require_unit_perm(actor, Perm.EDIT_STUDENT, class_unit)
        _place_in(current, class_unit)
    if id_number is not None:
        _set_id_number(current, id_number)
    _check_profile(current)
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    _refresh_progress(current, timezone.localdate())
    return current


def _refresh_progress(student: Student, today: dt.date) -> None:
    # The stage and the standards depend on the cohort, the graduation date and the ledger spell.
    from bangfu.assistance.progress import refresh_progress

    refresh_progress(student=student, today=today)


def reveal_id_number(*, actor: User, student: Student, ip_address: str | None = None) -> str:
    """The full ID number, for roles that may see it; every reveal goes into the access log."""
    from bangfu.audit.models import AccessAction
    from bangfu.audit.services import log_access

    require_student_perm(actor, Perm.REVEAL_ID, student)
    log_access(actor=actor, action=AccessAction.REVEAL_ID, student=student, fields="id_number", ip_address=ip_address)
    return idnumbers.decrypt(student.id_number_cipher)


def _clean_categories(categories: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(c.strip() for c in categories if c and c.strip()))
    unknown = [c for c in cleaned if c not in Category.values]
    if unknown:
        raise ValidationError({"categories": _("Unknown category: %(codes)s") % {"codes": ", ".join(unknown)}})
    if not cleaned:
        raise ValidationError({"categories": _("Choose at least one category.")})
    return cleaned


def _sync_categories(entry: LedgerEntry, categories: list[str], actor: User) -> None:
    existing = {c.category: c for c in entry.categories.all()}
    for code, row in existing.items():
        if code not in categories:
            row._history_user = actor  # type: ignore[attr-defined]
            row.delete()
    for code in categories:
        if code not in existing:
            row = LedgerCategory(entry=entry, category=code)
            row._history_user = actor  # type: ignore[attr-defined]
            row.save()


def ledger_errors(
    *, joined_on: dt.date, disability_level: str, categories: list[str], today: dt.date
) -> dict[str, str]:
    """The ledger entry rules that need no database; the spreadsheet import checks its rows with them too."""
    if joined_on > today:
        return {"joined_on": _("The joining date cannot be in the future.")}
    if disability_level and Category.DISABLED not in categories:
        return {"disability_level": _("A disability level goes with the disability category.")}
    return {}


def _check_entry(entry: LedgerEntry, categories: list[str], today: dt.date) -> None:
    errors = ledger_errors(
        joined_on=entry.joined_on, disability_level=entry.disability_level, categories=categories, today=today
    )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def join_ledger(
    *,
    actor: User,
    student: Student,
    joined_on: dt.date,
    reason: str,
    categories: list[str],
    source: str = LedgerSource.SURVEY,
    hardship_level: str = "",
    disability_level: str = "",
    family_situation: str = "",
    intends_to_work: bool = True,
    today: dt.date | None = None,
) -> LedgerEntry:
    require_student_perm(actor, Perm.MANAGE_LEDGER, student)
    today = today or timezone.localdate()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the student joins the ledger.")})
    categories = _clean_categories(categories)
    Student.objects.select_for_update().filter(pk=student.pk).first()  # serialise joins for this student
    if LedgerEntry.objects.filter(student=student, left_on__isnull=True).exists():
        raise ValidationError(_("%(name)s is already in the ledger.") % {"name": student.name})
    entry = LedgerEntry(
        student=student,
        joined_on=joined_on,
        join_reason=reason,
        joined_by=actor,
        source=source,
        hardship_level=hardship_level,
        disability_level=disability_level,
        family_situation=family_situation.strip(),
        intends_to_work=intends_to_work,
    )
    _check_entry(entry, categories, today)
    entry.full_clean(exclude=["student", "joined_by", "left_by"])
    entry._history_user = actor  # type: ignore[attr-defined]
    entry.save()
    _sync_categories(entry, categories, actor)
    _refresh_progress(student, today)
    return entry


@transaction.atomic
def update_ledger_entry(
    *,
    actor: User,
    entry: LedgerEntry,
    expected_version: int | None,
    categories: list[str] | None = None,
    today: dt.date | None = None,
    **changes: Any,
) -> LedgerEntry:
    require_student_perm(actor, Perm.MANAGE_LEDGER, entry.student)
    allowed = {"hardship_level", "disability_level", "family_situation", "intends_to_work", "source"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unknown ledger fields: {sorted(unknown)}")
    current = lock_current(LedgerEntry, entry.pk, expected_version)
    if current.left_on is not None:
        raise ValidationError(_("This ledger entry is closed; a student who returns joins the ledger again."))
    for field, value in changes.items():
        setattr(current, field, value.strip() if isinstance(value, str) else value)
    cats = _clean_categories(categories) if categories is not None else [c.category for c in current.categories.all()]
    _check_entry(current, cats, today or timezone.localdate())
    current.full_clean(exclude=["student", "joined_by", "left_by"])
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    if categories is not None:
        _sync_categories(current, cats, actor)
    return current


@transaction.atomic
def leave_ledger(
    *,
    actor: User,
    entry: LedgerEntry,
    left_on: dt.date,
    reason: str,
    expected_version: int | None,
    today: dt.date | None = None,
) -> LedgerEntry:
    require_student_perm(actor, Perm.MANAGE_LEDGER, entry.student)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Leaving the ledger needs a reason.")})
    current = lock_current(LedgerEntry, entry.pk, expected_version)
    if current.left_on is not None:
        raise ValidationError(_("The student already left the ledger on %(date)s.") % {"date": current.left_on})
    if left_on < current.joined_on:
        raise ValidationError({"left_on": _("The leaving date cannot be before the joining date.")})
    if left_on > (today or timezone.localdate()):
        raise ValidationError({"left_on": _("The leaving date cannot be in the future.")})
    current.left_on = left_on
    current.leave_reason = reason
    current.left_by = actor
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    _refresh_progress(current.student, today or timezone.localdate())
    return current


@transaction.atomic
def attach_category_evidence(
    *,
    actor: User,
    entry: LedgerEntry,
    category: str,
    evidence: UploadedFile | None = None,
    verified_on: dt.date | None = None,
    today: dt.date | None = None,
) -> LedgerCategory:
    require_student_perm(actor, Perm.MANAGE_LEDGER, entry.student)
    row = LedgerCategory.objects.select_for_update().filter(entry=entry, category=category).first()
    if row is None:
        raise ValidationError(_("The student is not in this category."))
    if evidence is not None:
        try:
            validate_evidence(evidence)
        except ValidationError as e:
            raise ValidationError({"evidence": e.messages}) from None
        row.evidence = evidence
    if verified_on is not None:
        if verified_on > (today or timezone.localdate()):
            raise ValidationError({"verified_on": _("The verification date cannot be in the future.")})
        row.verified_on = verified_on
    row._history_user = actor  # type: ignore[attr-defined]
    row.save()
    return row


@transaction.atomic
def add_category_by_rule(
    *, entry: LedgerEntry, category: str, reason: str, actor: User | None = None
) -> LedgerCategory:
    """Add a category that a rule of the system implies (e.g. long-unemployed after leaving), whoever's action
    triggered the rule: no ledger permission is needed, and the history gives the rule as the reason."""
    existing = LedgerCategory.objects.filter(entry=entry, category=category).first()
    if existing is not None:
        return existing
    row = LedgerCategory(entry=entry, category=category)
    row._history_user = actor  # type: ignore[attr-defined]
    row._change_reason = reason[:100]  # type: ignore[attr-defined]
    row.save()
    return row
