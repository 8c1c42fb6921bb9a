"""An import killed while it writes leaves nothing: `bangfu import_students` runs in a process of its own on a
large ledger file and is killed with SIGKILL once it has written its first students; the database then holds no
student, ledger entry or history row from the file. Runs on the database of the pass (SQLite or PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from django.db import connection

from bangfu.organisation.models import Role
from bangfu.students.models import LedgerEntry, Student
from tests.factories import make_id_number, make_school, make_staff, make_student
from tests.resilience.processes import BIN, REPO, app_env, database_url

ROWS = 10_000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


def _ledger_file(path: Path, classes: list[tuple[str, str, str]]) -> Path:
    """A student ledger of ROWS new students (numbers 2021100000…), each in the ledger."""
    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow(["学号", "姓名", "性别", "身份证号", "院系", "专业", "班级", "入学年份", "困难类别"])
        for i in range(ROWS):
            dept, major, klass = classes[i % len(classes)]
            name = SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)] + GIVEN[(i // len(GIVEN)) % len(GIVEN)]
            born = dt.date(2002, 9, 1) + dt.timedelta(days=i // 500)
            id_number = make_id_number(born=born, seq=100 + i % 500)
            writer.writerow([f"2021{100000 + i}", name, "男女"[i % 2], id_number, dept, major, klass, 2021, "脱贫家庭"])
    return path


def _writing(live: Path) -> bool:
    """The import's own progress report says it has written students (bangfu.imports.live)."""
    for report in live.glob("*.json"):
        try:
            progress = json.loads(report.read_text())
        except (OSError, ValueError):
            continue
        # Students written, the ledger entries and history still to come: the transaction is open.
        if progress["phase"] == "writing" and progress["total"] == ROWS and progress["done"] > 0:
            return True
    return False


def test_an_import_killed_while_writing_leaves_no_student(transactional_db: None, tmp_path: Path) -> None:
    units = make_school()
    make_staff("office", Role.EMPLOYMENT_OFFICE, units["school"], full_name="李主任")
    make_student(units["class1"], name="刘洋", student_number="2020000001")  # already there: must stay
    classes = [(units[f"dept{i}"].name, units[f"major{i}"].name, units[f"class{i}"].name) for i in (1, 2)]
    ledger = _ledger_file(tmp_path / "台账.csv", classes)
    var = tmp_path / "var"
    var.mkdir()
    if connection.vendor == "sqlite":
        # The test database lives in this process's memory: the import gets a copy of it in a file.
        target = sqlite3.connect(var / "bangfu.sqlite3")
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
        env = app_env(var_dir=var)
    else:
        env = app_env(var_dir=var, database=database_url())

    log = tmp_path / "import.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "bangfu"), "import_students", str(ledger), "--school", "HEBUST", "--as", "office",
             "--date", "2024-03-15", "--skip-checks"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not _writing(var / "media" / "imports" / "live"):
            assert process.poll() is None, "the import ended before it was killed:\n" + log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL

    if connection.vendor == "sqlite":
        with sqlite3.connect(var / "bangfu.sqlite3") as db:  # opening it rolls the killed transaction back

            def count(table: str) -> int:
                return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

            counts = [count(t) for t in ("students_student", "students_ledgerentry", "students_historicalstudent")]
    else:
        counts = [Student.objects.count(), LedgerEntry.objects.count(), Student.history.count()]
    assert counts == [1, 0, 1]  # 刘洋 and the history row of his creation, nothing from the file
    assert list(Student.objects.values_list("name", flat=True)) == ["刘洋"]
