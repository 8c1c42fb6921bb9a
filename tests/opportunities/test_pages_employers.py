"""The employer pages: list with search and filters, create and edit through the services (bad credit codes and
duplicates refused with nothing written), the detail page with its positions and conversion, and who may do what."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from bangfu.opportunities.models import Employer
from bangfu.opportunities.services import change_recommendation, recommend
from tests.assistance.work_helpers import frozen
from tests.conftest import TODAY, World
from tests.factories import make_credit_code, make_employer, make_position

pytestmark = pytest.mark.usefixtures(frozen.__name__)

HUAXIN_CODE = make_credit_code(123456789)


def url(name: str, *args) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"opportunities:{name}", args=[getattr(a, "public_id", a) for a in args])


def texts(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in get_messages(response.wsgi_request)]


def form_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "石家庄华信科技有限公司",
        "credit_code": HUAXIN_CODE,
        "industry": "I",
        "employer_type": "private",
        "size": "medium",
        "province": "河北省",
        "city": "石家庄市",
        "is_internship_base": "on",
        "contact_name": "周经理",
        "contact_phone": "0311-86688888",
        "contact_email": "hr@huaxin.example.cn",
        "notes": "每年春季来校宣讲",
    }
    data.update(overrides)
    return data


# --- the list ---------------------------------------------------------------------------------------------------


def test_the_list_shows_the_school_employers_with_their_open_positions(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    huaxin = make_employer(world.school, "石家庄华信科技有限公司", is_internship_base=True)
    make_position(huaxin, "软件测试工程师", deadline=dt.date(2024, 4, 30))
    make_position(huaxin, "运维工程师", deadline=dt.date(2024, 3, 1))  # past its deadline: not open
    make_employer(
        world.school, "河北钢铁集团有限公司", credit_code=make_credit_code(1), employer_type="state_owned", industry="C"
    )
    make_employer(world.other_school, "外校合作企业")

    response = as_user(world.helper).get(url("employers"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 employers found" in page
    assert "石家庄华信科技有限公司" in page and "河北钢铁集团有限公司" in page and "外校合作企业" not in page
    assert "Internship base" in page and "State-owned enterprise" in page
    rows = [row.split("</tr>")[0] for row in page.split("<tr>")[2:]]
    assert "石家庄华信科技有限公司" in rows[1] and f'?employer={huaxin.public_id}">1</a>' in rows[1]
    assert "河北钢铁集团有限公司" in rows[0] and ">0</a>" in rows[0]
    # A teacher may look, not add.
    assert "Add an employer" not in page


def test_search_and_filters(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    make_employer(world.school, "石家庄华信科技有限公司", credit_code=HUAXIN_CODE, is_internship_base=True)
    make_employer(
        world.school, "河北钢铁集团有限公司", credit_code=make_credit_code(1), employer_type="state_owned", industry="C"
    )
    make_employer(
        world.school,
        "保定乐凯新材料股份有限公司",
        credit_code=make_credit_code(2),
        is_work_study_host=True,
        industry="C",
    )
    client = as_user(world.office)

    def found(**params: str) -> list[str]:
        page = client.get(url("employers"), params).content.decode()
        return [
            name
            for name in ("石家庄华信科技有限公司", "河北钢铁集团有限公司", "保定乐凯新材料股份有限公司")
            if name in page
        ]

    assert found(q="钢铁") == ["河北钢铁集团有限公司"]
    assert found(q=HUAXIN_CODE[:10].lower()) == ["石家庄华信科技有限公司"]
    assert found(partner="any") == ["石家庄华信科技有限公司", "保定乐凯新材料股份有限公司"]
    assert found(partner="work_study") == ["保定乐凯新材料股份有限公司"]
    assert found(industry="C") == ["河北钢铁集团有限公司", "保定乐凯新材料股份有限公司"]
    assert found(industry="C", employer_type="state_owned") == ["河北钢铁集团有限公司"]
    # An htmx filter request gets the results only.
    part = client.get(url("employers"), {"q": "乐凯"}, HTTP_HX_REQUEST="true").content.decode()
    assert part.lstrip().startswith('<div id="results">') and "1 employer found" in part


def test_the_list_pages_with_a_bounded_number_of_queries(world: World, as_user, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        employer = make_employer(
            world.school, f"河北第{i:02d}号机械制造有限公司", credit_code=make_credit_code(1000 + i)
        )
        make_position(employer, "数控操作工", deadline=dt.date(2024, 6, 30))
    client = as_user(world.office)
    with django_assert_max_num_queries(12):
        page = client.get(url("employers")).content.decode()
    assert "30 employers found" in page and "Page 1 of 2" in page
    assert "河北第00号机械制造有限公司" in page and "河北第25号机械制造有限公司" not in page
    second = client.get(url("employers"), {"page": 2}).content.decode()
    assert "河北第25号机械制造有限公司" in second


def test_a_student_user_may_not_list_employers(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    assert as_user(world.student_user).get(url("employers")).status_code == 403


# --- create -----------------------------------------------------------------------------------------------------


def test_a_counsellor_adds_an_employer(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.counsellor)
    assert "Add an employer" in client.get(url("employers")).content.decode()
    page = client.get(url("employer_create")).content.decode()
    assert 'name="credit_code"' in page and 'name="school"' not in page  # one school: no choice to make
    response = client.post(url("employer_create"), form_data(credit_code=" " + HUAXIN_CODE.lower() + " "))
    employer = Employer.objects.get()
    assert response.status_code == 302 and response["Location"] == url("employer", employer)
    assert texts(response) == ["石家庄华信科技有限公司 was added."]
    assert (employer.school, employer.credit_code, employer.industry, employer.size) == (
        world.school,
        HUAXIN_CODE,
        "I",
        "medium",
    )
    assert (employer.is_internship_base, employer.is_order_class_partner, employer.created_by) == (
        True,
        False,
        world.counsellor,
    )
    assert (employer.contact_name, employer.contact_email, employer.notes) == (
        "周经理",
        "hr@huaxin.example.cn",
        "每年春季来校宣讲",
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            HUAXIN_CODE[:17] + ("0" if HUAXIN_CODE[17] != "0" else "1"),
            "The credit code&#x27;s check character is wrong",
        ),
        ("91130100ABC", "A unified social credit code has 18 characters"),
    ],
)
def test_a_bad_credit_code_is_refused_on_its_field(world: World, as_user, code: str, message: str) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.office).post(url("employer_create"), form_data(credit_code=code))
    page = response.content.decode()
    assert response.status_code == 200 and message in page
    field = page.split('name="credit_code"')[1].split('name="industry"')[0]
    assert message in field  # shown under the credit-code field
    assert not Employer.objects.exists()


def test_a_duplicate_employer_is_refused(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    make_employer(world.school, "石家庄华信科技有限公司", credit_code=HUAXIN_CODE)
    client = as_user(world.office)
    same_code = client.post(url("employer_create"), form_data(name="华信软件（石家庄）有限公司")).content.decode()
    assert "石家庄华信科技有限公司 already has this credit code." in same_code
    # The same name written with other spaces and brackets is the same employer.
    same_name = client.post(
        url("employer_create"), form_data(name="石家庄 华信科技有限公司", credit_code=make_credit_code(42))
    ).content.decode()
    assert "This employer is already registered as 石家庄华信科技有限公司." in same_name
    assert Employer.objects.count() == 1


def test_a_user_of_several_schools_chooses_the_school(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    from bangfu.organisation.services import grant_role

    grant_role(user=world.counsellor, role="employment_office", unit=world.other_school)
    client = as_user(world.counsellor)
    page = client.get(url("employer_create")).content.decode()
    assert 'name="school"' in page and f'value="{world.other_school.public_id}">OTHER</option>' in page
    response = client.post(url("employer_create"), form_data(school=str(world.other_school.public_id)))
    assert response.status_code == 302
    assert Employer.objects.get().school == world.other_school


# --- edit -------------------------------------------------------------------------------------------------------


def test_editing_keeps_the_version(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    employer = make_employer(world.school, "石家庄华信科技有限公司", credit_code=HUAXIN_CODE)
    client = as_user(world.leader)
    page = client.get(url("employer_edit", employer)).content.decode()
    assert 'name="version" value="1"' in page and 'value="石家庄华信科技有限公司"' in page
    response = client.post(url("employer_edit", employer), form_data(version=1, is_order_class_partner="on"))
    assert response.status_code == 302 and texts(response) == ["The changes were saved."]
    employer.refresh_from_db()
    assert (employer.version, employer.is_order_class_partner, employer.size) == (2, True, "medium")
    # A form opened before that save is stale: refused, nothing changed.
    stale = client.post(url("employer_edit", employer), form_data(version=1, contact_name="王经理"))
    assert stale.status_code == 200
    assert "Someone else saved this record after you opened it." in stale.content.decode()
    employer.refresh_from_db()
    assert (employer.version, employer.contact_name) == (2, "周经理")


# --- detail -----------------------------------------------------------------------------------------------------


def test_the_detail_page_shows_fields_positions_and_conversion(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    huaxin = make_employer(world.school, "石家庄华信科技有限公司", credit_code=HUAXIN_CODE, is_order_class_partner=True)
    tester = make_position(huaxin, "软件测试工程师", deadline=dt.date(2024, 4, 30))
    make_position(huaxin, "Java开发实习生", kind="internship", status="closed")
    rec = recommend(actor=world.helper, student=world.own, position=tester, today=TODAY)
    change_recommendation(actor=world.helper, recommendation=rec, to_status="applied", on=TODAY, today=TODAY)
    # Another employer's recommendation is not counted here.
    other = make_position(make_employer(world.school, "河北钢铁集团有限公司"), "质检员")
    recommend(actor=world.helper, student=world.own, position=other, today=TODAY)

    page = as_user(world.helper).get(url("employer", huaxin)).content.decode()
    assert HUAXIN_CODE in page and "Information transmission, software and IT services" in page
    assert "Order-class partner" in page and "周经理" in page and 'href="tel:0311-86688888"' in page
    assert "软件测试工程师" in page and "Deadline 2024-04-30" in page
    assert "Java开发实习生" in page and "Closed" in page
    conversion = page.split('id="employer-conversion"')[1].split("</section>")[0]
    figures = [cell.split("</dd>")[0] for cell in conversion.split('<dd class="col-5">')[1:]]
    # recommended, acted on, effective, offers, accepted, declined, rate
    assert figures == ["1", "1", "1", "0", "0", "0", "0.0%"]
    # A teacher sees the page but not the buttons that change it.
    assert "Add a position" not in page and url("employer_edit", huaxin) not in page


def test_the_detail_page_without_recommendations(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    huaxin = make_employer(world.school, "石家庄华信科技有限公司")
    page = as_user(world.counsellor).get(url("employer", huaxin)).content.decode()
    assert "No recommendations yet." in page and "No positions yet." in page
    assert url("employer_edit", huaxin) in page and url("position_create", huaxin) in page


# --- who may do what --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["helper", "principal"])
def test_staff_without_the_right_may_view_but_not_change(world: World, as_user, persona: str) -> None:  # type: ignore[no-untyped-def]
    employer = make_employer(world.school, "石家庄华信科技有限公司", credit_code=HUAXIN_CODE)
    client = as_user(getattr(world, persona))
    assert client.get(url("employer", employer)).status_code == 200
    assert client.get(url("employer_create")).status_code == 403
    assert client.post(url("employer_create"), form_data(name="新公司", credit_code="")).status_code == 403
    assert client.get(url("employer_edit", employer)).status_code == 403
    assert client.post(url("employer_edit", employer), form_data(version=1, name="改名")).status_code == 403
    assert Employer.objects.get().name == "石家庄华信科技有限公司" and Employer.objects.count() == 1


def test_another_school_employer_does_not_exist_for_outsiders(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    employer = make_employer(world.school, "石家庄华信科技有限公司")
    client = as_user(world.outsider)
    assert client.get(url("employer", employer)).status_code == 404
    assert client.get(url("employer_edit", employer)).status_code == 404
    assert client.post(url("employer_edit", employer), form_data(version=1)).status_code == 404
    assert "石家庄华信科技有限公司" not in client.get(url("employers")).content.decode()
