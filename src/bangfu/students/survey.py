"""The enrolment survey (入学普查): answers, the school's rules that flag likely ledger categories, decisions.

A counsellor fills the survey of a new student; on save the school's rules (data, editable by the office in
the admin) flag the categories the answers suggest. A flagged survey is a *candidate*: a counsellor confirms it
(the student joins the ledger with those categories, source "enrolment survey") or dismisses it with a reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bangfu.concurrency import lock_current
from bangfu.organisation.models import OrgUnit, User
from bangfu.organisation.permissions import Perm, require_student_perm
from bangfu.students.models import (
    NUMERIC_ANSWERS,
    Category,
    EnrolmentSurvey,
    HardshipLevel,
    LedgerEntry,
    LedgerSource,
    Student,
    StudentQuerySet,
    SurveyAnswer,
    SurveyRule,
    SurveyStatus,
)
from bangfu.students.services import join_ledger

# Every field a survey form may set.
ANSWER_FIELDS = (
    "poverty_alleviated",
    "subsistence_allowance",
    "no_employed_member",
    "extreme_poverty",
    "orphan",
    "student_disabled",
    "disability_level",
    "parent_disabled",
    "rural_home",
    "student_loan",
    "household_size",
    "annual_income",
    "notes",
)


@dataclass(frozen=True)
class DefaultRule:
    category: str
    answer_field: str
    threshold: Decimal | None = None
    hardship_level: str = ""
    is_active: bool = True


# The article's practice and the national subsidy rules: registered-poor, allowance, extreme-poverty and orphaned
# students are identified as in special hardship; rural origin is only targeted by some schools, so it starts off.
DEFAULT_RULES = (
    DefaultRule(Category.POVERTY_ALLEVIATED, SurveyAnswer.POVERTY_ALLEVIATED, hardship_level=HardshipLevel.SPECIAL),
    DefaultRule(
        Category.SUBSISTENCE_ALLOWANCE, SurveyAnswer.SUBSISTENCE_ALLOWANCE, hardship_level=HardshipLevel.SPECIAL
    ),
    DefaultRule(Category.ZERO_EMPLOYMENT, SurveyAnswer.NO_EMPLOYED_MEMBER, hardship_level=HardshipLevel.HARDSHIP),
    DefaultRule(Category.EXTREME_POVERTY, SurveyAnswer.EXTREME_POVERTY, hardship_level=HardshipLevel.SPECIAL),
    DefaultRule(Category.ORPHAN, SurveyAnswer.ORPHAN, hardship_level=HardshipLevel.SPECIAL),
    DefaultRule(Category.DISABLED, SurveyAnswer.STUDENT_DISABLED, hardship_level=HardshipLevel.HARDSHIP),
    DefaultRule(Category.DISABLED_PARENT, SurveyAnswer.PARENT_DISABLED, hardship_level=HardshipLevel.HARDSHIP),
    DefaultRule(Category.STUDENT_LOAN, SurveyAnswer.STUDENT_LOAN),
    DefaultRule(Category.RURAL, SurveyAnswer.RURAL_HOME, is_active=False),
    DefaultRule(
        Category.SCHOOL_IDENTIFIED,
        SurveyAnswer.INCOME_PER_HEAD,
        threshold=Decimal("4000"),
        hardship_level=HardshipLevel.SPECIAL,
    ),
    DefaultRule(
        Category.SCHOOL_IDENTIFIED,
        SurveyAnswer.INCOME_PER_HEAD,
        threshold=Decimal("8000"),
        hardship_level=HardshipLevel.HARDSHIP,
    ),
)

# Most severe first.
_LEVEL_ORDER = [HardshipLevel.SPECIAL, HardshipLevel.HARDSHIP, HardshipLevel.GENERAL]


# --- Rules -------------------------------------------------------------------------------------------------------


@transaction.atomic
def rules_for(*, school: OrgUnit) -> list[SurveyRule]:
    """The school's active rules; a school that has none yet gets the defaults on first use.

    To stop a default rule the office unticks "active" rather than deleting it: a school with no rules at all
    gets the defaults again.
    """
    if not SurveyRule.objects.filter(school=school).exists():
        OrgUnit.objects.select_for_update().filter(pk=school.pk).first()  # one first use at a time
        if not SurveyRule.objects.filter(school=school).exists():
            SurveyRule.objects.bulk_create(
                SurveyRule(
                    school=school,
                    category=r.category,
                    answer_field=r.answer_field,
                    threshold=r.threshold,
                    hardship_level=r.hardship_level,
                    is_active=r.is_active,
                )
                for r in DEFAULT_RULES
            )
    return list(SurveyRule.objects.filter(school=school, is_active=True))


def _answer(survey: EnrolmentSurvey, field: str) -> Any:
    if field == SurveyAnswer.INCOME_PER_HEAD:
        return survey.income_per_head
    return getattr(survey, field)


def rule_applies(rule: SurveyRule, survey: EnrolmentSurvey) -> bool:
    value = _answer(survey, rule.answer_field)
    if rule.answer_field in NUMERIC_ANSWERS:
        return value is not None and rule.threshold is not None and value < rule.threshold
    return value is True


def evaluate(survey: EnrolmentSurvey, rules: Iterable[SurveyRule]) -> tuple[list[str], str]:
    """The categories the answers suggest (in the ledger's order) and the most severe suggested hardship level."""
    applying = [r for r in rules if rule_applies(r, survey)]
    flagged = {r.category for r in applying}
    levels = {r.hardship_level for r in applying if r.hardship_level}
    level = next((lv for lv in _LEVEL_ORDER if lv in levels), "")
    return [c for c in Category.values if c in flagged], level


# --- Writes ------------------------------------------------------------------------------------------------------


@transaction.atomic
def save_survey(
    *,
    actor: User,
    student: Student,
    answers: dict[str, Any],
    expected_version: int | None,
    now: dt.datetime | None = None,
) -> EnrolmentSurvey:
    """Create or update a student's survey and flag it by the school's rules.

    `expected_version` is the version the form showed, 0 for a form opened when there was no survey yet.
    Saving re-opens a dismissed survey for a new decision; a confirmed one is closed (the ledger took over).
    """
    require_student_perm(actor, Perm.MANAGE_SURVEY, student)
    unknown = set(answers) - set(ANSWER_FIELDS)
    if unknown:
        raise TypeError(f"unknown survey fields: {sorted(unknown)}")
    now = now or timezone.now()
    Student.objects.select_for_update().filter(pk=student.pk).first()  # one survey per student, even when racing
    existing = EnrolmentSurvey.objects.filter(student=student).first()
    if existing is None:
        survey = EnrolmentSurvey(student=student)
    else:
        survey = lock_current(EnrolmentSurvey, existing.pk, expected_version)
        if survey.status == SurveyStatus.CONFIRMED:
            raise ValidationError(
                _("This survey was confirmed and the student joined the ledger; change the ledger entry instead.")
            )
    for field, value in answers.items():
        setattr(survey, field, value.strip() if isinstance(value, str) else value)
    if survey.disability_level and not survey.student_disabled:
        raise ValidationError({"disability_level": _("A disability level goes with a disability.")})
    if survey.household_size is not None and survey.household_size < 1:
        raise ValidationError({"household_size": _("A household has at least one member.")})
    if survey.annual_income is not None and survey.annual_income < 0:
        raise ValidationError({"annual_income": _("The income cannot be negative.")})
    survey.filled_by = actor
    survey.filled_at = now
    survey.full_clean(exclude=["student", "filled_by", "decided_by", "ledger_entry"])
    survey.flagged_categories, survey.suggested_hardship_level = evaluate(survey, rules_for(school=student.school))
    survey.status = SurveyStatus.CANDIDATE if survey.flagged_categories else SurveyStatus.NOT_FLAGGED
    # A new answer set needs a new decision; the history keeps the earlier one.
    survey.decided_by = None
    survey.decided_at = None
    survey.decision_reason = ""
    survey._history_user = actor  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            survey.save()
    except IntegrityError:
        raise ValidationError(_("Someone else saved a survey for this student at the same time; reload.")) from None
    return survey


def _locked_candidate(survey: EnrolmentSurvey, expected_version: int | None) -> EnrolmentSurvey:
    current = lock_current(EnrolmentSurvey, survey.pk, expected_version)
    if current.status != SurveyStatus.CANDIDATE:
        raise ValidationError(_("Only a candidate can be confirmed or dismissed; this survey is not one now."))
    return current


@transaction.atomic
def confirm_survey(
    *,
    actor: User,
    survey: EnrolmentSurvey,
    expected_version: int | None,
    reason: str = "",
    categories: list[str] | None = None,
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Confirm a candidate: the student joins the ledger with the flagged categories (or a chosen part of them)."""
    require_student_perm(actor, Perm.MANAGE_SURVEY, survey.student)
    now = now or timezone.now()
    today = timezone.localdate(now)
    current = _locked_candidate(survey, expected_version)
    reason = (reason or "").strip()
    chosen = current.flagged_categories if categories is None else list(dict.fromkeys(categories))
    if not chosen:
        raise ValidationError({"categories": _("Choose at least one category to confirm.")})
    extra = [c for c in chosen if c not in current.flagged_categories]
    if extra:
        raise ValidationError({"categories": _("Only the categories the survey flagged can be confirmed.")})
    chosen = [c for c in current.flagged_categories if c in chosen]
    names = {"date": timezone.localtime(current.filled_at).date().isoformat(), "name": current.filled_by}
    if reason:
        join_reason = _("Enrolment survey of %(date)s filled by %(name)s: %(reason)s") % {**names, "reason": reason}
    else:
        join_reason = _("Enrolment survey of %(date)s filled by %(name)s") % names
    entry = join_ledger(
        actor=actor,
        student=current.student,
        joined_on=today,
        reason=join_reason[:300],
        categories=chosen,
        source=LedgerSource.SURVEY,
        hardship_level=current.suggested_hardship_level,
        disability_level=current.disability_level if Category.DISABLED in chosen else "",
        family_situation=current.notes,
        today=today,
    )
    current.status = SurveyStatus.CONFIRMED
    current.decided_by = actor
    current.decided_at = now
    current.decision_reason = reason[:300]
    current.ledger_entry = entry
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return entry


@transaction.atomic
def dismiss_survey(
    *,
    actor: User,
    survey: EnrolmentSurvey,
    expected_version: int | None,
    reason: str,
    now: dt.datetime | None = None,
) -> EnrolmentSurvey:
    """Dismiss a candidate: the student does not join the ledger; the reason is kept."""
    require_student_perm(actor, Perm.MANAGE_SURVEY, survey.student)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the candidate is dismissed.")})
    current = _locked_candidate(survey, expected_version)
    current.status = SurveyStatus.DISMISSED
    current.decided_by = actor
    current.decided_at = now or timezone.now()
    current.decision_reason = reason[:300]
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current


# --- Reads -------------------------------------------------------------------------------------------------------

NOT_FILLED = "not_filled"


def survey_students(user: User) -> StudentQuerySet:
    """Students whose survey `user` may fill and decide, with their survey (if any) in the same query."""
    return Student.objects.visible_to(user, Perm.MANAGE_SURVEY).select_related("survey", "class_unit")


def filter_by_status(students: StudentQuerySet, status: str) -> StudentQuerySet:
    if status == NOT_FILLED:
        return students.filter(survey__isnull=True)
    if status in SurveyStatus.values:
        return students.filter(survey__status=status)
    return students


def status_counts(students: StudentQuerySet) -> dict[str, int]:
    """How many students have each survey status (and no survey yet), in one aggregate query."""
    aggregates = {s: Count("pk", filter=Q(survey__status=s)) for s in SurveyStatus.values}
    aggregates[NOT_FILLED] = Count("pk", filter=Q(survey__isnull=True))
    return students.order_by().aggregate(**aggregates)
