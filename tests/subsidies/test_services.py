"""The subsidy workflow (issue 6 acceptance): every allowed and forbidden transition, nobody approving their own
application or both levels, budgets with and without override, payment without double payment, once per person,
the public notice, and bad input refused with nothing written.

`world.own` (田斌臣) is a final-year ledger student (poverty-alleviated, orphan) helped by `world.helper`, who
applies; `world.leader` approves for the department and `world.office` for the school. 15 March 2024 is a Friday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from bangfu.organisation.models import Role, User
from bangfu.students.models import Student
from bangfu.students.services import join_ledger, leave_ledger
from bangfu.subsidies.models import (
    Application,
    ApplicationStatus,
    ApplicationStep,
    Objection,
    PaymentBatch,
    Receipt,
    SubsidyType,
)
from bangfu.subsidies.services import (
    add_receipt,
    approve_after_notice,
    approve_by_department,
    approve_by_school,
    committed_amount,
    create_application,
    create_payment_batch,
    install_default_types,
    mark_batch_paid,
    record_objection,
    reject_application,
    remove_from_batch,
    resolve_objection,
    return_for_revision,
    save_subsidy_type,
    set_budget,
    start_public_notice,
    submit_application,
    update_application,
    withdraw_application,
    working_days_after,
)
from tests.conftest import TODAY, World
from tests.factories import make_staff, make_student, system_user

S = ApplicationStatus
D = dt.date
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REASON = "家庭经济困难，由祖父母抚养；正积极求职，已参加3场校园招聘会。"
NOTICE_START = D(2024, 3, 18)  # a Monday: five working days end on Friday 22 March
NOTICE_END = D(2024, 3, 22)
AFTER_NOTICE = D(2024, 3, 25)
BATCH_NAME = "2024年3月求职创业补贴发放"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def types(world: World) -> dict[str, SubsidyType]:
    """The school's default types, and a 2024 budget of 15,000 yuan for the job-search subsidy."""
    installed = {t.code: t for t in install_default_types(actor=world.office, school=world.school)}
    set_budget(actor=world.office, subsidy_type=installed["job_search"], year=2024, amount=Decimal("15000"))
    return installed


def pdf(name: str = "低保证.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def apply(
    world: World,
    subsidy_type: SubsidyType,
    *,
    student: Student | None = None,
    actor: User | None = None,
    amount: Any = None,
    evidence: bool = True,
    today: dt.date = TODAY,
) -> Application:
    return create_application(
        actor=actor or world.helper,
        student=student or world.own,
        subsidy_type=subsidy_type,
        amount=amount,
        reason=REASON,
        today=today,
        evidence=pdf() if evidence else None,
    )


def approved_by_school(world: World, subsidy_type: SubsidyType, **kw: Any) -> Application:
    application = apply(world, subsidy_type, **kw)
    submit_application(actor=world.helper, application=application, today=TODAY)
    approve_by_department(actor=world.leader, application=application, today=TODAY, comment="情况属实")
    return approve_by_school(actor=world.office, application=application, today=TODAY, comment="同意")


def on_notice(world: World, subsidy_type: SubsidyType, **kw: Any) -> Application:
    application = approved_by_school(world, subsidy_type, **kw)
    return start_public_notice(actor=world.office, applications=[application], starts_on=NOTICE_START, today=TODAY)[0]


def approved(world: World, subsidy_type: SubsidyType, **kw: Any) -> Application:
    return approve_after_notice(
        actor=world.office, application=on_notice(world, subsidy_type, **kw), today=AFTER_NOTICE
    )


def paid(world: World, subsidy_type: SubsidyType, **kw: Any) -> Application:
    application = approved(world, subsidy_type, **kw)
    batch = create_payment_batch(
        actor=world.office, school=world.school, name=BATCH_NAME, applications=[application], today=AFTER_NOTICE
    )
    mark_batch_paid(actor=world.office, batch=batch, paid_on=AFTER_NOTICE, today=AFTER_NOTICE)
    application.refresh_from_db()
    return application


def second_office(world: World) -> User:
    return make_staff("office2", Role.EMPLOYMENT_OFFICE, world.school, full_name="孙科长")


def snapshot(application: Application) -> tuple[Any, ...]:
    """Everything a refused step must leave as it was."""
    application.refresh_from_db()
    return (
        application.status,
        application.version,
        application.amount,
        application.batch_id,
        application.paid_on,
        application.notice_starts_on,
        application.budget_override,
        ApplicationStep.objects.filter(application=application).count(),
        application.objections.count(),
        application.receipts.count(),
    )


def messages(error: pytest.ExceptionInfo[ValidationError]) -> Any:
    e = error.value
    return e.message_dict if hasattr(e, "error_dict") else e.messages


# --- Every status × every action ------------------------------------------------------------------------------


def _to(status: str) -> Callable[[World, dict[str, SubsidyType]], Application]:
    """How an application reaches `status` through the services."""

    def make(world: World, types: dict[str, SubsidyType]) -> Application:
        job = types["job_search"]
        if status == S.DRAFT:
            return apply(world, job)
        if status == S.SUBMITTED:
            return submit_application(actor=world.helper, application=apply(world, job), today=TODAY)
        if status == S.DEPARTMENT_APPROVED:
            application = make_to(S.SUBMITTED)(world, types)
            return approve_by_department(actor=world.leader, application=application, today=TODAY)
        if status == S.SCHOOL_APPROVED:
            return approved_by_school(world, job)
        if status == S.ON_NOTICE:
            return on_notice(world, job)
        if status == S.APPROVED:
            return approved(world, job)
        if status == S.PAID:
            return paid(world, job)
        if status == S.RETURNED:
            application = make_to(S.SUBMITTED)(world, types)
            return return_for_revision(actor=world.leader, application=application, today=TODAY, comment="证明不清晰")
        if status == S.REJECTED:
            application = make_to(S.SUBMITTED)(world, types)
            return reject_application(actor=world.leader, application=application, today=TODAY, comment="不符合条件")
        assert status == S.WITHDRAWN
        return withdraw_application(actor=world.helper, application=apply(world, job), today=TODAY)

    return make


make_to = _to
DAY = AFTER_NOTICE  # the day every action of the table is taken: after the notice ended


def _act(action: str, world: World, application: Application) -> None:
    if action == "update":
        update_application(actor=world.helper, application=application, expected_version=None, today=DAY, reason=REASON)
    elif action == "add_receipt":
        add_receipt(actor=world.helper, application=application, file=pdf("发票.pdf"), amount="200")
    elif action == "submit":
        submit_application(actor=world.helper, application=application, today=DAY)
    elif action == "withdraw":
        withdraw_application(actor=world.helper, application=application, today=DAY, comment="学生已就业")
    elif action == "approve_department":
        approve_by_department(actor=world.leader, application=application, today=DAY)
    elif action == "approve_school":
        approve_by_school(actor=world.office, application=application, today=DAY)
    elif action == "start_notice":
        start_public_notice(actor=world.office, applications=[application], starts_on=DAY, today=DAY)
    elif action == "object":
        record_objection(
            actor=world.office, application=application, content="该生家庭已有稳定收入。", raised_on=D(2024, 3, 20)
        )
    elif action == "approve_final":
        approve_after_notice(actor=world.office, application=application, today=DAY)
    elif action == "return":
        return_for_revision(actor=world.office, application=application, today=DAY, comment="请补充材料")
    elif action == "reject":
        reject_application(actor=world.office, application=application, today=DAY, comment="不符合条件")
    else:
        assert action == "batch"
        create_payment_batch(
            actor=world.office, school=world.school, name=BATCH_NAME, applications=[application], today=DAY
        )


# action → {status it may be taken from: the status it leads to}
ALLOWED: dict[str, dict[str, str]] = {
    "update": {S.DRAFT: S.DRAFT, S.RETURNED: S.RETURNED},
    "add_receipt": {S.DRAFT: S.DRAFT, S.RETURNED: S.RETURNED},
    "submit": {S.DRAFT: S.SUBMITTED, S.RETURNED: S.SUBMITTED},
    "withdraw": {s: S.WITHDRAWN for s in (S.DRAFT, S.SUBMITTED, S.RETURNED, S.DEPARTMENT_APPROVED)},
    "approve_department": {S.SUBMITTED: S.DEPARTMENT_APPROVED},
    "approve_school": {S.DEPARTMENT_APPROVED: S.SCHOOL_APPROVED},
    "start_notice": {S.SCHOOL_APPROVED: S.ON_NOTICE},
    "object": {S.ON_NOTICE: S.ON_NOTICE},
    "approve_final": {S.ON_NOTICE: S.APPROVED},
    "return": {S.SUBMITTED: S.RETURNED, S.DEPARTMENT_APPROVED: S.RETURNED},
    "reject": {s: S.REJECTED for s in (S.SUBMITTED, S.DEPARTMENT_APPROVED, S.SCHOOL_APPROVED, S.ON_NOTICE)},
    "batch": {S.APPROVED: S.APPROVED},
}
CASES = [pytest.param(status, action, id=f"{status}-{action}") for status in S.values for action in ALLOWED]


@pytest.mark.parametrize(("status", "action"), CASES)
def test_every_action_from_every_status(world: World, types: dict[str, SubsidyType], status: str, action: str) -> None:
    application = make_to(status)(world, types)
    assert application.status == status
    before = snapshot(application)
    steps = ApplicationStep.objects.filter(application=application).count()

    if status in ALLOWED[action]:
        _act(action, world, application)
        application.refresh_from_db()
        assert application.status == ALLOWED[action][status]
        if application.status != status:
            step = application.steps.order_by("-id").first()
            assert step is not None
            assert (step.from_status, step.to_status, step.on) == (status, application.status, DAY)
            assert application.steps.count() == steps + 1
        if action == "batch":
            assert application.batch is not None
            assert application.batch.name == BATCH_NAME
    else:
        with pytest.raises(ValidationError):
            _act(action, world, application)
        assert snapshot(application) == before
        assert PaymentBatch.objects.filter(name=BATCH_NAME).count() == (1 if status == S.PAID else 0)


def test_a_refused_step_says_which_status_the_application_is_in(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["job_search"])

    with pytest.raises(ValidationError) as error:
        approve_by_department(actor=world.leader, application=application, today=TODAY)

    assert error.value.messages == ["This application is “Draft”: that step is not possible now."]
    assert error.value.error_list[0].code == "bad_step"


def test_each_step_records_who_when_and_the_comment(world: World, types: dict[str, SubsidyType]) -> None:
    application = approved(world, types["job_search"])

    steps = list(
        application.steps.order_by("id").values_list("from_status", "to_status", "by__username", "on", "comment")
    )
    assert steps == [
        ("", S.DRAFT, "helper", TODAY, ""),
        (S.DRAFT, S.SUBMITTED, "helper", TODAY, ""),
        (S.SUBMITTED, S.DEPARTMENT_APPROVED, "leader", TODAY, "情况属实"),
        (S.DEPARTMENT_APPROVED, S.SCHOOL_APPROVED, "office", TODAY, "同意"),
        (S.SCHOOL_APPROVED, S.ON_NOTICE, "office", TODAY, ""),
        (S.ON_NOTICE, S.APPROVED, "office", AFTER_NOTICE, ""),
    ]
    assert application.submitted_on == TODAY
    assert (application.notice_starts_on, application.notice_ends_on) == (NOTICE_START, NOTICE_END)


def test_a_type_without_notice_is_approved_for_payment_by_the_school(
    world: World, types: dict[str, SubsidyType]
) -> None:
    set_budget(actor=world.office, subsidy_type=types["hardship_subsidy"], year=2024, amount=Decimal("5000"))

    application = approved_by_school(world, types["hardship_subsidy"], amount="1200")

    assert application.status == S.APPROVED
    assert list(application.steps.order_by("id").values_list("to_status", "by__username", "comment"))[-2:] == [
        (S.SCHOOL_APPROVED, "office", "同意"),
        (S.APPROVED, "office", "No public notice is required for this subsidy."),
    ]
    assert application.notice_starts_on is None


def test_nobody_outside_the_roles_moves_an_application(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["job_search"])
    submit_application(actor=world.helper, application=application, today=TODAY)
    before = snapshot(application)

    for actor, step in [
        (world.helper, approve_by_department),  # a helper applies, never approves
        (world.counsellor, approve_by_department),
        (world.other_leader, approve_by_department),  # another department
        (world.principal, approve_by_department),  # the school leader looks on
        (world.outsider, approve_by_department),  # the office of another school
        (world.student_user, approve_by_department),  # the student applies for themself, never approves
    ]:
        with pytest.raises(PermissionDenied):
            step(actor=actor, application=application, today=TODAY)
    with pytest.raises(PermissionDenied):
        approve_by_school(actor=world.leader, application=application, today=TODAY)
    assert snapshot(application) == before


def test_the_student_applies_for_themself_but_not_for_a_classmate(world: World, types: dict[str, SubsidyType]) -> None:
    own = apply(world, types["job_search"], actor=world.student_user)
    assert (own.student, own.applied_by, own.status) == (world.own, world.student_user, "draft")
    with pytest.raises(PermissionDenied):
        create_application(
            actor=world.student_user,
            student=world.classmate,
            subsidy_type=types["job_search"],
            amount=None,
            reason="替同学申请",
            today=TODAY,
        )
    assert Application.objects.count() == 1


# --- Self-approval, and one person per level ----------------------------------------------------------------


def test_the_applicant_does_not_approve_their_own_application(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["job_search"], actor=world.leader)
    submit_application(actor=world.leader, application=application, today=TODAY)

    with pytest.raises(ValidationError) as error:
        approve_by_department(actor=world.leader, application=application, today=TODAY)

    assert error.value.messages == ["You applied for this subsidy, so someone else must approve it."]
    assert error.value.error_list[0].code == "self_approval"
    assert Application.objects.get().status == S.SUBMITTED


def test_an_office_applicant_does_not_approve_at_school_level_either(
    world: World, types: dict[str, SubsidyType]
) -> None:
    application = apply(world, types["job_search"], actor=world.office)
    submit_application(actor=world.office, application=application, today=TODAY)
    approve_by_department(actor=world.leader, application=application, today=TODAY)

    with pytest.raises(ValidationError) as error:
        approve_by_school(actor=world.office, application=application, today=TODAY)

    assert error.value.error_list[0].code == "self_approval"
    approve_by_school(actor=second_office(world), application=application, today=TODAY)
    assert Application.objects.get().status == S.SCHOOL_APPROVED


def test_no_one_approves_their_own_subsidy_as_the_student(world: World, types: dict[str, SubsidyType]) -> None:
    """A clerk of the employment office who studies part-time in class 1 is also a ledger student."""
    clerk = second_office(world)
    student = make_student(world.class1, name="孙科长", user=clerk)
    join_ledger(
        actor=system_user(),
        student=student,
        joined_on=D(2021, 11, 1),
        reason="低保家庭",
        categories=["subsistence_allowance"],
    )
    application = apply(world, types["job_search"], student=student, actor=world.counsellor)
    submit_application(actor=world.counsellor, application=application, today=TODAY)

    with pytest.raises(ValidationError) as error:
        approve_by_department(actor=clerk, application=application, today=TODAY)

    assert error.value.messages == ["You cannot approve your own subsidy."]
    approve_by_department(actor=world.leader, application=application, today=TODAY)
    with pytest.raises(ValidationError) as error:
        approve_by_school(actor=clerk, application=application, today=TODAY)
    assert error.value.messages == ["You cannot approve your own subsidy."]
    assert Application.objects.get().status == S.DEPARTMENT_APPROVED


def test_the_department_and_the_school_approval_are_two_people(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["job_search"])
    submit_application(actor=world.helper, application=application, today=TODAY)
    approve_by_department(actor=world.office, application=application, today=TODAY)

    with pytest.raises(ValidationError) as error:
        approve_by_school(actor=world.office, application=application, today=TODAY)

    assert error.value.messages == [
        "You have already approved this application at another level; the next approval is someone else's."
    ]
    assert error.value.error_list[0].code == "same_approver"
    assert Application.objects.get().status == S.DEPARTMENT_APPROVED
    approve_by_school(actor=second_office(world), application=application, today=TODAY)
    assert Application.objects.get().status == S.SCHOOL_APPROVED


def test_the_department_approves_again_after_the_school_returned_the_application(
    world: World, types: dict[str, SubsidyType]
) -> None:
    application = apply(world, types["job_search"])
    submit_application(actor=world.helper, application=application, today=TODAY)
    approve_by_department(actor=world.leader, application=application, today=TODAY)
    return_for_revision(actor=world.office, application=application, today=TODAY, comment="请补充低保证复印件")
    update_application(actor=world.helper, application=application, expected_version=None, today=TODAY, evidence=pdf())
    submit_application(actor=world.helper, application=application, today=TODAY)

    approve_by_department(actor=world.leader, application=application, today=TODAY, comment="已补充")
    approve_by_school(actor=world.office, application=application, today=TODAY)

    assert Application.objects.get().status == S.SCHOOL_APPROVED


def test_who_approved_the_department_level_last_time_may_approve_for_the_school_after_a_new_round(
    world: World, types: dict[str, SubsidyType]
) -> None:
    """Two people per round: the office clerk who signed for the department in the first round, before the
    application came back, may sign for the school once the department leader has signed the second round."""
    clerk = second_office(world)
    application = apply(world, types["job_search"])
    submit_application(actor=world.helper, application=application, today=TODAY)
    approve_by_department(actor=clerk, application=application, today=TODAY)
    return_for_revision(actor=world.office, application=application, today=TODAY, comment="金额有误")
    submit_application(actor=world.helper, application=application, today=TODAY)
    approve_by_department(actor=world.leader, application=application, today=TODAY)

    approve_by_school(actor=clerk, application=application, today=TODAY)

    assert Application.objects.get().status == S.SCHOOL_APPROVED


# --- Budgets ---------------------------------------------------------------------------------------------------


def test_an_approval_beyond_the_budget_is_refused_without_an_override(
    world: World, types: dict[str, SubsidyType]
) -> None:
    job = types["job_search"]
    set_budget(actor=world.office, subsidy_type=job, year=2024, amount=Decimal("2000"))
    approved_by_school(world, job)  # 1,500 of 2,000 committed
    other = make_student(world.class1, name="王芳")
    join_ledger(
        actor=system_user(), student=other, joined_on=D(2021, 11, 1), reason="残疾学生", categories=["disabled"]
    )
    application = apply(world, job, student=other, actor=world.counsellor)
    submit_application(actor=world.counsellor, application=application, today=TODAY)
    approve_by_department(actor=world.leader, application=application, today=TODAY)
    before = snapshot(application)

    with pytest.raises(ValidationError) as error:
        approve_by_school(actor=world.office, application=application, today=TODAY, comment="同意")

    assert error.value.messages == [
        "Only 500.00 yuan is left of the 2024 budget for 求职创业补贴; approving 1500.00 yuan needs a budget override."
    ]
    assert error.value.error_list[0].code == "over_budget"
    assert snapshot(application) == before

    with pytest.raises(ValidationError) as error:
        approve_by_school(actor=world.office, application=application, today=TODAY, override_budget=True, comment=" ")
    assert error.value.message_dict == {"comment": ["Say why the budget is overridden."]}
    assert snapshot(application) == before

    approve_by_school(
        actor=world.office, application=application, today=TODAY, override_budget=True, comment="追加预算已获批"
    )
    application.refresh_from_db()
    assert (application.status, application.budget_override) == (S.SCHOOL_APPROVED, True)
    step = application.steps.get(to_status=S.SCHOOL_APPROVED)
    assert (step.by, step.comment, step.budget_override) == (world.office, "追加预算已获批", True)
    assert committed_amount(job, 2024) == Decimal("3000.00")


def test_an_override_within_the_budget_is_not_recorded_as_one(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["job_search"])
    submit_application(actor=world.helper, application=application, today=TODAY)
    approve_by_department(actor=world.leader, application=application, today=TODAY)

    approve_by_school(actor=world.office, application=application, today=TODAY, override_budget=True)

    application.refresh_from_db()
    assert application.budget_override is False
    assert application.steps.get(to_status=S.SCHOOL_APPROVED).budget_override is False


def test_after_an_override_the_message_does_not_show_a_negative_amount(
    world: World, types: dict[str, SubsidyType]
) -> None:
    job = types["job_search"]
    set_budget(actor=world.office, subsidy_type=job, year=2024, amount=Decimal("1000"))
    first = apply(world, job)
    submit_application(actor=world.helper, application=first, today=TODAY)
    approve_by_department(actor=world.leader, application=first, today=TODAY)
    approve_by_school(actor=world.office, application=first, today=TODAY, override_budget=True, comment="特殊情况")
    other = make_student(world.class1, name="王芳")
    join_ledger(actor=system_user(), student=other, joined_on=D(2021, 11, 1), reason="孤儿", categories=["orphan"])
    second = apply(world, job, student=other, actor=world.counsellor)
    submit_application(actor=world.counsellor, application=second, today=TODAY)
    approve_by_department(actor=world.leader, application=second, today=TODAY)

    with pytest.raises(ValidationError) as error:
        approve_by_school(actor=world.office, application=second, today=TODAY)

    assert error.value.messages == [
        "Only 0.00 yuan is left of the 2024 budget for 求职创业补贴; approving 1500.00 yuan needs a budget override."
    ]


def test_without_a_budget_for_the_year_an_approval_needs_an_override(
    world: World, types: dict[str, SubsidyType]
) -> None:
    national = types["national_grant"]
    application = apply(world, national)
    submit_application(actor=world.helper, application=application, today=TODAY)
    approve_by_department(actor=world.leader, application=application, today=TODAY)

    with pytest.raises(ValidationError) as error:
        approve_by_school(actor=world.office, application=application, today=TODAY)

    assert error.value.messages == [
        "There is no 2024 budget for 国家助学金; approving 3300.00 yuan needs a budget override."
    ]
    assert error.value.error_list[0].code == "over_budget"
    assert Application.objects.get().status == S.DEPARTMENT_APPROVED
    approve_by_school(
        actor=world.office, application=application, today=TODAY, override_budget=True, comment="预算待下达"
    )
    assert Application.objects.get().budget_override is True


def test_rejected_and_withdrawn_applications_commit_nothing(world: World, types: dict[str, SubsidyType]) -> None:
    job = types["job_search"]
    application = on_notice(world, job)
    assert committed_amount(job, 2024) == Decimal("1500.00")

    reject_application(actor=world.office, application=application, today=NOTICE_END, comment="异议成立")

    assert committed_amount(job, 2024) == 0


def test_budgets_are_set_by_the_office_only_and_never_negative(world: World, types: dict[str, SubsidyType]) -> None:
    job = types["job_search"]

    with pytest.raises(PermissionDenied):
        set_budget(actor=world.leader, subsidy_type=job, year=2025, amount=Decimal("10000"))
    with pytest.raises(PermissionDenied):
        set_budget(actor=world.outsider, subsidy_type=job, year=2025, amount=Decimal("10000"))
    with pytest.raises(ValidationError) as error:
        set_budget(actor=world.office, subsidy_type=job, year=2025, amount=Decimal("-1"))
    assert error.value.message_dict == {"amount": ["A budget cannot be negative."]}
    assert not job.budgets.filter(year=2025).exists()

    budget = set_budget(actor=world.office, subsidy_type=job, year=2024, amount=Decimal("20000"))
    assert (budget.amount, budget.version) == (Decimal("20000.00"), 2)


# --- Payment ----------------------------------------------------------------------------------------------------


def test_a_batch_is_paid_once(world: World, types: dict[str, SubsidyType]) -> None:
    application = approved(world, types["job_search"])
    batch = create_payment_batch(
        actor=world.office, school=world.school, name=BATCH_NAME, applications=[application], today=AFTER_NOTICE
    )

    mark_batch_paid(actor=world.office, batch=batch, paid_on=D(2024, 3, 28), today=D(2024, 3, 29))

    application.refresh_from_db()
    assert (application.status, application.paid_on) == (S.PAID, D(2024, 3, 28))
    step = application.steps.get(to_status=S.PAID)
    assert (step.by, step.comment) == (world.office, f"Paid in batch {BATCH_NAME}.")
    before = snapshot(application)

    with pytest.raises(ValidationError) as error:
        mark_batch_paid(actor=world.office, batch=batch, paid_on=D(2024, 3, 29), today=D(2024, 3, 29))

    assert error.value.messages == ["This batch was already paid on 2024-03-28."]
    assert error.value.error_list[0].code == "paid_twice"
    assert snapshot(application) == before
    assert PaymentBatch.objects.get().paid_on == D(2024, 3, 28)


def test_an_application_is_never_in_two_batches(world: World, types: dict[str, SubsidyType]) -> None:
    application = approved(world, types["job_search"])
    first = create_payment_batch(
        actor=world.office, school=world.school, name=BATCH_NAME, applications=[application], today=AFTER_NOTICE
    )

    with pytest.raises(ValidationError) as error:
        create_payment_batch(
            actor=world.office, school=world.school, name="重复批次", applications=[application], today=AFTER_NOTICE
        )

    own = world.own
    assert error.value.messages == [f"田斌臣 ({own.student_number}): the application is already in another batch."]
    assert list(PaymentBatch.objects.values_list("name", flat=True)) == [BATCH_NAME]
    application.refresh_from_db()
    assert application.batch == first


def test_a_paid_application_cannot_be_paid_again_in_a_new_batch(world: World, types: dict[str, SubsidyType]) -> None:
    application = paid(world, types["job_search"])

    with pytest.raises(ValidationError) as error:
        create_payment_batch(
            actor=world.office, school=world.school, name="二次发放", applications=[application], today=AFTER_NOTICE
        )

    assert error.value.messages == [
        f"田斌臣 ({world.own.student_number}): the application is “Paid”, not approved for payment."
    ]
    assert PaymentBatch.objects.count() == 1


def test_a_batch_with_an_unapproved_application_is_not_created(world: World, types: dict[str, SubsidyType]) -> None:
    ready = approved(world, types["job_search"])
    other = make_student(world.class1, name="王芳", student_number="2021990001")
    join_ledger(
        actor=system_user(),
        student=other,
        joined_on=D(2021, 11, 1),
        reason="低保家庭",
        categories=["subsistence_allowance"],
    )
    waiting = apply(world, types["job_search"], student=other, actor=world.counsellor)
    submit_application(actor=world.counsellor, application=waiting, today=TODAY)
    before = (snapshot(ready), snapshot(waiting))

    with pytest.raises(ValidationError) as error:
        create_payment_batch(
            actor=world.office, school=world.school, name=BATCH_NAME, applications=[ready, waiting], today=AFTER_NOTICE
        )

    assert error.value.messages == ["王芳 (2021990001): the application is “Submitted”, not approved for payment."]
    assert error.value.error_list[0].code == "not_payable"
    assert not PaymentBatch.objects.exists()
    assert (snapshot(ready), snapshot(waiting)) == before


def test_a_batch_holds_only_its_schools_students(world: World, types: dict[str, SubsidyType]) -> None:
    application = approved(world, types["job_search"])

    with pytest.raises(PermissionDenied):
        create_payment_batch(
            actor=world.office, school=world.other_school, name="外校", applications=[application], today=AFTER_NOTICE
        )
    with pytest.raises(ValidationError) as error:
        create_payment_batch(
            actor=world.outsider, school=world.other_school, name="外校", applications=[application], today=AFTER_NOTICE
        )

    assert error.value.messages == [f"田斌臣 ({world.own.student_number}) is not a student of this school."]
    assert not PaymentBatch.objects.exists()
    assert Application.objects.get().batch is None


def test_a_payment_date_in_the_future_is_refused_and_nothing_is_paid(
    world: World, types: dict[str, SubsidyType]
) -> None:
    application = approved(world, types["job_search"])
    batch = create_payment_batch(
        actor=world.office, school=world.school, name=BATCH_NAME, applications=[application], today=AFTER_NOTICE
    )

    with pytest.raises(ValidationError) as error:
        mark_batch_paid(actor=world.office, batch=batch, paid_on=D(2024, 4, 1), today=AFTER_NOTICE)

    assert error.value.message_dict == {"paid_on": ["The payment date cannot be in the future."]}
    application.refresh_from_db()
    assert (application.status, application.paid_on) == (S.APPROVED, None)
    assert PaymentBatch.objects.get().paid_on is None


def test_an_application_removed_from_an_unpaid_batch_can_go_into_another(
    world: World, types: dict[str, SubsidyType]
) -> None:
    application = approved(world, types["job_search"])
    first = create_payment_batch(
        actor=world.office, school=world.school, name=BATCH_NAME, applications=[application], today=AFTER_NOTICE
    )

    remove_from_batch(actor=world.office, batch=first, application=application)
    second = create_payment_batch(
        actor=world.office, school=world.school, name="4月发放", applications=[application], today=AFTER_NOTICE
    )

    application.refresh_from_db()
    assert application.batch == second
    with pytest.raises(ValidationError, match=r"The batch is empty\."):
        mark_batch_paid(actor=world.office, batch=first, paid_on=AFTER_NOTICE, today=AFTER_NOTICE)
    mark_batch_paid(actor=world.office, batch=second, paid_on=AFTER_NOTICE, today=AFTER_NOTICE)
    with pytest.raises(ValidationError, match=r"A paid batch cannot change\."):
        remove_from_batch(actor=world.office, batch=PaymentBatch.objects.get(pk=second.pk), application=application)


# --- Once per person -----------------------------------------------------------------------------------------


ONCE = "It is granted once per person, and the student has already applied."


def test_after_a_rejected_job_search_application_a_new_one_is_allowed(
    world: World, types: dict[str, SubsidyType]
) -> None:
    job = types["job_search"]
    first = apply(world, job)
    submit_application(actor=world.helper, application=first, today=TODAY)
    reject_application(actor=world.leader, application=first, today=TODAY, comment="证明材料过期")

    second = apply(world, job)

    assert second.status == S.DRAFT
    assert Application.objects.filter(student=world.own, subsidy_type=job).count() == 2


def test_after_a_withdrawn_one_too(world: World, types: dict[str, SubsidyType]) -> None:
    job = types["job_search"]
    withdraw_application(actor=world.helper, application=apply(world, job), today=TODAY)

    assert apply(world, job).status == S.DRAFT


@pytest.mark.parametrize("status", [S.DRAFT, S.SUBMITTED, S.RETURNED, S.ON_NOTICE])
def test_while_one_is_open_no_second_one(world: World, types: dict[str, SubsidyType], status: str) -> None:
    make_to(status)(world, types)

    with pytest.raises(ValidationError) as error:
        apply(world, types["job_search"])

    assert error.value.messages == [ONCE]
    assert error.value.error_list[0].code == "not_eligible"
    assert Application.objects.count() == 1


def test_after_a_paid_job_search_subsidy_never_again_whatever_the_category(
    world: World, types: dict[str, SubsidyType]
) -> None:
    """Paid as an orphan from a poverty-alleviated household; later in the ledger for a student loan: still once."""
    job = types["job_search"]
    paid(world, job)
    leave_ledger(
        actor=system_user(),
        entry=world.own.ledger_entries.get(),
        left_on=D(2024, 4, 1),
        reason="重新认定",
        expected_version=None,
        today=D(2024, 4, 1),
    )
    join_ledger(
        actor=system_user(),
        student=world.own,
        joined_on=D(2024, 4, 2),
        reason="办理助学贷款",
        categories=["student_loan"],
        today=D(2024, 4, 2),
    )

    with pytest.raises(ValidationError) as error:
        apply(world, job, today=D(2024, 4, 3))

    assert error.value.messages == [ONCE]
    assert Application.objects.count() == 1


def test_a_resubmission_does_not_count_the_application_itself(world: World, types: dict[str, SubsidyType]) -> None:
    application = make_to(S.RETURNED)(world, types)

    submit_application(actor=world.helper, application=application, today=TODAY)

    assert Application.objects.get().status == S.SUBMITTED


def test_a_repeatable_type_may_be_applied_for_again(world: World, types: dict[str, SubsidyType]) -> None:
    hardship = types["hardship_subsidy"]
    set_budget(actor=world.office, subsidy_type=hardship, year=2024, amount=Decimal("10000"))
    approved_by_school(world, hardship, amount="800")

    assert apply(world, hardship, amount="600").status == S.DRAFT


# --- The public notice ---------------------------------------------------------------------------------------


def test_a_notice_counts_working_days_across_the_weekend() -> None:
    assert working_days_after(D(2024, 3, 15), 5) == D(2024, 3, 21)  # Fri → Thu
    assert working_days_after(D(2024, 3, 20), 5) == D(2024, 3, 26)  # Wed → Tue, over Sat and Sun
    assert working_days_after(D(2024, 3, 16), 5) == D(2024, 3, 22)  # from a Saturday: Mon → Fri
    assert working_days_after(D(2024, 3, 18), 1) == D(2024, 3, 18)
    assert working_days_after(D(2024, 3, 22), 10) == D(2024, 4, 4)


def test_several_applications_go_on_notice_at_once(world: World, types: dict[str, SubsidyType]) -> None:
    first = approved_by_school(world, types["job_search"])
    other = make_student(world.class1, name="王芳")
    join_ledger(actor=system_user(), student=other, joined_on=D(2021, 11, 1), reason="孤儿", categories=["orphan"])
    second = apply(world, types["job_search"], student=other, actor=world.counsellor)
    submit_application(actor=world.counsellor, application=second, today=TODAY)
    approve_by_department(actor=world.leader, application=second, today=TODAY)
    approve_by_school(actor=world.office, application=second, today=TODAY)

    noticed = start_public_notice(
        actor=world.office, applications=[first, second], starts_on=D(2024, 3, 20), today=TODAY
    )

    assert [(a.status, a.notice_starts_on, a.notice_ends_on) for a in noticed] == [
        (S.ON_NOTICE, D(2024, 3, 20), D(2024, 3, 26))
    ] * 2


def test_a_notice_does_not_start_in_the_past_or_for_the_wrong_status(
    world: World, types: dict[str, SubsidyType]
) -> None:
    ready = approved_by_school(world, types["job_search"])
    draft = apply(world, types["hardship_subsidy"], amount="500")

    with pytest.raises(ValidationError) as error:
        start_public_notice(actor=world.office, applications=[ready], starts_on=D(2024, 3, 14), today=TODAY)
    assert error.value.message_dict == {"starts_on": ["A notice cannot start in the past."]}
    with pytest.raises(ValidationError):
        start_public_notice(actor=world.office, applications=[ready, draft], starts_on=TODAY, today=TODAY)
    with pytest.raises(ValidationError, match=r"Choose at least one application\."):
        start_public_notice(actor=world.office, applications=[], starts_on=TODAY, today=TODAY)
    with pytest.raises(PermissionDenied):
        start_public_notice(actor=world.leader, applications=[ready], starts_on=TODAY, today=TODAY)

    ready.refresh_from_db()
    assert (ready.status, ready.notice_starts_on) == (S.SCHOOL_APPROVED, None)


def test_a_type_changed_to_no_notice_after_approval_still_gets_a_notice_of_a_day(
    world: World, types: dict[str, SubsidyType]
) -> None:
    application = approved_by_school(world, types["job_search"])
    job = SubsidyType.objects.get(code="job_search")
    save_subsidy_type(
        actor=world.office, school=world.school, subsidy_type=job, expected_version=job.version, public_notice_days=0
    )

    noticed = start_public_notice(actor=world.office, applications=[application], starts_on=NOTICE_START, today=TODAY)

    assert noticed[0].notice_ends_on == NOTICE_START


@pytest.mark.parametrize("raised_on", [D(2024, 3, 15), D(2024, 3, 23)], ids=["before", "after"])
def test_an_objection_outside_the_notice_is_refused(
    world: World, types: dict[str, SubsidyType], raised_on: dt.date
) -> None:
    application = on_notice(world, types["job_search"])

    with pytest.raises(ValidationError) as error:
        record_objection(
            actor=world.office, application=application, content="该生父亲在外务工收入稳定。", raised_on=raised_on
        )

    assert error.value.message_dict == {
        "raised_on": ["Objections are raised during the public notice (2024-03-18 to 2024-03-22)."]
    }
    assert not Objection.objects.exists()


def test_an_objection_needs_its_content(world: World, types: dict[str, SubsidyType]) -> None:
    application = on_notice(world, types["job_search"])

    with pytest.raises(ValidationError) as error:
        record_objection(actor=world.office, application=application, content="  ", raised_on=NOTICE_START)

    assert error.value.message_dict == {"content": ["Write the objection."]}
    assert not Objection.objects.exists()


def test_final_approval_waits_for_the_end_of_the_notice(world: World, types: dict[str, SubsidyType]) -> None:
    application = on_notice(world, types["job_search"])

    with pytest.raises(ValidationError) as error:
        approve_after_notice(actor=world.office, application=application, today=NOTICE_END)

    assert error.value.messages == ["The public notice runs until 2024-03-22; approve after it ends."]
    assert error.value.error_list[0].code == "notice_running"
    assert Application.objects.get().status == S.ON_NOTICE
    approve_after_notice(actor=world.office, application=application, today=D(2024, 3, 23))
    assert Application.objects.get().status == S.APPROVED


def test_final_approval_waits_for_every_objection_to_be_resolved(world: World, types: dict[str, SubsidyType]) -> None:
    application = on_notice(world, types["job_search"])
    objection = record_objection(
        actor=world.office, application=application, content="有同学反映该生家庭已购置新房。", raised_on=D(2024, 3, 20)
    )

    with pytest.raises(ValidationError) as error:
        approve_after_notice(actor=world.office, application=application, today=AFTER_NOTICE)
    assert error.value.messages == ["Resolve every objection first."]
    assert error.value.error_list[0].code == "objection_open"
    assert Application.objects.get().status == S.ON_NOTICE

    with pytest.raises(ValidationError) as error:
        resolve_objection(actor=world.office, objection=objection, handling="", upheld=False, today=AFTER_NOTICE)
    assert error.value.message_dict == {"handling": ["Say how the objection was handled."]}

    resolve_objection(
        actor=world.office,
        objection=objection,
        handling="经走访核实，房屋为亲属所有，异议不成立。",
        upheld=False,
        today=AFTER_NOTICE,
    )
    objection.refresh_from_db()
    assert (objection.upheld, objection.resolved_on, objection.resolved_by) == (False, AFTER_NOTICE, world.office)
    with pytest.raises(ValidationError, match=r"This objection is already resolved\."):
        resolve_objection(actor=world.office, objection=objection, handling="再次处理", upheld=True, today=AFTER_NOTICE)

    approve_after_notice(actor=world.office, application=application, today=AFTER_NOTICE)
    assert Application.objects.get().status == S.APPROVED


def test_an_upheld_objection_stops_the_final_approval(world: World, types: dict[str, SubsidyType]) -> None:
    application = on_notice(world, types["job_search"])
    objection = record_objection(
        actor=world.office, application=application, content="该生已于2月签约就业。", raised_on=NOTICE_START
    )
    resolve_objection(actor=world.office, objection=objection, handling="核实属实。", upheld=True, today=NOTICE_END)

    with pytest.raises(ValidationError) as error:
        approve_after_notice(actor=world.office, application=application, today=AFTER_NOTICE)

    assert error.value.messages == ["An objection was upheld: reject the application instead."]
    assert error.value.error_list[0].code == "objection_upheld"
    reject_application(actor=world.office, application=application, today=AFTER_NOTICE, comment="异议成立：已就业")
    assert Application.objects.get().status == S.REJECTED


def test_only_the_office_handles_objections(world: World, types: dict[str, SubsidyType]) -> None:
    application = on_notice(world, types["job_search"])

    with pytest.raises(PermissionDenied):
        record_objection(actor=world.leader, application=application, content="异议", raised_on=NOTICE_START)
    with pytest.raises(PermissionDenied):
        record_objection(actor=world.outsider, application=application, content="异议", raised_on=NOTICE_START)
    assert not Objection.objects.exists()


# --- Bad input, nothing written ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "amount", "errors"),
    [
        pytest.param("hardship_subsidy", "-100", {"amount": ["The amount must be more than zero."]}, id="negative"),
        pytest.param("hardship_subsidy", "0", {"amount": ["The amount must be more than zero."]}, id="zero"),
        pytest.param("travel", "900", {"amount": ["This subsidy is at most 800.00 yuan."]}, id="over-cap"),
        pytest.param("job_search", "1000", {"amount": ["This subsidy is a fixed 1500.00 yuan."]}, id="not-fixed"),
        pytest.param(
            "hardship_subsidy", "一千", {"amount": ["Give an amount in yuan, e.g. 1500 or 1500.00."]}, id="not-a-number"
        ),
    ],
)
def test_a_bad_amount_is_refused_and_nothing_is_written(
    world: World,
    types: dict[str, SubsidyType],
    media,
    code: str,
    amount: str,
    errors: dict[str, list[str]],  # type: ignore[no-untyped-def]
) -> None:
    with pytest.raises(ValidationError) as error:
        apply(world, types[code], amount=amount)

    assert error.value.message_dict == errors
    assert not Application.objects.exists()
    assert not ApplicationStep.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*"))


def test_an_amount_changed_over_the_cap_keeps_the_old_one(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["travel"], amount="600", evidence=False)

    with pytest.raises(ValidationError) as error:
        update_application(
            actor=world.helper, application=application, expected_version=1, today=TODAY, amount="800.01"
        )

    assert error.value.message_dict == {"amount": ["This subsidy is at most 800.00 yuan."]}
    application.refresh_from_db()
    assert (application.amount, application.version) == (Decimal("600.00"), 1)


def test_the_fixed_amount_is_taken_when_none_is_given(world: World, types: dict[str, SubsidyType]) -> None:
    assert apply(world, types["job_search"]).amount == Decimal("1500.00")


def test_a_reason_is_required(world: World, types: dict[str, SubsidyType]) -> None:
    with pytest.raises(ValidationError) as error:
        create_application(
            actor=world.helper,
            student=world.own,
            subsidy_type=types["job_search"],
            amount=None,
            reason=" ",
            today=TODAY,
        )

    assert error.value.message_dict == {"reason": ["Say why the student applies."]}
    assert not Application.objects.exists()


def test_evidence_that_is_not_a_pdf_or_image_is_refused(world: World, types: dict[str, SubsidyType]) -> None:
    fake = SimpleUploadedFile("低保证.pdf", b"MZ\x90\x00 not a pdf")

    with pytest.raises(ValidationError) as error:
        create_application(
            actor=world.helper,
            student=world.own,
            subsidy_type=types["job_search"],
            amount=None,
            reason=REASON,
            today=TODAY,
            evidence=fake,
        )

    assert error.value.message_dict == {"evidence": ["The file's content is not a real PDF file."]}
    assert not Application.objects.exists()


def test_submitting_without_the_evidence_is_refused(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["job_search"], evidence=False)
    before = snapshot(application)

    with pytest.raises(ValidationError) as error:
        submit_application(actor=world.helper, application=application, today=TODAY)

    assert error.value.message_dict == {
        "evidence": ["Attach the evidence: 低保证、残疾证、助学贷款合同等类别证明 / Proof of the category."]
    }
    assert snapshot(application) == before


def test_travel_without_receipts_is_refused(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["travel"], amount="500", evidence=False)
    before = snapshot(application)

    with pytest.raises(ValidationError) as error:
        submit_application(actor=world.helper, application=application, today=TODAY)

    assert error.value.message_dict == {"receipts": ["Attach the receipts."]}
    assert snapshot(application) == before


def test_travel_claiming_more_than_its_receipts_is_refused(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["travel"], amount="500", evidence=False)
    add_receipt(
        actor=world.helper,
        application=application,
        file=pdf("火车票.pdf"),
        amount="186.50",
        description="石家庄—北京 高铁",
    )
    add_receipt(
        actor=world.helper, application=application, file=pdf("住宿.pdf"), amount="113.50", description="入职前住宿"
    )
    before = snapshot(application)

    with pytest.raises(ValidationError) as error:
        submit_application(actor=world.helper, application=application, today=TODAY)

    assert error.value.message_dict == {
        "amount": ["The amount claimed (500.00 yuan) is more than the receipts (300.00 yuan)."]
    }
    assert snapshot(application) == before
    update_application(actor=world.helper, application=application, expected_version=None, today=TODAY, amount="300")
    submit_application(actor=world.helper, application=application, today=TODAY)
    assert Application.objects.get().status == S.SUBMITTED


def test_a_receipt_needs_a_positive_amount_and_a_real_file(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["travel"], amount="500", evidence=False)

    with pytest.raises(ValidationError) as error:
        add_receipt(actor=world.helper, application=application, file=pdf("车票.pdf"), amount="-20")
    assert error.value.message_dict == {"amount": ["The amount must be more than zero."]}
    with pytest.raises(ValidationError) as error:
        add_receipt(
            actor=world.helper, application=application, file=SimpleUploadedFile("车票.exe", b"MZ"), amount="20"
        )
    assert error.value.message_dict == {"file": ["Evidence must be a PDF, JPEG or PNG file."]}

    assert not Receipt.objects.exists()
    application.refresh_from_db()
    assert application.version == 1


def test_a_stale_edit_is_refused(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["hardship_subsidy"], amount="500")
    update_application(actor=world.helper, application=application, expected_version=1, today=TODAY, amount="600")

    with pytest.raises(ValidationError) as error:
        update_application(
            actor=world.counsellor, application=application, expected_version=1, today=TODAY, amount="700"
        )

    assert error.value.error_list[0].code == "stale"
    assert Application.objects.get().amount == Decimal("600.00")


# --- Types ------------------------------------------------------------------------------------------------------


def test_default_types_are_installed_once_by_the_office(world: World) -> None:
    with pytest.raises(PermissionDenied):
        install_default_types(actor=world.leader, school=world.school)

    installed = install_default_types(actor=world.office, school=world.school)

    assert [t.code for t in installed] == ["national_grant", "hardship_subsidy", "job_search", "medical_exam", "travel"]
    assert install_default_types(actor=world.office, school=world.school) == []
    with pytest.raises(PermissionDenied):
        install_default_types(actor=world.outsider, school=world.school)
    assert SubsidyType.objects.count() == 5


def test_a_type_is_edited_only_through_its_own_school(world: World, types: dict[str, SubsidyType]) -> None:
    job = types["job_search"]

    with pytest.raises(PermissionDenied):
        save_subsidy_type(
            actor=world.outsider,
            school=world.other_school,
            subsidy_type=job,
            expected_version=job.version,
            amount=Decimal("1"),
        )

    assert SubsidyType.objects.get(pk=job.pk).amount == Decimal("1500.00")


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        pytest.param({"categories": ["poor"]}, {"categories": ["Unknown category: poor"]}, id="category"),
        pytest.param({"stages": ["summer"]}, {"stages": ["Unknown stage."]}, id="stage"),
        pytest.param({"amount": Decimal("0")}, {"amount": ["The amount must be more than zero."]}, id="amount"),
        pytest.param(
            {"code": "job_search"}, {"code": ["Another subsidy type of this school has this code."]}, id="code"
        ),
    ],
)
def test_a_bad_type_is_refused(
    world: World, types: dict[str, SubsidyType], fields: dict[str, Any], errors: Any
) -> None:
    travel = types["travel"]

    with pytest.raises(ValidationError) as error:
        save_subsidy_type(
            actor=world.office, school=world.school, subsidy_type=travel, expected_version=travel.version, **fields
        )

    assert error.value.message_dict == errors
    assert SubsidyType.objects.get(pk=travel.pk).version == travel.version
