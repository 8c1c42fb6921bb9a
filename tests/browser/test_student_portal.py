"""The student's own portal on a phone: the student logs in, declines one recommended position with a reason,
marks interest in another, applies for the job-search subsidy with evidence, and finds in "my data" the access-log
entry written when the employment office revealed their ID number (named by role and unit, not by name)."""

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine
from playwright.sync_api import expect

from bangfu.opportunities.models import Recommendation, RecommendationStatus
from bangfu.opportunities.services import recommend
from bangfu.students.services import reveal_id_number
from bangfu.subsidies import services as subsidies
from bangfu.subsidies.models import Application, ApplicationStatus
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_helper_flow import log_in
from tests.conftest import TODAY
from tests.factories import make_employer, make_position

NOW = dt.datetime(TODAY.year, TODAY.month, TODAY.day, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PHONE_WIDTH = 375


def fits(page) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH + 1


def test_a_student_answers_applies_and_sees_who_viewed_their_data_on_a_phone(  # type: ignore[no-untyped-def]
    transactional_db, live_server, world, phone, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    base = live_server.url
    employer = make_employer(world.school, "石家庄华信服饰有限公司", is_internship_base=True)
    designer = make_position(employer, "服装设计助理", deadline=dt.date(2024, 4, 30), majors=[world.own.major])
    clerk = make_position(make_employer(world.school, "河北顺达物流有限公司", city="保定市"), "仓储管理员")
    for position in (designer, clerk):
        recommend(actor=world.helper, student=world.own, position=position, today=dt.date(2024, 3, 11))
    subsidies.install_default_types(actor=world.office, school=world.school)

    # The live server runs in a thread of this process, so the frozen clock is its clock too.
    with time_machine.travel(NOW, tick=True):
        reveal_id_number(actor=world.office, student=world.own)

        log_in(phone, base, "student")
        expect(phone).to_have_url(f"{base}/me/")
        expect(phone.locator("[data-testid=helper-name]")).to_have_text("郑银乐")
        fits(phone)

        # Decline the clerk's position (too far from home), with the reason.
        phone.locator("#tab-recommendations").click()
        cards = phone.locator("[data-testid=recommendation]")
        expect(cards).to_have_count(2)
        declined = phone.locator(f"[data-testid=recommendation][data-position='{clerk.public_id}']")
        declined.locator("[data-testid=decline] summary").click()
        declined.locator("[data-testid=decline-form] select[name=reason]").select_option("location")
        declined.locator("[data-testid=decline-form] input[name=note]").fill("离家太远，需要照顾祖父母")
        fits(phone)
        declined.locator("button[data-answer=declined]").click()
        declined = phone.locator(f"[data-testid=recommendation][data-position='{clerk.public_id}']")
        expect(declined).to_have_attribute("data-status", "declined")

        # Interest in the designer's position.
        interesting = phone.locator(f"[data-testid=recommendation][data-position='{designer.public_id}']")
        interesting.locator("button[data-answer=interested]").click()
        interesting = phone.locator(f"[data-testid=recommendation][data-position='{designer.public_id}']")
        expect(interesting).to_have_attribute("data-status", "interested")
        expect(interesting.locator("button[data-answer=applied]")).to_be_visible()
        phone.screenshot(path=SCREENSHOTS / "student-portal-recommendations.png", full_page=True)

        # Apply for the job-search subsidy with the evidence.
        phone.locator("#tab-subsidies").click()
        phone.locator("[data-testid=subsidy-type][data-code=job_search] [data-testid=apply]").click()
        expect(phone.locator("input[name=amount]")).to_have_value("1500.00")
        phone.locator("textarea[name=reason]").fill("由祖父母抚养，求职需路费和置装费")
        phone.locator("input[name=evidence]").set_input_files(
            files=[{"name": "建档立卡证明.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        fits(phone)
        phone.locator("#apply-submit").click()
        expect(phone.locator("#application [data-status]")).to_have_attribute("data-status", "submitted")
        fits(phone)

        # Who viewed my sensitive data: the office's reveal, by role and unit.
        phone.locator("#tab-data").click()
        row = phone.locator("[data-testid=access-row][data-action=reveal_id]")
        expect(row).to_have_count(1)
        expect(row.locator("[data-testid=viewer]")).to_contain_text("河北科技工程职业技术大学")
        expect(phone.locator("#access-log")).not_to_contain_text("李主任")
        fits(phone)
        phone.screenshot(path=SCREENSHOTS / "student-portal-my-data.png", full_page=True)

    recs = {r.position_id: r for r in Recommendation.objects.filter(student=world.own)}
    assert (recs[clerk.pk].status, recs[clerk.pk].decline_reason) == (RecommendationStatus.DECLINED, "location")
    assert recs[designer.pk].status == RecommendationStatus.INTERESTED
    application = Application.objects.get()
    assert (application.student, application.applied_by, application.status) == (
        world.own,
        world.student_user,
        ApplicationStatus.SUBMITTED,
    )
    assert application.evidence.read() == PDF
