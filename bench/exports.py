"""Time the work-ledger export (xlsx) of the bench university's 30,000 students, and measure its peak memory.

    .venv/bin/python bench/exports.py             # build var/bench-exports/ once, then time
    .venv/bin/python bench/exports.py --fresh     # rebuild that data set first

The data set is the work-ledger bench's university (`bench/generate.py`: 30,000 students, a fifth in the ledger,
their helpers, plans, activities and progress rows), copied from `var/bench/` when it is there (`--from-dir`),
otherwise generated the same way into `var/bench-exports/` (`--var-dir`). Then what the work ledger also reads
is added, bulk-inserted with a fixed seed: employers and positions, recommendations of ledger students in the
job-search and after-leaving stages with their outcomes, subsidy types and applications (most paid), the
destinations of the class that has left and of some of the final year (placed ones struck off, most verified),
and follow-ups after leaving. The original data set is never written.

As the employment office (the whole school, no filter) the script writes the work ledger with the code the
export view and the background job run (`exports.build` then `xlsx.write_workbook`, to a temporary file): the
median and 95th percentile of `--repeat` runs after one warm-up, CPU time and SQL queries; then, in separate
runs (`--memory-runs`), the peak of Python's allocations during the export (`tracemalloc`, which slows it down,
hence apart from the timed runs). For comparison it also times the disadvantaged-student ledger, the whole
request (`POST exports:work_ledger`, streamed because the inline threshold is raised for the bench), the background
job (`export_services.run_job`, with its progress writes), and the same workbook without XlsxWriter's
constant-memory mode.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from environment import DB_NAME, DEFAULT_VAR_DIR, REPO, read_meta, remove_data_set, setup_django, write_meta
from run import Scenario, Timing, count_queries, machine, measure

DEFAULT_EXPORT_DIR = REPO / "var" / "bench-exports"
SEED = 20261128
BATCH = 2000
MIB = 2**20

EMPLOYERS = (
    "石家庄华信科技有限公司",
    "河北钢铁集团有限公司",
    "保定长城汽车股份有限公司",
    "唐山三友化工股份有限公司",
    "邢台德龙钢铁有限公司",
    "河北汇金集团股份有限公司",
    "沧州明珠塑料股份有限公司",
    "廊坊新奥能源有限公司",
)
TITLES = ("软件测试工程师", "设备维护技术员", "客服专员", "仓库管理员", "电商运营助理", "服装设计助理", "会计助理")
# A graduate's destination (code, weight); "70" is still seeking work.
DESTINATIONS = (("11", 38), ("10", 16), ("12", 7), ("76", 5), ("77", 4), ("46", 2), ("80", 11), ("70", 12), ("72", 5))
FOLLOW_UP_MONTHS = (1, 3, 6, 12)


# --- the data set ----------------------------------------------------------------------------------------------


def copy_data_set(source: Path, target: Path) -> dict[str, Any]:
    """Copy the work-ledger bench's database (SQLite's online backup, so a WAL is folded in) and its keys."""
    target.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source / DB_NAME) as src, sqlite3.connect(target / DB_NAME) as dst:
        src.backup(dst)
    for key in ("secret_key", "data_key"):
        if (source / key).exists():
            shutil.copy2(source / key, target / key)
    meta = read_meta(source)
    assert meta is not None
    return meta


def generate_data_set(args: argparse.Namespace, target: Path) -> dict[str, Any]:
    import generate

    options = ["--students", str(args.students), "--activities", str(args.activities)]
    if args.today:
        options += ["--today", args.today.isoformat()]
    return generate.build(generate.parse_args(options), target)


def add_export_data(today: dt.date) -> dict[str, int]:
    """Employers, positions, recommendations, subsidies, destinations and follow-ups, bulk-inserted."""
    from django.db import transaction

    from bangfu.assistance.models import HelperAssignment, Stage, StudentProgress
    from bangfu.assistance.progress import rebuild_progress
    from bangfu.opportunities.models import Employer, Position, Recommendation, RecommendationStatus
    from bangfu.organisation.models import OrgUnit, UnitKind, User
    from bangfu.outcomes.models import Destination, DestinationCode, FollowUp, FollowUpStatus
    from bangfu.students.models import Student
    from bangfu.subsidies.models import Application, ApplicationStatus, SubsidyType

    rng = random.Random(SEED)
    office = User.objects.get(username="office")
    school = OrgUnit.objects.filter(kind=UnitKind.SCHOOL).order_by("pk").first()
    assert school is not None
    counts: dict[str, int] = {}
    with transaction.atomic():
        employers = Employer.objects.bulk_create(
            Employer(school=school, name=f"{name}{i or ''}", name_key=f"{name}{i or ''}", created_by=office)
            for i in range(8)
            for name in EMPLOYERS
        )
        positions = Position.objects.bulk_create(
            Position(employer=rng.choice(employers), title=rng.choice(TITLES), created_by=office) for _ in range(300)
        )
        counts["positions"] = len(positions)

        # Recommendations for ledger students looking for work or gone: most go nowhere, some are declined, a few
        # turn into a job.
        stages = (Stage.JOB_SEARCH, Stage.AFTER_LEAVING)
        seekers = list(StudentProgress.objects.filter(stage__in=stages).values_list("student_id", flat=True))
        active = HelperAssignment.objects.active().filter(student_id__in=seekers)
        helpers = dict(active.values_list("student_id", "helper_id"))
        status_weights = (
            (RecommendationStatus.RECOMMENDED, 30),
            (RecommendationStatus.APPLIED, 20),
            (RecommendationStatus.INTERVIEWED, 10),
            (RecommendationStatus.OFFER, 5),
            (RecommendationStatus.ACCEPTED, 8),
            (RecommendationStatus.DECLINED, 17),
            (RecommendationStatus.REJECTED, 7),
            (RecommendationStatus.EXPIRED, 3),
        )
        statuses, weights = zip(*status_weights, strict=True)
        recommendations = []
        for student_id in seekers:
            for position in rng.sample(positions, rng.randint(0, 6)):
                status = rng.choices(statuses, weights)[0]
                on = today - dt.timedelta(days=rng.randint(10, 300))
                acted = status not in (RecommendationStatus.RECOMMENDED, RecommendationStatus.EXPIRED)
                offered = status in (RecommendationStatus.OFFER, RecommendationStatus.ACCEPTED)
                recommendations.append(
                    Recommendation(
                        position=position,
                        student_id=student_id,
                        recommended_by_id=helpers.get(student_id) or office.pk,
                        recommended_on=on,
                        status=status,
                        fits_student=rng.random() < 0.7,
                        acted_on=on + dt.timedelta(days=3) if acted else None,
                        offered_on=on + dt.timedelta(days=20) if offered else None,
                    )
                )
        Recommendation.objects.bulk_create(recommendations, batch_size=BATCH)
        counts["recommendations"] = len(recommendations)

        # Subsidies: a third of the ledger students have one or two applications, most of them paid.
        types = SubsidyType.objects.bulk_create(
            SubsidyType(school=school, code=code, name=name, name_en=name_en, amount=amount)
            for code, name, name_en, amount in (
                ("job_search", "求职创业补贴", "Job-search and entrepreneurship subsidy", 1500),
                ("hardship_subsidy", "经济困难补助", "Economic hardship subsidy", 800),
                ("medical_exam", "体检费减免", "Medical-examination fee waiver", 300),
                ("travel", "赴岗交通补贴", "Travel to start work", 500),
            )
        )
        ledger = list(StudentProgress.objects.values_list("student_id", flat=True))
        applications = []
        for student_id in rng.sample(ledger, len(ledger) // 3):
            for subsidy_type in rng.sample(types, rng.choice((1, 1, 2))):
                r = rng.random()
                status = ApplicationStatus.PAID if r < 0.65 else ApplicationStatus.APPROVED if r < 0.8 else "submitted"
                submitted = today - dt.timedelta(days=rng.randint(30, 400))
                applications.append(
                    Application(
                        student_id=student_id,
                        subsidy_type=subsidy_type,
                        year=submitted.year,
                        amount=subsidy_type.amount,
                        reason="家庭经济困难",
                        status=status,
                        applied_by=office,
                        submitted_on=submitted,
                        paid_on=submitted + dt.timedelta(days=60) if status == ApplicationStatus.PAID else None,
                    )
                )
        Application.objects.bulk_create(applications, batch_size=BATCH)
        counts["applications"] = len(applications)

        # Destinations: the class that has left (almost all reported) and a quarter of the final year (signed early).
        codes = {c.code: c for c in DestinationCode.objects.filter(school__isnull=True, valid_until__isnull=True)}
        names, weights = zip(*DESTINATIONS, strict=True)
        graduated = list(
            Student.objects.filter(expected_graduation__lte=today).values_list("pk", "expected_graduation")
        )
        final_year = list(
            Student.objects.filter(
                expected_graduation__gt=today, expected_graduation__lte=today + dt.timedelta(days=366)
            ).values_list("pk", "expected_graduation")
        )
        destinations, placed_students = [], {}
        for student_id, graduation in graduated + rng.sample(final_year, len(final_year) // 4):
            left = graduation <= today
            if left and rng.random() < 0.04:
                continue  # never reported
            code = codes[rng.choices(names, weights)[0] if left else rng.choice(("10", "11", "80"))]
            recorded = min(today, graduation + dt.timedelta(days=rng.randint(-150, 90)))
            placed = code.group != "not_placed"
            verified = placed and rng.random() < 0.65 and code.evidence_kinds
            destinations.append(
                Destination(
                    student_id=student_id,
                    code=code,
                    employer_name=rng.choice(EMPLOYERS) if code.group == "employed" else "",
                    recorded_on=recorded,
                    recorded_by=office,
                    placed_since=recorded if placed else None,
                    evidence=f"destinations/bench/{student_id}.pdf" if verified else "",
                    evidence_kind=code.evidence_kinds[0] if verified else "",
                    verified_on=min(today, recorded + dt.timedelta(days=10)) if verified else None,
                    verified_by=office if verified else None,
                )
            )
            if placed:
                placed_students[student_id] = graduation
        Destination.objects.bulk_create(destinations, batch_size=BATCH)
        counts["destinations"] = len(destinations)

        # Follow-ups of ledger graduates at 1, 3, 6 and 12 months after leaving, most of them done.
        in_ledger = set(ledger)
        follow_ups = []
        for student_id, graduation in graduated:
            if student_id not in in_ledger:
                continue
            for months in FOLLOW_UP_MONTHS:
                due = graduation + dt.timedelta(days=30 * months)
                if due > today or rng.random() < 0.25:
                    continue
                follow_ups.append(
                    FollowUp(
                        student_id=student_id,
                        done_on=min(today, due + dt.timedelta(days=rng.randint(0, 20))),
                        months_after_leaving=months,
                        status=FollowUpStatus.STILL_EMPLOYED
                        if student_id in placed_students
                        else FollowUpStatus.UNEMPLOYED,
                        recorded_by=office,
                    )
                )
        FollowUp.objects.bulk_create(follow_ups, batch_size=BATCH)
        counts["follow_ups"] = len(follow_ups)
        # A ledger student's progress row keeps the group of their destination: rebuilt as after an import.
        with_destination = Destination.objects.values("student_id")
        rebuild_progress(today=today, students=Student.objects.filter(pk__in=with_destination))
    return counts


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """The data set in `args.var_dir`, built (copied or generated, then completed) if it is not there yet."""
    meta = read_meta(args.var_dir)
    if meta is not None and "export_data" in meta:
        setup_django(args.var_dir)
        print(f"Reusing the data set in {args.var_dir} ({meta['students']:,} students); --fresh rebuilds it.")
        return meta
    remove_data_set(args.var_dir)
    started = time.perf_counter()
    source = read_meta(args.from_dir) if args.from_dir.resolve() != args.var_dir else None
    if source is not None:
        print(f"Copying the bench data set from {args.from_dir} to {args.var_dir}")
        meta = copy_data_set(args.from_dir, args.var_dir)
        setup_django(args.var_dir)
        from django.core.management import call_command

        call_command("migrate", verbosity=0, skip_checks=True)  # tables added since the copy was built
    else:
        print(
            f"Generating a bench data set in {args.var_dir}: {args.students:,} students, {args.activities:,} activities"
        )
        setup_django(args.var_dir)
        meta = generate_data_set(args, args.var_dir)
    t = time.perf_counter()
    meta["export_data"] = add_export_data(meta["today"])
    meta["export_data_seconds"] = round(time.perf_counter() - t, 1)
    meta["prepared_seconds"] = round(time.perf_counter() - started, 1)
    print(f"  export data added in {meta['export_data_seconds']} s: {meta['export_data']}")
    write_meta(args.var_dir, meta)
    meta = read_meta(args.var_dir)
    assert meta is not None
    return meta


# --- timing ----------------------------------------------------------------------------------------------------


def peak_memory(fn: Callable[[], Any], runs: int) -> list[float]:
    """The peak of Python's allocations (MiB) while `fn` runs, once per run (tracemalloc slows it down)."""
    peaks = []
    for _ in range(runs):
        tracemalloc.start()
        tracemalloc.reset_peak()
        try:
            fn()
            peaks.append(tracemalloc.get_traced_memory()[1] / MIB)
        finally:
            tracemalloc.stop()
    return peaks


def run(args: argparse.Namespace, meta: dict[str, Any]) -> tuple[list[Scenario], dict[str, Any]]:
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse
    from django.utils import translation

    from bangfu.organisation.models import User
    from bangfu.reports import export_services, exports, xlsx
    from bangfu.reports.models import ExportJob

    office = User.objects.get(username="office")
    work_params = exports.list_params({}, "number")
    out_dir = Path(tempfile.mkdtemp(prefix="bangfu-bench-exports-"))
    settings.EXPORT_DIR = out_dir / "jobs"
    sizes: dict[str, float] = {}
    facts: dict[str, Any] = {}

    def write(kind: str, params: dict[str, Any], *, constant_memory: bool = True) -> Callable[[], int]:
        def go() -> int:
            export = exports.build(kind, user=office, params=params)
            path = out_dir / f"{kind}{'' if constant_memory else '-in-memory'}.xlsx"
            count = xlsx.write_workbook(path, export.sheets, constant_memory=constant_memory)
            sizes[path.name] = path.stat().st_size / MIB
            facts[kind] = count
            return count

        return go

    def timed(scenario: Scenario, label: str, fn: Callable[[], Any], repeat: int) -> Timing:
        queries = count_queries(fn)  # also the warm-up run
        timing = measure(label, fn, repeat, warmup=0)
        timing.queries = queries
        scenario.rows.append(timing)
        return timing

    memory: dict[str, list[float]] = {}
    scenarios = []
    with translation.override("zh-hans"):
        work = write(exports.WORK_LEDGER, work_params)
        s = Scenario("1. Work ledger, the whole school as the employment office")
        timed(s, "export  exports.build + xlsx.write_workbook", work, args.repeat)
        memory["work ledger (constant memory)"] = peak_memory(work, args.memory_runs)
        rows = facts[exports.WORK_LEDGER]
        s.title += f" ({rows:,} rows, {sizes['work_ledger.xlsx']:.1f} MiB)"

        client = Client()
        client.force_login(office, backend="django.contrib.auth.backends.ModelBackend")
        settings.EXPORT_INLINE_ROWS = 10**9  # stream in the request, whatever the size

        def request() -> None:
            response = client.post(reverse("exports:work_ledger"))
            if response.status_code != 200:
                raise SystemExit(f"POST exports:work_ledger answered {response.status_code}")
            for _chunk in response.streaming_content:
                pass
            response.close()

        timed(s, "request POST exports:work_ledger (streamed)", request, max(1, args.repeat // 2))

        def job() -> None:
            created = ExportJob.objects.create(
                created_by=office, kind=exports.WORK_LEDGER, params=work_params, language="zh-hans", total_rows=rows
            )
            export_services.run_job(job=created)
            export_services.job_file(created).unlink()

        timed(s, "job     export_services.run_job (progress written)", job, max(1, args.repeat // 2))
        in_memory = write(exports.WORK_LEDGER, work_params, constant_memory=False)
        timed(s, "compare the same without constant_memory", in_memory, 1)
        memory["work ledger (without constant memory)"] = peak_memory(in_memory, 1)
        scenarios.append(s)

        ledger = write(exports.LEDGER, work_params)
        s2 = Scenario("2. Disadvantaged-student ledger, the whole school")
        timed(s2, "export  exports.build + xlsx.write_workbook", ledger, args.repeat)
        memory["disadvantaged-student ledger"] = peak_memory(ledger, 1)
        s2.title += f" ({facts[exports.LEDGER]:,} rows, {sizes['ledger.xlsx']:.1f} MiB)"
        scenarios.append(s2)
    shutil.rmtree(out_dir, ignore_errors=True)
    ExportJob.objects.all().delete()
    return scenarios, {
        "rows": facts,
        "sizes_mib": sizes,
        "peak_mib": memory,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def report(args: argparse.Namespace, meta: dict[str, Any], scenarios: list[Scenario], extra: dict[str, Any]) -> str:
    data = meta["export_data"]
    lines = [
        f"Bangfu export bench · {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} · {' '.join(sys.argv)}",
        f"data set: {meta['students']:,} students, {meta['ledger_students']:,} in the ledger, "
        f"{meta.get('activities', 0):,} activities, {data['recommendations']:,} recommendations, "
        f"{data['applications']:,} subsidy applications, {data['destinations']:,} destinations, "
        f"{data['follow_ups']:,} follow-ups; today {meta['today']} ({args.var_dir})",
        f"machine: {machine()}",
        f"each figure: wall-clock median and p95 in ms of {args.repeat} runs (the request and the job "
        f"{max(1, args.repeat // 2)}) after one warm-up; cpu = median CPU time of this process; headers in Chinese",
        "",
        f"{'':<60}{'median':>9}{'p95':>9}{'cpu':>9}{'runs':>6}{'queries':>9}",
    ]
    for s in scenarios:
        lines.append(s.title)
        for t in s.rows:
            lines.append(
                f"  {t.label:<58}{t.median_ms:>9.1f}{t.p95_ms:>9.1f}{t.cpu_ms:>9.1f}{len(t.samples):>6}{t.queries:>9}"
            )
        lines.append("")
    lines.append("peak of Python allocations during one export (tracemalloc), MiB: median (max) of the runs")
    for name, peaks in extra["peak_mib"].items():
        lines.append(f"  {name:<58}{statistics.median(peaks):>9.1f}  ({max(peaks):.1f}, {len(peaks)} runs)")
    lines.append(f"  {'process high-water mark (ru_maxrss), everything included':<58}{extra['max_rss_mib']:>9.1f}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--var-dir", type=Path, default=DEFAULT_EXPORT_DIR, help="where this data set lives")
    parser.add_argument("--from-dir", type=Path, default=DEFAULT_VAR_DIR, help="the work-ledger bench to copy")
    parser.add_argument("--fresh", action="store_true", help="rebuild the data set even if it exists")
    parser.add_argument("--students", type=int, default=30_000, help="when generating: students")
    parser.add_argument("--activities", type=int, default=1_000_000, help="when generating: activities")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="when generating: today")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each export")
    parser.add_argument("--memory-runs", type=int, default=3, help="runs under tracemalloc")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.var_dir = args.var_dir.resolve()
    if args.fresh:
        remove_data_set(args.var_dir)
    meta = prepare(args)
    started = time.perf_counter()
    scenarios, extra = run(args, meta)
    text = report(args, meta, scenarios, extra)
    print(text)
    print(f"total {time.perf_counter() - started:.0f} s")
    if args.json:
        rows = [
            {
                "title": s.title,
                "rows": [
                    {
                        "label": t.label,
                        "median_ms": t.median_ms,
                        "p95_ms": t.p95_ms,
                        "cpu_ms": t.cpu_ms,
                        "runs": len(t.samples),
                        "queries": t.queries,
                    }
                    for t in s.rows
                ],
            }
            for s in scenarios
        ]
        args.json.write_text(json.dumps({"report": text, "scenarios": rows, **extra}, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
