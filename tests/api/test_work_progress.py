"""Progress through the API: a student's progress row with its meters and risk, and the helper's due list,
most urgent first. Both read the progress rows only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bangfu.assistance.models import ActivityKind
from bangfu.organisation.models import Role
from bangfu.students.services import leave_ledger
from tests.api.work_helpers import D, client, ledger_student, log, on
from tests.conftest import TODAY, World
from tests.factories import make_staff, system_user


def test_the_progress_row_shows_meters_risk_and_why(world: World) -> None:
    response = client(world.helper).get(f"/students/{world.own.public_id}/progress")

    assert response.status_code == 200
    body = response.json()
    assert (body["stage"], body["stage_label"], body["computed_on"]) == ("job_search", "Job search", "2024-03-15")
    assert [(m["metric"], m["label"], m["done"], m["required"], m["text"]) for m in body["meters"]] == [
        ("talk", "Talks", 0, 3, "Talks 0/3"),
        ("resume_revision", "Résumé revisions", 0, 3, "Résumé revisions 0/3"),
        ("event_together", "Events together", 0, 3, "Events together 0/3"),
        ("effective_recommendation", "Effective recommendations", 0, 3, "Effective recommendations 0/3"),
    ]
    assert (body["standards_met"], body["standards_total"], body["next_due_on"]) == (0, 4, "2024-06-30")
    assert (body["risk"], body["risk_label"]) == (2, "At risk")
    assert body["risk_reasons"] == [
        {
            "code": "no_contact",
            "level": 2,
            "text": "No contact for 196 days",
            "days": 196,
            "share": None,
            "count": None,
        }
    ]


def test_logging_a_talk_through_the_api_clears_the_risk(world: World) -> None:
    api = client(world.helper)

    with on(TODAY):
        api.post(f"/students/{world.own.public_id}/activities", {"kind": "talk", "occurred_on": "2024-03-14"})
        body = api.get(f"/students/{world.own.public_id}/progress").json()

    assert (body["risk"], body["risk_reasons"], body["last_contact_on"]) == (0, [], "2024-03-14")
    assert body["meters"][0]["text"] == "Talks 1/3"
    assert body["next_due_text"] == "Next: an effective job recommendation by 2024-06-30"


def test_a_student_outside_the_ledger_has_no_progress(world: World) -> None:
    leave_ledger(
        actor=system_user(),
        entry=world.own.ledger_entries.get(),
        left_on=TODAY,
        reason="家庭情况好转",
        expected_version=None,
        today=TODAY,
    )

    assert client(world.helper).get(f"/students/{world.own.public_id}/progress").status_code == 404
    assert client(world.leader).get(f"/students/{world.classmate.public_id}/progress").status_code == 404


@pytest.fixture
def caseload(world: World) -> dict[str, object]:
    """The helper's students on 15 March 2024, from calm to urgent."""
    helper = world.helper
    # Job search, no contact since the stage began: at risk, like `own`.
    silent = ledger_student(world.class1, name="王磊", helper=helper, cohort=2021, joined_on=D(2023, 10, 9))
    # Study stage, a check-in every month is due: December and February missed.
    behind = ledger_student(world.class1, name="李娜", helper=helper, cohort=2022, joined_on=D(2023, 12, 1))
    log(helper, behind, ActivityKind.CHECK_IN, D(2024, 1, 20), today=TODAY)
    # Study stage, every month done, this month too: nothing due.
    done = ledger_student(world.class1, name="张伟", helper=helper, cohort=2022, joined_on=D(2024, 1, 2))
    for day in (D(2024, 1, 10), D(2024, 2, 10), D(2024, 3, 10)):
        log(helper, done, ActivityKind.CHECK_IN, day, today=TODAY)
    # Job search, talked this month: the talks are due by graduation.
    calm = ledger_student(world.class1, name="刘芳", helper=helper, cohort=2021, joined_on=D(2023, 10, 9))
    log(helper, calm, ActivityKind.TALK, D(2024, 3, 1), today=TODAY)
    # Someone else's student, and a former ledger student of the helper: not on the list.
    other = make_staff("teacher2", Role.TEACHER, world.dept1, full_name="周老师")
    ledger_student(world.class1, name="赵强", helper=other, cohort=2021, joined_on=D(2023, 10, 9))
    left = ledger_student(world.class1, name="孙丽", helper=helper, cohort=2021, joined_on=D(2023, 10, 9))
    leave_ledger(
        actor=system_user(),
        entry=left.ledger_entries.get(),
        left_on=TODAY,
        reason="已签约",
        expected_version=None,
        today=TODAY,
    )
    return {"silent": silent, "behind": behind, "done": done, "calm": calm}


def test_the_due_list_holds_my_students_most_urgent_first(world: World, caseload: dict) -> None:  # type: ignore[type-arg]
    response = client(world.helper).get("/due")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["student"]["name"] for i in items] == ["田斌臣", "王磊", "李娜", "刘芳", "张伟"]
    assert response.json()["count"] == 5
    assert [(i["risk"], i["overdue_count"], i["next_due_on"]) for i in items] == [
        (2, 0, "2024-06-30"),
        (2, 0, "2024-06-30"),
        (1, 2, "2024-03-31"),
        (0, 0, "2024-06-30"),
        (0, 0, None),
    ]
    behind = items[2]
    assert (behind["stage"], behind["next_due_metric"]) == ("study", "check_in")
    assert behind["next_due_text"] == "Next: a check-in by 2024-03-31"
    assert [r["text"] for r in behind["risk_reasons"]] == ["2 items overdue"]
    assert (items[4]["next_due_metric"], items[4]["next_due_text"]) == (None, "")


@pytest.mark.parametrize("persona", ["leader", "office", "counsellor", "student_user", "outsider"])
def test_the_due_list_is_only_the_callers_own_students(world: World, caseload: dict, persona: str) -> None:  # type: ignore[type-arg]
    assert client(getattr(world, persona)).get("/due").json() == {"items": [], "count": 0}


def test_the_due_list_costs_the_same_queries_whatever_the_page_size(world: World, caseload: dict) -> None:  # type: ignore[type-arg]
    api = client(world.helper)
    api.get("/due")  # the token's first use is recorded once

    with CaptureQueriesContext(connection) as small:
        assert len(api.get("/due", page_size="1").json()["items"]) == 1
    with CaptureQueriesContext(connection) as large:
        assert len(api.get("/due", page_size="5", page="1").json()["items"]) == 5

    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
