"""The yearly employment report for the disadvantaged graduates of a school or a department, as a PDF.

The cohort is the unit's graduates of the year who were in the ledger on the report's date; every figure reads the
records as they stood on that date (destinations in force, payments made, milestones reached, cases published by
then), so a report printed again later says the same. All figures are database aggregates. The tracks and the
exemplary cases are optional apps: their sections are left out when the app is not installed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from reportlab.platypus import Flowable, KeepTogether

from bangfu.organisation.models import OrgUnit, UnitKind, User
from bangfu.organisation.permissions import Perm, staff_schools, unit_q, units_with
from bangfu.outcomes.models import PLACED_GROUPS, Destination
from bangfu.outcomes.queries import Figures, graduates_of, in_force, in_ledger_on, placement_figures
from bangfu.reports import pdf
from bangfu.students.models import Category, LedgerEntry, Student
from bangfu.subsidies.models import Application, ApplicationStatus

# NACE: a rate is published only when at least this share of the graduates' outcomes is known.
KNOWLEDGE_THRESHOLD = 65
REPORT_KINDS = (UnitKind.SCHOOL, UnitKind.DEPARTMENT)


def language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh-hans"


# --- Which units a user may report on ------------------------------------------------------------------------------


def report_units(user: User) -> list[OrgUnit]:
    """The schools and departments wholly covered by the user's unit-wide view of students (leaders, the office);
    the widest first. A counsellor's class grant or a helper's students give none."""
    units = OrgUnit.objects.filter(kind__in=REPORT_KINDS).order_by("path")
    if user.is_superuser:
        return list(units)
    q = Q(pk__in=[])
    for unit in units_with(user, Perm.VIEW_STUDENT):
        if unit.kind in (UnitKind.PROVINCE, *REPORT_KINDS):
            q |= Q(path__startswith=unit.path)
    return list(units.filter(q))


def pick_unit(user: User, units: list[OrgUnit], public_id: Any) -> OrgUnit | None:
    """The unit asked for if the user may report on it; None (refused) for a unit of a school the user works at;
    404 for any other id. Without an id, the widest unit."""
    if public_id in (None, ""):
        return units[0] if units else None
    try:
        wanted = uuid.UUID(str(public_id))
    except ValueError:
        raise Http404 from None
    found = next((u for u in units if u.public_id == wanted), None)
    if found is not None:
        return found
    unit = OrgUnit.objects.filter(public_id=wanted, kind__in=REPORT_KINDS).first()
    if unit is None or not any(school.covers(unit) for school in staff_schools(user)):
        raise Http404
    return None


def cohort_students(user: User, unit: OrgUnit) -> QuerySet[Student]:
    """The unit's students the user sees."""
    return Student.objects.visible_to(user).filter(unit_q([unit]))


def ledger_graduates(students: QuerySet[Student], year: int, as_of: dt.date) -> QuerySet[Student]:
    """Graduates of `year` who were in the disadvantaged-student ledger on `as_of`."""
    in_ledger = LedgerEntry.objects.filter(in_ledger_on(as_of), student=OuterRef("pk"))
    return graduates_of(students, year).filter(Exists(in_ledger))


# --- The figures ---------------------------------------------------------------------------------------------------


@dataclass
class Group:
    label: str
    figures: Figures


@dataclass
class MonthRow:
    month: dt.date
    struck_off: int
    cumulative: int
    remaining: int


@dataclass
class YearlyFigures:
    unit: OrgUnit
    year: int
    as_of: dt.date
    total: Figures
    all_graduates: Figures
    by_unit: list[Group]
    by_unit_kind: str  # "department" or "major"
    by_category: list[Group]
    months: list[MonthRow]
    subsidies: list[dict[str, Any]]
    subsidies_total: dict[str, Any]
    tracks: list[dict[str, Any]] | None = None  # None: the tracks app is not installed
    cases: list[Any] | None = None  # None: the showcase app is not installed

    @property
    def unplaced(self) -> int:
        return self.total.graduates - self.total.placed


def _by_unit(cohort: QuerySet[Student], as_of: dt.date, by: str, lang: str) -> list[Group]:
    rows = placement_figures(students=cohort, as_of=as_of, by=by)
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=[f.key for f in rows])}
    groups = [Group(units[f.key].display_name(lang) if f.key in units else "—", f) for f in rows]
    order = {u.pk: u.path for u in units.values()}
    return sorted(groups, key=lambda g: order.get(g.figures.key, ""))


def _by_category(cohort: QuerySet[Student], as_of: dt.date) -> list[Group]:
    rows = placement_figures(students=cohort, as_of=as_of, by="category")
    order = {code: i for i, code in enumerate(Category.values)}
    rows.sort(key=lambda f: order.get(f.key, 99))
    return [Group(str(Category(f.key).label) if f.key in Category.values else str(f.key), f) for f in rows]


def _months(cohort: QuerySet[Student], as_of: dt.date, graduates: int) -> list[MonthRow]:
    """Graduates struck off the unplaced list (销号) each month, by the placed destination in force on `as_of`."""
    counts = (
        Destination.objects.filter(
            in_force(as_of),
            student__in=cohort.values("pk"),
            code__group__in=PLACED_GROUPS,
            placed_since__isnull=False,
            placed_since__lte=as_of,
        )
        .annotate(month=TruncMonth("placed_since"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    result, cumulative = [], 0
    for row in counts:
        cumulative += row["n"]
        month = row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]
        result.append(MonthRow(month, row["n"], cumulative, graduates - cumulative))
    return result


def _subsidies(cohort: QuerySet[Student], as_of: dt.date, lang: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    paid = Application.objects.filter(
        student__in=cohort.values("pk"), status=ApplicationStatus.PAID, paid_on__lte=as_of
    )
    measures = {"students": Count("student", distinct=True), "payments": Count("pk"), "amount": Sum("amount")}
    grouped = (
        paid.values("subsidy_type__code", "subsidy_type__name", "subsidy_type__name_en")
        .annotate(**measures)
        .order_by("subsidy_type__code")
    )
    rows: list[dict[str, Any]] = [dict(row) for row in grouped]
    for row in rows:
        english = lang == "en" and row["subsidy_type__name_en"]
        row["name"] = row["subsidy_type__name_en"] if english else row["subsidy_type__name"]
    total = paid.aggregate(**measures)
    return rows, total


def _tracks(cohort: QuerySet[Student], as_of: dt.date, lang: str) -> list[dict[str, Any]] | None:
    if not apps.is_installed("bangfu.tracks"):
        return None
    from bangfu.tracks.models import Outcome, TrackEnrolment

    closed = Q(left_on__isnull=False, left_on__lte=as_of)
    grouped = (
        TrackEnrolment.objects.filter(student__in=cohort.values("pk"), joined_on__lte=as_of)
        .values("track__code", "track__name", "track__name_en", "track__position")
        .annotate(
            joined=Count("pk"),
            open=Count("pk", filter=~closed),
            succeeded=Count("pk", filter=closed & Q(outcome=Outcome.SUCCESS)),
            failed=Count("pk", filter=closed & Q(outcome=Outcome.FAILURE)),
            left=Count("pk", filter=closed & Q(outcome="")),
        )
        .order_by("track__position", "track__code")
    )
    rows: list[dict[str, Any]] = [dict(row) for row in grouped]
    for row in rows:
        english = lang == "en" and row["track__name_en"]
        row["name"] = row["track__name_en"] if english else row["track__name"]
    return rows


def _cases(cohort: QuerySet[Student], as_of: dt.date, lang: str) -> list[Any] | None:
    """The cohort's exemplary cases published by `as_of`, showing only what each student consented to show."""
    if not apps.is_installed("bangfu.showcase"):
        return None
    from bangfu.showcase.queries import public_card, public_cases

    cases = public_cases().filter(student__in=cohort.values("pk"), published_on__lte=as_of)
    return [public_card(case, lang) for case in cases]


def yearly_figures(*, unit: OrgUnit, students: QuerySet[Student], year: int, as_of: dt.date) -> YearlyFigures:
    """Everything the report prints, for `students` (the unit's students the reader sees)."""
    lang = language()
    cohort = ledger_graduates(students, year, as_of)
    total = placement_figures(students=cohort, as_of=as_of)[0]
    by = "department" if unit.kind == UnitKind.SCHOOL else "major"
    subsidies, subsidies_total = _subsidies(cohort, as_of, lang)
    return YearlyFigures(
        unit=unit,
        year=year,
        as_of=as_of,
        total=total,
        all_graduates=placement_figures(students=graduates_of(students, year), as_of=as_of)[0],
        by_unit=_by_unit(cohort, as_of, by, lang),
        by_unit_kind=by,
        by_category=_by_category(cohort, as_of),
        months=_months(cohort, as_of, total.graduates),
        subsidies=subsidies,
        subsidies_total=subsidies_total,
        tracks=_tracks(cohort, as_of, lang),
        cases=_cases(cohort, as_of, lang),
    )


# --- The document --------------------------------------------------------------------------------------------------

RATE_HEADER_WIDTHS = [0.3, 0.1, 0.1, 0.12, 0.1, 0.1, 0.09, 0.09]


def _rates_table(groups: list[Group], total: Figures, first: str) -> Flowable:
    header = [
        first,
        _("Graduates"),
        _("Placed"),
        _("Placement rate"),
        _("Employed"),
        _("Further study"),
        _("Known"),
        _("Verified"),
    ]

    def row(label: str, f: Figures) -> list[Any]:
        return [
            label,
            f.graduates,
            f.placed,
            pdf.percent(f.placement_rate),
            f.employed,
            f.further_study,
            f.known,
            f.verified,
        ]

    return pdf.table(
        header,
        [row(g.label, g.figures) for g in groups],
        RATE_HEADER_WIDTHS,
        numeric=range(1, 8),
        footer=row(_("Whole unit"), total),
    )


def _summary(fig: YearlyFigures) -> list[Flowable]:
    t = fig.total
    flowables: list[Flowable] = [
        pdf.fields(
            [
                (_("Ledger graduates"), t.graduates),
                (_("Placed (employed or further study)"), t.placed),
                (_("Placement rate"), pdf.percent(t.placement_rate)),
                (
                    _("Employed"),
                    _("%(n)d (%(share)s), of whom %(flexible)d flexibly")
                    % {"n": t.employed, "share": pdf.percent(t.share(t.employed)), "flexible": t.flexible},
                ),
                (_("Further study"), f"{t.further_study} ({pdf.percent(t.share(t.further_study))})"),
                (
                    _("Not placed"),
                    _("%(n)d: %(seeking)d seeking work, %(not_seeking)d not seeking, %(unknown)d unknown")
                    % {"n": fig.unplaced, "seeking": t.seeking, "not_seeking": t.not_seeking, "unknown": t.unknown},
                ),
                (_("Knowledge rate"), pdf.percent(t.knowledge_rate)),
                (_("Verified share of the placed"), pdf.percent(t.verified_share)),
                (_("Career-outcomes rate (NACE)"), pdf.percent(t.career_outcomes_rate)),
                (
                    _("All graduates of the unit"),
                    _("%(rate)s placed of %(n)d graduates")
                    % {"rate": pdf.percent(fig.all_graduates.placement_rate), "n": fig.all_graduates.graduates},
                ),
            ],
            label_width=0.36,
        )
    ]
    if t.graduates and (t.knowledge_rate or 0) < KNOWLEDGE_THRESHOLD:
        flowables.append(
            pdf.para(
                _(
                    "Only %(rate)s of the graduates' outcomes are known: below %(threshold)d %%, the rate should not "
                    "be published."
                )
                % {"rate": pdf.percent(t.knowledge_rate), "threshold": KNOWLEDGE_THRESHOLD},
                "small",
            )
        )
    return pdf.section(_("Summary"), *flowables)


def _chart_items(groups: list[Group]) -> list[tuple[str, float | None]]:
    return [(g.label, g.figures.placement_rate) for g in groups]


def _breakdowns(fig: YearlyFigures) -> list[Flowable]:
    flowables: list[Flowable] = []
    if fig.by_unit:
        title = _("By department") if fig.by_unit_kind == "department" else _("By major")
        first = _("Department") if fig.by_unit_kind == "department" else _("Major")
        flowables += pdf.section(
            title,
            pdf.bar_chart(_chart_items(fig.by_unit), caption=_("Placement rate (%)")),
            _rates_table(fig.by_unit, fig.total, first),
        )
    if fig.by_category:
        flowables += pdf.section(
            _("By ledger category"),
            pdf.bar_chart(_chart_items(fig.by_category), caption=_("Placement rate (%)")),
            _rates_table(fig.by_category, fig.total, _("Category")),
            pdf.note(_("A student in several categories counts once in each.")),
        )
    return flowables


def _timeline(fig: YearlyFigures) -> list[Flowable]:
    return pdf.section(
        _("Clearing to zero: struck off the unplaced list, by month"),
        KeepTogether(
            [
                pdf.para(
                    _("Still unplaced on %(date)s: %(n)d of %(graduates)d ledger graduates.")
                    % {"date": fig.as_of.isoformat(), "n": fig.unplaced, "graduates": fig.total.graduates}
                ),
                pdf.spacer(),
                pdf.table(
                    [_("Month"), _("Struck off"), _("Struck off so far"), _("Still unplaced")],
                    [[m.month.strftime("%Y-%m"), m.struck_off, m.cumulative, m.remaining] for m in fig.months],
                    [0.25, 0.25, 0.25, 0.25],
                    numeric=[1, 2, 3],
                    empty=_("No graduate struck off yet."),
                ),
            ]
        ),
    )


def _subsidy_section(fig: YearlyFigures) -> list[Flowable]:
    total = fig.subsidies_total
    return pdf.section(
        _("Subsidies paid"),
        pdf.table(
            [_("Subsidy"), _("Students"), _("Payments"), _("Amount")],
            [[r["name"], r["students"], r["payments"], pdf.yuan(r["amount"])] for r in fig.subsidies],
            [0.46, 0.16, 0.16, 0.22],
            numeric=[1, 2, 3],
            footer=[_("Total"), total["students"], total["payments"], pdf.yuan(total["amount"])],
            empty=_("No subsidy paid to these graduates."),
        ),
    )


def _track_section(fig: YearlyFigures) -> list[Flowable]:
    if fig.tracks is None:
        return []
    return pdf.section(
        _("Employment promotion tracks"),
        pdf.table(
            [
                _("Track"),
                _("Graduates on the track"),
                _("Still on the track"),
                _("Succeeded"),
                _("Did not succeed"),
                _("Left the track"),
            ],
            [[r["name"], r["joined"], r["open"], r["succeeded"], r["failed"], r["left"]] for r in fig.tracks],
            [0.35, 0.13, 0.13, 0.13, 0.13, 0.13],
            numeric=range(1, 6),
            empty=_("No graduate on a track."),
        ),
    )


def _case_section(fig: YearlyFigures) -> list[Flowable]:
    if fig.cases is None:
        return []
    flowables: list[Flowable] = []
    for card in fig.cases:
        where = " · ".join(p for p in (card.department, card.employer, card.position) if p)
        flowables += [
            pdf.para(f"{card.title} — {card.type_name}", "h3"),
            pdf.para(" · ".join(p for p in (card.name, where) if p), "small"),
            pdf.para(card.excerpt),
        ]
    if not flowables:
        flowables.append(pdf.note(_("No exemplary case published.")))
    return pdf.section(_("Exemplary cases"), *flowables)


def build_yearly(fig: YearlyFigures, *, reader: User, today: dt.date) -> bytes:
    """The report as a PDF in the active language."""
    lang = language()
    title = _("Employment report for disadvantaged graduates, %(year)d") % {"year": fig.year}
    story: list[Flowable] = [
        pdf.para(title, "title"),
        pdf.para(
            _("%(unit)s · records as of %(date)s · printed on %(today)s by %(reader)s")
            % {
                "unit": fig.unit.display_name(lang),
                "date": fig.as_of.isoformat(),
                "today": today.isoformat(),
                "reader": str(reader),
            },
            "subtitle",
        ),
        *_summary(fig),
        *_breakdowns(fig),
        *_timeline(fig),
        *_subsidy_section(fig),
        *_track_section(fig),
        *_case_section(fig),
    ]
    # A department's report names its school first.
    names = [fig.unit.display_name(lang), title]
    if fig.unit.kind == UnitKind.DEPARTMENT and fig.unit.parent is not None:
        names.insert(0, fig.unit.parent.display_name(lang))
    return pdf.render(
        story,
        title=title,
        header_left=" · ".join(names),
        header_right=today.isoformat(),
        footer=_("Ledger graduates of %(year)d; records as of %(date)s.")
        % {"year": fig.year, "date": fig.as_of.isoformat()},
    )
