"""bench/imports.py still runs: a 300-row ledger through the pipeline and through django-import-export.

Not a timed test: it checks that the script works end to end and that both sides imported every row, so it
does not rot between the runs that record figures (bench/README.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.own_sqlite

REPO = Path(__file__).resolve().parent.parent.parent


def test_the_import_benchmark_runs_on_300_rows(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BANGFU_VAR_DIR", "DJANGO_SETTINGS_MODULE")}
    figures = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "imports.py"), "--rows", "300", "--var-dir", str(tmp_path / "bench"),
         "--json", str(figures)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(figures.read_text())
    assert result["counts"]["students"] == 300
    assert result["counts"]["ledger_entries"] == 300
    assert result["counts"]["helpers"] == 300
    assert result["counts"]["student_history"] == 300
    assert result["reimport_unchanged"] is True
    assert result["die_students"] == 300
    assert "rows/s" in done.stdout and "ratio:" in done.stdout
