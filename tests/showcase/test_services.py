"""The exemplary-case services: default types, nomination, approval, publication under a consent, consents
replaced and withdrawn; every refusal with its message and nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from bangfu.concurrency import StaleEdit
from bangfu.showcase import services
from bangfu.showcase.models import Case, CaseStatus, CaseStep, CaseType, Consent
from bangfu.showcase.names import shown_name
from tests.conftest import TODAY, World
from tests.factories import make_staff
from tests.showcase.helpers import consent, install_types, nominate, pdf, private_student, take

S = CaseStatus


@pytest.fixture
def types(world: World) -> dict[str, CaseType]:
    return install_types(world)


def _codes(error: ValidationError) -> list[str | None]:
    return [e.code for e in error.error_list]


# --- Types ---------------------------------------------------------------------------------------------------


def test_the_six_default_types_are_installed_once(world: World) -> None:
    added = services.install_default_types(actor=world.office, school=world.school)
    again = services.install_default_types(actor=world.office, school=world.school)

    assert [(t.code, t.name, t.name_en) for t in sorted(added, key=lambda t: t.pk)] == [
        ("employment_role_model", "就业榜样", "Employment role model"),
        ("self_improvement_star", "自强之星", "Self-improvement star"),
        ("grassroots_contributor", "扎根基层", "Grassroots contributor"),
        ("entrepreneurship_pioneer", "创业先锋", "Entrepreneurship pioneer"),
        ("further_study_achiever", "升学达人", "Further-study achiever"),
        ("enlisted_with_honour", "光荣入伍", "Enlisted with honour"),
    ]
    assert again == []
    assert CaseType.objects.filter(school=world.school).count() == 6


@pytest.mark.parametrize("persona", ["leader", "principal", "helper", "outsider"])
def test_only_the_schools_office_manages_types(world: World, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        services.install_default_types(actor=getattr(world, persona), school=world.school)
    assert not CaseType.objects.exists()


def test_a_type_code_is_unique_in_its_school(world: World, types: dict[str, CaseType]) -> None:
    with pytest.raises(ValidationError) as refused:
        services.save_case_type(actor=world.office, school=world.school, code="enlisted_with_honour", name="参军")

    assert refused.value.message_dict == {"code": ["Another case type of this school has this code."]}


# --- Nomination ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["helper", "leader", "counsellor", "office"])
def test_a_helper_or_leader_nominates(world: World, types: dict[str, CaseType], persona: str) -> None:
    actor = getattr(world, persona)
    case = nominate(world, world.own, types["employment_role_model"], by=actor)

    assert (case.status, case.nominated_by, case.nominated_on) == (S.NOMINATED, actor, TODAY)
    assert list(case.steps.values_list("from_status", "to_status", "by")) == [("", S.NOMINATED, actor.pk)]


@pytest.mark.parametrize(
    ("persona", "student"),
    [
        ("helper", "classmate"),  # helps `own`, not the classmate
        ("principal", "own"),  # sees every student but keeps no plans
        ("other_leader", "own"),  # another department
        ("outsider", "own"),  # another school
        ("student_user", "own"),  # the student themself
    ],
)
def test_nominating_a_student_out_of_scope_is_refused(
    world: World, types: dict[str, CaseType], persona: str, student: str
) -> None:
    with pytest.raises(PermissionDenied):
        nominate(world, getattr(world, student), types["employment_role_model"], by=getattr(world, persona))
    assert not Case.objects.exists()


def test_a_nomination_needs_a_title_a_story_and_a_type_of_the_students_school(
    world: World, types: dict[str, CaseType]
) -> None:
    with pytest.raises(ValidationError) as empty:
        nominate(world, world.own, types["employment_role_model"], by=world.helper, title=" ", story="")
    other = services.install_default_types(actor=world.outsider, school=world.other_school)[0]
    with pytest.raises(ValidationError) as foreign:
        nominate(world, world.own, other, by=world.helper)

    assert empty.value.message_dict == {"title": ["Give the case a title."], "story": ["Tell the student's story."]}
    assert foreign.value.message_dict == {"case_type": ["This case type belongs to another school."]}
    assert not Case.objects.exists()


def test_a_photo_is_an_image(world: World, types: dict[str, CaseType]) -> None:
    with pytest.raises(ValidationError) as refused:
        nominate(world, world.own, types["employment_role_model"], by=world.helper, photo=pdf("照片.pdf"))

    assert refused.value.message_dict == {"photo": ["A photo must be a JPEG or PNG file."]}
    assert not Case.objects.exists()


def test_a_retired_type_stays_on_its_case_but_is_not_chosen_anew(world: World, types: dict[str, CaseType]) -> None:
    case = nominate(world, world.own, types["employment_role_model"], by=world.helper)
    retired = services.save_case_type(
        actor=world.office, school=world.school, case_type=types["employment_role_model"], is_active=False
    )

    kept = services.update_case(
        actor=world.helper, case=case, today=TODAY, case_type=retired, title="新标题", story="新"
    )
    with pytest.raises(ValidationError) as refused:
        nominate(world, world.classmate, retired, by=world.leader)

    assert (kept.case_type, kept.title) == (retired, "新标题")
    assert refused.value.message_dict == {"case_type": ["This case type is no longer used."]}


# --- Approval and publication --------------------------------------------------------------------------------


def test_the_office_approves_and_publishes_under_the_consent_in_force(world: World, types) -> None:  # type: ignore[no-untyped-def]
    case = nominate(world, world.own, types["self_improvement_star"], by=world.helper)
    given = consent(world, world.own, by=world.helper)

    approved = services.approve_case(actor=world.office, case=case, today=TODAY, comment="事迹真实")
    published = services.publish_case(actor=world.office, case=approved, today=dt.date(2024, 3, 18))

    case.refresh_from_db()
    assert (case.status, case.approved_by, case.approved_on) == (S.PUBLISHED, world.office, TODAY)
    assert (case.consent, case.published_on, published.version) == (given, dt.date(2024, 3, 18), 3)
    assert list(case.steps.values_list("to_status", "by", "on", "comment")) == [
        (S.NOMINATED, world.helper.pk, TODAY, ""),
        (S.APPROVED, world.office.pk, TODAY, "事迹真实"),
        (S.PUBLISHED, world.office.pk, dt.date(2024, 3, 18), ""),
    ]


def test_publishing_without_consent_is_refused_and_nothing_changes(world: World, types) -> None:  # type: ignore[no-untyped-def]
    case = take(world, nominate(world, world.own, types["self_improvement_star"], by=world.helper), S.APPROVED)

    with pytest.raises(ValidationError) as refused:
        services.publish_case(actor=world.office, case=case, today=TODAY)

    assert refused.value.messages == [
        "The student has not consented to publication: record the student's consent first."
    ]
    assert _codes(refused.value) == ["no_consent"]
    case.refresh_from_db()
    assert (case.status, case.consent, case.published_on, case.version) == (S.APPROVED, None, None, 2)
    assert case.steps.count() == 2


def test_a_withdrawn_consent_does_not_count(world: World, types) -> None:  # type: ignore[no-untyped-def]
    case = take(world, nominate(world, world.own, types["self_improvement_star"], by=world.helper), S.APPROVED)
    given = consent(world, world.own, by=world.helper)
    services.withdraw_consent(actor=world.student_user, consent=given, today=TODAY)

    with pytest.raises(ValidationError) as refused:
        services.publish_case(actor=world.office, case=case, today=TODAY)

    assert _codes(refused.value) == ["no_consent"]


def test_the_nominator_cannot_approve_or_publish(world: World, types) -> None:  # type: ignore[no-untyped-def]
    case = nominate(world, world.own, types["self_improvement_star"], by=world.office)
    consent(world, world.own)

    with pytest.raises(ValidationError) as own_approval:
        services.approve_case(actor=world.office, case=case, today=TODAY)
    colleague = make_staff("office2", "employment_office", world.school, full_name="马老师")
    approved = services.approve_case(actor=colleague, case=case, today=TODAY)
    with pytest.raises(ValidationError) as own_publication:
        services.publish_case(actor=world.office, case=approved, today=TODAY)

    message = "You nominated this case, so someone else must approve and publish it."
    assert own_approval.value.messages == own_publication.value.messages == [message]
    assert _codes(own_approval.value) == _codes(own_publication.value) == ["own"]
    assert Case.objects.get().status == S.APPROVED


@pytest.mark.parametrize("persona", ["leader", "principal", "helper", "counsellor", "outsider"])
def test_only_the_office_approves(world: World, types, persona: str) -> None:  # type: ignore[no-untyped-def]
    case = nominate(world, world.own, types["self_improvement_star"], by=world.leader)
    with pytest.raises(PermissionDenied):
        services.approve_case(actor=getattr(world, persona), case=case, today=TODAY)
    assert Case.objects.get().status == S.NOMINATED


def test_steps_out_of_order_are_refused(world: World, types) -> None:  # type: ignore[no-untyped-def]
    case = nominate(world, world.own, types["self_improvement_star"], by=world.helper)
    consent(world, world.own)

    with pytest.raises(ValidationError) as early:
        services.publish_case(actor=world.office, case=case, today=TODAY)
    with pytest.raises(ValidationError) as not_published:
        services.unpublish_case(actor=world.office, case=case, today=TODAY, comment="撤下")
    with pytest.raises(ValidationError) as silent:
        services.reject_case(actor=world.office, case=case, today=TODAY, comment="")

    assert early.value.messages == ["This case is “Nominated”: that step is not possible now."]
    assert _codes(not_published.value) == ["bad_step"]
    assert silent.value.message_dict == {"comment": ["Say why the case is rejected."]}
    assert Case.objects.get().status == S.NOMINATED


def test_a_stale_version_is_refused(world: World, types) -> None:  # type: ignore[no-untyped-def]
    case = nominate(world, world.own, types["self_improvement_star"], by=world.helper)
    with pytest.raises(StaleEdit):
        services.approve_case(actor=world.office, case=case, today=TODAY, expected_version=7)
    assert Case.objects.get().status == S.NOMINATED


def test_texts_that_print_withheld_facts_are_not_published(world: World, types) -> None:  # type: ignore[no-untyped-def]
    student = private_student(world)
    case = take(
        world,
        nominate(world, student, types["employment_role_model"], story=f"王晓燕同学（学号{student.student_number}）……"),
        S.APPROVED,
    )
    consent(world, student)  # surname only

    with pytest.raises(ValidationError) as refused:
        services.publish_case(actor=world.office, case=case, today=TODAY)

    assert refused.value.messages == [
        "The texts give the student's full name, but the consent does not allow it.",
        "The texts give the student number, which is never published.",
    ]
    assert Case.objects.get().status == S.APPROVED


def test_a_change_after_approval_goes_back_for_approval(world: World, types) -> None:  # type: ignore[no-untyped-def]
    case = take(world, nominate(world, world.own, types["self_improvement_star"], by=world.helper), S.APPROVED)

    changed = services.update_case(
        actor=world.helper, case=case, today=TODAY, expected_version=2, title="自强不息，学以致用", story="新的事迹"
    )

    assert (changed.status, changed.approved_by, changed.title, changed.story) == (
        S.NOMINATED,
        None,
        "自强不息，学以致用",
        "新的事迹",
    )
    assert changed.steps.last().comment == "Changed after approval: to be approved again."  # type: ignore[union-attr]


# --- Consent ---------------------------------------------------------------------------------------------------


def test_withdrawal_unpublishes_every_published_case_at_once(world: World, types) -> None:  # type: ignore[no-untyped-def]
    given = consent(world, world.own, by=world.helper)
    first = take(world, nominate(world, world.own, types["self_improvement_star"], by=world.helper), S.PUBLISHED)
    second = take(
        world, nominate(world, world.own, types["employment_role_model"], by=world.leader, title="签约"), S.PUBLISHED
    )
    pending = nominate(world, world.own, types["further_study_achiever"], by=world.helper, title="专升本")

    unpublished = services.withdraw_consent(
        actor=world.student_user, consent=given, today=dt.date(2024, 4, 2), note="不想公开了"
    )

    assert {c.pk for c in unpublished} == {first.pk, second.pk}
    assert dict(Case.objects.values_list("pk", "status")) == {
        first.pk: S.UNPUBLISHED,
        second.pk: S.UNPUBLISHED,
        pending.pk: S.NOMINATED,
    }
    assert list(
        CaseStep.objects.filter(to_status=S.UNPUBLISHED).values_list("case", "by", "on", "comment").order_by("case")
    ) == [
        (first.pk, world.student_user.pk, dt.date(2024, 4, 2), "The student's consent was withdrawn."),
        (second.pk, world.student_user.pk, dt.date(2024, 4, 2), "The student's consent was withdrawn."),
    ]
    given.refresh_from_db()
    assert (given.withdrawn_on, given.withdrawn_by, given.withdrawal_note, given.is_active) == (
        dt.date(2024, 4, 2),
        world.student_user,
        "不想公开了",
        False,
    )


@pytest.mark.parametrize(("persona", "allowed"), [("counsellor", True), ("helper", True), ("principal", False)])
def test_staff_withdraw_on_the_students_behalf_if_they_keep_the_plan(
    world: World, types, persona: str, allowed: bool
) -> None:  # type: ignore[no-untyped-def]
    given = consent(world, world.own)
    if allowed:
        services.withdraw_consent(actor=getattr(world, persona), consent=given, today=TODAY)
    else:
        with pytest.raises(PermissionDenied):
            services.withdraw_consent(actor=getattr(world, persona), consent=given, today=TODAY)
    given.refresh_from_db()
    assert given.is_active is not allowed


def test_another_student_cannot_withdraw(world: World, types) -> None:  # type: ignore[no-untyped-def]
    other = make_staff("stu2", "student", world.class1, full_name="刘洋")
    world.classmate.user = other
    world.classmate.save(update_fields=["user"])
    given = consent(world, world.own)

    with pytest.raises(PermissionDenied):
        services.withdraw_consent(actor=other, consent=given, today=TODAY)
    with pytest.raises(ValidationError) as twice:
        services.withdraw_consent(actor=world.student_user, consent=given, today=TODAY)
        services.withdraw_consent(actor=world.student_user, consent=given, today=TODAY)
    assert twice.value.messages == ["This consent is no longer in force."]


def test_a_new_consent_replaces_the_old_and_published_cases_follow_it(world: World, types) -> None:  # type: ignore[no-untyped-def]
    old = consent(world, world.own, name_shown="full", show_photo=True)
    case = take(world, nominate(world, world.own, types["self_improvement_star"], by=world.helper), S.PUBLISHED)

    new = consent(world, world.own, name_shown="surname", show_photo=False)

    old.refresh_from_db()
    case.refresh_from_db()
    assert (old.replaced_on, old.withdrawn_on, old.is_active, new.is_active) == (TODAY, None, False, True)
    assert (case.status, case.consent) == (S.PUBLISHED, new)
    assert Consent.objects.filter(student=world.own, withdrawn_on__isnull=True, replaced_on__isnull=True).count() == 1


def test_a_narrower_consent_unpublishes_a_case_whose_texts_it_no_longer_allows(world: World, types) -> None:  # type: ignore[no-untyped-def]
    consent(world, world.own, name_shown="full")
    case = take(
        world,
        nominate(world, world.own, types["self_improvement_star"], by=world.helper, story="田斌臣由祖父母抚养长大……"),
        S.PUBLISHED,
    )

    consent(world, world.own, name_shown="anonymous")

    case.refresh_from_db()
    assert case.status == S.UNPUBLISHED
    assert case.steps.last().comment == "The student's new consent does not allow these texts."  # type: ignore[union-attr]


def test_a_consent_is_not_given_in_the_future_nor_by_those_who_keep_no_plan(world: World) -> None:
    with pytest.raises(ValidationError) as future:
        services.record_consent(
            actor=world.helper, student=world.own, given_on=dt.date(2024, 3, 16), name_shown="full", today=TODAY
        )
    with pytest.raises(PermissionDenied):
        services.record_consent(
            actor=world.principal, student=world.own, given_on=TODAY, name_shown="full", today=TODAY
        )
    with pytest.raises(PermissionDenied):
        services.record_consent(
            actor=world.student_user, student=world.own, given_on=TODAY, name_shown="full", today=TODAY
        )

    assert future.value.message_dict == {"given_on": ["A consent cannot be given in the future."]}
    assert not Consent.objects.exists()


# --- Names ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mode", "language", "shown"),
    [
        ("王晓燕", "surname", "en", "Student Wang"),
        ("欧阳娜娜", "surname", "en", "Student Ouyang"),
        ("吕文", "surname", "en", "Student Lü"),
        ("王晓燕", "full", "en", "王晓燕"),
        ("王晓燕", "anonymous", "en", "A student"),
    ],
)
def test_the_name_is_shown_as_consented(name: str, mode: str, language: str, shown: str) -> None:
    assert shown_name(name, mode, language) == shown


def test_in_chinese_the_surname_stays_in_characters() -> None:
    assert "王" in shown_name("王晓燕", "surname", "zh-hans")
    assert "晓燕" not in shown_name("王晓燕", "surname", "zh-hans")
