"""Time the work-ledger screens on the bench data set and compare each with a naive baseline from the same run.

    .venv/bin/python bench/run.py                 # after bench/generate.py; `make bench` runs both

Pages are requested in-process with Django's test Client against the real views, logged in as the data set's
named users (a helper with ~40 students, a department leader, the employment office, the school leader). For
each screen the script also times the database reads the page is built from, and a naive baseline: the counts
the same figures would need if they were aggregated from the activities table on every request (one GROUP BY
per student, stage and kind over the same students; no evaluation of the rules, so the baseline is a lower
bound and the ratio errs on the modest side). `rebuild_progress` is compared with refreshing every ledger
student's progress one by one, the incremental path, timed on a sample and scaled to the whole ledger.

Every figure is the median (and the 95th percentile, interpolated) of repeated runs after two warm-up runs.
Nothing is written: the activity write runs inside a transaction that is rolled back, and `rebuild_progress`
rewrites the progress rows with the values they already hold.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from environment import DEFAULT_VAR_DIR, read_meta, setup_django

WARMUP = 2


@dataclass
class Timing:
    label: str
    samples: list[float] = field(default_factory=list)  # wall-clock seconds
    cpu: list[float] = field(default_factory=list)  # this process's CPU seconds (SQLite runs in-process)
    queries: int | None = None
    estimated: bool = False

    @property
    def median_ms(self) -> float:
        return 1000 * statistics.median(self.samples)

    @property
    def p95_ms(self) -> float:
        return 1000 * percentile(self.samples, 0.95)

    @property
    def cpu_ms(self) -> float:
        return 1000 * statistics.median(self.cpu) if self.cpu else float("nan")

    def add(self, wall: float, cpu: float) -> None:
        self.samples.append(wall)
        self.cpu.append(cpu)


@dataclass
class Scenario:
    title: str
    rows: list[Timing] = field(default_factory=list)
    ratios: list[tuple[str, float, float]] = field(default_factory=list)  # name, by wall clock, by CPU time

    def ratio(self, name: str, slow: Timing, fast: Timing) -> None:
        self.ratios.append((name, slow.median_ms / fast.median_ms, slow.cpu_ms / fast.cpu_ms))

    notes: list[str] = field(default_factory=list)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    k = (len(ordered) - 1) * q
    low = math.floor(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def measure(label: str, fn: Callable[[], Any], repeat: int, warmup: int = WARMUP) -> Timing:
    for _ in range(warmup):
        fn()
    timing = Timing(label)
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        timing.add(time.perf_counter() - wall, time.process_time() - cpu)
    return timing


def count_queries(fn: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def page(client: Any, url: str) -> Callable[[], Any]:
    """A request that must answer 200, as a callable to time."""

    def get() -> Any:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
        return response

    return get


def grouped_activities(students: Any) -> Callable[[], int]:
    """The naive baseline: per-student counts by stage and kind, aggregated from the activities table."""
    from django.db.models import Count, Max

    from bangfu.assistance.models import Activity

    def run() -> int:
        rows = (
            Activity.objects.filter(student_id__in=students, voided=False)
            .values("student_id", "stage", "kind", "effective")
            .annotate(n=Count("id"), last=Max("occurred_on"))
            .order_by()
        )
        return len(list(rows))

    return run


class Bench:
    def __init__(self, args: argparse.Namespace, meta: dict[str, Any]) -> None:
        from django.test import Client

        import bangfu.wsgi  # noqa: F401  # start up as an app process does (its heap frozen for the collector)
        from bangfu.organisation.models import User

        self.args = args
        self.meta = meta
        self.today: dt.date = meta["today"]
        self.users = {role: User.objects.get(username=name) for role, name in meta["logins"].items()}
        self.clients: dict[str, Any] = {}
        for role, user in self.users.items():
            client = Client()
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            self.clients[role] = client
        self.scenarios: list[Scenario] = []

    def timed(self, scenario: Scenario, label: str, fn: Callable[[], Any], *, naive: bool = False) -> Timing:
        repeat = self.args.naive_repeat if naive else self.args.repeat
        queries = count_queries(fn)  # also the first warm-up run; a naive baseline (seconds long) needs no other
        timing = measure(label, fn, repeat, warmup=0 if naive else WARMUP - 1)
        timing.queries = queries
        scenario.rows.append(timing)
        return timing

    # --- 1. the helper board -------------------------------------------------------------------------------

    def helper_board(self) -> None:
        from django.urls import reverse

        from bangfu.assistance import queries
        from bangfu.assistance.models import HelperAssignment

        helper = self.users["helper"]
        ids = list(HelperAssignment.objects.active().filter(helper=helper).values_list("student_id", flat=True))
        s = Scenario(f"1. Helper board: my students ({len(ids)} students of one helper)")
        board = getattr(queries, "my_board", None) or queries.my_assignments
        page_t = self.timed(
            s, "page   GET my_students as the helper", page(self.clients["helper"], reverse("assistance:my_students"))
        )
        query_t = self.timed(s, f"query  queries.{board.__name__}(helper), evaluated", lambda: list(board(helper)))
        naive_t = self.timed(s, "naive  GROUP BY over their activities", grouped_activities(ids), naive=True)
        s.ratio("naive / query", naive_t, query_t)
        s.ratio("naive / page", naive_t, page_t)
        self.scenarios.append(s)

    # --- 2. and 3. the compliance pages -------------------------------------------------------------------

    def compliance_pages(self) -> None:
        from django.urls import NoReverseMatch, reverse

        from bangfu.students.models import Student

        leader = self.users["leader"]
        department = next(g.unit for g in leader.grants.select_related("unit") if g.role == "department_leader")
        dept_ids = Student.objects.filter(department=department).in_ledger().values("pk")
        school_ids = Student.objects.filter(school_id=department.parent_id).in_ledger().values("pk")
        s2 = Scenario(f"2. Department compliance ({department.name}, {dept_ids.count():,} ledger students)")
        s3 = Scenario(f"3. School view ({Student.objects.in_ledger().count():,} ledger students)")
        try:
            url = reverse("assistance:compliance")
        except NoReverseMatch:
            url = None
        try:
            from bangfu.assistance import compliance as figures
        except ImportError:
            figures = None

        if url is None and figures is None:
            for s in (s2, s3):
                s.notes.append(
                    "skipped: neither the page assistance:compliance nor assistance/compliance.py exists yet"
                )
                self.scenarios.append(s)
            return

        dept_page = school_page = None
        if url is not None:
            dept_page = self.timed(
                s2, "page   GET compliance as the department leader", page(self.clients["leader"], url)
            )
            school_page = self.timed(
                s3, "page   GET compliance as the employment office", page(self.clients["office"], url)
            )
            self.timed(s3, "page   GET compliance as the school leader", page(self.clients["principal"], url))
        else:
            for s in (s2, s3):
                s.notes.append("page not timed: the URL assistance:compliance does not exist yet")

        dept_query = school_query = None
        if figures is not None:
            try:
                dept_query, school_query = self.compliance_queries(figures, s2, s3, department)
            except AttributeError as e:
                for s in (s2, s3):
                    s.notes.append(f"queries not timed: assistance/compliance.py has changed ({e})")
        dept_naive = self.timed(
            s2, "naive  GROUP BY over the department's activities", grouped_activities(dept_ids), naive=True
        )
        school_naive = self.timed(
            s3, "naive  GROUP BY over the school's activities", grouped_activities(school_ids), naive=True
        )
        for s, naive, query, shown in (
            (s2, dept_naive, dept_query, dept_page),
            (s3, school_naive, school_query, school_page),
        ):
            if query is not None:
                s.ratio("naive / query", naive, query)
            if shown is not None:
                s.ratio("naive / page", naive, shown)
        self.scenarios += [s2, s3]

    def compliance_queries(self, figures: Any, s2: Scenario, s3: Scenario, department: Any) -> tuple[Timing, Timing]:
        leader, office = self.users["leader"], self.users["office"]
        size = 25

        def department_reads() -> None:
            figures.helper_rows(leader, department)
            figures.total_row(leader, "", department=department.public_id)
            list(figures.late_students(leader, department)[:size])
            list(figures.at_risk_students(leader, department)[:size])

        def school_reads() -> None:
            departments = figures.departments_in_scope(figures.leader_units(office))
            figures.department_rows(office, departments)
            figures.total_row(office, "")

        dept = self.timed(s2, "query  compliance: helper rows, total, late and at-risk lists", department_reads)
        school = self.timed(s3, "query  compliance: department rows and total", school_reads)
        return dept, school

    # --- 4. rebuild_progress -------------------------------------------------------------------------------

    def rebuild(self) -> None:
        from bangfu.assistance.progress import rebuild_progress, refresh_progress
        from bangfu.students.models import Student

        ledger = Student.objects.in_ledger().count()
        s = Scenario(f"4. rebuild_progress(today={self.today}) over {ledger:,} ledger students")
        timing = Timing("rebuild_progress, all ledger students")
        for _ in range(self.args.rebuild_repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            rebuild_progress(today=self.today)
            timing.add(time.perf_counter() - wall, time.process_time() - cpu)
        s.rows.append(timing)
        ids = list(Student.objects.in_ledger().order_by("pk").values_list("pk", flat=True))
        step = max(1, len(ids) // max(self.args.refresh_sample, 1))  # spread over cohorts and departments
        sample = list(Student.objects.filter(pk__in=ids[::step][: self.args.refresh_sample]))
        per_student = Timing(f"naive  refresh_progress one by one: {len(sample)} students, scaled to {ledger:,}")
        per_student.estimated = True
        scale = ledger / max(len(sample), 1)
        for _ in range(self.args.rebuild_repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            for student in sample:
                refresh_progress(student=student, today=self.today)
            per_student.add((time.perf_counter() - wall) * scale, (time.process_time() - cpu) * scale)
        s.rows.append(per_student)
        s.ratio("naive / rebuild", per_student, timing)
        self.scenarios.append(s)

    # --- 5. one write ---------------------------------------------------------------------------------------

    def write(self) -> None:
        from django.db import transaction

        from bangfu.assistance.models import HelperAssignment
        from bangfu.assistance.services import record_activity

        helper = self.users["helper"]
        students = [
            a.student for a in HelperAssignment.objects.active().filter(helper=helper).select_related("student")
        ]
        s = Scenario("5. A helper logs a check-in (record_activity with its progress refresh; rolled back)")
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

        self.timed(s, "service record_activity(check_in) + rollback", log)
        s.notes.append("no naive baseline: this is the cost the progress table adds to each write")
        self.scenarios.append(s)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), load average {load}; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


def report(bench: Bench, started: float, load_before: str) -> str:
    meta = bench.meta
    lines = [
        f"Bangfu bench · {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} · {' '.join(sys.argv)}",
        f"data set: {meta['students']:,} students, {meta['ledger_students']:,} in the ledger, "
        f"{meta['helpers']} helpers, {meta['activities']:,} activities; today {meta['today']} ({bench.args.var_dir})",
        f"machine: {load_before}",
        f"each figure: wall-clock median and p95 of {bench.args.repeat} runs (naive baselines "
        f"{bench.args.naive_repeat}, rebuild {bench.args.rebuild_repeat}) after {WARMUP} warm-up runs (naive "
        "baselines 1), in ms; cpu = median CPU time of this process (steadier on a busy machine)",
        "",
        f"{'':<70}{'median':>9}{'p95':>9}{'cpu':>9}{'runs':>6}{'queries':>9}",
    ]
    for s in bench.scenarios:
        lines.append(s.title)
        for t in s.rows:
            mark = " (est.)" if t.estimated else ""
            queries = "" if t.queries is None else str(t.queries)
            lines.append(
                f"  {t.label + mark:<68}{t.median_ms:>9.1f}{t.p95_ms:>9.1f}{t.cpu_ms:>9.1f}{len(t.samples):>6}"
                f"{queries:>9}"
            )
        for name, wall, cpu in s.ratios:
            lines.append(f"  {'ratio  ' + name:<68}{wall:>8.1f}x  (by CPU time {cpu:.1f}x)")
        for note in s.notes:
            lines.append(f"  note: {note}")
        lines.append("")
    lines.append(
        f"total {time.perf_counter() - started:.0f} s; load average at the end: "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg())
    )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--var-dir", type=Path, default=DEFAULT_VAR_DIR, help="where bench/generate.py built the data")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs per page and query")
    parser.add_argument("--naive-repeat", type=int, default=5, help="timed runs per naive baseline")
    parser.add_argument("--rebuild-repeat", type=int, default=1, help="runs of rebuild_progress")
    parser.add_argument("--refresh-sample", type=int, default=200, help="students refreshed one by one")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.var_dir = args.var_dir.resolve()
    meta = read_meta(args.var_dir)
    if meta is None:
        print(f"No bench data set in {args.var_dir}: run bench/generate.py first.", file=sys.stderr)
        return 2
    setup_django(args.var_dir)
    started = time.perf_counter()
    load_before = machine()
    bench = Bench(args, meta)
    for step in (bench.helper_board, bench.compliance_pages, bench.rebuild, bench.write):
        step()
    text = report(bench, started, load_before)
    print(text)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "report": text,
                    "scenarios": [
                        {
                            "title": s.title,
                            "rows": [
                                {
                                    "label": t.label,
                                    "median_ms": t.median_ms,
                                    "cpu_ms": t.cpu_ms,
                                    "p95_ms": t.p95_ms,
                                    "runs": len(t.samples),
                                    "queries": t.queries,
                                    "estimated": t.estimated,
                                }
                                for t in s.rows
                            ],
                            "ratios": {name: {"wall": wall, "cpu": cpu} for name, wall, cpu in s.ratios},
                            "notes": s.notes,
                        }
                        for s in bench.scenarios
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
