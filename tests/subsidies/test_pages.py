"""The subsidy pages: lists, the application page and its buttons, applying for a student, the office's types,
budgets and payment batches; what each role may see and do."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bangfu.audit.models import AccessAction, AccessLog
from bangfu.students.services import join_ledger
from bangfu.subsidies import services
from bangfu.subsidies.models import Application, ApplicationStatus, Budget, Objection, PaymentBatch, SubsidyType
from tests.conftest import TODAY, World
from tests.factories import make_student, system_user

S = ApplicationStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# 2024-03-15 is a Friday: a notice of 5 working days from that day ends on Thursday 21 March.
NOTICE_END = dt.date(2024, 3, 21)


def pdf(name: str = "低保证.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def url(name: str, *args: object) -> str:
    return reverse(f"subsidies:{name}", args=args)


def text(response) -> str:  # type: ignore[no-untyped-def]
    """The page's visible text, whitespace collapsed (for exact phrases)."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(body))


@pytest.fixture(autouse=True)
def media_and_clock(settings, tmp_path, time_machine):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    time_machine.move_to(dt.datetime(2024, 3, 15, 10, 0, tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def types(world: World) -> dict[str, SubsidyType]:
    services.install_default_types(actor=world.office, school=world.school)
    return {t.code: t for t in SubsidyType.objects.filter(school=world.school)}


@pytest.fixture
def budget(world: World, types: dict[str, SubsidyType]) -> Budget:
    return services.set_budget(actor=world.office, subsidy_type=types["job_search"], year=2024, amount=Decimal(15000))


def make_application(world: World, subsidy_type: SubsidyType, *, upto: str = S.DRAFT, student=None, by=None):  # type: ignore[no-untyped-def]
    """An application by `by` (the helper) for `student` (own), taken through the workflow up to `upto`."""
    student = student or world.own
    a = services.create_application(
        actor=by or world.helper,
        student=student,
        subsidy_type=subsidy_type,
        amount=None,
        reason="祖父母年迈务农，求职路费和置装费有困难",
        today=TODAY,
        evidence=pdf() if subsidy_type.needs_evidence else None,
    )
    order = [S.SUBMITTED, S.DEPARTMENT_APPROVED, S.SCHOOL_APPROVED, S.ON_NOTICE, S.APPROVED, S.PAID]
    for status in order[: order.index(upto) + 1] if upto != S.DRAFT else []:
        if status == S.SUBMITTED:
            services.submit_application(actor=by or world.helper, application=a, today=TODAY)
        elif status == S.DEPARTMENT_APPROVED:
            approver = world.leader if student.department_id == world.dept1.pk else world.other_leader
            services.approve_by_department(actor=approver, application=a, today=TODAY)
        elif status == S.SCHOOL_APPROVED:
            services.approve_by_school(actor=world.office, application=a, today=TODAY)
        elif status == S.ON_NOTICE:
            services.start_public_notice(actor=world.office, applications=[a], starts_on=TODAY, today=TODAY)
        elif status == S.APPROVED:
            services.approve_after_notice(actor=world.office, application=a, today=NOTICE_END + dt.timedelta(days=1))
        elif status == S.PAID:
            batch = services.create_payment_batch(
                actor=world.office, school=world.school, name="2024年3月第一批", applications=[a], today=TODAY
            )
            services.mark_batch_paid(actor=world.office, batch=batch, paid_on=TODAY, today=TODAY)
        a.refresh_from_db()
    a.refresh_from_db()
    return a


def in_ledger(world: World, name: str, categories: list[str]):  # type: ignore[no-untyped-def]
    student = make_student(world.class1, name=name)
    join_ledger(
        actor=system_user(),
        student=student,
        joined_on=dt.date(2021, 11, 1),
        reason="入学普查",
        categories=categories,
        today=TODAY,
    )
    return student


# --- The list ------------------------------------------------------------------------------------------------------


def test_the_list_shows_the_applications_of_students_one_sees(world, as_user, types, budget):
    a = make_application(world, types["job_search"], upto=S.SUBMITTED)
    page = as_user(world.helper).get(url("applications"))
    assert [r.public_id for r in page.context["page"]] == [a.public_id]
    body = text(page)
    assert "1 application" in body
    assert "田斌臣 2021000001 Job-search and entrepreneurship subsidy ¥1500.00 Submitted 服装工程系 2024" in body
    assert as_user(world.other_leader).get(url("applications")).context["page"].paginator.count == 0
    assert as_user(world.outsider).get(url("applications")).context["page"].paginator.count == 0


def test_waiting_for_me_lists_the_approvals_the_user_may_do_now(world, as_user, types, budget):
    submitted = make_application(world, types["job_search"], upto=S.SUBMITTED)
    dept_done = make_application(world, types["hardship_subsidy"], upto=S.DEPARTMENT_APPROVED)
    make_application(world, types["medical_exam"])  # a draft waits for nobody

    def waiting(user):  # type: ignore[no-untyped-def]
        response = as_user(user).get(url("applications"), {"waiting": "on"})
        return [r.public_id for r in response.context["page"]], response.context["waiting_count"]

    assert waiting(world.leader) == ([submitted.public_id], 1)
    office_ids, office_count = waiting(world.office)
    # The office may approve at both levels (never both on one application).
    assert set(office_ids) == {submitted.public_id, dept_done.public_id} and office_count == 2
    assert waiting(world.helper) == ([], 0)
    assert waiting(world.counsellor) == ([], 0)


def test_waiting_for_me_leaves_out_the_school_approval_of_ones_own_department_approval(world, as_user, types, budget):
    a = make_application(world, types["job_search"], upto=S.SUBMITTED)
    services.approve_by_department(actor=world.office, application=a, today=TODAY)
    response = as_user(world.office).get(url("applications"), {"waiting": "on"})
    assert response.context["waiting_count"] == 0


def test_the_list_filters_by_type_status_year_and_department(world, as_user, types, budget):
    job = make_application(world, types["job_search"], upto=S.SUBMITTED)
    medical = make_application(world, types["medical_exam"])
    other = make_application(
        world,
        types["hardship_subsidy"],
        student=in_ledger_dept2(world),
        by=world.other_leader,
        upto=S.SUBMITTED,
    )
    client = as_user(world.office)

    def ids(**params):  # type: ignore[no-untyped-def]
        return {r.public_id for r in client.get(url("applications"), params).context["page"]}

    assert ids() == {job.public_id, medical.public_id, other.public_id}
    assert ids(subsidy_type=types["job_search"].public_id) == {job.public_id}
    assert ids(status="draft") == {medical.public_id}
    assert ids(department=world.dept2.public_id) == {other.public_id}
    assert ids(year=2023) == set()
    assert ids(year=2024) == {job.public_id, medical.public_id, other.public_id}
    assert ids(department="not-a-uuid") == set()  # a stale or guessed filter never widens the list
    assert ids(year="abc") == set()


def in_ledger_dept2(world: World):  # type: ignore[no-untyped-def]
    join_ledger(
        actor=system_user(),
        student=world.dept2_student,
        joined_on=dt.date(2021, 11, 1),
        reason="入学普查：低保家庭",
        categories=["subsistence_allowance"],
        today=TODAY,
    )
    return world.dept2_student


def test_the_list_makes_a_fixed_number_of_queries(world, as_user, types, budget, django_assert_max_num_queries):
    for i in range(8):
        student = in_ledger(world, f"学生{i}", ["orphan"])
        make_application(world, types["medical_exam"], student=student, by=world.counsellor, upto=S.SUBMITTED)
    client = as_user(world.office)
    with django_assert_max_num_queries(16):
        response = client.get(url("applications"))
    assert response.context["page"].paginator.count == 8


# --- Applying ------------------------------------------------------------------------------------------------------


def test_the_type_choice_shows_eligible_types_and_the_reasons_for_the_others(world, as_user, types, budget):
    make_application(world, types["job_search"], upto=S.SUBMITTED)
    response = as_user(world.helper).get(url("apply_choose", world.own.public_id))
    assert response.status_code == 200
    assert [o.type.code for o in response.context["eligible"]] == [
        "hardship_subsidy",
        "medical_exam",
        "national_grant",
        "travel",
    ]
    assert [o.type.code for o in response.context["not_eligible"]] == ["job_search"]
    assert "It is granted once per person, and the student has already applied." in text(response)


def test_a_student_outside_the_ledger_is_told_why_for_every_type(world, as_user, types):
    response = as_user(world.counsellor).get(url("apply_choose", world.classmate.public_id))
    assert response.context["eligible"] == []
    assert len(response.context["not_eligible"]) == 5
    assert text(response).count("Only students in the ledger of disadvantaged students may apply.") == 5


def test_a_category_refusal_names_the_categories(world, as_user, types):
    student = in_ledger(world, "何丽", ["rural"])
    response = as_user(world.counsellor).get(url("apply", student.public_id, types["job_search"].public_id))
    assert response.status_code == 200 and 'id="apply-form"' not in response.content.decode()
    assert (
        "It is for students in one of these categories: Minimum-living-allowance household, Household lifted out of "
        "poverty (formerly registered poor), Child of disabled parent(s), State-supported extreme poverty, Orphan, "
        "Student with a disability, Holds a national student loan."
    ) in text(response)


def test_a_helper_applies_and_submits_with_evidence(world, as_user, types, budget):
    form = as_user(world.helper).get(url("apply", world.own.public_id, types["job_search"].public_id))
    assert form.context["form"]["amount"].value() == Decimal("1500.00")
    response = as_user(world.helper).post(
        url("apply", world.own.public_id, types["job_search"].public_id),
        {"amount": "1500", "reason": "求职需要路费和置装费", "evidence": pdf(), "then": "submit"},
    )
    a = Application.objects.get()
    assert response.status_code == 302 and response.url == url("detail", a.public_id)
    assert (a.status, a.amount, a.applied_by, a.submitted_on) == (S.SUBMITTED, Decimal("1500.00"), world.helper, TODAY)
    assert a.evidence.read() == PDF
    assert [s.to_status for s in a.steps.order_by("pk")] == [S.DRAFT, S.SUBMITTED]


def test_submitting_without_the_evidence_writes_nothing(world, as_user, types, budget):
    response = as_user(world.helper).post(
        url("apply", world.own.public_id, types["job_search"].public_id),
        {"amount": "1500", "reason": "求职需要路费", "then": "submit"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["evidence"] == [
        "Attach the evidence: 低保证、残疾证、助学贷款合同等类别证明 / Proof of the category."
    ]
    assert Application.objects.count() == 0


def test_a_draft_can_be_saved_without_the_evidence(world, as_user, types):
    as_user(world.helper).post(
        url("apply", world.own.public_id, types["job_search"].public_id),
        {"amount": "1500", "reason": "先保存，证明材料稍后补交", "then": "draft"},
    )
    assert Application.objects.get().status == S.DRAFT


def test_a_fixed_amount_cannot_be_changed(world, as_user, types):
    response = as_user(world.helper).post(
        url("apply", world.own.public_id, types["job_search"].public_id),
        {"amount": "2000", "reason": "多申请一些", "evidence": pdf(), "then": "submit"},
    )
    assert response.context["form"].errors["amount"] == ["This subsidy is a fixed 1500.00 yuan."]
    assert Application.objects.count() == 0


def test_travel_is_claimed_with_a_receipt_and_checked_against_it(world, as_user, types):
    travel = types["travel"]
    refused = as_user(world.helper).post(
        url("apply", world.own.public_id, travel.public_id),
        {
            "amount": "650",
            "reason": "去石家庄入职的车票",
            "receipt": pdf("火车票.pdf"),
            "receipt_amount": "500",
            "receipt_description": "辛集—石家庄 火车票",
            "then": "submit",
        },
    )
    assert refused.context["form"].errors["amount"] == [
        "The amount claimed (650.00 yuan) is more than the receipts (500.00 yuan)."
    ]
    assert Application.objects.count() == 0
    accepted = as_user(world.helper).post(
        url("apply", world.own.public_id, travel.public_id),
        {
            "amount": "480",
            "reason": "去石家庄入职的车票",
            "receipt": pdf("火车票.pdf"),
            "receipt_amount": "500",
            "receipt_description": "辛集—石家庄 火车票",
            "then": "submit",
        },
    )
    a = Application.objects.get()
    assert accepted.status_code == 302 and a.status == S.SUBMITTED and a.amount == Decimal("480.00")
    assert [(r.amount, r.description) for r in a.receipts.all()] == [(Decimal("500.00"), "辛集—石家庄 火车票")]


def test_a_receipt_is_added_to_a_draft_on_its_page(world, as_user, types):
    a = make_application(world, types["travel"])
    page = as_user(world.helper).get(url("detail", a.public_id))
    assert 'id="form-receipt"' in page.content.decode()
    response = as_user(world.helper).post(
        url("add_receipt", a.public_id), {"file": pdf("车票.pdf"), "amount": "300", "description": "汽车票"}
    )
    assert response.status_code == 302
    assert [r.amount for r in a.receipts.all()] == [Decimal("300.00")]


def test_who_may_apply(world, as_user, types):
    assert as_user(world.principal).get(url("apply_choose", world.own.public_id)).status_code == 403
    assert as_user(world.helper).get(url("apply_choose", world.classmate.public_id)).status_code == 404
    assert as_user(world.other_leader).get(url("apply_choose", world.own.public_id)).status_code == 404
    assert as_user(world.student_user).get(url("apply_choose", world.own.public_id)).status_code == 200  # for themself
    other_type = SubsidyType.objects.create(school=world.other_school, code="x", name="外校补贴", amount=100)
    assert as_user(world.helper).get(url("apply", world.own.public_id, other_type.public_id)).status_code == 404


# --- The application page and its buttons -----------------------------------------------------------------------------


def buttons(response) -> set[str]:  # type: ignore[no-untyped-def]
    return set(re.findall(r'id="form-([a-z_]+)"', response.content.decode())) - {"receipt", "objection"}


def test_the_page_shows_the_application_and_the_steps(world, as_user, types, budget):
    a = make_application(world, types["job_search"], upto=S.DEPARTMENT_APPROVED)
    a.steps.filter(to_status=S.DEPARTMENT_APPROVED).update(comment="情况属实，同意")
    response = as_user(world.counsellor).get(url("detail", a.public_id))
    body = text(response)
    assert (
        "Job-search and entrepreneurship subsidy 田斌臣 · 2021000001 · 服装工程系 Approved by the department ¥1500.00"
        in body
    )
    assert "祖父母年迈务农，求职路费和置装费有困难" in body
    assert [(s.to_status, s.by) for s in response.context["steps"]] == [
        (S.DRAFT, world.helper),
        (S.SUBMITTED, world.helper),
        (S.DEPARTMENT_APPROVED, world.leader),
    ]
    assert "2024-03-15 · 郑书记 Approved by the department 情况属实，同意" in body
    assert buttons(response) == {"withdraw"}  # the counsellor may apply for this student, so may withdraw


@pytest.mark.parametrize(
    ("upto", "persona", "expected"),
    [
        (S.DRAFT, "helper", {"submit", "withdraw"}),
        (S.SUBMITTED, "helper", {"withdraw"}),
        (S.SUBMITTED, "leader", {"approve_department", "return", "reject", "withdraw"}),
        (S.SUBMITTED, "student_user", {"withdraw"}),  # a student may withdraw their own application
        (S.SUBMITTED, "principal", set()),
        (S.DEPARTMENT_APPROVED, "office", {"approve_school", "return", "reject", "withdraw"}),
        (S.DEPARTMENT_APPROVED, "leader", {"withdraw"}),
        (S.SCHOOL_APPROVED, "office", {"notice", "reject"}),
        (S.ON_NOTICE, "office", {"reject"}),
        (S.APPROVED, "office", set()),
    ],
)
def test_the_page_offers_the_buttons_the_user_may_use_now(world, as_user, types, budget, upto, persona, expected):
    a = make_application(world, types["job_search"], upto=upto)
    response = as_user(getattr(world, persona)).get(url("detail", a.public_id))
    assert response.status_code == 200
    assert buttons(response) == expected


def test_the_application_is_invisible_outside_the_scope(world, as_user, types):
    a = make_application(world, types["job_search"])
    assert as_user(world.other_leader).get(url("detail", a.public_id)).status_code == 404
    assert as_user(world.outsider).get(url("detail", a.public_id)).status_code == 404
    assert as_user(world.other_leader).post(url("approve_department", a.public_id), {"version": 1}).status_code == 404


def test_the_department_leader_approves_with_a_comment(world, as_user, types, budget):
    a = make_application(world, types["job_search"], upto=S.SUBMITTED)
    response = as_user(world.leader).post(
        url("approve_department", a.public_id), {"version": a.version, "comment": "情况属实，同意上报"}
    )
    assert response.status_code == 302
    a.refresh_from_db()
    step = a.steps.order_by("pk").last()
    assert (a.status, step.by, step.comment) == (S.DEPARTMENT_APPROVED, world.leader, "情况属实，同意上报")


def test_the_helper_and_the_student_cannot_approve(world, as_user, types, budget):
    a = make_application(world, types["job_search"], upto=S.SUBMITTED)
    assert as_user(world.helper).post(url("approve_department", a.public_id), {"version": a.version}).status_code == 403
    assert (
        as_user(world.student_user).post(url("approve_department", a.public_id), {"version": a.version}).status_code
        == 403
    )
    assert as_user(world.helper).post(url("approve_school", a.public_id), {"version": a.version}).status_code == 403
    a.refresh_from_db()
    assert a.status == S.SUBMITTED


def test_no_one_approves_the_application_they_made(world, as_user, types, budget):
    a = make_application(world, types["job_search"], by=world.leader, upto=S.SUBMITTED)
    page = as_user(world.leader).get(url("detail", a.public_id))
    assert "approve_department" not in buttons(page)
    response = as_user(world.leader).post(url("approve_department", a.public_id), {"version": a.version})
    assert response.status_code == 200
    assert "You applied for this subsidy, so someone else must approve it." in text(response)
    a.refresh_from_db()
    assert a.status == S.SUBMITTED and a.steps.count() == 2


def test_the_school_approval_is_someone_else_than_the_department_approval(world, as_user, types, budget):
    a = make_application(world, types["job_search"], upto=S.SUBMITTED)
    services.approve_by_department(actor=world.office, application=a, today=TODAY)
    a.refresh_from_db()
    assert "approve_school" not in buttons(as_user(world.office).get(url("detail", a.public_id)))
    response = as_user(world.office).post(url("approve_school", a.public_id), {"version": a.version})
    assert "You have already approved this application at another level; the next approval is someone else's." in (
        text(response)
    )
    a.refresh_from_db()
    assert a.status == S.DEPARTMENT_APPROVED


def test_over_the_budget_the_office_sees_the_override_and_must_use_it(world, as_user, types):
    services.set_budget(actor=world.office, subsidy_type=types["job_search"], year=2024, amount=Decimal(1000))
    a = make_application(world, types["job_search"], upto=S.DEPARTMENT_APPROVED)
    client = as_user(world.office)
    page = client.get(url("detail", a.public_id))
    assert page.context["over_budget"] is True and page.context["left"] == Decimal("1000.00")
    assert "Only ¥1000.00 is left of the 2024 budget for this subsidy." in text(page)
    assert 'name="override_budget"' in page.content.decode()

    refused = client.post(url("approve_school", a.public_id), {"version": a.version, "comment": ""})
    assert (
        "Only 1000.00 yuan is left of the 2024 budget for 求职创业补贴; approving 1500.00 yuan needs a budget override."
        in text(refused)
    )
    no_reason = client.post(url("approve_school", a.public_id), {"version": a.version, "override_budget": "on"})
    assert no_reason.context["forms"]["approve_school"].errors["comment"] == ["Say why the budget is overridden."]
    a.refresh_from_db()
    assert a.status == S.DEPARTMENT_APPROVED and not a.budget_override

    done = client.post(
        url("approve_school", a.public_id),
        {"version": a.version, "override_budget": "on", "comment": "学校追加预算，特批"},
    )
    assert done.status_code == 302
    a.refresh_from_db()
    step = a.steps.get(to_status=S.SCHOOL_APPROVED)
    assert (a.status, a.budget_override, step.budget_override, step.comment) == (
        S.SCHOOL_APPROVED,
        True,
        True,
        "学校追加预算，特批",
    )


def test_within_the_budget_there_is_no_override_checkbox(world, as_user, types, budget):
    a = make_application(world, types["job_search"], upto=S.DEPARTMENT_APPROVED)
    page = as_user(world.office).get(url("detail", a.public_id))
    assert page.context["over_budget"] is False and 'name="override_budget"' not in page.content.decode()
    assert as_user(world.office).post(url("approve_school", a.public_id), {"version": a.version}).status_code == 302
    a.refresh_from_db()
    assert a.status == S.SCHOOL_APPROVED


def test_a_type_without_notice_is_approved_for_payment_at_once(world, as_user, types):
    a = make_application(world, types["medical_exam"], upto=S.DEPARTMENT_APPROVED)
    services.set_budget(actor=world.office, subsidy_type=types["medical_exam"], year=2024, amount=Decimal(3000))
    as_user(world.office).post(url("approve_school", a.public_id), {"version": a.version})
    a.refresh_from_db()
    assert a.status == S.APPROVED


def test_return_reject_and_withdraw_need_the_right_words(world, as_user, types, budget):
    a = make_application(world, types["job_search"], upto=S.SUBMITTED)
    client = as_user(world.leader)
    no_comment = client.post(url("return", a.public_id), {"version": a.version, "comment": " "})
    assert no_comment.context["forms"]["return"].errors["comment"] == ["Say what must be revised."]
    client.post(url("return", a.public_id), {"version": a.version, "comment": "请补充低保证复印件"})
    a.refresh_from_db()
    assert a.status == S.RETURNED
    assert buttons(as_user(world.helper).get(url("detail", a.public_id))) == {"submit", "withdraw"}

    as_user(world.helper).post(url("submit", a.public_id), {"version": a.version})
    a.refresh_from_db()
    no_reason = as_user(world.leader).post(url("reject", a.public_id), {"version": a.version})
    assert no_reason.context["forms"]["reject"].errors["comment"] == ["Say why the application is rejected."]
    as_user(world.leader).post(url("reject", a.public_id), {"version": a.version, "comment": "家庭情况已好转"})
    a.refresh_from_db()
    assert a.status == S.REJECTED and a.steps.order_by("pk").last().comment == "家庭情况已好转"


def test_the_helper_withdraws(world, as_user, types, budget):
    a = make_application(world, types["job_search"], upto=S.SUBMITTED)
    as_user(world.helper).post(url("withdraw", a.public_id), {"version": a.version, "comment": "学生已找到工作"})
    a.refresh_from_db()
    assert a.status == S.WITHDRAWN


def test_a_stale_page_is_refused(world, as_user, types, budget):
    a = make_application(world, types["job_search"], upto=S.SUBMITTED)
    response = as_user(world.leader).post(url("approve_department", a.public_id), {"version": a.version - 1})
    assert "Someone else saved this record after you opened it." in text(response)
    a.refresh_from_db()
    assert a.status == S.SUBMITTED


def test_editing_a_draft(world, as_user, types):
    a = make_application(world, types["hardship_subsidy"])
    response = as_user(world.helper).post(
        url("edit", a.public_id), {"amount": "1200", "reason": "冬季取暖费", "version": a.version}
    )
    assert response.status_code == 302
    a.refresh_from_db()
    assert (a.amount, a.reason) == (Decimal("1200.00"), "冬季取暖费")
    over = as_user(world.helper).post(
        url("edit", a.public_id), {"amount": "2500", "reason": "冬季取暖费", "version": a.version}
    )
    assert over.context["form"].errors["amount"] == ["This subsidy is at most 2000.00 yuan."]
    assert as_user(world.principal).get(url("edit", a.public_id)).status_code == 403


# --- Public notice and objections -------------------------------------------------------------------------------------


def test_the_office_puts_several_on_notice_from_the_list(world, as_user, types, budget):
    first = make_application(world, types["job_search"], upto=S.SCHOOL_APPROVED)
    services.set_budget(actor=world.office, subsidy_type=types["national_grant"], year=2024, amount=Decimal(9000))
    second = make_application(world, types["national_grant"], upto=S.SCHOOL_APPROVED)
    client = as_user(world.office)
    listing = client.get(url("applications"))
    assert listing.content.decode().count('form="notice-form"') == 2
    past = client.post(
        url("start_notice"), {"applications": [first.public_id, second.public_id], "starts_on": "2024-03-14"}
    )
    assert past.status_code == 302
    assert "A notice cannot start in the past." in text(client.get(url("applications")))
    assert set(Application.objects.values_list("status", flat=True)) == {S.SCHOOL_APPROVED}

    client.post(url("start_notice"), {"applications": [first.public_id, second.public_id], "starts_on": "2024-03-15"})
    for a in (first, second):
        a.refresh_from_db()
        assert (a.status, a.notice_starts_on, a.notice_ends_on) == (S.ON_NOTICE, TODAY, NOTICE_END)


def test_only_the_office_starts_a_notice(world, as_user, types, budget):
    a = make_application(world, types["job_search"], upto=S.SCHOOL_APPROVED)
    assert as_user(world.leader).post(url("start_notice"), {"applications": [a.public_id]}).status_code == 403
    assert as_user(world.other_leader).post(url("start_notice"), {"applications": [a.public_id]}).status_code == 403
    assert as_user(world.outsider).post(url("start_notice"), {"applications": [a.public_id]}).status_code == 404


def test_objections_and_the_final_approval_after_the_notice(world, as_user, types, budget, time_machine):
    a = make_application(world, types["job_search"], upto=S.ON_NOTICE)
    client = as_user(world.office)
    page = client.get(url("detail", a.public_id))
    assert "The public notice runs until 2024-03-21; the final approval comes after it." in text(page)
    client.post(url("record_objection", a.public_id), {"content": "有同学反映其家中已购车", "raised_on": "2024-03-18"})
    objection = Objection.objects.get()
    outside = client.post(url("record_objection", a.public_id), {"content": "匿名反映", "raised_on": "2024-03-25"})
    assert outside.context["forms"]["objection"].errors["raised_on"] == [
        "Objections are raised during the public notice (2024-03-15 to 2024-03-21)."
    ]

    time_machine.move_to(dt.datetime(2024, 3, 22, 9, 0, tzinfo=SHANGHAI), tick=False)
    client = as_user(world.office)  # a week later: a new session
    a.refresh_from_db()
    open_objection = client.post(url("approve_final", a.public_id), {"version": a.version})
    assert "Resolve every objection first." in text(open_objection)
    client.post(
        url("resolve_objection", a.public_id, objection.public_id),
        {"handling": "经核实，车辆为亲戚所有，不影响认定", "upheld": "no"},
    )
    objection.refresh_from_db()
    assert (objection.upheld, objection.resolved_on, objection.resolved_by) == (
        False,
        dt.date(2024, 3, 22),
        world.office,
    )
    assert client.post(url("approve_final", a.public_id), {"version": a.version}).status_code == 302
    a.refresh_from_db()
    assert a.status == S.APPROVED


def test_the_final_approval_waits_for_the_end_of_the_notice(world, as_user, types, budget):
    a = make_application(world, types["job_search"], upto=S.ON_NOTICE)
    response = as_user(world.office).post(url("approve_final", a.public_id), {"version": a.version})
    assert "The public notice runs until 2024-03-21; approve after it ends." in text(response)
    a.refresh_from_db()
    assert a.status == S.ON_NOTICE


# --- Evidence -------------------------------------------------------------------------------------------------------


def test_the_evidence_download_is_logged(world, as_user, types, budget):
    a = make_application(world, types["job_search"], upto=S.SUBMITTED)
    response = as_user(world.leader).get(url("evidence", a.public_id))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    log = AccessLog.objects.get()
    assert (log.actor, log.action, log.student, log.fields) == (
        world.leader,
        AccessAction.DOWNLOAD_EVIDENCE,
        world.own,
        "subsidy_evidence",
    )
    assert as_user(world.student_user).get(url("evidence", a.public_id)).status_code == 403
    assert as_user(world.other_leader).get(url("evidence", a.public_id)).status_code == 404
    assert AccessLog.objects.count() == 1


# --- Types and budgets ------------------------------------------------------------------------------------------------


def test_the_office_installs_the_default_types(world, as_user):
    client = as_user(world.office)
    assert client.get(url("types")).context["types"].count() == 0
    client.post(url("install_defaults"), {"school": world.school.public_id})
    page = client.get(url("types"))
    assert [t.code for t in page.context["types"]] == [
        "hardship_subsidy",
        "job_search",
        "medical_exam",
        "national_grant",
        "travel",
    ]
    assert "5 default types were added." in text(page)
    client.post(url("install_defaults"), {"school": world.school.public_id})
    assert "The school has every default type already." in text(client.get(url("types")))


def test_types_are_the_office_s(world, as_user, types):
    job = types["job_search"]
    assert as_user(world.helper).get(url("types")).status_code == 403
    assert as_user(world.leader).post(url("install_defaults"), {"school": world.school.public_id}).status_code == 403
    assert as_user(world.leader).get(url("type_edit", job.public_id)).status_code == 403
    assert as_user(world.outsider).get(url("type_edit", job.public_id)).status_code == 404
    assert as_user(world.outsider).get(url("types"), {"school": world.school.public_id}).status_code == 404


def type_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "code": "exam_fee",
        "name": "考公报名费补贴",
        "name_en": "Civil-service exam fee subsidy",
        "categories": ["subsistence_allowance", "orphan"],
        "stages": ["job_search"],
        "once_per_person": "on",
        "amount_kind": "capped",
        "amount": "200",
        "evidence_required": "报名缴费凭证",
        "public_notice_days": "0",
        "is_active": "on",
    }
    return {**data, **overrides}


def test_the_office_adds_and_edits_a_type(world, as_user, types):
    client = as_user(world.office)
    response = client.post(url("type_new"), {**type_data(), "school": world.school.public_id})
    assert response.status_code == 302
    created = SubsidyType.objects.get(code="exam_fee")
    assert (created.categories, created.stages, created.once_per_person, created.amount, created.school) == (
        ["subsistence_allowance", "orphan"],
        ["job_search"],
        True,
        Decimal("200.00"),
        world.school,
    )
    form = client.get(url("type_edit", created.public_id)).context["form"]
    assert form["categories"].value() == ["subsistence_allowance", "orphan"]
    client.post(
        url("type_edit", created.public_id),
        type_data(amount="300", categories=["orphan"], public_notice_days="3", version=created.version),
    )
    created.refresh_from_db()
    assert (created.amount, created.categories, created.public_notice_days) == (Decimal("300.00"), ["orphan"], 3)


def test_a_type_code_is_unique_in_the_school(world, as_user, types):
    response = as_user(world.office).post(
        url("type_new"), {**type_data(code="travel"), "school": world.school.public_id}
    )
    assert response.context["form"].errors["code"] == ["Another subsidy type of this school has this code."]


def test_budgets_show_budget_committed_and_left(world, as_user, types, budget):
    make_application(world, types["job_search"], upto=S.SCHOOL_APPROVED)
    make_application(world, types["hardship_subsidy"], upto=S.DEPARTMENT_APPROVED)  # not committed yet
    page = as_user(world.office).get(url("budgets"), {"year": 2024})
    rows = {r.code: (r.budget, r.committed, r.left) for r in page.context["rows"]}
    assert rows["job_search"] == (Decimal("15000.00"), Decimal("1500.00"), Decimal("13500.00"))
    assert rows["hardship_subsidy"] == (None, Decimal(0), Decimal(0))
    assert "¥13500.00" in text(page)


def test_the_office_sets_a_budget(world, as_user, types):
    client = as_user(world.office)
    response = client.post(url("budgets"), {"subsidy_type": types["travel"].public_id, "year": 2025, "amount": "8000"})
    assert response.status_code == 302 and response.url.endswith("year=2025")
    assert Budget.objects.get(subsidy_type=types["travel"], year=2025).amount == Decimal("8000.00")
    client.post(url("budgets"), {"subsidy_type": types["travel"].public_id, "year": 2025, "amount": "-1"})
    assert "A budget cannot be negative." in text(client.get(url("budgets"), {"year": 2025}))
    assert Budget.objects.get(subsidy_type=types["travel"], year=2025).amount == Decimal("8000.00")
    assert (
        as_user(world.leader)
        .post(url("budgets"), {"subsidy_type": types["travel"].public_id, "year": 2025, "amount": "1"})
        .status_code
        == 403
    )
    assert as_user(world.helper).get(url("budgets")).status_code == 403


# --- Payment batches ------------------------------------------------------------------------------------------------


def test_the_office_creates_a_batch_of_approved_applications(world, as_user, types, budget):
    approved = make_application(world, types["job_search"], upto=S.APPROVED)
    client = as_user(world.office)
    page = client.get(url("batch_new"))
    assert [a.public_id for a in page.context["payable"]] == [approved.public_id]
    response = client.post(url("batch_new"), {"name": "2024年3月求职补贴", "applications": [approved.public_id]})
    batch = PaymentBatch.objects.get()
    assert response.status_code == 302 and response.url == url("batch", batch.public_id)
    approved.refresh_from_db()
    assert approved.batch == batch
    detail = client.get(url("batch", batch.public_id))
    assert detail.context["figures"] == {"count": 1, "total": Decimal("1500.00")}
    assert "¥1500.00" in text(detail)


def test_a_batch_with_an_unapproved_application_is_not_created(world, as_user, types, budget):
    approved = make_application(world, types["job_search"], upto=S.APPROVED)
    submitted = make_application(world, types["medical_exam"], upto=S.SUBMITTED)
    response = as_user(world.office).post(
        url("batch_new"), {"name": "2024年3月", "applications": [approved.public_id, submitted.public_id]}
    )
    assert response.status_code == 200
    assert f"田斌臣 ({world.own.student_number}): the application is “Submitted”, not approved for payment." in text(
        response
    )
    assert PaymentBatch.objects.count() == 0
    approved.refresh_from_db()
    assert approved.batch is None


def test_a_batch_is_paid_once(world, as_user, types, budget):
    approved = make_application(world, types["job_search"], upto=S.APPROVED)
    batch = services.create_payment_batch(
        actor=world.office, school=world.school, name="2024年3月", applications=[approved], today=TODAY
    )
    client = as_user(world.office)
    future = client.post(url("batch_paid", batch.public_id), {"paid_on": "2024-03-20", "version": batch.version})
    assert future.context["paid_form"].errors["paid_on"] == ["The payment date cannot be in the future."]
    client.post(url("batch_paid", batch.public_id), {"paid_on": "2024-03-15", "version": batch.version})
    approved.refresh_from_db()
    assert (approved.status, approved.paid_on) == (S.PAID, TODAY)
    batch.refresh_from_db()
    twice = client.post(url("batch_paid", batch.public_id), {"paid_on": "2024-03-15", "version": batch.version})
    assert "This batch was already paid on 2024-03-15." in text(twice)
    assert approved.steps.filter(to_status=S.PAID).count() == 1


def test_an_application_is_taken_out_of_an_unpaid_batch(world, as_user, types, budget):
    approved = make_application(world, types["job_search"], upto=S.APPROVED)
    batch = services.create_payment_batch(
        actor=world.office, school=world.school, name="2024年3月", applications=[approved], today=TODAY
    )
    as_user(world.office).post(url("batch_remove", batch.public_id, approved.public_id))
    approved.refresh_from_db()
    assert approved.batch is None


def test_batches_are_the_office_s(world, as_user, types, budget):
    approved = make_application(world, types["job_search"], upto=S.APPROVED)
    batch = services.create_payment_batch(
        actor=world.office, school=world.school, name="2024年3月", applications=[approved], today=TODAY
    )
    assert as_user(world.leader).get(url("batches")).status_code == 403
    assert as_user(world.leader).get(url("batch", batch.public_id)).status_code == 403
    assert as_user(world.outsider).get(url("batch", batch.public_id)).status_code == 404
    assert as_user(world.helper).post(url("batch_paid", batch.public_id), {"paid_on": "2024-03-15"}).status_code == 403
    page = as_user(world.office).get(url("batches"))
    assert [(b.name, b.count, b.total) for b in page.context["batches"]] == [("2024年3月", 1, Decimal("1500.00"))]


# --- Subsidies on the student page, the timeline and the ledger -------------------------------------------------------


def test_subsidies_received_show_on_the_student_page_timeline_and_ledger(world, as_user, types, budget):
    make_application(world, types["job_search"], upto=S.PAID)
    client = as_user(world.helper)
    student_page = text(client.get(reverse("students:detail", args=[world.own.public_id])))
    assert "Received in all: ¥1500.00" in student_page and "Apply for a subsidy" in student_page
    timeline = text(client.get(reverse("assistance:timeline", args=[world.own.public_id])))
    assert "Subsidies received 2024-03-15 Job-search and entrepreneurship subsidy ¥1500.00" in timeline
    ledger = text(as_user(world.office).get(reverse("students:ledger")))
    assert "Job-search and entrepreneurship subsidy ¥1500.00 · 2024-03-15" in ledger


def test_the_student_page_offers_apply_only_to_those_who_may(world, as_user, types):
    page = text(as_user(world.principal).get(reverse("students:detail", args=[world.own.public_id])))
    assert "No subsidy applications yet." in page and "Apply for a subsidy" not in page
