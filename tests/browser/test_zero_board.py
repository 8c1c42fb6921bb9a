"""Issue 7's browser test, on a phone: the department leader opens the "clearing to zero" board (动态清零), follows
the count of unplaced graduates to the student list, and exports that list; the spreadsheet holds those students."""

from __future__ import annotations

import openpyxl
import time_machine
from playwright.sync_api import expect

from bangfu.audit.models import AccessAction, AccessLog
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_helper_flow import log_in
from tests.reports.test_dashboards import NOW, make_scene

PHONE_WIDTH = 375


def fits(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH + 1


def test_the_department_leader_clears_to_zero_on_a_phone(  # type: ignore[no-untyped-def]
    transactional_db, live_server, world, phone, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    scene = make_scene(world)
    base = live_server.url
    # The live server runs in a thread of this process, so the frozen clock is its clock too.
    with time_machine.travel(NOW, tick=True):
        log_in(phone, base, "leader")
        phone.locator("#nav-dashboard").dispatch_event("click")  # the menu is folded on a phone
        expect(phone.locator("#unplaced-count")).to_have_text("2")
        expect(phone.locator("#zero-list > li")).to_have_count(2)
        expect(phone.locator(f'#zero-list [data-student="{scene.li.public_id}"]')).to_contain_text("赵辅导员")
        # ECharts drew the charts from their data blocks (no inline script), each with a canvas.
        expect(phone.locator(".bf-chart[data-drawn] canvas").first).to_be_visible()
        expect(phone.locator(".bf-chart[data-drawn]")).to_have_count(phone.locator(".bf-chart").count())
        # …and each can be saved as a PNG from its toolbox.
        saveable = phone.evaluate(
            "Array.from(document.querySelectorAll('.bf-chart[data-drawn]'))"
            ".map(el => Boolean(echarts.getInstanceByDom(el).getOption().toolbox[0].feature.saveAsImage))"
        )
        assert len(saveable) == 3 and all(saveable)
        fits(phone)
        phone.screenshot(path=SCREENSHOTS / "leader-zero-board.png", full_page=True)

        # The figure opens the student list that produces it.
        phone.locator("#unplaced-count a").click()
        phone.wait_for_load_state()
        expect(phone.locator("#student-table tbody tr")).to_have_count(2)
        expect(phone.locator("#student-table")).to_contain_text("李强")
        expect(phone.locator("#student-table")).to_contain_text("周杰")
        fits(phone)
        phone.screenshot(path=SCREENSHOTS / "leader-zero-board-list.png", full_page=True)

        # …and exports it.
        with phone.expect_download() as download_info:
            phone.locator("[data-export=ledger]").click()
        path = tmp_path / "unplaced.xlsx"
        download_info.value.save_as(path)

    cells = [c for row in openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True) for c in row]
    assert scene.li.student_number in cells and scene.zhou.student_number in cells
    assert world.own.student_number not in cells and scene.wang.student_number not in cells
    assert AccessLog.objects.filter(actor=world.leader, action=AccessAction.EXPORT).count() == 1
