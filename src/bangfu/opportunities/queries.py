"""Scoped reads: employers, positions and events (staff see their schools'), recommendations (through the
student), suggestions ranked by fit, and recommendation conversion figures."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from bangfu.assistance.models import Plan
from bangfu.opportunities.matching import Match, match, rank_key
from bangfu.opportunities.models import (
    Employer,
    Position,
    PositionKind,
    Recommendation,
    RecommendationStatus,
    RecruitmentEvent,
)
from bangfu.opportunities.services import offer_of, profile_of
from bangfu.organisation.models import User
from bangfu.organisation.permissions import Perm, staff_schools
from bangfu.outcomes.queries import unplaced
from bangfu.students.models import Student


def employers_for(user: User) -> QuerySet[Employer]:
    return Employer.objects.filter(school__in=staff_schools(user))


def positions_for(user: User) -> QuerySet[Position]:
    return Position.objects.filter(employer__school__in=staff_schools(user)).select_related("employer")


def events_for(user: User) -> QuerySet[RecruitmentEvent]:
    return RecruitmentEvent.objects.filter(school__in=staff_schools(user))


def recommendations_for(user: User, students: QuerySet[Student] | None = None) -> QuerySet[Recommendation]:
    """Recommendations of the students the user sees; of those among `students` only, when given.

    Narrowing by `students` here keeps one subquery of students: narrowing the result by a second one (as
    `.filter(student__in=cohort)`) made PostgreSQL multiply the two's selectivities, expect a few dozen rows
    instead of thousands and join them the slow way (docs/benchmarks.md)."""
    seen = (Student.objects.all() if students is None else students).visible_to(user)
    return Recommendation.objects.filter(student__in=seen).select_related(
        "position__employer", "student", "recommended_by"
    )


def _get(qs: QuerySet[Any], public_id: uuid.UUID | str) -> Any:
    try:
        return qs.get(public_id=public_id)
    except (qs.model.DoesNotExist, ValueError, TypeError) as e:  # a malformed id is as unknown as a wrong one
        raise Http404 from e


def get_employer_for_user(user: User, public_id: uuid.UUID | str) -> Employer:
    return _get(employers_for(user), public_id)


def get_position_for_user(user: User, public_id: uuid.UUID | str) -> Position:
    return _get(positions_for(user), public_id)


def get_event_for_user(user: User, public_id: uuid.UUID | str) -> RecruitmentEvent:
    return _get(events_for(user), public_id)


def get_recommendation_for_user(user: User, public_id: uuid.UUID | str) -> Recommendation:
    return _get(recommendations_for(user), public_id)


# --- Suggestions -------------------------------------------------------------------------------------------------


def _major_ids(positions: list[Position]) -> dict[int, frozenset[int]]:
    through = Position.majors.through
    found: dict[int, set[int]] = {p.pk: set() for p in positions}
    for row in through.objects.filter(position_id__in=found).values("position_id", "orgunit_id"):
        found[row["position_id"]].add(row["orgunit_id"])
    return {pk: frozenset(ids) for pk, ids in found.items()}


def suggest_positions(
    student: Student, today: dt.date, *, kinds: tuple[str, ...] = (PositionKind.JOB,), limit: int = 10
) -> list[tuple[Position, Match]]:
    """Open positions of the student's school not yet recommended to them, best fit first, each with why."""
    positions = list(
        Position.objects.open_on(today)
        .filter(employer__school_id=student.school_id, kind__in=kinds)
        .exclude(recommendations__student=student)
        .select_related("employer")
    )
    majors = _major_ids(positions)
    profile = profile_of(student, Plan.objects.filter(student=student).first())
    scored = [(p, match(profile, offer_of(p, majors[p.pk]), today)) for p in positions]
    scored.sort(key=lambda pm: rank_key(pm[1], pm[0].deadline, f"{pm[0].title}{pm[0].public_id}"))
    return scored[:limit]


def suggest_students(user: User, position: Position, today: dt.date, *, limit: int = 20) -> list[tuple[Student, Match]]:
    """Ledger students the user may recommend to, not yet placed nor recommended this position, best fit first.

    Candidates are those graduating within a year either side of today (the job-search and after-leaving
    stages)."""
    candidates = (
        Student.objects.visible_to(user, Perm.LOG_ACTIVITY)
        .in_ledger()
        .filter(
            school_id=position.employer.school_id,
            expected_graduation__range=(today - dt.timedelta(days=366), today + dt.timedelta(days=366)),
        )
        .exclude(recommendations__position=position)
        .select_related("major", "plan")
    )
    candidates = unplaced(candidates)
    offer = offer_of(position)
    scored = []
    for student in candidates:
        plan = getattr(student, "plan", None)
        scored.append((student, match(profile_of(student, plan), offer, today)))
    scored.sort(key=lambda sm: rank_key(sm[1], None, f"{sm[0].student_number}"))
    return scored[:limit]


# --- Conversion --------------------------------------------------------------------------------------------------

_CONVERSION = {
    "recommended": Count("pk"),
    "acted": Count("pk", filter=Q(acted_on__isnull=False)),
    "offers": Count("pk", filter=Q(offered_on__isnull=False)),
    "accepted": Count("pk", filter=Q(status=RecommendationStatus.ACCEPTED)),
    "declined": Count("pk", filter=Q(status=RecommendationStatus.DECLINED)),
    "effective": Count("pk", filter=Q(activity__effective=True)),
}


def conversion(recommendations: QuerySet[Recommendation], by: str) -> list[dict[str, Any]]:
    """Recommendation conversion per helper (`by="helper"`) or per employer (`by="employer"`): how many were
    recommended, acted on, offered, accepted, declined, effective; `rate` = accepted ÷ recommended in per cent."""
    key = {"helper": "recommended_by", "employer": "position__employer"}[by]
    label = {"helper": "recommended_by__full_name", "employer": "position__employer__name"}[by]
    rows = list(recommendations.values(key, label).annotate(**_CONVERSION).order_by("-recommended", label))
    for row in rows:
        row["id"] = row.pop(key)
        row["name"] = row.pop(label)
        row["rate"] = round(100 * row["accepted"] / row["recommended"], 1) if row["recommended"] else None
    return rows
