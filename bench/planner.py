"""Compare two values of a PostgreSQL planner setting on the province's pages, query by query.

    .venv/bin/python bench/planner.py cpu_tuple_cost 0.01 0.03

Each page of the province scenarios (bench/scenarios.py) is requested once as its user and its SELECT queries
are captured. Every query taking 3 ms or more is planned under both values; where the plans are the same it is
timed twice, where they differ it is run five times under each value, alternately, and the best times are
compared (EXPLAIN ANALYZE: the database's time only, no page rendering). On a noisy machine one page's time
moves by half from run to run; a plan does not, and the best of five of a single query moves little. Prints,
per page, the sum of its queries' times under each value and every query whose plan differs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import province
from environment import setup_django

THRESHOLD = 0.003  # seconds: shorter queries are left out


def pages(today: dt.date) -> list[tuple[str, str]]:
    from django.urls import reverse

    return [
        ("principal", reverse("reports:school")),
        ("leader", reverse("reports:department")),
        ("province", reverse("reports:province")),
        ("office", f"{reverse('students:list')}?in_ledger=yes&compliant=no&cohort={today.year - 2}&sort=name"),
        ("helper", reverse("reports:helper")),
        ("helper", reverse("assistance:my_students")),
        ("office", f"{reverse('outcomes:figures')}?year={today.year}&as_of={today.isoformat()}&by=department"),
        ("office", f"/api/v1/students?in_ledger=true&cohort={today.year - 2}"),
        ("leader", reverse("students:ledger")),
        ("office", reverse("assistance:caseload")),
        ("office", reverse("students:survey:list")),
        ("office", reverse("outcomes:unplaced")),
    ]


def captured(role: str, url: str) -> list[str]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bangfu.organisation.models import User

    client = Client()
    client.force_login(User.objects.get(username=role), backend="django.contrib.auth.backends.ModelBackend")
    client.get(url)  # warm
    with CaptureQueriesContext(connection) as queries:
        if client.get(url).status_code != 200:
            raise SystemExit(f"GET {url} as {role} did not answer 200")
    return [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT") and float(q["time"]) >= THRESHOLD
    ]


def under(setting: str, value: str, explain: str, sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SET {setting} = {value}")
        try:
            cursor.execute(f"EXPLAIN ({explain}) {sql}")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute(f"RESET {setting}")


def best(runs: int, setting: str, values: tuple[str, str], sql: str) -> tuple[float, float]:
    timed: list[list[float]] = [[], []]
    for _ in range(runs):
        for i, value in enumerate(values):
            out = under(setting, value, "ANALYZE, TIMING OFF", sql)
            timed[i].append(float(re.search(r"Execution Time: ([\d.]+)", out).group(1)))  # type: ignore[union-attr]
    return min(timed[0]), min(timed[1])


def compare(setting: str, values: tuple[str, str], today: dt.date, out: Callable[[str], Any] = print) -> None:
    a, b = values
    totals = [0.0, 0.0]
    for role, url in pages(today):
        lines, sums = [], [0.0, 0.0]
        for sql in captured(role, url):
            differs = under(setting, a, "COSTS OFF", sql) != under(setting, b, "COSTS OFF", sql)
            ta, tb = best(5 if differs else 1, setting, values, sql)
            if not differs:
                ta = tb = min(ta, tb)
            sums[0], sums[1] = sums[0] + ta, sums[1] + tb
            if differs:
                lines.append(f"    plan differs {ta:8.1f} → {tb:8.1f} ms  {sql[:100]}")
        totals[0], totals[1] = totals[0] + sums[0], totals[1] + sums[1]
        out(f"{role:9} {url[:72]:72} {sums[0]:8.1f} → {sums[1]:8.1f} ms")
        for line in lines:
            out(line)
    out(f"all pages: {totals[0]:.1f} → {totals[1]:.1f} ms of queries ({setting} {a} → {b})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("setting", help="a planner setting, e.g. cpu_tuple_cost")
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--database-url", default=province.DEFAULT_URL)
    parser.add_argument("--var-dir", type=Path, default=province.DEFAULT_VAR_DIR)
    args = parser.parse_args(argv)
    values = (args.before, args.after)
    if not re.fullmatch(r"[a-z_]+", args.setting) or not all(re.fullmatch(r"[\w.]+", v) for v in values):
        parser.error("a setting is a name of lower-case letters and underscores, its values numbers or words")
    meta = province.read_meta(args.database_url)
    if meta is None:
        print(f"No province data set in {args.database_url}: run `bench/province.py generate` first.", file=sys.stderr)
        return 2
    setup_django(args.var_dir, args.database_url)
    print(f"{args.setting}: {args.before} → {args.after} · {meta['students']:,} students, today {meta['today']}")
    compare(args.setting, values, meta["today"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
