"""bench/scenarios.py still runs on SQLite: a tiny university is generated, completed as the dashboard bench completes
it, put under a province, and every scenario is timed once.

Not a timed test: it checks that the script works end to end (the naive baselines agree with the pages, or the
script stops), so `make bench` does not rot between the runs that record figures (docs/benchmarks.md).
"""

import json
import subprocess
from pathlib import Path

import pytest

from tests.test_bench_smoke import run_bench

pytestmark = pytest.mark.own_sqlite


def _bench(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_bench(script, *args, timeout=300)


def test_every_scenario_runs_on_a_tiny_university(tmp_path: Path) -> None:
    built = _bench(
        "generate.py", "--var-dir", str(tmp_path / "bench"), "--students", "200", "--activities", "3000",
        "--today", "2025-11-03",
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    out = tmp_path / "figures.json"
    ran = _bench(
        "scenarios.py", "--var-dir", str(tmp_path / "scenarios"), "--from-dir", str(tmp_path / "bench"),
        "--exports-dir", str(tmp_path / "no-export-bench"), "--repeat", "1", "--warmup", "1", "--naive-repeat", "1",
        "--export-repeat", "1", "--export-sample", "3", "--json", str(out),
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    scenarios = json.loads(out.read_text())["scenarios"]
    assert [s["title"].split(".")[0] for s in scenarios] == [str(n) for n in range(1, 14)]
    # The university is put under a province: its board shows the one school.
    assert "Province board (河北省教育厅: schools 1, 40 ledger students" in scenarios[2]["title"]
    assert "the work ledger of 200 students as office" in scenarios[6]["title"]
    for s in scenarios:
        assert s["rows"], s["title"]
        assert s["verdict"].startswith("goals: p95") == (s["title"][0] not in "79"), s["title"]
    assert "pages meeting both goals:" in ran.stdout

    again = _bench(
        "scenarios.py", "--var-dir", str(tmp_path / "scenarios"), "--only", "province_board", "--repeat", "1"
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Reusing the data set" in again.stdout and "3. Province board" in again.stdout
