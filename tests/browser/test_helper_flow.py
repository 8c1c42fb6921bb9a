"""A counsellor on a phone between classes: log in, find a student, open the page, switch language."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.factories import PASSWORD


def log_in(page, base_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()


def test_helper_finds_a_student_and_switches_language_on_a_phone(transactional_db, live_server, world, phone):
    log_in(phone, live_server.url, "helper")
    expect(phone.locator("html")).to_have_attribute("lang", "zh-CN")

    phone.goto(f"{live_server.url}/students/")
    phone.fill("input[name=q]", "田斌")
    phone.keyboard.press("Enter")
    # The search's own page, not the list it replaces (which may show the same one student): a click on the old
    # page while the new one loads would be lost.
    expect(phone).to_have_url(re.compile(r"[?&]q=%E7%94%B0%E6%96%8C"))
    phone.wait_for_load_state()
    rows = phone.locator("main table tbody tr")
    expect(rows).to_have_count(1)
    phone.get_by_role("link", name="田斌臣").first.click()

    expect(phone).to_have_url(re.compile(rf"/students/{world.own.public_id}/$"))
    expect(phone.locator("main")).to_contain_text(world.own.student_number)
    expect(phone.locator("main")).to_contain_text("130182********")
    # The page fits a phone: nothing wider than the viewport.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375 + 1

    phone.select_option("#language-select", "en")
    phone.locator("#language-form button[type=submit]").click()
    phone.wait_for_load_state()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator("main")).to_contain_text("Student number")
    phone.screenshot(path=SCREENSHOTS / "helper-student-page-en.png", full_page=True)
