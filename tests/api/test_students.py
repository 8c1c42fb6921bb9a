"""Students through the API: create, read, update, filters, pagination."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bangfu.assistance.services import assign_helper
from bangfu.organisation.models import Role
from bangfu.students.models import Student
from bangfu.students.services import join_ledger
from tests.conftest import World
from tests.factories import make_id_number, make_school, make_staff, make_student, system_user

ID_NUMBER = make_id_number(born=dt.date(2005, 2, 14), region="130182", seq=123)


def _new(world: World, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "class_unit": str(world.class1.public_id),
        "student_number": "2024010101",
        "name": "马晓燕",
        "gender": "F",
        "cohort": 2024,
        "id_number": ID_NUMBER,
        "ethnicity": "回族",
        "home_province": "河北省",
        "home_city": "保定市",
        "home_county": "阜平县",
        "phone": "13930112233",
    }
    data.update(overrides)
    return data


def test_the_office_creates_a_student(world: World, api) -> None:
    response = api(world.office).post("/students", _new(world))

    assert response.status_code == 201
    body = response.json()
    student = Student.objects.get(student_number="2024010101")
    assert body["id"] == str(student.public_id)
    assert body["class_unit"]["id"] == str(world.class1.public_id)
    assert body["department"]["id"] == str(world.dept1.public_id)
    assert body["id_number_masked"] == ID_NUMBER[:6] + "********" + ID_NUMBER[14:]
    assert body["birth_date"] == "2005-02-14"
    assert body["expected_graduation"] == "2027-06-30"
    assert (body["ethnicity"], body["home_county"], body["version"]) == ("回族", "阜平县", 1)
    assert student.history.get().history_user == world.office


def test_the_full_id_number_and_database_keys_never_leave(world: World, api) -> None:
    created = api(world.office).post("/students", _new(world))
    student = Student.objects.get(student_number="2024010101")

    for response in (
        created,
        api(world.office).get(f"/students/{student.public_id}"),
        api(world.office).get("/students"),
    ):
        text = response.content.decode()
        assert ID_NUMBER not in text
        assert student.id_number_hash not in text
        assert "cipher" not in text and '"pk"' not in text
    assert set(created.json()) >= {"id", "id_number_masked"}
    assert "id_number" not in created.json()


def test_an_invalid_id_number_is_refused_and_nothing_is_written(world: World, api) -> None:
    before = Student.objects.count()
    wrong_check_digit = ID_NUMBER[:17] + ("1" if ID_NUMBER[17] != "1" else "2")

    response = api(world.office).post("/students", _new(world, id_number=wrong_check_digit))

    assert response.status_code == 422
    assert response.json()["errors"]["id_number"] == [
        "The ID number's check digit is wrong: please check it for a typing error."
    ]
    assert response.json()["detail"]
    assert Student.objects.count() == before


def test_a_duplicate_student_number_is_refused(world: World, api) -> None:
    before = Student.objects.count()

    response = api(world.office).post("/students", _new(world, student_number=world.classmate.student_number))

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["student_number"]
    assert world.classmate.student_number in response.json()["errors"]["student_number"][0]
    assert Student.objects.count() == before


def test_a_request_that_does_not_fit_the_schema_is_422_with_field_errors(world: World, api) -> None:
    response = api(world.office).post("/students", {"class_unit": "C101", "name": "马晓燕", "gender": "X"})

    assert response.status_code == 422
    assert {"class_unit", "gender", "student_number", "cohort"} <= set(response.json()["errors"])


def test_a_class_of_another_school_does_not_exist_for_the_caller(world: World, api) -> None:
    other_class = make_school(code="THIRD", name="第三职业学院", departments=1)["class1"]

    response = api(world.office).post("/students", _new(world, class_unit=str(other_class.public_id)))

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["class_unit"]


def test_a_department_leader_creates_students_only_in_their_department(world: World, api) -> None:
    response = api(world.leader).post("/students", _new(world, class_unit=str(world.class2.public_id)))

    assert response.status_code == 403
    assert not Student.objects.filter(student_number="2024010101").exists()


@pytest.mark.parametrize("persona", ["helper", "counsellor", "principal", "student_user"])
def test_roles_that_do_not_create_students_get_403(world: World, api, persona: str) -> None:
    response = api(getattr(world, persona)).post("/students", _new(world))

    assert response.status_code == 403


def test_an_update_with_the_current_version_saves_and_bumps_the_version(world: World, api) -> None:
    client = api(world.counsellor)
    read = client.get(f"/students/{world.classmate.public_id}").json()

    response = client.patch(
        f"/students/{world.classmate.public_id}",
        {"phone": "13700001111", "address": "河北省辛集市旧城镇东街12号", "version": read["version"]},
    )

    assert response.status_code == 200
    assert response.json()["phone"] == "13700001111"
    assert response.json()["version"] == read["version"] + 1
    world.classmate.refresh_from_db()
    assert world.classmate.address == "河北省辛集市旧城镇东街12号"
    assert world.classmate.name == "刘洋"  # fields not sent are kept


def test_a_stale_update_is_409_and_the_first_save_is_kept(world: World, api) -> None:
    counsellor, leader = api(world.counsellor), api(world.leader)
    seen = counsellor.get(f"/students/{world.classmate.public_id}").json()["version"]
    first = leader.patch(f"/students/{world.classmate.public_id}", {"phone": "13511112222", "version": seen})

    second = counsellor.patch(f"/students/{world.classmate.public_id}", {"phone": "13633334444", "version": seen})

    assert first.status_code == 200
    assert second.status_code == 409
    assert "Someone else saved this record" in second.json()["detail"]
    world.classmate.refresh_from_db()
    assert world.classmate.phone == "13511112222"


def test_an_update_needs_a_version(world: World, api) -> None:
    response = api(world.counsellor).patch(f"/students/{world.classmate.public_id}", {"phone": "13511112222"})

    assert response.status_code == 422
    assert "version" in response.json()["errors"]


def test_null_is_refused_for_a_name(world: World, api) -> None:
    response = api(world.counsellor).patch(f"/students/{world.classmate.public_id}", {"name": None, "version": 1})

    assert response.status_code == 422
    world.classmate.refresh_from_db()
    assert world.classmate.name == "刘洋"


def test_an_update_can_move_a_student_to_another_class_in_scope(world: World, api) -> None:
    response = api(world.office).patch(
        f"/students/{world.classmate.public_id}", {"class_unit": str(world.class2.public_id), "version": 1}
    )

    assert response.status_code == 200
    assert response.json()["department"]["id"] == str(world.dept2.public_id)


def test_an_update_with_an_invalid_id_number_changes_nothing(world: World, api) -> None:
    response = api(world.office).patch(
        f"/students/{world.classmate.public_id}", {"id_number": "130182200502141", "phone": "13900000000", "version": 1}
    )

    assert response.status_code == 422
    assert "id_number" in response.json()["errors"]
    world.classmate.refresh_from_db()
    assert (world.classmate.phone, world.classmate.version) == ("", 1)


# --- list filters and pagination ----------------------------------------------------------------------------


def _names(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return [s["name"] for s in response.json()["items"]]


def test_the_list_shows_ledger_state_and_helper(world: World, api) -> None:
    items = {s["name"]: s for s in api(world.leader).get("/students").json()["items"]}

    assert items["田斌臣"]["in_ledger"] is True
    assert items["田斌臣"]["categories"] == ["orphan", "poverty_alleviated"]
    assert items["田斌臣"]["helper"] == {"id": str(world.helper.public_id), "name": "郑银乐"}
    assert (items["刘洋"]["in_ledger"], items["刘洋"]["helper"]) == (False, None)


def test_the_list_filters_like_the_list_page(world: World, api) -> None:
    office = api(world.office)
    unhelped = make_student(world.class2, name="王芳")
    join_ledger(
        actor=system_user(),
        student=unhelped,
        joined_on=dt.date(2023, 10, 8),
        reason="低保家庭",
        categories=["subsistence_allowance"],
    )

    assert _names(office.get("/students", q="田斌")) == ["田斌臣"]
    assert _names(office.get("/students", q=world.classmate.student_number)) == ["刘洋"]
    assert set(_names(office.get("/students", department=str(world.dept2.public_id)))) == {"陈静", "王芳"}
    assert _names(office.get("/students", class_unit=str(world.class1.public_id), sort="-name")) == ["田斌臣", "刘洋"]
    assert set(_names(office.get("/students", major=str(world.class1.parent.public_id)))) == {"田斌臣", "刘洋"}
    assert set(_names(office.get("/students", in_ledger="true"))) == {"田斌臣", "王芳"}
    assert set(_names(office.get("/students", in_ledger="false"))) == {"刘洋", "陈静"}
    assert _names(office.get("/students", unassigned="true")) == ["王芳"]
    assert _names(office.get("/students", category="orphan")) == ["田斌臣"]
    assert _names(office.get("/students", helper=str(world.helper.public_id))) == ["田斌臣"]
    assert len(_names(office.get("/students", cohort=2021))) == 4
    assert _names(office.get("/students", cohort=2020)) == []
    assert len(_names(office.get("/students", school=str(world.school.public_id)))) == 4
    assert _names(office.get("/students", school=str(world.other_school.public_id))) == []  # not the office's


def test_filters_never_widen_the_scope(world: World, api) -> None:
    response = api(world.helper).get("/students", department=str(world.dept2.public_id))

    assert _names(response) == []


def test_a_bad_filter_value_is_422(world: World, api) -> None:
    response = api(world.office).get("/students", category="rich", cohort="last-year")

    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"category", "cohort"}


def test_the_list_is_paginated(world: World, api) -> None:
    for i in range(5):
        make_student(world.class1, name=f"学生{i}")
    office = api(world.office)

    first = office.get("/students", page_size=3).json()
    last = office.get("/students", page_size=3, page=3).json()

    assert first["count"] == last["count"] == 8
    assert len(first["items"]) == 3
    assert len(last["items"]) == 2


def test_the_lists_query_count_does_not_grow_with_the_page_size(world: World, api) -> None:
    teacher = make_staff("teacher2", Role.TEACHER, world.dept1, full_name="周老师")
    for i in range(12):
        student = make_student(world.class1, name=f"困难学生{i}")
        join_ledger(
            actor=system_user(),
            student=student,
            joined_on=dt.date(2023, 9, 20),
            reason="入学普查",
            categories=["rural", "student_loan"],
        )
        assign_helper(actor=system_user(), student=student, helper=teacher, start=dt.date(2023, 10, 1))
    client = api(world.office)
    client.get("/students", page_size=1)  # the token's first use is recorded once

    with CaptureQueriesContext(connection) as small:
        assert len(client.get("/students", page_size=2).json()["items"]) == 2
    with CaptureQueriesContext(connection) as large:
        assert len(client.get("/students", page_size=15).json()["items"]) == 15

    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


def test_text_with_a_nul_character_is_refused(world: World, api) -> None:
    created = api(world.office).post("/students", _new(world, student_number="2024\x000101"))
    searched = api(world.office).get("/students", q="田\x00")

    assert created.status_code == 422
    assert list(created.json()["errors"]) == ["student_number"]
    assert searched.status_code == 422
    assert not Student.objects.filter(name="马晓燕").exists()


def test_an_explicit_null_names_the_field(world: World, api) -> None:
    response = api(world.counsellor).patch(
        f"/students/{world.classmate.public_id}", {"program_years": None, "birth_date": None, "version": 1}
    )

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["program_years"]
