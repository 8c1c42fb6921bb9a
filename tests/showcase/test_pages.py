"""The staff's exemplary-case pages (list, nominate, approve, publish, unpublish, edit), a student's consents
(record, withdraw, the signed form), the student's own page and the office's types; who may see and do what."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from bangfu.audit.models import AccessAction, AccessLog
from bangfu.showcase.models import Case, CaseStatus, CaseType, Consent
from tests.conftest import TODAY, World
from tests.factories import make_student
from tests.showcase.helpers import STORY, consent, install_types, nominate, pdf, png, take

S = CaseStatus


@pytest.fixture(autouse=True)
def media_and_clock(settings, tmp_path, time_machine):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    time_machine.move_to(dt.datetime(2024, 3, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)


@pytest.fixture
def types(world: World) -> dict[str, CaseType]:
    return install_types(world)


def url(name: str, *args: object) -> str:
    return reverse(f"showcase:{name}", args=args)


def text(response) -> str:  # type: ignore[no-untyped-def]
    """The page's visible text, whitespace collapsed (for exact phrases)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def _case_form(types: dict[str, CaseType], **extra: object) -> dict[str, object]:
    return {
        "case_type": str(types["self_improvement_star"].public_id),
        "title": "自强不息的田斌臣",
        "title_en": "Self-reliance",
        "story": STORY,
        "employer": "石家庄华信科技有限公司",
        "position": "软件测试工程师",
        "comment": "三次参加技能大赛",
        **extra,
    }


# --- The list ------------------------------------------------------------------------------------------------


def test_the_list_shows_the_cases_in_scope_with_counts(
    world: World, types, as_user, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    own = nominate(world, world.own, types["self_improvement_star"], by=world.helper, title="自强之星田斌臣")
    take(
        world,
        nominate(world, world.dept2_student, types["employment_role_model"], by=world.other_leader, title="陈静签约"),
        S.APPROVED,
    )
    for i in range(5):
        nominate(world, make_student(world.class1, name=f"张{i}号"), types["employment_role_model"], title=f"案例{i}")

    client = as_user(world.leader)
    with django_assert_max_num_queries(14):
        response = client.get(url("list"))
    office_page = as_user(world.office).get(url("list"), {"status": "approved"})

    assert response.status_code == 200
    page = text(response)
    assert "自强之星田斌臣" in page and "案例4" in page and "陈静签约" not in page  # dept2 is not the leader's
    assert "6 cases" in page
    assert re.search(r'data-count="nominated">6<', response.content.decode())
    assert "陈静签约" in text(office_page) and "自强之星田斌臣" not in text(office_page)
    assert str(own.public_id) in response.content.decode()


def test_students_are_refused_the_staff_list(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    assert as_user(world.student_user).get(url("list")).status_code == 403


# --- Nominating ----------------------------------------------------------------------------------------------


def test_a_helper_nominates_from_the_students_page(world: World, types, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.helper)
    student_page = client.get(url("student", world.own.public_id))
    form = client.get(url("nominate", world.own.public_id))
    response = client.post(url("nominate", world.own.public_id), _case_form(types, photo=png()))

    case = Case.objects.get()
    assert url("nominate", world.own.public_id) in student_page.content.decode()
    assert form.status_code == 200 and "Self-improvement star" in form.content.decode()
    assert response.status_code == 302 and response["Location"] == url("detail", case.public_id)
    assert (case.student, case.nominated_by, case.status, case.title, case.employer) == (
        world.own,
        world.helper,
        S.NOMINATED,
        "自强不息的田斌臣",
        "石家庄华信科技有限公司",
    )
    assert case.photo.name.endswith(".png")
    assert case.steps.get().comment == "三次参加技能大赛"
    photo = client.get(url("photo", case.public_id))
    assert (photo.status_code, photo["Content-Type"]) == (200, "image/png")


def test_a_bad_nomination_is_shown_and_nothing_is_written(world: World, types, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.helper).post(
        url("nominate", world.own.public_id), _case_form(types, story="", photo=pdf("照片.pdf"))
    )

    assert response.status_code == 200
    assert "This field is required." in text(response)
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("persona", "student", "status"),
    [
        ("principal", "own", 403),  # sees the student, keeps no plan
        ("helper", "classmate", 404),  # does not see the classmate
        ("outsider", "own", 404),
        ("other_leader", "own", 404),
        ("student_user", "own", 403),  # the case pages are for staff
    ],
)
def test_nominating_out_of_scope(world: World, types, as_user, persona: str, student: str, status: int) -> None:  # type: ignore[no-untyped-def]
    target = getattr(world, student).public_id
    client = as_user(getattr(world, persona))
    assert client.get(url("nominate", target)).status_code == status
    assert client.post(url("nominate", target), _case_form(types)).status_code == status
    assert not Case.objects.exists()


# --- The workflow --------------------------------------------------------------------------------------------


def test_the_office_approves_and_publishes_from_the_case_page(world: World, types, as_user) -> None:  # type: ignore[no-untyped-def]
    case = nominate(world, world.own, types["self_improvement_star"], by=world.helper)
    consent(world, world.own, by=world.helper)
    office = as_user(world.office)

    before = office.get(url("detail", case.public_id)).content.decode()
    approved = office.post(url("approve", case.public_id), {"version": 1, "comment": "同意"})
    published = office.post(url("publish", case.public_id), {"version": 2, "comment": ""})
    after = office.get(url("detail", case.public_id))

    assert 'id="form-approve"' in before and 'id="form-publish"' not in before
    assert approved.status_code == published.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.approved_by, case.published_on) == (S.PUBLISHED, world.office, TODAY)
    assert "The case is on the public page." in text(after)
    assert url("public_detail", case.public_id) in after.content.decode()
    assert 'id="form-unpublish"' in after.content.decode()


def test_the_nominator_and_other_roles_see_no_approval_and_are_refused(world: World, types, as_user) -> None:  # type: ignore[no-untyped-def]
    case = nominate(world, world.own, types["self_improvement_star"], by=world.helper)

    helper_page = as_user(world.helper).get(url("detail", case.public_id)).content.decode()
    by_leader = as_user(world.leader).post(url("approve", case.public_id), {"version": 1})
    by_outsider = as_user(world.outsider).post(url("approve", case.public_id), {"version": 1})

    assert 'id="form-approve"' not in helper_page and 'id="edit-link"' in helper_page
    assert by_leader.status_code == 403
    assert by_outsider.status_code == 404
    assert Case.objects.get().status == S.NOMINATED


def test_publishing_without_consent_shows_why_and_changes_nothing(world: World, types, as_user) -> None:  # type: ignore[no-untyped-def]
    case = take(world, nominate(world, world.own, types["self_improvement_star"], by=world.helper), S.APPROVED)

    response = as_user(world.office).post(url("publish", case.public_id), {"version": 2})

    assert response.status_code == 200
    page = text(response)
    assert "The student has not consented to publication: record the student's consent first." in page
    assert "The student has not consented to publication. The case cannot be published" in page
    assert Case.objects.get().status == S.APPROVED


def test_unpublishing_needs_a_reason(world: World, types, as_user) -> None:  # type: ignore[no-untyped-def]
    consent(world, world.own)
    case = take(world, nominate(world, world.own, types["self_improvement_star"], by=world.helper), S.PUBLISHED)
    office = as_user(world.office)

    silent = office.post(url("unpublish", case.public_id), {"version": 3, "comment": ""})
    done = office.post(url("unpublish", case.public_id), {"version": 3, "comment": "学生要求更新照片"})

    assert "Say why the case is taken off the public page." in text(silent)
    assert done.status_code == 302
    assert Case.objects.get().status == S.UNPUBLISHED


def test_a_stale_form_is_refused_with_the_reason(world: World, types, as_user) -> None:  # type: ignore[no-untyped-def]
    case = nominate(world, world.own, types["self_improvement_star"], by=world.helper)
    response = as_user(world.office).post(url("approve", case.public_id), {"version": 9})

    assert "Someone else saved this record after you opened it." in text(response)
    assert Case.objects.get().status == S.NOMINATED


def test_editing_an_approved_case_sends_it_back(world: World, types, as_user) -> None:  # type: ignore[no-untyped-def]
    case = take(world, nominate(world, world.own, types["self_improvement_star"], by=world.helper), S.APPROVED)
    client = as_user(world.helper)

    form = client.get(url("edit", case.public_id))
    response = client.post(url("edit", case.public_id), {**_case_form(types, title="改过的标题"), "version": 2})

    assert "Saving a change sends the case back to the employment office for approval." in text(form)
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.title, case.status, case.approved_by) == ("改过的标题", S.NOMINATED, None)
    assert as_user(world.principal).get(url("edit", case.public_id)).status_code == 403


# --- Consent -----------------------------------------------------------------------------------------------------


def test_recording_a_consent_with_the_signed_form(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.helper)
    response = client.post(
        url("record_consent", world.own.public_id),
        {
            "name_shown": "surname",
            "shown": ["show_story", "show_employer"],
            "given_on": "2024-03-14",
            "evidence": pdf(),
            "note": "学生本人签字",
        },
    )

    consent_row = Consent.objects.get()
    assert response.status_code == 302 and response["Location"] == url("student", world.own.public_id)
    assert (consent_row.name_shown, consent_row.show_story, consent_row.show_employer, consent_row.show_family) == (
        "surname",
        True,
        True,
        False,
    )
    assert (consent_row.given_on, consent_row.recorded_by, consent_row.note) == (
        dt.date(2024, 3, 14),
        world.helper,
        "学生本人签字",
    )
    page = text(client.get(url("student", world.own.public_id)))
    assert "In force" in page and "May show: employer and position, story" in page

    download = client.get(url("consent_evidence", consent_row.public_id))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    log = AccessLog.objects.get()
    assert (log.actor, log.action, log.student, log.fields) == (
        world.helper,
        AccessAction.DOWNLOAD_EVIDENCE,
        world.own,
        "case_consent",
    )


def test_a_consent_in_the_future_is_refused(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.helper).post(
        url("record_consent", world.own.public_id), {"name_shown": "full", "given_on": "2024-03-16"}
    )
    assert "A consent cannot be given in the future." in text(response)
    assert not Consent.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("principal", 403), ("outsider", 404), ("student_user", 403)])
def test_who_may_not_record_a_consent(world: World, as_user, persona: str, status: int) -> None:  # type: ignore[no-untyped-def]
    response = as_user(getattr(world, persona)).post(
        url("record_consent", world.own.public_id), {"name_shown": "full", "given_on": "2024-03-14"}
    )
    assert response.status_code == status
    assert not Consent.objects.exists()


def test_the_student_withdraws_on_their_own_page_and_the_case_comes_down(world: World, types, as_user) -> None:  # type: ignore[no-untyped-def]
    given = consent(world, world.own)
    case = take(world, nominate(world, world.own, types["self_improvement_star"], by=world.helper), S.PUBLISHED)
    client = as_user(world.student_user)

    mine = client.get(url("my"))
    response = client.post(url("withdraw_consent", given.public_id), {"version": given.version, "note": "不想公开"})
    after = client.get(url("my"))

    assert url("withdraw_consent", given.public_id) in mine.content.decode()
    assert url("public_detail", case.public_id) in mine.content.decode()
    assert response.status_code == 302 and response["Location"] == url("my")
    assert "The consent was withdrawn. 1 case was taken off the public page." in text(after)
    assert Case.objects.get().status == S.UNPUBLISHED
    assert client.get(url("public_detail", case.public_id)).status_code == 404


def test_staff_withdraw_from_the_students_page(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    given = consent(world, world.own)
    response = as_user(world.counsellor).post(url("withdraw_consent", given.public_id), {"version": 1})

    assert response["Location"] == url("student", world.own.public_id)
    given.refresh_from_db()
    assert given.withdrawn_by == world.counsellor


@pytest.mark.parametrize(("persona", "status"), [("principal", 403), ("other_leader", 404), ("outsider", 404)])
def test_who_may_not_withdraw(world: World, as_user, persona: str, status: int) -> None:  # type: ignore[no-untyped-def]
    given = consent(world, world.own)
    response = as_user(getattr(world, persona)).post(url("withdraw_consent", given.public_id), {"version": 1})
    assert response.status_code == status
    given.refresh_from_db()
    assert given.is_active


def test_the_own_page_is_for_students_only(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    page = as_user(world.student_user).get(url("my"))
    assert "You have not given consent; nothing about you is published." in text(page)
    assert as_user(world.office).get(url("my")).status_code == 404


# --- Types ---------------------------------------------------------------------------------------------------


def test_the_office_installs_and_edits_types(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.office)
    installed = client.post(url("install_defaults"), {"school": str(world.school.public_id)})
    listing = client.get(url("types"))
    star = CaseType.objects.get(code="self_improvement_star")
    edited = client.post(
        url("type_edit", star.public_id),
        {"code": "self_improvement_star", "name": "自强之星", "name_en": "Star of self-reliance", "version": 1},
    )

    assert installed.status_code == 302
    assert CaseType.objects.filter(school=world.school).count() == 6
    assert "Enlisted with honour" in text(listing)
    assert edited.status_code == 302
    star.refresh_from_db()
    assert (star.name_en, star.is_active, star.version) == ("Star of self-reliance", False, 2)


@pytest.mark.parametrize(
    ("persona", "listing", "editing"),
    [("leader", 403, 403), ("principal", 403, 403), ("student_user", 403, 404), ("outsider", 200, 404)],
)
def test_types_are_the_offices(world: World, types, as_user, persona: str, listing: int, editing: int) -> None:  # type: ignore[no-untyped-def]
    client = as_user(getattr(world, persona))
    assert client.get(url("types")).status_code == listing
    assert client.get(url("type_edit", types["self_improvement_star"].public_id)).status_code == editing
