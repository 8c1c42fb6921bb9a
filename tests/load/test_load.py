"""The load test in its short form, for CI (`make test-load`): bench/load/run.py on a small demo university in a
scratch PostgreSQL database (the server of DATABASE_URL), two gunicorn processes and a task worker, a dozen people
arriving over 3 seconds and staying 20. Every request must answer as it would for a person; response times are not
judged here (bench/load/README.md records them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

pytestmark = pytest.mark.load

REPO = Path(__file__).resolve().parent.parent.parent


def _scratch_database() -> str:
    """On the server of DATABASE_URL, beside the test databases: bangfu_load_ci, dropped and made again."""
    server = urlsplit(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/")
    return urlunsplit(server._replace(path="/bangfu_load_ci"))


def test_a_short_monday_morning_answers_every_request(tmp_path: Path) -> None:
    figures = tmp_path / "load.json"
    env = {k: v for k, v in os.environ.items() if k not in ("BANGFU_VAR_DIR", "DJANGO_SETTINGS_MODULE")}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "load" / "run.py"), "--var-dir", str(tmp_path / "var"),
         "--database-url", _scratch_database(),
         "--students", "150", "--helpers", "6", "--per-helper", "3", "--leaders", "3", "--office", "2",
         "--student-accounts", "6", "--users", "12", "--spawn-rate", "4", "--run-time", "20", "--p95-limit", "600000",
         "--json", str(figures)],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    step = json.loads(figures.read_text())["steps"][0]
    phases = (step["ramp"], step["steady"])
    assert [e for phase in phases for e in phase["errors"]] == [], done.stdout
    assert sum(row["failures"] for phase in phases for row in phase["rows"]) == 0, done.stdout
    assert sum(phase["total"]["requests"] for phase in phases) >= 40, done.stdout
    done_by_name: dict[str, int] = {}
    for phase in phases:
        for row in phase["rows"]:
            done_by_name[row["name"]] = done_by_name.get(row["name"], 0) + row["requests"]
    assert done_by_name.get("log in") == 12, done.stdout  # each person once
    for name in (
        "helper: my students",
        "leader: department dashboard",
        "office: start a work-ledger export",
        "office: export ready (start to done)",
        "office: download export",
    ):
        assert done_by_name.get(name, 0) > 0, f"no {name!r} in\n{done.stdout}"
    assert any(name.startswith("helper: log a ") for name in done_by_name), done.stdout
