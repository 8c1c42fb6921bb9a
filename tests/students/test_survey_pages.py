"""The enrolment survey pages: list in scope, fill, confirm or dismiss; who may reach each."""

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from bangfu.audit.models import AccessAction, AccessLog
from bangfu.students.models import EnrolmentSurvey, LedgerEntry, SurveyStatus
from bangfu.students.survey import save_survey
from tests.conftest import World
from tests.factories import make_student


@pytest.fixture(autouse=True)
def english(client: Client):  # type: ignore[no-untyped-def]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def fill_url(student) -> str:  # type: ignore[no-untyped-def]
    return reverse("students:survey:fill", args=[student.public_id])


def decide_url(student) -> str:  # type: ignore[no-untyped-def]
    return reverse("students:survey:decide", args=[student.public_id])


LIST = "/students/survey/"

ANSWERS = {
    "poverty_alleviated": "on",
    "no_employed_member": "on",
    "household_size": "5",
    "annual_income": "18000.00",
    "notes": "父亲务农，母亲常年患病；弟弟读初中。",
}


@pytest.fixture
def freshman(world: World):  # type: ignore[no-untyped-def]
    return make_student(world.class1, name="马小红", cohort=2024)


def candidate(world: World, student) -> EnrolmentSurvey:  # type: ignore[no-untyped-def]
    return save_survey(
        actor=world.counsellor,
        student=student,
        answers={"poverty_alleviated": True, "orphan": True},
        expected_version=0,
    )


def test_the_list_url_is_the_contract() -> None:
    assert reverse("students:survey:list") == LIST


# --- scoping -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("counsellor", 200),
        ("leader", 200),
        ("office", 200),
        ("other_leader", 404),  # dept2's leader does not see dept1
        ("outsider", 404),
        ("helper", 403),  # sees their student, but the survey is the counsellor's
        ("principal", 403),
        ("student_user", 403),
    ],
)
def test_who_reaches_a_survey(world: World, as_user, who, status) -> None:  # type: ignore[no-untyped-def]
    client = as_user(getattr(world, who))
    assert client.get(fill_url(world.own)).status_code == status
    assert client.post(fill_url(world.own), ANSWERS).status_code in (status, 302)
    assert client.post(decide_url(world.own), {"decision": "dismiss"}).status_code in (status, 404)
    if status != 200:
        assert not EnrolmentSurvey.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("helper", 403), ("principal", 403), ("student_user", 403)])
def test_the_list_is_for_those_who_manage_surveys(world: World, as_user, who, status) -> None:  # type: ignore[no-untyped-def]
    assert as_user(getattr(world, who)).get(LIST).status_code == status


def test_the_list_shows_students_in_scope_with_their_status(world: World, as_user, freshman) -> None:  # type: ignore[no-untyped-def]
    candidate(world, freshman)
    response = as_user(world.counsellor).get(LIST)
    page = response.content.decode()
    assert "马小红" in page and "刘洋" in page
    assert "陈静" not in page and "孙磊" not in page  # dept2, other school
    assert response.context["counts"]["candidate"] == 1
    assert response.context["counts"]["not_filled"] == 2
    assert "Household lifted out of poverty" in page


def test_the_list_filters_by_status_and_cohort(world: World, as_user, freshman) -> None:  # type: ignore[no-untyped-def]
    candidate(world, freshman)
    client = as_user(world.leader)
    names = lambda r: [s.name for s in r.context["page"]]  # noqa: E731
    assert names(client.get(LIST, {"status": "candidate"})) == ["马小红"]
    assert sorted(names(client.get(LIST, {"status": "not_filled"}))) == sorted(["田斌臣", "刘洋"])
    assert names(client.get(LIST, {"cohort": "2024"})) == ["马小红"]
    assert names(client.get(LIST, {"status": "confirmed"})) == []


def test_the_list_pages_count_what_the_filter_keeps(world: World, as_user, freshman) -> None:  # type: ignore[no-untyped-def]
    """The pages are counted from the status figures the list shows: the same numbers as the rows."""
    candidate(world, freshman)
    for i in range(49):
        make_student(world.class1, name=f"新生{i:02d}", cohort=2024)
    client = as_user(world.leader)  # dept1: 马小红 (a candidate), 田斌臣 and 刘洋, and the 49 new students
    for status, total in (("", 52), ("not_filled", 51), ("candidate", 1), ("confirmed", 0)):
        page = client.get(LIST, {"status": status}).context["page"]
        assert page.paginator.count == total
    second = client.get(LIST, {"status": "not_filled", "page": "2"}).context["page"]
    assert second.number == 2 and len(second.object_list) == 1


def test_the_list_answers_htmx_with_the_results_only(world: World, as_user, freshman) -> None:  # type: ignore[no-untyped-def]
    candidate(world, freshman)
    response = as_user(world.counsellor).get(LIST, {"status": "candidate"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert "马小红" in page and "<html" not in page


def test_the_list_query_count_does_not_grow(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.counsellor)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            client.get(LIST)
        return len(ctx.captured_queries)

    small = count()
    for i in range(4):
        candidate(world, make_student(world.class1, name=f"新生{i}", cohort=2024))
    assert count() == small


# --- fill ----------------------------------------------------------------------------------------------------


def test_fill_a_survey_flags_a_candidate(world: World, as_user, freshman) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.counsellor)
    assert client.get(fill_url(freshman)).status_code == 200
    response = client.post(fill_url(freshman), {**ANSWERS, "version": "0"})
    assert response.status_code == 302
    survey = EnrolmentSurvey.objects.get(student=freshman)
    assert survey.status == SurveyStatus.CANDIDATE
    assert survey.flagged_categories == ["poverty_alleviated", "zero_employment", "school_identified"]
    assert str(survey.annual_income) == "18000.00"
    page = client.get(fill_url(freshman)).content.decode()
    assert "Confirm or dismiss this candidate" in page
    assert "Household with no employed member" in page


def test_viewing_a_filled_survey_is_logged(world: World, as_user, freshman) -> None:  # type: ignore[no-untyped-def]
    candidate(world, freshman)
    as_user(world.leader).get(fill_url(freshman))
    log = AccessLog.objects.get(student=freshman)
    assert (log.actor, log.action, log.fields) == (world.leader, AccessAction.VIEW_SENSITIVE, "enrolment_survey")


def test_bad_answers_show_errors_and_write_nothing(world: World, as_user, freshman) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.counsellor).post(
        fill_url(freshman), {**ANSWERS, "household_size": "0", "annual_income": "-5", "version": "0"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "A household has at least one member." in page
    assert "The income cannot be negative." in page
    assert not EnrolmentSurvey.objects.exists()


def test_a_stale_save_shows_the_conflict(world: World, as_user, freshman) -> None:  # type: ignore[no-untyped-def]
    candidate(world, freshman)  # saved by someone while this form, opened empty, was being filled
    response = as_user(world.leader).post(fill_url(freshman), {**ANSWERS, "version": "0"})
    assert "Someone else saved this record after you opened it." in response.content.decode()
    assert EnrolmentSurvey.objects.get(student=freshman).flagged_categories == ["poverty_alleviated", "orphan"]


# --- decide --------------------------------------------------------------------------------------------------


def test_confirm_a_candidate(world: World, as_user, freshman) -> None:  # type: ignore[no-untyped-def]
    survey = candidate(world, freshman)
    response = as_user(world.counsellor).post(
        decide_url(freshman),
        {"decision": "confirm", "categories": ["poverty_alleviated", "orphan"], "version": survey.version},
    )
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(student=freshman, left_on__isnull=True)
    assert sorted(entry.categories.values_list("category", flat=True)) == ["orphan", "poverty_alleviated"]
    assert entry.join_reason.startswith("Enrolment survey of ")
    survey.refresh_from_db()
    assert (survey.status, survey.decided_by, survey.ledger_entry) == (SurveyStatus.CONFIRMED, world.counsellor, entry)
    page = as_user(world.counsellor).get(fill_url(freshman)).content.decode()
    assert "Decided by 赵辅导员" in page
    assert "Save the survey" not in page


def test_dismiss_a_candidate_needs_a_reason(world: World, as_user, freshman) -> None:  # type: ignore[no-untyped-def]
    survey = candidate(world, freshman)
    client = as_user(world.counsellor)
    response = client.post(decide_url(freshman), {"decision": "dismiss", "reason": "", "version": survey.version})
    assert response.status_code == 200
    assert "Say why the candidate is dismissed." in response.content.decode()
    response = client.post(
        decide_url(freshman), {"decision": "dismiss", "reason": "家访核实：已脱贫多年", "version": survey.version}
    )
    assert response.status_code == 302
    survey.refresh_from_db()
    assert (survey.status, survey.decision_reason, survey.decided_by) == (
        SurveyStatus.DISMISSED,
        "家访核实：已脱贫多年",
        world.counsellor,
    )
    assert not LedgerEntry.objects.filter(student=freshman).exists()


def test_a_decision_needs_a_choice(world: World, as_user, freshman) -> None:  # type: ignore[no-untyped-def]
    survey = candidate(world, freshman)
    response = as_user(world.counsellor).post(decide_url(freshman), {"version": survey.version})
    assert "Choose to confirm or to dismiss." in response.content.decode()
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CANDIDATE


def test_deciding_without_a_survey_is_404(world: World, as_user, freshman) -> None:  # type: ignore[no-untyped-def]
    assert as_user(world.counsellor).post(decide_url(freshman), {"decision": "confirm"}).status_code == 404
    assert as_user(world.counsellor).get(decide_url(freshman)).status_code == 405
