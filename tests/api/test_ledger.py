"""Ledger entries through the API: joining, changing, leaving, and who sees family situation and disability."""

import datetime as dt

import pytest

from bangfu.audit.models import AccessAction, AccessLog
from bangfu.students.models import LedgerEntry
from tests.conftest import World

FAMILY = "父亲车祸去世，母亲改嫁，由七十多岁务农的祖父母抚养。"


def _join(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "joined_on": "2023-10-08",
        "reason": "入学普查：母亲二级肢体残疾，家庭享受低保",
        "categories": ["subsistence_allowance", "disabled_parent"],
        "hardship_level": "hardship",
        "family_situation": "母亲二级肢体残疾，父亲在外打零工，妹妹读初中。",
        "source": "survey",
    }
    data.update(overrides)
    return data


def test_a_counsellor_reads_the_family_situation_and_the_read_is_logged(world: World, api) -> None:
    response = api(world.counsellor).get(f"/students/{world.own.public_id}/ledger-entries")

    assert response.status_code == 200
    [entry] = response.json()
    assert entry["family_situation"] == FAMILY
    assert entry["categories"] == [
        {"category": "orphan", "verified_on": None, "has_evidence": False},
        {"category": "poverty_alleviated", "verified_on": None, "has_evidence": False},
    ]
    log = AccessLog.objects.get(action=AccessAction.VIEW_SENSITIVE)
    assert (log.actor, log.student, log.fields) == (world.counsellor, world.own, "family_situation")


@pytest.mark.parametrize("persona", ["helper", "leader", "principal", "office"])
def test_roles_that_may_view_sensitive_data_see_it(world: World, api, persona: str) -> None:
    entry = world.own.ledger_entries.get()

    response = api(getattr(world, persona)).get(f"/ledger-entries/{entry.public_id}")

    assert response.json()["family_situation"] == FAMILY
    assert AccessLog.objects.filter(actor=getattr(world, persona), action=AccessAction.VIEW_SENSITIVE).count() == 1


def test_the_student_sees_their_entry_without_the_sensitive_fields_and_nothing_is_logged(world: World, api) -> None:
    response = api(world.student_user).get(f"/students/{world.own.public_id}/ledger-entries")

    [entry] = response.json()
    assert entry["categories"]
    assert (entry["family_situation"], entry["disability_level"]) == (None, None)
    assert FAMILY not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_a_read_without_sensitive_content_is_not_logged(world: World, api) -> None:
    api(world.counsellor).get(f"/students/{world.classmate.public_id}/ledger-entries")

    assert not AccessLog.objects.exists()


def test_a_counsellor_puts_a_student_in_the_ledger(world: World, api) -> None:
    response = api(world.counsellor).post(f"/students/{world.classmate.public_id}/ledger-entries", _join())

    assert response.status_code == 201
    body = response.json()
    entry = LedgerEntry.objects.get(student=world.classmate)
    assert body["id"] == str(entry.public_id)
    assert body["is_open"] is True
    assert body["joined_by"] == {"id": str(world.counsellor.public_id), "name": "赵辅导员"}
    assert sorted(c["category"] for c in body["categories"]) == ["disabled_parent", "subsistence_allowance"]
    assert entry.join_reason == "入学普查：母亲二级肢体残疾，家庭享受低保"
    listed = api(world.counsellor).get("/students", in_ledger="true").json()["items"]
    assert {s["name"] for s in listed} == {"田斌臣", "刘洋"}


def test_a_student_already_in_the_ledger_cannot_join_again(world: World, api) -> None:
    response = api(world.counsellor).post(f"/students/{world.own.public_id}/ledger-entries", _join())

    assert response.status_code == 422
    assert "__all__" in response.json()["errors"]
    assert world.own.ledger_entries.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"categories": []}, "categories"),
        ({"categories": ["rich"]}, "categories"),
        ({"joined_on": "2999-01-01"}, "joined_on"),
        ({"disability_level": "2"}, "disability_level"),
    ],
)
def test_joining_with_bad_input_is_refused_and_nothing_is_written(
    world: World, api, overrides: dict[str, object], field: str
) -> None:
    response = api(world.counsellor).post(f"/students/{world.classmate.public_id}/ledger-entries", _join(**overrides))

    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert not LedgerEntry.objects.filter(student=world.classmate).exists()


def test_a_helper_who_may_not_manage_the_ledger_gets_403(world: World, api) -> None:
    entry = world.own.ledger_entries.get()

    response = api(world.helper).patch(
        f"/ledger-entries/{entry.public_id}", {"hardship_level": "general", "version": 1}
    )

    assert response.status_code == 403


def test_an_entry_is_updated_with_its_version_and_a_stale_update_is_409(world: World, api) -> None:
    entry = world.own.ledger_entries.get()
    leader, counsellor = api(world.leader), api(world.counsellor)

    first = leader.patch(
        f"/ledger-entries/{entry.public_id}",
        {"categories": ["poverty_alleviated", "orphan", "student_loan"], "hardship_level": "hardship", "version": 1},
    )
    second = counsellor.patch(f"/ledger-entries/{entry.public_id}", {"hardship_level": "general", "version": 1})

    assert first.status_code == 200
    assert first.json()["version"] == 2
    assert second.status_code == 409
    entry.refresh_from_db()
    assert entry.hardship_level == "hardship"
    assert sorted(entry.categories.values_list("category", flat=True)) == [
        "orphan",
        "poverty_alleviated",
        "student_loan",
    ]


def test_leaving_needs_a_reason(world: World, api) -> None:
    entry = world.own.ledger_entries.get()

    response = api(world.counsellor).post(
        f"/ledger-entries/{entry.public_id}/leave", {"left_on": "2024-03-01", "reason": " ", "version": 1}
    )

    assert response.status_code == 422
    assert response.json()["errors"] == {"reason": ["Leaving the ledger needs a reason."]}
    entry.refresh_from_db()
    assert entry.left_on is None


def test_a_student_leaves_the_ledger(world: World, api) -> None:
    entry = world.own.ledger_entries.get()

    response = api(world.counsellor).post(
        f"/ledger-entries/{entry.public_id}/leave",
        {"left_on": "2024-03-01", "reason": "家庭经济状况好转，经年度复核退出", "version": 1},
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["is_open"], body["left_on"], body["left_by"]["name"]) == (False, "2024-03-01", "赵辅导员")
    entry.refresh_from_db()
    assert entry.left_on == dt.date(2024, 3, 1)
    assert api(world.counsellor).get(f"/students/{world.own.public_id}").json()["in_ledger"] is False


def test_leaving_with_a_stale_version_is_409(world: World, api) -> None:
    entry = world.own.ledger_entries.get()
    api(world.leader).patch(f"/ledger-entries/{entry.public_id}", {"intends_to_work": False, "version": 1})

    response = api(world.counsellor).post(
        f"/ledger-entries/{entry.public_id}/leave", {"left_on": "2024-03-01", "reason": "毕业", "version": 1}
    )

    assert response.status_code == 409
    entry.refresh_from_db()
    assert entry.left_on is None
