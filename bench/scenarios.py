"""The scenarios of the production-readiness issue, each timed against a naive baseline from the same run.

    .venv/bin/python bench/scenarios.py            # the university on SQLite (what `make bench` runs)
    .venv/bin/python bench/province.py run         # the same scenarios on the province, on PostgreSQL

The university data set is var/bench-scenarios/ (`--var-dir`): a copy of the dashboard bench's university
(`bench/dashboards.py`: 30,000 students, 1,000,000 activities, destinations, recommendations, subsidies, tracks),
built from var/bench/ when needed, with a provincial authority put above its school and a `province` login (an
employment-office grant on it), so the province board is timed too (over one school). The copies it reads from are
never written.

Pages are requested in-process with Django's test Client (real middleware, views and templates, `DEBUG=0`) as a
logged-in user of the right role, on the data set's today (`time-machine`). Each line: the wall-clock median and
95th percentile (interpolated) of `--repeat` runs after two warm-up runs (one of which counts the SQL queries), the
median CPU time of this process, and the queries of one run. The naive baseline of each scenario computes the same
figures the plain way (named on its line): aggregating the activities table instead of reading the progress rows,
or reading rows into Python and counting there; it runs `--naive-repeat` times after no warm-up, and where the
page's figures can be read back the script stops if the two disagree. The ratio naive ÷ page is taken from the
same run, so it holds on a noisy machine.

Goals (issue 9): every dashboard and list page under 150 ms at the 95th percentile at province scale, and at least
20 times faster than its naive baseline; each scenario prints PASS or MISS against both. The export and the write
are not pages: their lines carry figures, not verdicts. The lists by class (10–13: the department ledger, helpers
and unassigned students, the enrolment survey, unplaced graduates) have no naive baseline and are judged on time
alone; the last lines count the pages under 150 ms and those meeting both goals.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from environment import DEFAULT_VAR_DIR, REPO, read_meta, remove_data_set, setup_django, write_meta
from run import WARMUP, Scenario, Timing, count_queries, grouped_activities, measure

DEFAULT_SCENARIO_DIR = REPO / "var" / "bench-scenarios"
GOAL_P95_MS = 150.0
GOAL_RATIO = 20.0
LIST_FILTERS = "in_ledger=yes&compliant=no&cohort={cohort}&sort=name"
API_FILTERS = "in_ledger=true&cohort={cohort}"


@dataclass
class Case(Scenario):
    """A scenario with the timing its goals are judged on (a page) and its naive baseline."""

    judged: Timing | None = None
    naive: Timing | None = None
    is_page: bool = True
    facts: dict[str, Any] = field(default_factory=dict)

    def verdict(self) -> tuple[str, bool | None]:
        """The line judging the scenario against the goals, and whether it met them (None: no goal)."""
        if not self.is_page or self.judged is None:
            return "goals: none (not a page)", None
        p95 = self.judged.p95_ms
        fast = p95 < GOAL_P95_MS
        parts = [f"p95 {p95:.1f} ms < {GOAL_P95_MS:.0f}: {'PASS' if fast else 'MISS'}"]
        ok = fast
        if self.naive is None:  # judged on time alone, and not counted among the pages meeting both goals
            return "goals: " + "; ".join(parts) + "; no naive baseline", None
        ratio = self.naive.median_ms / self.judged.median_ms
        enough = ratio >= GOAL_RATIO
        parts.append(f"naive / page {ratio:.1f}x ≥ {GOAL_RATIO:.0f}x: {'PASS' if enough else 'MISS'}")
        ok = ok and enough
        return "goals: " + "; ".join(parts) + f"  → {'PASS' if ok else 'MISS'}", ok


# --- naive baselines --------------------------------------------------------------------------------------------


def naive_board(scope: Any, year: int, by: str) -> Callable[[], dict[Any, list[int]]]:
    """A board's figures the plain way: this year's ledger graduates and those placed, per `by` (a column of the
    student), counted in Python from every student, open ledger entry and current destination of the scope; and
    the standards figures aggregated from the activities of the scope's ledger students (one GROUP BY per student,
    stage and kind, as `run.py` does), instead of read from their progress rows."""
    from bangfu.outcomes.models import PLACED_GROUPS, Destination
    from bangfu.students.models import LedgerEntry, StudentStatus

    def run() -> dict[Any, list[int]]:
        ids = scope.values("pk")
        ledger = set(
            LedgerEntry.objects.filter(student__in=ids, left_on__isnull=True).values_list("student_id", flat=True)
        )
        placed = set(
            Destination.objects.filter(
                student__in=ids, superseded_on__isnull=True, code__group__in=PLACED_GROUPS
            ).values_list("student_id", flat=True)
        )
        counts: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
        for pk, key, graduation, status in scope.values_list("pk", by, "expected_graduation", "status"):
            if pk in ledger and graduation.year == year and status != StudentStatus.WITHDRAWN:
                counts[key][0] += 1
                counts[key][1] += pk in placed
        grouped_activities(list(ledger))()
        return dict(counts)

    return run


def naive_list(scope: Any, cohort: int, *, behind: bool) -> Callable[[], tuple[int, list[int]]]:
    """A filtered student list the plain way: every student of the scope read with their ledger state and progress,
    filtered and sorted in Python; the count and the first page of 50."""
    from bangfu.assistance.models import StudentProgress
    from bangfu.students.models import LedgerEntry

    def run() -> tuple[int, list[int]]:
        ids = scope.values("pk")
        ledger = set(
            LedgerEntry.objects.filter(student__in=ids, left_on__isnull=True).values_list("student_id", flat=True)
        )
        progress = {
            sid: met < total
            for sid, met, total in StudentProgress.objects.filter(student__in=ids).values_list(
                "student_id", "standards_met", "standards_total"
            )
        }
        rows = [
            (name, number, pk)
            for pk, number, name, c in scope.values_list("pk", "student_number", "name", "cohort")
            if c == cohort and pk in ledger and (not behind or progress.get(pk, False))
        ]
        rows.sort()
        return len(rows), [pk for _n, _s, pk in rows[:50]]

    return run


def naive_export(ids: list[int], sample: int) -> tuple[Callable[[], int], float]:
    """The work ledger's reads the plain way, row by row through the ORM (a query or more per related record) for
    `sample` of the rows; returns the function and the factor that scales it to every row."""
    from bangfu.assistance.models import HelperAssignment, StudentProgress
    from bangfu.opportunities.models import Recommendation
    from bangfu.outcomes.models import Destination
    from bangfu.students.models import LedgerEntry, Student
    from bangfu.subsidies.models import Application

    step = max(1, len(ids) // max(sample, 1))
    chosen = ids[::step][:sample]

    def run() -> int:
        n = 0
        for pk in chosen:
            student = Student.objects.select_related("department", "major", "class_unit").get(pk=pk)
            entry = LedgerEntry.objects.filter(student=student, left_on__isnull=True).first()
            if entry is not None:
                n += len(list(entry.categories.all()))
            n += StudentProgress.objects.filter(student=student).count()
            helper = HelperAssignment.objects.active().filter(student=student).select_related("helper").first()
            n += helper is not None
            n += Recommendation.objects.filter(student=student).count()
            n += Application.objects.filter(student=student, status="paid").count()
            n += Destination.objects.filter(student=student, superseded_on__isnull=True).count()
        return n

    return run, len(ids) / max(len(chosen), 1)


# --- the bench ---------------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, meta: dict[str, Any]) -> None:
        from django.test import Client

        import bangfu.wsgi  # noqa: F401  # start up as an app process does (its heap frozen for the collector)
        from bangfu.organisation.models import User

        self.args = args
        self.meta = meta
        self.today: dt.date = meta["today"]
        self.year = self.today.year  # the boards open on this year's graduates
        names = meta["logins"]
        self.users = {role: User.objects.get(username=role) for role in names}
        self.clients: dict[str, Any] = {}
        for role, user in self.users.items():
            client = Client()
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            self.clients[role] = client
        self.cases: list[Case] = []

    def timed(self, case: Case, label: str, fn: Callable[[], Any], *, naive: bool = False, repeat: int = 0) -> Timing:
        repeat = repeat or (self.args.naive_repeat if naive else self.args.repeat)
        queries = count_queries(fn)  # the first warm-up run
        timing = measure(label, fn, repeat, warmup=0 if naive else self.args.warmup - 1)
        timing.queries = queries
        timing.estimated = False
        case.rows.append(timing)
        return timing

    def page(self, role: str, url: str) -> Callable[[], Any]:
        client = self.clients[role]

        def get() -> Any:
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"GET {url} as {role} answered {response.status_code}")
            return response

        return get

    def judge(self, case: Case, page: Timing, naive: Timing | None) -> None:
        case.judged, case.naive = page, naive
        if naive is not None:
            case.ratio("naive / page", naive, page)
        self.cases.append(case)

    # --- the boards ----------------------------------------------------------------------------------------

    def school_board(self) -> None:
        from django.urls import reverse

        from bangfu.reports import dashboards
        from bangfu.students.models import Student

        principal = self.users["principal"]
        school = next(g.unit for g in principal.grants.select_related("unit") if g.role == "school_leader")
        figures = dashboards.placement(principal, self.year)
        case = Case(
            f"1. School board ({school.name}: {figures.graduates.value:,} ledger graduates of {self.year}, "
            f"{figures.unplaced.value:,} unplaced)"
        )
        page = self.timed(
            case, "page   GET reports:school as the school leader", self.page("principal", reverse("reports:school"))
        )
        naive_fn = naive_board(Student.objects.filter(school=school), self.year, "department_id")
        self.agree(
            case,
            naive_fn(),
            {
                r.department.pk: [r.graduates.value, r.placed.value]
                for r in dashboards.departments_ranked(
                    principal, self.year, list(dashboards.departments_in_scope([school]))
                )
            },
        )
        naive = self.timed(case, "naive  placement counted in Python + GROUP BY activities", naive_fn, naive=True)
        self.judge(case, page, naive)

    def department_board(self) -> None:
        from django.urls import reverse

        from bangfu.reports import dashboards
        from bangfu.students.models import Student

        leader = self.users["leader"]
        department = next(g.unit for g in leader.grants.select_related("unit") if g.role == "department_leader")
        figures = dashboards.placement(leader, self.year, department=department.public_id)
        case = Case(
            f"2. Department board ({department.name}: {figures.graduates.value:,} ledger graduates, "
            f"{figures.unplaced.value:,} unplaced)"
        )
        page = self.timed(
            case,
            "page   GET reports:department as the department leader",
            self.page("leader", reverse("reports:department")),
        )
        naive_fn = naive_board(Student.objects.filter(department=department), self.year, "department_id")
        self.agree(case, naive_fn(), {department.pk: [figures.graduates.value, figures.placed.value]})
        naive = self.timed(case, "naive  placement counted in Python + GROUP BY activities", naive_fn, naive=True)
        self.judge(case, page, naive)

    def province_board(self) -> None:
        from django.urls import NoReverseMatch, reverse

        from bangfu.organisation.models import OrgUnit, UnitKind
        from bangfu.reports import dashboards
        from bangfu.students.models import Student

        case = Case("3. Province board")
        user = self.users.get("province")
        try:
            url = reverse("reports:province")
        except NoReverseMatch:
            url = None
        if user is None or url is None:
            case.notes.append("skipped: no province login in the data set, or no reports:province page")
            self.cases.append(case)
            return
        province = next(g.unit for g in user.grants.select_related("unit") if g.unit.kind == UnitKind.PROVINCE)
        board = dashboards.province_board(user, [province], year=self.year)
        totals = board.totals
        schools = OrgUnit.objects.filter(kind=UnitKind.SCHOOL, path__startswith=province.path)
        case.title = (
            f"3. Province board ({province.name}: schools {len(board.schools)}, {totals['ledger']:,} ledger students, "
            f"{totals['graduates']:,} ledger graduates, {totals['unplaced']:,} unplaced)"
        )
        page = self.timed(case, "page   GET reports:province as the province office", self.page("province", url))
        naive_fn = naive_board(Student.objects.filter(school__in=schools), self.year, "school_id")
        self.agree(
            case,
            naive_fn(),
            {r.school.pk: [r.graduates.value, r.placed.value] for r in board.schools if r.graduates.value},
        )
        naive = self.timed(case, "naive  placement counted in Python + GROUP BY activities", naive_fn, naive=True)
        self.judge(case, page, naive)

    # --- lists ---------------------------------------------------------------------------------------------

    def final_cohort(self) -> int:
        """The cohort in its final year (the job-search stage): the one the lists are filtered on."""
        return self.year - 3 + (1 if self.today.month >= 7 else 0)

    def student_list(self) -> None:
        from django.urls import reverse

        from bangfu.students.models import Student
        from bangfu.students.queries import apply_student_filters

        office = self.users["office"]
        cohort = self.final_cohort()
        query = LIST_FILTERS.format(cohort=cohort)
        scope = Student.objects.visible_to(office)
        count = apply_student_filters(scope, in_ledger=True, compliant=False, cohort=cohort).count()
        case = Case(f"4. Student list with filters ({query}: {count:,} of {scope.count():,} students)")
        page = self.timed(
            case,
            "page   GET students:list as the employment office",
            self.page("office", f"{reverse('students:list')}?{query}"),
        )
        naive_fn = naive_list(scope, cohort, behind=True)
        if naive_fn()[0] != count:
            raise SystemExit("the naive student list and the page disagree")
        naive = self.timed(case, "naive  every student of the school filtered in Python", naive_fn, naive=True)
        self.judge(case, page, naive)

    def helper_board(self) -> None:
        from django.urls import reverse

        from bangfu.assistance.models import HelperAssignment

        helper = self.users["helper"]
        ids = list(HelperAssignment.objects.active().filter(helper=helper).values_list("student_id", flat=True))
        case = Case(f"5. Helper board ({len(ids)} students of one helper)")
        page = self.timed(
            case, "page   GET reports:helper as the helper", self.page("helper", reverse("reports:helper"))
        )
        self.timed(
            case,
            "page   GET assistance:my_students as the helper",
            self.page("helper", reverse("assistance:my_students")),
        )
        naive = self.timed(case, "naive  GROUP BY over their activities", grouped_activities(ids), naive=True)
        self.judge(case, page, naive)

    def placement(self) -> None:
        import placement as placement_bench
        from django.urls import reverse

        from bangfu.organisation.permissions import Perm, unit_q, units_with
        from bangfu.outcomes.queries import graduates_of, placement_figures
        from bangfu.students.models import Student

        office = self.users["office"]
        year = self.year
        cohort = graduates_of(Student.objects.filter(unit_q(units_with(office, Perm.VIEW_STUDENT))), year)
        rows = placement_figures(students=cohort, as_of=self.today, by="department")
        if rows != placement_bench.naive_figures(cohort, self.today, "department"):
            raise SystemExit("placement_figures and the naive recount disagree")
        total = sum(r.graduates for r in rows)
        case = Case(f"6. Placement figures of a cohort (graduates of {year} of the school: {total:,}, by department)")
        url = f"{reverse('outcomes:figures')}?year={year}&as_of={self.today.isoformat()}&by=department"
        page = self.timed(case, "page   GET outcomes:figures as the employment office", self.page("office", url))
        self.timed(
            case,
            "query  placement_figures(by=department)",
            lambda: placement_figures(students=cohort, as_of=self.today, by="department"),
        )

        def naive_fn() -> Any:
            return placement_bench.naive_figures(cohort, self.today, "department")

        naive = self.timed(case, "naive  every destination row counted in Python", naive_fn, naive=True)
        self.judge(case, page, naive)

    def export(self) -> None:
        from bangfu.reports import exports, xlsx

        role = "exporter" if "exporter" in self.users else "office"
        user = self.users[role]
        params = exports.list_params({}, "number")
        ids = list(exports.listed_students(user, params).values_list("pk", flat=True))
        case = Case(f"7. Export: the work ledger of {len(ids):,} students as {role} (xlsx)", is_page=False)
        out = Path(tempfile.mkdtemp(prefix="bangfu-bench-scenarios-")) / "work-ledger.xlsx"

        def write() -> int:
            export = exports.build(exports.WORK_LEDGER, user=user, params=params)
            return xlsx.write_workbook(out, export.sheets)

        written = self.timed(case, "export exports.build + xlsx.write_workbook", write, repeat=self.args.export_repeat)
        naive_fn, scale = naive_export(ids, self.args.export_sample)
        sample = self.timed(
            case,
            f"naive  row by row through the ORM: {min(len(ids), self.args.export_sample)} rows",
            naive_fn,
            naive=True,
        )
        naive = Timing(
            f"naive  scaled to {len(ids):,} rows", [s * scale for s in sample.samples], [c * scale for c in sample.cpu]
        )
        naive.estimated = True
        case.rows.append(naive)
        case.ratio("naive / export", naive, written)
        case.facts["rows"] = len(ids)
        case.facts["megabytes"] = round(out.stat().st_size / 2**20, 1)
        out.unlink()
        self.judge(case, written, None)

    def api_list(self) -> None:
        from bangfu.students.models import Student
        from bangfu.students.queries import apply_student_filters

        office = self.users["office"]
        cohort = self.final_cohort()
        query = API_FILTERS.format(cohort=cohort)
        scope = Student.objects.visible_to(office)
        count = apply_student_filters(scope, in_ledger=True, cohort=cohort).count()
        case = Case(f"8. API list (/api/v1/students?{query}: {count:,} students, first page of 50)")
        get = self.page("office", f"/api/v1/students?{query}")
        if get().json()["count"] != count:
            raise SystemExit("the API's count and the list's disagree")
        page = self.timed(case, "api    GET /api/v1/students as the employment office", get)
        naive_fn = naive_list(scope, cohort, behind=False)
        if naive_fn()[0] != count:
            raise SystemExit("the naive list and the API disagree")
        naive = self.timed(case, "naive  every student of the school filtered in Python", naive_fn, naive=True)
        self.judge(case, page, naive)

    def write(self) -> None:
        from django.db import transaction

        from bangfu.assistance.models import HelperAssignment
        from bangfu.assistance.services import record_activity

        helper = self.users["helper"]
        students = [
            a.student for a in HelperAssignment.objects.active().filter(helper=helper).select_related("student")
        ]
        case = Case(
            "9. A helper logs a check-in (record_activity with its progress refresh; rolled back)", is_page=False
        )
        turn = iter(range(10**9))

        def log() -> None:
            student = students[next(turn) % len(students)]
            with transaction.atomic():
                record_activity(
                    actor=helper,
                    student=student,
                    kind="check_in",
                    occurred_on=self.today,
                    today=self.today,
                    notes="电话联系",
                )
                transaction.set_rollback(True)

        written = self.timed(case, "service record_activity(check_in) + rollback", log)
        case.notes.append("no naive baseline: this is what the progress table costs each write")
        self.judge(case, written, None)

    def lists_by_class(self) -> None:
        """The lists that show students by class, each timed on its own (no naive baseline: they count little)."""
        from django.urls import reverse

        pages = (
            ("leader", "students:ledger", "the department ledger as the department leader"),
            ("office", "assistance:caseload", "helpers and unassigned students as the employment office"),
            ("office", "students:survey:list", "the enrolment survey as the employment office"),
            ("office", "outcomes:unplaced", "unplaced graduates as the employment office"),
        )
        for number, (role, name, what) in enumerate(pages, start=10):
            case = Case(f"{number}. List by class: {what}")
            page = self.timed(case, f"page   GET {name}", self.page(role, reverse(name)))
            case.notes.append("no naive baseline: a page of 50 students in class order, with the unit's counts")
            self.judge(case, page, None)

    def agree(self, case: Case, naive: dict[Any, list[int]], shown: dict[Any, list[int]]) -> None:
        """Stop if the naive figures and the page's differ."""
        if {k: v for k, v in naive.items() if v[0]} != {k: v for k, v in shown.items() if v[0]}:
            raise SystemExit(f"{case.title}: the naive figures and the page's disagree:\n{naive}\n{shown}")


SCENARIOS = (
    "school_board",
    "department_board",
    "province_board",
    "student_list",
    "helper_board",
    "placement",
    "export",
    "api_list",
    "write",
    "lists_by_class",
)


# --- the report ---------------------------------------------------------------------------------------------------


def machine() -> str:
    from django.db import connection

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        database = f"SQLite {sqlite3.sqlite_version}"
    return f"{os.cpu_count()} cores ({cpu}), load average {load}; Python {platform.python_version()}, {database}"


def report(bench: Bench, scale: str, started: float, load_before: str) -> str:
    meta, args = bench.meta, bench.args
    lines = [
        f"Bangfu scenarios ({scale}) · {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} · {' '.join(sys.argv)}",
        f"data set: {meta['students']:,} students, {meta['ledger_students']:,} in the ledger, "
        f"{meta['activities']:,} activities; today {meta['today']}",
        f"machine: {load_before}",
        f"each figure: wall-clock median and p95 in ms of {args.repeat} runs after {args.warmup} warm-up runs (naive "
        f"baselines: {args.naive_repeat} runs, none before; export: {args.export_repeat}); cpu = median CPU time of "
        f"this process; goals: p95 < {GOAL_P95_MS:.0f} ms and naive / page ≥ {GOAL_RATIO:.0f}x",
        "",
        f"{'':<70}{'median':>10}{'p95':>10}{'cpu':>10}{'runs':>6}{'queries':>9}",
    ]
    for case in bench.cases:
        lines.append(case.title)
        for t in case.rows:
            mark = " (est.)" if t.estimated else ""
            queries = "" if t.queries is None else str(t.queries)
            lines.append(
                f"  {t.label + mark:<68}{t.median_ms:>10.1f}{t.p95_ms:>10.1f}{t.cpu_ms:>10.1f}{len(t.samples):>6}"
                f"{queries:>9}"
            )
        for name, wall, cpu in case.ratios:
            lines.append(f"  {'ratio  ' + name:<68}{wall:>9.1f}x  (by CPU time of this process {cpu:.1f}x)")
        for note in case.notes:
            lines.append(f"  note: {note}")
        if case.rows:
            lines.append("  " + case.verdict()[0])
        lines.append("")
    judged = [ok for c in bench.cases if (ok := c.verdict()[1]) is not None]
    timed = [c.judged.p95_ms < GOAL_P95_MS for c in bench.cases if c.is_page and c.judged is not None]
    lines.append(f"pages under {GOAL_P95_MS:.0f} ms at the 95th percentile: {sum(timed)} of {len(timed)}")
    lines.append(f"pages meeting both goals: {sum(judged)} of {len(judged)}")
    lines.append(
        f"total {time.perf_counter() - started:.0f} s; load average at the end: "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg())
    )
    return "\n".join(lines)


def as_json(bench: Bench, text: str) -> str:
    return json.dumps(
        {
            "report": text,
            "scenarios": [
                {
                    "title": c.title,
                    "rows": [
                        {
                            "label": t.label,
                            "median_ms": t.median_ms,
                            "p95_ms": t.p95_ms,
                            "cpu_ms": t.cpu_ms,
                            "runs": len(t.samples),
                            "queries": t.queries,
                            "estimated": t.estimated,
                        }
                        for t in c.rows
                    ],
                    "ratios": {name: {"wall": wall, "cpu": cpu} for name, wall, cpu in c.ratios},
                    "verdict": c.verdict()[0] if c.rows else None,
                    "met": c.verdict()[1] if c.rows else None,
                    "notes": c.notes,
                    "facts": c.facts,
                }
                for c in bench.cases
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


def run_and_report(args: argparse.Namespace, meta: dict[str, Any], *, scale: str) -> int:
    """Time the chosen scenarios on the data set Django is set up for, print the report (and write the JSON)."""
    import time_machine

    started = time.perf_counter()
    load_before = machine()
    with time_machine.travel(dt.datetime.combine(meta["today"], dt.time(10)), tick=True):
        bench = Bench(args, meta)
        for name in args.only or SCENARIOS:
            getattr(bench, name)()
            print(f"  done: {bench.cases[-1].title}", flush=True)
    text = report(bench, scale, started, load_before)
    print(text)
    if args.json:
        args.json.write_text(as_json(bench, text) + "\n")
    return 0


def add_arguments(parser: argparse.ArgumentParser, *, repeat: int, naive_repeat: int) -> None:
    parser.add_argument("--repeat", type=int, default=repeat, help="timed runs of each page")
    parser.add_argument("--naive-repeat", type=int, default=naive_repeat, help="timed runs of each naive baseline")
    parser.add_argument("--warmup", type=int, default=WARMUP, help="untimed runs of each page first (at least 1)")
    parser.add_argument("--export-repeat", type=int, default=3, help="timed runs of the export")
    parser.add_argument("--export-sample", type=int, default=300, help="rows read one by one for the naive export")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, help="run only these scenarios")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")


# --- the university -----------------------------------------------------------------------------------------------


def add_province(meta: dict[str, Any]) -> None:
    """A provincial authority above the university's school and a `province` login with an employment-office grant
    on it: the province board of one school. Paths are materialised, so every unit below moves with the school."""
    from django.db import transaction
    from django.db.models import F, Value
    from django.db.models.functions import Concat

    from bangfu.organisation.models import OrgUnit, Role, UnitKind
    from bangfu.organisation.services import create_staff, create_unit

    with transaction.atomic():
        school = OrgUnit.objects.get(kind=UnitKind.SCHOOL, parent__isnull=True)
        province = create_unit(kind=UnitKind.PROVINCE, code="HE", name="河北省教育厅", name_en="Hebei")
        OrgUnit.objects.filter(path__startswith=school.path).update(path=Concat(Value(province.path[:-1]), F("path")))
        OrgUnit.objects.filter(pk=school.pk).update(parent=province)
        create_staff(
            username="province", full_name="省就业指导中心", unit=province, roles=[(Role.EMPLOYMENT_OFFICE, province)]
        )
    meta["logins"] = {**meta["logins"], "province": "province"}


def prepare_university(args: argparse.Namespace) -> dict[str, Any]:
    """The university data set in `args.var_dir`: the dashboard bench's (copied or built), with a province."""
    import dashboards

    meta = read_meta(args.var_dir)
    if meta is not None and "province" in meta.get("logins", {}):
        setup_django(args.var_dir)
        print(f"Reusing the data set in {args.var_dir} ({meta['students']:,} students); --fresh rebuilds it.")
        return meta
    remove_data_set(args.var_dir)
    built = argparse.Namespace(
        var_dir=args.var_dir,
        exports_dir=args.exports_dir,
        from_dir=args.from_dir,
        students=30_000,
        activities=1_000_000,
        today=None,
    )
    meta = dashboards.prepare(built)
    add_province(meta)
    write_meta(args.var_dir, meta)
    meta = read_meta(args.var_dir)
    assert meta is not None
    return meta


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--var-dir", type=Path, default=DEFAULT_SCENARIO_DIR, help="where this data set lives")
    parser.add_argument("--from-dir", type=Path, default=DEFAULT_VAR_DIR, help="the work-ledger bench to copy")
    parser.add_argument(
        "--exports-dir", type=Path, default=REPO / "var" / "bench-exports", help="or the export bench to copy"
    )
    parser.add_argument("--fresh", action="store_true", help="rebuild the data set even if it exists")
    add_arguments(parser, repeat=20, naive_repeat=3)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name in ("var_dir", "from_dir", "exports_dir"):
        setattr(args, name, getattr(args, name).resolve())
    if args.fresh:
        remove_data_set(args.var_dir)
    meta = prepare_university(args)
    return run_and_report(args, meta, scale="university")


if __name__ == "__main__":
    sys.exit(main())
