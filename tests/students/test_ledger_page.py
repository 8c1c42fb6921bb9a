"""The department ledger page: who is in, who joined and left this semester, counts by category."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bangfu.students.queries import Semester, semester_of
from bangfu.students.services import leave_ledger
from tests.conftest import TODAY
from tests.students.pages import ledger_student, url

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("today", "start", "end"),
    [
        (dt.date(2024, 3, 15), dt.date(2024, 3, 1), dt.date(2024, 8, 31)),
        (dt.date(2024, 3, 1), dt.date(2024, 3, 1), dt.date(2024, 8, 31)),
        (dt.date(2024, 8, 31), dt.date(2024, 3, 1), dt.date(2024, 8, 31)),
        (dt.date(2024, 9, 1), dt.date(2024, 9, 1), dt.date(2025, 2, 28)),
        (dt.date(2023, 12, 31), dt.date(2023, 9, 1), dt.date(2024, 2, 29)),
        (dt.date(2024, 2, 29), dt.date(2023, 9, 1), dt.date(2024, 2, 29)),
        (dt.date(2025, 1, 10), dt.date(2024, 9, 1), dt.date(2025, 2, 28)),
    ],
)
def test_semesters_run_september_to_february_and_march_to_august(today, start, end):
    assert semester_of(today) == Semester(start, end)


@pytest.fixture
def spring_2024(world, time_machine):
    """Spring semester 2024: one student joined in it, one left in it, one joined last autumn."""
    time_machine.move_to(dt.datetime(2024, 3, 15, 10, 0, tzinfo=SHANGHAI), tick=False)
    joined = ledger_student(
        world.class1, name="钱芳", categories=["rural", "student_loan"], joined_on=dt.date(2024, 3, 4)
    )
    autumn = ledger_student(world.class2, name="吴昊", categories=["rural"], joined_on=dt.date(2023, 10, 9))
    gone = ledger_student(world.class2, name="冯丽", categories=["zero_employment"], joined_on=dt.date(2023, 10, 9))
    leave_ledger(
        actor=world.other_leader,
        entry=gone.ledger_entries.get(),
        left_on=dt.date(2024, 3, 8),
        reason="已签订劳动合同",
        expected_version=None,
        today=TODAY,
    )
    return {"joined": joined, "autumn": autumn, "gone": gone}


def test_office_sees_the_school_figures(world, as_user, spring_2024):
    response = as_user(world.office).get(url("ledger"))
    figures = response.context["figures"]
    assert figures["in_ledger"] == 3  # 田斌臣, 钱芳, 吴昊
    assert figures["joined"] == 1 and figures["left"] == 1
    assert figures["unassigned"] == 2  # 钱芳 and 吴昊 have no helper
    assert figures["by_category"] == {"poverty_alleviated": 1, "orphan": 1, "rural": 2, "student_loan": 1}
    html = response.content.decode()
    assert "已签订劳动合同" in html and "王主任" in html  # who decided the leave
    assert "2024-03-01" in html and "2024-08-31" in html


def test_leader_sees_only_their_department(world, as_user, spring_2024):
    response = as_user(world.leader).get(url("ledger"))
    figures = response.context["figures"]
    assert figures["in_ledger"] == 2 and figures["joined"] == 1 and figures["left"] == 0
    assert [s.name for s in response.context["page"]] == ["田斌臣", "钱芳"]
    assert "吴昊" not in response.content.decode()
    choices = dict(response.context["form"].fields["department"].choices)
    assert str(world.dept2.public_id) not in choices


def test_filter_by_department(world, as_user, spring_2024):
    response = as_user(world.office).get(url("ledger"), {"department": world.dept2.public_id})
    figures = response.context["figures"]
    assert figures["in_ledger"] == 1 and figures["joined"] == 0 and figures["left"] == 1
    assert figures["by_category"] == {"rural": 1}
    assert [s.name for s in response.context["page"]] == ["吴昊"]


def test_category_counts_link_to_the_student_list(world, as_user, spring_2024):
    html = as_user(world.office).get(url("ledger")).content.decode()
    assert f"{url('list')}?in_ledger=yes&amp;category=rural" in html


def test_counts_match_the_list_they_link_to(world, as_user, spring_2024):
    client = as_user(world.leader)
    figures = client.get(url("ledger")).context["figures"]
    listed = client.get(url("list"), {"in_ledger": "yes"}).context["page"].paginator.count
    unassigned = client.get(url("list"), {"unassigned": "on"}).context["page"].paginator.count
    assert listed == figures["in_ledger"]
    assert unassigned == figures["unassigned"]


def test_the_list_pages_through_exactly_the_students_the_figure_counts(world, as_user, spring_2024):
    more = [ledger_student(world.class1, name=f"帮扶学生{i:02d}", categories=["rural"]) for i in range(51)]
    client = as_user(world.office)

    first, second = client.get(url("ledger")), client.get(url("ledger"), {"page": 2})

    assert first.context["figures"]["in_ledger"] == first.context["page"].paginator.count == 54
    names = [s.name for s in first.context["page"]] + [s.name for s in second.context["page"]]
    assert len(names) == 54 and set(names) == {"田斌臣", "钱芳", "吴昊", *(s.name for s in more)}


def test_last_semester_moves_are_not_counted_after_the_semester_turns(world, as_user, spring_2024, time_machine):
    time_machine.move_to(dt.datetime(2024, 9, 2, 10, 0, tzinfo=SHANGHAI), tick=False)
    figures = as_user(world.office).get(url("ledger")).context["figures"]
    assert figures["joined"] == 0 and figures["left"] == 0 and figures["in_ledger"] == 3


def test_helper_sees_the_ledger_of_their_students(world, as_user, spring_2024):
    response = as_user(world.helper).get(url("ledger"))
    assert response.context["figures"]["in_ledger"] == 1
    assert [s.name for s in response.context["page"]] == ["田斌臣"]


def test_student_user_is_sent_to_their_record(world, as_user):
    response = as_user(world.student_user).get(url("ledger"))
    assert response.status_code == 302 and response.url == url("me")


def test_ledger_page_makes_a_fixed_number_of_queries(world, as_user, spring_2024, django_assert_max_num_queries):
    for i in range(10):
        ledger_student(world.class1, name=f"学生{i}", categories=["rural"], joined_on=dt.date(2024, 3, 5))
    client = as_user(world.office)
    # 17th: the subsidies paid to the page's students; 18th: the user's helped students (permissions.helped_ids)
    with django_assert_max_num_queries(18):
        assert client.get(url("ledger")).status_code == 200
