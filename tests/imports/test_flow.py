"""The pieces the web flow and the command line use: error report, templates, background commit, progress,
cancel, and the `import_students` command."""

import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from bangfu.imports import live, services
from bangfu.imports.models import ImportJob, JobStatus
from bangfu.imports.reports import template_workbook
from bangfu.imports.targets import students as students_target
from bangfu.students.models import Student
from tests.conftest import TODAY, World
from tests.factories import make_id_number
from tests.imports.sheets import xlsx

GOOD_ID = make_id_number(born=dt.date(2005, 6, 1), region="131125", seq=331)


def upload(world: World, path: Path, **options: bool) -> ImportJob:
    with path.open("rb") as stream:
        return services.create_job(
            actor=world.office, target="students", school=world.school, upload=stream, name=path.name, options=options
        )


@pytest.fixture
def two_bad_rows(tmp_path: Path) -> Path:
    return xlsx(
        tmp_path / "two-bad.xlsx",
        [
            ["学号", "姓名", "性别", "班级", "入学年份", "身份证号", "家庭情况", "困难类别"],
            ["20241101", "白露", "女", "专业12101班", 2024, GOOD_ID, "父亲务农", "低保"],
            ["20241102", '=HYPERLINK("http://x")', "女", "专业12101班", 2024, "123", "+1 母亲打工", "低保"],
            ["20241103", "黎明", "男", "不存在班", 2024, "", "@SUM(A1)", "孤儿"],
        ],
        title="台账",
    )


def test_the_error_report_lists_the_rows_with_problems_as_written_and_never_runs_a_formula(
    world: World, two_bad_rows: Path
) -> None:
    job = services.preview(actor=world.office, job=upload(world, two_bad_rows), today=TODAY)
    assert job.invalid_rows == 2

    data = services.error_report(actor=world.office, job=job, today=TODAY)

    page = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = [[c.value for c in row] for row in page.iter_rows()]
    assert rows[0] == [
        "Row",
        "学号",
        "姓名",
        "性别",
        "班级",
        "入学年份",
        "身份证号",
        "家庭情况",
        "困难类别",
        "Problems",
    ]
    assert rows[1] == [
        4,
        "20241102",
        '\'=HYPERLINK("http://x")',
        "女",
        "专业12101班",
        2024,
        "123",
        "'+1 母亲打工",
        "低保",
        "身份证号: An ID number has 18 characters: 17 digits and a final digit or X.",
    ]
    assert rows[2][:2] == [5, "20241103"]
    assert rows[2][7] == "'@SUM(A1)"
    assert rows[2][9].startswith("班级: Unknown class “不存在班”.")
    assert len(rows) == 3
    assert all(c.data_type != "f" for row in page.iter_rows() for c in row)


@pytest.mark.parametrize(
    ("language", "first", "example"), [("zh-hans", "*学号", "2024010101"), ("en", "*Student No.", "2024010101")]
)
def test_a_template_has_every_column_and_an_example_row_and_maps_back(
    world: World, tmp_path: Path, language: str, first: str, example: str
) -> None:
    data = template_workbook("students", language)
    page = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [c.value for c in next(page.iter_rows(max_row=1))]
    assert header[0] == first
    assert len(header) == len(students_target.FIELDS)
    assert page.cell(row=2, column=1).value == example
    path = tmp_path / f"template-{language}.xlsx"
    path.write_bytes(data)
    job = upload(world, path)
    assert set(job.mapping) == {f.key for f in students_target.FIELDS}


def test_a_small_commit_runs_in_the_request(world: World, two_bad_rows: Path) -> None:
    job = services.preview(actor=world.office, job=upload(world, two_bad_rows), today=TODAY)
    job = services.start_commit(actor=world.office, job=job, today=TODAY, skip_invalid=True)
    assert job.status == JobStatus.DONE
    assert not DBTaskResult.objects.exists()
    assert list(Student.objects.filter(student_number__startswith="202411").values_list("name", flat=True)) == ["白露"]
    assert services.progress(job) == {"status": "done", "phase": "", "done": 1, "total": 3, "percent": 100}


@pytest.mark.django_db(transaction=True)
def test_a_large_commit_is_queued_and_the_worker_runs_it(world: World, two_bad_rows: Path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IMPORT_INLINE_ROWS = 2
    job = services.preview(actor=world.office, job=upload(world, two_bad_rows, skip_invalid=True), today=TODAY)
    job = services.start_commit(actor=world.office, job=job, today=TODAY)
    assert job.status == JobStatus.QUEUED
    task = DBTaskResult.objects.get()
    assert task.task_path == "bangfu.imports.tasks.run_import"
    assert not Student.objects.filter(student_number="20241101").exists()

    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0", verbosity=0)

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.message
    assert (job.created_count, job.invalid_rows) == (1, 2)
    assert Student.objects.filter(student_number="20241101").exists()
    task.refresh_from_db()
    assert task.return_value["status"] == "done"


def test_a_queued_import_can_be_cancelled(world: World, two_bad_rows: Path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.IMPORT_INLINE_ROWS = 0
    job = services.start_commit(actor=world.office, job=upload(world, two_bad_rows), today=TODAY)
    assert job.status == JobStatus.QUEUED
    job = services.request_cancel(actor=world.office, job=job)
    assert (job.status, job.cancel_requested) == (JobStatus.CANCELLED, True)
    with pytest.raises(ValidationError, match=re.escape("This import has already finished.")):
        services.request_cancel(actor=world.office, job=job)


def test_a_cancel_during_the_write_rolls_everything_back(world: World, two_bad_rows: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    job = upload(world, two_bad_rows, skip_invalid=True)
    write = students_target.StudentsTarget.write

    def write_then_cancel(self, run, plan):  # type: ignore[no-untyped-def]
        write(self, run, plan)
        assert Student.objects.filter(student_number="20241101").exists()  # written, not yet committed
        live.request_cancel(job)  # what the cancel button does while the worker holds the lock

    monkeypatch.setattr(students_target.StudentsTarget, "write", write_then_cancel)
    job = services.commit(actor=world.office, job=job, today=TODAY)

    assert (job.status, job.cancel_requested) == (JobStatus.CANCELLED, True)
    assert job.message == "The import was cancelled; nothing was imported."
    assert not Student.objects.filter(student_number="20241101").exists()
    assert live.read(job) is None


def test_progress_while_running_comes_from_the_live_file(world: World, two_bad_rows: Path) -> None:
    job = upload(world, two_bad_rows)
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    live.Live(job).tick("writing", 50, 100)
    try:
        assert services.progress(job) == {
            "status": "running",
            "phase": "writing",
            "done": 50,
            "total": 100,
            "percent": 70,
        }
    finally:
        live.clear(job)


def test_only_the_uploader_acts_on_a_job(world: World, two_bad_rows: Path) -> None:

    job = upload(world, two_bad_rows)
    for act in (services.preview, services.commit):
        with pytest.raises(PermissionDenied):
            act(actor=world.leader, job=job, today=TODAY)


# --- the command line ---------------------------------------------------------------------------------------------


def run_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_students", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_imports_a_clean_file_and_exits_zero(world: World, tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "ok.xlsx",
        [
            ["学号", "姓名", "性别", "院系", "专业", "班级", "入学年份"],
            ["20241201", "林青", "女", "服装工程系", "新专业", "新2401班", 2024],
        ],
    )  # fmt: skip
    args = (str(path), "--school", "HEBUST", "--as", "office", "--date", TODAY.isoformat())
    with pytest.raises(CommandError):
        run_command(*args)  # the class does not exist and may not be created
    out, err = run_command(*args, "--create-units")
    assert out.strip() == "Imported 1 row: 1 created, 0 updated, 0 unchanged."
    assert err == ""
    assert Student.objects.get(student_number="20241201").class_unit.name == "新2401班"


def test_the_command_prints_each_problem_and_exits_non_zero(world: World, two_bad_rows: Path) -> None:
    args = (str(two_bad_rows), "--school", "HEBUST", "--as", "office", "--date", TODAY.isoformat())
    err = io.StringIO()
    with pytest.raises(CommandError, match=re.escape("2 rows have problems, so nothing was imported.")) as caught:
        call_command("import_students", *args, stdout=io.StringIO(), stderr=err)
    assert caught.value.returncode == 1
    assert err.getvalue().splitlines() == [
        "Row 4, 身份证号: An ID number has 18 characters: 17 digits and a final digit or X.",
        "Row 5, 班级: Unknown class “不存在班”. Missing majors and classes are created only when the import is "
        "asked to create them.",
    ]
    assert not Student.objects.filter(student_number__startswith="202411").exists()

    out_buffer = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_students", *args, "--dry-run", stdout=out_buffer, stderr=io.StringIO())
    assert "Checked 3 rows: 1 valid, 2 with problems; an import would create 1" in out_buffer.getvalue()
    assert not Student.objects.filter(student_number__startswith="202411").exists()

    out, err_text = run_command(*args, "--skip-invalid")
    assert out.strip() == "Imported 1 row: 1 created, 0 updated, 0 unchanged. 2 rows with problems were left out."
    assert len(err_text.splitlines()) == 2


def test_the_command_refuses_an_unknown_school_or_user(world: World, two_bad_rows: Path) -> None:
    with pytest.raises(CommandError, match=re.escape("There is no single school with the code NOPE.")):
        run_command(str(two_bad_rows), "--school", "NOPE", "--as", "office")
    with pytest.raises(CommandError, match=re.escape("There is no active user ghost.")):
        run_command(str(two_bad_rows), "--school", "HEBUST", "--as", "ghost")
    with pytest.raises(CommandError, match=re.escape("helper may not import into 河北科技工程职业技术大学.")):
        run_command(str(two_bad_rows), "--school", "HEBUST", "--as", "helper")
