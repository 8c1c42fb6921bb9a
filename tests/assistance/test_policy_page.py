"""The policy settings page: the employment office sees the versions and adds one; bad input is explained."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from bangfu.assistance.models import ActivityKind, Metric, Period, Policy, Response, Stage, Standard
from bangfu.assistance.models import StudentProgress as Progress
from bangfu.assistance.rules import DEFAULT_RULES
from bangfu.assistance.services import record_activity, save_policy
from tests.assistance.helpers import english
from tests.conftest import World

pytestmark = pytest.mark.usefixtures(english.__name__)

URL = reverse("assistance:policy")
COMPLIANCE = reverse("assistance:compliance")
TODAY = dt.date(2024, 5, 10)  # the `own` student's job-search stage, seven weeks before graduation


@pytest.fixture
def frozen(time_machine):  # type: ignore[no-untyped-def]
    time_machine.move_to(dt.datetime(2024, 5, 10, 9, tzinfo=dt.UTC), tick=False)


def default_standards() -> list[dict[str, Any]]:
    return [
        {
            "stage": str(r.stage),
            "metric": str(r.metric),
            "min_count": r.min_count,
            "period": str(r.period),
            "every_days": r.every_days or "",
            "milestones": ",".join(str(m) for m in r.milestones),
        }
        for r in DEFAULT_RULES.standards
    ]


def posted(valid_from: dt.date | str = TODAY, standards: list[dict[str, Any]] | None = None, **changes: Any) -> dict:  # type: ignore[type-arg]
    """The form as the page sends it: the defaults, with `changes`, plus two blank rows of standards."""
    rows = default_standards() if standards is None else standards
    data: dict[str, Any] = {
        "valid_from": str(valid_from),
        "enrolment_semesters": 1,
        "job_search_semesters": 2,
        "follow_up_months": 12,
        "close_day": 10,
        "effective_needs_fit": "on",
        "effective_needs_action": "on",
        "risk_no_contact_days": 60,
        "risk_min_share": 50,
        "risk_months_before_graduation": 2,
        "risk_declines": 3,
        "note": "",
    }
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    rows = [*rows, {}, {}]
    data.update(
        {
            "standards-TOTAL_FORMS": len(rows),
            "standards-INITIAL_FORMS": len(rows) - 2,
            "standards-MIN_NUM_FORMS": 0,
            "standards-MAX_NUM_FORMS": 40,
        }
    )
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"standards-{i}-{key}"] = value
    return data


def with_row(stage: str, metric: str, **fields: Any) -> list[dict[str, Any]]:
    """The default standards with the row for (stage, metric) changed or added."""
    rows = [r for r in default_standards() if (r["stage"], r["metric"]) != (stage, metric)]
    row = {"stage": stage, "metric": metric, "min_count": 1, "period": Period.STAGE, "every_days": "", "milestones": ""}
    row.update(fields)
    return [*rows, row]


# --- who may open it ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["principal", "leader", "counsellor", "helper", "student_user"])
def test_only_the_employment_office_sets_the_policy(world: World, as_user, who) -> None:  # type: ignore[no-untyped-def]
    client = as_user(getattr(world, who))
    assert client.get(URL).status_code == 403
    assert client.post(URL, posted()).status_code == 403
    assert not Policy.objects.exists()


def test_the_office_of_another_school_cannot_reach_this_one(world: World, as_user, frozen) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.outsider)
    assert client.get(URL).status_code == 200  # their own school's page
    assert client.get(URL, {"school": world.school.public_id}).status_code == 404
    assert client.post(f"{URL}?school={world.school.public_id}", posted()).status_code == 404
    assert not Policy.objects.exists()


def test_without_a_version_the_page_shows_the_articles_defaults(world: World, as_user, frozen) -> None:  # type: ignore[no-untyped-def]
    page = as_user(world.office).get(URL).content.decode()
    assert "Default standards" in page and "In force" in page
    assert "No version has been configured for this school" in page
    assert "Effective job recommendations" in page and "at 1, 3, 6, 12 months after leaving" in page
    # The form starts from the rules in force, from the first day of next month.
    assert 'value="2024-06-01"' in page and 'name="standards-7-milestones"' in page


def test_past_in_force_and_scheduled_versions_are_told_apart(world: World, as_user, time_machine) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to(dt.datetime(2023, 8, 1, 9, tzinfo=dt.UTC), tick=False)
    talks = [{"stage": Stage.JOB_SEARCH, "metric": Metric.TALK, "min_count": 4}]
    save_policy(actor=world.office, school=world.school, valid_from=dt.date(2023, 9, 1), standards=talks)
    time_machine.move_to(dt.datetime(2024, 5, 10, 9, tzinfo=dt.UTC), tick=False)
    save_policy(actor=world.office, school=world.school, valid_from=dt.date(2024, 9, 1), standards=talks, note="新学年")
    page = as_user(world.office).get(URL).content.decode()
    assert "From 2024-09-01" in page and "Scheduled" in page and "新学年" in page
    assert "From 2023-09-01 to 2024-08-31" in page and "In force" in page
    assert "until 2023-08-31" in page and "Past" in page
    assert "Change this version" in page


# --- adding a version ----------------------------------------------------------------------------------------------


def test_a_school_that_requires_five_recommendations(world: World, as_user, frozen) -> None:  # type: ignore[no-untyped-def]
    record_activity(
        actor=world.helper,
        student=world.own,
        kind=ActivityKind.JOB_RECOMMENDATION,
        occurred_on=dt.date(2024, 2, 20),
        today=TODAY,
        employer_name="河北冀之力商贸有限公司",
        position_title="服装设计助理",
        fits_student=True,
        response=Response.APPLIED,
    )
    leader = as_user(world.leader)
    assert "Effective recommendations 1/3" in leader.get(COMPLIANCE).content.decode()

    office = as_user(world.office)
    standards = with_row(Stage.JOB_SEARCH, Metric.EFFECTIVE_RECOMMENDATION, min_count=5)
    response = office.post(URL, posted(TODAY, standards, note="省厅要求：推荐不少于5次"))
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "The new version applies from 2024-05-10; progress has been recalculated."
    ]
    version = Policy.objects.get()
    assert (version.valid_from, version.created_by, version.note) == (TODAY, world.office, "省厅要求：推荐不少于5次")
    assert version.standards.get(metric=Metric.EFFECTIVE_RECOMMENDATION).min_count == 5
    assert version.standards.count() == 8

    meter = next(m for m in Progress.objects.get(student=world.own).meters if m["metric"] == "effective_recommendation")
    assert (meter["done"], meter["required"]) == (1, 5)
    assert "Effective recommendations 1/5" in as_user(world.leader).get(COMPLIANCE).content.decode()
    page = as_user(world.office).get(URL).content.decode()
    assert "From 2024-05-10" in page and "until 2024-05-09" in page


def test_a_check_in_every_fourteen_days(world: World, as_user, frozen) -> None:  # type: ignore[no-untyped-def]
    standards = with_row(Stage.STUDY, Metric.CHECK_IN, period=Period.DAYS, every_days=14)
    response = as_user(world.office).post(URL, posted(dt.date(2024, 6, 1), standards))
    assert response.status_code == 302
    row = Standard.objects.get(stage=Stage.STUDY, metric=Metric.CHECK_IN)
    assert (row.period, row.every_days, row.milestones) == (Period.DAYS, 14, "")


def test_a_row_can_be_removed_and_blank_rows_are_skipped(world: World, as_user, frozen) -> None:  # type: ignore[no-untyped-def]
    data = posted(dt.date(2024, 6, 1))
    data["standards-1-DELETE"] = "on"  # the work-study recommendation at enrolment
    assert as_user(world.office).post(URL, data).status_code == 302
    metrics = set(Standard.objects.values_list("metric", flat=True))
    assert Metric.WORK_STUDY_RECOMMENDATION not in metrics and len(metrics) == 6  # talk counted in two stages


def test_a_scheduled_version_is_replaced_when_saved_again(world: World, as_user, frozen) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.office)
    assert client.post(URL, posted(dt.date(2024, 9, 1), note="初稿")).status_code == 302
    version = Policy.objects.get()
    page = client.get(URL, {"base": version.public_id}).content.decode()
    assert "Change the version starting 2024-09-01" in page and 'value="初稿"' in page
    assert client.post(URL, posted(dt.date(2024, 9, 1), note="定稿", risk_declines=4)).status_code == 302
    final = Policy.objects.get()
    assert (final.note, final.risk_declines) == ("定稿", 4)


# --- bad input: a clear message and nothing written --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            posted(standards=with_row(Stage.STUDY, Metric.CHECK_IN, period=Period.DAYS)),
            "Give the number of days for a standard counted every N days.",
        ),
        (
            posted(standards=with_row(Stage.STUDY, Metric.CHECK_IN, period=Period.MONTH, every_days=14)),
            "Only a standard counted every N days takes a number of days.",
        ),
        (
            posted(standards=with_row(Stage.AFTER_LEAVING, Metric.FOLLOW_UP, period=Period.MILESTONES, milestones="")),
            "Give the months after leaving as numbers separated by commas, e.g. 1,3,6,12.",
        ),
        (
            posted(
                standards=with_row(Stage.AFTER_LEAVING, Metric.FOLLOW_UP, period=Period.MILESTONES, milestones="1,三")
            ),
            "Give the months after leaving as numbers separated by commas, e.g. 1,3,6,12.",
        ),
        (
            posted(standards=with_row(Stage.STUDY, Metric.FOLLOW_UP, period=Period.MILESTONES, milestones="1,3")),
            "Months after leaving apply only to the after-leaving stage.",
        ),
        (
            posted(follow_up_months=6),
            "A follow-up at 12 months falls after the 6 months of follow-up.",
        ),
        (
            posted(standards=[*default_standards(), default_standards()[0]]),
            "Enrolment has two standards for Heart-to-heart talks: keep one.",
        ),
        (
            posted(standards=with_row(Stage.JOB_SEARCH, Metric.TALK, min_count=0)),
            "Ensure this value is greater than or equal to 1.",
        ),
        (posted(valid_from=dt.date(2024, 5, 9)), "A new version starts today or later"),
        (posted(valid_from="明天"), "Enter a valid date."),
        (posted(close_day=31), "Ensure this value is less than or equal to 28."),
        (posted(risk_min_share=None), "This field is required."),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(world: World, as_user, frozen, data, message) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.office).post(URL, data)
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Policy.objects.exists()


def test_a_version_already_in_force_cannot_be_changed(world: World, as_user, frozen) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.office)
    assert client.post(URL, posted(TODAY)).status_code == 302
    response = client.post(URL, posted(TODAY, risk_declines=5))
    assert response.status_code == 200
    assert "A version already in force cannot be changed" in response.content.decode()
    assert Policy.objects.get().risk_declines == 3


def test_the_menu_shows_policy_to_the_office_only(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    link = f'href="{URL}"'
    assert link in as_user(world.office).get(reverse("students:list")).content.decode()
    assert link not in as_user(world.leader).get(reverse("students:list")).content.decode()
