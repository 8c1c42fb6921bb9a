"""The benchmark scripts still run: a tiny data set is generated and every scenario is timed once.

Not a timed test: it only checks that bench/generate.py and bench/run.py work end to end, so they do not rot
between the runs that record figures.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.own_sqlite

REPO = Path(__file__).resolve().parent.parent


def run_bench(script: str, *args: str, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    """Run a bench script in a process of its own, away from the test database's settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BANGFU_VAR_DIR", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def test_generate_and_run_a_tiny_university(tmp_path: Path) -> None:
    var_dir = str(tmp_path / "bench")
    built = run_bench("generate.py", "--var-dir", var_dir, "--students", "200", "--activities", "3000")
    assert built.returncode == 0, built.stdout + built.stderr
    meta = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert meta["students"] == 200
    assert meta["ledger_students"] == 40
    assert meta["activities"] >= 3000
    assert meta["progress_rows"] == meta["ledger_students"]

    again = run_bench("generate.py", "--var-dir", var_dir)
    assert "Reusing the data set" in again.stdout

    out = tmp_path / "figures.json"
    ran = run_bench(
        "run.py",
        "--var-dir",
        var_dir,
        "--repeat",
        "1",
        "--naive-repeat",
        "1",
        "--refresh-sample",
        "3",
        "--json",
        str(out),
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    titles = [s["title"] for s in json.loads(out.read_text())["scenarios"]]
    assert [t.split(".")[0] for t in titles] == ["1", "2", "3", "4", "5"]
    assert "Helper board" in ran.stdout and "rebuild_progress" in ran.stdout


def test_placement_bench_builds_a_small_cohort_and_times_every_grouping(tmp_path: Path) -> None:
    out = tmp_path / "placement.json"
    ran = run_bench(
        "placement.py",
        "--var-dir",
        str(tmp_path / "placement"),
        "--graduates",
        "400",
        "--today",
        "2025-11-03",
        "--repeat",
        "1",
        "--naive-repeat",
        "1",
        "--json",
        str(out),
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "400 students graduating in 2025" in ran.stdout and "placement rate" in ran.stdout
    scenarios = json.loads(out.read_text())["scenarios"]
    # Five groupings (none, department, major, category, ledger), as of today and as of 31 August.
    assert len(scenarios) == 10
    assert sum("as of 2025-08-31" in s["title"] for s in scenarios) == 5
    for s in scenarios:
        query, naive = s["rows"]
        assert query["label"].startswith("query") and query["queries"] == 1, s["title"]
        assert naive["label"].startswith("naive") and "naive / query" in s["ratios"]
    # The script stops when the figures and the naive recount disagree, so a clean exit means they agree.


def test_export_bench_builds_a_small_university_and_times_the_work_ledger(tmp_path: Path) -> None:
    out = tmp_path / "exports.json"
    ran = run_bench(
        "exports.py",
        "--var-dir",
        str(tmp_path / "exports"),
        "--from-dir",
        str(tmp_path / "no-work-ledger-bench"),  # nothing to copy: the data set is generated
        "--students",
        "200",
        "--activities",
        "3000",
        "--today",
        "2025-11-03",
        "--repeat",
        "1",
        "--memory-runs",
        "1",
        "--json",
        str(out),
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    figures = json.loads(out.read_text())
    # Every student of the school is a row of the work ledger; the ledger students of the other one.
    assert figures["rows"] == {"work_ledger": 200, "ledger": 40}
    assert [s["title"].split(".")[0] for s in figures["scenarios"]] == ["1", "2"]
    labels = [t["label"] for t in figures["scenarios"][0]["rows"]]
    assert [label.split()[0] for label in labels] == ["export", "request", "job", "compare"]
    assert figures["peak_mib"]["work ledger (constant memory)"][0] > 0
    assert "Work ledger, the whole school" in ran.stdout and "peak of Python allocations" in ran.stdout
