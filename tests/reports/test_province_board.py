"""The province board: a grant on a provincial unit opens every school under it, one row of exact figures each.

The scene, on Friday 20 September 2024, in 河北省教育厅 (a province unit) with two schools:

| school | student | ledger | graduates | destination | helper | behind the standards |
| --- | --- | --- | --- | --- | --- | --- |
| 燕赵科技 | 田斌臣 | yes | 2024 | 11 labour contract | 郑银乐 | no (followed up in August) |
| 燕赵科技 | 王芳 | yes | 2024 | 70 seeking work | 郑银乐 | yes (no follow-up) |
| 燕赵科技 | 李强 | yes | 2025 | — | 赵老师 | yes (job search, nothing yet) |
| 燕赵科技 | 刘洋 | no | 2024 | 80 further study | — | — |
| 石家庄职院 | 陈静 | yes | 2024 | none | 周老师 | yes |
| 石家庄职院 | 孙磊 | yes, withdrew | 2024 (not a graduate) | — | — | yes |

So 燕赵科技: ledger 3, behind 2 (helpers 郑银乐 and 赵老师), graduates 2, placed 1, unplaced 1, rate 50 %;
石家庄职院: ledger 2, behind 2 (helper 周老师), graduates 1, placed 0, unplaced 1, rate 0 %. A school of another
province (外省学院, one ledger graduate) is never counted.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bangfu.assistance.models import HelperAssignment
from bangfu.assistance.progress import rebuild_progress
from bangfu.assistance.services import assign_helper, end_assignment, record_activity
from bangfu.organisation.models import OrgUnit, Role, UnitKind, User
from bangfu.organisation.services import create_unit
from bangfu.outcomes.services import record_destination
from bangfu.students.models import Student, StudentStatus
from bangfu.students.services import join_ledger, update_student
from tests.factories import make_staff, make_student, system_user

BOARD_DAY = dt.date(2024, 9, 20)
NOW = dt.datetime(2024, 9, 20, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
PROVINCE = reverse("reports:province")
ROW = re.compile(r'<tr data-school="([0-9a-f-]+)">(.*?)</tr>', re.S)
FIGURE = re.compile(r'<a href="([^"]+)" class="bf-figure[^"]*" data-figure="([\w-]+)">(\d+)</a>')
D = dt.date


@dataclass
class Province:
    province: OrgUnit
    school_a: OrgUnit
    school_b: OrgUnit
    office: User  # the province's employment-guidance centre: an employment-office grant on the province
    principal_a: User  # the leader of school A only


def _school(code: str, name: str, parent: OrgUnit | None) -> dict[str, OrgUnit]:
    school = create_unit(kind=UnitKind.SCHOOL, code=code, name=name, parent=parent)
    dept = create_unit(kind=UnitKind.DEPARTMENT, code="XX", name="信息工程学院", parent=school)
    major = create_unit(kind=UnitKind.MAJOR, code="RJ", name="软件技术", parent=dept)
    klass = create_unit(kind=UnitKind.CLASS, code="RJ2101", name="软件2101班", parent=major)
    return {"school": school, "dept": dept, "class": klass}


def _ledger(klass: OrgUnit, name: str, *, helper: User | None = None, **kw: object) -> Student:
    student = make_student(klass, name=name, **kw)
    join_ledger(
        actor=system_user(),
        student=student,
        joined_on=D(2021, 10, 20),
        reason="入学普查：低保家庭",
        categories=["subsistence_allowance"],
        today=BOARD_DAY,
    )
    if helper is not None:
        assign_helper(actor=system_user(), student=student, helper=helper, start=D(2021, 11, 1), today=BOARD_DAY)
    return student


def make_province() -> Province:
    province = create_unit(kind=UnitKind.PROVINCE, code="HE", name="河北省教育厅")
    a = _school("YZKJ", "燕赵科技职业技术大学", province)
    b = _school("SJZZY", "石家庄职业技术学院", province)
    elsewhere = _school("WSXY", "外省学院", create_unit(kind=UnitKind.PROVINCE, code="SX", name="山西省教育厅"))
    office = make_staff("province", Role.EMPLOYMENT_OFFICE, province, full_name="省就业指导中心")
    principal_a = make_staff("principal_a", Role.SCHOOL_LEADER, a["school"], full_name="张校长")
    zheng = make_staff("zheng", Role.TEACHER, a["dept"], full_name="郑银乐")
    zhao = make_staff("zhao", Role.TEACHER, a["dept"], full_name="赵老师")
    zhou = make_staff("zhou", Role.TEACHER, b["dept"], full_name="周老师")

    tian = _ledger(a["class"], "田斌臣", helper=zheng)
    wang = _ledger(a["class"], "王芳", helper=zheng)
    _ledger(a["class"], "李强", helper=zhao, cohort=2022)
    liu = make_student(a["class"], name="刘洋")
    _ledger(b["class"], "陈静", helper=zhou)
    _ledger(b["class"], "孙磊", status=StudentStatus.WITHDRAWN)
    _ledger(elsewhere["class"], "外省生")

    actor = system_user()
    record_destination(
        actor=actor, student=tian, code="11", today=D(2024, 7, 10), employer_name="石家庄华信科技有限公司"
    )
    record_destination(actor=actor, student=wang, code="70", today=D(2024, 7, 1))
    record_destination(actor=actor, student=liu, code="80", today=D(2024, 7, 1), employer_name="河北科技大学")
    record_activity(actor=zheng, student=tian, kind="follow_up", occurred_on=D(2024, 8, 1), today=D(2024, 8, 1))
    rebuild_progress(today=BOARD_DAY)
    return Province(province, a["school"], b["school"], office, principal_a)


@pytest.fixture
def scene(db: None, time_machine) -> Province:  # type: ignore[no-untyped-def]
    time_machine.move_to(NOW, tick=False)
    return make_province()


def school_rows(page: str) -> dict[str, dict[str, tuple[int, str]]]:
    """Each school's figures on the page: data-figure name → (value, link)."""
    rows = {}
    for public_id, row in ROW.findall(page):
        found = {name: (int(value), html.unescape(href)) for href, name, value in FIGURE.findall(row)}
        helpers = re.search(r'data-figure="school-helpers-behind">(\d+)<', row)
        assert helpers is not None
        found["school-helpers-behind"] = (int(helpers[1]), "")
        rows[public_id] = found
    return rows


def test_the_province_office_sees_each_school_with_exact_figures(scene: Province, as_user) -> None:  # type: ignore[no-untyped-def]
    page = as_user(scene.office).get(PROVINCE)
    assert page.status_code == 200
    text = page.content.decode()
    rows = school_rows(text)
    values = {school: {name: value for name, (value, _url) in figures.items()} for school, figures in rows.items()}
    assert values == {
        str(scene.school_a.public_id): {
            "school-ledger": 3,
            "school-behind": 2,
            "school-helpers-behind": 2,
            "school-placed": 1,
            "school-graduates": 2,
            "school-unplaced": 1,
        },
        str(scene.school_b.public_id): {
            "school-ledger": 2,
            "school-behind": 2,
            "school-helpers-behind": 1,
            "school-placed": 0,
            "school-graduates": 1,
            "school-unplaced": 1,
        },
    }
    rates = {row.school.pk: row.rate for row in page.context["board"].schools}
    assert rates == {scene.school_a.pk: 50.0, scene.school_b.pk: 0.0}
    assert "燕赵科技职业技术大学" in text and "石家庄职业技术学院" in text and "外省学院" not in text
    # The province's totals: 5 ledger students, 1 placed of 3 graduates, 2 unplaced, 3 helpers behind.
    for element, shown in (
        ("province-rate", "33.3%"),
        ("province-unplaced", "2"),
        ("province-ledger", "5"),
        ("province-helpers-behind", "3"),
    ):
        assert re.search(rf'id="{element}">{re.escape(shown)}<', text), element


def test_each_figure_links_to_the_student_list_of_its_school_and_filters(scene: Province, as_user) -> None:  # type: ignore[no-untyped-def]
    rows = school_rows(as_user(scene.office).get(PROVINCE).content.decode())
    school_b = str(scene.school_b.public_id)
    links = {name: url for name, (_value, url) in rows[school_b].items() if url}
    expected = {
        "school-ledger": {"in_ledger": ["yes"]},
        "school-behind": {"in_ledger": ["yes"], "compliant": ["no"]},
        "school-graduates": {"in_ledger": ["yes"], "graduating": ["2024"]},
        "school-placed": {"in_ledger": ["yes"], "graduating": ["2024"], "placed": ["yes"]},
        "school-unplaced": {"in_ledger": ["yes"], "graduating": ["2024"], "placed": ["no"]},
    }
    for name, filters in expected.items():
        url = urlsplit(links[name])
        assert url.path == reverse("students:list"), name
        assert parse_qs(url.query) == {"school": [school_b], **filters}, name


def test_each_figure_is_the_number_of_rows_of_the_list_it_opens(scene: Province, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(scene.office)
    rows = school_rows(client.get(PROVINCE).content.decode())
    opened = 0
    for school in (scene.school_a, scene.school_b):
        for name, (value, url) in rows[str(school.public_id)].items():
            if not url:
                continue
            response = client.get(url)
            assert response.context["page"].paginator.count == value, (school.code, name)
            assert {s.school_id for s in response.context["page"].object_list} <= {school.pk}, name
            opened += 1
    assert opened == 10
    page = client.get(rows[str(scene.school_b.public_id)]["school-ledger"][1]).content.decode()
    assert f"School: {scene.school_b.name_en or scene.school_b.name}" in html.unescape(page)


def _figures_open_their_lists(client, rows) -> int:  # type: ignore[no-untyped-def]
    opened = 0
    for figures in rows.values():
        for name, (value, url) in figures.items():
            if url:
                assert client.get(url).context["page"].paginator.count == value, name
                opened += 1
    return opened


def test_the_board_follows_each_write_at_once(scene: Province, as_user) -> None:  # type: ignore[no-untyped-def]
    """The board counts progress rows, which copy where each student stands; every service that moves a figure
    refreshes the row in its own transaction, so no nightly rebuild is needed to see it."""
    actor = system_user()
    wang, chen, sun = (Student.objects.get(name=n) for n in ("王芳", "陈静", "孙磊"))
    record_destination(actor=actor, student=wang, code="11", today=BOARD_DAY, employer_name="河北华信科技有限公司")
    end_assignment(
        actor=actor,
        assignment=HelperAssignment.objects.get(student=chen, ended_on__isnull=True),
        ended_on=BOARD_DAY,
        reason="周老师调岗",
        expected_version=None,
        today=BOARD_DAY,
    )
    sun.refresh_from_db()
    update_student(actor=actor, student=sun, expected_version=sun.version, status=StudentStatus.ENROLLED)
    client = as_user(scene.office)
    rows = school_rows(client.get(PROVINCE).content.decode())
    values = {school: {name: value for name, (value, _url) in figures.items()} for school, figures in rows.items()}
    # 王芳 placed (燕赵科技 2 of 2); 陈静 without a helper (石家庄 no helper behind); 孙磊 back as a 2024 graduate.
    assert values[str(scene.school_a.public_id)] == {
        "school-ledger": 3,
        "school-behind": 2,
        "school-helpers-behind": 2,
        "school-placed": 2,
        "school-graduates": 2,
        "school-unplaced": 0,
    }
    assert values[str(scene.school_b.public_id)] == {
        "school-ledger": 2,
        "school-behind": 2,
        "school-helpers-behind": 0,
        "school-placed": 0,
        "school-graduates": 2,
        "school-unplaced": 2,
    }
    assert _figures_open_their_lists(client, rows) == 10


def test_a_year_asked_for_counts_that_cohort(scene: Province, as_user) -> None:  # type: ignore[no-untyped-def]
    rows = school_rows(as_user(scene.office).get(PROVINCE, {"year": 2025}).content.decode())
    school_a = rows[str(scene.school_a.public_id)]
    assert (school_a["school-graduates"][0], school_a["school-unplaced"][0]) == (1, 1)  # 李强
    assert rows[str(scene.school_b.public_id)]["school-graduates"][0] == 0


def test_the_years_offered_run_from_the_first_to_the_last_ledger_graduation_of_its_schools(
    scene: Province, as_user
) -> None:  # type: ignore[no-untyped-def]
    b_class = OrgUnit.objects.get(kind=UnitKind.CLASS, path__startswith=scene.school_b.path)
    _ledger(b_class, "吴迪", cohort=2019)  # graduated in 2022
    _ledger(b_class, "郑伟", cohort=2017, status=StudentStatus.WITHDRAWN)  # withdrew: no graduation year
    other = OrgUnit.objects.get(kind=UnitKind.CLASS, path__startswith="/SX/")
    _ledger(other, "外省往届生", cohort=2015)  # another province's

    years = as_user(scene.office).get(PROVINCE).context["years"]

    assert years == [2025, 2024, 2023, 2022]


def test_a_school_leader_and_a_helper_may_not_open_it(scene: Province, as_user) -> None:  # type: ignore[no-untyped-def]
    assert as_user(scene.principal_a).get(PROVINCE).status_code == 403
    assert as_user(User.objects.get(username="zheng")).get(PROVINCE).status_code == 403


def test_the_province_office_is_sent_to_the_province_board(scene: Province, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(scene.office)
    assert client.get(reverse("reports:dashboard"))["Location"] == PROVINCE
    tabs = client.get(PROVINCE).content.decode()
    assert f'href="{PROVINCE}"' in tabs and 'aria-current="page"' in tabs


def test_the_number_of_queries_does_not_grow_with_the_schools(scene: Province, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(scene.office)
    client.get(PROVINCE)
    with CaptureQueriesContext(connection) as before:
        client.get(PROVINCE)
    third = _school("HBGY", "河北工业职业技术大学", scene.province)
    _ledger(third["class"], "马超")
    rebuild_progress(today=BOARD_DAY)
    with CaptureQueriesContext(connection) as after:
        page = client.get(PROVINCE)
    assert len(school_rows(page.content.decode())) == 3
    assert len(after.captured_queries) == len(before.captured_queries)
