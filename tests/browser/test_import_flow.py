"""A spreadsheet import on a phone: the office uploads a ledger, maps the column the pipeline did not recognise,
sees the rows with problems, downloads the error report, and imports the valid rows."""

import datetime as dt
from zoneinfo import ZoneInfo

import openpyxl
import time_machine
from playwright.sync_api import expect

from bangfu.imports.models import ImportJob, JobStatus
from bangfu.students.models import Student
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_helper_flow import log_in
from tests.conftest import TODAY
from tests.factories import make_id_number
from tests.imports.sheets import xlsx

NOW = dt.datetime(TODAY.year, TODAY.month, TODAY.day, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
PHONE_WIDTH = 375
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def fits(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH + 1


def test_the_office_imports_the_valid_rows_of_a_messy_ledger(  # type: ignore[no-untyped-def]
    transactional_db, live_server, world, phone, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = xlsx(
        tmp_path / "新生台账.xlsx",
        [
            ["序号", "学号", "姓名", "性别", "所在班", "入学年份", "身份证号"],
            [1, "20241101", "白露", "女", "专业12101班", 2024, make_id_number(born=dt.date(2005, 6, 1), seq=331)],
            [2, "20241102", "黎明", "男", "专业12101班", 2024, "123"],
            [3, "20241103", "秋实", "男", "不存在班", 2024, ""],
            [4, "20241104", "冬青", "女", "专业22101班", 2024, ""],
        ],
        title="2024级新生家庭经济困难学生台账",
    )
    base = live_server.url

    with time_machine.travel(NOW, tick=True):
        log_in(phone, base, "office")
        phone.goto(f"{base}/imports/")
        phone.locator("#new-import").click()
        phone.locator("select[name=target]").select_option("students")
        phone.locator("input[name=file]").set_input_files(
            files=[{"name": "新生台账.xlsx", "mimeType": XLSX, "buffer": path.read_bytes()}]
        )
        fits(phone)
        phone.locator("#upload-submit").click()

        # The class column's header is one no synonym knows: the page names the missing field.
        expect(phone.locator("#missing-columns")).to_be_visible()
        expect(phone.locator("input[name=header_row]")).to_have_value("2")
        expect(phone.locator("[data-column=B] select")).to_have_value("student_number")
        fits(phone)
        phone.locator("[data-column=E] select").select_option("class_unit")
        phone.screenshot(path=str(SCREENSHOTS / "import-columns.png"), full_page=True)
        phone.locator("#mapping-submit").click()

        expect(phone.locator("[data-count=total]")).to_have_text("4")
        expect(phone.locator("[data-count=valid]")).to_have_text("2")
        expect(phone.locator("[data-count=invalid]")).to_have_text("2")
        expect(phone.locator("#problems tbody tr")).to_have_count(2)
        expect(phone.locator("#problems tr[data-row='4']")).to_contain_text("身份证号")
        expect(phone.locator("#problems tr[data-row='5']")).to_contain_text("所在班")
        fits(phone)
        phone.screenshot(path=str(SCREENSHOTS / "import-preview.png"), full_page=True)

        with phone.expect_download() as download_info:
            phone.locator("#error-report").click()
        report = tmp_path / "problems.xlsx"
        download_info.value.save_as(report)
        rows = list(openpyxl.load_workbook(report, read_only=True).active.iter_rows(values_only=True))
        assert [r[1:3] for r in rows] == [("序号", "学号"), (2, "20241102"), (3, "20241103")]
        assert [r[0] for r in rows[1:]] == [4, 5]  # the rows as the sheet numbers them
        assert (rows[1][7], rows[2][5]) == ("123", "不存在班")  # the cells as written, and what is wrong
        assert rows[1][8].startswith("身份证号: ") and rows[2][8].startswith("所在班: ")

        # All or nothing is refused while rows have problems; the valid rows go in with the box ticked.
        phone.locator("#import-all").click()
        expect(phone.locator("#commit-errors")).to_be_visible()
        assert not Student.objects.filter(student_number__startswith="202411").exists()
        phone.locator("#import-valid-form input[name=confirm_skip]").check()
        phone.locator("#import-valid").click()

        expect(phone.locator("[data-status]").first).to_have_attribute("data-status", "done")
        expect(phone.locator("[data-count=created]")).to_have_text("2")
        expect(phone.locator("[data-count=left-out]")).to_have_text("2")
        fits(phone)

    names = Student.objects.filter(student_number__startswith="202411").values_list("name", flat=True)
    assert sorted(names) == ["冬青", "白露"]
    assert ImportJob.objects.get().status == JobStatus.DONE
