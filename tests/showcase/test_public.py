"""The public page of exemplary cases (no login): it prints only what the student consented to show, in both
languages, and a withdrawal takes a case down at once. Acceptance: render the page and search the HTML for
every withheld field."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from bangfu.showcase import services
from bangfu.showcase.models import Case, CaseStatus, CaseType
from bangfu.students import idnumbers
from bangfu.students.models import Student
from tests.conftest import TODAY, World
from tests.factories import make_student
from tests.showcase.helpers import (
    FAMILY_LEDGER,
    FAMILY_STORY,
    FAMILY_STORY_EN,
    PHONE,
    STORY,
    STORY_EN,
    consent,
    install_types,
    nominate,
    png,
    private_student,
    take,
)

S = CaseStatus


@pytest.fixture(autouse=True)
def media_and_clock(settings, tmp_path, time_machine):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    time_machine.move_to(dt.datetime(2024, 3, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)


@pytest.fixture
def types(world: World) -> dict[str, CaseType]:
    return install_types(world)


@pytest.fixture
def student(world: World) -> Student:
    return private_student(world)


def _published(world: World, student: Student, types: dict[str, CaseType], **shown: object) -> Case:
    case = nominate(world, student, types["employment_role_model"], photo=png())
    consent(world, student, **shown)
    return take(world, case, S.PUBLISHED)


def _english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _pages(client: Client, case: Case) -> str:
    """The list and the case's own page, as one HTML text."""
    listing = client.get(reverse("showcase:public_list"))
    detail = client.get(reverse("showcase:public_detail", args=[case.public_id]))
    assert (listing.status_code, detail.status_code) == (200, 200)
    return listing.content.decode() + detail.content.decode()


def _withheld(student: Student) -> dict[str, str]:
    id_number = idnumbers.decrypt(student.id_number_cipher)
    department, major = student.department, student.major
    return {
        "ID number": id_number,
        "ID number masked": student.id_number_masked,
        "ID digits without the check digit": id_number[:17],
        "birth date from the ID": id_number[6:14],
        "phone": PHONE,
        "student number": student.student_number,
        "home address": "赵村乡东街村",
        "family situation in the ledger": FAMILY_LEDGER,
        "family situation in the case": FAMILY_STORY,
        "family situation in English": FAMILY_STORY_EN,
        "full name": "王晓燕",
        "given name": "晓燕",
        "department": department.name,
        "department in English": department.name_en or department.name,
        "major": major.name,
        "graduation year": "class of 2024",
        "photo": "/photo/",
    }


def test_the_public_page_shows_nothing_that_was_not_consented(world: World, types, student: Student) -> None:  # type: ignore[no-untyped-def]
    # Surname and story only: no photo, department, graduation year or family situation.
    case = _published(world, student, types, show_employer=True)
    html = _pages(_english(Client()), case)

    leaked = {label: value for label, value in _withheld(student).items() if value in html}
    assert leaked == {}
    for shown in (
        "Student Wang",
        "From the skills contest to a software-testing job",
        STORY_EN,
        "石家庄华信科技有限公司",
    ):
        assert shown in html
    assert Client().get(reverse("showcase:public_photo", args=[case.public_id])).status_code == 404


def test_what_was_consented_is_shown(world: World, types, student: Student, chinese_default) -> None:  # type: ignore[no-untyped-def]
    """The same search finds the consented fields: the test above could fail."""
    case = _published(
        world,
        student,
        types,
        name_shown="full",
        show_photo=True,
        show_department=True,
        show_graduation_year=True,
        show_family=True,
    )
    html = _pages(Client(), case)  # Chinese, the school's language, for an anonymous reader without a cookie

    for shown in (
        "王晓燕",
        student.department.name,
        student.major.name,
        FAMILY_STORY,
        STORY,
        "从技能大赛走向软件测试岗位",
    ):
        assert shown in html
    assert reverse("showcase:public_photo", args=[case.public_id]) in html
    for never in (PHONE, student.student_number, idnumbers.decrypt(student.id_number_cipher), FAMILY_LEDGER):
        assert never not in html
    photo = Client().get(reverse("showcase:public_photo", args=[case.public_id]))
    assert (photo.status_code, photo["Content-Type"], photo["Cache-Control"].startswith("max-age=0")) == (
        200,
        "image/png",
        True,
    )


def test_unconsented_employer_and_story_are_left_out(world: World, types, student: Student) -> None:  # type: ignore[no-untyped-def]
    case = _published(world, student, types, name_shown="anonymous", show_story=False)
    html = _pages(_english(Client()), case)

    assert "A student" in html
    for withheld in (STORY_EN, STORY, "石家庄华信科技有限公司", "软件测试工程师", "Student Wang"):
        assert withheld not in html


def test_withdrawal_takes_the_case_down_at_once(world: World, types, student: Student) -> None:  # type: ignore[no-untyped-def]
    case = _published(world, student, types, show_photo=True)
    detail = reverse("showcase:public_detail", args=[case.public_id])
    assert Client().get(detail).status_code == 200

    services.withdraw_consent(actor=world.leader, consent=case.consent, today=TODAY)  # type: ignore[arg-type]

    assert Client().get(detail).status_code == 404
    assert Client().get(reverse("showcase:public_photo", args=[case.public_id])).status_code == 404
    listing = Client().get(reverse("showcase:public_list")).content.decode()
    assert str(case.public_id) not in listing
    assert "从技能大赛走向软件测试岗位" not in listing


def test_only_published_cases_are_public(world: World, types, student: Student) -> None:  # type: ignore[no-untyped-def]
    consent(world, student)
    approved = take(world, nominate(world, student, types["employment_role_model"]), S.APPROVED)

    assert Client().get(reverse("showcase:public_detail", args=[approved.public_id])).status_code == 404
    assert "从技能大赛走向软件测试岗位" not in Client().get(reverse("showcase:public_list")).content.decode()


def test_both_languages_and_the_language_switch_work_without_login(
    world: World, types, student: Student, chinese_default
) -> None:  # type: ignore[no-untyped-def]
    case = _published(world, student, types)
    client = Client()
    chinese = client.get(reverse("showcase:public_detail", args=[case.public_id])).content.decode()

    switched = client.post(reverse("switch_language"), {"language": "en", "next": reverse("showcase:public_list")})
    english = client.get(reverse("showcase:public_detail", args=[case.public_id])).content.decode()

    assert "从技能大赛走向软件测试岗位" in chinese and STORY in chinese
    assert switched.status_code == 302 and switched["Location"] == reverse("showcase:public_list")
    assert "From the skills contest to a software-testing job" in english and STORY_EN in english
    assert 'lang="zh-CN"' in chinese and 'lang="en"' in english


def test_the_type_filter_and_a_bad_filter(world: World, types, student: Student) -> None:  # type: ignore[no-untyped-def]
    case = _published(world, student, types)
    client = _english(Client())
    url = reverse("showcase:public_list")

    same = client.get(url, {"type": str(types["employment_role_model"].public_id)}).content.decode()
    other = client.get(url, {"type": str(types["enlisted_with_honour"].public_id)}).content.decode()
    bad = client.get(url, {"type": "not-a-uuid"}).content.decode()

    assert str(case.public_id) in same
    assert str(case.public_id) not in other and "No cases are published yet." in other
    assert str(case.public_id) not in bad


def test_the_public_list_reads_a_bounded_number_of_queries(  # type: ignore[no-untyped-def]
    world: World, types, django_assert_max_num_queries
) -> None:
    for i in range(8):
        student = make_student(world.class1 if i % 2 else world.class2, name=f"李{'明华建国'[i % 4]}{i}")
        by = world.leader if i % 2 else world.other_leader
        case = nominate(world, student, types["self_improvement_star"], by=by, story=f"第{i}个事迹")
        consent(world, student, by=by, show_department=True, show_employer=True)
        take(world, case, S.PUBLISHED)

    with django_assert_max_num_queries(4):
        response = _english(Client()).get(reverse("showcase:public_list"))

    assert response.status_code == 200
    assert response.content.decode().count('class="card h-100"') == 8


def test_staff_pages_still_need_a_login(world: World) -> None:
    for name in ("showcase:list", "showcase:types", "showcase:my"):
        response = Client().get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
