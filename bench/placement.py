"""Time the placement figures (毕业去向落实率) for one cohort of about 30,000 graduates on SQLite.

    .venv/bin/python bench/placement.py                # build var/bench-placement/ once, then time
    .venv/bin/python bench/placement.py --fresh        # rebuild the data set first

The data set is its own SQLite database (`--var-dir`, default var/bench-placement/), apart from the work-ledger
bench: one school with the demo university's departments and majors, one cohort of graduates in classes of
about 45, a fifth of them in the ledger with their categories, and their destinations as a school records them
over a year: signed before graduation, "seeking work" (70) at graduation then replaced when a job comes,
further study, the army, not seeking, a few job changes and job losses after the 31 August snapshot, most placed
graduates verified by evidence. Students, ledger rows and destinations are bulk-inserted (`bulk_create` in
batches of 2,000) in one transaction; no history rows.

For the whole cohort and grouped by department, major, category and ledger/not, as of the data set's today and
as of 31 August, the script times `outcomes.queries.placement_figures`, counts its queries and compares it
with a naive baseline: every destination row of the cohort (and the ledger rows it needs) read into Python and
counted there. The baseline must give the same numbers, or the script stops.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from environment import REPO, migrate, read_meta, remove_data_set, setup_django, write_meta
from run import WARMUP, Scenario, Timing, count_queries, machine, measure

DEFAULT_VAR_DIR = REPO / "var" / "bench-placement"
SEED = 20260831
BATCH = 2000
CLASS_SIZE = 45
GROUPINGS: tuple[str | None, ...] = (None, "department", "major", "category", "ledger")

# A graduate's outcome by the end of the year (code, weight of a hundred), for students outside the ledger;
# ledger students are helped one by one, so fewer of them stay without work.
OUTCOMES = (
    ("10", 24.0),
    ("11", 27.0),
    ("12", 7.0),
    ("27", 0.5),
    ("46", 2.0),
    ("50", 1.0),
    ("51", 1.5),
    ("75", 1.0),
    ("76", 4.0),
    ("77", 5.0),
    ("80", 17.0),
    ("85", 0.5),
    ("71", 3.0),
    ("72", 1.5),
    ("70", 5.0),
)
LEDGER_SEEKING_WEIGHT = 1.5  # weight of "still seeking work" for ledger students, instead of 5
CATEGORY_CHANCES = {
    "poverty_alleviated": 0.3,
    "subsistence_allowance": 0.22,
    "rural": 0.55,
    "student_loan": 0.45,
    "zero_employment": 0.05,
    "disabled_parent": 0.06,
    "disabled": 0.015,
    "orphan": 0.015,
    "extreme_poverty": 0.012,
    "school_identified": 0.3,
}
EMPLOYERS = (
    "河北燕赵精工机械有限公司",
    "石家庄云联软件有限公司",
    "唐山宏达物流有限公司",
    "廊坊新航电商科技有限公司",
    "北京京东世纪贸易有限公司",
    "天津港集团有限公司",
    "保定长城汽车股份有限公司",
    "石药集团欧意药业有限公司",
)
SCHOOLS = ("河北科技大学", "河北经贸大学", "石家庄学院", "邢台学院")


def graduation_year(today: dt.date) -> int:
    """The graduation year (届) whose 31 August snapshot is the latest one on or before `today`."""
    return today.year if today >= dt.date(today.year, 8, 31) else today.year - 1


class Generator:
    def __init__(self, *, graduates: int, today: dt.date, ledger_share: float) -> None:
        self.total = graduates
        self.today = today
        self.ledger_share = ledger_share
        self.year = graduation_year(today)
        self.graduation = dt.date(self.year, 6, 30)
        self.cohort = self.year - 3
        self.rng = random.Random(SEED)

    def organisation(self) -> None:
        from bangfu.demo import data
        from bangfu.organisation.models import Role, UnitKind
        from bangfu.organisation.services import create_staff, create_unit

        self.school = create_unit(kind=UnitKind.SCHOOL, code="PLACE", name=data.SCHOOL_NAME, name_en="Placement")
        self.classes: list[Any] = []
        yy = self.cohort % 100
        majors = [(spec, m) for spec in data.DEPARTMENTS for m in spec.majors]
        per_major = self.total / len(majors)
        departments: dict[str, Any] = {}
        for spec, m in majors:
            if spec.code not in departments:
                departments[spec.code] = create_unit(
                    kind=UnitKind.DEPARTMENT, code=spec.code, name=spec.name, parent=self.school
                )
            major = create_unit(kind=UnitKind.MAJOR, code=m.code, name=m.name, parent=departments[spec.code])
            for k in range(1, max(1, round(per_major / CLASS_SIZE)) + 1):
                code, name = f"{m.code}{yy:02d}{k:02d}", f"{m.short}{yy:02d}{k:02d}班"
                self.classes.append(create_unit(kind=UnitKind.CLASS, code=code, name=name, parent=major))
        self.office = create_staff(
            username="office",
            full_name="李主任",
            unit=self.school,
            roles=[(Role.EMPLOYMENT_OFFICE, self.school)],
        )

    def students(self) -> None:
        from bangfu.demo import data
        from bangfu.students.models import Student, StudentStatus

        rng = self.rng
        rows = []
        for n in range(self.total):
            klass = self.classes[n % len(self.classes)]
            major = klass.parent
            male = rng.random() < 0.55
            given = rng.choice(data.MALE_FIRST if male else data.FEMALE_FIRST) + rng.choice(
                data.MALE_SECOND if male else data.FEMALE_SECOND
            )
            rows.append(
                Student(
                    school=self.school,
                    department_id=major.parent_id,
                    major=major,
                    class_unit=klass,
                    student_number=f"{self.cohort}{n + 1:06d}",
                    name=rng.choice(data.SURNAMES)[0] + given,
                    gender="M" if male else "F",
                    home_province="河北省",
                    cohort=self.cohort,
                    enrolled_on=dt.date(self.cohort, 9, 1),
                    expected_graduation=self.graduation,
                    # A few withdrew along the way: not graduates, left out of every figure.
                    status=StudentStatus.WITHDRAWN if rng.random() < 0.006 else StudentStatus.GRADUATED,
                )
            )
        Student.objects.bulk_create(rows, batch_size=BATCH)
        self.rows = rows

    def ledger(self) -> None:
        from bangfu.students.models import LedgerCategory, LedgerEntry

        rng = self.rng
        entries, categories = [], []
        self.in_ledger: set[int] = set()
        for student in self.rows:
            if rng.random() >= self.ledger_share:
                continue
            # Most stay to the end; some left at a review, a few joined late (after a family hardship).
            r = rng.random()
            joined = dt.date(self.year, 3, 10) if r < 0.02 else dt.date(self.cohort, 10, 20)
            left = dt.date(self.cohort + 2, 9, 20) if 0.02 <= r < 0.05 else None
            entry = LedgerEntry(
                student=student, joined_on=joined, left_on=left, join_reason="入学普查", joined_by=self.office
            )
            entries.append(entry)
            if left is None:
                self.in_ledger.add(student.pk)
            cats = [c for c, p in CATEGORY_CHANCES.items() if rng.random() < p] or ["school_identified"]
            categories += [LedgerCategory(entry=entry, category=c) for c in cats]
        LedgerEntry.objects.bulk_create(entries, batch_size=BATCH)
        LedgerCategory.objects.bulk_create(categories, batch_size=BATCH)
        self.ledger_count = len(self.in_ledger)

    def destinations(self) -> None:
        from bangfu.outcomes.models import Destination, DestinationCode

        rng, g, today = self.rng, self.graduation, self.today
        codes = {c.code: c for c in DestinationCode.objects.filter(school__isnull=True)}
        names = [c for c, _w in OUTCOMES]
        weights = [w for _c, w in OUTCOMES]
        ledger_weights = [LEDGER_SEEKING_WEIGHT if c == "70" else w for c, w in OUTCOMES]
        day = dt.timedelta(days=1)
        rows = []
        self.changed = 0
        for student in self.rows:
            if rng.random() < 0.03:
                continue  # never reported: outcome unknown
            code = rng.choices(names, ledger_weights if student.pk in self.in_ledger else weights)[0]
            if code in ("80", "85"):
                settled = g - rng.randint(5, 60) * day  # admission letters come in May and June
            elif code == "46":
                settled = dt.date(self.year, 9, 10) + rng.randint(0, 20) * day  # the autumn enlistment
            elif code in ("70", "71", "72"):
                settled = g
            else:
                settled = g + int(rng.triangular(-270, 150, -60)) * day
            chain: list[tuple[dt.date, str]] = []
            if settled > g:
                chain.append((g, "70"))  # at leaving, without work yet
            chain.append((max(settled, g - 300 * day), code))
            r = rng.random()
            later = max(chain[-1][0], g) + rng.randint(60, 200) * day
            if code in ("10", "11", "12") and r < 0.06:
                chain.append((later, rng.choice(["11", "11", "12"])))  # changed job
            elif code in ("10", "11", "12", "76", "77") and r < 0.08:
                chain.append((later, "70"))  # lost the job
            chain = [(d, c) for d, c in chain if d <= today]
            self.changed += len(chain) > 1
            placed_since = None
            for i, (recorded, c) in enumerate(chain):
                replaced = chain[i + 1][0] if i + 1 < len(chain) else None
                row = codes[c]
                placed = row.group in ("employed", "further_study")
                # Struck off the unplaced list on the first placement; a job change keeps the date, a loss clears it.
                placed_since = (placed_since or recorded) if placed else None
                school_or_employer = rng.choice(SCHOOLS if row.group == "further_study" else EMPLOYERS)
                verified = None
                if placed and rng.random() < 0.7:
                    verified = recorded + rng.randint(3, 45) * day
                    if verified > today or (replaced is not None and verified >= replaced):
                        verified = None
                rows.append(
                    Destination(
                        student=student,
                        code=row,
                        employer_name=school_or_employer if placed else "",
                        recorded_on=recorded,
                        recorded_by=self.office,
                        superseded_on=replaced,
                        placed_since=placed_since,
                        verified_on=verified,
                        verified_by=self.office if verified else None,
                        evidence=f"destinations/bench/{student.student_number}.pdf" if verified else "",
                        evidence_kind=row.evidence_kinds[0] if verified else "",
                    )
                )
        Destination.objects.bulk_create(rows, batch_size=BATCH)
        self.destination_count = len(rows)


def build(args: argparse.Namespace, var_dir: Path) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    today = args.today or timezone.localdate()
    gen = Generator(graduates=args.graduates, today=today, ledger_share=args.ledger_share)
    started = time.perf_counter()
    migrate()
    with connection.cursor() as cursor:
        for pragma in ("synchronous=OFF", "journal_mode=MEMORY", "cache_size=-262144", "temp_store=MEMORY"):
            cursor.execute(f"PRAGMA {pragma}")
    phases = {}
    with transaction.atomic():
        for name, step in (
            ("organisation", gen.organisation),
            ("students", gen.students),
            ("ledger", gen.ledger),
            ("destinations", gen.destinations),
        ):
            t = time.perf_counter()
            step()
            phases[name] = round(time.perf_counter() - t, 2)
            print(f"  {name:<16} {phases[name]:6.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_key_check")
        if cursor.fetchall():
            raise SystemExit("foreign keys broken")
    return {
        "today": today,
        "seed": SEED,
        "graduation_year": gen.year,
        "students": len(gen.rows),
        "ledger_students": gen.ledger_count,
        "destinations": gen.destination_count,
        "changed": gen.changed,
        "generation_seconds": round(time.perf_counter() - started, 1),
        "phases": phases,
    }


# --- the naive baseline ------------------------------------------------------------------------------------------


def naive_figures(graduates: Any, as_of: dt.date, by: str | None) -> list[Any]:
    """The same figures the plain way: every destination row of the cohort read into Python and counted there."""
    from bangfu.outcomes.models import Destination
    from bangfu.outcomes.queries import Figures
    from bangfu.students.models import LedgerCategory, LedgerEntry

    ids = graduates.values("pk")
    students = list(graduates.values_list("pk", "department_id", "major_id"))
    in_force: dict[int, tuple[str, bool, bool, Any]] = {}
    columns = ("recorded_on", "superseded_on", "code__group", "code__flexible", "code__not_seeking", "verified_on")
    rows = Destination.objects.filter(student__in=ids).values_list("student_id", *columns)
    for student_id, recorded, replaced, group, flexible, not_seeking, verified in rows:
        if recorded <= as_of and (replaced is None or replaced > as_of):
            in_force[student_id] = (group, flexible, not_seeking, verified)
    entry_of: dict[int, int] = {}
    categories: dict[int, list[str]] = defaultdict(list)
    if by in ("category", "ledger"):
        for pk, student_id, joined, left in LedgerEntry.objects.filter(student__in=ids).values_list(
            "pk", "student_id", "joined_on", "left_on"
        ):
            if joined <= as_of and (left is None or left > as_of):
                entry_of[student_id] = pk
        if by == "category":
            for entry_id, category in LedgerCategory.objects.filter(entry__student__in=ids).values_list(
                "entry_id", "category"
            ):
                categories[entry_id].append(category)
    counts: dict[Any, list[int]] = defaultdict(lambda: [0] * 7)
    for pk, department, major in students:
        if by is None:
            keys: list[Any] = [None]
        elif by == "department":
            keys = [department]
        elif by == "major":
            keys = [major]
        elif by == "ledger":
            keys = [pk in entry_of]
        else:
            keys = categories[entry_of[pk]] if pk in entry_of else []
        d = in_force.get(pk)
        for key in keys:
            c = counts[key]
            c[0] += 1
            if d is None:
                continue
            group, flexible, not_seeking, verified = d
            c[1] += 1
            c[2] += group == "employed"
            c[3] += group == "employed" and flexible
            c[4] += group == "further_study"
            c[5] += not_seeking
            c[6] += group != "not_placed" and verified is not None and verified <= as_of
    return [Figures(key, *c) for key, c in sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0]))]


# --- timing --------------------------------------------------------------------------------------------------------


def timed(label: str, fn: Callable[[], Any], repeat: int, warmup: int) -> Timing:
    queries = count_queries(fn)  # also a warm-up run
    timing = measure(label, fn, repeat, warmup=warmup)
    timing.queries = queries
    return timing


def run(args: argparse.Namespace, meta: dict[str, Any]) -> tuple[list[Scenario], list[str]]:
    from bangfu.outcomes.queries import graduates_of, placement_figures, snapshot_dates
    from bangfu.students.models import Student

    year = meta["graduation_year"]
    graduates = graduates_of(Student.objects.all(), year)
    august, _december = snapshot_dates(year)
    scenarios: list[Scenario] = []
    rates: list[str] = []
    for as_of in (meta["today"], august):
        for by in GROUPINGS:
            name = "whole cohort" if by is None else f"by {by}"

            def query(by: str | None = by, as_of: dt.date = as_of) -> list[Any]:
                return placement_figures(students=graduates, as_of=as_of, by=by)

            def naive(by: str | None = by, as_of: dt.date = as_of) -> list[Any]:
                return naive_figures(graduates, as_of, by)

            rows = query()
            if rows != naive():
                raise SystemExit(f"placement_figures and the naive recount disagree ({name}, as of {as_of})")
            s = Scenario(f"{name}, as of {as_of} ({len(rows)} row{'s' if len(rows) != 1 else ''})")
            q = timed("query  placement_figures", query, args.repeat, WARMUP - 1)
            n = timed("naive  every destination row counted in Python", naive, args.naive_repeat, 0)
            s.rows += [q, n]
            s.ratio("naive / query", n, q)
            scenarios.append(s)
            if by is None:
                f = rows[0]
                rates.append(
                    f"as of {as_of}: {f.graduates:,} graduates, placement rate {f.placement_rate} %, knowledge rate "
                    f"{f.knowledge_rate} %, verified {f.verified_share} % of placed, career outcomes rate "
                    f"{f.career_outcomes_rate} %"
                )
    return scenarios, rates


def report(
    args: argparse.Namespace, meta: dict[str, Any], scenarios: list[Scenario], rates: list[str], load: str
) -> str:
    lines = [
        f"Bangfu placement bench · {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} · {' '.join(sys.argv)}",
        f"data set: {meta['students']:,} students graduating in {meta['graduation_year']} "
        f"({meta['graduation_year']}届, enrolled {meta['graduation_year'] - 3}), "
        f"{meta['ledger_students']:,} in the ledger, {meta['destinations']:,} destination rows "
        f"({meta['changed']:,} graduates with a changed destination); today {meta['today']} ({args.var_dir})",
        f"machine: {load}",
        *rates,
        f"each figure: wall-clock median and p95 of {args.repeat} runs (naive baselines {args.naive_repeat}) after "
        f"{WARMUP} warm-up runs (naive 1), in ms; cpu = median CPU time of this process",
        "",
        f"{'':<60}{'median':>9}{'p95':>9}{'cpu':>9}{'runs':>6}{'queries':>9}",
    ]
    for s in scenarios:
        lines.append(s.title)
        for t in s.rows:
            lines.append(
                f"  {t.label:<58}{t.median_ms:>9.1f}{t.p95_ms:>9.1f}{t.cpu_ms:>9.1f}{len(t.samples):>6}{t.queries:>9}"
            )
        for name, wall, cpu in s.ratios:
            lines.append(f"  {'ratio  ' + name:<58}{wall:>8.1f}x  (by CPU time {cpu:.1f}x)")
        lines.append("")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--var-dir", type=Path, default=DEFAULT_VAR_DIR, help="where the data set lives")
    parser.add_argument("--fresh", action="store_true", help="rebuild the data set even if it exists")
    parser.add_argument("--graduates", type=int, default=30_000, help="students in the cohort")
    parser.add_argument("--ledger-share", type=float, default=0.2, help="share of students in the ledger")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="the data set's today (ISO date)")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of each query")
    parser.add_argument("--naive-repeat", type=int, default=5, help="timed runs of each naive baseline")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.var_dir = args.var_dir.resolve()
    if args.fresh:
        remove_data_set(args.var_dir)
    meta = read_meta(args.var_dir)
    if meta is None:
        remove_data_set(args.var_dir)  # whatever an interrupted run left behind
    setup_django(args.var_dir)
    if meta is None:
        print(f"Building the placement data set in {args.var_dir}: {args.graduates:,} graduates")
        write_meta(args.var_dir, build(args, args.var_dir))
        meta = read_meta(args.var_dir)
        assert meta is not None
    else:
        print(f"Reusing the data set in {args.var_dir} ({meta['students']:,} students); --fresh rebuilds it.")
    load = machine()
    started = time.perf_counter()
    scenarios, rates = run(args, meta)
    text = report(args, meta, scenarios, rates, load)
    print(text)
    print(f"total {time.perf_counter() - started:.0f} s")
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
                                    "p95_ms": t.p95_ms,
                                    "cpu_ms": t.cpu_ms,
                                    "runs": len(t.samples),
                                    "queries": t.queries,
                                }
                                for t in s.rows
                            ],
                            "ratios": {name: {"wall": wall, "cpu": cpu} for name, wall, cpu in s.ratios},
                        }
                        for s in scenarios
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
