"""Every write to subsidies: types and budgets, applications through their workflow, objections, payment.

The workflow: draft → submitted → department approved → school approved → public notice → approved → paid;
or returned for revision (back to the applicant), rejected, withdrawn. Each step is taken by a person with the
right role, never by the applicant, and never twice by the same approver; each step is recorded with a comment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from bangfu.assistance.rules import Timeline, stage_on, versions_for_schools
from bangfu.concurrency import lock_current
from bangfu.files import validate_evidence
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import Perm, has_student_perm, require_perm_in, require_student_perm
from bangfu.students.models import Category, LedgerEntry, Student
from bangfu.subsidies.models import (
    CLOSED_WITHOUT_PAYMENT,
    COMMITTED,
    AmountKind,
    Application,
    ApplicationStatus,
    ApplicationStep,
    Budget,
    Objection,
    PaymentBatch,
    Receipt,
    SubsidyType,
)

S = ApplicationStatus
CENT = Decimal("0.01")

# --- Types and budgets --------------------------------------------------------------------------------------------

_HARDSHIP = [
    Category.POVERTY_ALLEVIATED,
    Category.SUBSISTENCE_ALLOWANCE,
    Category.EXTREME_POVERTY,
    Category.ORPHAN,
    Category.DISABLED,
    Category.SCHOOL_IDENTIFIED,
]
# The defaults a school starts from (DOMAIN.md §4); amounts are typical Hebei figures, to be set by each school.
DEFAULT_TYPES: list[dict[str, Any]] = [
    {
        "code": "national_grant",
        "name": "国家助学金",
        "name_en": "National grant",
        "categories": _HARDSHIP,
        "stages": ["enrolment", "study", "job_search"],
        "amount_kind": AmountKind.FIXED,
        "amount": Decimal("3300.00"),
        "evidence_required": "家庭经济困难学生认定表 / Hardship identification form",
        "public_notice_days": 5,
    },
    {
        "code": "hardship_subsidy",
        "name": "家庭经济困难补助",
        "name_en": "Economic-hardship subsidy",
        "categories": [],
        "stages": ["enrolment", "study", "job_search"],
        "amount_kind": AmountKind.CAPPED,
        "amount": Decimal("2000.00"),
        "public_notice_days": 0,
    },
    {
        "code": "job_search",
        "name": "求职创业补贴",
        "name_en": "Job-search and entrepreneurship subsidy",
        "categories": [
            Category.SUBSISTENCE_ALLOWANCE,
            Category.POVERTY_ALLEVIATED,
            Category.DISABLED_PARENT,
            Category.EXTREME_POVERTY,
            Category.ORPHAN,
            Category.DISABLED,
            Category.STUDENT_LOAN,
        ],
        "stages": ["job_search"],
        "once_per_person": True,
        "amount_kind": AmountKind.FIXED,
        "amount": Decimal("1500.00"),
        "evidence_required": "低保证、残疾证、助学贷款合同等类别证明 / Proof of the category",
        "public_notice_days": 5,
    },
    {
        "code": "medical_exam",
        "name": "体检费减免",
        "name_en": "Medical-examination fee waiver",
        "categories": [],
        "stages": ["job_search"],
        "once_per_person": True,
        "amount_kind": AmountKind.CAPPED,
        "amount": Decimal("300.00"),
        "public_notice_days": 0,
    },
    {
        "code": "travel",
        "name": "赴岗交通补贴",
        "name_en": "Travel reimbursement to start work",
        "categories": [],
        "stages": ["job_search", "after_leaving"],
        "once_per_person": True,
        "amount_kind": AmountKind.CAPPED,
        "amount": Decimal("800.00"),
        "receipts_required": True,
        "public_notice_days": 0,
    },
]
TYPE_FIELDS = (
    "code",
    "name",
    "name_en",
    "description",
    "categories",
    "stages",
    "once_per_person",
    "amount_kind",
    "amount",
    "evidence_required",
    "receipts_required",
    "public_notice_days",
    "is_active",
)


def _check_type(subsidy_type: SubsidyType) -> None:
    from bangfu.assistance.models import Stage

    errors: dict[str, str] = {}
    unknown = [c for c in subsidy_type.categories if c not in Category.values]
    if unknown:
        errors["categories"] = _("Unknown category: %(codes)s") % {"codes": ", ".join(unknown)}
    if any(s not in Stage.values for s in subsidy_type.stages):
        errors["stages"] = _("Unknown stage.")
    if subsidy_type.amount is None or Decimal(subsidy_type.amount) <= 0:
        errors["amount"] = _("The amount must be more than zero.")
    if errors:
        raise ValidationError(errors)
    subsidy_type.full_clean(exclude=["school"])


@transaction.atomic
def save_subsidy_type(
    *,
    actor: User,
    school: OrgUnit,
    subsidy_type: SubsidyType | None = None,
    expected_version: int | None = None,
    **fields: Any,
) -> SubsidyType:
    require_perm_in(actor, Perm.APPROVE_SCHOOL, school)
    if school.kind != UnitKind.SCHOOL:
        raise ValidationError(_("A subsidy type belongs to a school."))
    unknown = set(fields) - set(TYPE_FIELDS)
    if unknown:
        raise TypeError(f"unknown subsidy type fields: {sorted(unknown)}")
    if subsidy_type is not None and subsidy_type.school_id != school.pk:
        raise PermissionDenied  # the grant checked above is on `school`, not on the type's school
    current = (
        SubsidyType(school=school)
        if subsidy_type is None
        else lock_current(SubsidyType, subsidy_type.pk, expected_version)
    )
    for name, value in fields.items():
        setattr(current, name, value.strip() if isinstance(value, str) else value)
    if SubsidyType.objects.filter(school=school, code=current.code).exclude(pk=current.pk).exists():
        raise ValidationError({"code": _("Another subsidy type of this school has this code.")})
    _check_type(current)
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current


@transaction.atomic
def install_default_types(*, actor: User, school: OrgUnit) -> list[SubsidyType]:
    """Add the default subsidy types the school does not have yet (by code)."""
    require_perm_in(actor, Perm.APPROVE_SCHOOL, school)  # also when there is nothing left to add
    have = set(SubsidyType.objects.filter(school=school).values_list("code", flat=True))
    return [
        save_subsidy_type(actor=actor, school=school, **{k: v for k, v in d.items()})
        for d in DEFAULT_TYPES
        if d["code"] not in have
    ]


@transaction.atomic
def set_budget(*, actor: User, subsidy_type: SubsidyType, year: int, amount: Decimal) -> Budget:
    require_perm_in(actor, Perm.APPROVE_SCHOOL, subsidy_type.school)
    amount = _money(amount, "amount")
    if amount < 0:
        raise ValidationError({"amount": _("A budget cannot be negative.")})
    budget = Budget.objects.select_for_update().filter(subsidy_type=subsidy_type, year=year).first()
    if budget is None:
        budget = Budget(subsidy_type=subsidy_type, year=year, amount=amount)
    else:
        budget.amount, budget.version = amount, budget.version + 1
    budget._history_user = actor  # type: ignore[attr-defined]
    budget.save()
    return budget


def committed_amount(subsidy_type: SubsidyType, year: int, exclude: Application | None = None) -> Decimal:
    """What the school has approved of the type's budget for the year (approved, on notice, paid)."""
    qs = Application.objects.filter(subsidy_type=subsidy_type, year=year, status__in=COMMITTED)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.aggregate(total=Sum("amount"))["total"] or Decimal(0)


# --- Eligibility ---------------------------------------------------------------------------------------------------


@dataclass
class Eligibility:
    """Whether a student may apply for a type today, and if not, every reason why (in the reader's language)."""

    reasons: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.reasons


def eligibility(
    student: Student, subsidy_type: SubsidyType, today: dt.date, *, exclude: Application | None = None
) -> Eligibility:
    from bangfu.assistance.models import Stage

    result = Eligibility()
    if not subsidy_type.is_active:
        result.reasons.append(_("This subsidy is not offered at present."))
    if subsidy_type.school_id != student.school_id:
        result.reasons.append(_("This subsidy is offered by another school."))
    entry = LedgerEntry.objects.filter(student=student, left_on__isnull=True).first()
    if entry is None:
        result.reasons.append(_("Only students in the ledger of disadvantaged students may apply."))
    elif subsidy_type.categories:
        held = set(entry.categories.values_list("category", flat=True))
        if not held & set(subsidy_type.categories):
            wanted = ", ".join(str(Category(c).label) for c in subsidy_type.categories)
            result.reasons.append(
                _("It is for students in one of these categories: %(categories)s.") % {"categories": wanted}
            )
    if subsidy_type.stages:
        rules = versions_for_schools({student.school_id})[student.school_id].on(today)
        stage = stage_on(Timeline(student.cohort, student.program_years, student.expected_graduation), today, rules)
        if stage not in subsidy_type.stages:
            allowed = ", ".join(str(Stage(s).label) for s in subsidy_type.stages)
            result.reasons.append(
                _("It can be applied for in these stages: %(stages)s; the student is in the stage “%(stage)s”.")
                % {"stages": allowed, "stage": Stage(stage).label}
            )
    if subsidy_type.once_per_person:
        earlier = Application.objects.filter(student=student, subsidy_type=subsidy_type).exclude(
            status__in=CLOSED_WITHOUT_PAYMENT
        )
        if exclude is not None:
            earlier = earlier.exclude(pk=exclude.pk)
        if earlier.exists():
            result.reasons.append(_("It is granted once per person, and the student has already applied."))
    return result


# --- Applications ----------------------------------------------------------------------------------------------------


def _coded(messages: list[str], code: str) -> ValidationError:
    """Several messages under one code (`ValidationError(list, code=...)` drops the code)."""
    return ValidationError([ValidationError(m, code=code) for m in messages])


def _money(value: Any, name: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({name: _("Give an amount in yuan, e.g. 1500 or 1500.00.")}) from None
    return amount


def _check_amount(application: Application) -> None:
    subsidy_type = application.subsidy_type
    amount = _money(application.amount, "amount")
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if subsidy_type.amount_kind == AmountKind.FIXED and amount != subsidy_type.amount:
        raise ValidationError(
            {"amount": _("This subsidy is a fixed %(amount)s yuan.") % {"amount": subsidy_type.amount}}
        )
    if amount > subsidy_type.amount:
        raise ValidationError(
            {"amount": _("This subsidy is at most %(amount)s yuan.") % {"amount": subsidy_type.amount}}
        )
    application.amount = amount


def _step(
    application: Application, actor: User, to_status: str, on: dt.date, comment: str = "", override: bool = False
) -> None:
    from_status = application.status
    application.status = to_status
    application._history_user = actor  # type: ignore[attr-defined]
    application.save()
    ApplicationStep.objects.create(
        application=application,
        from_status=from_status,
        to_status=to_status,
        by=actor,
        on=on,
        comment=comment.strip(),
        budget_override=override,
    )


@transaction.atomic
def create_application(
    *,
    actor: User,
    student: Student,
    subsidy_type: SubsidyType,
    amount: Decimal | str | None,
    reason: str,
    today: dt.date,
    evidence: UploadedFile | None = None,
) -> Application:
    """Start an application (a draft) for a student; the eligibility is checked now and again at submission."""
    require_student_perm(actor, Perm.APPLY_SUBSIDY, student)
    verdict = eligibility(student, subsidy_type, today)
    if not verdict.eligible:
        raise _coded(verdict.reasons, "not_eligible")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the student applies.")})
    application = Application(
        student=student,
        subsidy_type=subsidy_type,
        year=today.year,
        amount=subsidy_type.amount if amount in (None, "") else amount,
        reason=reason,
        applied_by=actor,
    )
    _check_amount(application)
    if evidence is not None:
        _attach(application, evidence)
    application._history_user = actor  # type: ignore[attr-defined]
    application.save()
    ApplicationStep.objects.create(application=application, to_status=S.DRAFT, by=actor, on=today)
    return application


def _attach(application: Application, evidence: UploadedFile) -> None:
    try:
        validate_evidence(evidence)
    except ValidationError as e:
        raise ValidationError({"evidence": e.messages}) from None
    application.evidence = evidence


def _require_applicant_side(actor: User, application: Application) -> None:
    """The applicant, or anyone who may apply for this student, edits, submits and withdraws."""
    if actor.pk != application.applied_by_id and not has_student_perm(actor, Perm.APPLY_SUBSIDY, application.student):
        raise PermissionDenied


@transaction.atomic
def update_application(
    *,
    actor: User,
    application: Application,
    expected_version: int | None,
    today: dt.date,
    amount: Decimal | str | None = None,
    reason: str | None = None,
    evidence: UploadedFile | None = None,
) -> Application:
    _require_applicant_side(actor, application)
    current = lock_current(Application, application.pk, expected_version)
    if current.status not in (S.DRAFT, S.RETURNED):
        raise ValidationError(_("Only a draft or an application returned for revision can be changed."))
    if amount is not None:
        current.amount = amount
        _check_amount(current)
    if reason is not None:
        if not reason.strip():
            raise ValidationError({"reason": _("Say why the student applies.")})
        current.reason = reason.strip()
    if evidence is not None:
        _attach(current, evidence)
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current


@transaction.atomic
def add_receipt(
    *, actor: User, application: Application, file: UploadedFile, amount: Decimal | str, description: str = ""
) -> Receipt:
    _require_applicant_side(actor, application)
    current = lock_current(Application, application.pk, None)
    if current.status not in (S.DRAFT, S.RETURNED):
        raise ValidationError(_("Receipts are added while the application is a draft or returned for revision."))
    value = _money(amount, "amount")
    if value <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    try:
        validate_evidence(file)
    except ValidationError as e:
        raise ValidationError({"file": e.messages}) from None
    current.save(update_fields=["version"])
    return Receipt.objects.create(
        application=current, file=file, amount=value, description=description.strip(), uploaded_by=actor
    )


@transaction.atomic
def submit_application(
    *, actor: User, application: Application, today: dt.date, expected_version: int | None = None
) -> Application:
    _require_applicant_side(actor, application)
    current = lock_current(Application, application.pk, expected_version)
    if current.status not in (S.DRAFT, S.RETURNED):
        raise ValidationError(_("Only a draft or an application returned for revision can be submitted."))
    verdict = eligibility(current.student, current.subsidy_type, today, exclude=current)
    if not verdict.eligible:
        raise _coded(verdict.reasons, "not_eligible")
    _check_amount(current)
    subsidy_type = current.subsidy_type
    if subsidy_type.needs_evidence and not current.evidence:
        raise ValidationError(
            {"evidence": _("Attach the evidence: %(what)s.") % {"what": subsidy_type.evidence_required}}
        )
    if subsidy_type.receipts_required:
        receipts = (current.receipts.aggregate(total=Sum("amount"))["total"] or Decimal(0)).quantize(CENT)
        if receipts == 0:
            raise ValidationError({"receipts": _("Attach the receipts.")})
        if current.amount > receipts:
            raise ValidationError(
                {
                    "amount": _("The amount claimed (%(amount)s yuan) is more than the receipts (%(receipts)s yuan).")
                    % {"amount": current.amount, "receipts": receipts}
                }
            )
    current.submitted_on = today
    _step(current, actor, S.SUBMITTED, today)
    return current


@transaction.atomic
def withdraw_application(
    *, actor: User, application: Application, today: dt.date, comment: str = "", expected_version: int | None = None
) -> Application:
    _require_applicant_side(actor, application)
    current = lock_current(Application, application.pk, expected_version)
    if current.status not in (S.DRAFT, S.SUBMITTED, S.RETURNED, S.DEPARTMENT_APPROVED):
        raise ValidationError(_("An application the school has approved can no longer be withdrawn."))
    _step(current, actor, S.WITHDRAWN, today, comment)
    return current


def _check_not_own(actor: User, application: Application) -> None:
    if actor.pk == application.applied_by_id:
        raise ValidationError(_("You applied for this subsidy, so someone else must approve it."), code="self_approval")
    if application.student.user_id is not None and application.student.user_id == actor.pk:
        raise ValidationError(_("You cannot approve your own subsidy."), code="self_approval")


def _check_approver(actor: User, application: Application, level: str) -> None:
    """No one approves their own application, and the department's and the school's approvals are two people's."""
    _check_not_own(actor, application)
    if level != S.SCHOOL_APPROVED:
        return
    # The department approval of this round: after a return and a resubmission the department approves again.
    department = application.steps.filter(to_status=S.DEPARTMENT_APPROVED).order_by("-at", "-id").first()
    if department is not None and department.by_id == actor.pk:
        raise ValidationError(
            _("You have already approved this application at another level; the next approval is someone else's."),
            code="same_approver",
        )


def _require_status(application: Application, *allowed: str) -> None:
    if application.status not in allowed:
        raise ValidationError(
            _("This application is “%(status)s”: that step is not possible now.")
            % {"status": ApplicationStatus(application.status).label},
            code="bad_step",
        )


@transaction.atomic
def approve_by_department(
    *, actor: User, application: Application, today: dt.date, comment: str = "", expected_version: int | None = None
) -> Application:
    require_student_perm(actor, Perm.APPROVE_DEPARTMENT, application.student)
    current = lock_current(Application, application.pk, expected_version)
    _require_status(current, S.SUBMITTED)
    _check_approver(actor, current, S.DEPARTMENT_APPROVED)
    _step(current, actor, S.DEPARTMENT_APPROVED, today, comment)
    return current


@transaction.atomic
def approve_by_school(
    *,
    actor: User,
    application: Application,
    today: dt.date,
    comment: str = "",
    override_budget: bool = False,
    expected_version: int | None = None,
) -> Application:
    """The school's approval; an amount beyond what is left of the year's budget needs an explicit override."""
    require_student_perm(actor, Perm.APPROVE_SCHOOL, application.student)
    current = lock_current(Application, application.pk, expected_version)
    _require_status(current, S.DEPARTMENT_APPROVED)
    _check_approver(actor, current, S.SCHOOL_APPROVED)
    budget = Budget.objects.select_for_update().filter(subsidy_type=current.subsidy_type, year=current.year).first()
    left = (budget.amount if budget else Decimal(0)) - committed_amount(
        current.subsidy_type, current.year, exclude=current
    )
    over = current.amount > left
    if over and not override_budget:
        values = {"left": max(left, Decimal("0.00")), "year": current.year, "type": current.subsidy_type}
        if budget is None:
            message = _("There is no %(year)s budget for %(type)s; approving %(amount)s yuan needs a budget override.")
        else:
            message = _(
                "Only %(left)s yuan is left of the %(year)s budget for %(type)s; "
                "approving %(amount)s yuan needs a budget override."
            )
        raise ValidationError(message % {**values, "amount": current.amount}, code="over_budget")
    if over and not comment.strip():
        raise ValidationError({"comment": _("Say why the budget is overridden.")})
    current.budget_override = over
    _step(current, actor, S.SCHOOL_APPROVED, today, comment, override=over)
    if current.subsidy_type.public_notice_days == 0:
        _step(current, actor, S.APPROVED, today, _("No public notice is required for this subsidy."))
    return current


def working_days_after(start: dt.date, days: int) -> dt.date:
    """The last day of a notice of `days` working days (Monday to Friday) starting on `start`."""
    days = max(days, 1)  # a type set to "no notice" after an approval still gets a notice, and this loop ends
    day, counted = start, 0
    while True:
        if day.weekday() < 5:
            counted += 1
            if counted == days:
                return day
        day += dt.timedelta(days=1)


@transaction.atomic
def start_public_notice(
    *, actor: User, applications: list[Application], starts_on: dt.date, today: dt.date
) -> list[Application]:
    """Put school-approved applications on public notice for their type's number of working days."""
    if not applications:
        raise ValidationError(_("Choose at least one application."))
    if starts_on < today:
        raise ValidationError({"starts_on": _("A notice cannot start in the past.")})
    noticed = []
    for application in applications:
        require_student_perm(actor, Perm.APPROVE_SCHOOL, application.student)
        current = lock_current(Application, application.pk, None)
        _require_status(current, S.SCHOOL_APPROVED)
        current.notice_starts_on = starts_on
        current.notice_ends_on = working_days_after(starts_on, current.subsidy_type.public_notice_days)
        _step(current, actor, S.ON_NOTICE, today)
        noticed.append(current)
    return noticed


@transaction.atomic
def record_objection(*, actor: User, application: Application, content: str, raised_on: dt.date) -> Objection:
    require_student_perm(actor, Perm.APPROVE_SCHOOL, application.student)
    # Read the row as it is now (and hold it: a final approval waits for this objection).
    application = Application.objects.select_for_update().get(pk=application.pk)
    _require_status(application, S.ON_NOTICE)
    if not (content or "").strip():
        raise ValidationError({"content": _("Write the objection.")})
    assert application.notice_starts_on and application.notice_ends_on
    if not application.notice_starts_on <= raised_on <= application.notice_ends_on:
        raise ValidationError(
            {
                "raised_on": _("Objections are raised during the public notice (%(start)s to %(end)s).")
                % {"start": application.notice_starts_on, "end": application.notice_ends_on}
            }
        )
    objection = Objection(application=application, raised_on=raised_on, content=content.strip(), recorded_by=actor)
    objection._history_user = actor  # type: ignore[attr-defined]
    objection.save()
    return objection


@transaction.atomic
def resolve_objection(*, actor: User, objection: Objection, handling: str, upheld: bool, today: dt.date) -> Objection:
    require_student_perm(actor, Perm.APPROVE_SCHOOL, objection.application.student)
    current = Objection.objects.select_for_update().get(pk=objection.pk)
    if current.resolved_on is not None:
        raise ValidationError(_("This objection is already resolved."))
    if not (handling or "").strip():
        raise ValidationError({"handling": _("Say how the objection was handled.")})
    current.handling, current.upheld, current.resolved_on, current.resolved_by = handling.strip(), upheld, today, actor
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current


@transaction.atomic
def approve_after_notice(
    *, actor: User, application: Application, today: dt.date, comment: str = "", expected_version: int | None = None
) -> Application:
    """Final approval: only after the notice has ended and every objection is resolved and none upheld."""
    require_student_perm(actor, Perm.APPROVE_SCHOOL, application.student)
    current = lock_current(Application, application.pk, expected_version)
    _require_status(current, S.ON_NOTICE)
    _check_not_own(actor, current)
    assert current.notice_ends_on is not None
    if today <= current.notice_ends_on:
        raise ValidationError(
            _("The public notice runs until %(date)s; approve after it ends.") % {"date": current.notice_ends_on},
            code="notice_running",
        )
    if current.objections.filter(resolved_on__isnull=True).exists():
        raise ValidationError(_("Resolve every objection first."), code="objection_open")
    if current.objections.filter(upheld=True).exists():
        raise ValidationError(_("An objection was upheld: reject the application instead."), code="objection_upheld")
    _step(current, actor, S.APPROVED, today, comment)
    return current


def _require_decider(actor: User, application: Application, *, exact: bool = True) -> None:
    """A submitted application is the department's to decide on; after that, the school's. Not `exact`: the
    actor decides at one level or the other (checked before the row is read, so a stranger learns nothing)."""
    if exact:
        perm = Perm.APPROVE_DEPARTMENT if application.status == S.SUBMITTED else Perm.APPROVE_SCHOOL
        require_student_perm(actor, perm, application.student)
    elif not any(
        has_student_perm(actor, p, application.student) for p in (Perm.APPROVE_DEPARTMENT, Perm.APPROVE_SCHOOL)
    ):
        raise PermissionDenied


@transaction.atomic
def return_for_revision(
    *, actor: User, application: Application, today: dt.date, comment: str, expected_version: int | None = None
) -> Application:
    _require_decider(actor, application, exact=False)
    current = lock_current(Application, application.pk, expected_version)
    _require_decider(actor, current)
    _require_status(current, S.SUBMITTED, S.DEPARTMENT_APPROVED)
    if not (comment or "").strip():
        raise ValidationError({"comment": _("Say what must be revised.")})
    _step(current, actor, S.RETURNED, today, comment)
    return current


@transaction.atomic
def reject_application(
    *, actor: User, application: Application, today: dt.date, comment: str, expected_version: int | None = None
) -> Application:
    _require_decider(actor, application, exact=False)
    current = lock_current(Application, application.pk, expected_version)
    _require_decider(actor, current)
    _require_status(current, S.SUBMITTED, S.DEPARTMENT_APPROVED, S.SCHOOL_APPROVED, S.ON_NOTICE)
    if not (comment or "").strip():
        raise ValidationError({"comment": _("Say why the application is rejected.")})
    _step(current, actor, S.REJECTED, today, comment)
    return current


# --- Payment -------------------------------------------------------------------------------------------------------


@transaction.atomic
def create_payment_batch(
    *, actor: User, school: OrgUnit, name: str, applications: list[Application], today: dt.date
) -> PaymentBatch:
    """A batch of approved applications, not yet in another batch, for the finance office's payment list."""
    require_perm_in(actor, Perm.APPROVE_SCHOOL, school)
    if not (name or "").strip():
        raise ValidationError({"name": _("Name the batch.")})
    if not applications:
        raise ValidationError({"applications": _("Choose at least one approved application.")})
    locked = list(
        Application.objects.select_for_update().filter(pk__in=[a.pk for a in applications]).select_related("student")
    )
    problems = []
    for application in locked:
        label = f"{application.student.name} ({application.student.student_number})"
        if application.student.school_id != school.pk:
            problems.append(_("%(student)s is not a student of this school.") % {"student": label})
        elif application.status != S.APPROVED:
            problems.append(
                _("%(student)s: the application is “%(status)s”, not approved for payment.")
                % {"student": label, "status": ApplicationStatus(application.status).label}
            )
        elif application.batch_id is not None:
            problems.append(_("%(student)s: the application is already in another batch.") % {"student": label})
    if problems:
        raise _coded(problems, "not_payable")
    batch = PaymentBatch(school=school, name=name.strip(), created_by=actor, created_on=today)
    batch._history_user = actor  # type: ignore[attr-defined]
    batch.save()
    Application.objects.filter(pk__in=[a.pk for a in locked]).update(batch=batch)
    return batch


@transaction.atomic
def mark_batch_paid(
    *, actor: User, batch: PaymentBatch, paid_on: dt.date, today: dt.date, expected_version: int | None = None
) -> PaymentBatch:
    """Every application of the batch is paid on `paid_on`; an application is never paid twice."""
    require_perm_in(actor, Perm.APPROVE_SCHOOL, batch.school)
    current = lock_current(PaymentBatch, batch.pk, expected_version)
    if current.paid_on is not None:
        raise ValidationError(
            _("This batch was already paid on %(date)s.") % {"date": current.paid_on}, code="paid_twice"
        )
    if paid_on > today:
        raise ValidationError({"paid_on": _("The payment date cannot be in the future.")})
    applications = list(Application.objects.select_for_update().filter(batch=current))
    if not applications:
        raise ValidationError(_("The batch is empty."))
    for application in applications:
        _require_status(application, S.APPROVED)
        application.paid_on = paid_on
        _step(application, actor, S.PAID, today, _("Paid in batch %(name)s.") % {"name": current.name})
    current.paid_on, current.paid_by = paid_on, actor
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current


@transaction.atomic
def remove_from_batch(*, actor: User, batch: PaymentBatch, application: Application) -> None:
    require_perm_in(actor, Perm.APPROVE_SCHOOL, batch.school)
    if batch.paid_on is not None:
        raise ValidationError(_("A paid batch cannot change."))
    Application.objects.filter(pk=application.pk, batch=batch).update(batch=None)
