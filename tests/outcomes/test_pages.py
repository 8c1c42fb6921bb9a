"""The destination pages: the unplaced list, a graduate's destination (record, evidence, verify, follow-ups, evidence
download) and the placement figures, with who may see and do what."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bangfu.assistance.services import record_activity
from bangfu.audit.models import AccessAction, AccessLog
from bangfu.opportunities.services import change_recommendation, recommend
from bangfu.outcomes.models import Destination, DestinationCode, FollowUp
from bangfu.outcomes.services import attach_evidence, current_destination, record_destination, verify_destination
from bangfu.students.models import Student
from tests.conftest import TODAY
from tests.factories import make_employer, make_position, make_student
from tests.students.pages import PDF, ledger_student

AFTER_GRADUATION = dt.date(2024, 9, 2)


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def on(time_machine):  # type: ignore[no-untyped-def]
    """`on(day)`: the pages' today (noon in Shanghai). Starts on the world's TODAY."""

    def move(day: dt.date) -> None:
        time_machine.move_to(dt.datetime(day.year, day.month, day.day, 4, tzinfo=dt.UTC))

    move(TODAY)
    return move


def url(name: str, student: Student | None = None, *args: object) -> str:
    if student is None:
        return reverse(f"outcomes:{name}")
    return reverse(f"outcomes:{name}", args=[student.public_id, *args])


def page(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def count(html: str) -> int:
    found = re.search(r'data-testid="unplaced-count">(\d+)<', html)
    assert found, "no unplaced count on the page"
    return int(found.group(1))


def by_testid(html: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}"[^>]*>(.*?)</', html, re.S)
    assert found, name
    return " ".join(found.group(1).split())


def job(world, student=None, *, today=TODAY, code="11", **fields):  # type: ignore[no-untyped-def]
    fields.setdefault("employer_name", "石家庄华信科技有限公司")
    return record_destination(actor=world.office, student=student or world.own, code=code, today=today, **fields)


def pdf(name: str = "劳动合同.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


# ---------------------------------------------------------------------------------------------------------
# The unplaced list


@pytest.fixture
def ledger(world):  # type: ignore[no-untyped-def]
    """Ledger graduates of 2024: own (dept1, helper 郑银乐), 王芳 (dept1, no helper), 陈晨 (dept2); one of 2025."""
    wang = ledger_student(world.class1, name="王芳")
    chen = ledger_student(world.class2, name="陈晨", helper=world.other_leader)
    later = ledger_student(world.class1, name="郑爽", cohort=2022)
    return wang, chen, later


def test_the_unplaced_list_counts_down_as_students_are_placed(world, as_user, ledger, on) -> None:
    client = as_user(world.leader)
    html = page(client.get(url("unplaced")))
    assert count(html) == 2  # own and 王芳; 陈晨 is in dept2, 郑爽 graduates in 2025
    assert "田斌臣" in html and "王芳" in html and "陈晨" not in html and "郑爽" not in html
    assert "Nobody struck off yet." in html

    job(world, today=dt.date(2024, 3, 10))
    html = page(client.get(url("unplaced")))
    assert count(html) == 1
    struck = html[html.index('id="struck-off-table"') :]
    assert "田斌臣" in struck and "2024-03-10" in struck and "11 Labour contract" in struck

    # Losing the job puts the student back.
    record_destination(actor=world.leader, student=world.own, code="70", today=TODAY)
    assert count(page(client.get(url("unplaced")))) == 2


def test_each_unplaced_student_shows_helper_last_contact_and_destination(world, as_user, ledger, on) -> None:
    record_activity(
        actor=world.helper,
        student=world.own,
        kind="talk",
        occurred_on=dt.date(2024, 3, 12),
        today=TODAY,
        notes="谈心谈话：求职意向石家庄",
    )
    record_destination(actor=world.helper, student=world.own, code="70", today=TODAY)
    html = page(as_user(world.leader).get(url("unplaced")))
    own_item = html[html.index("田斌臣") : html.index("王芳")]
    assert "Helper: 郑银乐" in " ".join(own_item.split())
    assert "Last contact: 2024-03-12" in " ".join(own_item.split())
    assert "70 Seeking work" in own_item
    wang_item = html[html.index("王芳") : html.index('id="struck-off-heading"')]
    assert "none" in wang_item and "never" in wang_item and "No destination recorded" in wang_item


def test_year_and_department_filters(world, as_user, ledger, on) -> None:
    client = as_user(world.office)
    html = page(client.get(url("unplaced")))
    assert count(html) == 3
    # The school view counts each department.
    table = html[html.index('id="department-counts"') :]
    assert re.findall(r"data-department-unplaced>(\d+)<", table) == ["2", "1"]
    html = page(client.get(url("unplaced"), {"department": world.dept2.public_id}))
    assert count(html) == 1 and "陈晨" in html and "田斌臣" not in html
    html = page(client.get(url("unplaced"), {"year": 2025}))
    assert count(html) == 1 and "郑爽" in html
    # A department outside the scope is refused by the form and filters nothing away from the scope.
    html = page(as_user(world.leader).get(url("unplaced"), {"department": world.dept2.public_id}))
    assert "陈晨" not in html and count(html) == 2


def test_the_counsellor_sees_their_classes_only(world, as_user, ledger, on) -> None:
    html = page(as_user(world.counsellor).get(url("unplaced")))
    assert count(html) == 2 and "陈晨" not in html


@pytest.mark.parametrize("persona", ["helper", "student_user"])
def test_who_may_not_see_the_unplaced_list(world, as_user, persona, on) -> None:
    assert as_user(getattr(world, persona)).get(url("unplaced")).status_code == 403


def test_another_school_sees_none_of_ours(world, as_user, ledger, on) -> None:
    html = page(as_user(world.outsider).get(url("unplaced")))
    assert count(html) == 0 and "田斌臣" not in html


def test_the_unplaced_list_makes_a_fixed_number_of_queries(
    world, as_user, ledger, on, django_assert_max_num_queries
) -> None:
    for i in range(12):
        s = ledger_student(world.class1, name=f"学生{i:02d}", helper=world.helper)
        if i % 3 == 0:
            job(world, s)
    client = as_user(world.office)
    with django_assert_max_num_queries(16):
        html = page(client.get(url("unplaced")))
    assert count(html) == 3 + 8


def test_the_lists_page_through_exactly_the_students_their_counts_give(world, as_user, ledger, on) -> None:
    more = [ledger_student(world.class1, name=f"毕业生{i:02d}") for i in range(53)]
    for s in more[:3]:
        job(world, s)
    client = as_user(world.office)

    first = client.get(url("unplaced"))
    second = client.get(url("unplaced"), {"page": 2})

    waiting = first.context["waiting"]
    assert (count(page(first)), waiting.paginator.num_pages) == (53, 2)  # 50 of dept1 and 陈晨 of dept2, 2 more
    names = [s.name for s in first.context["waiting_rows"]] + [s.name for s in second.context["waiting_rows"]]
    assert len(names) == 53 and set(names) == {"田斌臣", "王芳", "陈晨", *(s.name for s in more[3:])}
    assert sorted(s.name for s in first.context["done_rows"]) == ["毕业生00", "毕业生01", "毕业生02"]
    assert first.context["done"].paginator.count == 3
    table = page(first)[page(first).index('id="department-counts"') :]
    assert re.findall(r"data-department-unplaced>(\d+)<", table) == ["52", "1"]

    dept1 = client.get(url("unplaced"), {"department": world.dept1.public_id, "page": 2})
    assert (count(page(dept1)), len(dept1.context["waiting_rows"])) == (52, 2)
    assert "陈晨" not in page(dept1) and 'id="department-counts"' not in page(dept1)


def test_the_menu_shows_the_pages_to_unit_level_viewers(world, as_user, on) -> None:
    html = page(as_user(world.counsellor).get(reverse("students:list")))
    assert url("unplaced") in html and url("figures") in html
    html = page(as_user(world.helper).get(reverse("assistance:my_students")))
    assert url("unplaced") not in html


# ---------------------------------------------------------------------------------------------------------
# A graduate's destination


def test_the_destination_page_shows_current_state_and_history(world, as_user, on) -> None:
    first = job(world, today=dt.date(2024, 3, 1), salary=4200)
    attach_evidence(actor=world.office, destination=first, evidence=pdf(), kind="labour_contract")
    job(world, today=dt.date(2024, 3, 10), code="10", employer_name="保定长城汽车股份有限公司")
    html = page(as_user(world.helper).get(url("student", world.own)))
    assert by_testid(html, "current-code") == "10 Signed employment agreement"
    assert "Struck off the unplaced list on 2024-03-01." in html
    assert "Not verified: no evidence attached yet." in html
    assert "Not yet confirmed by the graduate" in html
    history = html[html.index('id="destination-history"') :]
    assert "11 Labour contract" in history and "in force 2024-03-01 – 2024-03-10" in history
    assert "石家庄华信科技有限公司" in history and "4200 yuan a month" in history


def test_the_code_is_shown_in_the_users_language(world, as_user, chinese_default, on) -> None:
    job(world)
    html = page(as_user(world.helper).get(url("student", world.own)))
    assert by_testid(html, "current-code").startswith("11 签劳动合同形式就业")


def test_recording_a_destination_through_the_form(world, as_user, on) -> None:
    employer = make_employer(world.school, "河北钢铁集团有限公司", employer_type="state_owned", industry="C")
    client = as_user(world.helper)
    form = page(client.get(url("record", world.own)))
    assert '<optgroup label="Employed">' in form and '<optgroup label="Not placed">' in form
    assert "河北钢铁集团有限公司" in form
    code = DestinationCode.objects.get(code="10", school__isnull=True)
    response = client.post(
        url("record", world.own),
        {
            "code": code.pk,
            "employer": employer.public_id,
            "position_title": "设备维护技术员",
            "started_on": "2024-07-01",
            "salary": "4800",
            "matches_major": "true",
            "replaces": "",
        },
    )
    assert response.status_code == 302 and response.url == url("student", world.own)
    d = current_destination(world.own)
    assert (d.code.code, d.employer, d.employer_name, d.employer_type, d.salary) == (
        "10",
        employer,
        "河北钢铁集团有限公司",
        "state_owned",
        4800,
    )
    assert (d.matches_major, d.started_on, d.recorded_on, d.recorded_by) == (
        True,
        dt.date(2024, 7, 1),
        TODAY,
        world.helper,
    )


def test_a_destination_before_enrolment_is_refused_on_the_form(world, as_user, on) -> None:
    code = DestinationCode.objects.get(code="11", school__isnull=True)
    html = page(
        as_user(world.helper).post(
            url("record", world.own),
            {"code": code.pk, "employer_name": "华信", "started_on": "2020-06-01", "replaces": ""},
        )
    )
    assert "The destination cannot start before the student&#x27;s enrolment (2021-09-01)." in html
    assert not Destination.objects.exists()


def test_a_change_made_meanwhile_is_not_overwritten(world, as_user, on) -> None:
    code = DestinationCode.objects.get(code="80", school__isnull=True)
    client = as_user(world.helper)
    job(world)  # someone records while the form is open (it was opened with nothing in force)
    html = page(
        client.post(url("record", world.own), {"code": code.pk, "employer_name": "河北科技大学", "replaces": ""})
    )
    assert "Someone else saved this record after you opened it." in html
    assert current_destination(world.own).code.code == "11"


def test_only_the_schools_codes_are_offered(world, as_user, on) -> None:
    mine = DestinationCode.objects.create(
        code="29",
        school=world.school,
        label="校企合作录用",
        label_en="Hired through a school partnership",
        group="employed",
        list_version="HEBUST-2024",
        valid_from=dt.date(2024, 1, 1),
    )
    theirs = DestinationCode.objects.create(
        code="28",
        school=world.other_school,
        label="外校自定义",
        label_en="Another school's code",
        group="employed",
        list_version="OTHER-2024",
        valid_from=dt.date(2024, 1, 1),
    )
    form = page(as_user(world.helper).get(url("record", world.own)))
    assert f'value="{mine.pk}"' in form and "29 Hired through a school partnership" in form
    assert f'value="{theirs.pk}"' not in form
    # A guessed id of another school's code is refused.
    html = page(
        as_user(world.helper).post(
            url("record", world.own), {"code": theirs.pk, "employer_name": "某公司", "replaces": ""}
        )
    )
    assert "Select a valid choice." in html and not Destination.objects.exists()


def test_an_internship_certificate_is_refused_as_job_evidence_on_the_form(world, as_user, on) -> None:
    d = job(world)
    client = as_user(world.helper)
    html = page(
        client.post(
            url("evidence_upload", world.own),
            {"evidence": pdf("实习证明.pdf"), "evidence_kind": "internship_certificate", "version": d.version},
        )
    )
    assert "An internship certificate is not proof of a job. Accepted: Labour contract." in html
    d.refresh_from_db()
    assert not d.evidence
    response = client.post(
        url("evidence_upload", world.own),
        {"evidence": pdf(), "evidence_kind": "labour_contract", "version": d.version},
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.evidence_kind == "labour_contract" and d.evidence.name.endswith(".pdf")


def test_verifying_from_the_page(world, as_user, on) -> None:
    d = job(world)
    leader = as_user(world.leader)
    # Without evidence: refused, with the reason shown.
    html = page(leader.post(url("verify", world.own), {"version": d.version}, follow=True))
    assert "Attach the evidence (agreement, contract, admission letter…) before verifying." in html
    assert 'id="verify-form"' not in html
    d = attach_evidence(actor=world.helper, destination=d, evidence=pdf(), kind="labour_contract")
    html = page(leader.get(url("student", world.own)))
    assert 'id="verify-form"' in html and "Evidence attached, awaiting verification." in html
    html = page(leader.post(url("verify", world.own), {"version": d.version}, follow=True))
    assert "The destination is verified." in html
    assert "Verified on 2024-03-15 by 郑书记." in html
    d.refresh_from_db()
    assert d.verified_by == world.leader


def test_a_counsellor_may_not_verify(world, as_user, on) -> None:
    d = attach_evidence(actor=world.helper, destination=job(world), evidence=pdf(), kind="labour_contract")
    client = as_user(world.counsellor)
    assert 'id="verify-form"' not in page(client.get(url("student", world.own)))
    assert client.post(url("verify", world.own), {"version": d.version}).status_code == 403
    d.refresh_from_db()
    assert d.verified_on is None


def test_the_evidence_download_is_written_to_the_access_log(world, as_user, on) -> None:
    d = attach_evidence(actor=world.helper, destination=job(world), evidence=pdf(), kind="labour_contract")
    response = as_user(world.leader).get(url("evidence", world.own, d.public_id))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    log = AccessLog.objects.get()
    assert (log.actor, log.action, log.student, log.fields) == (
        world.leader,
        AccessAction.DOWNLOAD_EVIDENCE,
        world.own,
        "destination:labour_contract",
    )
    # The graduate's own login does not download; a stranger does not find it.
    assert as_user(world.student_user).get(url("evidence", world.own, d.public_id)).status_code == 403
    assert as_user(world.other_leader).get(url("evidence", world.own, d.public_id)).status_code == 404
    assert AccessLog.objects.count() == 1


def test_follow_ups_start_after_graduation(world, as_user, on) -> None:
    client = as_user(world.helper)
    html = page(client.get(url("student", world.own)))
    assert "Follow-ups start after graduation." in html and 'id="follow-up-form"' not in html
    html = page(client.post(url("follow_up", world.own), {"done_on": "2024-03-14", "status": "unemployed"}))
    assert "A follow-up comes after graduation (2024-06-30)." in html
    assert not FollowUp.objects.exists()


def test_an_unemployed_follow_up_puts_the_graduate_back_on_the_list(world, as_user, on) -> None:
    job(world, today=dt.date(2024, 6, 1))
    on(AFTER_GRADUATION)
    client = as_user(world.helper)
    assert 'id="follow-up-form"' in page(client.get(url("student", world.own)))
    response = client.post(
        url("follow_up", world.own), {"done_on": "2024-09-01", "status": "unemployed", "notes": "公司裁员，正在找工作"}
    )
    assert response.status_code == 302
    html = page(client.get(url("student", world.own)))
    follow_ups = html[html.index('id="follow-ups"') : html.index('id="destination-history"')]
    assert "Unemployed" in follow_ups and "2 months after leaving" in follow_ups and "公司裁员" in follow_ups
    assert by_testid(html, "current-code") == "70 Seeking work"
    assert count(page(as_user(world.leader).get(url("unplaced"), {"year": 2024}))) == 1


def test_a_counsellor_does_not_log_follow_ups(world, as_user, on) -> None:
    on(AFTER_GRADUATION)
    client = as_user(world.counsellor)
    assert client.get(url("follow_up", world.own)).status_code == 403
    assert 'id="follow-up-form"' not in page(client.get(url("student", world.own)))


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("office", 200),
        ("principal", 200),
        ("leader", 200),
        ("counsellor", 200),
        ("helper", 200),
        ("other_leader", 404),
        ("outsider", 404),
        ("student_user", 302),
    ],
)
def test_who_sees_the_destination_page(world, as_user, persona, status, on) -> None:
    assert as_user(getattr(world, persona)).get(url("student", world.own)).status_code == status


@pytest.mark.parametrize(("persona", "status"), [("principal", 403), ("other_leader", 404), ("student_user", 403)])
def test_who_may_not_record(world, as_user, persona, status, on) -> None:
    assert as_user(getattr(world, persona)).get(url("record", world.own)).status_code == status


def test_the_student_page_shows_the_destination_box(world, as_user, on) -> None:
    job(world)
    html = page(as_user(world.leader).get(reverse("students:detail", args=[world.own.public_id])))
    box = html[html.index('id="destination-summary"') :]
    assert "11 Labour contract" in box and url("student", world.own) in box


# ---------------------------------------------------------------------------------------------------------
# The placement figures


@pytest.fixture
def placed(world):  # type: ignore[no-untyped-def]
    """2024 graduates: own (11, verified), classmate (80), 王芳 (unknown) in dept1; dept2_student (71)."""
    d = attach_evidence(
        actor=world.office, destination=job(world, today=dt.date(2024, 3, 1)), evidence=pdf(), kind="labour_contract"
    )
    verify_destination(actor=world.office, destination=d, today=dt.date(2024, 3, 2))
    job(world, world.classmate, code="80", employer_name="河北科技大学", today=dt.date(2024, 3, 5))
    record_destination(actor=world.office, student=world.dept2_student, code="71", today=dt.date(2024, 3, 5))
    make_student(world.class1, name="王芳")


def test_the_figures_of_a_department(world, as_user, placed, on) -> None:
    html = page(as_user(world.leader).get(url("figures"), {"year": 2024, "as_of": "2024-03-15"}))
    # dept1: 3 graduates, 2 placed, 2 known, 1 of 2 verified
    assert by_testid(html, "placement-rate") == "66.7 %"
    assert by_testid(html, "knowledge-rate") == "66.7 %"
    assert by_testid(html, "verified-share") == "50.0 %"
    assert by_testid(html, "career-outcomes-rate") == "100.0 %"
    assert 'id="knowledge-warning"' not in html
    assert "陈静" not in html


def test_the_figures_of_the_school_by_department_with_a_knowledge_warning(world, as_user, placed, on) -> None:
    html = page(as_user(world.office).get(url("figures"), {"year": 2024, "as_of": "2024-03-04", "by": "department"}))
    # On 4 March only own is known: 1 of 4.
    assert by_testid(html, "knowledge-rate") == "25.0 %"
    assert "Only 25.0 % of the graduates' outcomes are known" in html
    table = html[html.index('id="figures-table"') :]
    rows = re.findall(r'data-figure="placement_rate">([^<]*)<', table)
    assert rows == ["33.3 %", "0.0 %", "25.0 %"]  # dept1, dept2, whole scope
    students = reverse("students:list") + f"?department={world.dept1.public_id}"
    assert students in table
    assert url("unplaced") + f"?year=2024&amp;department={world.dept1.public_id}" in table


def test_snapshots_and_groupings(world, as_user, placed, on) -> None:
    client = as_user(world.office)
    html = page(client.get(url("figures"), {"year": 2024, "by": "ledger"}))
    assert url("figures") + "?year=2024&amp;as_of=2024-08-31&amp;by=ledger" in html
    assert url("figures") + "?year=2024&amp;as_of=2024-12-31&amp;by=ledger" in html
    table = html[html.index('id="figures-table"') :]
    assert table.index("Ledger students") < table.index("Other students")
    html = page(client.get(url("figures"), {"year": 2024, "by": "category"}))
    table = html[html.index('id="figures-table"') :]
    assert "Household lifted out of poverty (formerly registered poor)" in table
    assert reverse("students:list") + "?category=poverty_alleviated&amp;in_ledger=yes" in table
    html = page(client.get(url("figures"), {"year": 2024, "by": "major", "as_of": "not a date"}))
    assert "Enter a valid date." in html and by_testid(html, "placement-rate") == "50.0 %"


def test_recommendation_conversion_per_helper_and_employer(world, as_user, on) -> None:
    employer = make_employer(world.school, "石家庄华信科技有限公司")
    position = make_position(employer, deadline=dt.date(2024, 4, 30))
    rec = recommend(actor=world.helper, student=world.own, position=position, today=TODAY)
    for status in ("applied", "interviewed", "offer", "accepted"):
        rec = change_recommendation(actor=world.helper, recommendation=rec, to_status=status, on=TODAY, today=TODAY)
    html = page(as_user(world.leader).get(url("figures"), {"year": 2024}))
    helper_table = html[html.index('id="conversion-helper"') : html.index('id="conversion-employer"')]
    cells = re.findall(r'<td class="text-end bf-meter[^"]*">([^<]*)</td>', helper_table)
    assert "郑银乐" in helper_table and cells == ["1", "1", "1", "1", "1", "0", "100.0 %"]
    assert "石家庄华信科技有限公司" in html[html.index('id="conversion-employer"') :]


@pytest.mark.parametrize("persona", ["helper", "student_user"])
def test_who_may_not_see_the_figures(world, as_user, persona, on) -> None:
    assert as_user(getattr(world, persona)).get(url("figures")).status_code == 403


def test_the_figures_page_makes_a_fixed_number_of_queries(
    world, as_user, placed, on, django_assert_max_num_queries
) -> None:
    for i in range(10):
        job(world, make_student(world.class2 if i % 2 else world.class1, name=f"毕业生{i}"), today=TODAY)
    client = as_user(world.office)
    with django_assert_max_num_queries(14):  # 14th: the user's helped students (permissions.helped_ids)
        html = page(client.get(url("figures"), {"year": 2024, "by": "department"}))
    assert by_testid(html, "placement-rate") == "85.7 %"  # 10 + 2 of 14 graduates
