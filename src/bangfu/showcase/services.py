"""Every write to exemplary cases: case types, consents, and cases through their workflow.

The workflow: nominated (by a helper or leader: MANAGE_PLAN on the student) → approved → published (by the
employment office: MANAGE_POLICY in the student's school, never the nominator), or rejected; a published case
can be unpublished and published again. Publication needs the student's active consent; withdrawing it
unpublishes every published case of the student in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from bangfu.concurrency import lock_current
from bangfu.files import validate_evidence
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import (
    SELF,
    Perm,
    has_student_perm,
    require_student_perm,
    require_unit_perm,
    student_roles,
)
from bangfu.showcase.models import (
    CONSENT_FIELDS,
    Case,
    CaseStatus,
    CaseStep,
    CaseType,
    Consent,
    ConsentPurpose,
    NameShown,
)
from bangfu.students import idnumbers
from bangfu.students.models import Student

S = CaseStatus

# --- Case types ------------------------------------------------------------------------------------------------

# The six typical cases of the article (DOMAIN.md §6); each school may rename, add or retire types.
DEFAULT_TYPES: list[dict[str, Any]] = [
    {"code": "employment_role_model", "name": "就业榜样", "name_en": "Employment role model"},
    {"code": "self_improvement_star", "name": "自强之星", "name_en": "Self-improvement star"},
    {"code": "grassroots_contributor", "name": "扎根基层", "name_en": "Grassroots contributor"},
    {"code": "entrepreneurship_pioneer", "name": "创业先锋", "name_en": "Entrepreneurship pioneer"},
    {"code": "further_study_achiever", "name": "升学达人", "name_en": "Further-study achiever"},
    {"code": "enlisted_with_honour", "name": "光荣入伍", "name_en": "Enlisted with honour"},
]
TYPE_FIELDS = ("code", "name", "name_en", "description", "is_active")


@transaction.atomic
def save_case_type(
    *,
    actor: User,
    school: OrgUnit,
    case_type: CaseType | None = None,
    expected_version: int | None = None,
    **fields: Any,
) -> CaseType:
    require_unit_perm(actor, Perm.MANAGE_POLICY, school)
    if school.kind != UnitKind.SCHOOL:
        raise ValidationError(_("A case type belongs to a school."))
    unknown = set(fields) - set(TYPE_FIELDS)
    if unknown:
        raise TypeError(f"unknown case type fields: {sorted(unknown)}")
    if case_type is not None and case_type.school_id != school.pk:
        raise PermissionDenied  # the grant checked above is on `school`, not on the type's school
    current = CaseType(school=school) if case_type is None else lock_current(CaseType, case_type.pk, expected_version)
    for name, value in fields.items():
        setattr(current, name, value.strip() if isinstance(value, str) else value)
    if not current.code:
        raise ValidationError({"code": _("Give the type a code.")})
    if not current.name:
        raise ValidationError({"name": _("Give the type a name.")})
    if CaseType.objects.filter(school=school, code=current.code).exclude(pk=current.pk).exists():
        raise ValidationError({"code": _("Another case type of this school has this code.")})
    current.full_clean(exclude=["school"])
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current


@transaction.atomic
def install_default_types(*, actor: User, school: OrgUnit) -> list[CaseType]:
    """Add the six default case types the school does not have yet (by code)."""
    require_unit_perm(actor, Perm.MANAGE_POLICY, school)  # also when there is nothing left to add
    have = set(CaseType.objects.filter(school=school).values_list("code", flat=True))
    return [save_case_type(actor=actor, school=school, **d) for d in DEFAULT_TYPES if d["code"] not in have]


# --- Consents --------------------------------------------------------------------------------------------------


def active_consent(student: Student, purpose: str = ConsentPurpose.CASE_PUBLICATION) -> Consent | None:
    return Consent.objects.filter(
        student=student, purpose=purpose, withdrawn_on__isnull=True, replaced_on__isnull=True
    ).first()


def _attach(name: str, upload: UploadedFile, *, images_only: bool = False) -> UploadedFile:
    try:
        validate_evidence(upload)
    except ValidationError as e:
        raise ValidationError({name: e.messages}) from None
    if images_only and (upload.name or "").lower().endswith(".pdf"):
        raise ValidationError({name: _("A photo must be a JPEG or PNG file.")})
    return upload


@transaction.atomic
def record_consent(
    *,
    actor: User,
    student: Student,
    given_on: dt.date,
    name_shown: str,
    today: dt.date,
    evidence: UploadedFile | None = None,
    note: str = "",
    **shown: bool,
) -> Consent:
    """Record what the student agreed to show (`show_photo=True`, …). A consent already in force is replaced by
    this one: the student's published cases stay published and show from now on what this consent allows."""
    require_student_perm(actor, Perm.MANAGE_PLAN, student)
    unknown = set(shown) - set(CONSENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown consent fields: {sorted(unknown)}")
    if name_shown not in NameShown.values:
        raise ValidationError({"name_shown": _("Choose how the name may be shown.")})
    if given_on > today:
        raise ValidationError({"given_on": _("A consent cannot be given in the future.")})
    Student.objects.select_for_update().filter(pk=student.pk).first()  # one consent change per student at a time
    previous = active_consent(student)
    if previous is not None and given_on < previous.given_on:
        raise ValidationError(
            {
                "given_on": _("The consent in force was given on %(date)s; a newer consent cannot be older.")
                % {"date": previous.given_on}
            }
        )
    consent = Consent(
        student=student,
        purpose=ConsentPurpose.CASE_PUBLICATION,
        name_shown=name_shown,
        given_on=given_on,
        recorded_by=actor,
        note=(note or "").strip(),
        **{name: bool(shown.get(name, False)) for name in CONSENT_FIELDS},
    )
    if evidence is not None:
        consent.evidence = _attach("evidence", evidence)
    if previous is not None:
        previous.replaced_on, previous.version = today, previous.version + 1
        previous._history_user = actor  # type: ignore[attr-defined]
        previous.save()
    consent.full_clean(exclude=["student", "recorded_by", "evidence"])
    consent._history_user = actor  # type: ignore[attr-defined]
    consent.save()
    if previous is not None:
        _carry_over(actor, previous, consent, today)
    return consent


def may_withdraw(actor: User, student: Student) -> bool:
    """The student themself, or staff who keep the student's plan (recording the student's wish)."""
    return SELF in student_roles(actor, student) or has_student_perm(actor, Perm.MANAGE_PLAN, student)


@transaction.atomic
def withdraw_consent(
    *, actor: User, consent: Consent, today: dt.date, note: str = "", expected_version: int | None = None
) -> list[Case]:
    """End the consent and unpublish, at once, every published case of the student; answers those cases."""
    if not may_withdraw(actor, consent.student):
        raise PermissionDenied
    current = lock_current(Consent, consent.pk, expected_version)
    if not current.is_active:
        raise ValidationError(_("This consent is no longer in force."), code="not_active")
    current.withdrawn_on, current.withdrawn_by = max(today, current.given_on), actor
    current.withdrawal_note = (note or "").strip()
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    unpublished = []
    reason = _("The student's consent was withdrawn.")
    for case in Case.objects.select_for_update().filter(student=current.student, status=S.PUBLISHED):
        case.version += 1
        _step(case, actor, S.UNPUBLISHED, today, reason)
        unpublished.append(case)
    return unpublished


# --- Cases -----------------------------------------------------------------------------------------------------

CASE_TEXT_FIELDS = (
    "title",
    "title_en",
    "story",
    "story_en",
    "family_story",
    "family_story_en",
    "employer",
    "position",
)


def _step(case: Case, actor: User, to_status: str, on: dt.date, comment: str = "") -> None:
    from_status = case.status
    case.status = to_status
    case._history_user = actor  # type: ignore[attr-defined]
    case.save()
    CaseStep.objects.create(
        case=case, from_status=from_status, to_status=to_status, by=actor, on=on, comment=(comment or "").strip()
    )


def _set_texts(case: Case, fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(CASE_TEXT_FIELDS)
    if unknown:
        raise TypeError(f"unknown case fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(case, name, (value or "").strip())
    errors: dict[str, str] = {}
    if not case.title:
        errors["title"] = _("Give the case a title.")
    if not case.story:
        errors["story"] = _("Tell the student's story.")
    if errors:
        raise ValidationError(errors)
    case.full_clean(exclude=["student", "case_type", "nominated_by", "consent", "photo"])


def _check_type(case_type: CaseType, student: Student) -> None:
    if case_type.school_id != student.school_id:
        raise ValidationError({"case_type": _("This case type belongs to another school.")})
    if not case_type.is_active:
        raise ValidationError({"case_type": _("This case type is no longer used.")})


@transaction.atomic
def nominate_case(
    *,
    actor: User,
    student: Student,
    case_type: CaseType,
    today: dt.date,
    photo: UploadedFile | None = None,
    comment: str = "",
    **texts: str,
) -> Case:
    """Nominate a student's story (title, story, and optionally the English texts, family situation, employer
    and position); the office approves and publishes it."""
    require_student_perm(actor, Perm.MANAGE_PLAN, student)
    _check_type(case_type, student)
    case = Case(student=student, case_type=case_type, nominated_by=actor, nominated_on=today)
    _set_texts(case, texts)
    if photo is not None:
        case.photo = _attach("photo", photo, images_only=True)
    case._history_user = actor  # type: ignore[attr-defined]
    case.save()
    CaseStep.objects.create(case=case, to_status=S.NOMINATED, by=actor, on=today, comment=(comment or "").strip())
    return case


@transaction.atomic
def update_case(
    *,
    actor: User,
    case: Case,
    today: dt.date,
    expected_version: int | None = None,
    case_type: CaseType | None = None,
    photo: UploadedFile | None = None,
    remove_photo: bool = False,
    **texts: str,
) -> Case:
    """Change the texts, type or photo of a case not yet published. A change to an approved case (or an
    unpublished one) sends it back for approval: the office approves what the public will read."""
    require_student_perm(actor, Perm.MANAGE_PLAN, case.student)
    current = lock_current(Case, case.pk, expected_version)
    if current.status not in (S.NOMINATED, S.APPROVED, S.UNPUBLISHED):
        raise ValidationError(
            _("A case that is “%(status)s” cannot be changed.") % {"status": CaseStatus(current.status).label},
            code="bad_step",
        )
    if case_type is not None and case_type.pk != current.case_type_id:
        _check_type(case_type, current.student)
        current.case_type = case_type
    _set_texts(current, texts)
    if photo is not None:
        current.photo = _attach("photo", photo, images_only=True)
    elif remove_photo:
        current.photo = ""  # type: ignore[assignment]
    if current.status == S.NOMINATED:
        current._history_user = actor  # type: ignore[attr-defined]
        current.save()
    else:
        current.approved_by, current.approved_on = None, None
        _step(current, actor, S.NOMINATED, today, _("Changed after approval: to be approved again."))
    return current


def _require_status(case: Case, *allowed: str) -> None:
    if case.status not in allowed:
        raise ValidationError(
            _("This case is “%(status)s”: that step is not possible now.") % {"status": CaseStatus(case.status).label},
            code="bad_step",
        )


def _require_office(actor: User, case: Case) -> None:
    require_unit_perm(actor, Perm.MANAGE_POLICY, case.student.school)


def _check_not_own(actor: User, case: Case) -> None:
    if actor.pk == case.nominated_by_id:
        raise ValidationError(_("You nominated this case, so someone else must approve and publish it."), code="own")
    if case.student.user_id is not None and case.student.user_id == actor.pk:
        raise ValidationError(_("You cannot approve or publish your own case."), code="own")


@transaction.atomic
def approve_case(
    *, actor: User, case: Case, today: dt.date, comment: str = "", expected_version: int | None = None
) -> Case:
    _require_office(actor, case)
    current = lock_current(Case, case.pk, expected_version)
    _require_status(current, S.NOMINATED)
    _check_not_own(actor, current)
    current.approved_by, current.approved_on = actor, today
    _step(current, actor, S.APPROVED, today, comment)
    return current


@transaction.atomic
def reject_case(*, actor: User, case: Case, today: dt.date, comment: str, expected_version: int | None = None) -> Case:
    _require_office(actor, case)
    current = lock_current(Case, case.pk, expected_version)
    _require_status(current, S.NOMINATED, S.APPROVED, S.UNPUBLISHED)
    if not (comment or "").strip():
        raise ValidationError({"comment": _("Say why the case is rejected.")})
    _step(current, actor, S.REJECTED, today, comment)
    return current


def _secrets_of(student: Student) -> list[tuple[str, str]]:
    """What must never be printed on the public page, whatever the consent: (label, text) pairs."""
    found = [(_("the student number"), student.student_number), (_("the phone number"), student.phone)]
    if student.id_number_cipher:
        number = idnumbers.decrypt(student.id_number_cipher)
        found.append((_("the ID number"), number))
    return [(label, value) for label, value in found if value and len(value.strip()) >= 4]


def _check_texts(case: Case, consent: Consent) -> None:
    """Refuse texts that print what the consent (or the rules) withhold: the full name when only the surname
    or no name may be shown, and never the student number, the phone or the ID number."""
    student = case.student
    texts = " ".join(getattr(case, name) for name in CASE_TEXT_FIELDS)
    problems = []
    if consent.name_shown != NameShown.FULL and student.name.strip() and student.name.strip() in texts:
        problems.append(_("The texts give the student's full name, but the consent does not allow it."))
    for label, value in _secrets_of(student):
        if value.strip() in texts:
            problems.append(_("The texts give %(what)s, which is never published.") % {"what": label})
    if problems:
        raise ValidationError([ValidationError(p, code="withheld_text") for p in problems])


def _carry_over(actor: User, previous: Consent, consent: Consent, today: dt.date) -> None:
    """The published cases of a replaced consent follow the new one; a case whose texts the new consent no
    longer allows (the full name, now that only the surname may be shown) is unpublished."""
    for case in Case.objects.select_for_update().filter(consent=previous, status=S.PUBLISHED):
        case.consent, case.version = consent, case.version + 1
        try:
            _check_texts(case, consent)
        except ValidationError:
            _step(case, actor, S.UNPUBLISHED, today, _("The student's new consent does not allow these texts."))
        else:
            case._history_user = actor  # type: ignore[attr-defined]
            case.save()


@transaction.atomic
def publish_case(
    *, actor: User, case: Case, today: dt.date, comment: str = "", expected_version: int | None = None
) -> Case:
    """Publish an approved (or unpublished) case under the student's consent in force."""
    _require_office(actor, case)
    current = lock_current(Case, case.pk, expected_version)
    _require_status(current, S.APPROVED, S.UNPUBLISHED)
    _check_not_own(actor, current)
    if current.approved_by_id is None:
        raise ValidationError(_("Approve the case before publishing it."), code="bad_step")
    consent = active_consent(current.student)
    if consent is None:
        raise ValidationError(
            _("The student has not consented to publication: record the student's consent first."),
            code="no_consent",
        )
    _check_texts(current, consent)
    current.consent, current.published_on = consent, today
    _step(current, actor, S.PUBLISHED, today, comment)
    return current


@transaction.atomic
def unpublish_case(
    *, actor: User, case: Case, today: dt.date, comment: str, expected_version: int | None = None
) -> Case:
    _require_office(actor, case)
    current = lock_current(Case, case.pk, expected_version)
    _require_status(current, S.PUBLISHED)
    if not (comment or "").strip():
        raise ValidationError({"comment": _("Say why the case is taken off the public page.")})
    _step(current, actor, S.UNPUBLISHED, today, comment)
    return current
