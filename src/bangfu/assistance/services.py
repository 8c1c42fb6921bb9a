"""Writes for one-on-one help: helpers, the work ledger (activities), plans and the school's policy.

Every write that can change where a student stands against the standards refreshes the student's progress row
in the same transaction.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bangfu.assistance.models import (
    Activity,
    ActivityKind,
    Direction,
    HelperAssignment,
    Period,
    Plan,
    PlanReview,
    Policy,
    Standard,
)
from bangfu.assistance.progress import rebuild_progress, refresh_progress
from bangfu.assistance.rules import Rules, Timeline, Versions, is_effective, stage_on, versions_for_schools
from bangfu.concurrency import StaleEdit, lock_current
from bangfu.dates import add_months, month_start, semester_of
from bangfu.files import validate_evidence
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import (
    STAFF_ROLES,
    Perm,
    grants_of,
    has_student_perm,
    is_staff_member,
    require_student_perm,
    require_unit_perm,
    units_with,
)
from bangfu.students.models import Student


def helper_units(helper: User) -> list[OrgUnit]:
    """Where a staff member works: their home unit and the units of their staff grants."""
    units = [g.unit for g in grants_of(helper) if g.role in STAFF_ROLES]
    if helper.unit is not None:
        units.append(helper.unit)
    return units


def _check_helper(helper: User, student: Student, actor: User) -> None:
    if not helper.is_active or not is_staff_member(helper):
        raise ValidationError({"helper": _("%(name)s is not an active staff member.") % {"name": helper}})
    units = helper_units(helper)
    if not any(student.school.covers(u) for u in units):
        raise ValidationError({"helper": _("The helper must belong to the student's school.")})
    # An assigner picks helpers among the staff of the units they lead (the office: the whole school).
    if not actor.is_superuser:
        scope = units_with(actor, Perm.ASSIGN_HELPER)
        if not any(s.covers(u) for s in scope for u in units):
            raise ValidationError(
                {"helper": _("%(name)s works outside the units where you assign helpers.") % {"name": helper}}
            )


@transaction.atomic
def assign_helper(
    *,
    actor: User,
    student: Student,
    helper: User,
    start: dt.date,
    reason: str = "",
    planned_end: dt.date | None = None,
    handover_note: str = "",
    today: dt.date | None = None,
) -> HelperAssignment:
    """Name the helper of a student who has none. A student who has one is handed over instead."""
    require_student_perm(actor, Perm.ASSIGN_HELPER, student)
    _check_helper(helper, student, actor)
    today = today or timezone.localdate()
    if start > today:
        raise ValidationError({"start": _("The start date cannot be in the future.")})
    if planned_end is not None and planned_end < start:
        raise ValidationError({"planned_end": _("The planned end must come after the start.")})
    if HelperAssignment.objects.active().filter(student=student).exists():
        raise ValidationError(
            _("%(name)s already has a helper; hand the student over instead.") % {"name": student.name},
            code="has_helper",
        )
    assignment = HelperAssignment(
        student=student,
        helper=helper,
        started_on=start,
        planned_end=planned_end,
        reason=reason.strip(),
        handover_note=handover_note.strip(),
        assigned_by=actor,
    )
    assignment._history_user = actor  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:
        # Someone assigned a helper between our check and our insert: the constraint is the last word.
        raise ValidationError(
            _("%(name)s already has a helper; hand the student over instead.") % {"name": student.name},
            code="has_helper",
        ) from None
    refresh_progress(student=student, today=today)
    return assignment


@transaction.atomic
def end_assignment(
    *,
    actor: User,
    assignment: HelperAssignment,
    ended_on: dt.date,
    reason: str,
    expected_version: int | None,
    today: dt.date | None = None,
) -> HelperAssignment:
    require_student_perm(actor, Perm.ASSIGN_HELPER, assignment.student)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the help ends.")})
    current = lock_current(HelperAssignment, assignment.pk, expected_version)
    if current.ended_on is not None:
        raise ValidationError(_("This assignment has already ended."))
    if ended_on < current.started_on:
        raise ValidationError({"ended_on": _("The end date cannot be before the start date.")})
    if ended_on > (today or timezone.localdate()):
        raise ValidationError({"ended_on": _("The end date cannot be in the future.")})
    current.ended_on = ended_on
    current.end_reason = reason
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    refresh_progress(student=current.student, today=today or timezone.localdate())
    return current


@transaction.atomic
def hand_over(
    *,
    actor: User,
    student: Student,
    new_helper: User,
    on: dt.date,
    note: str,
    expected_version: int | None = None,
    expected_assignment: HelperAssignment | None = None,
    today: dt.date | None = None,
) -> HelperAssignment:
    """End the current helper's responsibility and start the new one's; the note travels to the new helper.

    `expected_assignment` and `expected_version` are what the actor's form showed: if the student was handed
    over meanwhile, the hand-over is refused as stale rather than applied to the newer assignment.
    """
    require_student_perm(actor, Perm.ASSIGN_HELPER, student)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("A hand-over needs a note for the new helper.")})
    current = HelperAssignment.objects.active().filter(student=student).first()
    if expected_assignment is not None and (current is None or current.pk != expected_assignment.pk):
        raise StaleEdit()
    if current is None:
        raise ValidationError(_("%(name)s has no helper to hand over from.") % {"name": student.name})
    if current.helper_id == new_helper.pk:
        raise ValidationError({"helper": _("The new helper is already this student's helper.")})
    # Check the new helper before the current assignment is touched, so the error names the right field.
    _check_helper(new_helper, student, actor)
    end_assignment(
        actor=actor,
        assignment=current,
        ended_on=on,
        reason=_("Handed over to %(name)s") % {"name": new_helper},
        expected_version=expected_version,
        today=today,
    )
    return assign_helper(
        actor=actor,
        student=student,
        helper=new_helper,
        start=on,
        reason=_("Hand-over"),
        handover_note=note,
        today=today,
    )


def bulk_assign(
    *,
    actor: User,
    students: list[Student],
    helper: User,
    start: dt.date,
    reason: str = "",
    today: dt.date | None = None,
) -> list[HelperAssignment]:
    """Assign one helper to several students, all or nothing; the error names the first student refused."""
    unique = list({s.pk: s for s in students}.values())
    if not unique:
        raise ValidationError({"students": _("Choose at least one student.")})
    assignments = []
    with transaction.atomic():
        for student in unique:
            try:
                assignments.append(
                    assign_helper(actor=actor, student=student, helper=helper, start=start, reason=reason, today=today)
                )
            except ValidationError as e:
                raise ValidationError(
                    _("%(name)s (%(number)s): %(error)s")
                    % {"name": student.name, "number": student.student_number, "error": " ".join(e.messages)},
                    code=getattr(e, "code", None) or "refused",
                ) from None
    return assignments


# --- The work ledger: activities, plans, policy ----------------------------------------------------------------


def _versions(student: Student) -> Versions:
    return versions_for_schools({student.school_id})[student.school_id]


def _timeline(student: Student) -> Timeline:
    return Timeline(student.cohort, student.program_years, student.expected_graduation)


def is_month_closed(occurred_on: dt.date, today: dt.date, rules: Rules) -> bool:
    """A month's activities close after the policy's day of the next month (default: the 10th)."""
    next_month = add_months(month_start(occurred_on), 1)
    return today > next_month.replace(day=min(rules.close_day, 28))


# What each kind of activity must carry besides the date.
_REQUIRED_BY_KIND: dict[str, tuple[str, ...]] = {
    ActivityKind.EVENT_TOGETHER: ("event_name",),
    ActivityKind.JOB_RECOMMENDATION: ("employer_name", "position_title"),
}
_ACTIVITY_FIELDS = (
    "notes",
    "internal",
    "event_name",
    "employer_name",
    "position_title",
    "fits_student",
    "response",
)


def _check_activity(activity: Activity, student: Student, today: dt.date) -> None:
    errors: dict[str, str] = {}
    if activity.kind not in ActivityKind.values:
        errors["kind"] = _("Choose what kind of help this was.")
    if activity.occurred_on > today:
        errors["occurred_on"] = _("The date cannot be in the future.")
    elif activity.occurred_on < student.enrolled_on:
        errors["occurred_on"] = _("The date cannot be before the student's enrolment (%(date)s).") % {
            "date": student.enrolled_on.isoformat()
        }
    for name in _REQUIRED_BY_KIND.get(activity.kind, ()):
        if not getattr(activity, name).strip():
            errors[name] = _("This kind of activity needs this field.")
    if activity.kind == ActivityKind.RESUME_REVISION and not activity.attachment:
        errors["attachment"] = _("Attach the revised résumé.")
    if activity.response and activity.kind != ActivityKind.JOB_RECOMMENDATION:
        errors["response"] = _("Only a job recommendation has a response.")
    if errors:
        raise ValidationError(errors)


def activity_errors(activity: Activity, *, enrolled_on: dt.date, today: dt.date) -> dict[str, list[str]]:
    """The rules of `record_activity` that need no database; the spreadsheet import checks its rows with them."""
    try:
        _check_activity(activity, Student(enrolled_on=enrolled_on), today)
    except ValidationError as e:
        return e.message_dict
    return {}


def _fill_derived(activity: Activity, student: Student, versions: Versions) -> None:
    rules = versions.on(activity.occurred_on)
    activity.stage = stage_on(_timeline(student), activity.occurred_on, rules)
    activity.effective = is_effective(
        kind=activity.kind, fits_student=activity.fits_student, response=activity.response, rules=rules
    )


@transaction.atomic
def record_activity(
    *,
    actor: User,
    student: Student,
    kind: str,
    occurred_on: dt.date,
    today: dt.date,
    attachment: UploadedFile | None = None,
    corrects: Activity | None = None,
    **details: Any,
) -> Activity:
    """Log one act of help by the actor and bring the student's progress up to date in the same transaction."""
    require_student_perm(actor, Perm.LOG_ACTIVITY, student)
    unknown = set(details) - set(_ACTIVITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown activity fields: {sorted(unknown)}")
    activity = Activity(student=student, helper=actor, created_by=actor, kind=kind, occurred_on=occurred_on)
    for name, value in details.items():
        setattr(activity, name, value.strip() if isinstance(value, str) else value)
    if "internal" not in details and kind == ActivityKind.PSYCHOLOGICAL_GUIDANCE:
        activity.internal = True  # psychological notes stay within the helper's line unless said otherwise
    if attachment is not None:
        try:
            validate_evidence(attachment)
        except ValidationError as e:
            raise ValidationError({"attachment": e.messages}) from None
        activity.attachment = attachment
    _check_activity(activity, student, today)
    _fill_derived(activity, student, _versions(student))
    if corrects is not None:
        if corrects.student_id != student.pk:
            raise ValidationError(_("A correction must be for the same student."))
        original = Activity.objects.select_for_update().get(pk=corrects.pk)
        if original.voided:
            raise ValidationError(_("This activity has already been corrected."))
        original.voided = True
        original._history_user = actor  # type: ignore[attr-defined]
        original.save(update_fields=["voided"])
        activity.corrects = original
    activity._history_user = actor  # type: ignore[attr-defined]
    activity.save()
    refresh_progress(student=student, today=today)
    return activity


@transaction.atomic
def update_activity(
    *, actor: User, activity: Activity, expected_version: int | None, today: dt.date, **changes: Any
) -> Activity:
    """Edit an activity of a month that is still open; in a closed month, record a correction instead."""
    student = activity.student
    require_student_perm(actor, Perm.LOG_ACTIVITY, student)
    unknown = set(changes) - set(_ACTIVITY_FIELDS) - {"occurred_on"}
    if unknown:
        raise TypeError(f"unknown activity fields: {sorted(unknown)}")
    current = lock_current(Activity, activity.pk, expected_version)
    versions = _versions(student)
    if current.voided:
        raise ValidationError(_("This activity has been corrected; edit the correction instead."))
    closing = [current.occurred_on, changes.get("occurred_on", current.occurred_on)]
    if any(is_month_closed(d, today, versions.on(d)) for d in closing):
        raise ValidationError(
            _("That month is closed: its activities can no longer be edited. Record a correction instead."),
            code="closed",
        )
    for name, value in changes.items():
        setattr(current, name, value.strip() if isinstance(value, str) else value)
    _check_activity(current, student, today)
    _fill_derived(current, student, versions)
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    refresh_progress(student=student, today=today)
    return current


@transaction.atomic
def record_response(*, actor: User, activity: Activity, response: str, today: dt.date) -> Activity:
    """Record what the student did with a job recommendation. The answer is a later fact, not an edit of the
    recommendation, so it is recorded even when the recommendation's month is closed; whether the recommendation
    is effective, and the student's progress, follow in the same transaction. The student may give it themself."""
    if not has_student_perm(actor, Perm.LOG_ACTIVITY, activity.student):
        require_student_perm(actor, Perm.RESPOND_RECOMMENDATION, activity.student)
    if activity.kind != ActivityKind.JOB_RECOMMENDATION:
        raise ValidationError(_("Only a job recommendation has a response."))
    current = lock_current(Activity, activity.pk, None)
    current.response = response
    _fill_derived(current, current.student, _versions(current.student))
    current._history_user = actor  # type: ignore[attr-defined]
    current.save(update_fields=["response", "effective", "version"])
    refresh_progress(student=current.student, today=today)
    return current


@transaction.atomic
def save_plan(*, actor: User, student: Student, expected_version: int | None, today: dt.date, **fields: Any) -> Plan:
    require_student_perm(actor, Perm.MANAGE_PLAN, student)
    allowed = {"direction", "industries", "places", "near_home", "salary_expectation", "strengths", "needs"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    existing = Plan.objects.filter(student=student).first()
    plan = lock_current(Plan, existing.pk, expected_version) if existing else Plan(student=student)
    for name, value in fields.items():
        setattr(plan, name, value.strip() if isinstance(value, str) else value)
    if plan.direction not in Direction.values:
        raise ValidationError({"direction": _("Choose a direction.")})
    if plan.salary_expectation is not None and plan.salary_expectation > 200_000:
        raise ValidationError({"salary_expectation": _("Give the expected salary per month, in yuan.")})
    plan.updated_by = actor
    plan._history_user = actor  # type: ignore[attr-defined]
    plan.save()
    return plan


@transaction.atomic
def review_plan(*, actor: User, plan: Plan, notes: str, today: dt.date) -> PlanReview:
    """Record this semester's review of a plan; a semester has one review, a second one replaces the notes."""
    require_student_perm(actor, Perm.MANAGE_PLAN, plan.student)
    notes = (notes or "").strip()
    if not notes:
        raise ValidationError({"notes": _("Write what the review found.")})
    semester = semester_of(plan.student.cohort, today)
    review, _created = PlanReview.objects.update_or_create(
        plan=plan, semester=semester, defaults={"notes": notes, "reviewer": actor, "reviewed_on": today}
    )
    return review


@transaction.atomic
def save_policy(
    *, actor: User, school: OrgUnit, valid_from: dt.date, standards: list[dict[str, Any]], **settings_: Any
) -> Policy:
    """Add (or replace, if it has not started yet) a policy version; progress is rebuilt for the school."""
    require_unit_perm(actor, Perm.MANAGE_POLICY, school)
    if school.kind != UnitKind.SCHOOL:
        raise ValidationError(_("A policy belongs to a school."))
    today = timezone.localdate()
    existing = Policy.objects.filter(school=school, valid_from=valid_from).first()
    if existing is not None and existing.valid_from <= today:
        raise ValidationError(
            {"valid_from": _("A version already in force cannot be changed; start a new version from a later date.")}
        )
    if existing is not None:
        existing.delete()
    policy = Policy(school=school, valid_from=valid_from, created_by=actor, **settings_)
    policy.full_clean(exclude=["school", "created_by"])
    policy._history_user = actor  # type: ignore[attr-defined]
    policy.save()
    seen: set[tuple[str, str]] = set()
    for raw in standards:
        standard = Standard(policy=policy, **raw)
        key = (standard.stage, standard.metric)
        if key in seen:
            raise ValidationError(_("Each stage may have one standard per metric."))
        seen.add(key)
        if standard.period == Period.DAYS and not standard.every_days:
            raise ValidationError(_("A standard counted every N days needs the number of days."))
        if standard.period == Period.MILESTONES and not standard.milestone_months():
            raise ValidationError(_("A follow-up standard needs the months after leaving, e.g. 1,3,6,12."))
        standard.full_clean(exclude=["policy"])
        standard.save()
    rebuild_progress(today=today, students=Student.objects.filter(school=school))
    return policy
