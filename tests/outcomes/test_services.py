"""Destinations, evidence, verification, confirmation, follow-ups and long-unemployed flagging, through the services.

World: cohort 2021, vocational, graduating 2024-06-30; `own` is in the ledger, helped by `helper`.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from bangfu.assistance.models import Activity, ActivityKind
from bangfu.concurrency import StaleEdit
from bangfu.notifications.tasks import daily_job
from bangfu.opportunities.services import change_recommendation, recommend
from bangfu.outcomes.models import Confirmation, Destination, DestinationCode, EvidenceKind, FollowUp
from bangfu.outcomes.queries import struck_off, unplaced
from bangfu.outcomes.services import (
    attach_evidence,
    code_for,
    confirm_destination,
    current_destination,
    flag_long_unemployed,
    long_unemployed,
    record_destination,
    record_follow_up,
    verify_destination,
)
from bangfu.students.models import Category, LedgerCategory, Student
from tests.conftest import TODAY
from tests.factories import make_employer, make_position
from tests.students.pages import PDF, ledger_student

GRADUATION = dt.date(2024, 6, 30)


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def pdf(name: str = "劳动合同.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def job(world, actor=None, *, today=TODAY, code="11", **fields):  # type: ignore[no-untyped-def]
    fields.setdefault("employer_name", "石家庄华信科技有限公司")
    return record_destination(actor=actor or world.helper, student=world.own, code=code, today=today, **fields)


def ledger_ids(students) -> set[int]:  # type: ignore[no-untyped-def]
    return set(students.values_list("pk", flat=True))


# ---------------------------------------------------------------------------------------------------------
# Recording and changing


def test_recording_a_job_strikes_the_student_off_and_fills_in_from_the_employer(world) -> None:
    employer = make_employer(world.school, "河北钢铁集团有限公司", employer_type="state_owned", industry="C")
    employer.is_internship_base = True
    employer.save()
    d = record_destination(
        actor=world.helper,
        student=world.own,
        code="10",
        employer=employer,
        position_title="  设备维护技术员 ",
        started_on=dt.date(2024, 7, 1),
        salary=4500,
        matches_major=True,
        today=TODAY,
    )
    d.refresh_from_db()
    assert (d.code.code, d.employer_name, d.employer_type, d.industry) == (
        "10",
        "河北钢铁集团有限公司",
        "state_owned",
        "C",
    )
    assert (d.work_province, d.work_city, d.employer_is_partner) == ("河北省", "石家庄市", True)
    assert d.position_title == "设备维护技术员"
    assert d.placed_since == TODAY and d.recorded_by == world.helper and d.is_current
    assert Student.objects.filter(pk=world.own.pk).first() in struck_off(Student.objects.all())
    assert world.own.pk not in ledger_ids(unplaced(Student.objects.all()))


def test_a_change_keeps_the_earlier_destination_as_history(world) -> None:
    first = job(world, today=dt.date(2024, 5, 10))
    second = job(world, today=dt.date(2024, 9, 1), code="10", employer_name="保定长城汽车股份有限公司")
    first.refresh_from_db()
    assert first.superseded_on == dt.date(2024, 9, 1) and first.code.code == "11"
    assert first.employer_name == "石家庄华信科技有限公司"  # never overwritten
    # Still placed: the struck-off date is the first placement's.
    assert second.placed_since == dt.date(2024, 5, 10)
    assert current_destination(world.own) == second
    assert list(Destination.objects.filter(student=world.own).values_list("code__code", flat=True)) == ["10", "11"]
    assert first.history.count() == 2  # created, then closed


def test_falling_back_to_seeking_work_puts_the_student_back_on_the_list(world) -> None:
    job(world, today=dt.date(2024, 5, 10))
    back = record_destination(
        actor=world.counsellor, student=world.own, code="70", today=dt.date(2024, 10, 1), note="试用期未通过"
    )
    assert back.placed_since is None
    assert world.own.pk in ledger_ids(unplaced(Student.objects.all()))
    again = job(world, today=dt.date(2024, 11, 20))
    assert again.placed_since == dt.date(2024, 11, 20)  # a new strike-off date


def test_a_schools_own_code_wins_over_the_national_one(world) -> None:
    own_code = DestinationCode.objects.create(
        code="12",
        school=world.school,
        label="校企合作录用",
        label_en="Hired through a school partnership",
        group="employed",
        flexible=False,
        evidence_kinds=["hiring_proof"],
        list_version="HEBUST-2024",
        valid_from=dt.date(2024, 1, 1),
    )
    assert code_for(world.own, "12", TODAY) == own_code
    assert code_for(world.other_school_student, "12", TODAY).school_id is None
    assert code_for(world.own, "12", dt.date(2023, 12, 31)).school_id is None  # not valid yet


@pytest.mark.parametrize(
    ("fields", "error_field", "message"),
    [
        (
            {"code": "11", "employer_name": "石家庄华信", "started_on": dt.date(2021, 8, 31)},
            "started_on",
            "The destination cannot start before the student's enrolment (2021-09-01).",
        ),
        ({"code": "11"}, "employer_name", "Name the employer."),
        ({"code": "80"}, "employer_name", "Name the school or university."),
        (
            {"code": "11", "employer_name": "华信", "salary": 450000},
            "salary",
            "Give the starting salary per month, in yuan.",
        ),
        ({"code": "99"}, "code", "Unknown destination code: 99"),
    ],
)
def test_bad_destinations_are_refused_and_nothing_is_written(world, fields, error_field, message) -> None:
    earlier = job(world, today=dt.date(2024, 3, 1))
    with pytest.raises(ValidationError) as caught:
        record_destination(actor=world.helper, student=world.own, today=TODAY, **fields)
    assert caught.value.message_dict == {error_field: [message]}
    earlier.refresh_from_db()
    assert earlier.is_current and earlier.version == 1
    assert Destination.objects.filter(student=world.own).count() == 1


def test_an_employer_of_another_school_is_refused(world) -> None:
    foreign = make_employer(world.other_school, "外校合作企业有限公司")
    with pytest.raises(ValidationError) as caught:
        record_destination(actor=world.helper, student=world.own, code="11", employer=foreign, today=TODAY)
    assert caught.value.message_dict == {"employer": ["Choose an employer of the student's school."]}
    assert not Destination.objects.exists()


def test_a_destination_dated_before_the_one_in_force_is_refused(world) -> None:
    job(world, today=dt.date(2024, 5, 10))
    with pytest.raises(ValidationError) as caught:
        job(world, today=dt.date(2024, 5, 1))
    assert caught.value.messages == ["A later destination is already recorded (2024-05-10)."]
    assert Destination.objects.count() == 1


@pytest.mark.parametrize("persona", ["principal", "other_leader", "outsider", "student_user"])
def test_who_may_not_record_a_destination(world, persona) -> None:
    with pytest.raises(PermissionDenied):
        job(world, actor=getattr(world, persona))
    assert not Destination.objects.exists()


@pytest.mark.parametrize("persona", ["office", "leader", "counsellor", "helper"])
def test_who_may_record_a_destination(world, persona) -> None:
    assert job(world, actor=getattr(world, persona)).recorded_by == getattr(world, persona)


# ---------------------------------------------------------------------------------------------------------
# Evidence and verification


def test_evidence_then_verification(world) -> None:
    d = job(world)
    d = attach_evidence(
        actor=world.helper, destination=d, evidence=pdf(), kind=EvidenceKind.LABOUR_CONTRACT, expected_version=1
    )
    assert d.evidence.name.endswith(".pdf") and d.evidence_kind == "labour_contract" and not d.is_verified
    d = verify_destination(actor=world.leader, destination=d, today=dt.date(2024, 3, 20), expected_version=2)
    d.refresh_from_db()
    assert (d.verified_on, d.verified_by, d.version) == (dt.date(2024, 3, 20), world.leader, 3)
    # A new document needs a new verification.
    d = attach_evidence(actor=world.helper, destination=d, evidence=pdf("新合同.pdf"), kind="labour_contract")
    d.refresh_from_db()
    assert d.verified_on is None and d.verified_by is None


def test_verifying_without_evidence_is_refused_and_nothing_is_written(world) -> None:
    d = job(world)
    with pytest.raises(ValidationError) as caught:
        verify_destination(actor=world.office, destination=d, today=TODAY)
    assert caught.value.messages == ["Attach the evidence (agreement, contract, admission letter…) before verifying."]
    d.refresh_from_db()
    assert d.verified_on is None and d.version == 1


def test_an_internship_certificate_cannot_prove_a_job(world) -> None:
    d = job(world)
    with pytest.raises(ValidationError) as caught:
        attach_evidence(actor=world.helper, destination=d, evidence=pdf("实习证明.pdf"), kind="internship_certificate")
    assert caught.value.message_dict == {
        "evidence_kind": ["An internship certificate is not proof of a job. Accepted: Labour contract."]
    }
    d.refresh_from_db()
    assert not d.evidence and d.evidence_kind == "" and d.version == 1


def test_an_admission_letter_cannot_prove_a_labour_contract(world) -> None:
    d = job(world)
    with pytest.raises(ValidationError) as caught:
        attach_evidence(actor=world.helper, destination=d, evidence=pdf(), kind="admission_letter")
    assert caught.value.message_dict == {
        "evidence_kind": ["This document cannot prove this destination. Accepted: Labour contract."]
    }


def test_a_fake_pdf_is_refused(world) -> None:
    d = job(world)
    fake = SimpleUploadedFile("合同.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError) as caught:
        attach_evidence(actor=world.helper, destination=d, evidence=fake, kind="labour_contract")
    assert caught.value.message_dict == {"evidence": ["The file's content is not a real PDF file."]}
    d.refresh_from_db()
    assert not d.evidence


def test_seeking_work_needs_no_evidence(world) -> None:
    d = record_destination(actor=world.helper, student=world.own, code="70", today=TODAY)
    with pytest.raises(ValidationError) as caught:
        attach_evidence(actor=world.helper, destination=d, evidence=pdf(), kind="other")
    assert caught.value.message_dict == {
        "evidence_kind": ["A destination of the kind “Seeking work” needs no evidence."]
    }


def test_only_department_and_office_users_verify(world) -> None:
    d = attach_evidence(actor=world.helper, destination=job(world), evidence=pdf(), kind="labour_contract")
    for persona in ("counsellor", "helper", "principal", "other_leader"):
        with pytest.raises(PermissionDenied):
            verify_destination(actor=getattr(world, persona), destination=d, today=TODAY)
    d.refresh_from_db()
    assert d.verified_on is None
    assert verify_destination(actor=world.office, destination=d, today=TODAY).verified_by == world.office


def test_a_stale_verification_is_refused(world) -> None:
    d = attach_evidence(actor=world.helper, destination=job(world), evidence=pdf(), kind="labour_contract")
    with pytest.raises(StaleEdit):
        verify_destination(actor=world.leader, destination=d, today=TODAY, expected_version=1)


def test_a_replaced_destination_takes_no_evidence_and_no_verification(world) -> None:
    old = job(world, today=dt.date(2024, 3, 1))
    job(world, today=TODAY, code="10")
    with pytest.raises(ValidationError, match="replaced"):
        attach_evidence(actor=world.helper, destination=old, evidence=pdf(), kind="labour_contract")
    with pytest.raises(ValidationError, match="replaced"):
        verify_destination(actor=world.leader, destination=old, today=TODAY)


# ---------------------------------------------------------------------------------------------------------
# The graduate's confirmation


def test_the_graduate_confirms_or_disputes(world) -> None:
    d = job(world)
    with pytest.raises(ValidationError) as caught:
        confirm_destination(actor=world.student_user, destination=d, confirmed=False, today=TODAY)
    assert caught.value.message_dict == {"note": ["Say what is wrong with the recorded destination."]}
    d = confirm_destination(
        actor=world.student_user, destination=d, confirmed=False, today=TODAY, note="我签的是劳务派遣合同，不是劳动合同"
    )
    assert (d.confirmation, d.confirmed_on) == (Confirmation.DISPUTED, TODAY)
    d = confirm_destination(actor=world.student_user, destination=d, confirmed=True, today=TODAY)
    assert d.confirmation == Confirmation.CONFIRMED
    with pytest.raises(PermissionDenied):
        confirm_destination(actor=world.helper, destination=d, confirmed=True, today=TODAY)


# ---------------------------------------------------------------------------------------------------------
# Follow-ups after leaving


def test_a_follow_up_is_an_activity_after_graduation(world) -> None:
    job(world, today=dt.date(2024, 6, 1))
    f = record_follow_up(
        actor=world.helper,
        student=world.own,
        done_on=dt.date(2024, 9, 30),
        status="still_employed",
        notes="电话回访：工作稳定，已转正",
        today=dt.date(2024, 10, 2),
    )
    assert (f.months_after_leaving, f.destination, f.activity.kind) == (3, current_destination(world.own), "follow_up")
    assert f.activity.helper == world.helper and f.activity.occurred_on == dt.date(2024, 9, 30)
    assert current_destination(world.own).code.code == "11"  # still employed: nothing changes


def test_a_follow_up_before_graduation_is_refused_and_nothing_is_written(world) -> None:
    with pytest.raises(ValidationError) as caught:
        record_follow_up(
            actor=world.helper, student=world.own, done_on=GRADUATION, status="unemployed", today=dt.date(2024, 7, 1)
        )
    assert caught.value.message_dict == {"done_on": ["A follow-up comes after graduation (2024-06-30)."]}
    assert not FollowUp.objects.exists() and not Activity.objects.filter(kind=ActivityKind.FOLLOW_UP).exists()


def test_only_those_who_log_help_record_follow_ups(world) -> None:
    for persona in ("counsellor", "principal", "other_leader"):
        with pytest.raises(PermissionDenied):
            record_follow_up(
                actor=getattr(world, persona),
                student=world.own,
                done_on=dt.date(2024, 8, 1),
                status="still_employed",
                today=dt.date(2024, 8, 1),
            )
    assert not FollowUp.objects.exists()


def test_unemployed_at_a_follow_up_puts_the_graduate_back_on_the_unplaced_list(world) -> None:
    placed = job(world, today=dt.date(2024, 6, 1))
    cohort = Student.objects.filter(school=world.school)
    assert world.own.pk not in ledger_ids(unplaced(cohort))
    record_follow_up(
        actor=world.helper,
        student=world.own,
        done_on=dt.date(2024, 8, 5),
        status="unemployed",
        notes="公司裁员，正在找工作",
        today=dt.date(2024, 8, 5),
    )
    now = current_destination(world.own)
    assert (now.code.code, now.placed_since, now.recorded_on) == ("70", None, dt.date(2024, 8, 5))
    assert now.note == "Unemployed at the follow-up of 2024-08-05."
    placed.refresh_from_db()
    assert placed.superseded_on == dt.date(2024, 8, 5)
    assert world.own.pk in ledger_ids(unplaced(cohort))
    # A second unemployed follow-up adds no second "seeking work" record.
    record_follow_up(
        actor=world.helper,
        student=world.own,
        done_on=dt.date(2024, 9, 5),
        status="unemployed",
        today=dt.date(2024, 9, 5),
    )
    assert Destination.objects.filter(student=world.own).count() == 2


# ---------------------------------------------------------------------------------------------------------
# Long-unemployed after six months


def _categories(student: Student) -> set[str]:
    return set(
        LedgerCategory.objects.filter(entry__student=student, entry__left_on__isnull=True).values_list(
            "category", flat=True
        )
    )


def test_long_unemployed_after_six_months(world) -> None:
    record_destination(actor=world.helper, student=world.own, code="70", today=dt.date(2024, 7, 10))
    placed = ledger_student(world.class1, name="王芳", helper=world.helper)
    record_destination(actor=world.helper, student=placed, code="80", employer_name="河北科技大学", today=TODAY)
    not_seeking = ledger_student(world.class1, name="李强", helper=world.helper)
    record_destination(actor=world.helper, student=not_seeking, code="71", today=TODAY)
    unknown = ledger_student(world.class1, name="赵敏", helper=world.helper)

    # Six months after leaving (30 June → 31 December) is not yet "more than six months".
    assert flag_long_unemployed(today=dt.date(2024, 12, 31)) == 0
    assert Category.LONG_UNEMPLOYED not in _categories(world.own)

    day = dt.date(2025, 1, 1)
    assert set(long_unemployed(Student.objects.all(), day).values_list("name", flat=True)) >= {"田斌臣", "赵敏"}
    assert flag_long_unemployed(today=day) == 2
    assert Category.LONG_UNEMPLOYED in _categories(world.own)
    assert Category.LONG_UNEMPLOYED in _categories(unknown)
    assert Category.LONG_UNEMPLOYED not in _categories(placed) | _categories(not_seeking)
    assert flag_long_unemployed(today=day) == 0  # flagged once


def test_an_unemployed_follow_up_late_after_leaving_flags_at_once(world) -> None:
    record_follow_up(
        actor=world.helper,
        student=world.own,
        done_on=dt.date(2025, 1, 8),
        status="unemployed",
        today=dt.date(2025, 1, 8),
    )
    assert Category.LONG_UNEMPLOYED in _categories(world.own)


def test_the_daily_job_expires_recommendations_and_flags_long_unemployed(world) -> None:
    record_destination(actor=world.helper, student=world.own, code="70", today=dt.date(2024, 7, 10))
    result = daily_job.call("2025-01-02")
    assert result["long_unemployed_flagged"] == 1
    assert result["recommendations_expired"] == 0
    assert Category.LONG_UNEMPLOYED in _categories(world.own)
    assert daily_job.call("2025-01-03")["long_unemployed_flagged"] == 0


def test_accepting_a_recommended_job_strikes_the_student_off(world) -> None:
    employer = make_employer(world.school, "石家庄华信科技有限公司")
    position = make_position(employer, "软件测试工程师", deadline=dt.date(2024, 4, 30))
    rec = recommend(actor=world.helper, student=world.own, position=position, today=TODAY)
    cohort = Student.objects.filter(school=world.school).in_ledger()
    assert ledger_ids(unplaced(cohort)) == {world.own.pk}
    for status in ("applied", "interviewed", "offer", "accepted"):
        rec = change_recommendation(actor=world.helper, recommendation=rec, to_status=status, on=TODAY, today=TODAY)
    d = current_destination(world.own)
    assert (d.employer, d.employer_name, d.position_title, d.salary, d.placed_since) == (
        employer,
        "石家庄华信科技有限公司",
        "软件测试工程师",
        4000,
        TODAY,
    )
    assert d.code.is_placed and not d.is_verified  # the evidence still has to be attached and checked
    assert ledger_ids(unplaced(cohort)) == set()
