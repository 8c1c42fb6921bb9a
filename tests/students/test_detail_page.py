"""The student page: profile, ID reveal, sensitive fields with the access log, evidence, helper, history."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bangfu.assistance.services import hand_over
from bangfu.audit.models import AccessAction, AccessLog
from bangfu.organisation.models import Role
from bangfu.students import idnumbers
from bangfu.students.models import LedgerCategory
from bangfu.students.services import attach_category_evidence, leave_ledger, update_ledger_entry, update_student
from tests.conftest import TODAY
from tests.factories import make_id_number, make_staff, system_user
from tests.students.pages import PDF, ledger_student, url


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def logs(action: str, **kw) -> list[AccessLog]:
    return list(AccessLog.objects.filter(action=action, **kw))


# --- profile and ID number -------------------------------------------------------------------------------


def test_page_shows_profile_with_masked_id_number(world, as_user):
    response = as_user(world.leader).get(url("detail", world.own))
    html = response.content.decode()
    assert response.status_code == 200
    full = idnumbers.decrypt(world.own.id_number_cipher)
    assert world.own.id_number_masked in html
    assert full not in html
    assert "田斌臣" in html and world.own.student_number in html


def test_reveal_button_only_for_roles_that_may_reveal(world, as_user):
    reveal = url("reveal_id", world.own)
    assert reveal in as_user(world.leader).get(url("detail", world.own)).content.decode()
    assert reveal in as_user(world.office).get(url("detail", world.own)).content.decode()
    for user in (world.counsellor, world.helper, world.principal):
        assert reveal not in as_user(user).get(url("detail", world.own)).content.decode()


def test_reveal_without_javascript_shows_the_number_and_logs_it(world, as_user):
    response = as_user(world.office).post(url("reveal_id", world.own))
    full = idnumbers.decrypt(world.own.id_number_cipher)
    assert response.status_code == 200
    html = response.content.decode()
    assert full in html and "<html" in html
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    (row,) = logs(AccessAction.REVEAL_ID)
    assert row.actor == world.office and row.student == world.own and row.fields == "id_number"


def test_reveal_with_htmx_swaps_in_only_the_number(world, as_user):
    response = as_user(world.leader).post(url("reveal_id", world.own), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.strip().startswith('<span id="id-number">')
    assert idnumbers.decrypt(world.own.id_number_cipher) in html
    assert "<html" not in html
    assert len(logs(AccessAction.REVEAL_ID)) == 1


@pytest.mark.parametrize("persona", ["counsellor", "helper", "principal"])
def test_reveal_is_forbidden_to_roles_without_the_right_and_not_logged(world, as_user, persona):
    response = as_user(getattr(world, persona)).post(url("reveal_id", world.own))
    assert response.status_code == 403
    assert logs(AccessAction.REVEAL_ID) == []


def test_reveal_is_post_only(world, as_user):
    assert as_user(world.office).get(url("reveal_id", world.own)).status_code == 405
    assert logs(AccessAction.REVEAL_ID) == []


# --- sensitive fields ------------------------------------------------------------------------------------


def test_family_situation_is_shown_to_the_helper_and_each_view_is_logged(world, as_user):
    client = as_user(world.helper)
    html = client.get(url("detail", world.own)).content.decode()
    assert "祖父母抚养" in html
    client.get(url("detail", world.own))
    rows = logs(AccessAction.VIEW_SENSITIVE, student=world.own)
    assert len(rows) == 2
    assert {r.actor for r in rows} == {world.helper}
    assert rows[0].fields == "family_situation"


def test_disability_level_is_listed_in_the_log(world, as_user):
    student = ledger_student(world.class1, name="钱芳", categories=["disabled"])
    entry = student.ledger_entries.get()
    update_ledger_entry(actor=system_user(), entry=entry, expected_version=None, disability_level="2")
    as_user(world.counsellor).get(url("detail", student))
    (row,) = logs(AccessAction.VIEW_SENSITIVE, student=student)
    assert row.fields == "disability_level"


def test_no_sensitive_log_when_the_page_shows_nothing_sensitive(world, as_user):
    as_user(world.office).get(url("detail", world.classmate))  # not in the ledger
    assert logs(AccessAction.VIEW_SENSITIVE) == []


# --- evidence --------------------------------------------------------------------------------------------


def _with_evidence(world) -> LedgerCategory:
    entry = world.own.ledger_entries.get()
    return attach_category_evidence(
        actor=system_user(),
        entry=entry,
        category="orphan",
        evidence=SimpleUploadedFile("孤儿证明.pdf", PDF, content_type="application/pdf"),
        verified_on=dt.date(2023, 9, 10),
        today=TODAY,
    )


def test_evidence_download_is_an_attachment_and_logged(world, as_user, media):
    row = _with_evidence(world)
    response = as_user(world.helper).get(url("evidence", world.own, row.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == PDF
    (log,) = logs(AccessAction.DOWNLOAD_EVIDENCE)
    assert log.actor == world.helper and log.student == world.own and log.fields == "orphan"


def test_page_links_the_evidence_and_shows_the_verification_date(world, as_user, media):
    row = _with_evidence(world)
    html = as_user(world.leader).get(url("detail", world.own)).content.decode()
    assert url("evidence", world.own, row.pk) in html
    assert "2023-09-10" in html


def test_evidence_of_another_student_is_not_found(world, as_user, media):
    row = _with_evidence(world)
    other = ledger_student(world.class1, name="钱芳")
    assert as_user(world.office).get(url("evidence", other, row.pk)).status_code == 404
    assert logs(AccessAction.DOWNLOAD_EVIDENCE) == []


def test_category_without_evidence_is_not_found(world, as_user, media):
    row = world.own.ledger_entries.get().categories.get(category="poverty_alleviated")
    assert as_user(world.office).get(url("evidence", world.own, row.pk)).status_code == 404


def test_student_cannot_download_their_evidence_here(world, as_user, media):
    row = _with_evidence(world)
    assert as_user(world.student_user).get(url("evidence", world.own, row.pk)).status_code == 403
    assert logs(AccessAction.DOWNLOAD_EVIDENCE) == []


def test_outsider_gets_404_for_evidence(world, as_user, media):
    row = _with_evidence(world)
    assert as_user(world.outsider).get(url("evidence", world.own, row.pk)).status_code == 404


# --- helper and hand-over note ---------------------------------------------------------------------------

NOTE = "奶奶身体不好，学生周末要回家照顾；优先推荐石家庄附近的岗位。"


@pytest.fixture
def handed_over(world):
    new_helper = make_staff("teacher_new", Role.TEACHER, world.dept1, full_name="孙老师")
    hand_over(
        actor=system_user(),
        student=world.own,
        new_helper=new_helper,
        on=dt.date(2023, 9, 1),
        note=NOTE,
        today=TODAY,
    )
    return new_helper


def test_new_helper_and_leaders_see_the_hand_over_note(world, as_user, handed_over):
    for user in (handed_over, world.leader, world.office, world.principal):
        html = as_user(user).get(url("detail", world.own)).content.decode()
        assert NOTE in html, user
        assert "孙老师" in html


def test_others_do_not_see_the_hand_over_note(world, as_user, handed_over):
    html = as_user(world.counsellor).get(url("detail", world.own)).content.decode()
    assert "孙老师" in html
    assert NOTE not in html


def test_history_lists_helpers_with_their_periods(world, as_user, handed_over):
    html = as_user(world.leader).get(url("detail", world.own)).content.decode()
    assert "2021-11-01" in html and "2023-09-01" in html
    assert "郑银乐" in html and "孙老师" in html


def test_ledger_student_without_helper_is_flagged(world, as_user):
    student = ledger_student(world.class1, name="钱芳")
    html = as_user(world.office).get(url("detail", student)).content.decode()
    assert "No helper" in html


# --- history ---------------------------------------------------------------------------------------------


def test_history_shows_ledger_joins_and_leaves_with_who(world, as_user):
    entry = world.own.ledger_entries.get()
    leave_ledger(
        actor=world.leader,
        entry=entry,
        left_on=dt.date(2024, 3, 1),
        reason="已签约就业：石家庄某服装公司",
        expected_version=None,
        today=TODAY,
    )
    html = as_user(world.office).get(url("detail", world.own)).content.decode()
    assert "入学普查：脱贫家庭，由祖父母抚养" in html
    assert "已签约就业：石家庄某服装公司" in html
    assert "2024-03-01" in html and "郑书记" in html


def test_history_shows_who_changed_which_profile_fields(world, as_user):
    update_student(actor=world.leader, student=world.own, expected_version=world.own.version, phone="13812345678")
    response = as_user(world.office).get(url("detail", world.own))
    (latest, created) = response.context["profile_changes"][:2]
    assert latest.by == world.leader and [str(f) for f in latest.fields] == ["phone"]
    assert created.created
    html = response.content.decode()
    assert "郑书记" in html
    assert "13812345678" in html  # the profile shows it; the history names only the field


def test_history_names_a_changed_id_number_without_showing_it(world, as_user):
    new_number = make_id_number(born=dt.date(2003, 1, 2), seq=777)
    update_student(actor=world.office, student=world.own, expected_version=None, id_number=new_number)
    response = as_user(world.office).get(url("detail", world.own))
    assert [str(f) for f in response.context["profile_changes"][0].fields] == ["ID number"]
    assert new_number not in response.content.decode()


def test_page_queries_are_bounded(world, as_user):
    for i in range(8):
        update_student(actor=world.office, student=world.own, expected_version=None, phone=f"1380000000{i}")
    client = as_user(world.leader)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url("detail", world.own)).status_code == 200
    assert len(ctx.captured_queries) <= 25


def test_helper_actions_link_to_the_assistance_pages_for_assigners_only(world, as_user):
    html = as_user(world.leader).get(url("detail", world.own)).content.decode()
    assert reverse("assistance:hand_over", args=[world.own.public_id]) in html
    html = as_user(world.leader).get(url("detail", world.classmate)).content.decode()
    assert reverse("assistance:assign", args=[world.classmate.public_id]) in html
    html = as_user(world.counsellor).get(url("detail", world.own)).content.decode()
    assert reverse("assistance:hand_over", args=[world.own.public_id]) not in html
