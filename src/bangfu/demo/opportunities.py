"""The demo university's employers, positions and recruitment events; recommendations of positions to ledger
students; internships, order classes and work-study; graduates' destinations and follow-ups after leaving.

Called by the demo builder after the work ledger is loaded and before progress is computed. Like the rest of
the demo it is bulk-inserted, so this module keeps the services' invariants itself:
- credit codes with their check character, names unique in the school (`creditcodes.name_key`);
- every recommendation is the work-ledger activity it was logged as (the builder's job and work-study
  recommendations, now pointing at a real position), recommended while the position was open, moved one allowed
  step at a time (`NEXT_STATUSES`) on dates that never go backwards or past today, each step kept; the
  activity's response and `effective` follow the status as `change_recommendation` would set them; a
  recommendation nobody acted on whose deadline passed is expired, as the daily job does;
- an accepted job is the graduate's destination from that day, an accepted work-study post or order class
  starts it; attendance at an event is the "event together" activity, dated on the event's day;
- destinations are never overwritten: a change closes the one before (`superseded_on`) the day the next is
  recorded, `placed_since` is kept across job changes and cleared by a fall back to "seeking work", only placed
  destinations with matching evidence are verified, and nothing is dated after today;
- work-study hours stay within 8 a week and 40 a month;
- follow-ups are the builder's follow-up activities, with the graduate's situation on that day; one who was
  unemployed at a follow-up is "seeking work" (70) from then on.
History rows are written in bulk, dated when each action would have happened: the created state, and for a
record that changed later, its final state on the day of the last change.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import DateTimeField, F, Model
from django.db.models.functions import Cast
from simple_history.utils import bulk_create_with_history

from bangfu.assistance.models import Activity, ActivityKind, HelperAssignment
from bangfu.assistance.rules import DEFAULT_RULES, Timeline, is_effective, stage_on
from bangfu.demo import data
from bangfu.opportunities import creditcodes
from bangfu.opportunities.matching import Match, Offer, Profile, match
from bangfu.opportunities.models import (
    DeclineReason,
    Employer,
    Evaluation,
    EventAttendance,
    EventKind,
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
from bangfu.organisation.models import OrgUnit, User
from bangfu.outcomes.models import Destination, DestinationCode, DestinationGroup, FollowUp, FollowUpStatus
from bangfu.outcomes.services import flag_long_unemployed, months_after
from bangfu.students.models import LedgerEntry, Student

if TYPE_CHECKING:
    from bangfu.demo.builder import _Builder

BATCH = 500
DAY = dt.timedelta(days=1)
S = RecommendationStatus
# A graduate's outcome (destination code, weight): the graduates in the ledger are helped one by one, so fewer
# of them stay without work or give up looking.
OUTCOMES = {
    "10": (24, 26),
    "11": (27, 33),
    "12": (7, 6),
    "46": (2, 2),
    "50": (1, 1),
    "51": (1.5, 2),
    "75": (1, 0.5),
    "76": (4, 3),
    "77": (5, 4),
    "80": (17, 18),
    "85": (0.5, 0),
    "71": (3, 1),
    "72": (1.5, 0.5),
    "70": (5, 1),
}
EVIDENCE_FILES = {
    "employment_agreement": "就业协议书",
    "labour_contract": "劳动合同",
    "hiring_proof": "录用证明",
    "admission_letter": "录取通知书",
    "enlistment_notice": "入伍通知书",
    "project_letter": "基层项目录取通知",
    "business_licence": "营业执照",
    "freelance_proof": "自由职业证明",
    "study_abroad_proof": "出国录取通知",
}


@dataclass
class OpportunitySummary:
    employers: int = 0
    positions: int = 0
    events: int = 0
    recommendations: int = 0
    destinations: int = 0
    follow_ups: int = 0


@dataclass
class _Step:
    status: str
    on: dt.date
    reason: str = ""


@dataclass
class _Rec:
    activity: Activity
    position: Position
    fit: Match
    steps: list[_Step] = field(default_factory=list)
    fixed: bool = False  # its steps are decided where it is made

    @property
    def status(self) -> str:
        return self.steps[-1].status


@dataclass
class _Placement:
    """A destination to record: on which day, which code, and with what details."""

    on: dt.date
    code: str
    employer: Employer | None = None
    employer_name: str = ""
    position_title: str = ""
    salary: int | None = None
    note: str = ""


def _aware(day: dt.date, hour: int = 10) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _dated(obj: Model, user: User | None, day: dt.date, hour: int = 10) -> None:
    obj._history_user = user  # type: ignore[attr-defined]
    obj._history_date = _aware(day, hour)  # type: ignore[attr-defined]


def _insert(model: type[Model], objs: Sequence[Model], *, initial: dict[str, Any] | None = None) -> None:
    """Insert with one history row each, dated by `_history_date`. Objects with `_changed_on` also get a second
    history row on that day: the first then shows them as created (`initial`), the second as they are now."""
    if not objs:
        return
    bulk_create_with_history(list(objs), model, batch_size=BATCH)
    changed = [o for o in objs if getattr(o, "_changed_on", None)]
    if changed and initial:
        history = model.history.model  # type: ignore[attr-defined]
        history.objects.filter(id__in=[o.pk for o in changed]).update(**initial)
        for obj in changed:
            obj._history_date = _aware(obj._changed_on, 11)  # type: ignore[attr-defined]
        model.history.bulk_history_create(changed, update=True, batch_size=BATCH)  # type: ignore[attr-defined]


def _update(model: type[Model], objs: Sequence[Model], fields: Sequence[str]) -> None:
    """Write `fields` of existing rows with one executemany (`bulk_update` builds a CASE per field and row, which
    is slow for a few thousand rows)."""
    if not objs:
        return
    meta = model._meta
    columns: list[Any] = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = %s" for f in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s"  # type: ignore[union-attr,arg-type]
    rows = [[f.get_db_prep_save(getattr(o, f.attname), connection) for f in columns] + [o.pk] for o in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _credit_code(authority: str, region: str, serial: str) -> str:
    first17 = f"{authority}{region}{serial}"
    return first17 + creditcodes.check_char(first17)


def _season(day: dt.date) -> tuple[dt.date, dt.date]:
    """The recruitment season a day falls in: autumn (September to mid-January), spring (to June), summer."""
    y = day.year
    if day >= dt.date(y, 9, 1):
        return dt.date(y, 9, 1), dt.date(y + 1, 1, 15)
    if day <= dt.date(y, 1, 15):
        return dt.date(y - 1, 9, 1), dt.date(y, 1, 15)
    if day <= dt.date(y, 6, 30):
        return dt.date(y, 1, 16), dt.date(y, 6, 30)
    return dt.date(y, 7, 1), dt.date(y, 8, 31)


class _Loader:
    def __init__(self, b: _Builder) -> None:
        self.b = b
        self.rng = b.rng
        self.today = b.today
        self.school = b.school
        self.office = b.s.office[0]
        self.summary = OpportunitySummary()
        self.students = {s.pk: s for s in b.all_students}
        self.users = {u.pk: u for u in b.s.all()}
        self.majors: dict[str, list[OrgUnit]] = defaultdict(list)  # by department code
        for spec, _m, _cohort, klass in b.classes:
            major = klass.parent
            if major is not None and major not in self.majors[spec.code]:
                self.majors[spec.code].append(major)
        self.dept_code = {d.pk: code for code, d in b.departments.items()}
        active = HelperAssignment.objects.active().filter(student__school=self.school)
        self.helper_of = {sid: self.users[hid] for sid, hid in active.values_list("student_id", "helper_id")}
        self.in_ledger = set(
            LedgerEntry.objects.filter(student__school=self.school, left_on__isnull=True).values_list(
                "student_id", flat=True
            )
        )
        self.featured = min(b.helper_students, key=lambda st: st.student_number)
        self.activities: list[Activity] = []  # new activities (order-class and internship recommendations)
        self.changed_activities: dict[int, Activity] = {}  # builder activities this module updates
        self.recs: list[_Rec] = []
        self.placements: dict[int, list[_Placement]] = {}  # by student, in date order
        self.became_job: dict[int, Internship] = {}

    def _stage(self, student: Student, day: dt.date) -> str:
        timeline = Timeline(student.cohort, student.program_years, student.expected_graduation)
        return str(stage_on(timeline, day, DEFAULT_RULES))

    def _dept(self, student: Student) -> str:
        return self.dept_code[student.department_id]

    def _recorder(self, student: Student) -> User:
        """Who records a student's destination: their helper, or the counsellor of their class."""
        helper = self.helper_of.get(student.pk)
        return helper or self.b.s.counsellors[self._dept(student), student.cohort]

    # --- employers, positions, events ------------------------------------------------------------------------

    def employers(self) -> None:
        rng = self.rng
        first_day = dt.date(self.b.cohorts[0], 9, 1)
        self.employer_list: list[Employer] = []
        self.recruits: dict[str, list[Employer]] = defaultdict(list)  # employers by department code
        for spec in data.DEMO_EMPLOYERS:
            serial = "MA0" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(5))
            serial += str(rng.randint(0, 9))
            employer = Employer(
                school=self.school,
                name=spec.name,
                name_key=creditcodes.name_key(spec.name),
                credit_code=_credit_code(spec.authority, spec.region, serial),
                industry=spec.industry,
                employer_type=spec.employer_type,
                size=spec.size,
                province=spec.province,
                city=spec.city,
                is_internship_base="I" in spec.partner,
                is_order_class_partner="O" in spec.partner,
                is_work_study_host="W" in spec.partner,
                contact_name=spec.contact,
                contact_phone=self.b.people.phone(),
                created_by=self.office,
            )
            _dated(employer, self.office, first_day)
            self.employer_list.append(employer)
            for code in spec.departments.split():
                self.recruits[code].append(employer)
        _insert(Employer, self.employer_list)
        Employer.objects.filter(school=self.school).update(created_at=_aware(first_day))
        self.host = next(e for e in self.employer_list if e.is_work_study_host)
        self.order_partner = next(e for e in self.employer_list if e.is_order_class_partner)
        self.summary.employers = len(self.employer_list)

    def positions(self) -> None:
        """Job posts every recruitment season since the oldest cohort's final year, internships, work-study posts
        every academic year, and each final-year cohort's order class."""
        rng, today = self.rng, self.today
        self.position_list: list[Position] = []
        self.position_majors: dict[int, list[OrgUnit]] = {}  # by id() until saved
        self.opened: dict[int, dt.date] = {}  # by id()
        start = dt.date(self.b.cohorts[0] + 2, 9, 1)
        season_start = start
        self.job_posts: list[Position] = []
        while season_start <= today:
            opened, closes = _season(season_start)
            current = closes >= today
            for code, employers in self.recruits.items():
                titles, (low, high) = data.JOB_TITLES[code]
                for employer in employers:
                    for title in rng.sample(titles, 2 if employer.size == "large" else 1):
                        bonus = 1500 if employer.province == "北京市" else 0
                        salary = rng.randrange(low, high - 500, 500) + bonus
                        # Most close with the season; some earlier. The newest are open now.
                        deadline = closes - rng.choice([0, 0, 15, 30]) * DAY
                        if current and deadline < today + 20 * DAY:
                            deadline = today + rng.randint(20, 60) * DAY
                        position = self._position(
                            employer, PositionKind.JOB, title, opened, deadline, self.majors[code], salary
                        )
                        position.salary_max = salary + rng.choice([1000, 1500, 2000])
                        position.openings = rng.choice([2, 3, 5, 10])
                        self.job_posts.append(position)
                if code in ("QC", "JD", "XX", "JG") and employers and opened.month == 1:
                    base = rng.choice([e for e in employers if e.is_internship_base] or employers)
                    self._position(
                        base,
                        PositionKind.INTERNSHIP,
                        data.INTERNSHIP_TITLES[0],
                        opened,
                        closes,
                        self.majors[code],
                        2500,
                    )
            season_start = closes + DAY
        # Work-study posts of each academic year, open through the first semester.
        self.work_study_posts: dict[int, list[Position]] = {}
        for year in self.b.cohorts:
            opened = dt.date(year, 9, 1)
            self.work_study_posts[year] = [
                self._position(
                    self.host,
                    PositionKind.WORK_STUDY,
                    f"{year}-{year + 1}学年{title}",
                    opened,
                    dt.date(year + 1, 1, 15),
                    [],
                    None,
                )
                for title in data.WORK_STUDY_TITLES
            ]
        # Summer internships open now for the final year, so a helper has something to arrange.
        for employer in [e for e in self.employer_list if e.is_internship_base][:3]:
            opened = today - 20 * DAY
            codes = [c for c, es in self.recruits.items() if employer in es]
            majors = [m for c in codes for m in self.majors[c]]
            self._position(
                employer, PositionKind.INTERNSHIP, data.INTERNSHIP_TITLES[1], opened, today + 40 * DAY, majors, 3000
            )
        # Order classes: the partner trains a class of each cohort in its second year, and hires them.
        self.order_classes: dict[int, Position] = {}
        for cohort in (self.b.final_year - 1, self.b.final_year):
            opened = dt.date(cohort + 1, 9, 1)
            if opened > today:
                continue
            yy = (cohort + 3) % 100
            self.order_classes[cohort] = self._position(
                self.order_partner,
                PositionKind.ORDER_CLASS,
                f"新能源汽车订单班（{yy}届）",
                opened,
                dt.date(cohort + 1, 10, 10),
                self.majors["QC"],
                5000,
            )
            self.order_classes[cohort].openings = 30
        for position in self.position_list:
            if position.deadline is not None and position.deadline < today - 30 * DAY:
                position.status = PositionStatus.CLOSED
            _dated(position, self.office, self.opened[id(position)])
        _insert(Position, self.position_list)
        through = Position.majors.through
        through.objects.bulk_create(
            [
                through(position_id=p.pk, orgunit_id=m.pk)
                for p in self.position_list
                for m in self.position_majors[id(p)]
            ],
            batch_size=BATCH,
        )
        by_day: dict[dt.date, list[int]] = defaultdict(list)
        for p in self.position_list:
            by_day[self.opened[id(p)]].append(p.pk)
        for day, ids in by_day.items():
            Position.objects.filter(pk__in=ids).update(created_at=_aware(day))
        self.major_ids = {p.pk: frozenset(m.pk for m in self.position_majors[id(p)]) for p in self.position_list}
        self.summary.positions = len(self.position_list)

    def _position(
        self,
        employer: Employer,
        kind: str,
        title: str,
        opened: dt.date,
        deadline: dt.date,
        majors: list[OrgUnit],
        salary: int | None,
    ) -> Position:
        position = Position(
            employer=employer,
            kind=kind,
            title=title,
            province=employer.province,
            city=employer.city,
            salary_min=salary,
            salary_max=salary + 1000 if salary else None,
            deadline=deadline,
            created_by=self.office,
        )
        self.position_list.append(position)
        self.position_majors[id(position)] = list(majors)
        self.opened[id(position)] = opened
        return position

    def _open_on(self, posts: Iterable[Position], day: dt.date) -> list[Position]:
        return [p for p in posts if self.opened[id(p)] <= day and (p.deadline is None or p.deadline >= day)]

    def _fit(self, student: Student, position: Position, day: dt.date) -> Match:
        profile = Profile(
            major_id=student.major_id,
            major_name=student.major.name,
            home_province=student.home_province,
            home_city=student.home_city,
        )
        employer = position.employer
        offer = Offer(
            major_ids=self.major_ids[position.pk],
            province=position.province,
            city=position.city,
            industry=employer.industry,
            employer_type=employer.employer_type,
            employer_is_partner=employer.is_partner,
            salary_max=position.salary_max,
            deadline=position.deadline,
        )
        return match(profile, offer, day)

    def events(self) -> None:
        """One recruitment event a month where helpers took students; each such activity becomes an attendance,
        dated on the event's day. Two more events are coming up."""
        rng, today = self.rng, self.today
        together = Activity.objects.filter(
            student__school=self.school, kind=ActivityKind.EVENT_TOGETHER, voided=False
        ).order_by("occurred_on", "pk")
        by_month: dict[dt.date, list[Activity]] = defaultdict(list)
        for activity in together:
            by_month[activity.occurred_on.replace(day=1)].append(activity)
        events: list[RecruitmentEvent] = []
        attendances: list[EventAttendance] = []
        attended_on: dict[dt.date, list[EventAttendance]] = defaultdict(list)
        for _month, activities in sorted(by_month.items()):
            held_on = min(a.occurred_on for a in activities)
            event = self._event(held_on, rng.sample(self.employer_list[:-1], 8))
            events.append(event)
            for activity in activities:
                student = self.students[activity.student_id]
                activity.occurred_on = held_on
                activity.stage = self._stage(student, held_on)
                activity.event_name = event.title
                self.changed_activities[activity.pk] = activity
                helper = self.users[activity.helper_id]
                attendance = EventAttendance(event=event, student=student, helper=helper, activity=activity)
                attendances.append(attendance)
                attended_on[held_on].append(attendance)
        for weeks in (2, 5):
            events.append(self._event(today + weeks * 7 * DAY, rng.sample(self.employer_list[:-1], 10)))
        _insert(RecruitmentEvent, events)
        through = RecruitmentEvent.employers.through
        through.objects.bulk_create(
            [through(recruitmentevent_id=e.pk, employer_id=x.pk) for e in events for x in e._employers],  # type: ignore[attr-defined]
            batch_size=BATCH,
        )
        EventAttendance.objects.bulk_create(attendances, batch_size=BATCH)
        for day, rows in attended_on.items():
            EventAttendance.objects.filter(pk__in=[a.pk for a in rows]).update(created_at=_aware(day, 18))
        self.summary.events = len(events)

    def _event(self, day: dt.date, employers: list[Employer]) -> RecruitmentEvent:
        graduating = day.year + 1 if day.month >= 9 else day.year
        if day.month in (10, 11, 3, 4, 5):
            season = "秋季" if day.month >= 9 else "春季"
            kind, title, place = EventKind.CAMPUS_FAIR, f"{graduating}届毕业生{season}校园双选会", data.EVENT_PLACES[0]
        elif day.month in (12, 1, 2, 7, 8):
            kind, title, place = EventKind.ONLINE, "河北省“职引未来”网络招聘会", data.EVENT_PLACES[3]
        else:
            kind, title, place = EventKind.REGIONAL, "石家庄市高校毕业生专场招聘会", data.EVENT_PLACES[2]
        event = RecruitmentEvent(
            school=self.school, kind=kind, title=title, held_on=day, place=place, created_by=self.office
        )
        event._employers = employers  # type: ignore[attr-defined]
        _dated(event, self.office, min(day - 14 * DAY, self.today))
        return event

    # --- recommendations -------------------------------------------------------------------------------------

    def job_recommendations(self) -> None:
        """Every job recommendation of the work ledger, now of a real position, and where it led."""
        rng = self.rng
        logged = Activity.objects.filter(
            student__school=self.school, kind=ActivityKind.JOB_RECOMMENDATION, voided=False
        ).order_by("occurred_on", "pk")
        taken: set[tuple[int, int]] = set()
        for activity in logged:
            student = self.students[activity.student_id]
            open_posts = self._open_on(self.job_posts, activity.occurred_on)
            fitting = [p for p in open_posts if student.major_id in self.major_ids[p.pk]]
            pool = fitting if fitting and rng.random() < 0.8 else open_posts
            pool = [p for p in pool if (p.pk, student.pk) not in taken]
            if not pool:
                continue  # stays a recommendation logged without a position record
            position = rng.choice(pool)
            taken.add((position.pk, student.pk))
            rec = _Rec(activity, position, self._fit(student, position, activity.occurred_on))
            rec.steps.append(_Step(S.RECOMMENDED, activity.occurred_on))
            self.recs.append(rec)
        # The `student` login has two fresh recommendations to answer in the student portal; two more students
        # of the `helper` login are waiting for an interview's result and answering an offer.
        others = [s for s in self.b.helper_students if s is not self.featured and s.expected_graduation > self.today]
        waiting: list[tuple[Student, int, int, list[S]]] = [(self.featured, 1, 4, []), (self.featured, 1, 4, [])]
        for student, statuses in zip(others, ([S.APPLIED, S.INTERVIEWED], [S.APPLIED, S.OFFER]), strict=False):
            waiting.append((student, 15, 25, statuses))
        for student, low, high, statuses in waiting:
            day = self.today - rng.randint(low, high) * DAY
            fresh = [p for p in self._open_on(self.job_posts, day) if student.major_id in self.major_ids[p.pk]]
            fresh = [p for p in fresh if (p.pk, student.pk) not in taken]
            if not fresh:
                continue
            position = fresh[0]
            taken.add((position.pk, student.pk))
            activity = self._activity(student, ActivityKind.JOB_RECOMMENDATION, day, position)
            rec = _Rec(activity, position, self._fit(student, position, day), [_Step(S.RECOMMENDED, day)], True)
            rec.steps += [_Step(status, day + (i + 2) * 4 * DAY) for i, status in enumerate(statuses)]
            self.recs.append(rec)

    def _activity(self, student: Student, kind: str, day: dt.date, position: Position) -> Activity:
        helper = self.helper_of.get(student.pk) or self._recorder(student)
        activity = Activity(
            student=student,
            helper=helper,
            created_by=helper,
            kind=kind,
            occurred_on=day,
            stage=self._stage(student, day),
            employer_name=position.employer.name,
            position_title=position.title,
            notes=self.rng.choice(data.ACTIVITY_NOTES.get(kind, data.ACTIVITY_NOTES["other"])),
        )
        self.activities.append(activity)
        return activity

    def _walk(self, rec: _Rec, path: Sequence[tuple[S, int, int]], *, until: dt.date) -> None:
        """Move a recommendation along `path` (status, fewest and most days after the step before), stopping at
        the first step that would fall after `until`."""
        day = rec.steps[-1].on
        for status, low, high in path:
            day = day + self.rng.randint(low, high) * DAY
            if day > until:
                return
            reason = ""
            if status == S.DECLINED:
                reason = self.rng.choice(
                    [
                        DeclineReason.SALARY,
                        DeclineReason.LOCATION,
                        DeclineReason.MAJOR,
                        DeclineReason.FAMILY,
                        DeclineReason.CONDITIONS,
                        DeclineReason.NOT_INTERESTED,
                        DeclineReason.FURTHER_STUDY,
                    ]
                )
            rec.steps.append(_Step(status, day, reason))

    def job_outcomes(self, placed_on: dict[int, dt.date]) -> None:
        """Where each recommendation led. `placed_on`: the day a student's first job or study place was settled
        (from `plan_destinations`); the latest recommendation before it may be the job they accepted."""
        rng, today = self.rng, self.today
        by_student: dict[int, list[_Rec]] = defaultdict(list)
        for rec in self.recs:
            if rec.position.kind == PositionKind.JOB and not rec.fixed:
                by_student[rec.activity.student_id].append(rec)
        for student_id, recs in by_student.items():
            settled = placed_on.get(student_id)
            plan = self.placements.get(student_id, [])
            first = next((p for p in plan if p.on == settled), None)
            if settled is not None and first is not None and first.code in ("10", "11") and first.employer is None:
                before = [r for r in recs if r.activity.occurred_on <= settled - 14 * DAY and r.fit.fits]
                if before and rng.random() < 0.6:
                    # The job came from the latest fitting recommendation at least two weeks before.
                    rec = before[-1]
                    applied = rec.steps[0].on + rng.randint(1, 4) * DAY
                    interviewed = applied + rng.randint(3, 8) * DAY
                    offer = max(interviewed, settled - rng.randint(1, 2) * DAY)
                    rec.steps += [_Step(S.APPLIED, applied), _Step(S.INTERVIEWED, interviewed)]
                    rec.steps += [_Step(S.OFFER, offer), _Step(S.ACCEPTED, settled)]
                    position = rec.position
                    first.employer, first.employer_name = position.employer, position.employer.name
                    first.position_title, first.salary = position.title, position.salary_min
                    first.note = "接受推荐岗位。"
            # What was still open when the student was placed is declined for that place.
            taken_instead = DeclineReason.OTHER_OFFER
            if first is not None and first.code in ("80", "85"):
                taken_instead = DeclineReason.FURTHER_STUDY
            for rec in recs:
                if rec.status != S.RECOMMENDED or len(rec.steps) > 1:
                    continue
                r = rng.random()
                if r < 0.3:
                    path = [(S.DECLINED, 2, 10)]
                elif r < 0.55:
                    path = [(S.APPLIED, 1, 5), (S.REJECTED, 10, 30)]
                elif r < 0.7:
                    path = [(S.APPLIED, 1, 5), (S.INTERVIEWED, 5, 15), (S.REJECTED, 3, 10)]
                elif r < 0.8:
                    path = [(S.APPLIED, 1, 5), (S.INTERVIEWED, 5, 15), (S.DECLINED, 2, 7)]
                elif r < 0.85:
                    path = [(S.APPLIED, 1, 5), (S.INTERVIEWED, 5, 15), (S.OFFER, 3, 10), (S.DECLINED, 2, 7)]
                elif r < 0.89:
                    path = [(S.APPLIED, 1, 5)]  # no answer from the employer yet
                elif r < 0.94:
                    path = [(S.INTERESTED, 1, 4)]  # interested, not applied yet
                else:
                    path = []  # nobody acted on it
                self._walk(rec, path, until=min(today, settled - DAY) if settled else today)
                # Declined once the student was placed, unless the daily job expired it first (nobody acted on it
                # and the position closed).
                declined = max(settled, rec.steps[-1].on) + rng.randint(1, 5) * DAY if settled else today + DAY
                deadline = rec.position.deadline
                if (
                    rec.status in (S.RECOMMENDED, S.INTERESTED)
                    and deadline is not None
                    and deadline + DAY <= min(declined, today)
                ):
                    rec.steps.append(_Step(S.EXPIRED, deadline + DAY))
                elif (
                    rec.status in (S.RECOMMENDED, S.INTERESTED, S.APPLIED, S.INTERVIEWED, S.OFFER) and declined <= today
                ):
                    rec.steps.append(_Step(S.DECLINED, declined, taken_instead))

    def work_study(self) -> None:
        """The work-study recommendations of the ledger, of the posts of their academic year, and the hours worked
        this academic year within the national limits."""
        rng, today = self.rng, self.today
        logged = Activity.objects.filter(
            student__school=self.school, kind=ActivityKind.WORK_STUDY_RECOMMENDATION, voided=False
        ).order_by("occurred_on", "pk")
        holds: dict[int, int] = {}  # student → academic year of the post they hold
        self.assignments: list[WorkStudyAssignment] = []
        taken: set[tuple[int, int]] = set()
        for activity in logged:
            student = self.students[activity.student_id]
            year = activity.occurred_on.year if activity.occurred_on.month >= 9 else activity.occurred_on.year - 1
            posts = [
                p
                for p in self._open_on(self.work_study_posts.get(year, []), activity.occurred_on)
                if (p.pk, student.pk) not in taken
            ]
            if not posts:
                continue
            position = rng.choice(posts)
            taken.add((position.pk, student.pk))
            rec = _Rec(activity, position, self._fit(student, position, activity.occurred_on))
            rec.steps.append(_Step(S.RECOMMENDED, activity.occurred_on))
            self.recs.append(rec)
            r = rng.random()
            if holds.get(student.pk) == year or r < 0.2:
                path = [(S.DECLINED, 1, 7)]
            elif r < 0.7:
                path = [(S.APPLIED, 1, 3), (S.OFFER, 3, 10), (S.ACCEPTED, 1, 3)]
            elif r < 0.85:
                path = [(S.APPLIED, 1, 3), (S.REJECTED, 5, 15)]
            else:
                path = []
            self._walk(rec, path, until=today)
            if rec.status == S.RECOMMENDED and position.deadline and position.deadline < today:
                rec.steps.append(_Step(S.EXPIRED, position.deadline + DAY))
            if rec.status == S.ACCEPTED:
                holds[student.pk] = year
                started = rec.steps[-1].on
                ended = dt.date(year + 1, 6, 30)
                helper = self.users[activity.helper_id]
                assignment = WorkStudyAssignment(
                    student=student,
                    position=position,
                    started_on=started,
                    ended_on=ended if ended < today else None,
                    recorded_by=helper,
                )
                _dated(assignment, helper, started)
                if assignment.ended_on:
                    assignment._changed_on = ended  # type: ignore[attr-defined]
                    assignment.version = 2
                self.assignments.append(assignment)
            self.changed_activities[activity.pk] = activity
        _insert(WorkStudyAssignment, self.assignments, initial={"ended_on": None, "version": 1})
        hours: list[WorkStudyHours] = []
        since = today - 90 * DAY
        for assignment in self.assignments:
            if assignment.ended_on is not None:
                continue
            week = max(assignment.started_on, since)
            week -= week.weekday() * DAY
            month_total: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
            while week <= today:
                week_total = Decimal(0)
                for weekday in sorted(rng.sample(range(5), rng.choice([1, 2, 2, 3]))):
                    day = week + weekday * DAY
                    amount = Decimal(rng.choice([2, 2, 3, 3, 4]))
                    month = (day.year, day.month)
                    if day < assignment.started_on or day > today:
                        continue
                    if week_total + amount > 8 or month_total[month] + amount > 40:
                        continue
                    week_total += amount
                    month_total[month] += amount
                    row = WorkStudyHours(
                        assignment=assignment,
                        student=assignment.student,
                        worked_on=day,
                        hours=amount,
                        recorded_by=assignment.recorded_by,
                    )
                    _dated(row, assignment.recorded_by, day, 17)
                    hours.append(row)
                week += 7 * DAY
        _insert(WorkStudyHours, hours)
        WorkStudyHours.objects.filter(student__school=self.school).update(
            created_at=Cast(F("worked_on"), output_field=DateTimeField())
        )

    def order_classes_and_internships(self) -> None:
        """Each order class: about thirty students of the automotive school, the ledger students among them
        recommended by their helper; two left. Internships: the graduated cohort's placement internship in their
        last semester, some of which became the job; summer internships of the final year; a few arranged now."""
        rng, today = self.rng, self.today
        memberships: list[OrderClassMembership] = []
        for cohort, position in self.order_classes.items():
            pool = [s for s in self.b.all_students if s.cohort == cohort and self._dept(s) == "QC"]
            members = sorted(pool, key=lambda s: (s.pk not in self.in_ledger, rng.random()))[: position.openings]
            assert position.deadline is not None
            joined = position.deadline + 5 * DAY
            leavers = set(range(13, len(members), 14)) or {len(members) - 1}  # about one in fourteen leaves
            for i, student in enumerate(members):
                recorder = self._recorder(student)
                if student.pk in self.helper_of:
                    day = joined - rng.randint(15, 25) * DAY
                    activity = self._activity(student, ActivityKind.ORDER_CLASS_RECOMMENDATION, day, position)
                    rec = _Rec(activity, position, self._fit(student, position, day), [_Step(S.RECOMMENDED, day)])
                    rec.steps += [_Step(S.APPLIED, day + 2 * DAY), _Step(S.OFFER, joined - 2 * DAY)]
                    rec.steps.append(_Step(S.ACCEPTED, joined))
                    self.recs.append(rec)
                membership = OrderClassMembership(
                    student=student, position=position, joined_on=joined, recorded_by=recorder
                )
                _dated(membership, recorder, joined)
                if i in leavers:
                    membership.left_on = min(dt.date(cohort + 2, 3, 1), today)
                    membership.left_reason = "准备专升本考试，本人申请退出订单班。"
                    membership._changed_on = membership.left_on  # type: ignore[attr-defined]
                    membership.version = 2
                else:
                    # The partner hires its order class before graduation.
                    self.placements[student.pk] = [
                        _Placement(
                            student.expected_graduation - rng.randint(20, 60) * DAY,
                            "10",
                            position.employer,
                            position.employer.name,
                            rng.choice(data.JOB_TITLES["QC"][0]),
                            5000,
                            "订单班定向就业。",
                        )
                    ]
                memberships.append(membership)
        _insert(OrderClassMembership, memberships, initial={"left_on": None, "left_reason": "", "version": 1})

        internships: list[Internship] = []
        bases = [e for e in self.employer_list if e.is_internship_base] or self.employer_list
        for student_id in sorted(self.in_ledger):
            student = self.students[student_id]
            graduation = student.expected_graduation
            recorder = self._recorder(student)
            code = self._dept(student)
            employers = [e for e in self.recruits.get(code, []) if e.is_internship_base] or bases
            if graduation < today and rng.random() < 0.8:
                start, end = dt.date(graduation.year, 2, 20), dt.date(graduation.year, 6, 10)
            elif graduation >= today and graduation - today < 400 * DAY and rng.random() < 0.25:
                start, end = dt.date(graduation.year - 1, 7, 10), dt.date(graduation.year - 1, 8, 25)
            else:
                continue
            if start > today:
                continue
            internship = Internship(
                student=student, employer=rng.choice(employers), started_on=start, recorded_by=recorder
            )
            _dated(internship, recorder, start)
            if end <= today:
                internship.ended_on = end
                internship.evaluation = rng.choice(
                    [Evaluation.EXCELLENT, Evaluation.GOOD, Evaluation.GOOD, Evaluation.PASS]
                )
                internship.evaluation_note = rng.choice(data.INTERNSHIP_EVALUATIONS)
                internship.became_job = graduation < today and rng.random() < 0.25
                internship._changed_on = end + 5 * DAY  # type: ignore[attr-defined]
                internship.version = 2
                if internship.became_job:
                    self.became_job[student.pk] = internship
            internships.append(internship)
        # A few internships arranged this month through a recommendation.
        summer = [
            p
            for p in self.position_list
            if p.kind == PositionKind.INTERNSHIP and self.opened[id(p)] >= today - 30 * DAY  # opened this month
        ]
        candidates = [s for s in self.b.helper_students if s.expected_graduation > today]
        for student in rng.sample(candidates, min(6, len(candidates))):
            posts = [p for p in summer if student.major_id in self.major_ids[p.pk]] or summer
            if not posts:
                break
            position = rng.choice(posts)
            day = today - rng.randint(3, 15) * DAY
            activity = self._activity(student, ActivityKind.INTERNSHIP_ARRANGED, day, position)
            rec = _Rec(activity, position, self._fit(student, position, day), [_Step(S.RECOMMENDED, day)])
            self._walk(rec, [(S.APPLIED, 1, 2), (S.OFFER, 1, 3), (S.ACCEPTED, 1, 2)], until=today)
            self.recs.append(rec)
            if rec.status == S.ACCEPTED:
                recorder = self._recorder(student)
                internship = Internship(
                    student=student,
                    employer=position.employer,
                    position=position,
                    started_on=rec.steps[-1].on,
                    recorded_by=activity.helper,
                )
                _dated(internship, activity.helper, rec.steps[-1].on)
                internships.append(internship)
        _insert(
            Internship,
            internships,
            initial={"ended_on": None, "evaluation": "", "evaluation_note": "", "became_job": False, "version": 1},
        )

    def save_recommendations(self) -> None:
        """The recommendations with their steps; their activities carry the answer as the work ledger reads it."""
        response_of: dict[str, str] = {
            S.APPLIED: "applied",
            S.INTERVIEWED: "interviewed",
            S.OFFER: "employer_answered",
            S.ACCEPTED: "employer_answered",
            S.REJECTED: "employer_answered",
        }
        recommendations: list[Recommendation] = []
        for rec in self.recs:
            activity = rec.activity
            statuses = [s.status for s in rec.steps]
            acted = next((s.on for s in rec.steps if s.status == S.APPLIED), None)
            offered = next((s.on for s in rec.steps if s.status == S.OFFER), None)
            last = rec.steps[-1]
            helper = self.users.get(activity.helper_id) or activity.helper
            recommendation = Recommendation(
                position=rec.position,
                student_id=activity.student_id,
                recommended_by=helper,
                recommended_on=rec.steps[0].on,
                status=last.status,
                fits_student=rec.fit.fits,
                fit_reasons=rec.fit.as_json(),
                acted_on=acted,
                offered_on=offered,
                decline_reason=last.reason if last.status == S.DECLINED else "",
                activity=activity,
                version=len(rec.steps),
            )
            _dated(recommendation, helper, rec.steps[0].on)
            if len(rec.steps) > 1:
                recommendation._changed_on = last.on  # type: ignore[attr-defined]
            recommendations.append(recommendation)
            if activity.kind == ActivityKind.JOB_RECOMMENDATION:
                response = ""
                for status in statuses:
                    response = response_of.get(status, response)
                if last.status == S.DECLINED and acted is None:
                    response = "declined"
                activity.employer_name, activity.position_title = rec.position.employer.name, rec.position.title
                activity.fits_student = rec.fit.fits
                activity.response = response
                activity.effective = is_effective(
                    kind=activity.kind, fits_student=activity.fits_student, response=response, rules=DEFAULT_RULES
                )
            else:
                activity.employer_name, activity.position_title = rec.position.employer.name, rec.position.title
            if activity.pk:
                self.changed_activities[activity.pk] = activity
        Activity.objects.bulk_create(self.activities, batch_size=BATCH)
        for recommendation in recommendations:
            recommendation.activity_id = recommendation.activity.pk  # type: ignore[union-attr]
        _insert(
            Recommendation,
            recommendations,
            initial={"status": S.RECOMMENDED, "acted_on": None, "offered_on": None, "decline_reason": "", "version": 1},
        )
        steps = []
        for rec, recommendation in zip(self.recs, recommendations, strict=True):
            previous = ""
            for step in rec.steps:
                steps.append(
                    RecommendationStep(
                        recommendation=recommendation,
                        from_status=previous,
                        to_status=step.status,
                        on=step.on,
                        by=recommendation.recommended_by,
                        reason=step.reason,
                        note=data.DECLINE_NOTES.get(step.reason, ""),
                    )
                )
                previous = step.status
        RecommendationStep.objects.bulk_create(steps, batch_size=BATCH)
        RecommendationStep.objects.filter(recommendation__student__school=self.school).update(
            at=Cast(F("on"), output_field=DateTimeField())
        )
        _update(
            Activity,
            list(self.changed_activities.values()),
            [
                "occurred_on",
                "stage",
                "event_name",
                "employer_name",
                "position_title",
                "fits_student",
                "response",
                "effective",
                "notes",
            ],
        )
        self.summary.recommendations = len(recommendations)

    # --- destinations and follow-ups -------------------------------------------------------------------------

    def plan_destinations(self) -> dict[int, dt.date]:
        """Each student of the graduating and graduated cohorts: where they end up and when, and what is recorded
        by today. Returns the day each was placed (first job or study place), for the recommendations."""
        rng, today = self.rng, self.today
        codes = list(OUTCOMES)
        plain = [w[0] for w in OUTCOMES.values()]
        helped = [w[1] for w in OUTCOMES.values()]
        self.follow_up_days: dict[int, list[Activity]] = defaultdict(list)
        for activity in Activity.objects.filter(
            student__school=self.school, kind=ActivityKind.FOLLOW_UP, voided=False
        ).order_by("occurred_on", "pk"):
            self.follow_up_days[activity.student_id].append(activity)
        placed_on: dict[int, dt.date] = {}
        recorded: dict[int, list[_Placement]] = {}
        for student in self.b.all_students:
            g = student.expected_graduation
            if g - today > 300 * DAY:
                continue  # too early: nobody has signed yet
            ledger = student.pk in self.in_ledger
            plan = self.placements.get(student.pk)
            internship = self.became_job.get(student.pk)
            if plan is None and internship is not None and internship.ended_on is not None:
                plan = [
                    _Placement(
                        internship.ended_on + rng.randint(5, 20) * DAY,
                        "11",
                        internship.employer,  # type: ignore[operator]
                        internship.employer.name,
                        note="实习单位留用。",
                    )
                ]
            if plan is None:
                if not ledger and rng.random() < 0.03:
                    continue  # never reported back: unknown
                code = rng.choices(codes, helped if ledger else plain)[0]
                if code in ("80", "85"):
                    settled = g - rng.randint(5, 60) * DAY  # admission letters come in May and June
                elif code == "46":
                    settled = dt.date(g.year, 9, 10) + rng.randint(0, 20) * DAY  # the autumn enlistment
                elif code in ("70", "71", "72"):
                    settled = g
                else:
                    settled = g + int(rng.triangular(-270, 150, -60)) * DAY
                plan = [_Placement(settled, code)]
            first = plan[0]
            if first.on > g and first.code not in ("70", "71", "72"):
                plan.insert(0, _Placement(g, "70", note="离校时尚未落实去向。"))
            if first.code not in ("70", "71", "72"):
                placed_on[student.pk] = first.on
            # After leaving: a few change jobs or lose them, found out at a follow-up (or at a later call).
            last = plan[-1]
            if last.code in ("10", "11", "12", "76", "77"):
                visits = [a.occurred_on for a in self.follow_up_days.get(student.pk, []) if a.occurred_on > last.on]
                r = rng.random()
                later = visits[0] if visits else last.on + rng.randint(60, 200) * DAY
                if r < 0.05:
                    plan.append(_Placement(later, "11", note="更换工作单位。"))
                elif r < (0.07 if ledger else 0.08):
                    plan.append(_Placement(later, "70", note="离校跟踪时未就业。"))
            recorded[student.pk] = [p for p in plan if p.on <= today]
        self.placements = recorded
        return placed_on

    def destinations(self) -> None:
        rng, today = self.rng, self.today
        codes = {c.code: c for c in DestinationCode.objects.filter(school__isnull=True).order_by("code", "valid_from")}
        files = {
            kind: default_storage.save(f"destinations/demo/{name}-示例.pdf", ContentFile(data.SAMPLE_PDF))
            for kind, name in EVIDENCE_FILES.items()
        }
        rows: list[Destination] = []
        self.destination_on: dict[int, list[Destination]] = {}
        for student_id, plan in self.placements.items():
            if not plan:
                continue
            student = self.students[student_id]
            recorder = self._recorder(student)
            verifier = self.b.s.leaders[self._dept(student)][0]
            code_of = self._dept(student)
            placed_since: dt.date | None = None
            chain: list[Destination] = []
            for i, p in enumerate(plan):
                row = codes[p.code]
                placed = row.group in (DestinationGroup.EMPLOYED, DestinationGroup.FURTHER_STUDY)
                placed_since = (placed_since or p.on) if placed else None
                d = Destination(
                    student=student,
                    code=row,
                    recorded_on=p.on,
                    recorded_by=recorder,
                    placed_since=placed_since,
                    note=p.note,
                )
                if row.group == DestinationGroup.EMPLOYED:
                    employer = p.employer
                    if employer is None and p.code in ("10", "11", "12") and rng.random() < 0.45:
                        employer = rng.choice(self.recruits.get(code_of) or self.employer_list)
                    if employer is not None:
                        d.employer = employer
                        d.employer_name = p.employer_name or employer.name
                        d.employer_type, d.industry = employer.employer_type, employer.industry
                        d.work_province, d.work_city = employer.province, employer.city
                        d.employer_is_partner = employer.is_partner
                    else:
                        pool = data.OTHER_DESTINATIONS.get(p.code) or data.OTHER_DESTINATIONS["employed"]
                        d.employer_name = p.employer_name or rng.choice(pool)
                        d.work_province, d.work_city = "河北省", rng.choice(["石家庄市", "保定市", "邢台市", "唐山市"])
                    titles, (low, high) = data.JOB_TITLES[code_of]
                    if p.code in ("10", "11", "12", "27"):
                        d.position_title = p.position_title or rng.choice(titles)
                        d.salary = p.salary or rng.randrange(low, high, 100)
                        d.matches_major = rng.random() < 0.75
                    d.started_on = max(p.on, student.expected_graduation + rng.randint(1, 15) * DAY)
                elif row.group == DestinationGroup.FURTHER_STUDY:
                    d.employer_name = rng.choice(data.OTHER_DESTINATIONS[p.code])
                    d.position_title = f"专升本：{student.major.name}" if p.code == "80" else ""
                    d.started_on = dt.date(student.expected_graduation.year, 9, 5)
                if i + 1 < len(plan):
                    d.superseded_on = plan[i + 1].on
                if placed and row.evidence_kinds and rng.random() < (0.85 if student.pk in self.in_ledger else 0.65):
                    kind = row.evidence_kinds[0]
                    d.evidence, d.evidence_kind = files.get(kind, files["hiring_proof"]), kind
                    verified = p.on + rng.randint(3, 40) * DAY
                    in_force = d.superseded_on is None or verified < d.superseded_on
                    if verified <= today and in_force and rng.random() < 0.9:  # a few still wait for the check
                        d.verified_on, d.verified_by = verified, verifier
                    d._changed_on = min(verified, today, d.superseded_on or today)  # type: ignore[attr-defined]
                if d.superseded_on is not None:
                    d._changed_on = d.superseded_on  # type: ignore[attr-defined]
                d.version = 1 + bool(d.evidence) + bool(d.verified_on) + (d.superseded_on is not None)
                _dated(d, recorder, p.on)
                chain.append(d)
            rows += chain
            self.destination_on[student_id] = chain
        _insert(
            Destination,
            rows,
            initial={
                "superseded_on": None,
                "evidence": "",
                "evidence_kind": "",
                "verified_on": None,
                "verified_by": None,
                "version": 1,
            },
        )
        self.summary.destinations = len(rows)

    def follow_ups(self) -> None:
        """The builder's follow-up activities of graduates, with the situation each found."""
        rows: list[FollowUp] = []
        touched: list[Activity] = []
        for student_id, activities in self.follow_up_days.items():
            student = self.students[student_id]
            chain = self.destination_on.get(student_id, [])
            since = student.expected_graduation
            for activity in activities:
                day = activity.occurred_on
                if day <= student.expected_graduation:
                    continue
                current = next(
                    (d for d in chain if d.recorded_on <= day and (d.superseded_on is None or d.superseded_on > day)),
                    None,
                )
                if current is None or current.code.not_seeking:
                    continue  # nothing to ask about: the activity stays a plain follow-up
                earlier_job = any(d.code.group == DestinationGroup.EMPLOYED for d in chain[: chain.index(current)])
                if current.code.group == DestinationGroup.FURTHER_STUDY:
                    status = FollowUpStatus.FURTHER_STUDY
                elif current.code.group == DestinationGroup.NOT_PLACED:
                    status = FollowUpStatus.UNEMPLOYED
                elif earlier_job and current.recorded_on > since:
                    status = FollowUpStatus.CHANGED_JOB
                else:
                    status = FollowUpStatus.STILL_EMPLOYED
                since = day
                notes = self.rng.choice(data.FOLLOW_UP_NOTES[status])
                activity.notes = notes
                touched.append(activity)
                follow_up = FollowUp(
                    student=student,
                    destination=current,
                    done_on=day,
                    months_after_leaving=months_after(student.expected_graduation, day),
                    status=status,
                    notes=notes,
                    activity=activity,
                    recorded_by=self.users.get(activity.helper_id) or activity.helper,
                )
                _dated(follow_up, follow_up.recorded_by, day, 16)
                rows.append(follow_up)
        _insert(FollowUp, rows)
        FollowUp.objects.filter(student__school=self.school).update(
            created_at=Cast(F("done_on"), output_field=DateTimeField())
        )
        _update(Activity, touched, ["notes"])
        self.summary.follow_ups = len(rows)


def load(builder: _Builder) -> OpportunitySummary:
    """Load the opportunities and outcomes of the demo school (inside the builder's transaction)."""
    loader = _Loader(builder)
    loader.employers()
    loader.positions()
    loader.events()
    loader.job_recommendations()
    loader.order_classes_and_internships()
    placed_on = loader.plan_destinations()
    loader.job_outcomes(placed_on)
    loader.work_study()
    loader.save_recommendations()
    loader.destinations()
    loader.follow_ups()
    flag_long_unemployed(today=builder.today, students=Student.objects.filter(school=builder.school))
    return loader.summary


__all__ = ["OpportunitySummary", "load"]
