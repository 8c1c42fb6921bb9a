"""PostgreSQL connections run without JIT compilation, price random reads as on solid-state storage and a row read
as when the tables are in memory, unless the DATABASE_URL says otherwise (docs/benchmarks.md: JIT recompiled a
board's aggregates at every request, seconds each at province scale; the default random_page_cost made a school's
placement figures hash every destination of the province, the default cpu_tuple_cost a department's ledger every
open entry)."""

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
def test_the_app_s_connections_have_jit_off_and_solid_state_page_costs(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone() == ("1.1",)
        cursor.execute("SHOW cpu_tuple_cost")
        assert cursor.fetchone() == ("0.03",)


def test_a_url_that_chooses_jit_or_other_options_keeps_them() -> None:
    ours = "-c random_page_cost=1.1 -c cpu_tuple_cost=0.03"
    assert options_for("postgres://u@db:5432/bangfu") == f"-c jit=off {ours}"
    assert options_for("postgres://u@db:5432/bangfu?options=-c%20jit%3Don") == f"-c jit=on {ours}"
    assert (
        options_for("postgres://u@db:5432/bangfu?options=-c%20random_page_cost%3D4%20-c%20work_mem%3D64MB")
        == "-c random_page_cost=4 -c work_mem=64MB -c jit=off -c cpu_tuple_cost=0.03"
    )
    assert options_for("sqlite:////tmp/bangfu.sqlite3") == ""
