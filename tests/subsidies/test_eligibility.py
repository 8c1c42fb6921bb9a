"""Who may apply for which subsidy, and the explanation of every refusal (the rules are data on the type).

On 15 March 2024 `world.own` (cohort 2021, three-year programme) is in the job-search stage and in the ledger as
poverty-alleviated and orphan; `world.classmate` is not in the ledger.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from bangfu.students.models import Student
from bangfu.students.services import join_ledger, leave_ledger
from bangfu.subsidies.models import Application, SubsidyType
from bangfu.subsidies.services import create_application, eligibility, install_default_types, save_subsidy_type
from tests.conftest import TODAY, World
from tests.factories import make_student, system_user

D = dt.date
JOB_SEARCH_CATEGORIES = (
    "Minimum-living-allowance household, Household lifted out of poverty (formerly registered poor), "
    "Child of disabled parent(s), State-supported extreme poverty, Orphan, Student with a disability, "
    "Holds a national student loan"
)
NOT_IN_LEDGER = "Only students in the ledger of disadvantaged students may apply."
INACTIVE = "This subsidy is not offered at present."
OTHER_SCHOOL = "This subsidy is offered by another school."


@pytest.fixture
def types(world: World) -> dict[str, SubsidyType]:
    return {t.code: t for t in install_default_types(actor=world.office, school=world.school)}


def in_ledger(world: World, name: str, categories: list[str], cohort: int = 2021) -> Student:
    student = make_student(world.class1, name=name, cohort=cohort)
    join_ledger(
        actor=system_user(),
        student=student,
        joined_on=D(cohort, 11, 1),
        reason="入学普查",
        categories=categories,
        today=TODAY,
    )
    return student


def reasons(student: Student, subsidy_type: SubsidyType, today: dt.date = TODAY) -> list[str]:
    return eligibility(student, subsidy_type, today).reasons


@pytest.mark.parametrize("code", ["national_grant", "hardship_subsidy", "job_search", "medical_exam", "travel"])
def test_a_final_year_ledger_student_in_a_qualifying_category_may_apply_for_every_default(
    world: World, types: dict[str, SubsidyType], code: str
) -> None:
    verdict = eligibility(world.own, types[code], TODAY)

    assert verdict.reasons == []
    assert verdict.eligible is True


def test_a_category_outside_the_list_is_refused_with_the_list(world: World, types: dict[str, SubsidyType]) -> None:
    rural = in_ledger(world, "马晓东", ["rural", "ethnic_minority"])

    verdict = eligibility(rural, types["job_search"], TODAY)

    assert verdict.eligible is False
    assert verdict.reasons == [f"It is for students in one of these categories: {JOB_SEARCH_CATEGORIES}."]


@pytest.mark.parametrize(
    "category", ["subsistence_allowance", "disabled_parent", "extreme_poverty", "disabled", "student_loan"]
)
def test_any_one_qualifying_category_is_enough(world: World, types: dict[str, SubsidyType], category: str) -> None:
    student = in_ledger(world, "李娜", ["rural", category])

    assert reasons(student, types["job_search"]) == []


def test_a_type_without_categories_takes_every_ledger_student(world: World, types: dict[str, SubsidyType]) -> None:
    rural = in_ledger(world, "马晓东", ["rural"])

    assert reasons(rural, types["hardship_subsidy"]) == []


def test_a_student_outside_the_ledger_is_refused(world: World, types: dict[str, SubsidyType]) -> None:
    assert reasons(world.classmate, types["hardship_subsidy"]) == [NOT_IN_LEDGER]
    assert reasons(world.classmate, types["job_search"]) == [NOT_IN_LEDGER]


def test_a_student_who_left_the_ledger_is_refused(world: World, types: dict[str, SubsidyType]) -> None:
    leave_ledger(
        actor=system_user(),
        entry=world.own.ledger_entries.get(),
        left_on=D(2024, 3, 1),
        reason="已签约就业，家庭经济状况好转",
        expected_version=None,
        today=TODAY,
    )

    assert reasons(world.own, types["job_search"]) == [NOT_IN_LEDGER]


def test_the_job_search_subsidy_waits_for_the_final_year(world: World, types: dict[str, SubsidyType]) -> None:
    first_year = in_ledger(world, "张伟", ["subsistence_allowance"], cohort=2023)

    assert reasons(first_year, types["job_search"]) == [
        "It can be applied for in these stages: Job search; the student is in the stage “Study”."
    ]
    assert reasons(first_year, types["job_search"], today=D(2025, 9, 1)) == []


def test_a_new_student_is_in_the_enrolment_stage(world: World, types: dict[str, SubsidyType]) -> None:
    fresher = in_ledger(world, "王小雨", ["orphan"], cohort=2023)

    assert reasons(fresher, types["travel"], today=D(2023, 10, 8)) == [
        "It can be applied for in these stages: Job search, After leaving; the student is in the stage “Enrolment”."
    ]
    assert reasons(fresher, types["national_grant"], today=D(2023, 10, 8)) == []


def test_travel_is_still_open_after_leaving(world: World, types: dict[str, SubsidyType]) -> None:
    graduate = in_ledger(world, "赵磊", ["orphan"], cohort=2020)

    assert reasons(graduate, types["travel"]) == []
    assert reasons(graduate, types["job_search"]) == [
        "It can be applied for in these stages: Job search; the student is in the stage “After leaving”."
    ]


def test_an_inactive_type_is_refused(world: World, types: dict[str, SubsidyType]) -> None:
    job = types["job_search"]
    save_subsidy_type(actor=world.office, school=world.school, subsidy_type=job, expected_version=1, is_active=False)

    assert reasons(world.own, SubsidyType.objects.get(pk=job.pk)) == [INACTIVE]


def test_a_type_of_another_school_is_refused(world: World) -> None:
    theirs = install_default_types(actor=world.outsider, school=world.other_school)
    hardship = next(t for t in theirs if t.code == "hardship_subsidy")

    assert reasons(world.own, hardship) == [OTHER_SCHOOL]


def test_every_reason_is_given_at_once(world: World, types: dict[str, SubsidyType]) -> None:
    theirs = save_subsidy_type(
        actor=world.outsider,
        school=world.other_school,
        code="job_search",
        name="求职创业补贴",
        name_en="Job-search and entrepreneurship subsidy",
        categories=["subsistence_allowance"],
        stages=["job_search"],
        amount=Decimal("1000"),
        is_active=False,
    )
    fresher = in_ledger(world, "王小雨", ["rural"], cohort=2023)

    assert reasons(fresher, theirs) == [
        INACTIVE,
        OTHER_SCHOOL,
        "It is for students in one of these categories: Minimum-living-allowance household.",
        "It can be applied for in these stages: Job search; the student is in the stage “Study”.",
    ]


def test_a_refused_application_carries_the_explanation_and_nothing_is_written(
    world: World, types: dict[str, SubsidyType]
) -> None:
    rural = in_ledger(world, "马晓东", ["rural"], cohort=2023)

    with pytest.raises(ValidationError) as error:
        create_application(
            actor=world.counsellor,
            student=rural,
            subsidy_type=types["job_search"],
            amount=None,
            reason="家庭困难，申请求职补贴。",
            today=TODAY,
        )

    assert error.value.messages == [
        f"It is for students in one of these categories: {JOB_SEARCH_CATEGORIES}.",
        "It can be applied for in these stages: Job search; the student is in the stage “Study”.",
    ]
    assert {e.code for e in error.value.error_list} == {"not_eligible"}
    assert not Application.objects.exists()
