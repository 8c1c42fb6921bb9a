"""Every write to employers, positions, events, recommendations, internships, order classes and work-study.

A recommendation is also an activity of the work ledger: recommending records the activity, and each answer of
the student updates whether it is effective and the student's progress, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from bangfu.assistance.models import ActivityKind, Plan, Response
from bangfu.assistance.services import record_activity, record_response
from bangfu.concurrency import lock_current
from bangfu.opportunities import creditcodes
from bangfu.opportunities.matching import Match, Offer, Profile, match
from bangfu.opportunities.models import (
    NEXT_STATUSES,
    STUDENT_ANSWERS,
    DeclineReason,
    Employer,
    EventAttendance,
    Internship,
    OrderClassMembership,
    Position,
    PositionKind,
    PositionStatus,
    Recommendation,
    RecommendationStatus,
    RecommendationStep,
    RecruitmentEvent,
    WorkStudyAssignment,
    WorkStudyHours,
)
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import Perm, has_student_perm, require_perm_in, require_student_perm
from bangfu.students.models import Student

# --- Employers, positions, events -------------------------------------------------------------------------------

EMPLOYER_FIELDS = (
    "name",
    "credit_code",
    "industry",
    "employer_type",
    "size",
    "province",
    "city",
    "is_internship_base",
    "is_order_class_partner",
    "is_work_study_host",
    "contact_name",
    "contact_phone",
    "contact_email",
    "notes",
)


def _set_fields(obj: Any, allowed: tuple[str, ...], fields: dict[str, Any], what: str) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown {what} fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(obj, name, value.strip() if isinstance(value, str) else value)


def _check_employer(employer: Employer) -> None:
    errors: dict[str, Any] = {}
    if not employer.name:
        errors["name"] = _("An employer needs a name.")
    employer.name_key = creditcodes.name_key(employer.name)
    if employer.credit_code:
        try:
            employer.credit_code = creditcodes.validate(employer.credit_code)
        except ValidationError as e:
            errors["credit_code"] = e.messages
    if errors:
        raise ValidationError(errors)
    others = Employer.objects.filter(school_id=employer.school_id).exclude(pk=employer.pk)
    same_code = employer.credit_code and others.filter(credit_code=employer.credit_code).first()
    if same_code:
        raise ValidationError(
            {"credit_code": _("%(name)s already has this credit code.") % {"name": same_code.name}}, code="duplicate"
        )
    same_name = others.filter(name_key=employer.name_key).first()
    if same_name:
        raise ValidationError(
            {"name": _("This employer is already registered as %(name)s.") % {"name": same_name.name}},
            code="duplicate",
        )
    employer.full_clean(exclude=["school", "created_by", "name_key"])


def _save_unique(obj: Any, message: str) -> None:
    """Save; a uniqueness race lost to a concurrent writer reads like the check that would have caught it."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise ValidationError(message, code="duplicate") from None


@transaction.atomic
def create_employer(*, actor: User, school: OrgUnit, **fields: Any) -> Employer:
    if school.kind != UnitKind.SCHOOL:
        raise ValidationError(_("An employer belongs to a school."))
    require_perm_in(actor, Perm.MANAGE_EMPLOYERS, school)
    employer = Employer(school=school, created_by=actor)
    _set_fields(employer, EMPLOYER_FIELDS, fields, "employer")
    _check_employer(employer)
    employer._history_user = actor  # type: ignore[attr-defined]
    _save_unique(employer, _("This employer is already registered."))
    return employer


@transaction.atomic
def update_employer(*, actor: User, employer: Employer, expected_version: int | None, **fields: Any) -> Employer:
    require_perm_in(actor, Perm.MANAGE_EMPLOYERS, employer.school)
    current = lock_current(Employer, employer.pk, expected_version)
    _set_fields(current, EMPLOYER_FIELDS, fields, "employer")
    _check_employer(current)
    current._history_user = actor  # type: ignore[attr-defined]
    _save_unique(current, _("This employer is already registered."))
    return current


POSITION_FIELDS = (
    "kind",
    "title",
    "description",
    "province",
    "city",
    "salary_min",
    "salary_max",
    "openings",
    "deadline",
    "status",
)


def _check_position(position: Position, majors: list[OrgUnit] | None, school: OrgUnit) -> None:
    errors: dict[str, str] = {}
    if not position.title:
        errors["title"] = _("A position needs a title.")
    if position.salary_min and position.salary_max and position.salary_max < position.salary_min:
        errors["salary_max"] = _("The top of the salary range is below its bottom.")
    for value in (position.salary_min, position.salary_max):
        if value is not None and value > 200_000:
            errors["salary_max"] = _("Give the salary per month, in yuan.")
    if majors and any(m.kind != UnitKind.MAJOR or not school.covers(m) for m in majors):
        errors["majors"] = _("Choose majors of this school.")
    if errors:
        raise ValidationError(errors)
    position.full_clean(exclude=["employer", "created_by"])


@transaction.atomic
def create_position(*, actor: User, employer: Employer, majors: list[OrgUnit] | None = None, **fields: Any) -> Position:
    require_perm_in(actor, Perm.MANAGE_EMPLOYERS, employer.school)
    position = Position(employer=employer, created_by=actor)
    if "province" not in fields and "city" not in fields:
        position.province, position.city = employer.province, employer.city
    _set_fields(position, POSITION_FIELDS, fields, "position")
    _check_position(position, majors, employer.school)
    position._history_user = actor  # type: ignore[attr-defined]
    position.save()
    if majors:
        position.majors.set(majors)
    return position


@transaction.atomic
def update_position(
    *,
    actor: User,
    position: Position,
    expected_version: int | None,
    majors: list[OrgUnit] | None = None,
    **fields: Any,
) -> Position:
    require_perm_in(actor, Perm.MANAGE_EMPLOYERS, position.employer.school)
    current = lock_current(Position, position.pk, expected_version)
    _set_fields(current, POSITION_FIELDS, fields, "position")
    _check_position(current, majors, current.employer.school)
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    if majors is not None:
        current.majors.set(majors)
    return current


EVENT_FIELDS = ("kind", "title", "held_on", "place", "notes")


@transaction.atomic
def save_event(
    *,
    actor: User,
    school: OrgUnit,
    event: RecruitmentEvent | None = None,
    expected_version: int | None = None,
    employers: list[Employer] | None = None,
    **fields: Any,
) -> RecruitmentEvent:
    """Create a recruitment event, or update one (then `expected_version` is what the editor saw)."""
    require_perm_in(actor, Perm.MANAGE_EMPLOYERS, school)
    if school.kind != UnitKind.SCHOOL:
        raise ValidationError(_("A recruitment event belongs to a school."))
    if event is None:
        current = RecruitmentEvent(school=school, created_by=actor)
    else:
        current = lock_current(RecruitmentEvent, event.pk, expected_version)
    _set_fields(current, EVENT_FIELDS, fields, "event")
    if not current.title:
        raise ValidationError({"title": _("An event needs a title.")})
    if employers and any(e.school_id != school.pk for e in employers):
        raise ValidationError({"employers": _("Choose employers of this school.")})
    current.full_clean(exclude=["school", "created_by"])
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    if employers is not None:
        current.employers.set(employers)
    return current


@transaction.atomic
def record_attendance(
    *, actor: User, event: RecruitmentEvent, student: Student, today: dt.date, notes: str = ""
) -> EventAttendance:
    """The student attended the event with the actor, their helper: this is the "event together" activity."""
    require_student_perm(actor, Perm.LOG_ACTIVITY, student)
    if event.school_id != student.school_id:
        raise ValidationError(_("The event is not one of the student's school."))
    if event.held_on > today:
        raise ValidationError(
            _("Attendance is recorded on or after the day of the event (%(date)s).")
            % {"date": event.held_on.isoformat()}
        )
    if EventAttendance.objects.filter(event=event, student=student).exists():
        raise ValidationError(_("%(name)s's attendance at this event is already recorded.") % {"name": student.name})
    activity = record_activity(
        actor=actor,
        student=student,
        kind=ActivityKind.EVENT_TOGETHER,
        occurred_on=event.held_on,
        today=today,
        event_name=event.title,
        notes=notes,
    )
    attendance = EventAttendance(event=event, student=student, helper=actor, activity=activity)
    _save_unique(attendance, _("%(name)s's attendance at this event is already recorded.") % {"name": student.name})
    return attendance


# --- Recommendations --------------------------------------------------------------------------------------------

# The work-ledger activity each kind of position makes when recommended.
_ACTIVITY_KIND = {
    PositionKind.JOB: ActivityKind.JOB_RECOMMENDATION,
    PositionKind.INTERNSHIP: ActivityKind.INTERNSHIP_ARRANGED,
    PositionKind.WORK_STUDY: ActivityKind.WORK_STUDY_RECOMMENDATION,
    PositionKind.ORDER_CLASS: ActivityKind.ORDER_CLASS_RECOMMENDATION,
}
# What the work ledger records of the student's answer (for job recommendations). A decline after the student
# applied keeps "applied": the student acted on it, so it stays effective.
_RESPONSE = {
    RecommendationStatus.RECOMMENDED: Response.NONE,
    RecommendationStatus.INTERESTED: Response.NONE,
    RecommendationStatus.APPLIED: Response.APPLIED,
    RecommendationStatus.INTERVIEWED: Response.INTERVIEWED,
    RecommendationStatus.OFFER: Response.EMPLOYER_ANSWERED,
    RecommendationStatus.ACCEPTED: Response.EMPLOYER_ANSWERED,
    RecommendationStatus.REJECTED: Response.EMPLOYER_ANSWERED,
}


def profile_of(student: Student, plan: Plan | None) -> Profile:
    return Profile(
        major_id=student.major_id,
        major_name=student.major.name,
        home_province=student.home_province,
        home_city=student.home_city,
        direction=plan.direction if plan else "job",
        places=plan.places if plan else "",
        industries=plan.industries if plan else "",
        near_home=plan.near_home if plan else False,
        salary_expectation=plan.salary_expectation if plan else None,
    )


def offer_of(position: Position, major_ids: frozenset[int] | None = None) -> Offer:
    employer = position.employer
    return Offer(
        major_ids=major_ids if major_ids is not None else frozenset(m.pk for m in position.majors.all()),
        province=position.province,
        city=position.city,
        industry=employer.industry,
        employer_type=employer.employer_type,
        employer_is_partner=employer.is_partner,
        salary_max=position.salary_max,
        deadline=position.deadline,
    )


def assess(student: Student, position: Position, today: dt.date) -> Match:
    return match(profile_of(student, Plan.objects.filter(student=student).first()), offer_of(position), today)


@transaction.atomic
def recommend(*, actor: User, student: Student, position: Position, today: dt.date, note: str = "") -> Recommendation:
    """Recommend a position to a student: the recommendation and its work-ledger activity, in one transaction."""
    require_student_perm(actor, Perm.LOG_ACTIVITY, student)
    position = Position.objects.select_related("employer").get(pk=position.pk)
    if position.employer.school_id != student.school_id:
        raise ValidationError(_("The position is not offered to the student's school."))
    if position.status != PositionStatus.OPEN or (position.deadline and position.deadline < today):
        raise ValidationError(_("This position is no longer open."))
    if Recommendation.objects.filter(position=position, student=student).exists():
        raise ValidationError(
            _("This position has already been recommended to %(name)s.") % {"name": student.name}, code="duplicate"
        )
    fit = assess(student, position, today)
    kind = _ACTIVITY_KIND[PositionKind(position.kind)]
    details: dict[str, Any] = {"employer_name": position.employer.name, "position_title": position.title}
    if kind == ActivityKind.JOB_RECOMMENDATION:
        details["fits_student"] = fit.fits
    activity = record_activity(
        actor=actor, student=student, kind=kind, occurred_on=today, today=today, notes=note, **details
    )
    recommendation = Recommendation(
        position=position,
        student=student,
        recommended_by=actor,
        recommended_on=today,
        fits_student=fit.fits,
        fit_reasons=fit.as_json(),
        note=note.strip(),
        activity=activity,
    )
    recommendation._history_user = actor  # type: ignore[attr-defined]
    _save_unique(recommendation, _("This position has already been recommended to %(name)s.") % {"name": student.name})
    RecommendationStep.objects.create(
        recommendation=recommendation, to_status=RecommendationStatus.RECOMMENDED, on=today, by=actor
    )
    return recommendation


@transaction.atomic
def change_recommendation(
    *,
    actor: User,
    recommendation: Recommendation,
    to_status: str,
    on: dt.date,
    today: dt.date,
    expected_version: int | None = None,
    reason: str = "",
    note: str = "",
    destination_code: str = "10",
) -> Recommendation:
    """Move a recommendation one step (recommended → applied → interviewed → offer → accepted, or declined /
    rejected / expired). Accepting a job records the graduate's destination (the student is struck off the
    unplaced list); accepting an internship, an order class or a work-study post starts it."""
    if not has_student_perm(actor, Perm.LOG_ACTIVITY, recommendation.student):
        require_student_perm(actor, Perm.RESPOND_RECOMMENDATION, recommendation.student)
        if to_status not in STUDENT_ANSWERS:
            raise PermissionDenied
    current = lock_current(Recommendation, recommendation.pk, expected_version)
    if to_status not in RecommendationStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    if to_status not in NEXT_STATUSES[current.status]:
        raise ValidationError(
            {
                "status": _("A recommendation that is “%(current)s” cannot become “%(next)s”.")
                % {
                    "current": RecommendationStatus(current.status).label,
                    "next": RecommendationStatus(to_status).label,
                }
            },
            code="bad_step",
        )
    if on > today:
        raise ValidationError({"on": _("The date cannot be in the future.")})
    if on < current.recommended_on:
        raise ValidationError(
            {
                "on": _("The date cannot be before the recommendation (%(date)s).")
                % {"date": current.recommended_on.isoformat()}
            }
        )
    reason, note = (reason or "").strip(), (note or "").strip()
    if to_status == RecommendationStatus.DECLINED:
        if reason not in DeclineReason.values:
            raise ValidationError({"reason": _("Choose why the student declined.")})
        if reason == DeclineReason.OTHER and not note:
            raise ValidationError({"note": _("Explain the reason in the note.")})
        current.decline_reason = reason
    elif reason:
        raise ValidationError({"reason": _("Only a decline has a reason.")})
    from_status = current.status
    current.status = to_status
    if to_status == RecommendationStatus.APPLIED:
        current.acted_on = on
    if to_status == RecommendationStatus.OFFER:
        current.offered_on = on
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    RecommendationStep.objects.create(
        recommendation=current, from_status=from_status, to_status=to_status, on=on, by=actor, reason=reason, note=note
    )
    activity = current.activity
    if activity is not None and activity.kind == ActivityKind.JOB_RECOMMENDATION:
        response = _RESPONSE.get(RecommendationStatus(to_status))
        if to_status == RecommendationStatus.DECLINED:
            response = Response.DECLINED if current.acted_on is None else None
        if to_status == RecommendationStatus.EXPIRED:
            response = None
        if response is not None and response != activity.response:
            record_response(actor=actor, activity=activity, response=response, today=today)
    if to_status == RecommendationStatus.ACCEPTED:
        _start_what_was_accepted(actor, current, on, today, destination_code)
    return current


def _start_what_was_accepted(
    actor: User, recommendation: Recommendation, on: dt.date, today: dt.date, destination_code: str
) -> None:
    position = Position.objects.select_related("employer").get(pk=recommendation.position_id)
    student = recommendation.student
    if position.kind == PositionKind.JOB:
        from bangfu.outcomes.services import record_destination

        record_destination(
            actor=actor,
            student=student,
            code=destination_code,
            today=today,
            employer=position.employer,
            position_title=position.title,
            work_province=position.province,
            work_city=position.city,
            salary=position.salary_min,
            note=_("Accepted the recommended position."),
            as_consequence=True,
        )
    elif position.kind == PositionKind.INTERNSHIP:
        record_internship(
            actor=actor,
            student=student,
            employer=position.employer,
            position=position,
            started_on=on,
            today=today,
            as_consequence=True,
        )
    elif position.kind == PositionKind.ORDER_CLASS:
        join_order_class(
            actor=actor, student=student, position=position, joined_on=on, today=today, as_consequence=True
        )
    else:
        start_work_study(
            actor=actor, student=student, position=position, started_on=on, today=today, as_consequence=True
        )


@transaction.atomic
def expire_recommendations(*, today: dt.date) -> int:
    """Recommendations nobody acted on, whose position closed: expired (the daily job)."""
    stale = Recommendation.objects.filter(
        status__in=(RecommendationStatus.RECOMMENDED, RecommendationStatus.INTERESTED), position__deadline__lt=today
    ).select_related("recommended_by")
    count = 0
    for rec in stale:
        from_status = rec.status
        rec.status = RecommendationStatus.EXPIRED
        rec.version += 1
        rec.save(update_fields=["status", "version", "updated_at"])
        RecommendationStep.objects.create(
            recommendation=rec,
            from_status=from_status,
            to_status=RecommendationStatus.EXPIRED,
            on=today,
            by=rec.recommended_by,
        )
        count += 1
    return count


# --- Internships, order classes, work-study ---------------------------------------------------------------------


def _check_period(start: dt.date, end: dt.date | None, student: Student, today: dt.date) -> None:
    if start < student.enrolled_on:
        raise ValidationError(
            {
                "started_on": _("The date cannot be before the student's enrolment (%(date)s).")
                % {"date": student.enrolled_on.isoformat()}
            }
        )
    if start > today + dt.timedelta(days=366):
        raise ValidationError({"started_on": _("The start date is too far in the future.")})
    if end is not None and end < start:
        raise ValidationError({"ended_on": _("The end date cannot be before the start date.")})


@transaction.atomic
def record_internship(
    *,
    actor: User,
    student: Student,
    employer: Employer,
    started_on: dt.date,
    today: dt.date,
    position: Position | None = None,
    ended_on: dt.date | None = None,
    as_consequence: bool = False,
) -> Internship:
    if not as_consequence:  # the write follows from one already allowed (the student accepting an offer)
        require_student_perm(actor, Perm.RECORD_OUTCOME, student)
    if employer.school_id != student.school_id:
        raise ValidationError({"employer": _("Choose an employer of the student's school.")})
    _check_period(started_on, ended_on, student, today)
    internship = Internship(
        student=student,
        employer=employer,
        position=position,
        started_on=started_on,
        ended_on=ended_on,
        recorded_by=actor,
    )
    internship._history_user = actor  # type: ignore[attr-defined]
    internship.save()
    return internship


@transaction.atomic
def update_internship(
    *, actor: User, internship: Internship, expected_version: int | None, today: dt.date, **fields: Any
) -> Internship:
    """Close an internship with its evaluation and whether it turned into a job."""
    require_student_perm(actor, Perm.RECORD_OUTCOME, internship.student)
    current = lock_current(Internship, internship.pk, expected_version)
    _set_fields(current, ("ended_on", "evaluation", "evaluation_note", "became_job"), fields, "internship")
    _check_period(current.started_on, current.ended_on, current.student, today)
    if current.ended_on and current.ended_on > today:
        raise ValidationError({"ended_on": _("An internship is evaluated after it ends.")})
    current.full_clean(exclude=["student", "employer", "position", "recorded_by"])
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current


def _check_post(position: Position, kind: str, student: Student) -> None:
    if position.kind != kind:
        raise ValidationError(
            {"position": _("Choose a position of the kind “%(kind)s”.") % {"kind": PositionKind(kind).label}}
        )
    if position.employer.school_id != student.school_id:
        raise ValidationError({"position": _("The position is not offered to the student's school.")})


@transaction.atomic
def join_order_class(
    *,
    actor: User,
    student: Student,
    position: Position,
    joined_on: dt.date,
    today: dt.date,
    as_consequence: bool = False,
) -> OrderClassMembership:
    if not as_consequence:  # the write follows from one already allowed (the student accepting an offer)
        require_student_perm(actor, Perm.RECORD_OUTCOME, student)
    _check_post(position, PositionKind.ORDER_CLASS, student)
    _check_period(joined_on, None, student, today)
    membership = OrderClassMembership(student=student, position=position, joined_on=joined_on, recorded_by=actor)
    membership._history_user = actor  # type: ignore[attr-defined]
    _save_unique(membership, _("%(name)s is already in this order class.") % {"name": student.name})
    return membership


@transaction.atomic
def leave_order_class(
    *,
    actor: User,
    membership: OrderClassMembership,
    left_on: dt.date,
    reason: str,
    expected_version: int | None,
    today: dt.date,
) -> OrderClassMembership:
    require_student_perm(actor, Perm.RECORD_OUTCOME, membership.student)
    current = lock_current(OrderClassMembership, membership.pk, expected_version)
    if current.left_on is not None:
        raise ValidationError(_("The student already left this order class."))
    if not (reason or "").strip():
        raise ValidationError({"left_reason": _("Say why the student leaves the order class.")})
    _check_period(current.joined_on, left_on, current.student, today)
    current.left_on, current.left_reason = left_on, reason.strip()
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current


@transaction.atomic
def start_work_study(
    *,
    actor: User,
    student: Student,
    position: Position,
    started_on: dt.date,
    today: dt.date,
    as_consequence: bool = False,
) -> WorkStudyAssignment:
    if not as_consequence:  # the write follows from one already allowed (the student accepting an offer)
        require_student_perm(actor, Perm.RECORD_OUTCOME, student)
    _check_post(position, PositionKind.WORK_STUDY, student)
    _check_period(started_on, None, student, today)
    assignment = WorkStudyAssignment(student=student, position=position, started_on=started_on, recorded_by=actor)
    assignment._history_user = actor  # type: ignore[attr-defined]
    assignment.save()
    return assignment


@transaction.atomic
def end_work_study(
    *, actor: User, assignment: WorkStudyAssignment, ended_on: dt.date, expected_version: int | None, today: dt.date
) -> WorkStudyAssignment:
    require_student_perm(actor, Perm.RECORD_OUTCOME, assignment.student)
    current = lock_current(WorkStudyAssignment, assignment.pk, expected_version)
    if current.ended_on is not None:
        raise ValidationError(_("This work-study post has already ended."))
    _check_period(current.started_on, ended_on, current.student, today)
    current.ended_on = ended_on
    current._history_user = actor  # type: ignore[attr-defined]
    current.save()
    return current


# National rule for work-study (勤工助学): at most 8 hours a week and 40 hours a month, whatever the posts.
MAX_HOURS_WEEK = Decimal(8)
MAX_HOURS_MONTH = Decimal(40)


def _hours(value: Decimal) -> str:
    """Hours as people write them ("8", "7.5"), whatever the database's sum looks like (8, 8.0)."""
    return f"{Decimal(value).normalize():f}"


@transaction.atomic
def log_work_study_hours(
    *,
    actor: User,
    assignment: WorkStudyAssignment,
    worked_on: dt.date,
    hours: Decimal,
    today: dt.date,
    note: str = "",
) -> WorkStudyHours:
    student = assignment.student
    require_student_perm(actor, Perm.RECORD_OUTCOME, student)
    Student.objects.select_for_update().filter(pk=student.pk).first()  # one writer of a student's hours at a time
    hours = Decimal(hours)
    if hours <= 0 or hours > 24:
        raise ValidationError({"hours": _("Give the hours worked that day (more than 0).")})
    if worked_on > today:
        raise ValidationError({"worked_on": _("The date cannot be in the future.")})
    if worked_on < assignment.started_on or (assignment.ended_on and worked_on > assignment.ended_on):
        raise ValidationError({"worked_on": _("The date is outside the period of this post.")})
    week_start = worked_on - dt.timedelta(days=worked_on.weekday())
    logged = WorkStudyHours.objects.filter(student=student)
    week = logged.filter(worked_on__range=(week_start, week_start + dt.timedelta(days=6))).aggregate(h=Sum("hours"))[
        "h"
    ] or Decimal(0)
    month = logged.filter(worked_on__year=worked_on.year, worked_on__month=worked_on.month).aggregate(h=Sum("hours"))[
        "h"
    ] or Decimal(0)
    if week + hours > MAX_HOURS_WEEK:
        raise ValidationError(
            {
                "hours": _("At most %(max)s hours a week: %(done)s already logged that week.")
                % {"max": MAX_HOURS_WEEK, "done": _hours(week)}
            },
            code="over_limit",
        )
    if month + hours > MAX_HOURS_MONTH:
        raise ValidationError(
            {
                "hours": _("At most %(max)s hours a month: %(done)s already logged that month.")
                % {"max": MAX_HOURS_MONTH, "done": _hours(month)}
            },
            code="over_limit",
        )
    row = WorkStudyHours(
        assignment=assignment, student=student, worked_on=worked_on, hours=hours, note=note.strip(), recorded_by=actor
    )
    row._history_user = actor  # type: ignore[attr-defined]
    row.save()
    return row
