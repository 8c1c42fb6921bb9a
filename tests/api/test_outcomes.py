"""Destinations, evidence, verification, follow-ups and placement figures through the API: exact answers, scope
(404 outside it, 403 for a role that may not act), refused input with nothing written, stale versions, and rates
computed by hand on a small cohort."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bangfu.assistance.models import Activity, ActivityKind
from bangfu.audit.models import AccessAction, AccessLog
from bangfu.outcomes.models import Destination, FollowUp
from bangfu.outcomes.queries import unplaced
from bangfu.outcomes.services import attach_evidence, record_destination, verify_destination
from bangfu.students.models import Student
from tests.api.work_helpers import PDF, PNG, D, client, ledger_student, on, post_form
from tests.conftest import TODAY, World
from tests.factories import make_credit_code, make_employer, make_student, system_user


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def employer(world: World):  # type: ignore[no-untyped-def]
    return make_employer(world.school, "石家庄华信科技有限公司", credit_code=make_credit_code(2024))


def _files(media) -> list:  # type: ignore[no-untyped-def,type-arg]
    return [p for p in media.rglob("*") if p.is_file()]


def _evidence(name: str = "就业协议书.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# --- Destinations -----------------------------------------------------------------------------------------------


def test_a_helper_records_a_job_and_the_student_is_struck_off(world: World, employer) -> None:  # type: ignore[no-untyped-def]
    ledger = Student.objects.in_ledger().filter(school=world.school)
    assert unplaced(ledger).count() == 1

    with on(TODAY):
        response = client(world.helper).post(
            f"/students/{world.own.public_id}/destinations",
            {
                "code": "10",
                "employer": str(employer.public_id),
                "position_title": "软件测试工程师",
                "started_on": "2024-07-01",
                "salary": 4500,
                "matches_major": True,
                "replaces": None,
            },
        )

    assert response.status_code == 201
    body = response.json()
    destination = Destination.objects.get()
    assert body == {
        "id": str(destination.public_id),
        "student": {"id": str(world.own.public_id), "student_number": world.own.student_number, "name": "田斌臣"},
        "code": {
            "code": "10",
            "label": "签就业协议形式就业",
            "label_en": "Signed employment agreement",
            "group": "employed",
            "flexible": False,
            "not_seeking": False,
        },
        "employer": {"id": str(employer.public_id), "name": "石家庄华信科技有限公司"},
        "employer_name": "石家庄华信科技有限公司",
        "employer_type": "private",
        "industry": "I",
        "position_title": "软件测试工程师",
        "work_province": "河北省",
        "work_city": "石家庄市",
        "started_on": "2024-07-01",
        "salary": 4500,
        "matches_major": True,
        "employer_is_partner": False,
        "note": "",
        "recorded_on": "2024-03-15",
        "recorded_by": {"id": str(world.helper.public_id), "name": "郑银乐"},
        "is_current": True,
        "superseded_on": None,
        "placed_since": "2024-03-15",
        "has_evidence": False,
        "evidence_name": None,
        "evidence_kind": "",
        "is_verified": False,
        "verified_on": None,
        "verified_by": None,
        "confirmation": "pending",
        "confirmation_note": "",
        "confirmed_on": None,
        "version": 1,
    }
    assert unplaced(ledger).count() == 0


def test_a_change_is_history_and_keeps_the_day_of_striking_off(world: World, employer) -> None:  # type: ignore[no-untyped-def]
    first = record_destination(actor=world.helper, student=world.own, code="10", today=D(2024, 3, 1), employer=employer)
    with on(TODAY):
        changed = client(world.helper).post(
            f"/students/{world.own.public_id}/destinations",
            {"code": "11", "employer_name": "河北冀之力商贸有限公司", "replaces": str(first.public_id)},
        )
        listed = client(world.student_user).get(f"/students/{world.own.public_id}/destinations").json()

    assert changed.status_code == 201
    assert [(d["code"]["code"], d["is_current"], d["superseded_on"], d["placed_since"]) for d in listed] == [
        ("11", True, None, "2024-03-01"),
        ("10", False, "2024-03-15", "2024-03-01"),
    ]


def test_a_change_from_a_stale_reading_is_refused(world: World, employer) -> None:  # type: ignore[no-untyped-def]
    record_destination(actor=world.leader, student=world.own, code="80", today=D(2024, 3, 1), employer_name="河北大学")
    with on(TODAY):
        response = client(world.helper).post(
            f"/students/{world.own.public_id}/destinations",
            {"code": "10", "employer": str(employer.public_id), "replaces": None},
        )

    assert response.status_code == 409
    assert response.json()["code"] == "stale"
    assert [d.code.code for d in Destination.objects.all()] == ["80"]


REFUSED = [
    pytest.param(
        {"code": "10", "employer_name": "华信", "started_on": "2021-08-20"}, "started_on", id="before-enrolment"
    ),
    pytest.param({"code": "99", "employer_name": "华信"}, "code", id="unknown-code"),
    pytest.param({"code": "11"}, "employer_name", id="employed-without-employer"),
    pytest.param({"code": "80"}, "employer_name", id="study-without-school"),
    pytest.param({"code": "10", "employer_name": "华信", "salary": 450000}, "salary", id="yearly-salary"),
    pytest.param({"code": "10", "employer": "00000000-0000-4000-8000-000000000000"}, "employer", id="unknown-employer"),
]


@pytest.mark.parametrize(("data", "field"), REFUSED)
def test_a_bad_destination_is_refused_and_nothing_is_written(world: World, data: dict, field: str) -> None:  # type: ignore[type-arg]
    with on(TODAY):
        response = client(world.helper).post(f"/students/{world.own.public_id}/destinations", data)

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    assert not Destination.objects.exists()


def test_the_before_enrolment_message_names_the_day(world: World) -> None:
    with on(TODAY):
        response = client(world.helper).post(
            f"/students/{world.own.public_id}/destinations",
            {"code": "10", "employer_name": "华信", "started_on": "2021-08-20"},
        )

    assert response.json()["errors"] == {
        "started_on": ["The destination cannot start before the student's enrolment (2021-09-01)."]
    }


@pytest.mark.parametrize(
    ("persona", "student", "status"),
    [
        ("principal", "own", 403),
        ("student_user", "own", 403),
        ("helper", "classmate", 404),
        ("other_leader", "own", 404),
        ("office", "other_school_student", 404),
    ],
)
def test_recording_a_destination_follows_the_scope(world: World, persona: str, student: str, status: int) -> None:
    with on(TODAY):
        api = client(getattr(world, persona))
        response = api.post(
            f"/students/{getattr(world, student).public_id}/destinations", {"code": "10", "employer_name": "华信"}
        )
        listed = api.get(f"/students/{getattr(world, student).public_id}/destinations")

    assert response.status_code == status
    assert listed.status_code == (200 if status == 403 else 404)
    assert not Destination.objects.exists()


# --- Evidence and verification ----------------------------------------------------------------------------------


@pytest.fixture
def job(world: World, employer):  # type: ignore[no-untyped-def]
    return record_destination(actor=world.helper, student=world.own, code="10", today=D(2024, 3, 1), employer=employer)


def test_evidence_is_uploaded_as_a_multipart_form_and_downloaded(world: World, job, media) -> None:  # type: ignore[no-untyped-def]
    api = client(world.helper)
    with on(TODAY):
        uploaded = post_form(
            api,
            f"/destinations/{job.public_id}/evidence",
            {"evidence_kind": "employment_agreement", "version": "1", "evidence": _evidence()},
        )
        download = api.get(f"/destinations/{job.public_id}/evidence")
        by_student = client(world.student_user).get(f"/destinations/{job.public_id}/evidence")
        by_other_leader = client(world.other_leader).get(f"/destinations/{job.public_id}/evidence")

    assert uploaded.status_code == 200
    body = uploaded.json()
    assert (body["has_evidence"], body["evidence_kind"], body["is_verified"], body["version"]) == (
        True,
        "employment_agreement",
        False,
        2,
    )
    assert body["evidence_name"].startswith("就业协议书") and body["evidence_name"].endswith(".pdf")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    log = AccessLog.objects.get(action=AccessAction.DOWNLOAD_EVIDENCE)
    assert (log.actor, log.student, log.fields) == (world.helper, world.own, "evidence")
    assert by_student.status_code == 403
    assert by_other_leader.status_code == 404
    assert AccessLog.objects.count() == 1


@pytest.mark.parametrize(
    ("kind", "upload", "field", "message"),
    [
        (
            "internship_certificate",
            ("实习证明.pdf", PDF),
            "evidence_kind",
            "An internship certificate is not proof of a job. Accepted: Employment agreement.",
        ),
        (
            "admission_letter",
            ("录取通知书.pdf", PDF),
            "evidence_kind",
            "This document cannot prove this destination. Accepted: Employment agreement.",
        ),
        ("employment_agreement", ("协议.pdf", PNG), "evidence", "The file's content is not a real PDF file."),
        ("employment_agreement", ("协议.docx", PDF), "evidence", "Evidence must be a PDF, JPEG or PNG file."),
    ],
)
def test_evidence_that_cannot_prove_the_destination_is_refused(  # type: ignore[no-untyped-def]
    world: World, job, media, kind: str, upload: tuple[str, bytes], field: str, message: str
) -> None:
    with on(TODAY):
        response = post_form(
            client(world.helper),
            f"/destinations/{job.public_id}/evidence",
            {"evidence_kind": kind, "version": "1", "evidence": SimpleUploadedFile(*upload)},
        )

    assert response.status_code == 422
    assert response.json()["errors"] == {field: [message]}
    job.refresh_from_db()
    assert (bool(job.evidence), job.version) == (False, 1)
    assert _files(media) == []


def test_evidence_needs_a_file_and_the_current_version(world: World, job, media) -> None:  # type: ignore[no-untyped-def]
    api = client(world.helper)
    with on(TODAY):
        without_file = post_form(
            api, f"/destinations/{job.public_id}/evidence", {"evidence_kind": "employment_agreement", "version": "1"}
        )
        stale = post_form(
            api,
            f"/destinations/{job.public_id}/evidence",
            {"evidence_kind": "employment_agreement", "version": "7", "evidence": _evidence()},
        )

    assert without_file.status_code == 422
    assert list(without_file.json()["errors"]) == ["evidence"]
    assert stale.status_code == 409
    assert _files(media) == []


def test_verifying_needs_evidence_and_a_department_or_office_user(world: World, job) -> None:  # type: ignore[no-untyped-def]
    with on(TODAY):
        without_evidence = client(world.leader).post(f"/destinations/{job.public_id}/verify", {"version": 1})
    attach_evidence(actor=world.helper, destination=job, evidence=_evidence(), kind="employment_agreement")
    with on(TODAY):
        by_helper = client(world.helper).post(f"/destinations/{job.public_id}/verify", {"version": 2})
        by_counsellor = client(world.counsellor).post(f"/destinations/{job.public_id}/verify", {"version": 2})
        stale = client(world.leader).post(f"/destinations/{job.public_id}/verify", {"version": 1})
        verified = client(world.leader).post(f"/destinations/{job.public_id}/verify", {"version": 2})
        again = client(world.office).post(f"/destinations/{job.public_id}/verify", {"version": 3})

    assert without_evidence.status_code == 422
    assert without_evidence.json()["detail"] == (
        "Attach the evidence (agreement, contract, admission letter…) before verifying."
    )
    assert (by_helper.status_code, by_counsellor.status_code, stale.status_code) == (403, 403, 409)
    assert verified.status_code == 200
    body = verified.json()
    assert (body["is_verified"], body["verified_on"], body["verified_by"], body["version"]) == (
        True,
        "2024-03-15",
        {"id": str(world.leader.public_id), "name": "郑书记"},
        3,
    )
    assert again.status_code == 422
    assert again.json()["detail"] == "This destination is already verified."


# --- Follow-ups -------------------------------------------------------------------------------------------------


def test_follow_ups_after_leaving_and_an_unemployed_graduate_back_on_the_list(world: World, job) -> None:  # type: ignore[no-untyped-def]
    api = client(world.helper)
    with on(D(2024, 8, 5)):
        employed = api.post(
            f"/students/{world.own.public_id}/follow-ups",
            {"done_on": "2024-08-02", "status": "still_employed", "notes": "试用期顺利，月薪4500"},
        )
    with on(D(2024, 10, 8)):
        unemployed = api.post(
            f"/students/{world.own.public_id}/follow-ups",
            {"done_on": "2024-10-08", "status": "unemployed", "notes": "公司裁员，正在找工作"},
        )
        listed = client(world.student_user).get(f"/students/{world.own.public_id}/follow-ups").json()

    assert employed.status_code == 201
    follow_up = FollowUp.objects.get(done_on=D(2024, 8, 2))
    assert employed.json() == {
        "id": str(follow_up.public_id),
        "student": {"id": str(world.own.public_id), "student_number": world.own.student_number, "name": "田斌臣"},
        "destination": str(job.public_id),
        "done_on": "2024-08-02",
        "months_after_leaving": 1,
        "status": "still_employed",
        "notes": "试用期顺利，月薪4500",
        "activity": str(follow_up.activity.public_id),
        "recorded_by": {"id": str(world.helper.public_id), "name": "郑银乐"},
        "created_at": employed.json()["created_at"],
    }
    assert follow_up.activity.kind == ActivityKind.FOLLOW_UP
    assert unemployed.status_code == 201
    assert unemployed.json()["months_after_leaving"] == 3
    current = Destination.objects.get(superseded_on__isnull=True)
    assert (current.code.code, current.recorded_on, current.placed_since) == ("70", D(2024, 10, 8), None)
    assert unplaced(Student.objects.filter(pk=world.own.pk)).count() == 1
    assert [f["status"] for f in listed] == ["unemployed", "still_employed"]


@pytest.mark.parametrize(
    ("persona", "data", "status", "field"),
    [
        ("helper", {"done_on": "2024-06-01", "status": "still_employed"}, 422, "done_on"),
        ("helper", {"done_on": "2024-08-06", "status": "still_employed"}, 422, "occurred_on"),
        ("helper", {"done_on": "2024-08-01", "status": "retired"}, 422, "status"),
        ("counsellor", {"done_on": "2024-06-01", "status": "still_employed"}, 403, None),
        ("other_leader", {"done_on": "2024-08-01", "status": "still_employed"}, 404, None),
    ],
)
def test_a_bad_follow_up_is_refused_and_nothing_is_written(
    world: World,
    persona: str,
    data: dict,
    status: int,
    field: str | None,  # type: ignore[type-arg]
) -> None:
    with on(D(2024, 8, 5)):
        response = client(getattr(world, persona)).post(f"/students/{world.own.public_id}/follow-ups", data)

    assert response.status_code == status
    if field:
        assert list(response.json()["errors"]) == [field]
    assert not FollowUp.objects.exists()
    assert not Activity.objects.filter(kind=ActivityKind.FOLLOW_UP).exists()


# --- Placement figures ------------------------------------------------------------------------------------------


@pytest.fixture
def cohort(world: World, employer, media) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """The 2024 graduates of the school, as recorded over the summer:

    own (dept1, ledger)   10 agreement, recorded 10 May, verified 20 May
    classmate (dept1)     80 further study, recorded 1 July, not verified
    王芳 (dept1, ledger)   70 seeking work on 1 June, then 11 labour contract on 10 September
    dept2_student (dept2) 72 not seeking work, recorded 15 July
    李强 (dept2)           nothing recorded
    Not in the cohort: the other school's graduate (placed) and a 2025 graduate of dept1 (placed)."""
    actor = system_user()
    wang = ledger_student(world.class1, name="王芳", helper=None, cohort=2021, joined_on=D(2022, 9, 1))
    li = make_student(world.class2, name="李强")
    later = make_student(world.class1, name="赵明", cohort=2022)
    own = record_destination(actor=actor, student=world.own, code="10", today=D(2024, 5, 10), employer=employer)
    attach_evidence(actor=actor, destination=own, evidence=_evidence(), kind="employment_agreement")
    verify_destination(actor=actor, destination=own, today=D(2024, 5, 20))
    record_destination(actor=actor, student=world.classmate, code="80", today=D(2024, 7, 1), employer_name="河北大学")
    record_destination(actor=actor, student=wang, code="70", today=D(2024, 6, 1))
    record_destination(
        actor=actor, student=wang, code="11", today=D(2024, 9, 10), employer_name="河北冀之力商贸有限公司"
    )
    record_destination(actor=actor, student=world.dept2_student, code="72", today=D(2024, 7, 15))
    record_destination(
        actor=actor, student=world.other_school_student, code="10", today=D(2024, 6, 1), employer_name="保定远航物流"
    )
    record_destination(actor=actor, student=later, code="10", today=D(2024, 6, 1), employer_name="华信")
    return SimpleNamespace(wang=wang, li=li)


FIELDS = ("graduates", "known", "unknown", "employed", "further_study", "placed", "seeking", "not_seeking", "verified")
RATES = ("placement_rate", "knowledge_rate", "verified_share", "career_outcomes_rate")


def _counts(row: dict) -> tuple:  # type: ignore[type-arg]
    return tuple(row[f] for f in FIELDS)


def _rates(row: dict) -> tuple:  # type: ignore[type-arg]
    return tuple(row[f] for f in RATES)


def test_the_placement_figures_of_the_31_august_snapshot(world: World, cohort: SimpleNamespace) -> None:
    with on(D(2024, 9, 1)):
        body = client(world.office).get("/placement", year=2024, as_of="2024-08-31").json()

    assert (body["year"], body["as_of"], body["by"], body["snapshots"], body["rows"]) == (
        2024,
        "2024-08-31",
        None,
        ["2024-08-31", "2024-12-31"],
        [],
    )
    total = body["total"]
    assert (total["key"], total["label"]) == (None, "All graduates")
    # 5 graduates; known 4; employed 1 (own), further study 1 (classmate); 王芳 seeking; dept2_student not seeking.
    assert _counts(total) == (5, 4, 1, 1, 1, 2, 1, 1, 1)
    # 2/5 placed; 4/5 known; 1 of 2 placed verified; 2 placed of the 3 known who seek work.
    assert _rates(total) == (40.0, 80.0, 50.0, 66.7)
    assert (total["employed_share"], total["further_study_share"], total["not_placed_share"]) == (20.0, 20.0, 60.0)


def test_the_december_snapshot_reads_the_later_change(world: World, cohort: SimpleNamespace) -> None:
    with on(D(2025, 1, 5)):
        december = client(world.office).get("/placement", year=2024, as_of="2024-12-31").json()["total"]
        today = client(world.office).get("/placement", year=2024).json()

    assert _counts(december) == (5, 4, 1, 2, 1, 3, 0, 1, 1)
    assert _rates(december) == (60.0, 80.0, 33.3, 100.0)
    assert today["as_of"] == "2025-01-05"
    assert _counts(today["total"]) == _counts(december)


def test_placement_by_department_ledger_and_category(world: World, cohort: SimpleNamespace) -> None:
    api = client(world.office)
    with on(D(2024, 9, 1)):
        departments = api.get("/placement", year=2024, as_of="2024-08-31", by="department").json()["rows"]
        ledger = api.get("/placement", year=2024, as_of="2024-08-31", by="ledger").json()["rows"]
        categories = api.get("/placement", year=2024, as_of="2024-08-31", by="category").json()["rows"]

    assert [(r["key"], r["label"], _counts(r), _rates(r)) for r in departments] == [
        (str(world.dept1.public_id), "服装工程系", (3, 3, 0, 1, 1, 2, 1, 0, 1), (66.7, 100.0, 50.0, 66.7)),
        (str(world.dept2.public_id), "机电工程系", (2, 1, 1, 0, 0, 0, 0, 1, 0), (0.0, 50.0, None, None)),
    ]
    assert [(r["key"], r["label"], r["graduates"], r["placed"], r["placement_rate"]) for r in ledger] == [
        ("ledger", "Ledger students", 2, 1, 50.0),
        ("others", "Other students", 3, 1, 33.3),
    ]
    assert [(r["key"], r["label"], r["graduates"], r["placed"]) for r in categories] == [
        ("orphan", "Orphan", 1, 1),
        ("poverty_alleviated", "Household lifted out of poverty (formerly registered poor)", 1, 1),
        ("subsistence_allowance", "Minimum-living-allowance household", 1, 0),
    ]


@pytest.mark.parametrize(
    ("persona", "status", "graduates"),
    [
        ("leader", 200, 3),
        ("counsellor", 200, 3),
        ("other_leader", 200, 2),
        ("principal", 200, 5),
        ("outsider", 200, 1),
        ("helper", 403, None),
        ("student_user", 403, None),
    ],
)
def test_the_figures_cover_the_callers_units_only(
    world: World, cohort: SimpleNamespace, persona: str, status: int, graduates: int | None
) -> None:
    with on(D(2024, 9, 1)):
        response = client(getattr(world, persona)).get("/placement", year=2024, as_of="2024-08-31")

    assert response.status_code == status
    if graduates is not None:
        assert response.json()["total"]["graduates"] == graduates


def test_placement_needs_a_year_and_a_known_grouping(world: World) -> None:
    with on(TODAY):
        no_year = client(world.office).get("/placement")
        bad_by = client(world.office).get("/placement", year=2024, by="gender")

    assert (no_year.status_code, list(no_year.json()["errors"])) == (422, ["year"])
    assert (bad_by.status_code, list(bad_by.json()["errors"])) == (422, ["by"])


def test_the_figures_take_a_bounded_number_of_queries(  # type: ignore[no-untyped-def]
    world: World, cohort: SimpleNamespace, django_assert_max_num_queries
) -> None:
    for i in range(20):
        student = make_student(world.class2, name=f"学生{i}")
        record_destination(actor=system_user(), student=student, code="77", today=D(2024, 7, 1), employer_name="个体")
    api = client(world.office)

    with on(D(2024, 9, 1)), django_assert_max_num_queries(6):
        body = api.get("/placement", year=2024, as_of="2024-08-31", by="department").json()

    assert body["total"]["graduates"] == 25
    assert body["total"]["flexible"] == 20
    assert dt.date.fromisoformat(body["as_of"]) == D(2024, 8, 31)
