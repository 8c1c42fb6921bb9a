"""Employers, positions, events, recommendations, suggestions, internships, order classes and work-study through the
API: exact answers, the school's and the students' scope (404 outside, 403 for a role that may not act), refused
input with nothing written, and stale versions. The clock is frozen in every test."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from bangfu.assistance.models import Activity, ActivityKind, Metric, StudentProgress
from bangfu.assistance.services import save_plan
from bangfu.opportunities.models import (
    Employer,
    EventAttendance,
    Internship,
    OrderClassMembership,
    Position,
    Recommendation,
    RecruitmentEvent,
    WorkStudyAssignment,
    WorkStudyHours,
)
from bangfu.opportunities.services import change_recommendation, recommend, save_event, start_work_study
from bangfu.outcomes.models import Destination
from bangfu.outcomes.queries import unplaced
from bangfu.students.models import Student
from tests.api.work_helpers import D, client, ledger_student, on
from tests.conftest import TODAY, World
from tests.factories import make_credit_code, make_employer, make_position, system_user

CODE = make_credit_code(123456)  # 91130100000123456 + its check character
OTHER_CODE = make_credit_code(654321)
WRONG_CHECK = CODE[:17] + next(c for c in "0123456789" if c != CODE[17])


def full_width(text: str) -> str:
    """ASCII letters and digits as a Chinese input method types them in full width."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.fixture
def jobs(world: World) -> SimpleNamespace:
    """An employer of the school with a job (open until 30 April), and one of the other school."""
    employer = make_employer(world.school, "石家庄华信科技有限公司", credit_code=CODE)
    job = make_position(employer, "软件测试工程师", deadline=D(2024, 4, 30))
    far = make_employer(world.other_school, "保定远航物流有限公司", credit_code=OTHER_CODE, city="保定市")
    far_job = make_position(far, "仓储管理员")
    return SimpleNamespace(employer=employer, job=job, far=far, far_job=far_job)


def _meter(student: Student, metric: str) -> int:
    row = StudentProgress.objects.get(student=student)
    return next(m["done"] for m in row.meters if m["metric"] == metric)


# --- Employers --------------------------------------------------------------------------------------------------


def test_the_office_registers_an_employer_typed_in_full_width(world: World) -> None:
    with on(TODAY):
        response = client(world.office).post(
            "/employers",
            {
                "name": "河北冀之力商贸有限公司",
                "credit_code": full_width(CODE[:9]) + " " + CODE[9:].lower(),
                "industry": "F",
                "employer_type": "private",
                "size": "small",
                "province": "河北省",
                "city": "辛集市",
                "is_work_study_host": True,
                "contact_name": "王经理",
                "contact_phone": "0311-83266666",
                "contact_email": "hr@jizhili.cn",
            },
        )

    assert response.status_code == 201
    body = response.json()
    employer = Employer.objects.get()
    assert body == {
        "id": str(employer.public_id),
        "school": {
            "id": str(world.school.public_id),
            "kind": "school",
            "code": "HEBUST",
            "name": "河北科技工程职业技术大学",
            "name_en": "HEBUST",
        },
        "name": "河北冀之力商贸有限公司",
        "credit_code": CODE,
        "industry": "F",
        "employer_type": "private",
        "size": "small",
        "province": "河北省",
        "city": "辛集市",
        "is_internship_base": False,
        "is_order_class_partner": False,
        "is_work_study_host": True,
        "is_partner": True,
        "contact_name": "王经理",
        "contact_phone": "0311-83266666",
        "contact_email": "hr@jizhili.cn",
        "notes": "",
        "created_by": {"id": str(world.office.public_id), "name": "李主任"},
        "created_at": body["created_at"],
        "version": 1,
    }
    assert employer.history.get().history_user == world.office


REFUSED_EMPLOYERS = [
    pytest.param({"name": "新华书店", "credit_code": WRONG_CHECK}, "credit_code", id="checksum"),
    pytest.param({"name": "新华书店", "credit_code": "91130100MA0O12345X"}, "credit_code", id="letter-O"),
    pytest.param({"name": "新华书店", "credit_code": "9113010012345"}, "credit_code", id="too-short"),
    pytest.param({"name": "新华书店", "credit_code": full_width(CODE)}, "credit_code", id="same-code-full-width"),
    pytest.param({"name": "石家庄 华信科技有限公司"}, "name", id="same-name-with-a-space"),
    pytest.param({"name": "石家庄华信科技（有限公司）"}, "name", id="same-name-full-width-brackets"),
    pytest.param({"name": "  "}, "name", id="no-name"),
    pytest.param({"name": "新华书店", "contact_email": "不是邮箱"}, "contact_email", id="bad-email"),
]


@pytest.mark.parametrize(("data", "field"), REFUSED_EMPLOYERS)
def test_a_bad_or_duplicate_employer_is_refused_and_nothing_is_written(
    world: World, jobs: SimpleNamespace, data: dict, field: str
) -> None:
    before = Employer.objects.count()
    with on(TODAY):
        response = client(world.counsellor).post("/employers", data)

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    assert Employer.objects.count() == before


def test_duplicate_messages_name_the_employer_already_registered(world: World, jobs: SimpleNamespace) -> None:
    api = client(world.leader)
    with on(TODAY):
        by_code = api.post("/employers", {"name": "新华书店", "credit_code": CODE})
        by_name = api.post("/employers", {"name": "石家庄华信科技(有限公司)"})
        checksum = api.post("/employers", {"name": "新华书店", "credit_code": WRONG_CHECK})

    assert by_code.json()["errors"] == {"credit_code": ["石家庄华信科技有限公司 already has this credit code."]}
    assert by_name.json()["errors"] == {"name": ["This employer is already registered as 石家庄华信科技有限公司."]}
    assert checksum.json()["errors"] == {
        "credit_code": ["The credit code's check character is wrong: please check it for a typing error."]
    }


@pytest.mark.parametrize("persona", ["helper", "principal", "student_user"])
def test_registering_an_employer_needs_the_right_role(world: World, persona: str) -> None:
    with on(TODAY):
        response = client(getattr(world, persona)).post("/employers", {"name": "新华书店"})

    assert response.status_code == 403
    assert not Employer.objects.exists()


def test_an_employer_of_a_school_the_caller_does_not_work_in_is_refused(world: World) -> None:
    with on(TODAY):
        response = client(world.outsider).post(
            "/employers", {"name": "新华书店", "school": str(world.school.public_id)}
        )

    assert response.status_code == 422
    assert response.json()["errors"] == {"school": ["There is no school with this id."]}
    assert not Employer.objects.exists()


def test_employers_are_searched_by_name_or_code_within_the_callers_school(world: World, jobs: SimpleNamespace) -> None:
    make_employer(world.school, "河北冀之力商贸有限公司", credit_code=make_credit_code(777), is_internship_base=True)
    api = client(world.helper)

    def names(**params: str) -> list[str]:
        return [e["name"] for e in api.get("/employers", **params).json()["items"]]

    with on(TODAY):
        assert names() == ["河北冀之力商贸有限公司", "石家庄华信科技有限公司"]
        assert names(q="华信") == ["石家庄华信科技有限公司"]
        assert names(q="石家庄 华信") == ["石家庄华信科技有限公司"]
        assert names(q=CODE[:12].lower()) == ["石家庄华信科技有限公司"]
        assert names(partner="internship_base") == ["河北冀之力商贸有限公司"]
        assert names(q="远航") == []  # the other school's
        assert [e["name"] for e in client(world.outsider).get("/employers").json()["items"]] == ["保定远航物流有限公司"]
        assert client(world.student_user).get("/employers").json()["items"] == []


def test_an_employer_of_another_school_does_not_exist(world: World, jobs: SimpleNamespace) -> None:
    with on(TODAY):
        response = client(world.office).get(f"/employers/{jobs.far.public_id}")
        edit = client(world.office).patch(f"/employers/{jobs.far.public_id}", {"version": 1, "city": "石家庄市"})

    assert (response.status_code, edit.status_code) == (404, 404)
    jobs.far.refresh_from_db()
    assert jobs.far.city == "保定市"


def test_an_employer_is_updated_with_the_version_read_and_a_stale_one_is_refused(
    world: World, jobs: SimpleNamespace
) -> None:
    api = client(world.counsellor)
    path = f"/employers/{jobs.employer.public_id}"
    with on(TODAY):
        first = api.patch(path, {"version": 1, "is_internship_base": True, "contact_phone": "0311-86000000"})
        stale = api.patch(path, {"version": 1, "city": "保定市"})

    assert first.status_code == 200
    assert (first.json()["is_partner"], first.json()["contact_phone"], first.json()["version"]) == (
        True,
        "0311-86000000",
        2,
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale"
    jobs.employer.refresh_from_db()
    assert (jobs.employer.city, jobs.employer.version) == ("石家庄市", 2)


# --- Positions --------------------------------------------------------------------------------------------------


def test_a_position_is_created_with_majors_and_the_employers_place(world: World, jobs: SimpleNamespace) -> None:
    major = world.class1.parent
    with on(TODAY):
        response = client(world.leader).post(
            "/positions",
            {
                "employer": str(jobs.employer.public_id),
                "title": "服装设计助理",
                "majors": [str(major.public_id)],
                "salary_min": 3500,
                "salary_max": 5000,
                "openings": 2,
                "deadline": "2024-05-31",
            },
        )

    assert response.status_code == 201
    body = response.json()
    position = Position.objects.get(title="服装设计助理")
    assert body == {
        "id": str(position.public_id),
        "kind": "job",
        "title": "服装设计助理",
        "employer": {"id": str(jobs.employer.public_id), "name": "石家庄华信科技有限公司"},
        "province": "河北省",
        "city": "石家庄市",
        "salary_min": 3500,
        "salary_max": 5000,
        "deadline": "2024-05-31",
        "status": "open",
        "description": "",
        "majors": [
            {"id": str(major.public_id), "kind": "major", "code": "M1", "name": "专业1", "name_en": ""},
        ],
        "openings": 2,
        "is_open": True,
        "created_by": {"id": str(world.leader.public_id), "name": "郑书记"},
        "created_at": body["created_at"],
        "version": 1,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"salary_min": 6000, "salary_max": 4000}, "salary_max"),
        ({"salary_max": 500000}, "salary_max"),
        ({"title": " "}, "title"),
        ({"majors": ["00000000-0000-4000-8000-000000000000"]}, "majors"),
        ({"employer": "00000000-0000-4000-8000-000000000000"}, "employer"),
        ({"kind": "兼职"}, "kind"),
    ],
)
def test_a_bad_position_is_refused_and_nothing_is_written(
    world: World, jobs: SimpleNamespace, change: dict, field: str
) -> None:
    data = {"employer": str(jobs.employer.public_id), "title": "服装设计助理"} | change
    with on(TODAY):
        response = client(world.office).post("/positions", data)

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    assert not Position.objects.filter(title__in=["服装设计助理", " "]).exists()


def test_a_major_of_another_school_is_refused(world: World, jobs: SimpleNamespace) -> None:
    other_major = world.other_school_student.major
    with on(TODAY):
        response = client(world.office).post(
            "/positions",
            {"employer": str(jobs.employer.public_id), "title": "质检员", "majors": [str(other_major.public_id)]},
        )

    assert response.status_code == 422
    assert response.json()["errors"] == {"majors": ["Choose majors of this school."]}
    assert not Position.objects.filter(title="质检员").exists()


def test_positions_are_filtered_and_listed_in_a_bounded_number_of_queries(
    world: World, jobs: SimpleNamespace, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    major1, major2 = world.class1.parent, world.class2.parent
    for i in range(12):
        position = make_position(jobs.employer, f"岗位{i:02d}", deadline=D(2024, 6, 1) + dt.timedelta(days=i))
        position.majors.set([major1 if i % 2 else major2])
    make_position(jobs.employer, "已截止的岗位", deadline=D(2024, 3, 1))
    make_position(jobs.employer, "实习生", kind="internship")
    api = client(world.helper)

    with on(TODAY), django_assert_max_num_queries(8):
        page = api.get("/positions", page_size=100).json()
    with on(TODAY):
        internships = api.get("/positions", kind="internship").json()["items"]
        closed = api.get("/positions", open="false").json()["items"]
        for_major1 = api.get("/positions", major=str(major1.public_id), page_size=100).json()["items"]

    assert page["count"] == 15
    titles = [p["title"] for p in page["items"]]
    assert titles[:3] == ["已截止的岗位", "软件测试工程师", "岗位00"]
    assert titles[-1] == "实习生"  # no deadline: last
    assert [p["title"] for p in internships] == ["实习生"]
    assert [p["title"] for p in closed] == ["已截止的岗位"]
    # Wanting major 1, or open to every major.
    assert {p["title"] for p in for_major1} == {f"岗位{i:02d}" for i in range(1, 12, 2)} | {
        "已截止的岗位",
        "软件测试工程师",
        "实习生",
    }


def test_a_position_update_needs_the_version_read(world: World, jobs: SimpleNamespace) -> None:
    api = client(world.office)
    path = f"/positions/{jobs.job.public_id}"
    with on(TODAY):
        closed = api.patch(path, {"version": 1, "status": "closed", "deadline": None})
        stale = api.patch(path, {"version": 1, "title": "测试开发工程师"})
        other_school = api.get(f"/positions/{jobs.far_job.public_id}")

    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["deadline"], closed.json()["is_open"]) == ("closed", None, False)
    assert stale.status_code == 409
    assert other_school.status_code == 404
    jobs.job.refresh_from_db()
    assert (jobs.job.title, jobs.job.version) == ("软件测试工程师", 2)


# --- Suggestions ------------------------------------------------------------------------------------------------


def test_positions_are_suggested_to_a_student_with_reasons(world: World, jobs: SimpleNamespace) -> None:
    save_plan(
        actor=world.helper,
        student=world.own,
        expected_version=None,
        today=TODAY,
        direction="job",
        places="石家庄",
        near_home=True,
        salary_expectation=4500,
    )
    far_away = make_employer(world.school, "北京云图科技有限公司", province="北京市", city="北京市")
    make_position(far_away, "运维工程师", salary_max=8000)
    recommended = make_position(jobs.employer, "已推荐的岗位")
    recommend(actor=world.helper, student=world.own, position=recommended, today=TODAY)

    with on(TODAY):
        response = client(world.helper).get(f"/students/{world.own.public_id}/suggested-positions")

    assert response.status_code == 200
    body = response.json()
    assert [(s["position"]["title"], s["score"], s["fits"]) for s in body] == [
        ("软件测试工程师", 15 + 30 + 10, True),
        ("运维工程师", 15 + 10, True),
    ]
    assert body[0]["reasons"] == [
        {"code": "any_major", "points": 15, "params": {}, "text": "Open to every major"},
        {"code": "home_city", "points": 30, "params": {"city": "石家庄市"}, "text": "In your home city, 石家庄市"},
        {
            "code": "salary",
            "points": 10,
            "params": {"salary": 6000},
            "text": "Pays up to 6000 yuan, at least what you expect",
        },
    ]
    assert body[0]["position"]["employer"] == {"id": str(jobs.employer.public_id), "name": "石家庄华信科技有限公司"}


@pytest.mark.parametrize(("persona", "status"), [("counsellor", 403), ("principal", 403), ("outsider", 404)])
def test_suggestions_are_for_those_who_recommend(
    world: World, jobs: SimpleNamespace, persona: str, status: int
) -> None:
    with on(TODAY):
        response = client(getattr(world, persona)).get(f"/students/{world.own.public_id}/suggested-positions")

    assert response.status_code == status


def test_students_are_suggested_for_a_position_within_the_callers_reach(world: World, jobs: SimpleNamespace) -> None:
    second = ledger_student(world.class1, name="王芳", helper=world.helper, cohort=2021, joined_on=D(2022, 9, 1))
    ledger_student(world.class2, name="李强", helper=None, cohort=2021, joined_on=D(2022, 9, 1))  # not the helper's

    with on(TODAY):
        by_helper = client(world.helper).get(f"/positions/{jobs.job.public_id}/suggested-students").json()
        by_office = client(world.office).get(f"/positions/{jobs.job.public_id}/suggested-students").json()
        by_outsider = client(world.outsider).get(f"/positions/{jobs.job.public_id}/suggested-students")

    # Equal scores (open to every major, no plan): by student number.
    assert [(s["student"]["id"], s["score"], s["fits"]) for s in by_helper] == [
        (str(world.own.public_id), 15, True),
        (str(second.public_id), 15, True),
    ]
    assert [s["student"]["name"] for s in by_office] == ["田斌臣", "王芳", "李强"]
    assert by_outsider.status_code == 404


# --- Events and attendance --------------------------------------------------------------------------------------


def test_an_event_is_created_and_attending_it_counts_as_event_together(world: World, jobs: SimpleNamespace) -> None:
    with on(TODAY):
        created = client(world.office).post(
            "/events",
            {
                "kind": "campus_fair",
                "title": "2024届春季校园双选会",
                "held_on": "2024-03-09",
                "place": "体育馆",
                "employers": [str(jobs.employer.public_id)],
            },
        )
        event_id = created.json()["id"]
        attended = client(world.helper).post(
            f"/students/{world.own.public_id}/event-attendances", {"event": event_id, "notes": "投了两份简历"}
        )
        again = client(world.helper).post(f"/students/{world.own.public_id}/event-attendances", {"event": event_id})
        listed = client(world.student_user).get(f"/students/{world.own.public_id}/event-attendances").json()

    assert created.status_code == 201
    event = RecruitmentEvent.objects.get()
    assert created.json() == {
        "id": str(event.public_id),
        "school": created.json()["school"],
        "kind": "campus_fair",
        "title": "2024届春季校园双选会",
        "held_on": "2024-03-09",
        "place": "体育馆",
        "employers": [{"id": str(jobs.employer.public_id), "name": "石家庄华信科技有限公司"}],
        "notes": "",
        "created_by": {"id": str(world.office.public_id), "name": "李主任"},
        "version": 1,
    }
    assert attended.status_code == 201
    attendance = EventAttendance.objects.get()
    assert attended.json() == {
        "id": str(attendance.public_id),
        "event": {
            "id": event_id,
            "kind": "campus_fair",
            "title": "2024届春季校园双选会",
            "held_on": "2024-03-09",
            "place": "体育馆",
        },
        "student": {"id": str(world.own.public_id), "student_number": world.own.student_number, "name": "田斌臣"},
        "helper": {"id": str(world.helper.public_id), "name": "郑银乐"},
        "activity": str(attendance.activity.public_id),
        "created_at": attended.json()["created_at"],
    }
    assert (attendance.activity.kind, attendance.activity.event_name) == (
        ActivityKind.EVENT_TOGETHER,
        "2024届春季校园双选会",
    )
    assert _meter(world.own, Metric.EVENT_TOGETHER) == 1
    assert again.status_code == 422
    assert again.json()["detail"] == "田斌臣's attendance at this event is already recorded."
    assert [a["id"] for a in listed] == [str(attendance.public_id)]


def test_attendance_is_refused_for_a_future_event_and_by_those_who_do_not_log(world: World) -> None:
    future = save_event(actor=system_user(), school=world.school, title="五月招聘会", held_on=D(2024, 5, 10))
    past = save_event(actor=system_user(), school=world.school, title="三月招聘会", held_on=D(2024, 3, 1))

    with on(TODAY):
        early = client(world.helper).post(
            f"/students/{world.own.public_id}/event-attendances", {"event": str(future.public_id)}
        )
        counsellor = client(world.counsellor).post(
            f"/students/{world.own.public_id}/event-attendances", {"event": str(past.public_id)}
        )
        stranger = client(world.helper).post(
            f"/students/{world.classmate.public_id}/event-attendances", {"event": str(past.public_id)}
        )

    assert early.status_code == 422
    assert early.json()["detail"] == "Attendance is recorded on or after the day of the event (2024-05-10)."
    assert counsellor.status_code == 403
    assert stranger.status_code == 404
    assert not EventAttendance.objects.exists()
    assert not Activity.objects.filter(kind=ActivityKind.EVENT_TOGETHER).exists()


def test_an_event_of_another_school_is_not_found(world: World) -> None:
    event = save_event(actor=system_user(), school=world.other_school, title="保定招聘会", held_on=D(2024, 3, 1))
    with on(TODAY):
        response = client(world.office).get(f"/events/{event.public_id}")
        edit = client(world.office).patch(f"/events/{event.public_id}", {"version": 1, "place": "礼堂"})

    assert (response.status_code, edit.status_code) == (404, 404)


# --- Recommendations --------------------------------------------------------------------------------------------


def test_a_helper_recommends_a_position_and_the_answer_lists_its_first_step(
    world: World, jobs: SimpleNamespace
) -> None:
    with on(TODAY):
        response = client(world.helper).post(
            f"/students/{world.own.public_id}/recommendations",
            {"position": str(jobs.job.public_id), "note": "离家近，专业对口"},
        )

    assert response.status_code == 201
    body = response.json()
    rec = Recommendation.objects.get()
    helper = {"id": str(world.helper.public_id), "name": "郑银乐"}
    assert body == {
        "id": str(rec.public_id),
        "student": {"id": str(world.own.public_id), "student_number": world.own.student_number, "name": "田斌臣"},
        "position": {
            "id": str(jobs.job.public_id),
            "kind": "job",
            "title": "软件测试工程师",
            "employer": {"id": str(jobs.employer.public_id), "name": "石家庄华信科技有限公司"},
            "province": "河北省",
            "city": "石家庄市",
            "salary_min": 4000,
            "salary_max": 6000,
            "deadline": "2024-04-30",
            "status": "open",
        },
        "recommended_by": helper,
        "recommended_on": "2024-03-15",
        "status": "recommended",
        "next_statuses": ["interested", "applied", "declined", "expired"],
        "fits_student": True,
        "fit_reasons": [{"code": "any_major", "points": 15, "params": {}, "text": "Open to every major"}],
        "acted_on": None,
        "offered_on": None,
        "decline_reason": "",
        "note": "离家近，专业对口",
        "effective": False,
        "activity": str(rec.activity.public_id),
        "steps": [
            {
                "from_status": "",
                "to_status": "recommended",
                "on": "2024-03-15",
                "by": helper,
                "at": body["steps"][0]["at"],
                "reason": "",
                "note": "",
            }
        ],
        "updated_at": body["updated_at"],
        "version": 1,
    }
    assert rec.activity.kind == ActivityKind.JOB_RECOMMENDATION


def test_the_student_applies_and_the_recommendation_becomes_effective(world: World, jobs: SimpleNamespace) -> None:
    rec = recommend(actor=world.helper, student=world.own, position=jobs.job, today=D(2024, 3, 10))
    with on(TODAY):
        response = client(world.helper).post(
            f"/recommendations/{rec.public_id}/status", {"status": "applied", "on": "2024-03-14", "version": 1}
        )
        read_by_student = client(world.student_user).get(f"/recommendations/{rec.public_id}")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["acted_on"], body["effective"], body["version"]) == ("applied", "2024-03-14", True, 2)
    assert body["next_statuses"] == ["interviewed", "offer", "rejected", "declined", "expired"]
    assert [(s["from_status"], s["to_status"], s["on"]) for s in body["steps"]] == [
        ("", "recommended", "2024-03-10"),
        ("recommended", "applied", "2024-03-14"),
    ]
    assert _meter(world.own, Metric.EFFECTIVE_RECOMMENDATION) == 1
    assert read_by_student.status_code == 200
    assert read_by_student.json()["status"] == "applied"


REFUSED_STEPS = [
    pytest.param(
        {"status": "interviewed"},
        "status",
        "A recommendation that is “Recommended” cannot become “Interviewed”.",
        id="jump",
    ),
    pytest.param(
        {"status": "accepted"},
        "status",
        "A recommendation that is “Recommended” cannot become “Accepted”.",
        id="jump-to-accepted",
    ),
    pytest.param({"status": "declined"}, "reason", "Choose why the student declined.", id="decline-without-reason"),
    pytest.param(
        {"status": "declined", "reason": "other"}, "note", "Explain the reason in the note.", id="other-without-note"
    ),
    pytest.param(
        {"status": "applied", "reason": "salary"}, "reason", "Only a decline has a reason.", id="reason-not-decline"
    ),
    pytest.param({"status": "applied", "on": "2024-03-16"}, "on", "The date cannot be in the future.", id="future"),
    pytest.param({"status": "hired"}, "status", None, id="unknown-status"),
]


@pytest.mark.parametrize(("change", "field", "message"), REFUSED_STEPS)
def test_a_bad_step_is_refused_and_nothing_is_written(
    world: World, jobs: SimpleNamespace, change: dict, field: str, message: str | None
) -> None:
    rec = recommend(actor=world.helper, student=world.own, position=jobs.job, today=TODAY)
    with on(TODAY):
        response = client(world.helper).post(f"/recommendations/{rec.public_id}/status", change | {"version": 1})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    if message:
        assert response.json()["errors"][field] == [message]
    rec.refresh_from_db()
    assert (rec.status, rec.version, rec.steps.count()) == ("recommended", 1, 1)


def test_declining_with_a_reason_keeps_it_and_counts_as_a_decline(world: World, jobs: SimpleNamespace) -> None:
    rec = recommend(actor=world.helper, student=world.own, position=jobs.job, today=TODAY)
    with on(TODAY):
        response = client(world.helper).post(
            f"/recommendations/{rec.public_id}/status",
            {"status": "declined", "reason": "location", "note": "要照顾爷爷奶奶", "version": 1},
        )

    body = response.json()
    assert (body["status"], body["decline_reason"], body["effective"], body["next_statuses"]) == (
        "declined",
        "location",
        False,
        [],
    )
    assert (body["steps"][-1]["reason"], body["steps"][-1]["note"]) == ("location", "要照顾爷爷奶奶")
    assert StudentProgress.objects.get(student=world.own).declined_count == 1


def test_a_stale_version_is_refused(world: World, jobs: SimpleNamespace) -> None:
    rec = recommend(actor=world.helper, student=world.own, position=jobs.job, today=TODAY)
    change_recommendation(actor=world.leader, recommendation=rec, to_status="applied", on=TODAY, today=TODAY)
    with on(TODAY):
        response = client(world.helper).post(
            f"/recommendations/{rec.public_id}/status",
            {"status": "declined", "reason": "salary", "version": 1},
        )

    assert response.status_code == 409
    assert response.json()["code"] == "stale"
    rec.refresh_from_db()
    assert (rec.status, rec.steps.count()) == ("applied", 2)


def test_accepting_a_job_records_the_destination_and_strikes_the_student_off(
    world: World, jobs: SimpleNamespace
) -> None:
    rec = recommend(actor=world.helper, student=world.own, position=jobs.job, today=TODAY)
    for status in ("applied", "interviewed", "offer"):
        rec = change_recommendation(actor=world.helper, recommendation=rec, to_status=status, on=TODAY, today=TODAY)
    ledger = Student.objects.in_ledger().filter(school=world.school)
    assert unplaced(ledger).count() == 1

    with on(TODAY):
        response = client(world.helper).post(
            f"/recommendations/{rec.public_id}/status",
            {"status": "accepted", "version": rec.version, "destination_code": "11"},
        )

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    destination = Destination.objects.get(student=world.own)
    assert (destination.code.code, destination.employer_name, destination.position_title, destination.placed_since) == (
        "11",
        "石家庄华信科技有限公司",
        "软件测试工程师",
        TODAY,
    )
    assert unplaced(ledger).count() == 0


def test_recommending_is_refused_outside_the_scope_and_for_roles_that_do_not_log(
    world: World, jobs: SimpleNamespace
) -> None:
    data = {"position": str(jobs.job.public_id)}
    with on(TODAY):
        counsellor = client(world.counsellor).post(f"/students/{world.own.public_id}/recommendations", data)
        principal = client(world.principal).post(f"/students/{world.own.public_id}/recommendations", data)
        other_helper = client(world.helper).post(f"/students/{world.classmate.public_id}/recommendations", data)
        other_school = client(world.office).post(
            f"/students/{world.other_school_student.public_id}/recommendations", data
        )
        far_position = client(world.office).post(
            f"/students/{world.classmate.public_id}/recommendations", {"position": str(jobs.far_job.public_id)}
        )

    assert (counsellor.status_code, principal.status_code) == (403, 403)
    assert (other_helper.status_code, other_school.status_code) == (404, 404)
    assert far_position.status_code == 422
    assert far_position.json()["errors"] == {"position": ["There is no position with this id."]}
    assert not Recommendation.objects.exists()
    assert not Activity.objects.exists()


def test_a_recommendation_of_a_student_out_of_sight_is_not_found(world: World, jobs: SimpleNamespace) -> None:
    rec = recommend(actor=world.leader, student=world.classmate, position=jobs.job, today=TODAY)
    with on(TODAY):
        read = client(world.helper).get(f"/recommendations/{rec.public_id}")
        change = client(world.helper).post(
            f"/recommendations/{rec.public_id}/status", {"status": "applied", "version": 1}
        )
        listed = client(world.leader).get(f"/students/{world.classmate.public_id}/recommendations").json()

    assert (read.status_code, change.status_code) == (404, 404)
    assert [r["id"] for r in listed["items"]] == [str(rec.public_id)]


def test_a_students_recommendations_are_listed_in_a_bounded_number_of_queries(  # type: ignore[no-untyped-def]
    world: World, jobs: SimpleNamespace, django_assert_max_num_queries
) -> None:
    for i in range(8):
        rec = recommend(
            actor=world.helper, student=world.own, position=make_position(jobs.employer, f"岗位{i}"), today=TODAY
        )
        if i % 2:
            change_recommendation(actor=world.helper, recommendation=rec, to_status="applied", on=TODAY, today=TODAY)
    api = client(world.helper)

    with on(TODAY), django_assert_max_num_queries(9):
        page = api.get(f"/students/{world.own.public_id}/recommendations").json()
    with on(TODAY):
        applied = api.get(f"/students/{world.own.public_id}/recommendations", status="applied").json()

    assert page["count"] == 8
    assert [len(r["steps"]) for r in page["items"]] == [2, 1, 2, 1, 2, 1, 2, 1]
    assert applied["count"] == 4
    assert {r["effective"] for r in applied["items"]} == {True}


def test_conversion_per_helper_and_per_employer(world: World, jobs: SimpleNamespace) -> None:
    second = make_position(jobs.employer, "测试助理")
    other = make_employer(world.school, "河北冀之力商贸有限公司", credit_code=make_credit_code(99))
    sales = make_position(other, "销售代表")
    a = recommend(actor=world.helper, student=world.own, position=jobs.job, today=TODAY)
    for status in ("applied", "offer", "accepted"):
        a = change_recommendation(actor=world.helper, recommendation=a, to_status=status, on=TODAY, today=TODAY)
    b = recommend(actor=world.helper, student=world.own, position=second, today=TODAY)
    change_recommendation(
        actor=world.helper, recommendation=b, to_status="declined", reason="salary", on=TODAY, today=TODAY
    )
    recommend(actor=world.leader, student=world.classmate, position=sales, today=TODAY)

    with on(TODAY):
        by_helper = client(world.office).get("/recommendation-conversion", by="helper").json()
        by_employer = client(world.office).get("/recommendation-conversion", by="employer").json()
        helpers_own = client(world.helper).get("/recommendation-conversion").json()
        student = client(world.student_user).get("/recommendation-conversion")

    counts = ("recommended", "acted", "offers", "accepted", "declined", "effective", "rate")
    assert [(r["id"], r["name"], *(r[c] for c in counts)) for r in by_helper] == [
        (str(world.helper.public_id), "郑银乐", 2, 1, 1, 1, 1, 1, 50.0),
        (str(world.leader.public_id), "郑书记", 1, 0, 0, 0, 0, 0, 0.0),
    ]
    assert [(r["id"], r["name"], *(r[c] for c in counts)) for r in by_employer] == [
        (str(jobs.employer.public_id), "石家庄华信科技有限公司", 2, 1, 1, 1, 1, 1, 50.0),
        (str(other.public_id), "河北冀之力商贸有限公司", 1, 0, 0, 0, 0, 0, 0.0),
    ]
    assert [(r["name"], r["recommended"]) for r in helpers_own] == [("郑银乐", 2)]  # only their students' figures
    assert student.status_code == 403


# --- Internships, order classes, work-study ---------------------------------------------------------------------


def test_an_internship_is_recorded_and_evaluated(world: World, jobs: SimpleNamespace) -> None:
    api = client(world.helper)
    with on(TODAY):
        created = api.post(
            f"/students/{world.own.public_id}/internships",
            {"employer": str(jobs.employer.public_id), "started_on": "2024-01-08"},
        )
        internship_id = created.json()["id"]
        too_early = api.patch(f"/internships/{internship_id}", {"version": 1, "ended_on": "2024-04-30"})
        evaluated = api.patch(
            f"/internships/{internship_id}",
            {
                "version": 1,
                "ended_on": "2024-03-08",
                "evaluation": "excellent",
                "evaluation_note": "吃苦耐劳",
                "became_job": True,
            },
        )
        stale = api.patch(f"/internships/{internship_id}", {"version": 1, "evaluation": "pass"})
        listed = client(world.student_user).get(f"/students/{world.own.public_id}/internships").json()

    assert created.status_code == 201
    internship = Internship.objects.get()
    assert created.json() == {
        "id": str(internship.public_id),
        "student": {"id": str(world.own.public_id), "student_number": world.own.student_number, "name": "田斌臣"},
        "employer": {"id": str(jobs.employer.public_id), "name": "石家庄华信科技有限公司"},
        "position": None,
        "started_on": "2024-01-08",
        "ended_on": None,
        "evaluation": "",
        "evaluation_note": "",
        "became_job": False,
        "recorded_by": {"id": str(world.helper.public_id), "name": "郑银乐"},
        "version": 1,
    }
    assert too_early.status_code == 422
    assert too_early.json()["errors"] == {"ended_on": ["An internship is evaluated after it ends."]}
    assert evaluated.status_code == 200
    assert (evaluated.json()["evaluation"], evaluated.json()["became_job"], evaluated.json()["version"]) == (
        "excellent",
        True,
        2,
    )
    assert stale.status_code == 409
    assert [i["evaluation"] for i in listed] == ["excellent"]


def test_an_internship_before_enrolment_or_with_a_foreign_employer_is_refused(
    world: World, jobs: SimpleNamespace
) -> None:
    api = client(world.helper)
    with on(TODAY):
        early = api.post(
            f"/students/{world.own.public_id}/internships",
            {"employer": str(jobs.employer.public_id), "started_on": "2021-08-01"},
        )
        foreign = api.post(
            f"/students/{world.own.public_id}/internships",
            {"employer": str(jobs.far.public_id), "started_on": "2024-01-08"},
        )
        principal = client(world.principal).post(
            f"/students/{world.own.public_id}/internships",
            {"employer": str(jobs.employer.public_id), "started_on": "2024-01-08"},
        )

    assert early.status_code == 422
    assert list(early.json()["errors"]) == ["started_on"]
    assert foreign.json()["errors"] == {"employer": ["There is no employer with this id."]}
    assert principal.status_code == 403
    assert not Internship.objects.exists()


def test_a_student_joins_and_leaves_an_order_class(world: World, jobs: SimpleNamespace) -> None:
    order_class = make_position(jobs.employer, "华信订单班", kind="order_class")
    api = client(world.counsellor)
    with on(TODAY):
        wrong_kind = api.post(
            f"/students/{world.own.public_id}/order-classes",
            {"position": str(jobs.job.public_id), "joined_on": "2023-09-01"},
        )
        joined = api.post(
            f"/students/{world.own.public_id}/order-classes",
            {"position": str(order_class.public_id), "joined_on": "2023-09-01"},
        )
        membership_id = joined.json()["id"]
        no_reason = api.post(
            f"/order-classes/{membership_id}/leave", {"left_on": "2024-03-01", "reason": " ", "version": 1}
        )
        left = api.post(
            f"/order-classes/{membership_id}/leave", {"left_on": "2024-03-01", "reason": "转专升本备考", "version": 1}
        )

    assert wrong_kind.status_code == 422
    assert wrong_kind.json()["errors"] == {"position": ["Choose a position of the kind “Order class”."]}
    assert joined.status_code == 201
    assert (joined.json()["position"]["title"], joined.json()["joined_on"], joined.json()["left_on"]) == (
        "华信订单班",
        "2023-09-01",
        None,
    )
    assert no_reason.status_code == 422
    assert left.status_code == 200
    assert (left.json()["left_on"], left.json()["left_reason"], left.json()["version"]) == (
        "2024-03-01",
        "转专升本备考",
        2,
    )
    assert OrderClassMembership.objects.get().left_on == D(2024, 3, 1)


def test_work_study_hours_are_logged_up_to_the_weekly_limit(world: World, jobs: SimpleNamespace) -> None:
    library = make_position(jobs.employer, "图书馆助理", kind="work_study")
    api = client(world.helper)
    with on(TODAY):
        started = api.post(
            f"/students/{world.own.public_id}/work-study",
            {"position": str(library.public_id), "started_on": "2024-03-01"},
        )
        post_id = started.json()["id"]
        first = api.post(f"/work-study/{post_id}/hours", {"worked_on": "2024-03-11", "hours": 5, "note": "整理书架"})
        up_to_limit = api.post(f"/work-study/{post_id}/hours", {"worked_on": "2024-03-13", "hours": "3.0"})
        over = api.post(f"/work-study/{post_id}/hours", {"worked_on": "2024-03-14", "hours": 0.5})
        listed = api.get(f"/students/{world.own.public_id}/work-study").json()

    assert started.status_code == 201
    assert (started.json()["position"]["title"], started.json()["hours_total"]) == ("图书馆助理", 0)
    assert first.status_code == 201
    assert first.json() == {
        "assignment": post_id,
        "worked_on": "2024-03-11",
        "hours": 5.0,
        "note": "整理书架",
        "recorded_by": {"id": str(world.helper.public_id), "name": "郑银乐"},
        "week_total": 5.0,
        "month_total": 5.0,
    }
    assert up_to_limit.status_code == 201
    assert (up_to_limit.json()["week_total"], up_to_limit.json()["month_total"]) == (8.0, 8.0)
    assert over.status_code == 422
    assert over.json()["errors"] == {"hours": ["At most 8 hours a week: 8 already logged that week."]}
    assert WorkStudyHours.objects.count() == 2
    assert [a["hours_total"] for a in listed] == [8.0]


def test_work_study_hours_with_a_bad_value_are_refused(world: World, jobs: SimpleNamespace) -> None:
    library = make_position(jobs.employer, "图书馆助理", kind="work_study")
    post = start_work_study(
        actor=world.helper, student=world.own, position=library, started_on=D(2024, 3, 1), today=TODAY
    )
    others = start_work_study(
        actor=world.leader, student=world.classmate, position=library, started_on=D(2024, 3, 1), today=TODAY
    )
    api = client(world.helper)
    with on(TODAY):
        answers = [
            api.post(f"/work-study/{post.public_id}/hours", {"worked_on": "2024-03-11", "hours": 0}),
            api.post(f"/work-study/{post.public_id}/hours", {"worked_on": "2024-03-11", "hours": "2.25"}),
            api.post(f"/work-study/{post.public_id}/hours", {"worked_on": "2024-03-16", "hours": 2}),
            api.post(f"/work-study/{post.public_id}/hours", {"worked_on": "2024-02-28", "hours": 2}),
        ]
        stranger = client(world.helper).post(
            f"/work-study/{others.public_id}/hours", {"worked_on": "2024-03-11", "hours": 1}
        )

    assert [a.status_code for a in answers] == [422, 422, 422, 422]
    assert [list(a.json()["errors"]) for a in answers] == [["hours"], ["hours"], ["worked_on"], ["worked_on"]]
    assert stranger.status_code == 404
    assert not WorkStudyHours.objects.exists()


def test_a_work_study_post_ends_with_the_version_read(world: World, jobs: SimpleNamespace) -> None:
    library = make_position(jobs.employer, "图书馆助理", kind="work_study")
    post = start_work_study(
        actor=world.helper, student=world.own, position=library, started_on=D(2024, 3, 1), today=TODAY
    )
    api = client(world.helper)
    with on(TODAY):
        ended = api.post(f"/work-study/{post.public_id}/end", {"ended_on": "2024-03-15", "version": 1})
        stale = api.post(f"/work-study/{post.public_id}/end", {"ended_on": "2024-03-14", "version": 1})
        student = client(world.student_user).post(
            f"/work-study/{post.public_id}/end", {"ended_on": "2024-03-15", "version": 2}
        )

    assert ended.status_code == 200
    assert (ended.json()["ended_on"], ended.json()["version"]) == ("2024-03-15", 2)
    assert stale.status_code == 409
    assert student.status_code == 403
    assert WorkStudyAssignment.objects.get().ended_on == D(2024, 3, 15)


def test_hours_are_exact_decimals(world: World, jobs: SimpleNamespace) -> None:
    library = make_position(jobs.employer, "图书馆助理", kind="work_study")
    post = start_work_study(
        actor=world.helper, student=world.own, position=library, started_on=D(2024, 3, 1), today=TODAY
    )
    with on(TODAY):
        client(world.helper).post(f"/work-study/{post.public_id}/hours", {"worked_on": "2024-03-11", "hours": "2.5"})

    assert WorkStudyHours.objects.get().hours == Decimal("2.5")
