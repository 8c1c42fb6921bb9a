"""The leaders' compliance page: who sees which view, the figures, the links behind them, constant queries."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bangfu.assistance.compliance import standing
from bangfu.assistance.models import ActivityKind, HelperAssignment, Metric, Period, Stage
from bangfu.assistance.progress import rebuild_progress
from bangfu.assistance.services import hand_over, record_activity, save_policy
from bangfu.organisation.models import Role, User
from bangfu.students.models import Student
from tests.assistance.helpers import english, ledger_student
from tests.conftest import TODAY, World
from tests.factories import make_staff, make_student, system_user

pytestmark = pytest.mark.usefixtures(english.__name__)

URL = reverse("assistance:compliance")
FIGURE = re.compile(r'<a href="([^"]+)" class="bf-figure[^"]*" data-figure="(\w+)">(\d+)</a>')


@dataclass
class Department:
    """dept1 of the world with a simple policy: one talk in the job-search stage, and a check-in every 30 days."""

    counsellor_ok: Student
    helper_ok: Student
    late: Student
    risky: Student
    unassigned: Student


def simple_policy(world: World) -> None:
    save_policy(
        actor=world.office,
        school=world.school,
        valid_from=dt.date(2023, 9, 1),
        standards=[
            {"stage": Stage.JOB_SEARCH, "metric": Metric.TALK, "min_count": 1, "period": Period.STAGE},
            {
                "stage": Stage.JOB_SEARCH,
                "metric": Metric.CHECK_IN,
                "min_count": 1,
                "period": Period.DAYS,
                "every_days": 30,
            },
        ],
    )


def log(helper: User, student: Student, kind: str, day: dt.date) -> None:
    record_activity(actor=helper, student=student, kind=kind, occurred_on=day, today=TODAY)


@pytest.fixture
def dept(world: World) -> Department:
    """In dept1 on 15 March 2024 (all in the job-search stage):
    - 郑银乐 (helper) helps `own` (nothing logged: overdue and at risk), 王芳 (all met) and 李强 (check-in overdue);
    - 赵辅导员 (counsellor) helps 张伟 (all met) and 刘备 (nothing logged: overdue and at risk);
    - 周杰 has no helper; `classmate` is not in the ledger; dept2 has one ledger student of its own.
    """
    simple_policy(world)
    helper, counsellor = world.helper, world.counsellor
    d = Department(
        helper_ok=ledger_student(world.class1, name="王芳", helper=helper),
        late=ledger_student(world.class1, name="李强", helper=helper),
        counsellor_ok=ledger_student(world.class1, name="张伟", helper=counsellor),
        risky=ledger_student(world.class1, name="刘备", helper=counsellor),
        unassigned=ledger_student(world.class1, name="周杰"),
    )
    dept2_teacher = make_staff("dept2teacher", Role.TEACHER, world.dept2, full_name="周老师")
    ledger_student(world.class2, name="陈晨", helper=dept2_teacher)
    for who, student in ((helper, d.helper_ok), (counsellor, d.counsellor_ok)):
        log(who, student, ActivityKind.TALK, dt.date(2024, 3, 1))
        log(who, student, ActivityKind.CHECK_IN, dt.date(2024, 3, 1))
    log(helper, d.late, ActivityKind.TALK, dt.date(2024, 3, 1))
    rebuild_progress(today=TODAY)  # the nightly job: every row judged on the same day
    return d


def figures(page: str) -> list[tuple[str, str, int]]:
    return [(html.unescape(href), name, int(value)) for href, name, value in FIGURE.findall(page)]


def row_of(page: str, label: str) -> dict[str, int]:
    """The figures of the table row headed `label`."""
    row = re.search(rf"<th scope=\"row\"[^>]*>(?:<a [^>]*>)?{re.escape(label)}(?:</a>)?</th>(.*?)</tr>", page, re.S)
    assert row, label
    return {name: value for _href, name, value in figures(row.group(1))}


def listed(client: Client, href: str) -> int:
    response = client.get(href)
    assert response.status_code == 200
    return response.context["page"].paginator.count


# --- who sees what ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["helper", "counsellor", "student_user"])
def test_staff_who_lead_nothing_are_refused(world: World, as_user, who) -> None:  # type: ignore[no-untyped-def]
    assert as_user(getattr(world, who)).get(URL).status_code == 403


def test_a_visitor_must_log_in(world: World, client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_department_leader_opens_their_department_directly(world: World, as_user, dept) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.leader)
    page = client.get(URL).content.decode()
    assert "Compliance with the standards: 服装工程系" in page
    assert "All departments" not in page  # no school view to go back to
    assert client.get(URL, {"department": world.dept2.public_id}).status_code == 404
    assert client.get(URL, {"department": "not-a-uuid"}).status_code == 404


@pytest.mark.parametrize("who", ["office", "principal"])
def test_the_office_and_the_school_leader_see_one_row_per_department(world: World, as_user, dept, who) -> None:  # type: ignore[no-untyped-def]
    page = as_user(getattr(world, who)).get(URL).content.decode()
    assert row_of(page, "服装工程系") == {
        "ledger": 6,
        "meeting": 2,
        "overdue": 4,
        "at_risk": 3,
        "unassigned": 1,
    }
    assert row_of(page, "机电工程系")["ledger"] == 1
    assert "另一所大学" not in page and row_of(page, "All departments")["ledger"] == 7


def test_the_school_view_drills_into_a_department(world: World, as_user, dept) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.office)
    school = client.get(URL).content.decode()
    drill = f"{URL}?department={world.dept1.public_id}"
    assert html.escape(drill) in school
    page = client.get(drill).content.decode()
    assert "All departments" in page and "郑银乐" in page
    assert as_user(world.outsider).get(drill).status_code == 404


# --- the figures -----------------------------------------------------------------------------------------------


def test_each_helper_with_caseload_compliance_late_and_at_risk(world: World, as_user, dept) -> None:  # type: ignore[no-untyped-def]
    page = as_user(world.leader).get(URL).content.decode()
    assert row_of(page, "郑银乐") == {"ledger": 3, "meeting": 1, "overdue": 2, "at_risk": 1}
    assert row_of(page, "赵辅导员") == {"ledger": 2, "meeting": 1, "overdue": 1, "at_risk": 1}
    assert row_of(page, "No helper") == {"unassigned": 1}
    assert row_of(page, "Whole department") == {"ledger": 6, "meeting": 2, "overdue": 4, "at_risk": 3}
    assert "33%" in page and "50%" in page
    assert "陈晨" not in page  # dept2


def test_a_handed_over_student_counts_for_the_new_helper_only(world: World, as_user, dept) -> None:  # type: ignore[no-untyped-def]
    # 李强 goes from 郑银乐 to 赵辅导员; 郑银乐 also stands by 张伟 as a second, non-primary helper.
    hand_over(
        actor=world.leader,
        student=dept.late,
        new_helper=world.counsellor,
        on=TODAY,
        note="交接：简历已改两稿",
        today=TODAY,
    )
    HelperAssignment.objects.create(
        student=dept.counsellor_ok, helper=world.helper, is_primary=False, started_on=TODAY, assigned_by=world.leader
    )
    rebuild_progress(today=TODAY)
    client = as_user(world.leader)
    page = client.get(URL).content.decode()
    assert row_of(page, "郑银乐") == {"ledger": 2, "meeting": 1, "overdue": 1, "at_risk": 1}
    assert row_of(page, "赵辅导员") == {"ledger": 3, "meeting": 1, "overdue": 2, "at_risk": 1}
    assert row_of(page, "Whole department") == {"ledger": 6, "meeting": 2, "overdue": 4, "at_risk": 3}
    for href, _name, value in figures(page):
        assert listed(client, href) == value, href
    board = client.get(reverse("reports:department")).context["board"]
    assert sorted((r.name, r.ledger.value, r.behind.value) for r in board.helpers_behind) == [
        ("赵辅导员", 3, 2),
        ("郑银乐", 2, 1),
    ]


def test_late_items_and_students_at_risk_say_why(world: World, as_user, dept) -> None:  # type: ignore[no-untyped-def]
    page = as_user(world.leader).get(URL).content.decode()
    late = page[page.index('id="late-table"') : page.index('id="risk-heading"')]
    risk = page[page.index('id="risk-table"') :]
    assert all(name in late for name in ("李强", "刘备", "周杰", "田斌臣"))
    assert "王芳" not in late and "张伟" not in late
    assert "Check-ins: overdue" in late
    assert "李强" not in risk and "王芳" not in risk
    assert "No helper assigned" in risk and "No contact for 158 days" in risk  # 刘备: silent since joining
    assert "1 item overdue" in risk


@pytest.mark.parametrize(
    ("who", "department"),
    [("leader", None), ("office", None), ("office", "dept1"), ("principal", "dept2"), ("other_leader", None)],
)
def test_every_figure_links_to_exactly_the_students_it_counts(world: World, as_user, dept, who, department) -> None:  # type: ignore[no-untyped-def]
    client = as_user(getattr(world, who))
    params = {"department": getattr(world, department).public_id} if department else {}
    shown = figures(client.get(URL, params).content.decode())
    assert len(shown) >= 8
    assert any(value > 0 for _href, _name, value in shown)
    for href, name, value in shown:
        assert listed(client, href) == value, (name, href)


def test_a_student_who_catches_up_leaves_the_late_list(world: World, as_user, dept) -> None:  # type: ignore[no-untyped-def]
    log(world.helper, dept.late, ActivityKind.CHECK_IN, TODAY)
    page = as_user(world.leader).get(URL).content.decode()
    assert row_of(page, "郑银乐") == {"ledger": 3, "meeting": 2, "overdue": 1, "at_risk": 1}


# --- constant number of queries --------------------------------------------------------------------------------


def grow(world: World, helpers: int, students_each: int) -> None:
    for i in range(helpers):
        teacher = make_staff(f"teacher{i}", Role.TEACHER, world.dept1, full_name=f"孙老师{i}")
        for j in range(students_each):
            ledger_student(world.class1, name=f"学生{i}{j}", helper=teacher)
        ledger_student(world.class2, name=f"二系学生{i}", helper=teacher)
    make_student(world.class1, name="不在台账")
    rebuild_progress(today=TODAY)


def queries_for(client: Client, params: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL, params).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("view", ["school", "department"])
def test_the_page_costs_the_same_queries_for_few_or_many_helpers(world: World, as_user, view) -> None:  # type: ignore[no-untyped-def]
    simple_policy(world)
    client = as_user(world.office)
    params = {"department": str(world.dept1.public_id)} if view == "department" else {}
    grow(world, helpers=1, students_each=1)
    few = queries_for(client, params)
    grow_more = 6
    for i in range(grow_more):
        teacher = make_staff(f"more{i}", Role.TEACHER, world.dept1, full_name=f"钱老师{i}")
        for j in range(4):
            ledger_student(world.class1, name=f"更多{i}{j}", helper=teacher)
    ledger_student(world.class1, name="无人帮扶")
    rebuild_progress(today=TODAY)
    many = queries_for(client, params)
    assert few == many
    page = client.get(URL, params).content.decode()
    assert "钱老师5" in page or view == "school"


def test_the_menu_shows_compliance_to_leaders_only(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    link = f'href="{URL}"'
    assert link in as_user(world.principal).get(reverse("students:list")).content.decode()
    assert link in as_user(world.leader).get(reverse("students:list")).content.decode()
    assert link not in as_user(world.helper).get(reverse("students:list")).content.decode()


def test_superuser_sees_every_school(world: World, as_user, dept) -> None:  # type: ignore[no-untyped-def]
    page = as_user(system_user()).get(URL).content.decode()
    assert "服装工程系" in page and row_of(page, "All departments")["ledger"] == 7


def test_a_filter_the_progress_row_does_not_keep_is_refused_not_ignored(world: World) -> None:
    """The boards count progress rows with the student list's filters; one the row cannot answer (the cohort, the
    ledger's leavers) must fail loudly rather than count every student."""
    with pytest.raises(TypeError, match="cohort"):
        standing(world.office, cohort=2022)
    with pytest.raises(TypeError, match="ledger student"):
        standing(world.office, in_ledger=False)
    assert standing(world.office, in_ledger=True, graduating=None).count() == standing(world.office).count()
