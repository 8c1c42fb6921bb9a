"""bench/province.py still works on PostgreSQL: a tiny province is loaded with COPY into the test database and every
scenario of bench/scenarios.py is timed once on it.

Not a timed test: it checks that the generator keeps every constraint (they are re-created after the load), that
the progress rows equal the app's per-student refresh, and that each scenario runs, so the scripts do not rot
between the runs that record figures (docs/benchmarks.md). The database is the test database, already migrated,
so the whole test takes seconds; `province.py generate` itself re-creates and migrates its own database first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

pytestmark = pytest.mark.postgres

BENCH = Path(__file__).resolve().parent.parent.parent / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import pagequeries  # noqa: E402
import planner  # noqa: E402
import province  # noqa: E402
import scenarios  # noqa: E402

TODAY = dt.date(2025, 11, 3)


def test_a_tiny_province_is_loaded_and_every_scenario_runs(transactional_db: None, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from bangfu.assistance.models import Activity, StudentProgress
    from bangfu.opportunities.models import Recommendation
    from bangfu.organisation.models import OrgUnit, RoleGrant, UnitKind
    from bangfu.outcomes.models import Destination
    from bangfu.students.models import LedgerEntry, Student

    settings.MEDIA_ROOT = tmp_path / "media"
    args = argparse.Namespace(scale=0.0002, schools=2, ledger_share=0.2, per_helper=30, today=TODAY, check_sample=5)
    meta = province.load(args)

    # 200 students in two schools of 100, a fifth in the ledger, each with a progress row the app agrees with.
    assert meta["students"] == Student.objects.count() == 200
    assert list(Student.objects.values_list("school__code").distinct().order_by("school__code")) == [
        ("SJZZY",),
        ("YZKJ",),
    ]
    assert meta["ledger_students"] == LedgerEntry.objects.filter(left_on__isnull=True).count() == 40
    assert meta["progress_rows"] == StudentProgress.objects.count() == 40
    assert meta["progress_check"] == {"students": 5, "differing": 0}
    assert meta["activities"] == Activity.objects.count() > 1800
    assert (
        Recommendation.objects.filter(activity__kind="job_recommendation").count() == Recommendation.objects.count() > 0
    )
    assert Destination.objects.filter(superseded_on__isnull=True).count() > 0
    province_unit = OrgUnit.objects.get(kind=UnitKind.PROVINCE)
    assert OrgUnit.objects.filter(kind=UnitKind.SCHOOL, parent=province_unit).count() == 2
    assert RoleGrant.objects.get(user__username="province").unit == province_unit
    # The constraints dropped for the load are back, and they hold: a second open ledger entry is refused.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'assistance_activity'::regclass AND contype = 'f'"
        )
        assert cursor.fetchone()[0] == 4
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'students_ledgerentry' ORDER BY indexname")
        assert "one_open_ledger_entry_per_student" in [r[0] for r in cursor.fetchall()]

    run = argparse.Namespace(
        repeat=1,
        warmup=1,
        naive_repeat=1,
        export_repeat=1,
        export_sample=3,
        only=None,
        json=tmp_path / "figures.json",
    )
    assert scenarios.run_and_report(run, meta, scale="province smoke test") == 0
    figures = scenarios.json.loads(run.json.read_text())
    titles = [s["title"] for s in figures["scenarios"]]
    assert [t.split(".")[0] for t in titles] == [str(n) for n in range(1, 14)]
    assert "Province board (河北省教育厅: schools 2, 40 ledger students" in titles[2]
    assert "Export: the work ledger of 200 students as exporter" in titles[6]
    verdicts = [s["verdict"] for s in figures["scenarios"]]
    assert sum(v.startswith("goals: p95") for v in verdicts) == 11  # the pages; the export and the write have none
    assert sum(v.endswith("no naive baseline") for v in verdicts) == 4  # the lists by class: time alone

    # bench/planner.py on the same province: a line per page (each answered 200) and the total.
    printed: list[str] = []
    planner.compare("cpu_tuple_cost", ("0.01", "0.03"), meta["today"], out=printed.append)
    page_lines = [line for line in printed if not line.startswith(("    plan differs", "all pages"))]
    assert len(page_lines) == len(planner.pages(meta["today"])) == 12
    assert printed[-1].startswith("all pages: ") and printed[-1].endswith("(cpu_tuple_cost 0.01 → 0.03)")

    # bench/pagequeries.py: one page's time and its queries', slowest first.
    shown: list[str] = []
    caseload = reverse("assistance:caseload")
    best = pagequeries.profile("office", caseload, 2, out=shown.append)
    assert shown[0].startswith(f"{caseload} as office: page median ") and len(shown) == len(best) + 1 > 5
    times = [float(line.split()[0]) for line in shown[1:]]
    assert times == sorted(times, reverse=True)
