"""The recruitment-event pages: upcoming and past events, create and edit, and recording that a student came to an
event with their helper (the "recruitment event together" activity of the work ledger)."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from bangfu.assistance.models import Activity, ActivityKind, Metric
from bangfu.assistance.models import StudentProgress as Progress
from bangfu.opportunities.models import EventAttendance, RecruitmentEvent
from bangfu.opportunities.services import save_event
from tests.assistance.work_helpers import frozen
from tests.conftest import World
from tests.factories import make_credit_code, make_employer, system_user

pytestmark = pytest.mark.usefixtures(frozen.__name__)


def url(name: str, *args) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"opportunities:{name}", args=[getattr(a, "public_id", a) for a in args])


def texts(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in get_messages(response.wsgi_request)]


def make_event(school, title: str, held_on: dt.date, **fields) -> RecruitmentEvent:  # type: ignore[no-untyped-def]
    fields.setdefault("place", "学校体育馆")
    return save_event(actor=system_user(), school=school, title=title, held_on=held_on, **fields)


def meter(student, metric: str) -> int:  # type: ignore[no-untyped-def]
    return next(m["done"] for m in Progress.objects.get(student=student).meters if m["metric"] == metric)


# --- the list ---------------------------------------------------------------------------------------------------


def test_the_list_splits_upcoming_and_past_events(world: World, as_user, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    huaxin = make_employer(world.school, "石家庄华信科技有限公司", credit_code=make_credit_code(1))
    steel = make_employer(world.school, "河北钢铁集团有限公司", credit_code=make_credit_code(2))
    make_event(world.school, "2024届春季校园双选会", dt.date(2024, 3, 23), employers=[huaxin, steel])
    make_event(world.school, "华信科技专场宣讲会", dt.date(2024, 3, 15), kind="presentation", employers=[huaxin])
    make_event(world.school, "秋季网络招聘会", dt.date(2023, 10, 20), kind="online", place="")
    make_event(world.school, "冬季区域招聘会", dt.date(2023, 12, 8), kind="regional")
    make_event(world.other_school, "外校招聘会", dt.date(2024, 3, 20))

    client = as_user(world.helper)
    with django_assert_max_num_queries(12):
        page = client.get(url("events")).content.decode()
    upcoming = page.split('id="upcoming-events"')[1].split("</section>")[0]
    past = page.split('id="past-events"')[1].split("</section>")[0]
    # Upcoming soonest first (today counts as upcoming); past most recent first.
    assert upcoming.index("华信科技专场宣讲会") < upcoming.index("2024届春季校园双选会")
    assert "2 employers" in upcoming and "1 employer<" in upcoming and "Employer presentation" in upcoming
    assert past.index("冬季区域招聘会") < past.index("秋季网络招聘会")
    assert "2023-10-20" in past and "Online recruitment" in past and "Regional job fair" in past
    assert "外校招聘会" not in page
    assert "Add an event" not in page  # a teacher may look, not add


def test_the_list_makes_a_bounded_number_of_queries(world: World, as_user, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    employers = [
        make_employer(world.school, f"河北第{i}号企业", credit_code=make_credit_code(10 + i)) for i in range(3)
    ]
    for i in range(40):
        make_event(
            world.school, f"第{i:02d}场招聘会", dt.date(2023, 1, 1) + dt.timedelta(days=10 * i), employers=employers
        )
    client = as_user(world.office)
    with django_assert_max_num_queries(12):
        page = client.get(url("events")).content.decode()
    assert "Page 1 of 2" in page and "第39场招聘会" in page and "3 employers" in page


# --- create and edit --------------------------------------------------------------------------------------------


def test_a_counsellor_adds_and_edits_an_event(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    huaxin = make_employer(world.school, "石家庄华信科技有限公司", credit_code=make_credit_code(1))
    make_employer(world.other_school, "外校合作企业")
    client = as_user(world.counsellor)
    page = client.get(url("event_create")).content.decode()
    assert "石家庄华信科技有限公司" in page and "外校合作企业" not in page and 'name="school"' not in page
    data = {
        "kind": "campus_fair",
        "title": "2024届春季校园双选会",
        "held_on": "2024-03-23",
        "place": "学校体育馆",
        "employers": [str(huaxin.public_id)],
        "notes": "120家企业参会",
    }
    response = client.post(url("event_create"), data)
    event = RecruitmentEvent.objects.get()
    assert response.status_code == 302 and response["Location"] == url("event", event)
    assert texts(response) == ["The event 2024届春季校园双选会 was added."]
    assert (event.school, event.held_on, event.place, event.created_by) == (
        world.school,
        dt.date(2024, 3, 23),
        "学校体育馆",
        world.counsellor,
    )
    assert list(event.employers.all()) == [huaxin]

    page = client.get(url("event_edit", event)).content.decode()
    assert 'name="version" value="1"' in page and 'value="2024-03-23"' in page
    response = client.post(url("event_edit", event), {**data, "place": "图书馆报告厅", "employers": [], "version": 1})
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.place, event.version, list(event.employers.all())) == ("图书馆报告厅", 2, [])
    stale = client.post(url("event_edit", event), {**data, "version": 1})
    assert "Someone else saved this record after you opened it." in stale.content.decode()
    event.refresh_from_db()
    assert event.place == "图书馆报告厅"


def test_an_event_without_a_title_or_date_is_refused(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.office).post(url("event_create"), {"kind": "online", "title": "", "held_on": ""})
    page = response.content.decode()
    assert response.status_code == 200 and page.count("This field is required.") == 2
    assert not RecruitmentEvent.objects.exists()


@pytest.mark.parametrize("persona", ["helper", "principal"])
def test_staff_without_the_right_may_view_but_not_change(world: World, as_user, persona: str) -> None:  # type: ignore[no-untyped-def]
    event = make_event(world.school, "2024届春季校园双选会", dt.date(2024, 3, 23))
    client = as_user(getattr(world, persona))
    page = client.get(url("event", event)).content.decode()
    assert "2024届春季校园双选会" in page and url("event_edit", event) not in page
    assert client.get(url("event_create")).status_code == 403
    assert (
        client.post(url("event_create"), {"kind": "online", "title": "新活动", "held_on": "2024-04-01"}).status_code
        == 403
    )
    assert client.get(url("event_edit", event)).status_code == 403
    assert RecruitmentEvent.objects.count() == 1


def test_another_school_event_does_not_exist_for_outsiders(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    event = make_event(world.school, "2024届春季校园双选会", dt.date(2024, 3, 9))
    client = as_user(world.outsider)
    assert client.get(url("event", event)).status_code == 404
    assert client.get(url("event_edit", event)).status_code == 404
    assert client.post(url("event_attend", event), {"student": str(world.own.public_id)}).status_code == 404
    assert as_user(world.student_user).get(url("events")).status_code == 403


# --- attendance -------------------------------------------------------------------------------------------------


def test_the_helper_records_that_their_student_came_along(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    event = make_event(world.school, "石家庄春季大型招聘会", dt.date(2024, 3, 9))
    client = as_user(world.helper)
    page = client.get(url("event", event)).content.decode()
    assert "counts as a “recruitment event together” activity" in page
    form = page.split('id="record-attendance"')[1]
    # The helper can record only the students they help.
    assert f'value="{world.own.public_id}">田斌臣 ({world.own.student_number})</option>' in form
    assert "刘洋" not in form and "陈静" not in form
    assert meter(world.own, Metric.EVENT_TOGETHER) == 0

    response = client.post(url("event_attend", event), {"student": str(world.own.public_id), "notes": "投了三份简历"})
    assert response.status_code == 302 and response["Location"] == url("event", event)
    assert texts(response) == [
        "田斌臣's attendance at 石家庄春季大型招聘会 was recorded as a recruitment event together."
    ]
    attendance = EventAttendance.objects.get()
    activity = Activity.objects.get()
    assert (attendance.student, attendance.helper, attendance.activity) == (world.own, world.helper, activity)
    assert (activity.kind, activity.occurred_on, activity.event_name, activity.notes) == (
        ActivityKind.EVENT_TOGETHER,
        dt.date(2024, 3, 9),
        "石家庄春季大型招聘会",
        "投了三份简历",
    )
    assert meter(world.own, Metric.EVENT_TOGETHER) == 1

    page = client.get(url("event", event)).content.decode()
    assert "田斌臣" in page.split('id="attendances"')[1].split("</section>")[0]
    assert "all of them are recorded already" in page
    again = client.post(url("event_attend", event), {"student": str(world.own.public_id)})
    assert again.status_code == 200
    assert "田斌臣&#x27;s attendance at this event is already recorded." in again.content.decode()
    assert EventAttendance.objects.count() == 1 and meter(world.own, Metric.EVENT_TOGETHER) == 1


def test_attendance_is_recorded_from_the_day_of_the_event(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    event = make_event(world.school, "2024届春季校园双选会", dt.date(2024, 3, 23))
    client = as_user(world.helper)
    page = client.get(url("event", event)).content.decode()
    assert "Attendance can be recorded from the day of the event (2024-03-23)." in page
    assert url("event_attend", event) not in page
    response = client.post(url("event_attend", event), {"student": str(world.own.public_id)})
    assert response.status_code == 200
    assert "Attendance is recorded on or after the day of the event (2024-03-23)." in response.content.decode()
    assert not EventAttendance.objects.exists() and not Activity.objects.exists()


def test_only_those_who_log_help_may_record_attendance(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    event = make_event(world.school, "石家庄春季大型招聘会", dt.date(2024, 3, 9))
    # The office may log for every student of its school (not another school's).
    form = as_user(world.office).get(url("event", event)).content.decode().split('id="record-attendance"')[1]
    assert "田斌臣" in form and "刘洋" in form and "陈静" in form and "孙磊" not in form
    # A principal and a counsellor who helps nobody log no help.
    for persona in (world.principal, world.counsellor):
        client = as_user(persona)
        assert "You have no student of this school to record" in client.get(url("event", event)).content.decode()
        assert client.post(url("event_attend", event), {"student": str(world.own.public_id)}).status_code == 403
    # A helper cannot pick a student they do not help.
    response = as_user(world.helper).post(url("event_attend", event), {"student": str(world.classmate.public_id)})
    assert response.status_code == 200 and "Select a valid choice." in response.content.decode()
    assert not EventAttendance.objects.exists()
