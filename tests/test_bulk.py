"""The bulk writer's own parts: the public ids it hands out and its upsert, on both databases."""

from __future__ import annotations

import uuid

import pytest

from bangfu import bulk
from bangfu.assistance.models import StudentProgress
from tests.factories import make_school, make_student


def test_public_ids_are_distinct_random_uuids_in_the_stored_form() -> None:
    ids = bulk.random_uuid_hexes(20_000)

    assert len(set(ids)) == 20_000
    for text in [*ids[:50], bulk.random_uuid_hex()]:
        parsed = uuid.UUID(text)
        assert (parsed.hex, parsed.version, parsed.variant) == (text, 4, uuid.RFC_4122)
    assert bulk.random_uuid_hexes(0) == []


@pytest.mark.django_db
def test_an_upsert_inserts_new_rows_and_replaces_the_rest_of_existing_ones() -> None:
    units = make_school()
    first, second = make_student(units["class1"], name="王芳"), make_student(units["class2"], name="李娜")
    row = {
        "computed_on": "2026-11-02",
        "stage": "study",
        "meters": [{"metric": "check_in", "done": 0}],
        "school_id": first.school_id,
        "department_id": first.department_id,
        "class_unit_id": first.class_unit_id,
    }
    bulk.upsert(StudentProgress, [{**row, "student_id": first.pk, "overdue_count": 2}], unique="student_id")
    kept = StudentProgress.objects.get(student=first).pk

    count = bulk.upsert(
        StudentProgress,
        [
            {**row, "student_id": first.pk, "meters": [{"metric": "check_in", "done": 1}], "risk_reasons": ["缺联系"]},
            {**row, "student_id": second.pk, "overdue_count": 1},
        ],
        unique="student_id",
    )

    assert count == 2
    assert list(
        StudentProgress.objects.order_by("student_id").values_list("student_id", "overdue_count", "meters")
    ) == [
        (first.pk, 0, [{"metric": "check_in", "done": 1}]),  # every column replaced, the missing one by its default
        (second.pk, 1, [{"metric": "check_in", "done": 0}]),
    ]
    assert StudentProgress.objects.get(student=first).pk == kept
    assert StudentProgress.objects.get(student=first).risk_reasons == ["缺联系"]
