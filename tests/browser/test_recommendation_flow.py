"""The loop that closes, on a phone: a helper recommends a suggested position to their student and records the
student's application, interview, offer and acceptance; the department's unplaced count drops by one."""

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine
from playwright.sync_api import expect

from bangfu.outcomes.models import Destination
from bangfu.students.services import join_ledger
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_helper_flow import log_in
from tests.conftest import TODAY
from tests.factories import make_employer, make_position, make_student, system_user

NOW = dt.datetime(TODAY.year, TODAY.month, TODAY.day, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


def unplaced_count(page, base_url: str, department) -> str:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/outcomes/unplaced/?year=2024&department={department.public_id}")
    return page.locator("[data-testid=unplaced-count]").inner_text().strip()


def test_helper_recommends_and_records_the_acceptance_on_a_phone(transactional_db, live_server, world, phone):  # type: ignore[no-untyped-def]
    # A second ledger graduate of the department, still unplaced: the count goes from 2 to 1, not to 0.
    other = make_student(world.class1, name="王欣怡")
    join_ledger(
        actor=system_user(),
        student=other,
        joined_on=dt.date(2021, 11, 1),
        reason="入学普查：低保家庭",
        categories=["subsistence_allowance"],
        today=TODAY,
    )
    employer = make_employer(world.school, "石家庄华信服饰有限公司", is_internship_base=True)
    position = make_position(employer, "服装设计助理", deadline=dt.date(2024, 4, 30), majors=[world.own.major])
    make_employer(world.school, "河北顺达物流有限公司", city="保定市")

    # The live server runs in a thread of this process, so the frozen clock is its clock too.
    with time_machine.travel(NOW, tick=True):
        log_in(phone, live_server.url, "leader")
        assert unplaced_count(phone, live_server.url, world.dept1) == "2"
        phone.context.clear_cookies()

        log_in(phone, live_server.url, "helper")
        phone.goto(f"{live_server.url}/jobs/{world.own.public_id}/")
        suggestion = phone.locator(f"[data-testid=suggestion][data-position='{position.public_id}']")
        expect(suggestion).to_contain_text("服装设计助理")
        suggestion.locator("[data-testid=recommend]").click()

        card = phone.locator("[data-testid=recommendation]")
        expect(card).to_have_count(1)
        expect(card).to_have_attribute("data-status", "recommended")
        assert phone.url.endswith(f"#rec-{world.own.recommendations.get().public_id}")
        for step in ("applied", "interviewed", "offer"):
            card.locator(f"button[data-step={step}]").click()
            expect(card).to_have_attribute("data-status", step)
        card.locator("select[name=destination_code]").select_option("10")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375 + 1
        phone.screenshot(path=SCREENSHOTS / "helper-jobs-offer.png", full_page=True)
        card.locator("button[data-step=accepted]").click()
        expect(card).to_have_attribute("data-status", "accepted")
        expect(card.locator("[data-testid=steps] li")).to_have_count(5)
        expect(card.locator("button[data-step]")).to_have_count(0)
        phone.context.clear_cookies()

        log_in(phone, live_server.url, "leader")
        assert unplaced_count(phone, live_server.url, world.dept1) == "1"
        expect(phone.locator("main")).to_contain_text("王欣怡")

    destination = Destination.objects.get(student=world.own)
    assert (destination.code.code, destination.employer, destination.position_title, destination.placed_since) == (
        "10",
        employer,
        "服装设计助理",
        TODAY,
    )
