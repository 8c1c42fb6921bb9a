"""The position pages: the list (open by default, filters, deadline shown), create and edit under an employer, and
the detail page's suggested students with the reasons and a Recommend button that writes the recommendation and
its work-ledger activity."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from bangfu.assistance.models import Activity, ActivityKind
from bangfu.assistance.models import StudentProgress as Progress
from bangfu.assistance.services import save_plan
from bangfu.opportunities.models import Position, Recommendation, RecommendationStatus
from bangfu.organisation.models import OrgUnit, UnitKind
from bangfu.organisation.services import create_unit
from tests.assistance.helpers import ledger_student
from tests.assistance.work_helpers import frozen
from tests.conftest import TODAY, World
from tests.factories import make_credit_code, make_employer, make_position, system_user

pytestmark = pytest.mark.usefixtures(frozen.__name__)


def url(name: str, *args) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"opportunities:{name}", args=[getattr(a, "public_id", a) for a in args])


def texts(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in get_messages(response.wsgi_request)]


def major(world: World, n: int) -> OrgUnit:
    return OrgUnit.objects.get(kind=UnitKind.MAJOR, code=f"M{n}", path__startswith=world.school.path)


def position_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "job",
        "title": "服装设计助理",
        "description": "协助设计师完成打版与面料采购",
        "province": "河北省",
        "city": "保定市",
        "salary_min": "4000",
        "salary_max": "5500",
        "openings": "2",
        "deadline": "2024-05-31",
        "status": "open",
    }
    data.update(overrides)
    return data


@pytest.fixture
def huaxin(world: World):  # type: ignore[no-untyped-def]
    return make_employer(world.school, "石家庄华信科技有限公司", credit_code=make_credit_code(7))


# --- the list ---------------------------------------------------------------------------------------------------


def test_the_list_shows_open_positions_by_default(world: World, huaxin, as_user) -> None:  # type: ignore[no-untyped-def]
    steel = make_employer(world.school, "河北钢铁集团有限公司", credit_code=make_credit_code(8))
    make_position(huaxin, "软件测试工程师", deadline=dt.date(2024, 4, 30), majors=[major(world, 1)])
    make_position(steel, "轧钢操作工", deadline=None, kind="order_class")
    make_position(huaxin, "运维工程师", deadline=dt.date(2024, 3, 14))  # past its deadline
    make_position(steel, "质检员", status="closed")
    make_position(make_employer(world.other_school, "外校合作企业"), "外校岗位")

    client = as_user(world.helper)
    assert client.get(url("index"))["Location"] == url("positions")
    page = client.get(url("positions")).content.decode()
    assert "2 positions found" in page
    assert f'<a class="nav-link" href="{url("positions")}">Opportunities</a>' in page
    # Earliest deadline first, none last; the deadline and the majors wanted are shown.
    assert page.index("软件测试工程师") < page.index("轧钢操作工")
    assert "Deadline 2024-04-30" in page and "No deadline" in page
    assert "专业1" in page
    assert "4000–6000 yuan a month" in page and "Any major" in page and "Order class" in page
    assert "运维工程师" not in page and "质检员" not in page and "外校岗位" not in page

    def titles(**params: str) -> list[str]:
        text = client.get(url("positions"), params).content.decode()
        return [t for t in ("软件测试工程师", "轧钢操作工", "运维工程师", "质检员") if t in text]

    assert titles(status="closed") == ["质检员"]
    assert titles(status="past_deadline") == ["运维工程师"]
    assert titles(status="all") == ["软件测试工程师", "轧钢操作工", "运维工程师", "质检员"]
    assert titles(kind="order_class") == ["轧钢操作工"]
    assert titles(employer=str(steel.public_id), status="all") == ["轧钢操作工", "质检员"]
    # A position that names no major is open to every major.
    assert titles(major=str(major(world, 1).public_id)) == ["软件测试工程师", "轧钢操作工"]
    assert titles(major=str(major(world, 2).public_id)) == ["轧钢操作工"]
    assert titles(q="华信", status="all") == ["软件测试工程师", "运维工程师"]


def test_the_list_makes_a_bounded_number_of_queries(
    world: World, huaxin, as_user, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        make_position(
            huaxin,
            f"数控操作工{i:02d}",
            deadline=dt.date(2024, 6, 1) + dt.timedelta(days=i),
            majors=[major(world, 1 + i % 2)],
        )
    client = as_user(world.office)
    wanted = str(major(world, 1).public_id)
    with django_assert_max_num_queries(14):
        page = client.get(url("positions"), {"major": wanted}).content.decode()
    assert "15 positions found" in page
    with django_assert_max_num_queries(14):
        page = client.get(url("positions")).content.decode()
    assert "30 positions found" in page and "Page 1 of 2" in page and "数控操作工24" in page
    assert "数控操作工25" not in page


# --- create and edit --------------------------------------------------------------------------------------------


def test_a_counsellor_adds_a_position_under_an_employer(world: World, huaxin, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.counsellor)
    page = client.get(url("position_create", huaxin)).content.decode()
    # Majors to choose are the school's; the place starts as the employer's.
    assert f'value="{major(world, 1).public_id}"' in page and f'value="{major(world, 2).public_id}"' in page
    assert 'value="石家庄市"' in page
    response = client.post(url("position_create", huaxin), position_data(majors=[str(major(world, 1).public_id)]))
    position = Position.objects.get()
    assert response.status_code == 302 and response["Location"] == url("position", position)
    assert texts(response) == ["The position 服装设计助理 was added."]
    assert (position.employer, position.title, position.city, position.salary_max, position.openings) == (
        huaxin,
        "服装设计助理",
        "保定市",
        5500,
        2,
    )
    assert (position.deadline, position.created_by) == (dt.date(2024, 5, 31), world.counsellor)
    assert list(position.majors.all()) == [major(world, 1)]


def test_bad_position_input_writes_nothing(world: World, huaxin, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.office)
    response = client.post(url("position_create", huaxin), position_data(salary_min="6000", salary_max="5000"))
    assert response.status_code == 200
    assert "The top of the salary range is below its bottom." in response.content.decode()
    other_dept = OrgUnit.objects.get(kind=UnitKind.DEPARTMENT, path__startswith=world.other_school.path)
    other_major = create_unit(kind=UnitKind.MAJOR, code="OM", name="外校专业", parent=other_dept)
    response = client.post(url("position_create", huaxin), position_data(majors=[str(other_major.public_id)]))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Position.objects.exists()


def test_editing_a_position(world: World, huaxin, as_user) -> None:  # type: ignore[no-untyped-def]
    position = make_position(huaxin, "软件测试工程师", deadline=dt.date(2024, 4, 30), majors=[major(world, 1)])
    client = as_user(world.leader)
    page = client.get(url("position_edit", position)).content.decode()
    assert 'name="version" value="1"' in page and 'value="2024-04-30"' in page
    response = client.post(url("position_edit", position), position_data(version=1, status="filled"))
    assert response.status_code == 302 and texts(response) == ["The changes were saved."]
    position.refresh_from_db()
    assert (position.title, position.status, position.version) == ("服装设计助理", "filled", 2)
    assert list(position.majors.all()) == []  # none chosen: open to every major
    stale = client.post(url("position_edit", position), position_data(version=1, title="旧标题"))
    assert "Someone else saved this record after you opened it." in stale.content.decode()
    position.refresh_from_db()
    assert position.title == "服装设计助理"


@pytest.mark.parametrize("persona", ["helper", "principal"])
def test_staff_without_the_right_may_view_but_not_change(world: World, huaxin, as_user, persona: str) -> None:  # type: ignore[no-untyped-def]
    position = make_position(huaxin, "软件测试工程师")
    client = as_user(getattr(world, persona))
    page = client.get(url("position", position)).content.decode()
    assert "软件测试工程师" in page and url("position_edit", position) not in page
    assert client.get(url("position_create", huaxin)).status_code == 403
    assert client.post(url("position_create", huaxin), position_data()).status_code == 403
    assert client.get(url("position_edit", position)).status_code == 403
    assert client.post(url("position_edit", position), position_data(version=1)).status_code == 403
    assert list(Position.objects.values_list("title", flat=True)) == ["软件测试工程师"]


def test_another_school_position_does_not_exist_for_outsiders(world: World, huaxin, as_user) -> None:  # type: ignore[no-untyped-def]
    position = make_position(huaxin, "软件测试工程师")
    client = as_user(world.outsider)
    assert client.get(url("position", position)).status_code == 404
    assert client.get(url("position_edit", position)).status_code == 404
    assert client.get(url("position_create", huaxin)).status_code == 404
    assert client.post(url("position_recommend", position), {"student": str(world.own.public_id)}).status_code == 404
    assert as_user(world.student_user).get(url("positions")).status_code == 403


# --- suggested students and recommending ------------------------------------------------------------------------


def test_the_helper_recommends_a_suggested_student(world: World, huaxin, as_user) -> None:  # type: ignore[no-untyped-def]
    save_plan(
        actor=system_user(),
        student=world.own,
        expected_version=None,
        today=TODAY,
        direction="job",
        places="石家庄",
        near_home=True,
        salary_expectation=5000,
    )
    position = make_position(huaxin, "软件测试工程师", deadline=dt.date(2024, 3, 20), majors=[major(world, 1)])
    client = as_user(world.helper)
    page = client.get(url("position", position)).content.decode()
    suggested = page.split('id="suggested-students"')[1]
    assert "田斌臣" in suggested
    reasons = [
        r.split("</li>")[0] for r in suggested.split('<ul class="small mb-0 ps-3 bf-reasons">')[1].split("<li>")[1:]
    ]
    assert reasons == [
        "Wants your major (专业1)",
        "In your home city, 石家庄市",
        "Pays up to 6000 yuan, at least what you expect",
        "Closes soon: 2024-03-20",
    ]
    response = client.post(url("position_recommend", position), {"student": str(world.own.public_id)})
    assert response.status_code == 302 and response["Location"] == url("position", position)
    assert texts(response) == ["软件测试工程师 at 石家庄华信科技有限公司 was recommended to 田斌臣."]
    rec = Recommendation.objects.get()
    assert (rec.student, rec.recommended_by, rec.status, rec.fits_student) == (
        world.own,
        world.helper,
        RecommendationStatus.RECOMMENDED,
        True,
    )
    activity = Activity.objects.get(kind=ActivityKind.JOB_RECOMMENDATION)
    assert (activity.student, activity.helper, activity.occurred_on, rec.activity) == (
        world.own,
        world.helper,
        TODAY,
        activity,
    )
    assert Progress.objects.get(student=world.own).last_contact_on == TODAY
    # Once recommended, the student moves from the suggestions to the list of recommendations.
    page = client.get(url("position", position)).content.decode()
    assert "田斌臣" not in page.split('id="suggested-students"')[1]
    assert "田斌臣" in page.split('id="recommendations"')[1].split("</section>")[0]
    again = client.post(url("position_recommend", position), {"student": str(world.own.public_id)})
    assert texts(again) == ["This position has already been recommended to 田斌臣."]
    assert Recommendation.objects.count() == 1


def test_a_helper_is_suggested_only_their_own_students(world: World, huaxin, as_user) -> None:  # type: ignore[no-untyped-def]
    ledger_student(world.class1, name="王芳", helper=world.counsellor)
    position = make_position(huaxin, "软件测试工程师")
    helper_page = as_user(world.helper).get(url("position", position)).content.decode()
    suggested = helper_page.split('id="suggested-students"')[1]
    assert "田斌臣" in suggested and "王芳" not in suggested
    office_page = as_user(world.office).get(url("position", position)).content.decode()
    suggested = office_page.split('id="suggested-students"')[1]
    assert "田斌臣" in suggested and "王芳" in suggested
    # A principal logs no help: nobody to suggest, and recommending is refused.
    principal = as_user(world.principal)
    assert "No student to suggest" in principal.get(url("position", position)).content.decode()
    response = principal.post(url("position_recommend", position), {"student": str(world.own.public_id)})
    assert response.status_code == 403
    # The helper cannot even see a student they do not help.
    response = as_user(world.helper).post(
        url("position_recommend", position), {"student": str(world.classmate.public_id)}
    )
    assert response.status_code == 404
    assert not Recommendation.objects.exists()


def test_a_closed_position_cannot_be_recommended(world: World, huaxin, as_user) -> None:  # type: ignore[no-untyped-def]
    position = make_position(huaxin, "软件测试工程师", deadline=dt.date(2024, 3, 1))
    client = as_user(world.helper)
    page = client.get(url("position", position)).content.decode()
    assert "This position is no longer open, so it cannot be recommended." in page
    assert url("position_recommend", position) not in page
    response = client.post(url("position_recommend", position), {"student": str(world.own.public_id)})
    assert texts(response) == ["This position is no longer open."]
    client.get(url("position", position))  # shows, and so clears, the message
    empty = client.post(url("position_recommend", position), {})
    assert texts(empty) == ["Choose a student to recommend the position to."]
    assert not Recommendation.objects.exists() and not Activity.objects.exists()
