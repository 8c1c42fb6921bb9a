"""Time each dashboard (school, department "clearing to zero", helper) on the bench university's 30,000 students.

    .venv/bin/python bench/dashboards.py             # build var/bench-dashboards/ once, then time
    .venv/bin/python bench/dashboards.py --fresh     # rebuild that data set first

The data set is the work-ledger bench's university (`bench/generate.py`) completed with what the work ledger
export also reads (`bench/exports.py`: recommendations, subsidy applications, destinations, follow-ups). It is
copied from `var/bench-exports/` when that is complete, else from `var/bench/` (`--from-dir`) and completed with
`exports.add_export_data`, else generated; the copies are never written. Then what only the dashboards read is
added: a budget for each subsidy type this year, and the school's default tracks with enrolments of ledger
students (some at a milestone, some succeeded or failed).

Each dashboard page is requested in-process with Django's test Client (real views, middleware and templates,
`DEBUG=0`) as the user who sees it: the school board as the school leader and as the employment office, the
department board as a department leader (one department, ~1,000 ledger students), and the helper board as a
helper (~40 students). Each line is the median and 95th percentile of `--repeat` runs after two warm-up runs,
the median CPU time of the process (SQLite runs in-process) and the number of SQL queries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from environment import DEFAULT_VAR_DIR, REPO, read_meta, remove_data_set, setup_django, write_meta
from run import WARMUP, Scenario, Timing, count_queries, machine, measure, page

DEFAULT_DASHBOARD_DIR = REPO / "var" / "bench-dashboards"
DEFAULT_EXPORT_DIR = REPO / "var" / "bench-exports"
SEED = 20260920
BATCH = 2000


# --- the data set ----------------------------------------------------------------------------------------------


def add_dashboard_data(today: dt.date) -> dict[str, int]:
    """Budgets for this year and tracks with enrolments, bulk-inserted with a fixed seed."""
    from django.db import transaction
    from django.db.models import Sum

    from bangfu.assistance.models import Stage, StudentProgress
    from bangfu.organisation.models import OrgUnit, UnitKind, User
    from bangfu.subsidies.models import Application, ApplicationStatus, Budget, SubsidyType
    from bangfu.tracks.models import Outcome, TrackEnrolment
    from bangfu.tracks.services import install_default_tracks

    rng = random.Random(SEED)
    office = User.objects.get(username="office")
    school = OrgUnit.objects.filter(kind=UnitKind.SCHOOL).order_by("pk").first()
    assert school is not None
    counts: dict[str, int] = {}
    with transaction.atomic():
        # A budget for each subsidy type: what was paid this year plus a fifth, in round thousands.
        budgets = []
        for subsidy_type in SubsidyType.objects.filter(school=school):
            paid = Application.objects.filter(
                subsidy_type=subsidy_type, year=today.year, status=ApplicationStatus.PAID
            ).aggregate(total=Sum("amount"))["total"]
            budgets.append(Budget(subsidy_type=subsidy_type, year=today.year, amount=round(float(paid or 0) * 1.2, -3)))
        Budget.objects.bulk_create(budgets, ignore_conflicts=True)
        counts["budgets"] = len(budgets)

        # Tracks: a tenth of the ledger students in the job-search and after-leaving stages are on one.
        tracks = install_default_tracks(actor=office, school=school)
        seekers = list(
            StudentProgress.objects.filter(stage__in=(Stage.JOB_SEARCH, Stage.AFTER_LEAVING)).values_list(
                "student_id", flat=True
            )
        )
        enrolments = []
        for student_id in rng.sample(seekers, len(seekers) // 10):
            track = rng.choice(tracks)
            joined = today - dt.timedelta(days=rng.randint(30, 300))
            steps = [m["code"] for m in track.steps]
            finals = track.finals
            r = rng.random()
            if r < 0.25 and finals:  # closed by a final milestone
                final = rng.choice(finals)
                reached = min(today, joined + dt.timedelta(days=rng.randint(20, 200)))
                milestone, outcome, left = final["code"], final.get("outcome") or Outcome.SUCCESS, reached
            else:
                milestone = rng.choice(["", *steps]) if steps else ""
                reached = joined + dt.timedelta(days=10) if milestone else None
                outcome, left = "", None
            enrolments.append(
                TrackEnrolment(
                    student_id=student_id,
                    track=track,
                    joined_on=joined,
                    joined_by=office,
                    current_milestone=milestone,
                    current_reached_on=reached,
                    outcome=outcome,
                    left_on=left,
                )
            )
        TrackEnrolment.objects.bulk_create(enrolments, batch_size=BATCH)
        counts["track_enrolments"] = len(enrolments)
    return counts


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """The data set in `args.var_dir`, built (copied or generated, then completed) if it is not there yet."""
    import exports

    meta = read_meta(args.var_dir)
    if meta is not None and "dashboard_data" in meta:
        setup_django(args.var_dir)
        print(f"Reusing the data set in {args.var_dir} ({meta['students']:,} students); --fresh rebuilds it.")
        return meta
    remove_data_set(args.var_dir)
    started = time.perf_counter()
    completed = read_meta(args.exports_dir)
    source = read_meta(args.from_dir)
    if completed is not None and "export_data" in completed:
        print(f"Copying the export bench's data set from {args.exports_dir} to {args.var_dir}")
        meta = exports.copy_data_set(args.exports_dir, args.var_dir)
        setup_django(args.var_dir)
    else:
        if source is not None:
            print(f"Copying the bench data set from {args.from_dir} to {args.var_dir}")
            meta = exports.copy_data_set(args.from_dir, args.var_dir)
            setup_django(args.var_dir)
        else:
            print(f"Generating a bench data set in {args.var_dir}: {args.students:,} students")
            setup_django(args.var_dir)
            meta = exports.generate_data_set(args, args.var_dir)
        from django.core.management import call_command

        call_command("migrate", verbosity=0, skip_checks=True)
        meta["export_data"] = exports.add_export_data(meta["today"])
    from django.core.management import call_command

    call_command("migrate", verbosity=0, skip_checks=True)  # tables added since the copy was built
    t = time.perf_counter()
    meta["dashboard_data"] = add_dashboard_data(meta["today"])
    meta["dashboard_data_seconds"] = round(time.perf_counter() - t, 1)
    meta["prepared_seconds"] = round(time.perf_counter() - started, 1)
    print(f"  dashboard data added in {meta['dashboard_data_seconds']} s: {meta['dashboard_data']}")
    write_meta(args.var_dir, meta)
    meta = read_meta(args.var_dir)
    assert meta is not None
    return meta


# --- timing ----------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, meta: dict[str, Any]) -> tuple[list[Scenario], dict[str, Any]]:
    import time_machine
    from django.test import Client
    from django.urls import reverse

    from bangfu.assistance.models import HelperAssignment
    from bangfu.organisation.models import User
    from bangfu.reports import dashboards
    from bangfu.students.models import Student

    today: dt.date = meta["today"]
    year = today.year
    users = {name: User.objects.get(username=name) for name in ("principal", "office", "leader", "helper")}
    leader = users["leader"]
    department = next(g.unit for g in leader.grants.select_related("unit") if g.role == "department_leader")
    cohort = Student.objects.filter(**{"expected_graduation__year": year}).in_ledger()
    facts = {
        "year": year,
        "ledger_graduates": cohort.count(),
        "department": department.name,
        "department_ledger_graduates": cohort.filter(department=department).count(),
        "helper_students": HelperAssignment.objects.active().filter(helper=users["helper"]).count(),
    }
    # The pages read "today" from the clock: the data set's today, whenever the bench runs.
    with time_machine.travel(dt.datetime.combine(today, dt.time(10)), tick=True):
        clients = {}
        for name, user in users.items():  # logged in on that day, so the sessions are fresh then
            client = Client()
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            clients[name] = client
        school_figures = dashboards.placement(users["principal"], year)
        zero = dashboards.placement(leader, year, department=department.public_id)
        facts.update(
            placement_rate=school_figures.rate,
            unplaced=school_figures.unplaced.value,
            department_unplaced=zero.unplaced.value,
        )

        scenarios = []

        def timed(scenario: Scenario, label: str, client: Any, url: str) -> Timing:
            fn = page(client, url)
            queries = count_queries(fn)  # also the first warm-up run
            timing = measure(label, fn, args.repeat, warmup=WARMUP - 1)
            timing.queries = queries
            scenario.rows.append(timing)
            return timing

        s1 = Scenario(f"1. School board (graduates of {year}: {facts['ledger_graduates']:,} in the ledger)")
        timed(s1, "page   GET reports:school as the school leader", clients["principal"], reverse("reports:school"))
        timed(s1, "page   GET reports:school as the employment office", clients["office"], reverse("reports:school"))
        scenarios.append(s1)

        s2 = Scenario(
            f"2. Clearing to zero ({department.name}: {facts['department_ledger_graduates']:,} ledger graduates, "
            f"{facts['department_unplaced']:,} unplaced)"
        )
        timed(
            s2,
            "page   GET reports:department as the department leader",
            clients["leader"],
            reverse("reports:department"),
        )
        scenarios.append(s2)

        s3 = Scenario(f"3. Helper board ({facts['helper_students']} students of one helper)")
        timed(s3, "page   GET reports:helper as the helper", clients["helper"], reverse("reports:helper"))
        scenarios.append(s3)
    return scenarios, facts


def report(args: argparse.Namespace, meta: dict[str, Any], scenarios: list[Scenario], facts: dict[str, Any]) -> str:
    data = meta["export_data"]
    rate = facts["placement_rate"]
    lines = [
        f"Bangfu dashboard bench · {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} · {' '.join(sys.argv)}",
        f"data set: {meta['students']:,} students, {meta['ledger_students']:,} in the ledger, "
        f"{meta.get('activities', 0):,} activities (never read by a dashboard), {data['destinations']:,} destinations, "
        f"{data['recommendations']:,} recommendations, {data['applications']:,} subsidy applications, "
        f"{meta['dashboard_data']['track_enrolments']:,} track enrolments; today {meta['today']} ({args.var_dir})",
        f"graduates of {facts['year']} in the ledger: {facts['ledger_graduates']:,}, placement rate "
        f"{'—' if rate is None else f'{rate} %'}, {facts['unplaced']:,} unplaced",
        f"machine: {machine()}",
        f"each figure: wall-clock median and p95 in ms of {args.repeat} runs after {WARMUP} warm-up runs; "
        "cpu = median CPU time of this process",
        "",
        f"{'':<64}{'median':>9}{'p95':>9}{'cpu':>9}{'runs':>6}{'queries':>9}",
    ]
    for s in scenarios:
        lines.append(s.title)
        for t in s.rows:
            lines.append(
                f"  {t.label:<62}{t.median_ms:>9.1f}{t.p95_ms:>9.1f}{t.cpu_ms:>9.1f}{len(t.samples):>6}{t.queries:>9}"
            )
        lines.append("")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--var-dir", type=Path, default=DEFAULT_DASHBOARD_DIR, help="where this data set lives")
    parser.add_argument("--exports-dir", type=Path, default=DEFAULT_EXPORT_DIR, help="the export bench to copy")
    parser.add_argument("--from-dir", type=Path, default=DEFAULT_VAR_DIR, help="else the work-ledger bench to copy")
    parser.add_argument("--fresh", action="store_true", help="rebuild the data set even if it exists")
    parser.add_argument("--students", type=int, default=30_000, help="when generating: students")
    parser.add_argument("--activities", type=int, default=1_000_000, help="when generating: activities")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="when generating: today")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of each page")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name in ("var_dir", "exports_dir", "from_dir"):
        setattr(args, name, getattr(args, name).resolve())
    if args.fresh:
        remove_data_set(args.var_dir)
    meta = prepare(args)
    started = time.perf_counter()
    scenarios, facts = run(args, meta)
    text = report(args, meta, scenarios, facts)
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
        args.json.write_text(
            json.dumps({"report": text, "scenarios": rows, "facts": facts}, ensure_ascii=False, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
