"""Read side of the tracks: scoped look-ups (404 outside the user's scope), a student's enrolments with their
progress, and the per-track counts of a department or school.

Enrolments are seen through their student: whoever sees the student (`Student.objects.visible_to`) sees the
student's tracks. Track types belong to a school: its staff see them, the employment office changes them.

Every count of `track_figures` is a database aggregate over the enrolments of `students` filtered by the very
condition (`enrolment_q`) that the list behind the count applies, so a list always shows as many rows as its count.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from bangfu.assistance.models import HelperAssignment
from bangfu.assistance.policy_queries import policy_schools
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import Perm, staff_schools, unit_q, units_with
from bangfu.students.models import Student
from bangfu.students.queries import in_class_order
from bangfu.tracks.models import MilestoneRecord, Outcome, TrackEnrolment, TrackType
from bangfu.tracks.services import next_milestones

PAGE_SIZE = 50


def language() -> str:
    return get_language() or "zh-hans"


def as_uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- Track types ---------------------------------------------------------------------------------------------------


def office_schools(user: User) -> list[OrgUnit]:
    """The schools whose track types `user` sets (the employment office)."""
    return list(policy_schools(user))


def pick_school(schools: list[OrgUnit], public_id: Any) -> OrgUnit:
    """The school chosen by its public id among `schools` (404 for any other), else the first of them."""
    if public_id in (None, ""):
        if not schools:
            raise Http404
        return schools[0]
    wanted = as_uuid(public_id)
    school = next((s for s in schools if s.public_id == wanted), None)
    if school is None:
        raise Http404
    return school


def get_track_type_for_user(user: User, public_id: uuid.UUID | str) -> TrackType:
    """A track type of a school where `user` works as staff; 404 otherwise."""
    found = (
        TrackType.objects.filter(school__in=[s.pk for s in staff_schools(user)], public_id=public_id)
        .select_related("school")
        .first()
    )
    if found is None:
        raise Http404
    return found


def types_of(school: OrgUnit) -> QuerySet[TrackType]:
    """The school's track types with `enrolled`: how many students are on each now."""
    return TrackType.objects.filter(school=school).annotate(
        enrolled=Count("enrolments", filter=Q(enrolments__left_on__isnull=True))
    )


def joinable_tracks(student: Student) -> QuerySet[TrackType]:
    """The tracks offered by the student's school that the student is not on now."""
    return (
        TrackType.objects.filter(school=student.school_id, is_active=True)
        .exclude(Exists(TrackEnrolment.objects.open().filter(track=OuterRef("pk"), student=student)))
        .order_by("position", "code")
    )


# --- A student's enrolments ----------------------------------------------------------------------------------------


def get_enrolment_for_user(user: User, public_id: uuid.UUID | str) -> TrackEnrolment:
    """An enrolment of a student `user` may see; 404 otherwise, whether it exists or not."""
    found = (
        TrackEnrolment.objects.filter(student__in=Student.objects.visible_to(user).values("pk"), public_id=public_id)
        .select_related("student", "student__school", "student__class_unit", "track")
        .first()
    )
    if found is None:
        raise Http404
    return found


def student_enrolments(student: Student) -> list[TrackEnrolment]:
    """Every enrolment of the student, open ones first, each with its track and its records (two queries)."""
    records = MilestoneRecord.objects.select_related("recorded_by").order_by("reached_on", "pk")
    return list(
        TrackEnrolment.objects.filter(student=student)
        .select_related("track", "joined_by")
        .prefetch_related(Prefetch("records", queryset=records))
        .order_by(F("left_on").desc(nulls_first=True), "track__position", "-joined_on", "-pk")
    )


@dataclass
class Step:
    """One milestone as the student's track card shows it."""

    code: str
    label: str
    final: bool
    outcome: str | None
    reached_on: dt.date | None = None
    is_current: bool = False
    is_next: bool = False


@dataclass
class RecordView:
    label: str
    record: MilestoneRecord


@dataclass
class EnrolmentView:
    enrolment: TrackEnrolment
    name: str
    programme: str
    steps: list[Step]
    finals: list[Step]
    reached: int  # for the progress bar: steps reached, plus one when a final milestone closed the track
    total: int
    current_label: str
    next_choices: list[tuple[str, str]]
    history: list[RecordView] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(100 * self.reached / self.total) if self.total else 0


def enrolment_view(enrolment: TrackEnrolment, lang: str | None = None) -> EnrolmentView:
    """The card of one enrolment: the milestones with the dates reached, what may come next, the history.

    Reads only the enrolment, its track and its prefetched records."""
    lang = lang or language()
    track = enrolment.track
    records = list(enrolment.records.all())
    reached = {r.milestone: r.reached_on for r in records}
    allowed = {m["code"] for m in next_milestones(track, enrolment.current_milestone)} if enrolment.is_open else set()

    def step(m: dict[str, Any]) -> Step:
        return Step(
            code=m["code"],
            label=track.milestone_label(m["code"], lang),
            final=bool(m.get("final")),
            outcome=m.get("outcome"),
            reached_on=reached.get(m["code"]),
            is_current=m["code"] == enrolment.current_milestone,
            is_next=m["code"] in allowed,
        )

    steps = [step(m) for m in track.steps]
    finals = [step(m) for m in track.finals]
    done = sum(1 for s in steps if s.reached_on) + (1 if enrolment.outcome else 0)
    return EnrolmentView(
        enrolment=enrolment,
        name=track.display(lang),
        programme=track.programme_label(enrolment.programme, lang) if enrolment.programme else "",
        steps=steps,
        finals=finals,
        reached=done,
        total=len(steps) + 1,
        current_label=track.milestone_label(enrolment.current_milestone, lang) if enrolment.current_milestone else "",
        next_choices=[(s.code, s.label) for s in [*steps, *finals] if s.is_next],
        history=[RecordView(track.milestone_label(r.milestone, lang), r) for r in reversed(records)],
    )


# --- Counts per track for a department or school ---------------------------------------------------------------


def figure_units(user: User) -> list[OrgUnit]:
    """The units whose track counts `user` may open: the units of their grants with a view of students, and the
    departments of a school they see. Helpers without a unit-wide role have none."""
    if user.is_superuser:
        return list(OrgUnit.objects.filter(kind__in=(UnitKind.SCHOOL, UnitKind.DEPARTMENT)).order_by("path"))
    grants = units_with(user, Perm.VIEW_STUDENT)
    if not grants:
        return []
    q = Q(pk__in=[u.pk for u in grants])
    for unit in grants:
        if unit.kind in (UnitKind.PROVINCE, UnitKind.SCHOOL):
            q |= Q(path__startswith=unit.path, kind__in=(UnitKind.SCHOOL, UnitKind.DEPARTMENT))
    return list(OrgUnit.objects.filter(q).order_by("path"))


def pick_unit(units: list[OrgUnit], public_id: Any) -> OrgUnit:
    """The unit asked for among `units` (404 for any other id), else the widest one."""
    return pick_school(units, public_id)


def school_of(unit: OrgUnit) -> OrgUnit | None:
    if unit.kind == UnitKind.SCHOOL:
        return unit
    parts = unit.path.strip("/").split("/")
    prefixes = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    return OrgUnit.objects.filter(kind=UnitKind.SCHOOL, path__in=prefixes).first()


def students_in(user: User, unit: OrgUnit, cohort: int | None = None) -> QuerySet[Student]:
    """The students of `unit` that `user` sees, of one cohort (enrolment year) when given."""
    students = Student.objects.visible_to(user).filter(unit_q([unit]))
    if cohort is not None:
        students = students.filter(cohort=cohort)
    return students


def cohorts_of(user: User, unit: OrgUnit) -> list[int]:
    return list(students_in(user, unit).order_by("-cohort").values_list("cohort", flat=True).distinct())


# The condition behind each count; the list of a count filters by the same one.
STATUSES: dict[str, Q] = {
    "open": Q(left_on__isnull=True),
    "not_started": Q(left_on__isnull=True, current_milestone=""),
    "succeeded": Q(outcome=Outcome.SUCCESS),
    "failed": Q(outcome=Outcome.FAILURE),
    "left": Q(left_on__isnull=False, outcome=""),
}


def enrolment_q(status: str | None, milestone: str | None) -> Q | None:
    """The enrolments of a count: a status, or the open ones standing at a milestone; None for an unknown status."""
    if milestone:
        return Q(left_on__isnull=True, current_milestone=milestone)
    if not status:
        return Q()
    return STATUSES.get(status)


@dataclass
class MilestoneCount:
    code: str
    label: str
    count: int
    url: str


@dataclass
class TrackFigures:
    track: TrackType
    name: str
    open: int
    not_started: int
    succeeded: int
    failed: int
    left: int
    at: list[MilestoneCount]
    urls: dict[str, str]


def track_list_url(track: TrackType, **filters: Any) -> str:
    query = {k: str(v) for k, v in filters.items() if v not in (None, "")}
    return reverse("tracks:students", kwargs={"track_id": track.public_id}) + ("?" + urlencode(query) if query else "")


def track_figures(
    students: QuerySet[Student], tracks: list[TrackType], *, unit: OrgUnit, cohort: int | None = None
) -> list[TrackFigures]:
    """For each track: students on it now, not yet at a milestone, at each step, succeeded, failed, left; every
    figure with the link to its list. Two queries, whatever the number of students."""
    lang = language()
    enrolments = TrackEnrolment.objects.filter(student__in=students.values("pk"), track__in=[t.pk for t in tracks])
    totals: dict[int, Any] = {
        row["track_id"]: row
        for row in enrolments.values("track_id")
        .annotate(**{name: Count("pk", filter=q) for name, q in STATUSES.items()})
        .order_by()
    }
    at: dict[tuple[int, str], int] = {
        (row["track_id"], row["current_milestone"]): row["n"]
        for row in enrolments.filter(left_on__isnull=True)
        .exclude(current_milestone="")
        .values("track_id", "current_milestone")
        .annotate(n=Count("pk"))
        .order_by()
    }
    base = {"unit": unit.public_id, "cohort": cohort}
    result = []
    for track in tracks:
        row: dict[str, int] = totals.get(track.pk, {})
        result.append(
            TrackFigures(
                track=track,
                name=track.display(lang),
                open=row.get("open", 0),
                not_started=row.get("not_started", 0),
                succeeded=row.get("succeeded", 0),
                failed=row.get("failed", 0),
                left=row.get("left", 0),
                at=[
                    MilestoneCount(
                        code=m["code"],
                        label=track.milestone_label(m["code"], lang),
                        count=at.get((track.pk, m["code"]), 0),
                        url=track_list_url(track, **base, milestone=m["code"]),
                    )
                    for m in track.steps
                ],
                urls={name: track_list_url(track, **base, status=name) for name in STATUSES},
            )
        )
    return result


def track_enrolments(
    students: QuerySet[Student], track: TrackType, *, status: str | None = None, milestone: str | None = None
) -> QuerySet[TrackEnrolment]:
    """The enrolments behind one count, with the student, the class and the student's helper (`helper_name`)."""
    condition = enrolment_q(status, milestone)
    if condition is None:
        return TrackEnrolment.objects.none()
    helper = (
        HelperAssignment.objects.active()
        .filter(student=OuterRef("student_id"))
        .annotate(shown=Coalesce(NullIf(F("helper__full_name"), Value("")), F("helper__username")))
    )
    return in_class_order(
        TrackEnrolment.objects.filter(condition, student__in=students.values("pk"), track=track)
        .select_related("student", "student__class_unit")
        .annotate(helper_name=Subquery(helper.values("shown")[:1])),
        "student__",
        then=("-joined_on", "pk"),
    )


def enrolment_label(enrolment: TrackEnrolment, track: TrackType, lang: str | None = None) -> str:
    """Where an enrolment of `track` stands, in a few words, for a list row."""
    lang = lang or language()
    if enrolment.current_milestone and (enrolment.is_open or enrolment.outcome):
        return track.milestone_label(enrolment.current_milestone, lang)
    if not enrolment.is_open:
        return _("Left the track")
    return _("Not yet at a milestone")
