"""Every write to destinations and follow-ups after leaving.

A destination is never edited into another: recording a change closes the current one (`superseded_on`) and
adds a new one, so the record of 31 August can be read again in December. Placing a ledger student strikes
them off the unplaced list (`placed_since`); falling back to "not placed" puts them back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from bangfu.assistance.models import ActivityKind
from bangfu.assistance.progress import refresh_progress
from bangfu.assistance.services import record_activity
from bangfu.concurrency import lock_current
from bangfu.dates import add_months
from bangfu.files import validate_evidence
from bangfu.opportunities.models import Employer
from bangfu.organisation.models import User
from bangfu.organisation.permissions import Perm, require_student_perm
from bangfu.outcomes.models import (
    Confirmation,
    Destination,
    DestinationCode,
    DestinationGroup,
    EvidenceKind,
    FollowUp,
    FollowUpStatus,
)
from bangfu.students.models import Category, LedgerEntry, Student
from bangfu.students.services import add_category_by_rule

DESTINATION_FIELDS = (
    "employer_name",
    "employer_type",
    "industry",
    "position_title",
    "work_province",
    "work_city",
    "started_on",
    "salary",
    "matches_major",
    "employer_is_partner",
    "note",
)
SEEKING_WORK = "70"
# After this many months without work after leaving, a graduate is long-unemployed (就业困难人员).
LONG_UNEMPLOYED_MONTHS = 6


def code_for(student: Student, code: str | DestinationCode, day: dt.date) -> DestinationCode:
    """The code row a school uses on `day` for a code value (its own addition wins over the national list)."""
    if isinstance(code, DestinationCode):
        return code
    candidates = DestinationCode.objects.for_school(student.school_id, day).filter(code=str(code).strip())
    row = (
        candidates.filter(school_id=student.school_id).order_by("-valid_from").first()
        or candidates.filter(school__isnull=True).order_by("-valid_from").first()
    )
    if row is None:
        raise ValidationError({"code": _("Unknown destination code: %(code)s") % {"code": code}})
    return row


def current_destination(student: Student) -> Destination | None:
    return Destination.objects.filter(student=student, superseded_on__isnull=True).select_related("code").first()


@transaction.atomic
def record_destination(
    *,
    actor: User,
    student: Student,
    code: str | DestinationCode,
    today: dt.date,
    employer: Employer | None = None,
    as_consequence: bool = False,
    **fields: Any,
) -> Destination:
    """Record a graduate's destination as of `today`; the destination in force until now is kept as history.

    `as_consequence`: the record follows from a write the actor was allowed to make (the student accepting an
    offer), so the actor's own right to record destinations is not required."""
    if not as_consequence:
        require_student_perm(actor, Perm.RECORD_OUTCOME, student)
    unknown = set(fields) - set(DESTINATION_FIELDS)
    if unknown:
        raise TypeError(f"unknown destination fields: {sorted(unknown)}")
    Student.objects.select_for_update().filter(pk=student.pk).first()  # one change of destination at a time
    row = code_for(student, code, today)
    destination = Destination(student=student, code=row, recorded_on=today, recorded_by=actor)
    for name, value in fields.items():
        setattr(destination, name, value.strip() if isinstance(value, str) else value)
    if employer is not None:
        if employer.school_id != student.school_id:
            raise ValidationError({"employer": _("Choose an employer of the student's school.")})
        destination.employer = employer
        destination.employer_name = destination.employer_name or employer.name
        destination.employer_type = destination.employer_type or employer.employer_type
        destination.industry = destination.industry or employer.industry
        destination.employer_is_partner = destination.employer_is_partner or employer.is_partner
        destination.work_province = destination.work_province or employer.province
        destination.work_city = destination.work_city or employer.city
    _check_destination(destination, student, row)
    previous = Destination.objects.select_for_update().filter(student=student, superseded_on__isnull=True).first()
    if previous is not None and previous.recorded_on > today:
        raise ValidationError(_("A later destination is already recorded (%(date)s).") % {"date": previous.recorded_on})
    if row.is_placed:
        placed_before = previous is not None and previous.code.is_placed and previous.placed_since
        destination.placed_since = previous.placed_since if placed_before else today
    if previous is not None:
        previous.superseded_on = today
        previous.version += 1
        previous._history_user = actor  # type: ignore[attr-defined]
        previous.save(update_fields=["superseded_on", "version"])
    destination._history_user = actor  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            destination.save()
    except IntegrityError:
        raise ValidationError(
            _("Someone recorded another destination at the same time; reload and try again.")
        ) from None
    refresh_progress(student=student, today=today)  # the boards count placed students from the progress row
    return destination


def _check_destination(destination: Destination, student: Student, code: DestinationCode) -> None:
    errors: dict[str, str] = {}
    if destination.started_on is not None and destination.started_on < student.enrolled_on:
        errors["started_on"] = _("The destination cannot start before the student's enrolment (%(date)s).") % {
            "date": student.enrolled_on.isoformat()
        }
    if destination.salary is not None and destination.salary > 200_000:
        errors["salary"] = _("Give the starting salary per month, in yuan.")
    if code.group == DestinationGroup.EMPLOYED and not destination.employer_name:
        errors["employer_name"] = _("Name the employer.")
    if code.group == DestinationGroup.FURTHER_STUDY and not destination.employer_name:
        errors["employer_name"] = _("Name the school or university.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def attach_evidence(
    *, actor: User, destination: Destination, evidence: UploadedFile, kind: str, expected_version: int | None = None
) -> Destination:
    """Attach the document that proves a destination; a new document needs a new verification."""
    require_student_perm(actor, Perm.RECORD_OUTCOME, destination.student)
    current = lock_current(Destination, destination.pk, expected_version)
    if current.superseded_on is not None:
        raise ValidationError(_("This destination has been replaced; attach evidence to the current one."))
    _check_evidence_kind(current.code, kind)
    try:
        validate_evidence(evidence)
    except ValidationError as e:
        raise ValidationError({"evidence": e.messages}) from None
    current.evidence = evidence
    current.evidence_kind = kind
    current.verified_on = None
    current.verified_by = None
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current


def _check_evidence_kind(code: DestinationCode, kind: str) -> None:
    if kind not in EvidenceKind.values:
        raise ValidationError({"evidence_kind": _("Choose what kind of document this is.")})
    if not code.evidence_kinds:
        raise ValidationError(
            {"evidence_kind": _("A destination of the kind “%(code)s” needs no evidence.") % {"code": code.label_en}}
        )
    if kind not in code.evidence_kinds:
        accepted = ", ".join(str(EvidenceKind(k).label) for k in code.evidence_kinds)
        if kind == EvidenceKind.INTERNSHIP_CERTIFICATE:
            message = _("An internship certificate is not proof of a job. Accepted: %(kinds)s.")
        else:
            message = _("This document cannot prove this destination. Accepted: %(kinds)s.")
        raise ValidationError({"evidence_kind": message % {"kinds": accepted}}, code="wrong_evidence")


@transaction.atomic
def verify_destination(
    *, actor: User, destination: Destination, today: dt.date, expected_version: int | None = None
) -> Destination:
    """A department or office user checks the evidence: only then does the destination count as verified."""
    require_student_perm(actor, Perm.VERIFY_DESTINATION, destination.student)
    current = lock_current(Destination, destination.pk, expected_version)
    if current.superseded_on is not None:
        raise ValidationError(_("This destination has been replaced; verify the current one."))
    if current.verified_on is not None:
        raise ValidationError(_("This destination is already verified."))
    if not current.evidence:
        raise ValidationError(_("Attach the evidence (agreement, contract, admission letter…) before verifying."))
    _check_evidence_kind(current.code, current.evidence_kind)
    current.verified_on = today
    current.verified_by = actor
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current


@transaction.atomic
def confirm_destination(
    *, actor: User, destination: Destination, confirmed: bool, today: dt.date, note: str = ""
) -> Destination:
    """The graduate confirms or disputes their recorded destination (a dispute says what is wrong)."""
    if destination.student.user_id != actor.pk:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    note = (note or "").strip()
    if not confirmed and not note:
        raise ValidationError({"note": _("Say what is wrong with the recorded destination.")})
    current = lock_current(Destination, destination.pk, None)
    if current.superseded_on is not None:
        raise ValidationError(_("This destination has been replaced."))
    current.confirmation = Confirmation.CONFIRMED if confirmed else Confirmation.DISPUTED
    current.confirmation_note = note
    current.confirmed_on = today
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current


# --- Follow-ups after leaving ------------------------------------------------------------------------------------


def months_after(graduation: dt.date, day: dt.date) -> int:
    months = (day.year - graduation.year) * 12 + day.month - graduation.month
    return months if add_months(graduation, months) <= day else months - 1


@transaction.atomic
def record_follow_up(
    *, actor: User, student: Student, done_on: dt.date, status: str, today: dt.date, notes: str = ""
) -> FollowUp:
    """A follow-up after leaving: a work-ledger activity (it counts toward the follow-up standard). An unemployed
    graduate goes back on the unplaced list; one unemployed long after leaving is flagged long-unemployed."""
    if status not in FollowUpStatus.values:
        raise ValidationError({"status": _("Choose the graduate's situation.")})
    if done_on <= student.expected_graduation:
        raise ValidationError(
            {
                "done_on": _("A follow-up comes after graduation (%(date)s).")
                % {"date": student.expected_graduation.isoformat()}
            }
        )
    activity = record_activity(
        actor=actor,
        student=student,
        kind=ActivityKind.FOLLOW_UP,
        occurred_on=done_on,
        today=today,
        notes=notes,
    )
    current = current_destination(student)
    follow_up = FollowUp(
        student=student,
        destination=current,
        done_on=done_on,
        months_after_leaving=months_after(student.expected_graduation, done_on),
        status=status,
        notes=notes.strip(),
        activity=activity,
        recorded_by=actor,
    )
    follow_up._history_user = actor  # type: ignore[attr-defined]
    follow_up.save()
    if status == FollowUpStatus.UNEMPLOYED and (current is None or current.code.code != SEEKING_WORK):
        record_destination(
            actor=actor,
            student=student,
            code=SEEKING_WORK,
            today=today,
            note=_("Unemployed at the follow-up of %(date)s.") % {"date": done_on.isoformat()},
        )
    flag_long_unemployed(today=today, students=Student.objects.filter(pk=student.pk), actor=actor)
    return follow_up


def long_unemployed(students: Any, today: dt.date) -> Any:
    """Graduates who left more than six months ago and are, as recorded, still without work."""
    placed_or_not_seeking = Destination.objects.filter(superseded_on__isnull=True).filter(
        Q(code__group__in=[DestinationGroup.EMPLOYED, DestinationGroup.FURTHER_STUDY]) | Q(code__not_seeking=True)
    )
    return students.filter(expected_graduation__lt=add_months(today, -LONG_UNEMPLOYED_MONTHS)).exclude(
        pk__in=placed_or_not_seeking.values("student_id")
    )


def flag_long_unemployed(*, today: dt.date, students: Any = None, actor: User | None = None) -> int:
    """Add the long-unemployed category to the ledger entries of those graduates (the daily job). Returns how many
    were flagged now."""
    students = students if students is not None else Student.objects.all()
    within_follow_up = long_unemployed(students.in_ledger(), today).filter(
        expected_graduation__gte=add_months(today, -24)
    )
    entries = LedgerEntry.objects.filter(left_on__isnull=True, student__in=within_follow_up).exclude(
        categories__category=Category.LONG_UNEMPLOYED
    )
    flagged = 0
    for entry in entries:
        add_category_by_rule(
            entry=entry,
            category=Category.LONG_UNEMPLOYED,
            actor=actor,
            reason=_("Unemployed more than %(months)s months after leaving.") % {"months": LONG_UNEMPLOYED_MONTHS},
        )
        flagged += 1
    return flagged
