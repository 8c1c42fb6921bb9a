"""PostgreSQL connections run without JIT compilation unless the DATABASE_URL says otherwise (docs/benchmarks.md:
JIT recompiled a board's aggregates at every request, seconds each at province scale)."""

import os
import subprocess
import sys

import pytest
from django.db import connection

PRINT_OPTIONS = "import bangfu.settings as s; print(s.DATABASES['default'].get('OPTIONS', {}).get('options', ''))"


def options_for(url: str) -> str:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-c", PRINT_OPTIONS], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.postgres
def test_the_app_s_connections_have_jit_off(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def test_a_url_that_chooses_jit_or_other_options_keeps_them() -> None:
    assert options_for("postgres://u@db:5432/bangfu") == "-c jit=off"
    assert options_for("postgres://u@db:5432/bangfu?options=-c%20jit%3Don") == "-c jit=on"
    assert options_for("postgres://u@db:5432/bangfu?options=-c%20work_mem%3D64MB") == "-c work_mem=64MB -c jit=off"
    assert options_for("sqlite:////tmp/bangfu.sqlite3") == ""
