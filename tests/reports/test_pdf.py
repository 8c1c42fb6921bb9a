"""The PDFs: the dossier (一人一档) of one student and the yearly employment report, read back with pypdf.

The dossier is of 田斌臣 (`world.own`, dept1, in the ledger as poverty-alleviated and orphan, helped by 郑银乐),
furnished with a plan, activities (one of them an internal note), a recommendation, an internship, a paid
subsidy, a destination and a follow-up. The yearly report is of the 2024 graduates of the world's school, as of
31 August 2024, with every figure worked out by hand below.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from bangfu.assistance.services import record_activity, review_plan, save_plan
from bangfu.audit.models import AccessAction, AccessLog
from bangfu.opportunities.services import change_recommendation, recommend, record_internship
from bangfu.organisation.models import User
from bangfu.outcomes.services import attach_evidence, record_destination, record_follow_up, verify_destination
from bangfu.reports import yearly
from bangfu.showcase import services as showcase
from bangfu.showcase.models import CaseType
from bangfu.students import idnumbers
from bangfu.students.models import Student
from bangfu.students.services import join_ledger
from bangfu.subsidies.models import Application, ApplicationStatus
from bangfu.subsidies.services import install_default_types
from bangfu.tracks.services import install_default_tracks, join_track, record_milestone
from tests.conftest import TODAY, World
from tests.factories import make_employer, make_position, make_student, system_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = dt.date
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

TALK_NOTE = "谈心谈话：求职焦虑，约定下周一起修改简历。"
INTERNAL_NOTE = "心理疏导：祖母住院，情绪低落，需每周关注。"
FAMILY = "父亲车祸去世"  # from the world's ledger entry of 田斌臣
REVIEW_NOTE = "本学期已参加两场招聘会，意向明确：回石家庄就业，照顾祖父母。"
EMPLOYER = "石家庄华信科技有限公司"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def clock(time_machine):  # type: ignore[no-untyped-def]
    """The PDFs are printed on 2 September 2024."""
    time_machine.move_to(dt.datetime(2024, 9, 2, 10, 0, tzinfo=SHANGHAI), tick=False)


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def squash(text: str) -> str:
    """Without whitespace: a table cell may wrap a label over two lines."""
    return re.sub(r"\s+", "", text)


def has(text: str, *wanted: str) -> bool:
    flat = squash(text)
    return all(squash(w) in flat for w in wanted)


def in_language(user: User, language: str) -> User:
    user.language = language
    user.save(update_fields=["language"])
    return user


def download(as_user, user: User, url: str) -> tuple[int, str, bytes]:  # type: ignore[no-untyped-def]
    response = as_user(user).get(url)
    return response.status_code, response.get("Content-Type", ""), response.content


# --- The dossier ---------------------------------------------------------------------------------------------------


@pytest.fixture
def furnished(world: World) -> Student:
    """田斌臣 with everything the dossier prints."""
    own, helper = world.own, world.helper
    record_activity(actor=helper, student=own, kind="talk", occurred_on=D(2024, 3, 1), today=TODAY, notes=TALK_NOTE)
    record_activity(
        actor=helper,
        student=own,
        kind="psychological_guidance",
        occurred_on=D(2024, 3, 5),
        today=TODAY,
        notes=INTERNAL_NOTE,
        internal=True,
    )
    plan = save_plan(
        actor=helper,
        student=own,
        expected_version=None,
        today=TODAY,
        direction="job",
        places="石家庄",
        near_home=True,
        salary_expectation=4500,
        strengths="动手能力强，获省级技能大赛三等奖",
        needs="面试表达需要练习",
    )
    review_plan(actor=helper, plan=plan, notes=REVIEW_NOTE, today=TODAY)
    employer = make_employer(world.school, name=EMPLOYER)
    position = make_position(employer, title="软件测试工程师")
    rec = recommend(actor=helper, student=own, position=position, today=D(2024, 3, 8))
    change_recommendation(actor=helper, recommendation=rec, to_status="applied", on=D(2024, 3, 10), today=TODAY)
    record_internship(
        actor=helper, student=own, employer=employer, started_on=D(2023, 12, 1), ended_on=D(2024, 2, 29), today=TODAY
    )
    job_search = {t.code: t for t in install_default_types(actor=world.office, school=world.school)}["job_search"]
    # Written directly: the approval flow up to payment is tested with the subsidies.
    Application.objects.create(
        student=own,
        subsidy_type=job_search,
        year=2024,
        amount=Decimal("1500.00"),
        reason="求职创业补贴",
        status=ApplicationStatus.PAID,
        applied_by=helper,
        paid_on=D(2024, 4, 20),
    )
    destination = record_destination(
        actor=world.office,
        student=own,
        code="11",
        today=D(2024, 5, 10),
        employer_name=EMPLOYER,
        position_title="软件测试工程师",
        work_city="石家庄市",
    )
    destination = attach_evidence(
        actor=world.office,
        destination=destination,
        evidence=SimpleUploadedFile("劳动合同.pdf", PDF),
        kind="labour_contract",
    )
    verify_destination(actor=world.office, destination=destination, today=D(2024, 6, 1))
    record_follow_up(
        actor=helper, student=own, done_on=D(2024, 8, 1), status="still_employed", today=D(2024, 8, 1), notes="工作稳定"
    )
    own.refresh_from_db()
    return own


def dossier_url(student: Student) -> str:
    return reverse("reports_pdf:dossier", args=[student.public_id])


@pytest.mark.usefixtures("clock")
def test_the_dossier_in_english_holds_every_section(world: World, furnished: Student, as_user) -> None:  # type: ignore[no-untyped-def]
    status, content_type, content = download(as_user, world.leader, dossier_url(furnished))
    assert (status, content_type) == (200, "application/pdf")
    assert content.startswith(b"%PDF")
    text = text_of(content)
    assert has(
        text,
        "Dossier: 田斌臣",
        "HEBUST · Dossier: 田斌臣",  # the header: the school (its English name)
        "2024-09-02",  # and the date
        "Profile",
        furnished.student_number,
        "Household lifted out of poverty (formerly registered poor)",
        "Orphan",
        "Special hardship",
        FAMILY,
        "Semester reviews",
        REVIEW_NOTE,
        "郑银乐",  # the helper
        "Help against the standards",
        TALK_NOTE,
        INTERNAL_NOTE,  # a leader reads internal notes
        "Job recommendations",
        "软件测试工程师",
        "Applied",
        "Internships",
        EMPLOYER,
        "¥1500.00",
        "2024-04-20",
        "11 Labour contract",
        "Struck off the unplaced list on",
        "2024-05-10",
        "Follow-ups after leaving",
        "Still in the same job",
        "工作稳定",
    )
    assert re.search(r"Page 1 of \d+", text)


@pytest.mark.usefixtures("clock")
def test_the_dossier_in_chinese_has_chinese_labels(world: World, furnished: Student, as_user) -> None:  # type: ignore[no-untyped-def]
    in_language(world.leader, "zh-hans")
    status, _type, content = download(as_user, world.leader, dossier_url(furnished))
    assert status == 200
    text = text_of(content)
    assert has(text, "田斌臣", "基本信息", "脱贫家庭（原建档立卡）", "孤儿", "家庭情况", FAMILY)
    assert not has(text, "Household lifted out of poverty")
    assert not has(text, "Orphan")


@pytest.mark.usefixtures("clock")
def test_the_dossier_masks_the_id_number(world: World, furnished: Student, as_user) -> None:  # type: ignore[no-untyped-def]
    full = idnumbers.decrypt(furnished.id_number_cipher)
    assert len(full) == 18
    text = text_of(download(as_user, world.office, dossier_url(furnished))[2])
    assert has(text, furnished.id_number_masked)
    assert "********" in furnished.id_number_masked
    assert full not in squash(text)
    assert full[6:14] not in squash(text)  # not even the birth date part


@pytest.mark.usefixtures("clock")
def test_internal_notes_only_for_those_who_may_read_them(world: World, furnished: Student, as_user) -> None:  # type: ignore[no-untyped-def]
    # The counsellor sees the student (and the family situation) but neither logs help for them nor leads.
    counsellor = text_of(download(as_user, world.counsellor, dossier_url(furnished))[2])
    assert has(counsellor, TALK_NOTE, FAMILY, "Psychological guidance")
    assert not has(counsellor, "Internal note")
    assert not has(counsellor, INTERNAL_NOTE)
    helper = text_of(download(as_user, world.helper, dossier_url(furnished))[2])
    assert has(helper, TALK_NOTE, f"Internal note: {INTERNAL_NOTE}")


@pytest.mark.usefixtures("clock")
def test_a_student_outside_the_scope_is_404_and_the_student_themself_403(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    assert as_user(world.outsider).get(dossier_url(world.own)).status_code == 404
    assert as_user(world.leader).get(dossier_url(world.dept2_student)).status_code == 404
    assert as_user(world.helper).get(dossier_url(world.classmate)).status_code == 404
    assert as_user(world.student_user).get(dossier_url(world.own)).status_code == 403
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()


@pytest.mark.usefixtures("clock")
def test_each_dossier_download_is_in_the_access_log(world: World, furnished: Student, as_user) -> None:  # type: ignore[no-untyped-def]
    download(as_user, world.counsellor, dossier_url(furnished))
    rows = list(AccessLog.objects.filter(action=AccessAction.EXPORT))
    assert [(r.actor, r.student, r.fields) for r in rows] == [(world.counsellor, furnished, "dossier,family_situation")]
    assert rows[0].detail == f"dossier PDF: {furnished.student_number}"


@pytest.mark.usefixtures("clock")
def test_the_dossier_of_a_student_not_in_the_ledger(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    status, _type, content = download(as_user, world.leader, dossier_url(world.classmate))
    assert status == 200
    text = text_of(content)
    assert has(text, "刘洋", "Not in the ledger.", "No plan yet.", "No destination recorded.")


# --- The yearly report ---------------------------------------------------------------------------------------------


@pytest.fixture
def year(world: World) -> dict[str, Student]:
    """The school's 2024 graduates as of 31 August 2024:

    | student | dept | ledger categories | destination on 31 Aug |
    | --- | --- | --- | --- |
    | 田斌臣 own | 1 | poverty_alleviated, orphan | 11 labour contract, 10 May, verified |
    | 王芳 | 1 | subsistence_allowance | 80 further study, 1 Jul |
    | 陈静 dept2_student | 2 | zero_employment | 70 seeking work, 15 Jul |
    | 李强 | 2 | subsistence_allowance | nothing recorded |
    | 刘洋 classmate | 1 | — | 10 agreement (not a ledger graduate) |

    Ledger graduates 4, placed 2 (50.0 %), knowledge 75.0 %; all graduates 5, placed 3 (60.0 %).
    """
    office, actor = world.office, system_user()

    def ledger(student: Student, category: str) -> None:
        join_ledger(
            actor=actor,
            student=student,
            joined_on=D(2022, 10, 1),
            reason="学期复核：家庭经济困难",
            categories=[category],
            hardship_level="hardship",
            today=TODAY,
        )

    wang = make_student(world.class1, name="王芳")
    li = make_student(world.class2, name="李强")
    ledger(wang, "subsistence_allowance")
    ledger(li, "subsistence_allowance")
    ledger(world.dept2_student, "zero_employment")
    own = record_destination(actor=office, student=world.own, code="11", today=D(2024, 5, 10), employer_name=EMPLOYER)
    own = attach_evidence(
        actor=office, destination=own, evidence=SimpleUploadedFile("劳动合同.pdf", PDF), kind="labour_contract"
    )
    verify_destination(actor=office, destination=own, today=D(2024, 6, 1))
    record_destination(actor=office, student=wang, code="80", today=D(2024, 7, 1), employer_name="河北科技大学")
    record_destination(actor=office, student=world.dept2_student, code="70", today=D(2024, 7, 15))
    record_destination(actor=office, student=world.classmate, code="10", today=D(2024, 6, 20), employer_name="某公司")
    # After the report's date: not in it.
    record_destination(actor=office, student=li, code="10", today=D(2024, 9, 1), employer_name="九月才签约")

    job_search = {t.code: t for t in install_default_types(actor=office, school=world.school)}["job_search"]
    for student, paid_on in ((world.own, D(2024, 4, 20)), (li, D(2024, 4, 20)), (wang, D(2024, 10, 8))):
        Application.objects.create(
            student=student,
            subsidy_type=job_search,
            year=2024,
            amount=Decimal("1500.00"),
            reason="求职创业补贴",
            status=ApplicationStatus.PAID,
            applied_by=office,
            paid_on=paid_on,
        )

    tracks = {t.code: t for t in install_default_tracks(actor=office, school=world.school)}
    join_track(actor=actor, student=world.own, track=tracks["public_exam"], joined_on=D(2024, 1, 8), today=TODAY)
    study = join_track(
        actor=actor,
        student=wang,
        track=tracks["further_study"],
        joined_on=D(2024, 1, 8),
        programme="upgrade",
        today=TODAY,
    )
    for code, day in (("registered", D(2024, 1, 10)), ("exam", D(2024, 3, 9)), ("admitted", D(2024, 6, 20))):
        study.refresh_from_db()
        record_milestone(actor=actor, enrolment=study, milestone=code, reached_on=day, today=max(day, TODAY))

    showcase.install_default_types(actor=office, school=world.school)
    case_type = CaseType.objects.filter(school=world.school).order_by("code").first()
    assert case_type is not None
    showcase.record_consent(
        actor=world.leader,
        student=world.own,
        given_on=D(2024, 3, 1),
        name_shown="surname",
        today=TODAY,
        show_story=True,
    )
    case = showcase.nominate_case(
        actor=world.leader,
        student=world.own,
        case_type=case_type,
        today=TODAY,
        photo=None,
        title="从祖父母身边走向软件测试岗位",
        title_en="From his grandparents' farm to a software-testing job",
        story="在帮扶责任人陪伴下修改简历三次，参加三场招聘会，签约石家庄华信科技。",
        story_en="With his helper he revised his résumé three times and signed with a Shijiazhuang company.",
        family_story="",
        family_story_en="",
        employer=EMPLOYER,
        position="软件测试工程师",
    )
    case = showcase.approve_case(actor=office, case=case, today=TODAY)
    showcase.publish_case(actor=office, case=case, today=TODAY)
    return {"wang": wang, "li": li}


def yearly_url(**params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("reports_pdf:yearly") + (f"?{query}" if query else "")


@pytest.mark.usefixtures("clock", "year")
def test_the_yearly_report_of_the_school(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    status, content_type, content = download(as_user, world.principal, yearly_url(year="2024", as_of="2024-08-31"))
    assert (status, content_type) == (200, "application/pdf")
    text = text_of(content)
    assert has(
        text,
        "Employment report for disadvantaged graduates, 2024",
        "HEBUST · records as of 2024-08-31",
        "Ledger graduates4",
        "Placed (employed or further study)2",
        "Placement rate50.0 %",
        "Not placed2: 1 seeking work, 0 not seeking, 1 unknown",
        "Knowledge rate75.0 %",
        "Verified share of the placed50.0 %",
        "All graduates of the unit60.0 % placed of 5 graduates",
        # by department: dept1 2 graduates 2 placed, dept2 2 graduates none placed
        "By department",
        "服装工程系22100.0 %",
        "机电工程系200.0 %",
        # by category: a student counts once in each of their categories
        "Household lifted out of poverty (formerly registered poor)11100.0 %",
        "Minimum-living-allowance household2150.0 %",
        "Household with no employed member100.0 %",
        # clearing to zero: month, struck off, so far, still unplaced
        "Still unplaced on 2024-08-31: 2 of 4 ledger graduates.",
        "2024-05113",
        "2024-07122",
        # subsidies paid by 31 August: 2 students, 2 payments (王芳's October payment comes later)
        "Total22¥3000.00",
        # tracks: joined, still on it, succeeded, failed, left
        "Public-service exam preparation11000",
        "Further study10100",
        # the exemplary case, with the surname only as consented
        "From his grandparents' farm to a software-testing job",
    )
    assert not has(text, "田斌臣")
    assert not has(text, "九月才签约")


@pytest.mark.usefixtures("clock", "year")
def test_the_yearly_report_in_chinese(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    in_language(world.principal, "zh-hans")
    status, _type, content = download(as_user, world.principal, yearly_url(year="2024", as_of="2024-08-31"))
    assert status == 200
    text = text_of(content)
    assert has(
        text,
        "河北科技工程职业技术大学",
        "服装工程系",
        "脱贫家庭（原建档立卡）",
        "从祖父母身边走向软件测试岗位",
        "田同学",
    )
    assert not has(text, "Household lifted out of poverty")


@pytest.mark.usefixtures("clock", "year")
def test_a_department_leader_gets_their_department(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    status, _type, content = download(as_user, world.leader, yearly_url(year="2024", as_of="2024-08-31"))
    assert status == 200
    text = text_of(content)
    # dept1 only: 田斌臣 and 王芳, both placed; broken down by major
    assert has(text, "服装工程系 · records as of 2024-08-31", "Ledger graduates2", "Placement rate100.0 %", "By major")
    assert not has(text, "机电工程系")


@pytest.mark.usefixtures("clock")
def test_who_may_download_the_yearly_report(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    url = yearly_url(year="2024")
    assert as_user(world.office).get(url).status_code == 200
    assert as_user(world.principal).get(url).status_code == 200
    assert as_user(world.leader).get(url).status_code == 200
    # A counsellor's grant is on a class, a helper has students but no unit, a student has neither.
    for persona in (world.counsellor, world.helper, world.student_user):
        assert as_user(persona).get(url).status_code == 403
    # A department leader asking for the school, or for another department: refused; another school's unit: 404.
    assert as_user(world.leader).get(yearly_url(unit=str(world.school.public_id))).status_code == 403
    assert as_user(world.leader).get(yearly_url(unit=str(world.dept2.public_id))).status_code == 403
    assert as_user(world.leader).get(yearly_url(unit=str(world.other_school.public_id))).status_code == 404
    assert as_user(world.leader).get(yearly_url(unit="not-a-uuid")).status_code == 404
    assert as_user(world.principal).get(yearly_url(unit=str(world.dept2.public_id))).status_code == 200


@pytest.mark.usefixtures("clock", "year")
def test_each_yearly_report_is_in_the_access_log(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    download(as_user, world.leader, yearly_url(year="2024", as_of="2024-08-31"))
    rows = list(AccessLog.objects.filter(action=AccessAction.EXPORT))
    assert [(r.actor, r.student, r.fields) for r in rows] == [(world.leader, None, "yearly_report")]
    assert rows[0].detail == (
        f"yearly report PDF: {world.dept1.path} 服装工程系, graduates of 2024 as of 2024-08-31 (2 ledger graduates)"
    )


@pytest.mark.usefixtures("clock")
def test_an_empty_year_still_prints(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    status, _type, content = download(as_user, world.office, yearly_url(year="2030"))
    assert status == 200
    text = text_of(content)
    assert has(
        text, "Employment report for disadvantaged graduates, 2030", "Ledger graduates0", "No graduate struck off yet."
    )


@pytest.mark.usefixtures("clock", "year")
def test_the_yearly_figures_take_a_fixed_number_of_queries(world: World, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    students = yearly.cohort_students(world.principal, world.school)
    with django_assert_max_num_queries(10):
        figures = yearly.yearly_figures(unit=world.school, students=students, year=2024, as_of=D(2024, 8, 31))
    assert (figures.total.graduates, figures.total.placed, figures.unplaced) == (4, 2, 2)
    months = [(m.month, m.struck_off, m.remaining) for m in figures.months]
    assert months == [(D(2024, 5, 1), 1, 3), (D(2024, 7, 1), 1, 2)]


# --- The links to the downloads ------------------------------------------------------------------------------------


def test_the_student_page_links_the_dossier_for_staff(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    page = reverse("students:detail", args=[world.own.public_id])
    link = f'href="{dossier_url(world.own)}"'
    assert link in as_user(world.counsellor).get(page).content.decode()


def test_the_figures_page_links_the_yearly_report(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    page = as_user(world.principal).get(reverse("outcomes:figures"), {"year": "2024", "as_of": "2024-08-31"})
    assert f'href="{reverse("reports_pdf:yearly")}?year=2024&amp;as_of=2024-08-31"' in page.content.decode()
