"""The dashboards' figures: the school leader's, the department leader's "clearing to zero" board (动态清零) and the
helper's, each scoped to what the user may see.

Every figure is a database aggregate over `apply_student_filters(Student.objects.visible_to(user), **filters)` for
the very filters its link passes to the student list (or, for subsidies and tracks, over the rows of the list it
links to), so the list behind a number always shows that number of rows. Figures read progress rows,
destinations, applications and recommendations; no dashboard reads activities.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    FilteredRelation,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf, TruncMonth
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from bangfu.assistance.compliance import (
    Row,
    at_risk,
    behind,
    department_rows,
    departments_in_scope,
    helper_shown,
    meets_all,
    overdue,
    standing,
    standing_q,
    student_list_path,
    total_row,
)
from bangfu.assistance.labels import MeterView, meter_views, next_due_text, risk_reason_text
from bangfu.assistance.models import HelperAssignment, RiskLevel, StudentProgress
from bangfu.assistance.queries import my_board
from bangfu.dates import add_months, month_start
from bangfu.opportunities.queries import conversion, recommendations_for
from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.outcomes.models import DestinationGroup
from bangfu.students.models import Category, LedgerEntry, Student
from bangfu.students.queries import (
    RECOMMENDATION_STAGES,
    apply_student_filters,
    placed_q,
)
from bangfu.subsidies.models import ApplicationStatus, Budget, SubsidyType
from bangfu.subsidies.queries import applications_for, filter_applications

Filters = dict[str, Any]


def language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


def _query(filters: Filters) -> str:
    params = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in filters.items() if v not in (None, "")}
    return "?" + urlencode(params) if params else ""


def list_params(filters: Filters) -> Filters:
    """`apply_student_filters` keywords as the student list's query parameters (True → "yes", False → "no")."""
    return {k: ({True: "yes", False: "no"}[v] if isinstance(v, bool) else v) for k, v in filters.items()}


def students_url(filters: Filters) -> str:
    return student_list_path() + _query(list_params(filters))


@dataclass(frozen=True)
class Figure:
    """A number and the list that shows its rows."""

    value: int
    url: str


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def same_day_years_back(day: dt.date, years: int) -> dt.date:
    """The same day of the year `years` earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _students(user: User, filters: Filters) -> QuerySet[Student]:
    return apply_student_filters(Student.objects.visible_to(user), **filters)


def _figures(user: User, base: Filters, named: dict[str, tuple[Filters, Q]]) -> dict[str, Figure]:
    """Several figures over the students of `base`, in one query: each is `base` narrowed by its extra filters,
    counted with the equivalent condition."""
    counts = _students(user, base).aggregate(**{name: Count("pk", filter=q) for name, (_extra, q) in named.items()})
    return {name: Figure(counts[name] or 0, students_url({**base, **extra})) for name, (extra, _q) in named.items()}


def _standing_figures(user: User, base: Filters, named: dict[str, Filters]) -> dict[str, Figure]:
    """As `_figures`, over the ledger students' progress rows (`compliance.standing`): each figure is `base`
    narrowed by its extra filters, counted with the same filters read on the row; one query."""
    counts = standing(user, **base).aggregate(
        **{name: Count("pk", filter=standing_q(**extra)) for name, extra in named.items()}
    )
    return {name: Figure(counts[name], students_url({**base, **extra})) for name, extra in named.items()}


# ---------------------------------------------------------------------------------------------------------
# Placement of a cohort of ledger graduates


@dataclass(frozen=True)
class Placement:
    """Ledger graduates of one year, as recorded now (`as_of` None) or on a past date."""

    year: int
    as_of: dt.date | None
    graduates: Figure
    placed: Figure
    unplaced: Figure

    @property
    def rate(self) -> float | None:
        return share(self.placed.value, self.graduates.value)


def cohort_filters(year: int, as_of: dt.date | None = None, **more: Any) -> Filters:
    """The ledger graduates of `year` (on `as_of`, or now) narrowed by `more` (e.g. a department)."""
    filters: Filters = {**more, "graduating": year, "in_ledger": True}
    if as_of is not None:
        filters["as_of"] = as_of
    return filters


def placement(user: User, year: int, as_of: dt.date | None = None, **more: Any) -> Placement:
    """Graduates, placed and unplaced: now, on the progress rows; on a past day, from the ledger and destinations
    as they stood then."""
    base = cohort_filters(year, as_of, **more)
    if as_of is None:
        figures = _standing_figures(
            user, base, {"graduates": {}, "placed": {"placed": True}, "unplaced": {"placed": False}}
        )
        return Placement(year=year, as_of=as_of, **figures)
    placed = placed_q(as_of)
    figures = _figures(
        user,
        base,
        {"graduates": ({}, Q()), "placed": ({"placed": True}, placed), "unplaced": ({"placed": False}, ~placed)},
    )
    return Placement(year=year, as_of=as_of, **figures)


def placement_years(user: User, year: int, today: dt.date, back: int = 2, **more: Any) -> list[Placement]:
    """The cohort of `year` now, then the `back` cohorts before it on the same day as many years ago: the same
    distance from their graduation, so "100 % three years running" can be checked number by number."""
    rows = [placement(user, year, None, **more)]
    for k in range(1, back + 1):
        rows.append(placement(user, year - k, same_day_years_back(today, k), **more))
    return rows


@dataclass
class DepartmentPlacement:
    label: str
    department: OrgUnit
    graduates: Figure
    placed: Figure
    unplaced: Figure
    board_url: str = ""

    @property
    def rate(self) -> float | None:
        return share(self.placed.value, self.graduates.value)


def departments_ranked(user: User, year: int, departments: list[OrgUnit]) -> list[DepartmentPlacement]:
    """Each department with ledger graduates of `year`, by placement rate (best first), in one query."""
    base = cohort_filters(year)
    grouped = {
        r["department_id"]: r
        for r in standing(user, **base)
        .values("department_id")
        .annotate(graduates=Count("pk"), placed=Count("pk", filter=standing_q(placed=True)))
        .order_by()
    }
    lang = language()
    rows = []
    for d in departments:
        r = grouped.get(d.pk)
        if r is None:
            continue
        filters = {**base, "department": d.public_id}
        rows.append(
            DepartmentPlacement(
                label=d.display_name(lang),
                department=d,
                graduates=Figure(r["graduates"], students_url(filters)),
                placed=Figure(r["placed"], students_url({**filters, "placed": True})),
                unplaced=Figure(r["graduates"] - r["placed"], students_url({**filters, "placed": False})),
                board_url=reverse("reports:department") + _query({"department": d.public_id, "year": year}),
            )
        )
    rows.sort(key=lambda r: (-(r.rate if r.rate is not None else -1), -r.graduates.value, r.label))
    return rows


# ---------------------------------------------------------------------------------------------------------
# Charts: each is a list of labelled figures; the template draws it and puts its table beside it.


@dataclass(frozen=True)
class Bar:
    label: str
    figure: Figure
    extra: Figure | None = None  # a second series (e.g. placed, beside graduates)


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # "bar" or "pie"
    series: list[str]
    bars: list[Bar] = field(default_factory=list)
    percent_of_first: bool = False  # show the second series as a share of the first in the table

    def data(self) -> dict[str, Any]:
        """What charts.js reads (through `json_script`)."""
        values = [[b.figure.value for b in self.bars]]
        links = [[b.figure.url for b in self.bars]]
        if len(self.series) > 1:
            values.append([b.extra.value if b.extra else 0 for b in self.bars])
            links.append([b.extra.url if b.extra else "" for b in self.bars])
        return {
            "kind": self.kind,
            "title": self.title,
            "labels": [b.label for b in self.bars],
            "series": [
                {"name": name, "values": v, "links": u} for name, v, u in zip(self.series, values, links, strict=True)
            ],
            "save": _("Save as PNG"),
            "locale": "EN" if language() == "en" else "ZH",
        }


def destination_groups(user: User, base: Filters) -> Chart:
    """The cohort by the group of its current destination, and those with none recorded; one query."""
    named: dict[str, Filters] = {group: {"destination_group": group} for group in (*DestinationGroup.values, "none")}
    figures = _standing_figures(user, base, named)
    labels = {**{g.value: str(g.label) for g in DestinationGroup}, "none": _("No destination recorded")}
    return Chart(
        key="groups",
        title=_("Ledger graduates by destination"),
        kind="pie",
        series=[_("Graduates")],
        bars=[Bar(labels[name], figures[name]) for name in named],
    )


def categories(user: User, base: Filters) -> Chart:
    """The cohort by ledger category (a student counts once in each of their categories), with those placed.

    Read from the cohort's progress rows through the student's open entry to its categories: starting from the
    categories (`entry__student__in=cohort`) made PostgreSQL scan every category row of the province (5 s there;
    docs/benchmarks.md)."""
    entry = FilteredRelation("student__ledger_entries", condition=Q(student__ledger_entries__left_on__isnull=True))
    rows = (
        standing(user, **base)
        .annotate(entry=entry)
        .filter(entry__categories__isnull=False)
        .values(category=F("entry__categories__category"))
        .annotate(graduates=Count("pk"), placed=Count("pk", filter=standing_q(placed=True)))
        .order_by("-graduates", "category")
    )
    bars = []
    for r in rows:
        code = r["category"]
        label = str(Category(code).label) if code in Category.values else code
        filters = {**base, "category": code}
        bars.append(
            Bar(
                label,
                Figure(r["graduates"], students_url(filters)),
                Figure(r["placed"], students_url({**filters, "placed": True})),
            )
        )
    return Chart(
        key="categories",
        title=_("Ledger graduates by category"),
        kind="bar",
        series=[_("Graduates"), _("Placed")],
        bars=bars,
        percent_of_first=True,
    )


def department_chart(rows: list[DepartmentPlacement]) -> Chart:
    return Chart(
        key="departments",
        title=_("Ledger graduates by department"),
        kind="bar",
        series=[_("Graduates"), _("Placed")],
        bars=[Bar(r.label, r.graduates, r.placed) for r in rows],
        percent_of_first=True,
    )


def trend(user: User, base: Filters, year: int, today: dt.date) -> Chart:
    """Placed ledger graduates of `year` by the month they were struck off the unplaced list (`placed_since`):
    from September of the final year to December of the graduation year (or this month, if sooner), with the
    months before and after in a bucket each when there are any. One query, on the cohort's progress rows (which
    copy `placed_since` from the destination in force)."""
    counted = dict(
        standing(user, **base, placed=True)
        .filter(placed_since__isnull=False)
        .annotate(month=TruncMonth("placed_since"))
        .values_list("month")
        .annotate(n=Count("pk"))
        .values_list("month", "n")
    )
    by_month = {(m.year, m.month): n for m, n in counted.items() if m is not None}
    first = dt.date(year - 1, 9, 1)
    last = min(dt.date(year, 12, 1), month_start(today))
    placed = {**base, "placed": True}
    bars = []
    earlier = sum(n for (y, m), n in by_month.items() if dt.date(y, m, 1) < first)
    if earlier:
        until = first - dt.timedelta(days=1)
        bars.append(
            Bar(
                _("Before %(date)s") % {"date": first.strftime("%Y-%m")},
                Figure(earlier, students_url({**placed, "placed_until": until})),
            )
        )
    month = first
    while month <= last:
        end = add_months(month, 1) - dt.timedelta(days=1)
        n = by_month.get((month.year, month.month), 0)
        url = students_url({**placed, "placed_from": month, "placed_until": end})
        bars.append(Bar(month.strftime("%Y-%m"), Figure(n, url)))
        month = add_months(month, 1)
    later = sum(n for (y, m), n in by_month.items() if dt.date(y, m, 1) > last)
    if later:
        start = add_months(last, 1)
        bars.append(
            Bar(
                _("From %(date)s") % {"date": start.strftime("%Y-%m")},
                Figure(later, students_url({**placed, "placed_from": start})),
            )
        )
    return Chart(
        key="trend",
        title=_("Struck off the unplaced list, by month"),
        kind="bar",
        series=[_("Struck off")],
        bars=bars,
    )


# ---------------------------------------------------------------------------------------------------------
# The school leader: subsidies against budget, tracks


@dataclass(frozen=True)
class SubsidyRow:
    name: str
    budget: Decimal | None
    paid: Decimal
    paid_count: Figure

    @property
    def used(self) -> float | None:
        if not self.budget:
            return None
        return round(float(100 * self.paid / self.budget), 1)


def subsidies(user: User, school: OrgUnit, year: int, today: dt.date) -> list[SubsidyRow]:
    """The school's subsidy types with the year's budget and what has been paid (in the user's scope), each
    count linked to the application list that shows it. Two queries."""
    money = DecimalField(max_digits=12, decimal_places=2)
    types = (
        SubsidyType.objects.filter(school=school)
        .annotate(
            budget=Subquery(
                Budget.objects.filter(subsidy_type=OuterRef("pk"), year=year).values("amount")[:1], output_field=money
            )
        )
        .order_by("code")
    )
    paid_filters: Filters = {"status": ApplicationStatus.PAID, "year": year}
    paid: dict[int, Any] = {
        r["subsidy_type_id"]: r
        for r in filter_applications(
            applications_for(user), user=user, today=today, status=ApplicationStatus.PAID, year=year
        )
        .filter(subsidy_type__school=school)
        .values("subsidy_type_id")
        .annotate(n=Count("pk"), total=Coalesce(Sum("amount"), Value(Decimal(0)), output_field=money))
        .order_by()
    }
    lang = language()
    rows = []
    for t in types:
        r = paid.get(t.pk, {"n": 0, "total": Decimal(0)})
        if not t.is_active and r["n"] == 0 and t.budget is None:  # type: ignore[attr-defined]
            continue
        url = reverse("subsidies:applications") + _query({"subsidy_type": t.public_id, **paid_filters})
        rows.append(SubsidyRow(t.display(lang), t.budget, r["total"], Figure(r["n"], url)))  # type: ignore[attr-defined]
    return rows


@dataclass(frozen=True)
class TrackRow:
    name: str
    enrolled: Figure  # on the track now
    succeeded: Figure


def tracks(user: User, school: OrgUnit) -> list[TrackRow]:
    """Enrolled now and succeeded, per track of the school: the tracks app's own counts and the lists behind them.
    Empty when the school runs no tracks (or the tracks app is not installed)."""
    try:
        from bangfu.tracks import queries as track_queries
        from bangfu.tracks.models import TrackType
    except ImportError:
        return []
    track_types = list(TrackType.objects.filter(school=school, is_active=True).order_by("position", "code"))
    if not track_types:
        return []
    students = track_queries.students_in(user, school)
    return [
        TrackRow(f.name, Figure(f.open, f.urls["open"]), Figure(f.succeeded, f.urls["succeeded"]))
        for f in track_queries.track_figures(students, track_types, unit=school)
    ]


@dataclass
class SchoolBoard:
    year: int
    years: list[Placement]
    departments: list[DepartmentPlacement]
    compliance: list[Row]
    compliance_total: Row
    subsidies: list[tuple[OrgUnit, list[SubsidyRow]]]
    tracks: list[tuple[OrgUnit, list[TrackRow]]]
    charts: list[Chart]

    @property
    def now(self) -> Placement:
        return self.years[0]


def school_board(user: User, units: list[OrgUnit], *, year: int, today: dt.date) -> SchoolBoard:
    departments = list(departments_in_scope(units))
    ranked = departments_ranked(user, year, departments)
    schools = [u for u in units if u.kind == UnitKind.SCHOOL]
    base = cohort_filters(year)
    return SchoolBoard(
        year=year,
        years=placement_years(user, year, today),
        departments=ranked,
        compliance=department_rows(user, OrgUnit.objects.filter(pk__in=[d.pk for d in departments]).order_by("path")),
        compliance_total=total_row(user, _("All departments")),
        subsidies=[(s, subsidies(user, s, year, today)) for s in schools],
        tracks=[(s, t) for s in schools if (t := tracks(user, s))],
        charts=[
            trend(user, base, year, today),
            destination_groups(user, base),
            categories(user, base),
            department_chart(ranked),
        ],
    )


# ---------------------------------------------------------------------------------------------------------
# The department leader: the board that counts down to zero


def _helper_name() -> Subquery:
    helper = HelperAssignment.objects.active().filter(student=OuterRef("pk"))
    shown = Coalesce(NullIf(F("helper__full_name"), Value("")), F("helper__username"))
    return Subquery(helper.annotate(shown=shown).values("shown")[:1])


def unplaced_students(user: User, department: OrgUnit, year: int) -> QuerySet[Student]:
    """This year's unplaced ledger graduates of the department, most worrying first: at risk, longest without
    contact, then by number. Progress and class joined; the helper's name annotated."""
    filters = cohort_filters(year, department=department.public_id, placed=False)
    return (
        # The same students as the student list shows for these filters (the "unplaced" figure links there).
        Student.objects.filter(pk__in=standing(user, **filters).values("student_id"))
        .select_related("progress", "class_unit")
        .annotate(helper_name=_helper_name())
        .order_by(
            F("progress__risk").desc(nulls_last=True),
            F("progress__last_contact_on").asc(nulls_first=True),
            "student_number",
        )
    )


@dataclass
class ZeroRow:
    """One student on the board, the progress row turned into words."""

    student: Student
    helper: str | None
    days_since_contact: int | None
    meters: list[MeterView]
    met: int
    total: int
    risk: int
    reasons: list[str]
    next_due: str


def zero_rows(students: Any, today: dt.date) -> list[ZeroRow]:
    """The rows of one page of `unplaced_students`."""
    rows = []
    for s in students:
        p = _progress_of(s)
        last = p.last_contact_on if p else None
        rows.append(
            ZeroRow(
                student=s,
                helper=s.helper_name,
                days_since_contact=(today - last).days if last else None,
                meters=meter_views(p.meters) if p else [],
                met=p.standards_met if p else 0,
                total=p.standards_total if p else 0,
                risk=p.risk if p else RiskLevel.NONE,
                reasons=[risk_reason_text(r) for r in p.risk_reasons] if p else [],
                next_due=next_due_text(p.next_due_metric, p.next_due_on) if p else "",
            )
        )
    return rows


@dataclass
class HelperBehind:
    name: str
    ledger: Figure
    behind: Figure
    overdue: Figure
    at_risk: Figure

    @property
    def compliance(self) -> int | None:
        return round(100 * (self.ledger.value - self.behind.value) / self.ledger.value) if self.ledger.value else None


def helpers_behind(user: User, department: OrgUnit) -> list[HelperBehind]:
    """The helpers of the department's ledger students with at least one student missing a standard of their
    current stage, the largest share behind first; one query (as `compliance.helper_rows`, with the misses)."""
    base: Filters = {"department": department.public_id, "in_ledger": True}
    grouped = (
        standing(user, **base)
        .filter(helper__isnull=False)
        .values("helper__public_id")
        .annotate(
            name=helper_shown(),
            ledger=Count("pk"),
            behind=Count("pk", filter=behind("")),
            overdue=Count("pk", filter=overdue("")),
            at_risk=Count("pk", filter=at_risk("")),
        )
        .filter(behind__gt=0)
        .order_by("helper__full_name", "helper__username", "helper__public_id")
    )
    rows = []
    for r in grouped:
        mine = {**base, "helper": r["helper__public_id"]}
        rows.append(
            HelperBehind(
                name=r["name"],
                ledger=Figure(r["ledger"], students_url(mine)),
                behind=Figure(r["behind"], students_url({**mine, "compliant": False})),
                overdue=Figure(r["overdue"], students_url({**mine, "overdue": True})),
                at_risk=Figure(r["at_risk"], students_url({**mine, "risk": RiskLevel.AT_RISK})),
            )
        )
    rows.sort(key=lambda r: (-r.behind.value / r.ledger.value, -r.behind.value, r.name))
    return rows


def approvals_waiting(user: User, department: OrgUnit, today: dt.date) -> Figure:
    """Subsidy applications of the department whose next step is the user's (the application list's "waiting
    for me")."""
    waiting = applications_for(user)
    count = filter_applications(waiting, user=user, today=today, department=department.public_id, waiting=True).count()
    url = reverse("subsidies:applications") + _query({"department": department.public_id, "waiting": "on"})
    return Figure(count, url)


@dataclass
class DepartmentBoard:
    department: OrgUnit
    label: str
    year: int
    now: Placement
    helpers_behind: list[HelperBehind]
    approvals: Figure
    charts: list[Chart]

    @property
    def struck_off_share(self) -> int:
        return round(100 * self.now.placed.value / self.now.graduates.value) if self.now.graduates.value else 0


def department_board(user: User, department: OrgUnit, *, year: int, today: dt.date) -> DepartmentBoard:
    base = cohort_filters(year, department=department.public_id)
    return DepartmentBoard(
        department=department,
        label=department.display_name(language()),
        year=year,
        now=placement(user, year, None, department=department.public_id),
        helpers_behind=helpers_behind(user, department),
        approvals=approvals_waiting(user, department, today),
        charts=[trend(user, base, year, today), destination_groups(user, base), categories(user, base)],
    )


# ---------------------------------------------------------------------------------------------------------
# The helper


@dataclass
class Conversion:
    """The user's recommendations at each stage, and the students behind each (linked)."""

    stage: str
    label: str
    recommendations: int
    students: Figure


STAGE_LABELS = {
    "recommended": gettext_lazy("Recommended"),
    "acted": gettext_lazy("Acted on"),
    "offered": gettext_lazy("Offer received"),
    "accepted": gettext_lazy("Accepted"),
    "declined": gettext_lazy("Declined"),
    "effective": gettext_lazy("Effective"),
}
# The names `opportunities.queries.conversion` gives the same counts.
CONVERSION_KEYS = {"offered": "offers"}


def helper_conversion(user: User) -> tuple[list[Conversion], float | None]:
    """`opportunities.queries.conversion` over the user's own recommendations to the students they see, with the
    number of students at each stage; two queries. Also the acceptance rate (accepted ÷ recommended)."""
    mine = recommendations_for(user).filter(recommended_by=user)
    counted = conversion(mine, by="helper")
    row = counted[0] if counted else {}
    students = mine.aggregate(
        **{stage: Count("student", distinct=True, filter=q) for stage, q in RECOMMENDATION_STAGES.items()}
    )
    rows = [
        Conversion(
            stage=stage,
            label=str(STAGE_LABELS[stage]),
            recommendations=row.get(CONVERSION_KEYS.get(stage, stage), 0),
            students=Figure(
                students[stage] or 0,
                students_url({"recommended_by": user.public_id, "recommendation": stage}),
            ),
        )
        for stage in RECOMMENDATION_STAGES
    ]
    return rows, row.get("rate")


@dataclass
class HelperBoard:
    figures: dict[str, Figure]
    cards: list[dict[str, Any]]
    conversion: list[Conversion]
    acceptance_rate: float | None


def helper_board(user: User) -> HelperBoard:
    base: Filters = {"helper": user.public_id}
    figures = _figures(
        user,
        base,
        {
            "students": ({}, Q()),
            "ledger": ({"in_ledger": True}, Q(Exists(_open_entry()))),
            "meeting": ({"in_ledger": True, "compliant": True}, Q(Exists(_open_entry())) & meets_all()),
            "overdue": ({"overdue": True}, overdue()),
            "at_risk": ({"risk": RiskLevel.AT_RISK}, at_risk()),
        },
    )
    cards = []
    for a in my_board(user):
        s = a.student
        p = _progress_of(s)
        cards.append(
            {
                "student": s,
                "progress": p,
                "meters": meter_views(p.meters) if p else [],
                "next_due": next_due_text(p.next_due_metric, p.next_due_on) if p else "",
                "reasons": [risk_reason_text(r) for r in p.risk_reasons] if p else [],
            }
        )
    rows, rate = helper_conversion(user)
    return HelperBoard(figures=figures, cards=cards, conversion=rows, acceptance_rate=rate)


def _open_entry() -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(student=OuterRef("pk"), left_on__isnull=True)


def _progress_of(student: Student) -> StudentProgress | None:
    try:
        return student.progress  # joined by the query; a student outside the ledger has none
    except StudentProgress.DoesNotExist:
        return None


# ---------------------------------------------------------------------------------------------------------
# The province: each school at a glance


def provinces_of(user: User, units: list[OrgUnit]) -> list[OrgUnit]:
    """The provincial units whose board `user` opens: those of their leader grants (every one for a superuser)."""
    if user.is_superuser:
        return list(OrgUnit.objects.filter(kind=UnitKind.PROVINCE).order_by("path"))
    return [u for u in units if u.kind == UnitKind.PROVINCE]


@dataclass
class SchoolRow:
    """One school of the province board; each figure links to the student list narrowed to the school."""

    school: OrgUnit
    label: str
    ledger: Figure
    behind: Figure  # ledger students missing a standard of their current stage
    helpers_behind: int  # the helpers of those students
    graduates: Figure  # this year's ledger graduates
    placed: Figure
    unplaced: Figure

    @property
    def rate(self) -> float | None:
        return share(self.placed.value, self.graduates.value)


@dataclass
class ProvinceBoard:
    year: int
    provinces: list[OrgUnit]
    schools: list[SchoolRow]
    helpers_behind: int  # across the province (a helper counts once)

    @property
    def totals(self) -> dict[str, int]:
        """The figures of every school added up (a student is in one school)."""
        names = ("ledger", "behind", "graduates", "placed", "unplaced")
        return {name: sum(getattr(row, name).value for row in self.schools) for name in names}

    @property
    def rate(self) -> float | None:
        totals = self.totals
        return share(totals["placed"], totals["graduates"])


def ledger_graduation_years(user: User, schools: list[OrgUnit] | None = None) -> list[int]:
    """The years from the first to the last graduation of the ledger students `user` sees, newest first; read on
    the progress rows, whose index holds each school's years in order. Given the `schools` the user sees (the
    province board's), each school's first and last year are read at the two ends of its part of the index, where
    the lowest and highest over a list of schools read every entry of all of them (200,000: 19 → 1 ms)."""
    if schools:
        years = standing(user).filter(school=OuterRef("pk"), graduates_in__isnull=False).values("graduates_in")
        span = OrgUnit.objects.filter(pk__in=[s.pk for s in schools]).aggregate(
            first=Min(Subquery(years.order_by("graduates_in")[:1])),
            last=Max(Subquery(years.order_by("-graduates_in")[:1])),
        )
    else:
        span = standing(user).aggregate(first=Min("graduates_in"), last=Max("graduates_in"))
    if span["first"] is None:
        return []
    return list(range(span["last"], span["first"] - 1, -1))


def school_rows(user: User, schools: list[OrgUnit], year: int) -> tuple[list[SchoolRow], int]:
    """Per school: ledger students and those behind the standards, the helpers of those, and this year's ledger
    graduates placed and unplaced. Two queries whatever the number of schools, both over the progress rows of the
    ledger students the user sees (`compliance.standing`): the figures grouped by school, and the (school, helper)
    pairs behind. Each figure is the count of the student list its link opens. Also the number of helpers behind
    across the schools."""
    ledger_base: Filters = {"in_ledger": True}
    cohort = cohort_filters(year)
    graduating = standing_q(graduating=year)
    rows_seen = standing(user)
    grouped = {
        r["school_id"]: r
        for r in rows_seen.values("school_id")
        .annotate(
            # Counting a column of the index (never null), not the id, lets PostgreSQL read the index alone.
            ledger=Count("school"),
            behind=Count("school", filter=behind("")),
            graduates=Count("school", filter=graduating),
            placed=Count("school", filter=graduating & standing_q(placed=True)),
        )
        .order_by()
    }
    pairs = list(
        rows_seen.filter(behind(""), helper__isnull=False).values_list("school_id", "helper_id").distinct().order_by()
    )
    helpers: dict[int, int] = defaultdict(int)
    for school_id, _helper in pairs:
        helpers[school_id] += 1
    lang = language()
    rows = []
    for school in schools:
        r = grouped.get(school.pk, {"ledger": 0, "behind": 0, "graduates": 0, "placed": 0})
        here: Filters = {"school": school.public_id}
        graduates = {**cohort, **here}
        rows.append(
            SchoolRow(
                school=school,
                label=school.display_name(lang),
                ledger=Figure(r["ledger"], students_url({**ledger_base, **here})),
                behind=Figure(r["behind"], students_url({**ledger_base, **here, "compliant": False})),
                helpers_behind=helpers.get(school.pk, 0),
                graduates=Figure(r["graduates"], students_url(graduates)),
                placed=Figure(r["placed"], students_url({**graduates, "placed": True})),
                unplaced=Figure(r["graduates"] - r["placed"], students_url({**graduates, "placed": False})),
            )
        )
    return rows, len({helper for _school, helper in pairs})


def province_board(user: User, provinces: list[OrgUnit], *, year: int) -> ProvinceBoard:
    q = Q(pk__in=[])
    for province in provinces:
        q |= Q(path__startswith=province.path)
    schools = list(OrgUnit.objects.filter(q, kind=UnitKind.SCHOOL).order_by("path"))
    rows, helpers_total = school_rows(user, schools, year)
    return ProvinceBoard(year=year, provinces=provinces, schools=rows, helpers_behind=helpers_total)
