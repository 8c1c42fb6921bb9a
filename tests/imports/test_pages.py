"""The import pages: upload, columns, preview with the error report, commit (all or nothing, or the valid rows),
progress and cancel of a background import, the jobs list, templates, and who sees what."""

import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from bangfu.imports import live
from bangfu.imports.models import ImportJob, JobStatus
from bangfu.imports.tasks import run_import
from bangfu.organisation.models import User
from bangfu.students.models import Student
from tests.conftest import TODAY, World, login
from tests.factories import make_id_number
from tests.imports.sheets import xlsx

NOW = dt.datetime(TODAY.year, TODAY.month, TODAY.day, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
GOOD_ID = make_id_number(born=dt.date(2005, 6, 1), region="131125", seq=331)
HEADER = ["序号", "学号", "姓名", "性别", "所在班", "入学年份", "身份证号", "家长姓名"]


@pytest.fixture(autouse=True)
def frozen(settings, tmp_path: Path) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    """A students file whose class column has a header no synonym knows, and two rows with problems."""
    return xlsx(
        tmp_path / "新生台账.xlsx",
        [
            HEADER,
            [1, "20241101", "白露", "女", "专业12101班", 2024, GOOD_ID, "白建国"],
            [2, "20241102", "黎明", "男", "专业12101班", 2024, "123", "黎大山"],
            [3, "20241103", "秋实", "男", "不存在班", 2024, "", "秋长河"],
            [4, "20241104", "冬青", "女", "专业22101班", 2024, "", "冬国强"],
        ],
    )


def text_of(response: Any) -> str:
    """The page's visible text, tags dropped and spaces collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def uploaded(client: Client, world: World, path: Path, target: str = "students", **options: str) -> ImportJob:
    with path.open("rb") as stream:
        response = client.post(
            reverse("imports:upload"),
            {"target": target, "school": str(world.school.public_id), "file": stream, **options},
        )
    job = ImportJob.objects.order_by("-pk").first()
    assert job is not None
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:mapping", args=[job.public_id])
    return job


def mapping_data(job: ImportJob, **columns: str) -> dict[str, Any]:
    """The columns form as the page sends it: what is mapped now, changed by `columns` (letter → field key)."""
    job.refresh_from_db()
    by_column = {column: key for key, column in job.mapping.items()}
    data: dict[str, Any] = {"header_row": job.header_row}
    for index in range(len(job.headers)):
        data[f"column_{index}"] = by_column.get(index, "")
    for letter, key in columns.items():
        data[f"column_{ord(letter) - ord('A')}"] = key
    return data


def previewed(client: Client, world: World, path: Path, **columns: str) -> ImportJob:
    job = uploaded(client, world, path)
    response = client.post(reverse("imports:mapping", args=[job.public_id]), mapping_data(job, **columns))
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:preview", args=[job.public_id])
    job.refresh_from_db()
    return job


# --- menu, list, upload page, templates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "shown"),
    [("office", True), ("leader", True), ("counsellor", True), ("principal", False), ("helper", False)],
)
def test_the_menu_shows_imports_to_those_who_may_import(as_user, world: World, who: str, shown: bool) -> None:  # type: ignore[no-untyped-def]
    response = as_user(getattr(world, who)).get(reverse("students:list"))
    assert ('id="nav-imports"' in response.content.decode()) is shown


def test_the_upload_page_offers_what_the_user_may_import_and_shows_the_size_limit(as_user, world: World) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.office).get(reverse("imports:upload"))
    assert response.status_code == 200
    form = response.context["form"]
    assert [label for _value, label in form.fields["target"].choices] == [
        "Departments, majors and classes",
        "Staff and their roles",
        "Students and the ledger",
        "Work ledger (past help)",
        "Graduate destinations",
    ]
    page = text_of(response)
    assert "At most 20.0 MB." in page
    assert f'type="hidden" name="school" value="{world.school.public_id}"' in response.content.decode()
    links = re.findall(r'href="(/imports/templates/[^"]+)"', response.content.decode())
    assert links == [
        reverse("imports:template", args=[n]) for n in ("units", "staff", "students", "activities", "destinations")
    ]


def test_a_department_leader_is_offered_the_targets_of_their_department(as_user, world: World) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.leader).get(reverse("imports:upload"))
    choices = [value for value, _label in response.context["form"].fields["target"].choices]
    assert choices == ["students", "activities", "destinations"]
    assert as_user(world.leader).get(reverse("imports:template", args=["units"])).status_code == 403
    assert as_user(world.leader).get(reverse("imports:template", args=["grades"])).status_code == 404


@pytest.mark.parametrize("who", ["helper", "principal", "student_user"])
def test_who_may_not_import_gets_403(as_user, world: World, who: str) -> None:  # type: ignore[no-untyped-def]
    client = as_user(getattr(world, who))
    assert client.get(reverse("imports:list")).status_code == 403
    assert client.get(reverse("imports:upload")).status_code == 403
    assert client.get(reverse("imports:template", args=["destinations"])).status_code == 403


def test_a_template_downloads_in_the_users_language(as_user, world: World) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.office).get(reverse("imports:template", args=["destinations"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="Graduate destinations.xlsx"' in response["Content-Disposition"]
    page = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in next(page.iter_rows(max_row=1))][:4] == [
        "*Student No.",
        "Name",
        "*Destination",
        "Employer",
    ]
    assert page.cell(row=2, column=3).value == "10"


def test_the_jobs_list_shows_my_imports_only_with_their_status(
    as_user,
    world: World,
    ledger: Path,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    office = as_user(world.office)
    for _ in range(3):
        uploaded(office, world, ledger)
    mine = previewed(office, world, ledger, E="class_unit")
    login(office, world.leader)
    uploaded(office, world, ledger)  # the leader's own import
    login(office, world.office)

    with django_assert_max_num_queries(10):
        response = office.get(reverse("imports:list"))

    rows = re.findall(r'<tr data-job="([^"]+)">', response.content.decode())
    assert len(rows) == 4
    assert rows[0] == str(mine.public_id)
    page = text_of(response)
    assert "新生台账.xlsx Students and the ledger · 河北科技工程职业技术大学 · 2024-03-15 10:00 Previewed 4" in page
    assert page.count("Uploaded 0") == 3
    assert f'href="{reverse("imports:preview", args=[mine.public_id])}"' in response.content.decode()


# --- upload, columns, preview ----------------------------------------------------------------------------------


def test_an_upload_that_is_not_a_spreadsheet_is_refused_on_the_form(as_user, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake = tmp_path / "名单.xlsx"
    fake.write_bytes(b"MZ\x90\x00 this is a program, not a workbook")
    with fake.open("rb") as stream:
        response = as_user(world.office).post(
            reverse("imports:upload"), {"target": "students", "school": str(world.school.public_id), "file": stream}
        )
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["The file's content is not a real XLSX file."]}
    assert not ImportJob.objects.exists()


def test_an_unmapped_required_column_is_named_and_the_columns_can_be_corrected(
    as_user,
    world: World,
    ledger: Path,  # type: ignore[no-untyped-def]
) -> None:
    client = as_user(world.office)
    job = uploaded(client, world, ledger)

    response = client.get(reverse("imports:mapping", args=[job.public_id]))

    page = text_of(response)
    assert "These columns are required but not found in the file: Class." in page
    assert "E · 所在班 专业12101班 专业12101班 不存在班" in page
    form = response.context["form"]
    assert [form[f"column_{i}"].value() for i in range(8)] == [
        "",
        "student_number",
        "name",
        "gender",
        "",
        "cohort",
        "id_number",
        "",
    ]
    # The same field for two columns is refused with both named.
    response = client.post(reverse("imports:mapping", args=[job.public_id]), mapping_data(job, E="name"))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "“Name” is chosen for two columns: C and E. Choose it for one only."
    ]

    response = client.post(reverse("imports:mapping", args=[job.public_id]), mapping_data(job, E="class_unit"))

    assert response["Location"] == reverse("imports:preview", args=[job.public_id])
    job.refresh_from_db()
    assert (job.status, job.mapping["class_unit"]) == (JobStatus.PREVIEWED, 4)


def test_another_header_row_or_sheet_maps_the_columns_again(as_user, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = xlsx(
        tmp_path / "两个表.xlsx",
        [["学号", "姓名", "性别", "班级", "入学年份"], ["20241101", "白露", "女", "专业12101班", 2024]],
        title="2024级台账",
        extra_sheets={"2023级": [["说明：2023级"], ["学生学号", "学生姓名"], ["20231101", "黎明"]]},
    )
    client = as_user(world.office)
    job = uploaded(client, world, path)
    url = reverse("imports:mapping", args=[job.public_id])
    response = client.get(url)
    assert response.context["form"].fields["sheet_name"].choices == [("台账", "台账"), ("2023级", "2023级")]
    assert (job.sheet_name, job.header_row) == ("台账", 2)

    response = client.post(url, {**mapping_data(job), "sheet_name": "台账", "header_row": 1}, follow=True)

    page = text_of(response)
    assert "The columns were mapped again from row 1." in page
    assert "These columns are required but not found in the file: Student number, Name, Gender, Class, Cohort." in page

    response = client.post(url, {**mapping_data(job), "sheet_name": "2023级", "header_row": 1}, follow=True)

    job.refresh_from_db()
    assert (job.sheet_name, job.header_row, job.mapping) == ("2023级", 2, {"student_number": 0, "name": 1})
    assert "The columns were mapped again from row 2." in text_of(response)


def test_the_preview_lists_counts_and_every_problem_and_a_mapping_correction_changes_it(
    as_user,
    world: World,
    ledger: Path,  # type: ignore[no-untyped-def]
) -> None:
    client = as_user(world.office)
    job = previewed(client, world, ledger, E="class_unit")

    response = client.get(reverse("imports:preview", args=[job.public_id]))

    page = text_of(response)
    assert "Rows 4 Valid 2 With problems 2 Will create 2 Will update 0 Unchanged 0" in page
    assert "2 problems" in page
    assert re.findall(r'<tr data-row="(\d+)">', response.content.decode()) == ["3", "4"]
    assert "3 身份证号 An ID number has 18 characters: 17 digits and a final digit or X." in page
    assert (
        "4 所在班 Unknown class “不存在班”. Missing majors and classes are created only when the import is asked "
        "to create them." in page
    )
    assert "Import the 2 valid rows only" in page

    # The ID column is left out: its row is valid now.
    response = client.post(reverse("imports:mapping", args=[job.public_id]), mapping_data(job, G=""))
    assert response["Location"] == reverse("imports:preview", args=[job.public_id])
    page = text_of(client.get(reverse("imports:preview", args=[job.public_id])))
    assert "Rows 4 Valid 3 With problems 1 Will create 3" in page
    assert "身份证号" not in page


def test_the_problems_are_paginated(as_user, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rows = [["学号", "姓名", "性别", "班级", "入学年份"]]
    rows += [[f"2024{n:04d}", "某某", "?", "专业12101班", 2024] for n in range(60)]
    client = as_user(world.office)
    job = previewed(client, world, xlsx(tmp_path / "many.xlsx", rows))
    assert job.problems_total == 60

    first = client.get(reverse("imports:preview", args=[job.public_id]))
    second = client.get(reverse("imports:preview", args=[job.public_id]), {"page": 2})

    assert len(re.findall(r'<tr data-row="', first.content.decode())) == 50
    assert re.findall(r'<tr data-row="(\d+)">', second.content.decode()) == [str(n) for n in range(52, 62)]
    assert "Page 2 of 2" in text_of(second)


def test_the_error_report_holds_the_rows_with_problems_as_written(as_user, world: World, ledger: Path) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.office)
    job = previewed(client, world, ledger, E="class_unit")

    response = client.get(reverse("imports:errors", args=[job.public_id]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    page = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [[c.value for c in row] for row in page.iter_rows()] == [
        ["Row", *HEADER, "Problems"],
        [3, 2, "20241102", "黎明", "男", "专业12101班", 2024, "123", "黎大山",
         "身份证号: An ID number has 18 characters: 17 digits and a final digit or X."],
        [4, 3, "20241103", "秋实", "男", "不存在班", 2024, "", "秋长河",
         "所在班: Unknown class “不存在班”. Missing majors and classes are created only when the import is asked "
         "to create them."],
    ]  # fmt: skip


# --- commit ---------------------------------------------------------------------------------------------------


def test_import_all_is_refused_while_a_row_has_a_problem(as_user, world: World, ledger: Path) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.office)
    job = previewed(client, world, ledger, E="class_unit")

    response = client.post(reverse("imports:commit", args=[job.public_id]), {"mode": "all"})

    assert response.status_code == 400
    assert (
        "2 rows have problems, so the file cannot be imported all or nothing. Correct the file and upload it "
        "again, or import only the valid rows." in text_of(response)
    )
    job.refresh_from_db()
    assert job.status == JobStatus.PREVIEWED
    assert not Student.objects.filter(student_number__startswith="202411").exists()


def test_the_valid_rows_are_imported_only_with_the_box_ticked(as_user, world: World, ledger: Path) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.office)
    job = previewed(client, world, ledger, E="class_unit")
    url = reverse("imports:commit", args=[job.public_id])

    response = client.post(url, {"mode": "valid"})
    assert response.status_code == 400
    assert "Tick the box to leave out the rows with problems." in text_of(response)
    assert not Student.objects.filter(student_number__startswith="202411").exists()

    response = client.post(url, {"mode": "valid", "confirm_skip": "on"})

    assert response["Location"] == reverse("imports:job", args=[job.public_id])
    assert sorted(Student.objects.filter(student_number__startswith="202411").values_list("name", flat=True)) == [
        "冬青",
        "白露",
    ]
    page = text_of(client.get(response["Location"]))
    assert "Imported Imported 2 rows: 2 created, 0 updated, 0 unchanged. 2 rows with problems were left out." in page
    assert "Created 2 Updated 0 Unchanged 0 Left out 2" in page
    assert "Download the rows left out, with their problems" in page
    # A finished job goes no further.
    response = client.post(url, {"mode": "valid", "confirm_skip": "on"})
    assert response["Location"] == reverse("imports:job", args=[job.public_id])
    assert client.get(reverse("imports:preview", args=[job.public_id]))["Location"] == response["Location"]


def test_a_clean_file_is_imported_all_at_once(as_user, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = xlsx(
        tmp_path / "去向.xlsx",
        [["学号", "毕业去向", "单位名称"], [world.own.student_number, "10", "石家庄华信科技有限公司"]],
    )
    client = as_user(world.office)
    job = uploaded(client, world, path, target="destinations")
    client.post(reverse("imports:mapping", args=[job.public_id]), mapping_data(job))

    response = client.post(reverse("imports:commit", args=[job.public_id]), {"mode": "all"})

    assert response["Location"] == reverse("imports:job", args=[job.public_id])
    assert "Imported 1 row: 1 created, 0 updated, 0 unchanged." in text_of(client.get(response["Location"]))
    assert world.own.destinations.get().employer_name == "石家庄华信科技有限公司"


# --- background import: progress, cancel, result -------------------------------------------------------------


Queued = tuple[Client, ImportJob]


@pytest.fixture
def queued(as_user, world: World, ledger: Path, settings) -> Queued:  # type: ignore[no-untyped-def]
    """A file too large to import at once (IMPORT_INLINE_ROWS = 1), committed by the office: queued for the worker."""
    settings.IMPORT_INLINE_ROWS = 1
    client = as_user(world.office)
    job = previewed(client, world, ledger, E="class_unit")
    client.post(reverse("imports:commit", args=[job.public_id]), {"mode": "valid", "confirm_skip": "on"})
    return client, job


def test_a_large_import_waits_for_the_worker_with_a_progress_bar_and_can_be_cancelled(queued: Queued) -> None:
    client, job = queued
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    url = reverse("imports:job", args=[job.public_id])

    response = client.get(url)
    html = response.content.decode()
    assert "Waiting to run Waiting for the worker" in text_of(response)
    assert '<progress class="w-100 mb-2" id="import-progress" max="100" value="0">' in html
    assert f'hx-get="{url}" hx-trigger="every 1s"' in html
    assert f'<a href="{url}" id="refresh">Check again</a>' in html
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="import-status"')
    assert "<nav" not in partial

    response = client.post(reverse("imports:cancel", args=[job.public_id]), follow=True)

    page = text_of(response)
    assert "Cancelled" in page
    assert page.count("The import was cancelled; nothing was imported.") == 2  # the notice and the job's message
    assert 'hx-trigger="every 1s"' not in response.content.decode()
    assert run_import.call(str(job.public_id), TODAY.isoformat()) == {"status": "cancelled"}
    assert not Student.objects.filter(student_number__startswith="202411").exists()
    response = client.post(reverse("imports:cancel", args=[job.public_id]), follow=True)
    assert "This import has already finished." in text_of(response)


def test_the_worker_finishes_a_queued_import_and_the_page_shows_the_result(queued: Queued) -> None:
    client, job = queued

    run_import.call(str(job.public_id), TODAY.isoformat())

    partial = client.get(reverse("imports:job", args=[job.public_id]), headers={"HX-Request": "true"})
    page = text_of(partial)
    assert "Created 2 Updated 0 Unchanged 0 Left out 2" in page
    assert "hx-get" not in partial.content.decode()


def test_an_import_whose_worker_died_runs_again_from_the_start_on_another_worker(queued: Queued) -> None:
    _client, job = queued
    # The first worker marked the job running and was killed before its transaction committed.
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)

    result = run_import.call(str(job.public_id), TODAY.isoformat())

    assert result == {"status": "done", "created": 2, "updated": 0, "unchanged": 0, "invalid": 2}
    assert Student.objects.filter(student_number__startswith="202411").count() == 2
    assert run_import.call(str(job.public_id), TODAY.isoformat()) == {"status": "done"}  # delivered twice: no-op
    assert Student.objects.filter(student_number__startswith="202411").count() == 2


def test_a_running_import_shows_its_phase_and_share_done(as_user, world: World, ledger: Path) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.office)
    job = previewed(client, world, ledger, E="class_unit")
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    live.Live(job).tick("writing", 50, 100)
    try:
        response = client.get(reverse("imports:job", args=[job.public_id]), headers={"HX-Request": "true"})
        assert "Running Writing · 50 of 100" in text_of(response)
        assert 'value="70"' in response.content.decode()
        client.post(reverse("imports:cancel", args=[job.public_id]))
        assert live.Live(job).cancelled()  # the worker sees the request at its next report and rolls back
    finally:
        live.clear(job)


# --- someone else's job --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["leader", "outsider"])
def test_someone_elses_job_does_not_exist(client: Client, world: World, ledger: Path, who: str) -> None:
    login(client, world.office)
    job = previewed(client, world, ledger, E="class_unit")
    other: User = getattr(world, who)
    login(client, other)
    for name in ("job", "mapping", "preview", "errors"):
        assert client.get(reverse(f"imports:{name}", args=[job.public_id])).status_code == 404, name
    for name in ("commit", "cancel"):
        assert client.post(reverse(f"imports:{name}", args=[job.public_id]), {"mode": "all"}).status_code == 404
    assert str(job.public_id) not in client.get(reverse("imports:list")).content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.PREVIEWED
