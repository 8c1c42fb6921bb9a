"""A job-search subsidy from application to payment list, on a phone: the helper applies with evidence, the
department leader approves, the office approves, runs the public notice, approves after it, makes a payment
batch and downloads the payment list, which holds the student."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import time_machine
from playwright.sync_api import expect

from bangfu.subsidies import services
from bangfu.subsidies.models import Application, ApplicationStatus, PaymentBatch, SubsidyType
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_helper_flow import log_in
from tests.conftest import TODAY

SHANGHAI = ZoneInfo("Asia/Shanghai")
# `own` (cohort 2021, three-year programme) is in the job-search stage on the world's day, a Friday.
NOW = dt.datetime(TODAY.year, TODAY.month, TODAY.day, 10, tzinfo=SHANGHAI)
# Five working days of notice from Friday 15 March end on Thursday 21 March; the final approval is on the 22nd.
AFTER_NOTICE = dt.datetime(2024, 3, 22, 10, tzinfo=SHANGHAI)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PHONE_WIDTH = 375


def fits(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH + 1


def switch_user(page, base_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    log_in(page, base_url, username)


def test_a_job_search_subsidy_from_application_to_payment_list(  # type: ignore[no-untyped-def]
    transactional_db, live_server, world, phone, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    base = live_server.url
    services.install_default_types(actor=world.office, school=world.school)
    job_search = SubsidyType.objects.get(school=world.school, code="job_search")
    services.set_budget(actor=world.office, subsidy_type=job_search, year=2024, amount=Decimal(30000))

    # The live server runs in a thread of this process, so the frozen clock is its clock too.
    with time_machine.travel(NOW, tick=True) as clock:
        # The helper applies for their student, with the evidence, from the student's page.
        log_in(phone, base, "helper")
        phone.goto(f"{base}/students/{world.own.public_id}/")
        phone.locator("#apply-link").click()
        phone.locator("#eligible-types a[data-code=job_search]").click()
        expect(phone.locator("input[name=amount]")).to_have_value("1500.00")
        phone.locator("textarea[name=reason]").fill("由祖父母抚养，求职需路费和置装费")
        phone.locator("input[name=evidence]").set_input_files(
            files=[{"name": "建档立卡证明.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        fits(phone)
        phone.locator("#apply-submit").click()
        expect(phone.locator("main [data-status]").first).to_have_attribute("data-status", "submitted")
        application = Application.objects.get()
        assert application.evidence.read() == PDF
        fits(phone)

        # The department leader finds it among what waits for them and approves.
        switch_user(phone, base, "leader")
        phone.goto(f"{base}/subsidies/?waiting=on")
        expect(phone.locator("#waiting-count")).to_have_text("1")
        fits(phone)
        phone.locator(f"#application-{application.public_id} a").first.click()
        phone.locator("#form-approve_department textarea[name=comment]").fill("情况属实，同意")
        phone.locator("#form-approve_department button[type=submit]").click()
        expect(phone.locator("main [data-status]").first).to_have_attribute("data-status", "department_approved")

        # The office approves for the school and puts it on public notice from today.
        switch_user(phone, base, "office")
        phone.goto(f"{base}/subsidies/{application.public_id}/")
        phone.locator("#form-approve_school button[type=submit]").click()
        expect(phone.locator("main [data-status]").first).to_have_attribute("data-status", "school_approved")
        expect(phone.locator("#id_notice_starts_on")).to_have_value("2024-03-15")
        phone.locator("#form-notice button[type=submit]").click()
        expect(phone.locator("main [data-status]").first).to_have_attribute("data-status", "on_notice")
        expect(phone.locator("#notice-dates")).to_contain_text("2024-03-21")
        expect(phone.locator("#form-approve_final")).to_have_count(0)  # not before the notice ends
        fits(phone)
        phone.screenshot(path=SCREENSHOTS / "office-subsidy-on-notice.png", full_page=True)

        # A week later the notice is over: the final approval, a payment batch and its payment list.
        clock.move_to(AFTER_NOTICE)
        switch_user(phone, base, "office")
        phone.goto(f"{base}/subsidies/{application.public_id}/")
        phone.locator("#form-approve_final button[type=submit]").click()
        expect(phone.locator("main [data-status]").first).to_have_attribute("data-status", "approved")

        phone.goto(f"{base}/subsidies/batches/")
        phone.locator("#new-batch").click()
        expect(phone.locator(f"#pay-{application.public_id}")).to_be_checked()
        phone.locator("input[name=name]").fill("2024年3月求职创业补贴")
        phone.locator("#batch-form button[type=submit]").click()
        expect(phone.locator("#batch-total")).to_have_text("¥1500.00")
        fits(phone)
        phone.screenshot(path=SCREENSHOTS / "office-payment-batch.png", full_page=True)
        with phone.expect_download() as download_info:
            phone.locator("#export-link").click()
        download = download_info.value
        path = tmp_path / "payment-list.xlsx"
        download.save_as(path)

    rows = [tuple(r) for r in openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True)]
    assert (world.own.student_number, "田斌臣", 1500) in [(r[1], r[2], r[6]) for r in rows]
    assert PaymentBatch.objects.get().applications.get() == application
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert [s.to_status for s in application.steps.order_by("pk")] == [
        "draft",
        "submitted",
        "department_approved",
        "school_approved",
        "on_notice",
        "approved",
    ]
