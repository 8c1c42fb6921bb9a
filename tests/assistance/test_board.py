"""The helper's board ("my students"): urgency order, standards meters, risk reasons, quick entry from a phone."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bangfu.assistance.models import Activity, ActivityKind, RiskLevel
from bangfu.assistance.models import StudentProgress as Progress
from tests.assistance.helpers import english
from tests.assistance.work_helpers import HTMX, frozen, helped_student, texts, url
from tests.conftest import World

pytestmark = pytest.mark.usefixtures(frozen.__name__, english.__name__)


def card_of(html: str, student) -> str:  # type: ignore[no-untyped-def]
    start = html.index(f'id="card-{student.public_id}"')
    return html[start : html.index("</article>", start)]


def meter_text(html: str, metric: str) -> str:
    match = re.search(rf'data-metric="{metric}">([^<]*)<', html)
    assert match, f"no {metric} meter"
    return match.group(1).strip()


def test_the_card_shows_the_meters_of_the_stage_the_next_due_action_and_why_at_risk(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    html = card_of(as_user(world.helper).get(url("my_students")).content.decode(), world.own)
    assert "Job search" in html
    assert meter_text(html, "talk") == "Talks 0/3"
    assert meter_text(html, "resume_revision") == "Résumé revisions 0/3"
    assert meter_text(html, "event_together") == "Events together 0/3"
    assert meter_text(html, "effective_recommendation") == "Effective recommendations 0/3"
    assert "Next: an effective job recommendation by 2024-06-30" in html
    # Nothing logged since the job search began on 1 September 2023.
    assert "No contact for 196 days" in html and "At risk" in html
    # What the helper knew before: categories and the start of the help.
    assert "Orphan" in html and "Since 2021-11-01" in html


def test_a_monthly_check_in_meter_counts_this_month_and_the_months_missed(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    second_year = helped_student(world.class1, world.helper, name="王芳", cohort=2022)
    html = card_of(as_user(world.helper).get(url("my_students")).content.decode(), second_year)
    assert "Study" in html
    # Counted from joining the ledger (9 October 2023): October to February had no check-in.
    assert meter_text(html, "check_in") == "Check-ins this month 0/1, 5 months missed"
    assert "Next: a check-in by 2024-03-31" in html
    assert "5 items overdue" in html
    # In the study stage the quick entry offers a check-in first.
    assert re.search(r'value="check_in"[^>]*checked', html)


def test_students_come_most_urgent_first(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    calm = helped_student(world.class1, world.helper, name="平安")
    late = helped_student(world.class1, world.helper, name="迟到")
    soon = helped_student(world.class1, world.helper, name="将到")
    rows = {
        world.own: (RiskLevel.AT_RISK, 1, dt.date(2024, 6, 30)),
        late: (RiskLevel.WATCH, 3, dt.date(2024, 6, 30)),
        soon: (RiskLevel.WATCH, 1, dt.date(2024, 3, 31)),
        calm: (RiskLevel.NONE, 0, None),
    }
    for student, (risk, overdue, due) in rows.items():
        Progress.objects.filter(student=student).update(risk=risk, overdue_count=overdue, next_due_on=due)
    html = as_user(world.helper).get(url("my_students")).content.decode()
    order = sorted(rows, key=lambda s: html.index(f'id="card-{s.public_id}"'))
    assert [s.name for s in order] == ["田斌臣", "迟到", "将到", "平安"]
    assert "1 at risk." in html and "3 with overdue items." in html


def test_the_board_runs_the_same_number_of_queries_for_3_or_20_students(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.counsellor)

    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url("my_students"))
        assert response.status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    for i in range(3):
        helped_student(world.class1, world.counsellor, name=f"学生{i}", cohort=2021 + i % 2)
    small = queries()
    for i in range(3, 20):
        helped_student(world.class1, world.counsellor, name=f"学生{i}", cohort=2021 + i % 2)
    large = queries()
    assert len(large) == len(small), large
    assert not any('"assistance_activity"' in sql for sql in large)  # progress rows, never the activities


# --- quick entry -----------------------------------------------------------------------------------------------


def test_quick_entry_with_htmx_swaps_the_card_with_the_meter_moved(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.helper).post(
        url("quick_log", world.own), {"kind": "talk", "occurred_on": "2024-03-15", "notes": "谈求职意向"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<article") and "<html" not in html
    assert meter_text(html, "talk") == "Talks 1/3"
    assert "Heart-to-heart talk on 2024-03-15 recorded." in html
    talk = Activity.objects.get()
    assert (talk.kind, talk.occurred_on, talk.notes, talk.helper, talk.student) == (
        ActivityKind.TALK,
        dt.date(2024, 3, 15),
        "谈求职意向",
        world.helper,
        world.own,
    )


def test_quick_entry_without_javascript_returns_to_the_board(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    second_year = helped_student(world.class1, world.helper, name="王芳", cohort=2022)
    client = as_user(world.helper)
    response = client.post(url("quick_log", second_year), {"kind": "check_in", "occurred_on": "2024-03-14"})
    assert response.status_code == 302
    assert response["Location"] == url("my_students") + f"#card-{second_year.public_id}"
    assert texts(response) == ["Check-in on 2024-03-14 recorded for 王芳."]
    html = card_of(client.get(url("my_students")).content.decode(), second_year)
    assert meter_text(html, "check_in") == "Check-ins this month 1/1, 5 months missed"


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("2024-03-16", "The date cannot be in the future."),
        ("2021-08-31", "The date cannot be before the student&#x27;s enrolment (2021-09-01)."),
        ("", "This field is required."),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_quick_entry_refuses_bad_dates_and_writes_nothing(world: World, as_user, day, message, htmx) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.helper).post(
        url("quick_log", world.own), {"kind": "talk", "occurred_on": day, "notes": "谈话"}, **(HTMX if htmx else {})
    )
    assert response.status_code == 200
    html = card_of(response.content.decode(), world.own)
    assert message in html
    assert 'value="谈话"' in html  # what was typed is kept
    assert not Activity.objects.exists()
    assert meter_text(html, "talk") == "Talks 0/3"


def test_quick_entry_offers_only_a_check_in_or_a_talk(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.helper).post(
        url("quick_log", world.own), {"kind": "job_recommendation", "occurred_on": "2024-03-15"}, **HTMX
    )
    assert "Select a valid choice" in response.content.decode()
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("helper", "classmate", 404),  # not their student: invisible
        ("outsider", "own", 404),
        ("other_leader", "own", 404),
        ("counsellor", "own", 403),  # sees the student, is not the helper
        ("principal", "own", 403),
        ("student_user", "own", 403),
    ],
)
def test_quick_entry_outside_scope_is_404_and_for_a_non_helper_403(world: World, as_user, who, target, status) -> None:  # type: ignore[no-untyped-def]
    response = as_user(getattr(world, who)).post(
        url("quick_log", getattr(world, target)), {"kind": "talk", "occurred_on": "2024-03-15"}
    )
    assert response.status_code == status
    assert not Activity.objects.exists()


def test_a_department_leader_may_quick_log_and_lands_on_the_timeline(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.leader).post(url("quick_log", world.own), {"kind": "talk", "occurred_on": "2024-03-15"})
    assert response.status_code == 302 and response["Location"] == url("timeline", world.own)
    assert Activity.objects.get().helper == world.leader


def test_the_board_is_for_staff_only(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    assert as_user(world.student_user).get(url("my_students")).status_code == 403
    assert as_user(world.helper).post(url("my_students")).status_code == 405
