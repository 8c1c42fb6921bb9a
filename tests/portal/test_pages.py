"""The student portal's pages: the home (helper, plan, what was done, events), answering recommendations,
subsidies, the destination, my data with consents and the access log.

World: `own` (田斌臣, cohort 2021, in the job-search stage on 2024-03-15) logs in as `student_user`, is in the
ledger and helped by `helper` (郑银乐). Every page is about the student linked to the login: staff get 404, an id
of another student's record gets 404, and helper notes marked internal never show.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from bangfu.assistance.models import ActivityKind
from bangfu.assistance.services import record_activity, save_plan
from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.opportunities.models import Recommendation, RecommendationStatus
from bangfu.opportunities.services import change_recommendation, recommend, save_event
from bangfu.outcomes.models import Confirmation, Destination
from bangfu.outcomes.services import record_destination
from bangfu.showcase import services as showcase
from bangfu.showcase.models import Consent
from bangfu.students.services import join_ledger, reveal_id_number
from bangfu.subsidies import services as subsidies
from bangfu.subsidies.models import Application, ApplicationStatus, SubsidyType
from tests.assistance.work_helpers import frozen, texts
from tests.conftest import TODAY, World
from tests.factories import make_employer, make_position, system_user

pytestmark = pytest.mark.usefixtures(frozen.__name__)

D = dt.date
S = RecommendationStatus
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PSYCH_NOTE = "学生情绪低落，与继母关系紧张，已转介心理中心。"
TALK_NOTE = "谈求职意向：想回辛集照顾祖父母。"
PAGES = ("home", "recommendations", "resume", "subsidies", "destination", "data")


@pytest.fixture
def portal(world: World, settings, tmp_path) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    world.helper.phone, world.helper.email = "13803110001", "zhengyinle@hbkj.edu.cn"
    world.helper.save()
    employer = make_employer(world.school, "石家庄华信服饰有限公司", is_internship_base=True)
    designer = make_position(employer, "服装设计助理", deadline=D(2024, 4, 25), majors=[world.own.major])
    clerk = make_position(make_employer(world.school, "河北顺达物流有限公司", city="保定市"), "仓储管理员")
    theirs = make_position(employer, "质检员")
    save_plan(
        actor=world.helper,
        student=world.own,
        expected_version=None,
        today=TODAY,
        direction="job",
        places="石家庄、辛集",
        near_home=True,
        salary_expectation=4500,
        needs="家庭负担重，需要尽快就业",
    )
    record_activity(
        actor=world.helper, student=world.own, kind=ActivityKind.TALK, occurred_on=D(2024, 3, 4), today=TODAY,
        notes=TALK_NOTE,
    )  # fmt: skip
    record_activity(
        actor=world.helper,
        student=world.own,
        kind=ActivityKind.PSYCHOLOGICAL_GUIDANCE,
        occurred_on=D(2024, 3, 6),
        today=TODAY,
        notes=PSYCH_NOTE,
    )
    save_event(
        actor=world.office, school=world.school, title="2024届春季双选会", held_on=D(2024, 3, 22), place="体育馆"
    )
    save_event(actor=world.office, school=world.school, title="寒假前招聘会", held_on=D(2024, 1, 5))
    save_event(actor=world.outsider, school=world.other_school, title="保定专场招聘会", held_on=D(2024, 3, 25))
    return SimpleNamespace(
        designer=recommend(actor=world.helper, student=world.own, position=designer, today=D(2024, 3, 10)),
        clerk=recommend(actor=world.helper, student=world.own, position=clerk, today=D(2024, 3, 11)),
        theirs=recommend(actor=world.leader, student=world.classmate, position=theirs, today=D(2024, 3, 11)),
    )


@pytest.fixture
def me(world: World, as_user) -> Client:  # type: ignore[no-untyped-def]
    return as_user(world.student_user)


def url(name: str, *args: object) -> str:
    return reverse(f"portal:{name}", args=[getattr(a, "public_id", a) for a in args])


def html(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- Who sees the portal -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["helper", "office", "counsellor", "outsider"])
def test_every_portal_page_is_the_students_own_and_does_not_exist_for_staff(
    world: World, portal: SimpleNamespace, as_user, persona: str
) -> None:
    client = as_user(getattr(world, persona))

    answers = {name: client.get(url(name)).status_code for name in PAGES}

    assert answers == dict.fromkeys(PAGES, 404)


def test_anonymous_is_sent_to_the_login_page(client: Client) -> None:
    response = client.get(url("home"))

    assert (response.status_code, response["Location"]) == (302, f"/accounts/login/?next={url('home')}")


def test_my_record_and_the_home_page_lead_a_student_to_the_portal(world: World, me: Client) -> None:
    assert me.get(reverse("students:me"))["Location"] == url("home")
    assert me.get(reverse("home")).status_code == 302
    assert me.get(reverse("home"), follow=True).redirect_chain[-1][0] == url("home")


# --- Home --------------------------------------------------------------------------------------------------------


def test_the_home_shows_my_helper_my_plan_what_was_done_and_upcoming_events(
    world: World, portal: SimpleNamespace, me: Client
) -> None:
    page = html(me.get(url("home")))

    assert 'data-testid="helper-name">郑银乐<' in page
    assert 'href="tel:13803110001"' in page and "zhengyinle@hbkj.edu.cn" in page
    assert 'data-testid="direction">Job<' in page and "石家庄、辛集" in page and "4500 yuan a month" in page
    # Counts against the job-search standards (three of each); the two recommendations are not effective yet.
    assert 'data-metric="talk" data-done="1" data-required="3"' in page
    assert 'data-metric="effective_recommendation" data-done="0" data-required="3"' in page
    assert 'data-step="answer"' in page and "Answer your open recommendations (2)." in page
    assert "2024届春季双选会" in page and "2024-03-22" in page
    assert "寒假前招聘会" not in page  # past
    assert "保定专场招聘会" not in page  # another school's


def test_the_home_never_shows_notes_of_the_work_ledger(world: World, portal: SimpleNamespace, me: Client) -> None:
    pages = "".join(html(me.get(url(name))) for name in PAGES)

    assert PSYCH_NOTE not in pages
    assert TALK_NOTE not in pages  # counts only, never notes
    assert "家庭负担重" not in pages  # the plan's needs are the helper's notes
    assert "At risk" not in pages


def test_home_with_no_helper_no_plan_and_no_progress(world: World, me: Client) -> None:
    world.own.helper_assignments.all().delete()
    world.own.ledger_entries.all().delete()
    world.own.progress.delete()

    page = html(me.get(url("home")))

    assert "No helper assigned yet." in page
    assert "Your helper has not written your plan yet." in page
    assert "You are not in the support programme at present." in page
    assert 'id="next-steps"' not in page


# --- Recommendations ---------------------------------------------------------------------------------------------


def test_my_recommendations_show_why_they_were_suggested_and_only_mine(
    world: World, portal: SimpleNamespace, me: Client
) -> None:
    page = html(me.get(url("recommendations")))

    assert page.count('data-testid="recommendation"') == 2
    assert "服装设计助理" in page and "仓储管理员" in page
    assert "质检员" not in page  # the classmate's
    assert "Wants your major" in page
    assert f'action="{url("answer", portal.designer)}"' in page
    buttons = [f'data-answer="{s}"' for s in ("interested", "applied", "declined")]
    assert all(b in page for b in buttons)
    assert 'data-answer="rejected"' not in page and 'data-answer="expired"' not in page


def test_i_mark_interest_and_the_step_is_mine(world: World, portal: SimpleNamespace, me: Client) -> None:
    response = me.post(url("answer", portal.designer), {"to_status": "interested", "version": 1, "note": "想了解薪资"})

    assert response["Location"] == f"{url('recommendations')}#rec-{portal.designer.public_id}"
    rec = Recommendation.objects.get(pk=portal.designer.pk)
    step = rec.steps.order_by("-id").first()
    assert (rec.status, rec.version) == (S.INTERESTED, 2)
    assert (step.from_status, step.to_status, step.on, step.by, step.note) == (
        S.RECOMMENDED,
        S.INTERESTED,
        TODAY,
        world.student_user,
        "想了解薪资",
    )
    assert texts(response) == ["“服装设计助理”: Student interested."]


def test_applying_makes_the_recommendation_effective_for_my_helper(
    world: World, portal: SimpleNamespace, me: Client
) -> None:
    me.post(url("answer", portal.designer), {"to_status": "applied", "version": 1})

    page = html(me.get(url("home")))
    assert 'data-metric="effective_recommendation" data-done="1" data-required="3"' in page
    assert Recommendation.objects.get(pk=portal.designer.pk).activity.effective is True


def test_i_decline_with_a_reason(world: World, portal: SimpleNamespace, me: Client) -> None:
    response = me.post(
        url("answer", portal.clerk), {"to_status": "declined", "reason": "other", "note": "要照顾祖父母", "version": 1}
    )

    assert response.status_code == 302
    rec = Recommendation.objects.get(pk=portal.clerk.pk)
    assert (rec.status, rec.decline_reason) == (S.DECLINED, "other")
    assert rec.steps.order_by("-id").first().note == "要照顾祖父母"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"to_status": "declined", "reason": ""}, "Choose why you decline."),
        ({"to_status": "declined", "reason": "other", "note": " "}, "Explain your reason in the note."),
        ({"to_status": "rejected"}, "Select a valid choice. rejected is not one of the available choices."),
        ({"to_status": "offer"}, "A recommendation that is “Recommended” cannot become “Offer received”."),
        ({"to_status": "applied", "version": 7}, "Someone else saved this record after you opened it."),
    ],
)
def test_a_refused_answer_is_shown_and_nothing_is_written(
    world: World,
    portal: SimpleNamespace,
    me: Client,
    data: dict,
    message: str,  # type: ignore[type-arg]
) -> None:
    response = me.post(url("answer", portal.designer), {"version": 1, **data})

    assert message in html(response)
    rec = Recommendation.objects.get(pk=portal.designer.pk)
    assert (rec.status, rec.version, rec.decline_reason, rec.steps.count()) == (S.RECOMMENDED, 1, "", 1)


def test_another_students_recommendation_does_not_exist_for_me(
    world: World, portal: SimpleNamespace, me: Client
) -> None:
    response = me.post(url("answer", portal.theirs), {"to_status": "applied", "version": 1})

    assert response.status_code == 404
    assert Recommendation.objects.get(pk=portal.theirs.pk).status == S.RECOMMENDED


def test_the_recommendations_page_reads_a_bounded_number_of_queries(
    world: World, portal: SimpleNamespace, me: Client, django_assert_max_num_queries
) -> None:
    for i in range(6):
        position = make_position(make_employer(world.school, f"石家庄第{i}服装厂"), f"缝纫工{i}")
        rec = recommend(actor=world.helper, student=world.own, position=position, today=D(2024, 3, 12))
        change_recommendation(actor=world.helper, recommendation=rec, to_status=S.APPLIED, on=TODAY, today=TODAY)

    with django_assert_max_num_queries(12):
        page = html(me.get(url("recommendations")))
    assert page.count('data-testid="recommendation"') == 8


# --- Subsidies ---------------------------------------------------------------------------------------------------


@pytest.fixture
def types(world: World) -> dict[str, SubsidyType]:
    subsidies.install_default_types(actor=world.office, school=world.school)
    subsidies.save_subsidy_type(
        actor=world.office,
        school=world.school,
        code="disability_aid",
        name="残疾学生专项补助",
        name_en="Aid for students with a disability",
        categories=["disabled"],
        stages=[],
        amount_kind="fixed",
        amount=Decimal(1000),
        public_notice_days=0,
    )
    return {t.code: t for t in SubsidyType.objects.filter(school=world.school)}


def _apply(me: Client, subsidy_type: SubsidyType, then: str = "submit", **extra: object):  # type: ignore[no-untyped-def]
    evidence = SimpleUploadedFile("建档立卡证明.pdf", PDF, content_type="application/pdf")
    data = {"amount": "1500.00", "reason": "由祖父母抚养，求职需路费和置装费", "evidence": evidence, "then": then}
    return me.post(url("apply", subsidy_type), {**data, **extra})


def test_the_subsidies_page_shows_each_type_with_eligibility_or_the_reasons(
    world: World, types: dict[str, SubsidyType], me: Client
) -> None:
    page = html(me.get(url("subsidies")))

    assert 'data-code="job_search" data-eligible="yes"' in page
    assert 'data-code="disability_aid" data-eligible="no"' in page
    assert "It is for students in one of these categories: Student with a disability." in page
    assert f'href="{url("apply", types["job_search"])}"' in page
    assert url("apply", types["disability_aid"]) not in page


def test_i_apply_for_the_job_search_subsidy_with_evidence(
    world: World, types: dict[str, SubsidyType], me: Client
) -> None:
    response = _apply(me, types["job_search"])

    application = Application.objects.get()
    assert response["Location"] == url("application", application)
    assert (application.student, application.status, application.amount, application.applied_by) == (
        world.own,
        ApplicationStatus.SUBMITTED,
        Decimal("1500.00"),
        world.student_user,
    )
    assert application.evidence.read() == PDF
    assert texts(response) == ["Your application was submitted."]


def test_applying_twice_is_refused_and_nothing_is_written(
    world: World, types: dict[str, SubsidyType], me: Client
) -> None:
    _apply(me, types["job_search"])

    again = _apply(me, types["job_search"])

    assert "It is granted once per person, and the student has already applied." in html(again)
    assert Application.objects.count() == 1


def test_a_submission_refused_for_missing_evidence_leaves_no_draft(
    world: World, types: dict[str, SubsidyType], me: Client
) -> None:
    response = me.post(url("apply", types["job_search"]), {"amount": "1500.00", "reason": "求职路费", "then": "submit"})

    assert "Attach the evidence: 低保证、残疾证、助学贷款合同等类别证明 / Proof of the category." in html(response)
    assert not Application.objects.exists()


def test_i_follow_my_application_through_approval(world: World, types: dict[str, SubsidyType], me: Client) -> None:
    _apply(me, types["job_search"])
    application = Application.objects.get()
    subsidies.approve_by_department(actor=world.leader, application=application, today=TODAY, comment="情况属实，同意")

    page = html(me.get(url("application", application)))

    assert 'data-status="department_approved"' in page
    assert "情况属实，同意" in page
    assert [s in page for s in ('data-to="draft"', 'data-to="submitted"', 'data-to="department_approved"')] == [
        True
    ] * 3
    assert 'id="withdraw-form"' in page and 'id="submit-form"' not in page


def test_i_save_a_draft_then_withdraw_it(world: World, types: dict[str, SubsidyType], me: Client) -> None:
    _apply(me, types["job_search"], then="draft")
    application = Application.objects.get()
    assert application.status == ApplicationStatus.DRAFT

    response = me.post(url("withdraw", application), {"version": application.version, "comment": "已签约，不再申请"})

    application.refresh_from_db()
    assert response["Location"] == url("application", application)
    assert application.status == ApplicationStatus.WITHDRAWN
    assert application.steps.order_by("-id").first().comment == "已签约，不再申请"
    # Withdrawn, it no longer counts as "applied once".
    assert 'data-code="job_search" data-eligible="yes"' in html(me.get(url("subsidies")))


def test_a_returned_application_is_revised_and_submitted_again(
    world: World, types: dict[str, SubsidyType], me: Client
) -> None:
    _apply(me, types["job_search"])
    application = Application.objects.get()
    subsidies.return_for_revision(actor=world.leader, application=application, today=TODAY, comment="请补充低保证")
    application.refresh_from_db()

    response = me.post(
        url("submit", application), {"version": application.version, "reason": "补充了低保证复印件，请审核"}
    )

    application.refresh_from_db()
    assert response.status_code == 302
    assert (application.status, application.reason) == (ApplicationStatus.SUBMITTED, "补充了低保证复印件，请审核")


def test_another_students_application_does_not_exist_for_me(
    world: World, types: dict[str, SubsidyType], me: Client
) -> None:
    join_ledger(
        actor=system_user(),
        student=world.classmate,
        joined_on=D(2021, 11, 1),
        reason="入学普查：低保家庭",
        categories=["subsistence_allowance"],
        today=TODAY,
    )
    theirs = subsidies.create_application(
        actor=world.leader, student=world.classmate, subsidy_type=types["travel"], amount="300", reason="赴岗路费",
        today=TODAY,
    )  # fmt: skip

    answers = [
        me.get(url("application", theirs)).status_code,
        me.post(url("withdraw", theirs), {"version": theirs.version}).status_code,
        me.post(url("submit", theirs), {"version": theirs.version, "reason": "改"}).status_code,
    ]

    assert answers == [404, 404, 404]
    assert Application.objects.get().status == ApplicationStatus.DRAFT


def test_the_subsidies_page_reads_a_bounded_number_of_queries(
    world: World, types: dict[str, SubsidyType], me: Client, django_assert_max_num_queries
) -> None:
    _apply(me, types["job_search"])
    _apply(me, types["national_grant"], amount="3300.00")

    with django_assert_max_num_queries(45):  # eligibility is read per type: six types here
        page = html(me.get(url("subsidies")))
    assert page.count('data-testid="application"') == 2


# --- Destination -------------------------------------------------------------------------------------------------


def _destination(world: World) -> Destination:
    return record_destination(
        actor=world.helper,
        student=world.own,
        code="11",
        today=TODAY,
        employer_name="石家庄华信服饰有限公司",
        position_title="服装设计助理",
        work_province="河北省",
        work_city="石家庄市",
        salary=4200,
    )


def test_without_a_destination_the_page_says_so(world: World, me: Client) -> None:
    page = html(me.get(url("destination")))

    assert 'id="no-destination"' in page and 'id="confirm-form"' not in page


def test_i_confirm_my_recorded_destination(world: World, me: Client) -> None:
    destination = _destination(world)
    page = html(me.get(url("destination")))
    assert "服装设计助理" in page and "4200 yuan a month" in page and 'data-confirmation="pending"' in page

    response = me.post(url("destination"), {"answer": "confirm", "note": ""})

    destination.refresh_from_db()
    assert response["Location"] == url("destination")
    assert (destination.confirmation, destination.confirmed_on) == (Confirmation.CONFIRMED, TODAY)


def test_a_dispute_needs_to_say_what_is_wrong(world: World, me: Client) -> None:
    destination = _destination(world)

    refused = me.post(url("destination"), {"answer": "dispute", "note": ""})
    destination.refresh_from_db()
    assert "Say what is wrong with the recorded destination." in html(refused)
    assert destination.confirmation == Confirmation.PENDING

    me.post(url("destination"), {"answer": "dispute", "note": "月薪是3800元，不是4200元"})
    destination.refresh_from_db()
    assert (destination.confirmation, destination.confirmation_note) == (
        Confirmation.DISPUTED,
        "月薪是3800元，不是4200元",
    )


# --- My data and consent -----------------------------------------------------------------------------------------


def test_my_data_shows_my_categories_and_family_situation_as_recorded(world: World, me: Client) -> None:
    page = html(me.get(url("data")))

    assert "Household lifted out of poverty (formerly registered poor)" in page and ">Orphan<" in page
    assert "Special hardship" in page
    assert "父亲车祸去世，母亲改嫁，由七十多岁务农的祖父母抚养。" in page
    assert world.own.id_number_masked in page


def test_reading_my_own_data_is_not_in_the_access_log(world: World, me: Client) -> None:
    me.get(url("data"))

    assert not world.own.access_logs.exists()


def test_the_access_log_names_the_viewers_role_and_unit_never_the_person(world: World, me: Client) -> None:
    reveal_id_number(actor=world.office, student=world.own)
    log_access(actor=world.helper, action=AccessAction.DOWNLOAD_EVIDENCE, student=world.own, fields="talk")
    log_access(actor=world.leader, action=AccessAction.VIEW_SENSITIVE, student=world.own, fields="family_situation")
    log_access(actor=world.student_user, action=AccessAction.DOWNLOAD_EVIDENCE, student=world.own)  # my own
    log_access(actor=world.office, action=AccessAction.REVEAL_ID, student=world.classmate, fields="id_number")

    page = html(me.get(url("data")))

    rows = re.findall(
        r'data-action="(\w+)">\s*<div class="small"><span class="fw-semibold">([^<]+)</span>([^<]*)</div>.*?'
        r'data-testid="viewer">([^<]+)<',
        page,
        re.S,
    )
    assert [(a, label, what.strip(" ·"), viewer) for a, label, what, viewer in rows] == [
        ("view_sensitive", "Viewed sensitive data", "family situation", "Department leader · 服装工程系"),
        ("download_evidence", "Downloaded evidence", "", "Your helper · 服装工程系"),
        ("reveal_id", "Revealed ID number", "ID number", "Employment office · HEBUST"),  # the school's English name
    ]
    for name in ("李主任", "郑书记", "郑银乐"):
        assert name not in page


def test_i_withdraw_my_consent_and_my_story_leaves_the_public_page(world: World, me: Client) -> None:
    consent = showcase.record_consent(
        actor=world.helper, student=world.own, given_on=D(2024, 3, 1), name_shown="surname", today=TODAY,
        show_story=True,
    )  # fmt: skip
    assert 'id="withdraw-consent-form"' in html(me.get(url("data")))

    response = me.post(url("withdraw_consent", consent), {"version": consent.version, "note": "不想公开"})

    consent.refresh_from_db()
    assert response["Location"] == f"{url('data')}#consents"
    assert (consent.withdrawn_on, consent.withdrawn_by, consent.withdrawal_note) == (
        TODAY,
        world.student_user,
        "不想公开",
    )
    assert texts(response) == ["Your consent was withdrawn."]


def test_another_students_consent_cannot_be_withdrawn_by_me(world: World, me: Client) -> None:
    theirs = showcase.record_consent(
        actor=world.leader, student=world.classmate, given_on=D(2024, 3, 1), name_shown="full", today=TODAY
    )

    response = me.post(url("withdraw_consent", theirs), {"version": theirs.version})

    assert response.status_code == 404
    assert Consent.objects.get(pk=theirs.pk).withdrawn_on is None


def test_the_data_page_reads_a_bounded_number_of_queries(
    world: World, me: Client, django_assert_max_num_queries
) -> None:
    for actor in (world.office, world.leader, world.principal, world.counsellor, world.helper):
        for _ in range(3):
            log_access(actor=actor, action=AccessAction.VIEW_SENSITIVE, student=world.own, fields="family_situation")

    with django_assert_max_num_queries(14):
        page = html(me.get(url("data")))
    assert page.count('data-testid="access-row"') == 15
