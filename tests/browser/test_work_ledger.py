"""A helper on a phone logs a talk from "my students" and sees the card's meter move, without a page reload."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import time_machine
from playwright.sync_api import expect

from bangfu.assistance.models import Activity, ActivityKind
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_helper_flow import log_in
from tests.conftest import TODAY

# The world's day: `own` (cohort 2021, three-year programme) is in the job-search stage, 0/3 talks so far.
NOW = dt.datetime(TODAY.year, TODAY.month, TODAY.day, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_helper_logs_a_talk_from_my_students_on_a_phone(transactional_db, live_server, world, phone):  # type: ignore[no-untyped-def]
    # The live server runs in a thread of this process, so the frozen clock is its clock too. (The browser keeps
    # the real clock; Django's cookies carry Max-Age, which browsers prefer to the past Expires date.)
    with time_machine.travel(NOW, tick=True):
        log_in(phone, live_server.url, "helper")
        phone.goto(f"{live_server.url}/help/mine/")
        card = phone.locator(f"#card-{world.own.public_id}")
        talks = card.locator("[data-metric=talk]")
        expect(talks).to_contain_text("0/3")

        card.locator("label[for^=id_kind_]", has_text=re.compile("Talk|谈")).click()
        expect(card.locator("input[name=occurred_on]")).to_have_value("2024-03-15")
        card.locator("input[name=notes]").fill("谈求职意向：想回辛集工作")
        card.locator("button[type=submit]").click()

        # htmx swapped the card in place: the meter moved and the page did not reload.
        card = phone.locator(f"#card-{world.own.public_id}")
        expect(card.locator("[data-metric=talk]")).to_contain_text("1/3")
        expect(card.locator("[role=status]")).to_contain_text("2024-03-15")
        assert phone.url.endswith("/help/mine/")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375 + 1
        phone.screenshot(path=SCREENSHOTS / "helper-my-students-quick-log.png", full_page=True)

    talk = Activity.objects.get()
    assert (talk.kind, talk.occurred_on, talk.notes, talk.helper) == (
        ActivityKind.TALK,
        dt.date(2024, 3, 15),
        "谈求职意向：想回辛集工作",
        world.helper,
    )
