"""The benchmark scripts still run: a tiny data set is generated and every scenario is timed once.

Not a timed test: it only checks that bench/generate.py and bench/run.py work end to end, so they do not rot
between the runs that record figures.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _bench(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BANGFU_VAR_DIR", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


def test_generate_and_run_a_tiny_university(tmp_path: Path) -> None:
    var_dir = str(tmp_path / "bench")
    built = _bench("generate.py", "--var-dir", var_dir, "--students", "200", "--activities", "3000")
    assert built.returncode == 0, built.stdout + built.stderr
    meta = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert meta["students"] == 200
    assert meta["ledger_students"] == 40
    assert meta["activities"] >= 3000
    assert meta["progress_rows"] == meta["ledger_students"]

    again = _bench("generate.py", "--var-dir", var_dir)
    assert "Reusing the data set" in again.stdout

    out = tmp_path / "figures.json"
    ran = _bench(
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
