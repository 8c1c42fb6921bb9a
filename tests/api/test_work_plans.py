"""The plan per student (一生一策) through the API: writing the first plan, changing it with the version read,
and the review each semester."""

import pytest

from bangfu.assistance.models import Plan, PlanReview
from bangfu.assistance.services import save_plan
from tests.api.work_helpers import D, client, on
from tests.conftest import TODAY, World

PLAN = {
    "direction": "job",
    "industries": "服装设计、电子商务",
    "places": "石家庄、辛集",
    "near_home": True,
    "salary_expectation": 4500,
    "strengths": "动手能力强，做事踏实",
    "needs": "面试紧张，需要模拟面试；缺少正装",
}


def test_there_is_no_plan_until_one_is_written(world: World) -> None:
    response = client(world.helper).get(f"/students/{world.own.public_id}/plan")

    assert response.status_code == 404


def test_the_helper_writes_the_first_plan(world: World) -> None:
    with on(TODAY):
        response = client(world.helper).put(f"/students/{world.own.public_id}/plan", PLAN)

    assert response.status_code == 201
    body = response.json()
    plan = Plan.objects.get(student=world.own)
    assert body["id"] == str(plan.public_id)
    assert {k: body[k] for k in PLAN} == PLAN
    assert (body["version"], body["reviews"], body["updated_by"]["name"]) == (1, [], "郑银乐")
    assert client(world.student_user).get(f"/students/{world.own.public_id}/plan").json()["needs"] == PLAN["needs"]


def test_a_change_needs_the_version_read(world: World) -> None:
    save_plan(actor=world.helper, student=world.own, expected_version=None, today=TODAY, **PLAN)
    api = client(world.counsellor)
    path = f"/students/{world.own.public_id}/plan"

    with on(TODAY):
        changed = api.put(path, PLAN | {"direction": "public_exam", "version": 1})
        stale = api.put(path, PLAN | {"direction": "army", "version": 1})
        blind = api.put(path, PLAN | {"direction": "army"})  # wrote as if there were no plan

    assert changed.status_code == 200
    assert (changed.json()["direction"], changed.json()["version"]) == ("public_exam", 2)
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    assert (blind.status_code, blind.json()["code"]) == (409, "stale")
    assert Plan.objects.get(student=world.own).direction == "public_exam"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"direction": "lottery"}, "direction"),
        ({"salary_expectation": 300_000}, "salary_expectation"),
        ({"salary_expectation": -1}, "salary_expectation"),
        ({"version": 3}, "version"),
        ({"needs": "缺\x00钱"}, "needs"),
    ],
)
def test_a_bad_plan_is_refused_and_nothing_is_written(world: World, change: dict, field: str) -> None:  # type: ignore[type-arg]
    with on(TODAY):
        response = client(world.helper).put(f"/students/{world.own.public_id}/plan", PLAN | change)

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    assert not Plan.objects.exists()


def test_a_review_each_semester_and_a_second_one_replaces_the_notes(world: World) -> None:
    save_plan(actor=world.helper, student=world.own, expected_version=None, today=TODAY, **PLAN)
    api = client(world.helper)
    path = f"/students/{world.own.public_id}/plan/reviews"

    with on(D(2023, 12, 20)):
        autumn = api.post(path, {"notes": "第五学期：简历已修改两次，参加秋季招聘会一次。"})
    with on(TODAY):
        first = api.post(path, {"notes": "第六学期：投递三家企业"})
        second = api.post(path, {"notes": "第六学期：已获一家企业面试通知"})
        plan = api.get(f"/students/{world.own.public_id}/plan").json()

    assert [r.status_code for r in (autumn, first, second)] == [201, 201, 201]
    assert (second.json()["semester"], second.json()["reviewed_on"]) == (6, "2024-03-15")
    assert [(r["semester"], r["notes"]) for r in plan["reviews"]] == [
        (6, "第六学期：已获一家企业面试通知"),
        (5, "第五学期：简历已修改两次，参加秋季招聘会一次。"),
    ]
    assert plan["reviews"][0]["reviewer"]["name"] == "郑银乐"


def test_a_review_needs_a_plan_and_notes(world: World) -> None:
    api = client(world.helper)
    path = f"/students/{world.own.public_id}/plan/reviews"

    with on(TODAY):
        without_plan = api.post(path, {"notes": "期中回顾"})
        save_plan(actor=world.helper, student=world.own, expected_version=None, today=TODAY, **PLAN)
        empty = api.post(path, {"notes": "   "})

    assert without_plan.status_code == 422
    assert "plan" in without_plan.json()["detail"]
    assert (empty.status_code, list(empty.json()["errors"])) == (422, ["notes"])
    assert not PlanReview.objects.exists()
