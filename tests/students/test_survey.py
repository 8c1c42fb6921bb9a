"""The enrolment survey: the rules that flag candidates, and confirming or dismissing them (services)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from bangfu.concurrency import StaleEdit
from bangfu.students.models import EnrolmentSurvey, LedgerEntry, LedgerSource, SurveyRule, SurveyStatus
from bangfu.students.survey import confirm_survey, dismiss_survey, rules_for, save_survey
from tests.conftest import World
from tests.factories import make_student, system_user

NOW = timezone.make_aware(dt.datetime(2024, 10, 12, 10, 30))
LATER = timezone.make_aware(dt.datetime(2024, 10, 20, 15, 0))


@pytest.fixture(autouse=True)
def english():  # type: ignore[no-untyped-def]
    with translation.override("en"):
        yield


@pytest.fixture
def freshman(world: World):  # type: ignore[no-untyped-def]
    return make_student(world.class1, name="马小红", cohort=2024)


def fill(world: World, student, expected_version: int = 0, **answers):  # type: ignore[no-untyped-def]
    return save_survey(
        actor=world.counsellor, student=student, answers=answers, expected_version=expected_version, now=NOW
    )


# --- rules ---------------------------------------------------------------------------------------------------


def test_the_defaults_are_created_on_first_use_and_only_once(world: World) -> None:
    assert not SurveyRule.objects.filter(school=world.school).exists()
    first = rules_for(school=world.school)
    again = rules_for(school=world.school)
    assert [r.pk for r in first] == [r.pk for r in again]
    assert SurveyRule.objects.filter(school=world.school).count() == 11
    # Rural origin is targeted only by some schools: present but off.
    assert SurveyRule.objects.get(school=world.school, category="rural").is_active is False
    assert not SurveyRule.objects.filter(school=world.other_school).exists()


def test_yes_answers_flag_their_categories_and_the_most_severe_level(world: World, freshman) -> None:  # type: ignore[no-untyped-def]
    survey = fill(world, freshman, poverty_alleviated=True, parent_disabled=True, student_loan=True, rural_home=True)
    assert survey.status == SurveyStatus.CANDIDATE
    assert survey.flagged_categories == ["poverty_alleviated", "disabled_parent", "student_loan"]
    assert survey.suggested_hardship_level == "special"


@pytest.mark.parametrize(
    ("income", "size", "flagged", "level"),
    [
        (Decimal("12000"), 4, ["school_identified"], "special"),  # 3,000 a head
        (Decimal("24000.00"), 4, ["school_identified"], "hardship"),  # 6,000 a head
        (Decimal("32000"), 4, [], ""),  # 8,000 a head: not below the threshold
        (Decimal("12000"), None, [], ""),  # no household size: no income per head
    ],
)
def test_income_per_head_below_a_threshold_flags_school_identified_hardship(  # type: ignore[no-untyped-def]
    world: World, freshman, income, size, flagged, level
) -> None:
    survey = fill(world, freshman, annual_income=income, household_size=size)
    assert (survey.flagged_categories, survey.suggested_hardship_level) == (flagged, level)
    assert survey.status == (SurveyStatus.CANDIDATE if flagged else SurveyStatus.NOT_FLAGGED)


def test_the_school_edits_its_rules(world: World, freshman) -> None:  # type: ignore[no-untyped-def]
    rules_for(school=world.school)
    SurveyRule.objects.filter(school=world.school, category="rural").update(is_active=True)
    SurveyRule.objects.filter(school=world.school, category="student_loan").update(is_active=False)
    SurveyRule.objects.filter(school=world.school, threshold=Decimal("8000")).update(threshold=Decimal("10000"))
    survey = fill(world, freshman, rural_home=True, student_loan=True, annual_income=Decimal("27000"), household_size=3)
    assert survey.flagged_categories == ["rural", "school_identified"]
    assert survey.suggested_hardship_level == "hardship"


def test_each_school_has_its_own_rules(world: World) -> None:
    rules_for(school=world.school)
    SurveyRule.objects.filter(school=world.school, category="orphan").update(is_active=False)
    other_class = world.other_school.children.get().children.get().children.get()
    elsewhere = make_student(other_class, name="孙悦", cohort=2024)
    survey = save_survey(actor=system_user(), student=elsewhere, answers={"orphan": True}, expected_version=0)
    assert survey.flagged_categories == ["orphan"]


def test_a_rule_on_income_needs_a_threshold(world: World) -> None:
    rule = SurveyRule(school=world.school, category="school_identified", answer_field="income_per_head")
    with pytest.raises(ValidationError, match="An income rule needs a threshold"):
        rule.full_clean()
    rule = SurveyRule(school=world.school, category="orphan", answer_field="orphan", threshold=Decimal(1))
    with pytest.raises(ValidationError, match="Only income rules have a threshold"):
        rule.full_clean()


def test_no_answer_suggests_nothing(world: World, freshman) -> None:  # type: ignore[no-untyped-def]
    survey = fill(world, freshman, household_size=3, annual_income=Decimal("150000"), notes="父母均在石家庄务工")
    assert survey.status == SurveyStatus.NOT_FLAGGED
    assert survey.flagged_categories == []
    assert (survey.filled_by, survey.filled_at) == (world.counsellor, NOW)


# --- saving --------------------------------------------------------------------------------------------------


def test_bad_answers_are_refused_and_nothing_written(world: World, freshman) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as e:
        fill(world, freshman, disability_level="2")
    assert e.value.message_dict == {"disability_level": ["A disability level goes with a disability."]}
    with pytest.raises(ValidationError, match="at least one member"):
        fill(world, freshman, household_size=0)
    with pytest.raises(ValidationError, match="cannot be negative"):
        fill(world, freshman, annual_income=Decimal("-1"))
    assert not EnrolmentSurvey.objects.exists()


def test_a_stale_save_is_refused(world: World, freshman) -> None:  # type: ignore[no-untyped-def]
    fill(world, freshman, orphan=True)
    with pytest.raises(StaleEdit):
        fill(world, freshman, expected_version=0, orphan=False)  # the form was opened before the first save
    survey = fill(world, freshman, expected_version=1, orphan=True, extreme_poverty=True)
    assert survey.version == 2
    assert survey.flagged_categories == ["extreme_poverty", "orphan"]


@pytest.mark.parametrize("who", ["helper", "principal", "other_leader", "student_user"])
def test_only_counsellors_leaders_and_the_office_fill_the_survey(world: World, who: str) -> None:
    with pytest.raises(PermissionDenied):
        save_survey(actor=getattr(world, who), student=world.own, answers={"orphan": True}, expected_version=0)
    assert not EnrolmentSurvey.objects.exists()


# --- decisions -----------------------------------------------------------------------------------------------


def test_confirming_a_candidate_puts_the_student_in_the_ledger(world: World, freshman) -> None:  # type: ignore[no-untyped-def]
    survey = fill(
        world,
        freshman,
        subsistence_allowance=True,
        student_disabled=True,
        disability_level="3",
        notes="母亲患病，家中靠低保生活。",
    )
    entry = confirm_survey(actor=world.counsellor, survey=survey, expected_version=survey.version, now=LATER)
    assert entry.source == LedgerSource.SURVEY
    assert sorted(entry.categories.values_list("category", flat=True)) == ["disabled", "subsistence_allowance"]
    assert (entry.joined_on, entry.joined_by) == (dt.date(2024, 10, 20), world.counsellor)
    assert entry.join_reason == "Enrolment survey of 2024-10-12 filled by 赵辅导员"
    assert (entry.hardship_level, entry.disability_level) == ("special", "3")
    assert entry.family_situation == "母亲患病，家中靠低保生活。"
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CONFIRMED
    assert (survey.decided_by, survey.decided_at, survey.ledger_entry) == (world.counsellor, LATER, entry)


def test_the_counsellor_may_confirm_part_of_the_flags_with_a_reason(world: World, freshman) -> None:  # type: ignore[no-untyped-def]
    survey = fill(world, freshman, orphan=True, student_loan=True)
    entry = confirm_survey(
        actor=world.leader,
        survey=survey,
        expected_version=survey.version,
        categories=["orphan"],
        reason="助学贷款尚未办理",
        now=LATER,
    )
    assert list(entry.categories.values_list("category", flat=True)) == ["orphan"]
    assert entry.join_reason == "Enrolment survey of 2024-10-12 filled by 赵辅导员: 助学贷款尚未办理"
    survey.refresh_from_db()
    assert survey.decision_reason == "助学贷款尚未办理"


def test_confirming_categories_the_survey_did_not_flag_is_refused(world: World, freshman) -> None:  # type: ignore[no-untyped-def]
    survey = fill(world, freshman, orphan=True)
    for categories in (["rural"], []):
        with pytest.raises(ValidationError):
            confirm_survey(
                actor=world.counsellor, survey=survey, expected_version=survey.version, categories=categories
            )
    assert not LedgerEntry.objects.filter(student=freshman).exists()
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CANDIDATE


def test_dismissing_needs_a_reason_and_records_who_and_when(world: World, freshman) -> None:  # type: ignore[no-untyped-def]
    survey = fill(world, freshman, no_employed_member=True)
    with pytest.raises(ValidationError, match="Say why the candidate is dismissed"):
        dismiss_survey(actor=world.counsellor, survey=survey, expected_version=survey.version, reason="  ")
    dismissed = dismiss_survey(
        actor=world.counsellor,
        survey=survey,
        expected_version=survey.version,
        reason="家访核实：父亲已在本地工厂就业",
        now=LATER,
    )
    assert dismissed.status == SurveyStatus.DISMISSED
    assert (dismissed.decided_by, dismissed.decided_at, dismissed.decision_reason) == (
        world.counsellor,
        LATER,
        "家访核实：父亲已在本地工厂就业",
    )
    assert not LedgerEntry.objects.filter(student=freshman).exists()


def test_only_a_candidate_is_decided(world: World, freshman) -> None:  # type: ignore[no-untyped-def]
    survey = fill(world, freshman, household_size=3)
    with pytest.raises(ValidationError, match="Only a candidate"):
        dismiss_survey(actor=world.counsellor, survey=survey, expected_version=survey.version, reason="无")
    survey = fill(world, freshman, expected_version=survey.version, orphan=True)
    confirm_survey(actor=world.counsellor, survey=survey, expected_version=survey.version)
    survey.refresh_from_db()
    with pytest.raises(ValidationError, match="Only a candidate"):
        confirm_survey(actor=world.counsellor, survey=survey, expected_version=survey.version)
    assert LedgerEntry.objects.filter(student=freshman).count() == 1


def test_a_confirmed_survey_is_closed_and_a_dismissed_one_reopens(world: World, freshman) -> None:  # type: ignore[no-untyped-def]
    survey = fill(world, freshman, orphan=True)
    dismissed = dismiss_survey(actor=world.counsellor, survey=survey, expected_version=survey.version, reason="误填")
    reopened = fill(world, freshman, expected_version=dismissed.version, orphan=True, extreme_poverty=True)
    assert reopened.status == SurveyStatus.CANDIDATE
    assert (reopened.decided_by, reopened.decision_reason) == (None, "")
    assert reopened.history.filter(status=SurveyStatus.DISMISSED).exists()  # the earlier decision is kept
    confirm_survey(actor=world.counsellor, survey=reopened, expected_version=reopened.version)
    with pytest.raises(ValidationError, match="change the ledger entry instead"):
        fill(world, freshman, expected_version=reopened.version + 1, orphan=False)


def test_a_stale_decision_is_refused(world: World, freshman) -> None:  # type: ignore[no-untyped-def]
    survey = fill(world, freshman, orphan=True)
    seen = survey.version
    fill(world, freshman, expected_version=seen, orphan=True, student_loan=True)  # someone edits the answers
    with pytest.raises(StaleEdit):
        confirm_survey(actor=world.leader, survey=survey, expected_version=seen)
    assert not LedgerEntry.objects.filter(student=freshman).exists()


def test_a_student_already_in_the_ledger_cannot_be_confirmed_twice(world: World) -> None:
    survey = fill(world, world.own, orphan=True)
    with pytest.raises(ValidationError, match="already in the ledger"):
        confirm_survey(actor=world.counsellor, survey=survey, expected_version=survey.version)
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CANDIDATE


def test_the_helper_may_not_decide(world: World, freshman) -> None:  # type: ignore[no-untyped-def]
    survey = fill(world, world.own, orphan=True)
    with pytest.raises(PermissionDenied):
        dismiss_survey(actor=world.helper, survey=survey, expected_version=survey.version, reason="无")
