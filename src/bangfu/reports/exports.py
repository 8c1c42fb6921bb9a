"""The exports (issue 7 §2): the two ledgers in the layout schools use, the placement report, subsidy lists and
follow-up lists, each as sheets for `reports.xlsx`.

Every export starts from what its user may see: students through `Student.objects.visible_to(user)` (the
placement report through the user's unit grants, like the placement figures page), so a student outside the
scope is never written. Rows are read in chunks of `CHUNK` students in the order of the list: per chunk one
query for the rows (joined or annotated in the database) and at most one grouped query per related table
(categories, recommendations, subsidies), never a query per row. Chunks keep memory flat and leave no SQLite
statement open between them, so a background job can record its progress.

Headers and labels are written in the language active when the sheets are read (the requester's). The full ID
number is never exported: only the masked one stored beside it.
"""

from __future__ import annotations

import datetime as dt
import inspect
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, FilteredRelation, OuterRef, Q, QuerySet, Subquery, Sum, TextChoices, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _

from bangfu.assistance.labels import metric_label, risk_reason_text
from bangfu.assistance.models import Direction, HelperAssignment, Metric, RiskLevel, Stage
from bangfu.opportunities.models import Recommendation, RecommendationStatus
from bangfu.organisation.models import OrgUnit, User
from bangfu.organisation.permissions import Perm, is_staff_member, unit_q, units_with
from bangfu.outcomes.models import FollowUp, FollowUpStatus
from bangfu.outcomes.queries import Figures, graduates_of, in_ledger_on, placement_figures
from bangfu.reports.xlsx import DATE, MONEY, NUMBER, PERCENT, Column, Sheet
from bangfu.students.models import Category, Gender, HardshipLevel, LedgerCategory, LedgerEntry, Student
from bangfu.students.queries import apply_student_filters, sort_students
from bangfu.subsidies.models import COMMITTED, Application, ApplicationStatus

CHUNK = 2000  # students (or applications) read per query

LEDGER = "ledger"
WORK_LEDGER = "work_ledger"
PLACEMENT = "placement"
SUBSIDIES = "subsidies"
FOLLOW_UPS = "follow_ups"

SUBSIDY_PAID = "paid"
SUBSIDY_APPROVED = "approved"
FOLLOW_UPS_ALL = "all"
FOLLOW_UPS_DUE = "due"
FOLLOW_UPS_DONE = "done"
DUE_WITHIN_DAYS = 31  # a follow-up falling due within this many days is on the "due" list


@dataclass
class Export:
    kind: str
    file_name: str
    sheets: list[Sheet]
    count: int  # data rows the sheets will hold: decides streaming or a background job, drives the progress bar
    scope: str  # what was exported, for the access log


# --- Small helpers --------------------------------------------------------------------------------------------------


def english() -> bool:
    return (get_language() or "").startswith("en")


class Words:
    """Wording in the language active when an export's rows are read, decided once: `get_language()` and
    gettext are too slow to call for each of 30,000 rows, so labels are looked up once per value."""

    def __init__(self) -> None:
        self.english = english()
        self.separator = "; " if self.english else "、"
        self._labels: dict[tuple[Any, str | int], str] = {}

    def unit(self, name: str | None, name_en: str | None) -> str:
        return (name_en if self.english and name_en else name) or ""

    def join(self, labels: Iterable[str]) -> str:
        return self.separator.join(labels)

    def label(self, choices: Any, value: str | int | None) -> str:
        if value is None or value == "":
            return ""
        key = (choices, value)
        if key not in self._labels:
            self._labels[key] = str(choices(value).label) if value in choices.values else str(value)
        return self._labels[key]

    def yes_no(self, value: bool | None) -> str:
        if value is None:
            return ""
        return self.label(_YesNo, "yes" if value else "no")

    def destination(self, code: str | None, label: str | None, label_en: str | None) -> str:
        if not code:
            return ""
        return f"{code} {label_en if self.english and label_en else label}"


class _YesNo(TextChoices):
    YES = "yes", gettext_lazy("Yes")
    NO = "no", gettext_lazy("No")


def _file_name(title: str, day: dt.date) -> str:
    return f"{title}-{day:%Y%m%d}.xlsx"


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _numbered(rows: Iterable[Sequence[Any]]) -> Iterator[list[Any]]:
    """Each row with its running number (序号) in front."""
    for number, row in enumerate(rows, start=1):
        yield [number, *row]


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def number_column() -> Column:
    return Column(pgettext("row number", "No."), 6, NUMBER)


def scope_text(user: User, details: dict[str, Any]) -> str:
    """Whose students and which filters, for the access log: e.g. "/HEBUST/CS/; cohort=2021; category=orphan"."""
    if user.is_superuser:
        where = "all schools"
    else:
        where = ", ".join(u.path for u in units_with(user, Perm.VIEW_STUDENT)) or "students helped"
    shown = [f"{key}={value}" for key, value in details.items() if value not in (None, "", [])]
    return "; ".join([where, *shown])


def require_staff(user: User) -> None:
    """Exports are for staff; a student user has their own record and nothing to export."""
    if not is_staff_member(user):
        raise PermissionDenied


def helper_name() -> Subquery:
    helper = (
        HelperAssignment.objects.active()
        .filter(student=OuterRef("pk"))
        .annotate(shown=Coalesce(NullIf("helper__full_name", Value("")), "helper__username"))
    )
    return Subquery(helper.values("shown")[:1])


# A FilteredRelation is bound to the query it is first used in: each query gets a new one.
def open_entry() -> FilteredRelation:
    """The student's open ledger entry (at most one), joined."""
    return FilteredRelation("ledger_entries", condition=Q(ledger_entries__left_on__isnull=True))


def current_destination() -> FilteredRelation:
    """The student's destination in force today (at most one), joined."""
    return FilteredRelation("destinations", condition=Q(destinations__superseded_on__isnull=True))


def _open_categories(ids: list[int], w: Words) -> dict[int, list[str]]:
    """The categories of each student's open ledger entry, translated, in the order of `Category` (one query)."""
    order = {code: i for i, code in enumerate(Category.values)}
    found: dict[int, list[str]] = defaultdict(list)
    rows = LedgerCategory.objects.filter(entry__student_id__in=ids, entry__left_on__isnull=True).values_list(
        "entry__student_id", "category"
    )
    for student_id, code in sorted(rows, key=lambda r: (r[0], order.get(r[1], 99))):
        found[student_id].append(w.label(Category, code))
    return found


# --- The student lists: filters of the student list page ------------------------------------------------------------


def _list_filters() -> dict[str, Any]:
    """The keyword arguments `apply_student_filters` takes, with their defaults: a filter added to the list is
    exported too."""
    parameters = inspect.signature(apply_student_filters).parameters
    return {name: p.default for name, p in parameters.items() if name != "queryset"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def list_params(filters: dict[str, Any], sort: str) -> dict[str, Any]:
    """The student list's filters (`StudentFilterForm.filters()`) and sort, as a job stores them (JSON)."""
    known = _list_filters()
    kept = {k: _jsonable(v) for k, v in filters.items() if k in known and v not in (None, "", known[k])}
    return {"filters": kept, "sort": sort or "number"}


def listed_students(user: User, params: dict[str, Any], *, ledger_only: bool = False) -> QuerySet[Student]:
    """The students of the user's list with its filters and sort applied; never wider than the user's scope."""
    known = _list_filters()
    filters = {k: v for k, v in (params.get("filters") or {}).items() if k in known}
    if ledger_only:
        if filters.get("in_ledger") is False:
            return Student.objects.none()
        filters["in_ledger"] = True
    students = apply_student_filters(Student.objects.visible_to(user), **filters)
    return sort_students(students, params.get("sort"))


def _ordered_ids(students: QuerySet[Any]) -> list[int]:
    return list(students.values_list("pk", flat=True))


# --- 1. The disadvantaged-student ledger (困难群体学生台账) ---------------------------------------------------------


def _ledger_columns() -> list[Column]:
    return [
        number_column(),
        Column(_("Student number"), 14),
        Column(_("Name"), 10),
        Column(_("Gender"), 6),
        Column(_("ID number"), 20),
        Column(_("Department"), 20),
        Column(_("Major"), 20),
        Column(_("Class"), 16),
        Column(_("Cohort"), 8, NUMBER),
        Column(_("Ledger categories"), 30),
        Column(_("Hardship level"), 12),
        Column(_("Intends to work"), 10),
        Column(_("Joined the ledger on"), 12, DATE),
        Column(_("Helper"), 10),
        Column(_("Direction"), 14),
        Column(_("Industries wanted"), 20),
        Column(_("Places wanted"), 20),
        Column(_("Near home"), 8),
        Column(_("Monthly salary expected (yuan)"), 12, NUMBER),
    ]


def _ledger_rows(ids: list[int]) -> Iterator[list[Any]]:
    w = Words()
    for chunk in _chunks(ids):
        categories = _open_categories(chunk, w)
        found = {
            row["pk"]: row
            for row in Student.objects.filter(pk__in=chunk)
            .annotate(entry=open_entry(), helper_name=helper_name())
            .values(
                "pk",
                "student_number",
                "name",
                "gender",
                "id_number_masked",
                "cohort",
                "department__name",
                "department__name_en",
                "major__name",
                "major__name_en",
                "class_unit__name",
                "class_unit__name_en",
                "entry__hardship_level",
                "entry__intends_to_work",
                "entry__joined_on",
                "helper_name",
                "plan__direction",
                "plan__industries",
                "plan__places",
                "plan__near_home",
                "plan__salary_expectation",
            )
        }
        for pk in chunk:
            r = found.get(pk)
            if r is None:  # gone since the list was read
                continue
            has_plan = r["plan__direction"] is not None
            yield [
                r["student_number"],
                r["name"],
                w.label(Gender, r["gender"]),
                r["id_number_masked"],
                w.unit(r["department__name"], r["department__name_en"]),
                w.unit(r["major__name"], r["major__name_en"]),
                w.unit(r["class_unit__name"], r["class_unit__name_en"]),
                r["cohort"],
                w.join(categories.get(pk, [])),
                w.label(HardshipLevel, r["entry__hardship_level"]),
                w.yes_no(r["entry__intends_to_work"]),
                r["entry__joined_on"],
                r["helper_name"] or "",
                w.label(Direction, r["plan__direction"]),
                r["plan__industries"] or "",
                r["plan__places"] or "",
                w.yes_no(r["plan__near_home"]) if has_plan else "",
                r["plan__salary_expectation"],
            ]


def ledger_export(user: User, params: dict[str, Any]) -> Export:
    """One row per ledger student of the user's list (its filters and sort applied)."""
    require_staff(user)
    ids = _ordered_ids(listed_students(user, params, ledger_only=True))
    title = _("Disadvantaged-student ledger")
    today = timezone.localdate()
    sheet = Sheet(
        name=title,
        title=title,
        subtitle=_("%(count)d students · exported on %(date)s") % {"count": len(ids), "date": today.isoformat()},
        columns=_ledger_columns(),
        rows=_numbered(_ledger_rows(ids)),
        freeze_columns=3,
    )
    scope = scope_text(user, params.get("filters") or {})
    return Export(LEDGER, _file_name(title, today), [sheet], len(ids), scope)


# --- 2. The work ledger (帮扶工作台账) ------------------------------------------------------------------------------

WORK_METRICS = tuple(Metric.values)


def _work_columns() -> list[Column]:
    metric_columns = [
        Column(_("%(metric)s (done/required)") % {"metric": metric_label(m, short=False)}, 12) for m in WORK_METRICS
    ]
    return [
        number_column(),
        Column(_("Student number"), 14),
        Column(_("Name"), 10),
        Column(_("Department"), 20),
        Column(_("Major"), 20),
        Column(_("Class"), 16),
        Column(_("Ledger categories"), 24),
        Column(_("Helper"), 10),
        Column(_("Stage"), 10),
        *metric_columns,
        Column(_("Standards met"), 10),
        Column(_("Overdue items"), 8, NUMBER),
        Column(_("Risk"), 8),
        Column(_("Risk reasons"), 30),
        Column(_("Last check-in"), 12, DATE),
        Column(_("Last contact"), 12, DATE),
        Column(_("Recommendations"), 10, NUMBER),
        Column(_("Acted on"), 8, NUMBER),
        Column(_("Offers"), 8, NUMBER),
        Column(_("Accepted"), 8, NUMBER),
        Column(_("Declined"), 8, NUMBER),
        Column(_("Subsidies paid"), 8, NUMBER),
        Column(_("Subsidies paid (yuan)"), 12, MONEY),
        Column(_("Destination"), 24),
        Column(_("Employer or school"), 24),
        Column(_("Verified on"), 12, DATE),
        Column(_("Struck off on"), 12, DATE),
    ]


def _recommendation_counts(ids: list[int]) -> dict[int, dict[str, int]]:
    rows = (
        Recommendation.objects.filter(student_id__in=ids)
        .values("student_id")
        .annotate(
            recommended=Count("pk"),
            acted=Count("pk", filter=Q(acted_on__isnull=False)),
            offers=Count("pk", filter=Q(offered_on__isnull=False)),
            accepted=Count("pk", filter=Q(status=RecommendationStatus.ACCEPTED)),
            declined=Count("pk", filter=Q(status=RecommendationStatus.DECLINED)),
        )
        .order_by()
    )
    return {
        row["student_id"]: {
            "recommended": row["recommended"],
            "acted": row["acted"],
            "offers": row["offers"],
            "accepted": row["accepted"],
            "declined": row["declined"],
        }
        for row in rows
    }


def _paid_subsidies(ids: list[int]) -> dict[int, tuple[int, Decimal]]:
    rows = (
        Application.objects.filter(student_id__in=ids, status=ApplicationStatus.PAID)
        .values("student_id")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by()
    )
    return {row["student_id"]: (row["n"], row["total"]) for row in rows}


def _meter_cells(meters: list[dict[str, Any]] | None) -> list[str]:
    by_metric = {m.get("metric"): m for m in meters or []}
    cells = []
    for metric in WORK_METRICS:
        meter = by_metric.get(metric)
        cells.append(f"{int(meter.get('done', 0))}/{int(meter.get('required', 0))}" if meter else "")
    return cells


def _work_rows(ids: list[int]) -> Iterator[list[Any]]:
    w = Words()
    for chunk in _chunks(ids):
        categories = _open_categories(chunk, w)
        recommendations = _recommendation_counts(chunk)
        subsidies = _paid_subsidies(chunk)
        found = {
            row["pk"]: row
            for row in Student.objects.filter(pk__in=chunk)
            .annotate(dest=current_destination(), helper_name=helper_name())
            .values(
                "pk",
                "student_number",
                "name",
                "department__name",
                "department__name_en",
                "major__name",
                "major__name_en",
                "class_unit__name",
                "class_unit__name_en",
                "helper_name",
                "progress__stage",
                "progress__meters",
                "progress__standards_met",
                "progress__standards_total",
                "progress__overdue_count",
                "progress__risk",
                "progress__risk_reasons",
                "progress__last_check_in_on",
                "progress__last_contact_on",
                "dest__code__code",
                "dest__code__label",
                "dest__code__label_en",
                "dest__employer_name",
                "dest__verified_on",
                "dest__placed_since",
            )
        }
        for pk in chunk:
            r = found.get(pk)
            if r is None:
                continue
            has_progress = r["progress__stage"] is not None
            recs = recommendations.get(pk, {})
            paid_count, paid_total = subsidies.get(pk, (0, Decimal(0)))
            yield [
                r["student_number"],
                r["name"],
                w.unit(r["department__name"], r["department__name_en"]),
                w.unit(r["major__name"], r["major__name_en"]),
                w.unit(r["class_unit__name"], r["class_unit__name_en"]),
                w.join(categories.get(pk, [])),
                r["helper_name"] or "",
                w.label(Stage, r["progress__stage"]),
                *_meter_cells(r["progress__meters"]),
                f"{r['progress__standards_met']}/{r['progress__standards_total']}" if has_progress else "",
                r["progress__overdue_count"],
                w.label(RiskLevel, r["progress__risk"]),
                w.join(risk_reason_text(reason) for reason in r["progress__risk_reasons"] or []),
                r["progress__last_check_in_on"],
                r["progress__last_contact_on"],
                recs.get("recommended", 0),
                recs.get("acted", 0),
                recs.get("offers", 0),
                recs.get("accepted", 0),
                recs.get("declined", 0),
                paid_count,
                paid_total,
                w.destination(r["dest__code__code"], r["dest__code__label"], r["dest__code__label_en"]),
                r["dest__employer_name"] or "",
                r["dest__verified_on"],
                r["dest__placed_since"],
            ]


def work_ledger_export(user: User, params: dict[str, Any]) -> Export:
    """One row per student of the user's list: where they stand against the standards, the last contacts,
    recommendations and what came of them, subsidies paid, the destination and when they were struck off."""
    require_staff(user)
    ids = _ordered_ids(listed_students(user, params))
    title = _("Work ledger")
    today = timezone.localdate()
    sheet = Sheet(
        name=title,
        title=title,
        subtitle=_("%(count)d students · exported on %(date)s") % {"count": len(ids), "date": today.isoformat()},
        columns=_work_columns(),
        rows=_numbered(_work_rows(ids)),
        freeze_columns=3,
    )
    scope = scope_text(user, params.get("filters") or {})
    return Export(WORK_LEDGER, _file_name(title, today), [sheet], len(ids), scope)


# --- 3a. The placement report (毕业去向落实率) ----------------------------------------------------------------------


def unit_scope(user: User) -> QuerySet[Student]:
    """Students under the user's unit grants (not students helped), as on the placement figures page; 403 without
    a grant."""
    if user.is_superuser:
        return Student.objects.all()
    units = units_with(user, Perm.VIEW_STUDENT)
    if not units:
        raise PermissionDenied
    return Student.objects.filter(unit_q(units))


def _placement_columns(group: str) -> list[Column]:
    return [
        Column(group, 28),
        Column(_("Graduates"), 10, NUMBER),
        Column(_("Outcome known"), 10, NUMBER),
        Column(_("Employed"), 10, NUMBER),
        Column(_("Of whom flexibly employed"), 12, NUMBER),
        Column(_("Further study"), 10, NUMBER),
        Column(_("Placed"), 10, NUMBER),
        Column(_("Placement rate (%)"), 12, PERCENT),
        Column(_("Seeking work"), 10, NUMBER),
        Column(_("Not seeking work"), 10, NUMBER),
        Column(_("Outcome unknown"), 10, NUMBER),
        Column(_("Knowledge rate (%)"), 12, PERCENT),
        Column(_("Verified by evidence"), 10, NUMBER),
        Column(_("Verified share of the placed (%)"), 12, PERCENT),
    ]


def _figure_cells(label: str, f: Figures) -> list[Any]:
    return [
        label,
        f.graduates,
        f.known,
        f.employed,
        f.flexible,
        f.further_study,
        f.placed,
        f.placement_rate,
        f.seeking,
        f.not_seeking,
        f.unknown,
        f.knowledge_rate,
        f.verified,
        f.verified_share,
    ]


def placement_export(user: User, params: dict[str, Any]) -> Export:
    """The placement figures of one graduating class as of a date, by department and by ledger category, each sheet
    with its total. `params`: year, as_of (ISO date), ledger_only (default True: graduates in the ledger on that
    date, the disadvantaged graduates the report is about)."""
    students = unit_scope(user)
    year = int(params["year"])
    as_of = dt.date.fromisoformat(str(params["as_of"]))
    ledger_only = bool(params.get("ledger_only", True))
    cohort = graduates_of(students, year)
    in_ledger = Exists(LedgerEntry.objects.filter(in_ledger_on(as_of), student=OuterRef("pk")))
    if ledger_only:
        cohort = cohort.filter(in_ledger)
    total = placement_figures(students=cohort, as_of=as_of)[0]
    by_department = placement_figures(students=cohort, as_of=as_of, by="department")
    by_category = placement_figures(students=cohort, as_of=as_of, by="category")
    ledger_total = total if ledger_only else placement_figures(students=cohort.filter(in_ledger), as_of=as_of)[0]
    w = Words()
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=[f.key for f in by_department])}
    department_rows = sorted(
        (
            (units[f.key].path, w.unit(units[f.key].name, units[f.key].name_en), f)
            for f in by_department
            if f.key in units
        ),
        key=lambda r: r[0],
    )
    order = {code: i for i, code in enumerate(Category.values)}
    category_rows = sorted(by_category, key=lambda f: order.get(f.key, 99))

    title = _("Placement of the %(year)s graduates, as of %(date)s") % {"year": year, "date": as_of.isoformat()}
    who = _("Graduates in the ledger on that date") if ledger_only else _("All graduates")
    subtitle = f"{who} · " + _("exported on %(date)s") % {"date": timezone.localdate().isoformat()}
    total_label = _("Total")
    sheets = [
        Sheet(
            name=_("By department"),
            title=title,
            subtitle=subtitle,
            columns=_placement_columns(_("Department")),
            rows=[_figure_cells(label, f) for _path, label, f in department_rows],
            footer=lambda: _figure_cells(total_label, total),
            freeze_columns=1,
        ),
        Sheet(
            name=_("By category"),
            title=title,
            subtitle=subtitle + " · " + _("A student can belong to several categories."),
            columns=_placement_columns(_("Category")),
            rows=[_figure_cells(w.label(Category, f.key), f) for f in category_rows],
            footer=lambda: _figure_cells(total_label, ledger_total),
            freeze_columns=1,
        ),
    ]
    scope = scope_text(user, {"year": year, "as_of": as_of.isoformat(), "ledger_only": ledger_only})
    name = _file_name(_("Placement report %(year)s") % {"year": year}, as_of)
    return Export(PLACEMENT, name, sheets, len(department_rows) + len(category_rows), scope)


# --- 3b. Subsidy lists ----------------------------------------------------------------------------------------------


def subsidy_applications(user: User, params: dict[str, Any]) -> QuerySet[Application]:
    """Applications of the students the user sees: paid ones, or all the school approved (paid or not)."""
    applications = Application.objects.filter(student__in=Student.objects.visible_to(user).values("pk"))
    if params.get("status") == SUBSIDY_PAID:
        applications = applications.filter(status=ApplicationStatus.PAID)
    else:
        applications = applications.filter(status__in=COMMITTED)
    if params.get("year") not in (None, ""):
        applications = applications.filter(year=int(params["year"]))
    if params.get("subsidy_type") not in (None, ""):
        type_id = _as_uuid(params["subsidy_type"])
        if type_id is None:
            return applications.none()
        applications = applications.filter(subsidy_type__public_id=type_id)
    return applications.order_by(
        "subsidy_type__school__path", "subsidy_type__code", "student__department__path", "student__student_number", "pk"
    )


def _subsidy_columns() -> list[Column]:
    return [
        number_column(),
        Column(_("Student number"), 14),
        Column(_("Name"), 10),
        Column(_("ID number"), 20),
        Column(_("Department"), 20),
        Column(_("Class"), 16),
        Column(_("Subsidy"), 24),
        Column(_("Budget year"), 8, NUMBER),
        Column(_("Amount (yuan)"), 12, MONEY),
        Column(_("Status"), 14),
        Column(_("Submitted on"), 12, DATE),
        Column(_("Paid on"), 12, DATE),
    ]


def _subsidy_rows(ids: list[int]) -> Iterator[list[Any]]:
    w = Words()
    for chunk in _chunks(ids):
        found = {
            row["pk"]: row
            for row in Application.objects.filter(pk__in=chunk).values(
                "pk",
                "student__student_number",
                "student__name",
                "student__id_number_masked",
                "student__department__name",
                "student__department__name_en",
                "student__class_unit__name",
                "student__class_unit__name_en",
                "subsidy_type__name",
                "subsidy_type__name_en",
                "year",
                "amount",
                "status",
                "submitted_on",
                "paid_on",
            )
        }
        for pk in chunk:
            r = found.get(pk)
            if r is None:
                continue
            yield [
                r["student__student_number"],
                r["student__name"],
                r["student__id_number_masked"],
                w.unit(r["student__department__name"], r["student__department__name_en"]),
                w.unit(r["student__class_unit__name"], r["student__class_unit__name_en"]),
                w.unit(r["subsidy_type__name"], r["subsidy_type__name_en"]),
                r["year"],
                r["amount"],
                w.label(ApplicationStatus, r["status"]),
                r["submitted_on"],
                r["paid_on"],
            ]


def subsidy_export(user: User, params: dict[str, Any]) -> Export:
    require_staff(user)
    applications = subsidy_applications(user, params)
    ids = _ordered_ids(applications)
    paid = params.get("status") == SUBSIDY_PAID
    title = _("Subsidies paid") if paid else _("Subsidies approved")
    if params.get("year") not in (None, ""):
        title = f"{title} {params['year']}"
    today = timezone.localdate()

    def footer() -> list[Any]:
        totals = Application.objects.filter(pk__in=applications.values("pk")).aggregate(
            n=Count("pk"), sum=Sum("amount")
        )
        count = _("%(count)d applications") % {"count": totals["n"]}
        return ["", _("Total"), count, "", "", "", "", "", totals["sum"] or Decimal(0)]

    sheet = Sheet(
        name=title,
        title=title,
        subtitle=_("exported on %(date)s") % {"date": today.isoformat()},
        columns=_subsidy_columns(),
        rows=_numbered(_subsidy_rows(ids)),
        footer=footer,
        freeze_columns=3,
    )
    scope = scope_text(user, {k: params.get(k) for k in ("status", "year", "subsidy_type")})
    return Export(SUBSIDIES, _file_name(title, today), [sheet], len(ids), scope)


# --- 3c. Follow-up lists (跟踪回访) ---------------------------------------------------------------------------------


def follow_up_ids(user: User, params: dict[str, Any]) -> list[int]:
    """Ledger graduates of a year the user sees, in list order: all, those followed up at least once, or those
    whose next follow-up falls due within `DUE_WITHIN_DAYS` of `as_of` or is overdue.

    "Due" reads the follow-up meter of the progress row (its milestones come from the school's policy). A meter
    is a list inside a JSON column, which SQL cannot search portably, so the graduates after leaving are read
    with their meters in one query and kept or left here."""
    students = graduates_of(Student.objects.visible_to(user), int(params["year"])).in_ledger()  # type: ignore[attr-defined]
    students = students.order_by("department__path", "class_unit__path", "student_number")
    state = params.get("state") or FOLLOW_UPS_ALL
    if state == FOLLOW_UPS_DONE:
        return _ordered_ids(students.filter(Exists(FollowUp.objects.filter(student=OuterRef("pk")))))
    if state != FOLLOW_UPS_DUE:
        return _ordered_ids(students)
    horizon = (dt.date.fromisoformat(str(params["as_of"])) + dt.timedelta(days=DUE_WITHIN_DAYS)).isoformat()
    due = []
    after_leaving = students.filter(progress__stage=Stage.AFTER_LEAVING).values_list("pk", "progress__meters")
    for pk, meters in after_leaving:
        meter = next((m for m in meters or [] if m.get("metric") == Metric.FOLLOW_UP), None)
        if meter and (meter.get("overdue") or (meter.get("due_on") or "9999") <= horizon):
            due.append(pk)
    return due


def _follow_up_columns() -> list[Column]:
    return [
        number_column(),
        Column(_("Student number"), 14),
        Column(_("Name"), 10),
        Column(_("Department"), 20),
        Column(_("Class"), 16),
        Column(_("Helper"), 10),
        Column(_("Expected graduation"), 12, DATE),
        Column(_("Destination"), 24),
        Column(_("Employer or school"), 24),
        Column(_("Follow-ups done"), 10, NUMBER),
        Column(_("Last follow-up on"), 12, DATE),
        Column(_("Months after leaving"), 10, NUMBER),
        Column(_("Situation"), 16),
        Column(_("Next follow-up due"), 12, DATE),
        Column(_("Follow-ups overdue"), 10, NUMBER),
    ]


def _follow_up_rows(ids: list[int]) -> Iterator[list[Any]]:
    w = Words()
    latest = FollowUp.objects.filter(student=OuterRef("pk")).order_by("-done_on", "-pk")
    for chunk in _chunks(ids):
        done = dict(
            FollowUp.objects.filter(student_id__in=chunk)
            .values("student_id")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("student_id", "n")
        )
        found = {
            row["pk"]: row
            for row in Student.objects.filter(pk__in=chunk)
            .annotate(
                dest=current_destination(),
                helper_name=helper_name(),
                last_on=Subquery(latest.values("done_on")[:1]),
                last_months=Subquery(latest.values("months_after_leaving")[:1]),
                last_status=Subquery(latest.values("status")[:1]),
            )
            .values(
                "pk",
                "student_number",
                "name",
                "department__name",
                "department__name_en",
                "class_unit__name",
                "class_unit__name_en",
                "helper_name",
                "expected_graduation",
                "dest__code__code",
                "dest__code__label",
                "dest__code__label_en",
                "dest__employer_name",
                "last_on",
                "last_months",
                "last_status",
                "progress__meters",
            )
        }
        for pk in chunk:
            r = found.get(pk)
            if r is None:
                continue
            meter = next((m for m in r["progress__meters"] or [] if m.get("metric") == Metric.FOLLOW_UP), None)
            due = dt.date.fromisoformat(meter["due_on"]) if meter and meter.get("due_on") else None
            yield [
                r["student_number"],
                r["name"],
                w.unit(r["department__name"], r["department__name_en"]),
                w.unit(r["class_unit__name"], r["class_unit__name_en"]),
                r["helper_name"] or "",
                r["expected_graduation"],
                w.destination(r["dest__code__code"], r["dest__code__label"], r["dest__code__label_en"]),
                r["dest__employer_name"] or "",
                done.get(pk, 0),
                r["last_on"],
                r["last_months"],
                w.label(FollowUpStatus, r["last_status"]),
                due,
                int(meter.get("overdue", 0)) if meter else None,
            ]


def follow_up_export(user: User, params: dict[str, Any]) -> Export:
    require_staff(user)
    ids = follow_up_ids(user, params)
    state = params.get("state") or FOLLOW_UPS_ALL
    title = {
        FOLLOW_UPS_DUE: _("Follow-ups due: %(year)s graduates"),
        FOLLOW_UPS_DONE: _("Graduates followed up: %(year)s graduates"),
    }.get(state, _("Follow-ups of the %(year)s graduates")) % {"year": params["year"]}
    today = timezone.localdate()
    sheet = Sheet(
        name=_("Follow-ups"),
        title=title,
        subtitle=_("%(count)d graduates in the ledger · as of %(date)s")
        % {"count": len(ids), "date": str(params["as_of"])},
        columns=_follow_up_columns(),
        rows=_numbered(_follow_up_rows(ids)),
        freeze_columns=3,
    )
    scope = scope_text(user, {k: params.get(k) for k in ("year", "state", "as_of")})
    return Export(FOLLOW_UPS, _file_name(title, today), [sheet], len(ids), scope)


# --- The registry ---------------------------------------------------------------------------------------------------

BUILDERS: dict[str, Callable[[User, dict[str, Any]], Export]] = {
    LEDGER: ledger_export,
    WORK_LEDGER: work_ledger_export,
    PLACEMENT: placement_export,
    SUBSIDIES: subsidy_export,
    FOLLOW_UPS: follow_up_export,
}


def build(kind: str, *, user: User, params: dict[str, Any]) -> Export:
    """The export `kind` for `user` with `params`, its rows not read yet (only their number is known)."""
    try:
        builder = BUILDERS[kind]
    except KeyError:
        raise ValueError(f"unknown export: {kind}") from None
    return builder(user, params)
