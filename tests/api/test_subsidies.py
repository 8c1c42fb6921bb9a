"""Subsidies through the API: types, budgets, eligibility, applications through every step, receipts and evidence,
objections, payment batches; scoping (404 outside, 403 for a role that may not), refusals (422, nothing written)
and stale versions (409). The clock is frozen in every test: 15 March 2024 is a Friday."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from bangfu.organisation.models import Role, User
from bangfu.students.models import Student
from bangfu.students.services import join_ledger
from bangfu.subsidies import services
from bangfu.subsidies.models import Application, ApplicationStep, Budget, Objection, PaymentBatch, Receipt, SubsidyType
from tests.api.work_helpers import PDF, D, client, on, post_form
from tests.conftest import TODAY, World
from tests.factories import make_staff, make_student, system_user

REASON = "家庭经济困难，由祖父母抚养；正积极求职，已参加3场校园招聘会。"
NOTICE_START = D(2024, 3, 18)  # Monday; five working days end on Friday 22 March
AFTER_NOTICE = D(2024, 3, 25)
JOB_SEARCH_CATEGORIES = (
    "Minimum-living-allowance household, Household lifted out of poverty (formerly registered poor), "
    "Child of disabled parent(s), State-supported extreme poverty, Orphan, Student with a disability, "
    "Holds a national student loan"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def clock() -> Any:
    """Everything, set-up included, happens at 10:00 on TODAY unless a test moves the clock with `on(...)`."""
    with on(TODAY):
        yield


@pytest.fixture
def types(world: World) -> dict[str, SubsidyType]:
    """The defaults, and a 2024 budget of 15,000 yuan for the job-search subsidy."""
    installed = {t.code: t for t in services.install_default_types(actor=world.office, school=world.school)}
    services.set_budget(actor=world.office, subsidy_type=installed["job_search"], year=2024, amount=Decimal("15000"))
    return installed


def person(user: User) -> dict[str, str]:
    return {"id": str(user.public_id), "name": user.full_name}


def student_ref(student: Student) -> dict[str, str]:
    return {"id": str(student.public_id), "student_number": student.student_number, "name": student.name}


def type_ref(subsidy_type: SubsidyType) -> dict[str, str]:
    return {
        "id": str(subsidy_type.public_id),
        "code": subsidy_type.code,
        "name": subsidy_type.name,
        "name_en": subsidy_type.name_en,
    }


def pdf(name: str = "低保证.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def apply(world: World, subsidy_type: SubsidyType, *, student: Student | None = None, **kw: Any) -> Application:
    kw.setdefault("amount", None)
    kw.setdefault("evidence", pdf())
    return services.create_application(
        actor=kw.pop("actor", world.helper),
        student=student or world.own,
        subsidy_type=subsidy_type,
        reason=REASON,
        today=TODAY,
        **kw,
    )


def department_approved(world: World, subsidy_type: SubsidyType, **kw: Any) -> Application:
    application = apply(world, subsidy_type, **kw)
    services.submit_application(actor=kw.get("actor", world.helper), application=application, today=TODAY)
    return services.approve_by_department(actor=world.leader, application=application, today=TODAY)


def approved(world: World, subsidy_type: SubsidyType, **kw: Any) -> Application:
    application = department_approved(world, subsidy_type, **kw)
    services.approve_by_school(actor=world.office, application=application, today=TODAY)
    services.start_public_notice(actor=world.office, applications=[application], starts_on=NOTICE_START, today=TODAY)
    return services.approve_after_notice(actor=world.office, application=application, today=AFTER_NOTICE)


def ledger_student(world: World, name: str, number: str, categories: list[str]) -> Student:
    student = make_student(world.class1, name=name, student_number=number)
    join_ledger(
        actor=system_user(), student=student, joined_on=D(2021, 11, 1), reason="入学普查", categories=categories
    )
    return student


def nothing_changed(application: Application, version: int, status: str) -> None:
    application.refresh_from_db()
    assert (application.version, application.status) == (version, status)


# --- Types --------------------------------------------------------------------------------------------------


def test_staff_list_their_schools_types_with_every_rule(world: World, types: dict[str, SubsidyType]) -> None:
    with on(TODAY):
        response = client(world.helper).get("/subsidy-types")

    assert response.status_code == 200
    body = response.json()
    assert [t["code"] for t in body] == ["hardship_subsidy", "job_search", "medical_exam", "national_grant", "travel"]
    job = types["job_search"]
    assert body[1] == {
        "id": str(job.public_id),
        "school": {
            "id": str(world.school.public_id),
            "kind": "school",
            "code": "HEBUST",
            "name": "河北科技工程职业技术大学",
            "name_en": "HEBUST",
        },
        "code": "job_search",
        "name": "求职创业补贴",
        "name_en": "Job-search and entrepreneurship subsidy",
        "description": "",
        "categories": [
            "subsistence_allowance",
            "poverty_alleviated",
            "disabled_parent",
            "extreme_poverty",
            "orphan",
            "disabled",
            "student_loan",
        ],
        "stages": ["job_search"],
        "once_per_person": True,
        "amount_kind": "fixed",
        "amount": "1500.00",
        "evidence_required": "低保证、残疾证、助学贷款合同等类别证明 / Proof of the category",
        "receipts_required": False,
        "public_notice_days": 5,
        "is_active": True,
        "version": 1,
    }


@pytest.mark.parametrize("persona", ["outsider", "student_user"])
def test_types_of_another_school_do_not_exist(world: World, types: dict[str, SubsidyType], persona: str) -> None:
    api = client(getattr(world, persona))

    with on(TODAY):
        listed = api.get("/subsidy-types")
        one = api.get(f"/subsidy-types/{types['job_search'].public_id}")

    assert (listed.status_code, listed.json()) == (200, [])
    assert one.status_code == 404


def test_the_office_installs_the_defaults_once(world: World) -> None:
    api = client(world.office)

    with on(TODAY):
        first = api.post("/subsidy-types/install-defaults", {"school": str(world.school.public_id)})
        again = api.post("/subsidy-types/install-defaults", {"school": str(world.school.public_id)})

    assert first.status_code == 201
    assert [t["code"] for t in first.json()] == [
        "hardship_subsidy",
        "job_search",
        "medical_exam",
        "national_grant",
        "travel",
    ]
    assert (again.status_code, again.json()) == (201, [])
    assert SubsidyType.objects.filter(school=world.school).count() == 5


def test_only_the_office_installs_or_creates_types(world: World) -> None:
    school = {"school": str(world.school.public_id)}
    new_type = school | {"code": "exam_fee", "name": "考试报名费补助", "amount": "200"}

    with on(TODAY):
        leader = client(world.leader).post("/subsidy-types/install-defaults", school)
        helper = client(world.helper).post("/subsidy-types", new_type)
        outsider = client(world.outsider).post("/subsidy-types", new_type)

    assert leader.status_code == 403
    assert helper.status_code == 403
    assert outsider.status_code == 422
    assert outsider.json()["errors"] == {"school": ["There is no school with this id."]}
    assert not SubsidyType.objects.exists()


def test_the_office_creates_a_type(world: World) -> None:
    with on(TODAY):
        response = client(world.office).post(
            "/subsidy-types",
            {
                "school": str(world.school.public_id),
                "code": "exam_fee",
                "name": "考公考编报名费补助",
                "name_en": "Public-exam registration fee",
                "categories": ["subsistence_allowance", "orphan"],
                "stages": ["job_search"],
                "once_per_person": True,
                "amount_kind": "capped",
                "amount": 300,
                "evidence_required": "报名缴费凭证",
                "public_notice_days": 0,
            },
        )

    assert response.status_code == 201
    body = response.json()
    created = SubsidyType.objects.get()
    assert body["id"] == str(created.public_id)
    assert (body["amount"], body["amount_kind"], body["categories"], body["public_notice_days"]) == (
        "300.00",
        "capped",
        ["subsistence_allowance", "orphan"],
        0,
    )
    assert created.history.get().history_user == world.office


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        pytest.param({"categories": ["poor"]}, ["categories"], id="unknown-category"),
        pytest.param({"stages": ["summer"]}, ["stages"], id="unknown-stage"),
        pytest.param({"amount": "-5"}, {"amount": ["The amount must be more than zero."]}, id="negative"),
        pytest.param(
            {"code": "job_search"}, {"code": ["Another subsidy type of this school has this code."]}, id="taken-code"
        ),
        pytest.param({"amount": "12.345"}, ["amount"], id="fractions-of-a-fen"),
    ],
)
def test_a_bad_type_is_refused_and_nothing_is_written(
    world: World, types: dict[str, SubsidyType], change: dict[str, Any], errors: Any
) -> None:
    data = {"school": str(world.school.public_id), "code": "exam_fee", "name": "报名费补助", "amount": "200"}

    with on(TODAY):
        response = client(world.office).post("/subsidy-types", data | change)

    assert response.status_code == 422
    got = response.json()["errors"]
    assert (list(got) if isinstance(errors, list) else got) == errors
    assert SubsidyType.objects.count() == 5


def test_a_type_is_updated_with_its_version(world: World, types: dict[str, SubsidyType]) -> None:
    job = types["job_search"]
    api = client(world.office)

    with on(TODAY):
        response = api.patch(f"/subsidy-types/{job.public_id}", {"amount": "2000", "version": 1})
        stale = api.patch(f"/subsidy-types/{job.public_id}", {"is_active": False, "version": 1})
        leader = client(world.leader).patch(f"/subsidy-types/{job.public_id}", {"amount": "1", "version": 2})
        outsider = client(world.outsider).patch(f"/subsidy-types/{job.public_id}", {"amount": "1", "version": 2})

    assert response.status_code == 200
    assert (response.json()["amount"], response.json()["version"]) == ("2000.00", 2)
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale"
    assert (leader.status_code, outsider.status_code) == (403, 404)
    job.refresh_from_db()
    assert (job.amount, job.is_active, job.version) == (Decimal("2000.00"), True, 2)


# --- Budgets --------------------------------------------------------------------------------------------------


def test_budgets_show_what_is_committed_and_left(world: World, types: dict[str, SubsidyType]) -> None:
    job = types["job_search"]
    approved(world, job)  # 1,500 committed
    department_approved(
        world, job, student=ledger_student(world, "王芳", "2021990001", ["orphan"]), actor=world.counsellor
    )  # not committed yet

    with on(TODAY):
        response = client(world.leader).get("/subsidy-budgets", year=2024)

    assert response.status_code == 200
    assert response.json() == [
        {
            "subsidy_type": type_ref(job),
            "year": 2024,
            "amount": "15000.00",
            "committed": "1500.00",
            "left": "13500.00",
            "version": 1,
        }
    ]


@pytest.mark.parametrize("persona", ["helper", "counsellor", "outsider", "student_user"])
def test_budgets_are_for_those_who_approve(world: World, types: dict[str, SubsidyType], persona: str) -> None:
    with on(TODAY):
        response = client(getattr(world, persona)).get("/subsidy-budgets")

    assert (response.status_code, response.json()) == (200, [])


def test_the_office_sets_a_budget_then_changes_it_with_its_version(world: World, types: dict[str, SubsidyType]) -> None:
    travel = types["travel"]
    api = client(world.office)
    path = f"/subsidy-types/{travel.public_id}/budgets/2024"

    with on(TODAY):
        first = api.put(path, {"amount": "8000"})
        again_without_version = api.put(path, {"amount": "9000"})
        changed = api.put(path, {"amount": "9000", "version": 1})
        stale = api.put(path, {"amount": "10000", "version": 1})
        version_for_new = api.put(f"/subsidy-types/{travel.public_id}/budgets/2025", {"amount": "1", "version": 1})
        negative = api.put(path, {"amount": "-1", "version": 2})
        leader = client(world.leader).put(path, {"amount": "1", "version": 2})
        outsider = client(world.outsider).put(path, {"amount": "1", "version": 2})

    assert first.status_code == 201
    assert first.json() == {
        "subsidy_type": type_ref(travel),
        "year": 2024,
        "amount": "8000.00",
        "committed": "0.00",
        "left": "8000.00",
        "version": 1,
    }
    assert (changed.status_code, changed.json()["amount"], changed.json()["version"]) == (200, "9000.00", 2)
    assert again_without_version.status_code == stale.status_code == 409
    assert version_for_new.status_code == 422
    assert version_for_new.json()["errors"] == {"version": ["There is no budget for this year yet: send no version."]}
    assert negative.status_code == 422
    assert negative.json()["errors"] == {"amount": ["A budget cannot be negative."]}
    assert (leader.status_code, outsider.status_code) == (403, 404)
    assert list(Budget.objects.filter(subsidy_type=travel).values_list("year", "amount", "version")) == [
        (2024, Decimal("9000.00"), 2)
    ]


# --- Eligibility ---------------------------------------------------------------------------------------------


def test_eligibility_lists_every_offered_type_with_its_reasons(world: World, types: dict[str, SubsidyType]) -> None:
    with on(TODAY):
        own = client(world.helper).get(f"/students/{world.own.public_id}/subsidy-eligibility")
        classmate = client(world.counsellor).get(
            f"/students/{world.classmate.public_id}/subsidy-eligibility",
            subsidy_type=str(types["job_search"].public_id),
        )

    assert own.status_code == 200
    assert [(e["subsidy_type"]["code"], e["eligible"], e["reasons"]) for e in own.json()] == [
        ("hardship_subsidy", True, []),
        ("job_search", True, []),
        ("medical_exam", True, []),
        ("national_grant", True, []),
        ("travel", True, []),
    ]
    assert classmate.json() == [
        {
            "subsidy_type": type_ref(types["job_search"]),
            "eligible": False,
            "reasons": ["Only students in the ledger of disadvantaged students may apply."],
        }
    ]


def test_eligibility_of_a_student_out_of_scope_is_not_found(world: World, types: dict[str, SubsidyType]) -> None:
    with on(TODAY):
        response = client(world.helper).get(f"/students/{world.classmate.public_id}/subsidy-eligibility")

    assert response.status_code == 404


# --- Applications ---------------------------------------------------------------------------------------------


def test_a_helper_applies_and_attaches_the_evidence(world: World, types: dict[str, SubsidyType]) -> None:
    job = types["job_search"]
    api = client(world.helper)

    with on(TODAY):
        created = api.post(
            f"/students/{world.own.public_id}/subsidy-applications",
            {"subsidy_type": str(job.public_id), "reason": REASON},
        )
        application_id = created.json()["id"]
        attached = post_form(api, f"/subsidy-applications/{application_id}/evidence", {"version": 1, "evidence": pdf()})

    assert created.status_code == 201
    application = Application.objects.get()
    assert created.json() == {
        "id": str(application.public_id),
        "student": student_ref(world.own),
        "subsidy_type": type_ref(job),
        "year": 2024,
        "amount": "1500.00",
        "reason": REASON,
        "status": "draft",
        "has_evidence": False,
        "evidence_name": None,
        "applied_by": person(world.helper),
        "created_at": "2024-03-15T02:00:00Z",
        "submitted_on": None,
        "notice_starts_on": None,
        "notice_ends_on": None,
        "budget_override": False,
        "batch": None,
        "paid_on": None,
        "version": 1,
        "steps": [
            {
                "from_status": "",
                "to_status": "draft",
                "by": person(world.helper),
                "at": "2024-03-15T02:00:00Z",
                "on": "2024-03-15",
                "comment": "",
                "budget_override": False,
            }
        ],
        "objections": [],
        "receipts": [],
    }
    assert attached.status_code == 200
    assert (attached.json()["has_evidence"], attached.json()["version"]) == (True, 2)
    assert attached.json()["evidence_name"].endswith(".pdf")


def test_a_refusal_explains_every_reason_and_writes_nothing(world: World, types: dict[str, SubsidyType]) -> None:
    rural = ledger_student(world, "马晓东", "2021990002", ["rural"])

    with on(TODAY):
        response = client(world.counsellor).post(
            f"/students/{rural.public_id}/subsidy-applications",
            {"subsidy_type": str(types["job_search"].public_id), "reason": "申请求职补贴"},
        )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "not_eligible"
    assert body["errors"] == {"__all__": [f"It is for students in one of these categories: {JOB_SEARCH_CATEGORIES}."]}
    assert body["detail"] == f"It is for students in one of these categories: {JOB_SEARCH_CATEGORIES}."
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    ("code", "data", "errors"),
    [
        pytest.param(
            "hardship_subsidy", {"amount": -100}, {"amount": ["The amount must be more than zero."]}, id="neg"
        ),
        pytest.param("travel", {"amount": "900"}, {"amount": ["This subsidy is at most 800.00 yuan."]}, id="over-cap"),
        pytest.param("job_search", {"amount": "1000"}, {"amount": ["This subsidy is a fixed 1500.00 yuan."]}, id="fix"),
        pytest.param("job_search", {"reason": "  "}, {"reason": ["Say why the student applies."]}, id="no-reason"),
        pytest.param("job_search", {"amount": "abc"}, ["amount"], id="not-a-number"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    world: World, types: dict[str, SubsidyType], code: str, data: dict[str, Any], errors: Any
) -> None:
    with on(TODAY):
        response = client(world.helper).post(
            f"/students/{world.own.public_id}/subsidy-applications",
            {"subsidy_type": str(types[code].public_id), "reason": REASON} | data,
        )

    assert response.status_code == 422
    got = response.json()["errors"]
    assert (list(got) if isinstance(errors, list) else got) == errors
    assert not Application.objects.exists()
    assert not ApplicationStep.objects.exists()


def test_who_may_apply(world: World, types: dict[str, SubsidyType]) -> None:
    data = {"subsidy_type": str(types["hardship_subsidy"].public_id), "reason": REASON, "amount": "500"}

    with on(TODAY):
        student = client(world.student_user).post(f"/students/{world.own.public_id}/subsidy-applications", data)
        principal = client(world.principal).post(f"/students/{world.own.public_id}/subsidy-applications", data)
        stranger = client(world.helper).post(f"/students/{world.classmate.public_id}/subsidy-applications", data)
        outsider = client(world.outsider).post(f"/students/{world.own.public_id}/subsidy-applications", data)
        foreign_type = client(world.outsider).post(
            f"/students/{world.other_school_student.public_id}/subsidy-applications", data
        )

    assert (student.status_code, principal.status_code) == (201, 403)  # the student applies for themself
    assert student.json()["applied_by"]["name"] == world.student_user.full_name
    assert (stranger.status_code, outsider.status_code) == (404, 404)
    assert foreign_type.status_code == 422
    assert foreign_type.json()["errors"] == {"subsidy_type": ["There is no subsidy type with this id."]}
    assert list(Application.objects.values_list("applied_by", flat=True)) == [world.student_user.pk]


def test_an_application_goes_through_every_step_to_payment(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["job_search"])
    path = f"/subsidy-applications/{application.public_id}"
    office = client(world.office)

    with on(TODAY):
        submitted = client(world.helper).post(f"{path}/submit", {"version": 1})
        department = client(world.leader).post(f"{path}/approve-department", {"version": 2, "comment": "情况属实"})
        school = office.post(f"{path}/approve-school", {"version": 3, "comment": "同意"})
        notice = office.post(
            "/subsidy-applications/start-notice",
            {"applications": [str(application.public_id)], "starts_on": "2024-03-18"},
        )
    with on(D(2024, 3, 20)):
        objection = office.post(f"{path}/objections", {"content": "有同学反映该生已签约。", "raised_on": "2024-03-19"})
        early = office.post(f"{path}/approve-final", {"version": 5})
    with on(AFTER_NOTICE):
        still_open = office.post(f"{path}/approve-final", {"version": 5})
        resolved = office.post(
            f"/subsidy-objections/{objection.json()['id']}/resolve",
            {"handling": "经核实，该生尚未签约，异议不成立。", "upheld": False},
        )
        final = office.post(f"{path}/approve-final", {"version": 5, "comment": "公示无异议"})

    assert [r.status_code for r in (submitted, department, school, notice)] == [200, 200, 200, 200]
    assert submitted.json()["submitted_on"] == "2024-03-15"
    assert school.json()["status"] == "school_approved"
    assert [(a["status"], a["notice_starts_on"], a["notice_ends_on"]) for a in notice.json()] == [
        ("on_notice", "2024-03-18", "2024-03-22")
    ]
    assert objection.status_code == 201
    assert objection.json() == {
        "id": str(Objection.objects.get().public_id),
        "raised_on": "2024-03-19",
        "content": "有同学反映该生已签约。",
        "recorded_by": person(world.office),
        "handling": "",
        "upheld": None,
        "resolved_on": None,
        "resolved_by": None,
    }
    assert (early.status_code, early.json()["code"]) == (422, "notice_running")
    assert early.json()["detail"] == "The public notice runs until 2024-03-22; approve after it ends."
    assert (still_open.status_code, still_open.json()["code"]) == (422, "objection_open")
    assert resolved.status_code == 200
    assert (resolved.json()["upheld"], resolved.json()["resolved_on"], resolved.json()["resolved_by"]) == (
        False,
        "2024-03-25",
        person(world.office),
    )
    assert final.status_code == 200
    body = final.json()
    assert (body["status"], body["version"]) == ("approved", 6)
    assert [(s["from_status"], s["to_status"], s["by"]["name"], s["on"], s["comment"]) for s in body["steps"]] == [
        ("", "draft", "郑银乐", "2024-03-15", ""),
        ("draft", "submitted", "郑银乐", "2024-03-15", ""),
        ("submitted", "department_approved", "郑书记", "2024-03-15", "情况属实"),
        ("department_approved", "school_approved", "李主任", "2024-03-15", "同意"),
        ("school_approved", "on_notice", "李主任", "2024-03-15", ""),
        ("on_notice", "approved", "李主任", "2024-03-25", "公示无异议"),
    ]
    assert [o["handling"] for o in body["objections"]] == ["经核实，该生尚未签约，异议不成立。"]


def test_objections_are_shown_only_to_who_may_read_sensitive_data(world: World, types: dict[str, SubsidyType]) -> None:
    application = department_approved(world, types["job_search"])
    services.approve_by_school(actor=world.office, application=application, today=TODAY)
    services.start_public_notice(actor=world.office, applications=[application], starts_on=NOTICE_START, today=TODAY)
    services.record_objection(
        actor=world.office, application=application, content="该生父亲在外务工收入稳定。", raised_on=NOTICE_START
    )

    with on(D(2024, 3, 19)):
        helper = client(world.helper).get(f"/subsidy-applications/{application.public_id}")
        student = client(world.student_user).get(f"/subsidy-applications/{application.public_id}")

    assert [o["content"] for o in helper.json()["objections"]] == ["该生父亲在外务工收入稳定。"]
    assert student.status_code == 200
    assert student.json()["objections"] is None
    assert "收入稳定" not in student.content.decode()


def test_steps_are_refused_by_role_status_and_person(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["job_search"], actor=world.leader)
    services.submit_application(actor=world.leader, application=application, today=TODAY)
    path = f"/subsidy-applications/{application.public_id}"

    with on(TODAY):
        helper = client(world.helper).post(f"{path}/approve-department", {"version": 2})
        own = client(world.leader).post(f"{path}/approve-department", {"version": 2})
        too_early = client(world.office).post(f"{path}/approve-final", {"version": 2})
        return_without_comment = client(world.office).post(f"{path}/return", {"version": 2})
        outsider = client(world.outsider).post(f"{path}/reject", {"version": 2, "comment": "不符合条件"})
        stale = client(world.office).post(f"{path}/approve-department", {"version": 1})

    assert helper.status_code == 403
    assert (own.status_code, own.json()["code"]) == (422, "self_approval")
    assert own.json()["errors"] == {"__all__": ["You applied for this subsidy, so someone else must approve it."]}
    assert (too_early.status_code, too_early.json()["code"]) == (422, "bad_step")
    assert too_early.json()["detail"] == "This application is “Submitted”: that step is not possible now."
    assert return_without_comment.json()["errors"] == {"comment": ["Say what must be revised."]}
    assert outsider.status_code == 404
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    nothing_changed(application, 2, "submitted")
    assert application.steps.count() == 2


def test_the_department_and_the_school_approvals_are_two_people(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["job_search"])
    services.submit_application(actor=world.helper, application=application, today=TODAY)
    services.approve_by_department(actor=world.office, application=application, today=TODAY)

    with on(TODAY):
        response = client(world.office).post(
            f"/subsidy-applications/{application.public_id}/approve-school", {"version": 3}
        )

    assert (response.status_code, response.json()["code"]) == (422, "same_approver")
    nothing_changed(application, 3, "department_approved")


def test_an_approval_beyond_the_budget_needs_an_override_with_a_comment(
    world: World, types: dict[str, SubsidyType]
) -> None:
    services.set_budget(actor=world.office, subsidy_type=types["job_search"], year=2024, amount=Decimal("1000"))
    application = department_approved(world, types["job_search"])
    path = f"/subsidy-applications/{application.public_id}/approve-school"
    office = client(world.office)

    with on(TODAY):
        plain = office.post(path, {"version": 3, "comment": "同意"})
        no_comment = office.post(path, {"version": 3, "override_budget": True})
        overridden = office.post(path, {"version": 3, "override_budget": True, "comment": "追加预算已获批"})

    assert (plain.status_code, plain.json()["code"]) == (422, "over_budget")
    assert plain.json()["detail"] == (
        "Only 1000.00 yuan is left of the 2024 budget for 求职创业补贴; approving 1500.00 yuan needs a budget override."
    )
    assert (no_comment.status_code, no_comment.json()["errors"]) == (
        422,
        {"comment": ["Say why the budget is overridden."]},
    )
    assert overridden.status_code == 200
    body = overridden.json()
    assert (body["status"], body["budget_override"], body["version"]) == ("school_approved", True, 4)
    assert body["steps"][-1] == {
        "from_status": "department_approved",
        "to_status": "school_approved",
        "by": person(world.office),
        "at": "2024-03-15T02:00:00Z",
        "on": "2024-03-15",
        "comment": "追加预算已获批",
        "budget_override": True,
    }


def test_an_application_is_edited_while_a_draft_with_its_version(world: World, types: dict[str, SubsidyType]) -> None:
    application = apply(world, types["hardship_subsidy"], amount="800")
    path = f"/subsidy-applications/{application.public_id}"

    with on(TODAY):
        edited = client(world.helper).patch(path, {"amount": "1200", "version": 1})
        stale = client(world.counsellor).patch(path, {"amount": "1500", "version": 1})
        over_cap = client(world.helper).patch(path, {"amount": "2000.01", "version": 2})
        empty = client(world.helper).patch(path, {"reason": None, "version": 2})
        stranger = client(world.other_leader).patch(path, {"amount": "100", "version": 2})

    assert (edited.status_code, edited.json()["amount"], edited.json()["version"]) == (200, "1200.00", 2)
    assert (stale.status_code, over_cap.status_code, empty.status_code) == (409, 422, 422)
    assert over_cap.json()["errors"] == {"amount": ["This subsidy is at most 2000.00 yuan."]}
    assert stranger.status_code == 404
    application.refresh_from_db()
    assert (application.amount, application.version, application.reason) == (Decimal("1200.00"), 2, REASON)


def test_evidence_that_is_not_a_real_file_is_refused(world: World, types: dict[str, SubsidyType], media) -> None:  # type: ignore[no-untyped-def]
    application = apply(world, types["job_search"], evidence=None)

    with on(TODAY):
        response = post_form(
            client(world.helper),
            f"/subsidy-applications/{application.public_id}/evidence",
            {"version": 1, "evidence": SimpleUploadedFile("低保证.pdf", b"MZ\x90\x00")},
        )

    assert response.status_code == 422
    assert response.json()["errors"] == {"evidence": ["The file's content is not a real PDF file."]}
    nothing_changed(application, 1, "draft")
    assert not any(p.is_file() for p in media.rglob("*"))


def test_travel_receipts_are_uploaded_and_checked_against_the_claim(
    world: World, types: dict[str, SubsidyType]
) -> None:
    application = apply(world, types["travel"], amount="500", evidence=None)
    path = f"/subsidy-applications/{application.public_id}"
    api = client(world.helper)

    with on(TODAY):
        no_receipts = api.post(f"{path}/submit", {"version": 1})
        added = post_form(
            api, f"{path}/receipts", {"file": pdf("火车票.pdf"), "amount": "186.50", "description": "石家庄—北京 高铁"}
        )
        negative = post_form(api, f"{path}/receipts", {"file": pdf("车票.pdf"), "amount": "-20"})
        too_much = api.post(f"{path}/submit", {"version": 2})
        lowered = api.patch(path, {"amount": "186.50", "version": 2})
        submitted = api.post(f"{path}/submit", {"version": 3})

    assert no_receipts.json()["errors"] == {"receipts": ["Attach the receipts."]}
    assert added.status_code == 201
    receipt = Receipt.objects.get()
    assert added.json()["receipts"] == [
        {
            "amount": "186.50",
            "description": "石家庄—北京 高铁",
            "file_name": receipt.file.name.rsplit("/", 1)[-1],
            "uploaded_by": person(world.helper),
            "uploaded_at": "2024-03-15T02:00:00Z",
        }
    ]
    assert negative.json()["errors"] == {"amount": ["The amount must be more than zero."]}
    assert too_much.json()["errors"] == {
        "amount": ["The amount claimed (500.00 yuan) is more than the receipts (186.50 yuan)."]
    }
    assert lowered.status_code == 200
    assert (submitted.status_code, submitted.json()["status"]) == (200, "submitted")
    assert Receipt.objects.count() == 1


def test_the_list_is_scoped_and_filtered(world: World, types: dict[str, SubsidyType]) -> None:
    mine = approved(world, types["job_search"])
    classmate = ledger_student(world, "王芳", "2021990001", ["orphan"])
    theirs = apply(world, types["hardship_subsidy"], student=classmate, actor=world.counsellor, amount="600")

    def ids(user: User, **params: Any) -> list[str]:
        with on(AFTER_NOTICE):
            response = client(user).get("/subsidy-applications", **params)
        assert response.status_code == 200
        return [a["id"] for a in response.json()["items"]]

    both = [str(theirs.public_id), str(mine.public_id)]
    assert ids(world.office) == both
    assert ids(world.leader) == both
    assert ids(world.helper) == [str(mine.public_id)]
    assert ids(world.student_user) == [str(mine.public_id)]
    assert ids(world.other_leader) == ids(world.outsider) == []
    assert ids(world.office, status="draft") == [str(theirs.public_id)]
    assert ids(world.office, payable="true") == [str(mine.public_id)]
    assert ids(world.office, subsidy_type=str(types["hardship_subsidy"].public_id)) == [str(theirs.public_id)]
    assert ids(world.office, student=str(world.own.public_id)) == [str(mine.public_id)]
    assert ids(world.office, department=str(world.dept2.public_id)) == []
    assert ids(world.office, year=2023) == []


def test_the_list_reads_a_bounded_number_of_queries(
    world: World, types: dict[str, SubsidyType], django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for i in range(6):
        student = ledger_student(world, f"学生{i}", f"20219900{i:02d}", ["subsistence_allowance"])
        apply(world, types["hardship_subsidy"], student=student, actor=world.counsellor, amount="300")
    api = client(world.office)

    with on(TODAY), django_assert_max_num_queries(8):
        response = api.get("/subsidy-applications")

    assert response.json()["count"] == 6


# --- Payment batches ------------------------------------------------------------------------------------------


def test_the_office_batches_approved_applications_and_marks_them_paid_once(
    world: World, types: dict[str, SubsidyType]
) -> None:
    application = approved(world, types["job_search"])
    office = client(world.office)

    with on(AFTER_NOTICE):
        created = office.post(
            "/payment-batches",
            {
                "school": str(world.school.public_id),
                "name": "2024年3月求职创业补贴",
                "applications": [str(application.public_id)],
            },
        )
        batch_id = created.json()["id"]
        listed = office.get("/payment-batches", paid="false")
        future = office.post(f"/payment-batches/{batch_id}/mark-paid", {"paid_on": "2024-03-26", "version": 1})
        paid = office.post(f"/payment-batches/{batch_id}/mark-paid", {"paid_on": "2024-03-25", "version": 1})
        stale = office.post(f"/payment-batches/{batch_id}/mark-paid", {"paid_on": "2024-03-25", "version": 1})
        twice = office.post(f"/payment-batches/{batch_id}/mark-paid", {"paid_on": "2024-03-25", "version": 2})

    assert created.status_code == 201
    batch = PaymentBatch.objects.get()
    assert created.json() | {"applications": []} == {
        "id": str(batch.public_id),
        "school": {
            "id": str(world.school.public_id),
            "kind": "school",
            "code": "HEBUST",
            "name": "河北科技工程职业技术大学",
            "name_en": "HEBUST",
        },
        "name": "2024年3月求职创业补贴",
        "created_by": person(world.office),
        "created_on": "2024-03-25",
        "paid_on": None,
        "paid_by": None,
        "count": 1,
        "total": "1500.00",
        "version": 1,
        "applications": [],
    }
    assert [(a["id"], a["status"], a["batch"]) for a in created.json()["applications"]] == [
        (str(application.public_id), "approved", {"id": batch_id, "name": "2024年3月求职创业补贴", "paid_on": None})
    ]
    assert [(b["id"], b["count"], b["total"]) for b in listed.json()["items"]] == [(batch_id, 1, "1500.00")]
    assert future.json()["errors"] == {"paid_on": ["The payment date cannot be in the future."]}
    assert paid.status_code == 200
    assert (paid.json()["paid_on"], paid.json()["paid_by"], paid.json()["version"]) == (
        "2024-03-25",
        person(world.office),
        2,
    )
    assert [(a["status"], a["paid_on"]) for a in paid.json()["applications"]] == [("paid", "2024-03-25")]
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    assert (twice.status_code, twice.json()["code"]) == (422, "paid_twice")
    assert twice.json()["detail"] == "This batch was already paid on 2024-03-25."
    assert ApplicationStep.objects.filter(application=application, to_status="paid").count() == 1


def test_a_batch_with_an_unapproved_application_is_refused_and_nothing_is_written(
    world: World, types: dict[str, SubsidyType]
) -> None:
    ready = approved(world, types["job_search"])
    other = ledger_student(world, "王芳", "2021990001", ["orphan"])
    waiting = department_approved(world, types["job_search"], student=other, actor=world.counsellor)

    with on(AFTER_NOTICE):
        response = client(world.office).post(
            "/payment-batches",
            {
                "school": str(world.school.public_id),
                "name": "2024年3月求职创业补贴",
                "applications": [str(ready.public_id), str(waiting.public_id)],
            },
        )

    assert response.status_code == 422
    assert response.json()["code"] == "not_payable"
    assert response.json()["errors"] == {
        "__all__": ["王芳 (2021990001): the application is “Approved by the department”, not approved for payment."]
    }
    assert not PaymentBatch.objects.exists()
    ready.refresh_from_db()
    assert (ready.batch, ready.version) == (None, 6)


def test_an_application_already_in_a_batch_is_refused(world: World, types: dict[str, SubsidyType]) -> None:
    application = approved(world, types["job_search"])
    services.create_payment_batch(
        actor=world.office, school=world.school, name="第一批", applications=[application], today=AFTER_NOTICE
    )

    with on(AFTER_NOTICE):
        response = client(world.office).post(
            "/payment-batches",
            {"school": str(world.school.public_id), "name": "第二批", "applications": [str(application.public_id)]},
        )

    assert response.status_code == 422
    assert response.json()["errors"] == {
        "__all__": [f"田斌臣 ({world.own.student_number}): the application is already in another batch."]
    }
    assert list(PaymentBatch.objects.values_list("name", flat=True)) == ["第一批"]


def test_batches_are_the_offices(world: World, types: dict[str, SubsidyType]) -> None:
    application = approved(world, types["job_search"])
    batch = services.create_payment_batch(
        actor=world.office, school=world.school, name="第一批", applications=[application], today=AFTER_NOTICE
    )
    body = {"school": str(world.school.public_id), "name": "第二批", "applications": [str(application.public_id)]}

    with on(AFTER_NOTICE):
        leader_list = client(world.leader).get("/payment-batches")
        leader_one = client(world.leader).get(f"/payment-batches/{batch.public_id}")
        leader_create = client(world.leader).post("/payment-batches", body)
        outsider_one = client(world.outsider).get(f"/payment-batches/{batch.public_id}")
        outsider_create = client(world.outsider).post("/payment-batches", body)
        unknown = client(world.office).post("/payment-batches", body | {"applications": [str(world.own.public_id)]})

    assert (leader_list.status_code, leader_list.json()["items"]) == (200, [])
    assert (leader_one.status_code, leader_create.status_code) == (404, 403)
    assert (outsider_one.status_code, outsider_create.status_code) == (404, 422)
    assert unknown.json()["errors"] == {
        "applications": [f"There is no application with this id: {world.own.public_id}"]
    }
    assert PaymentBatch.objects.count() == 1


def test_the_second_office_person_may_approve_after_the_first_signed_for_the_department(
    world: World, types: dict[str, SubsidyType]
) -> None:
    clerk = make_staff("office2", Role.EMPLOYMENT_OFFICE, world.school, full_name="孙科长")
    application = apply(world, types["job_search"])
    services.submit_application(actor=world.helper, application=application, today=TODAY)
    services.approve_by_department(actor=world.office, application=application, today=TODAY)

    with on(TODAY):
        response = client(clerk).post(f"/subsidy-applications/{application.public_id}/approve-school", {"version": 3})

    assert (response.status_code, response.json()["status"]) == (200, "school_approved")


def test_a_no_notice_type_is_approved_for_payment_at_school_level(world: World, types: dict[str, SubsidyType]) -> None:
    services.set_budget(actor=world.office, subsidy_type=types["medical_exam"], year=2024, amount=Decimal("3000"))
    application = department_approved(world, types["medical_exam"], amount="260", evidence=None)

    with on(TODAY):
        response = client(world.office).post(
            f"/subsidy-applications/{application.public_id}/approve-school", {"version": 3}
        )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["version"]) == ("approved", 4)
    assert [s["to_status"] for s in response.json()["steps"]][-2:] == ["school_approved", "approved"]


def test_a_notice_for_an_application_out_of_reach_is_refused(world: World, types: dict[str, SubsidyType]) -> None:
    application = department_approved(world, types["job_search"])
    services.approve_by_school(actor=world.office, application=application, today=TODAY)
    body = {"applications": [str(application.public_id)], "starts_on": "2024-03-18"}

    with on(TODAY):
        leader = client(world.leader).post("/subsidy-applications/start-notice", body)
        outsider = client(world.outsider).post("/subsidy-applications/start-notice", body)
        past = client(world.office).post("/subsidy-applications/start-notice", body | {"starts_on": "2024-03-14"})

    assert leader.status_code == 403
    assert outsider.status_code == 422
    assert past.json()["errors"] == {"starts_on": ["A notice cannot start in the past."]}
    nothing_changed(application, 4, "school_approved")


def test_dates_are_those_of_the_school_day(world: World, types: dict[str, SubsidyType]) -> None:
    """Just after midnight in Shijiazhuang it is already the next day (UTC is still on the day before)."""
    application = apply(world, types["hardship_subsidy"], amount="500")

    with time_machine.travel(dt.datetime(2024, 3, 16, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        response = client(world.helper).post(f"/subsidy-applications/{application.public_id}/submit", {"version": 1})

    assert response.json()["submitted_on"] == "2024-03-16"
