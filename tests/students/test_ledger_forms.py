"""Joining, editing and leaving the ledger, and category evidence, through the pages."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bangfu.audit.models import AccessAction, AccessLog
from bangfu.students.models import LedgerCategory, LedgerEntry
from bangfu.students.services import update_ledger_entry
from tests.factories import system_user
from tests.students.pages import PDF, url


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def open_entry(student) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(student=student, left_on__isnull=True).first()


# --- joining ---------------------------------------------------------------------------------------------


def test_counsellor_adds_a_student_to_the_ledger(world, as_user):
    response = as_user(world.counsellor).post(
        url("ledger_join", world.classmate),
        {
            "joined_on": "2023-10-09",
            "reason": "学期复核：父亲工伤致残，家庭收入骤降",
            "categories": ["disabled_parent", "school_identified"],
            "hardship_level": "hardship",
            "family_situation": "父亲工伤致残，母亲务农。",
            "intends_to_work": "on",
            "source": "review",
        },
    )
    assert response.status_code == 302 and response.url == url("detail", world.classmate)
    entry = open_entry(world.classmate)
    assert entry.joined_by == world.counsellor and entry.source == "review"
    assert sorted(c.category for c in entry.categories.all()) == ["disabled_parent", "school_identified"]


def test_join_without_categories_or_reason_is_refused(world, as_user):
    client = as_user(world.counsellor)
    response = client.post(url("ledger_join", world.classmate), {"joined_on": "2023-10-09", "reason": "复核"})
    assert response.status_code == 200
    assert response.context["form"].errors["categories"]
    response = client.post(
        url("ledger_join", world.classmate), {"joined_on": "2023-10-09", "reason": " ", "categories": ["rural"]}
    )
    assert response.context["form"].errors["reason"]
    assert open_entry(world.classmate) is None


def test_join_twice_is_refused_with_a_message(world, as_user):
    response = as_user(world.counsellor).post(
        url("ledger_join", world.own), {"joined_on": "2023-10-09", "reason": "复核", "categories": ["rural"]}
    )
    assert "already in the ledger" in response.content.decode()
    assert LedgerEntry.objects.filter(student=world.own).count() == 1


def test_join_form_page_works_without_javascript(world, as_user):
    response = as_user(world.counsellor).get(url("ledger_join", world.classmate))
    assert response.status_code == 200
    assert f'action="{url("ledger_join", world.classmate)}"' in response.content.decode()


# --- editing ---------------------------------------------------------------------------------------------


def _edit(entry, **changes) -> dict:
    data = {
        "categories": ["poverty_alleviated", "orphan"],
        "hardship_level": "special",
        "disability_level": "",
        "family_situation": entry.family_situation,
        "intends_to_work": "on",
        "source": "survey",
        "version": entry.version,
    }
    data.update(changes)
    return data


def test_edit_changes_categories(world, as_user):
    entry = open_entry(world.own)
    response = as_user(world.counsellor).post(
        url("ledger_edit", world.own), _edit(entry, categories=["orphan", "student_loan"])
    )
    assert response.status_code == 302
    assert sorted(c.category for c in entry.categories.all()) == ["orphan", "student_loan"]


def test_stale_ledger_edit_is_refused_and_keeps_the_input(world, as_user):
    entry = open_entry(world.own)
    data = _edit(entry, family_situation="祖父去年去世，现由祖母一人抚养。")
    update_ledger_entry(actor=system_user(), entry=entry, expected_version=None, hardship_level="hardship")
    response = as_user(world.counsellor).post(url("ledger_edit", world.own), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved this record" in html
    assert "祖父去年去世" in html
    entry.refresh_from_db()
    assert entry.hardship_level == "hardship" and "祖父去年去世" not in entry.family_situation


def test_disability_level_without_the_category_is_refused(world, as_user):
    entry = open_entry(world.own)
    response = as_user(world.counsellor).post(url("ledger_edit", world.own), _edit(entry, disability_level="2"))
    assert response.context["form"].errors["disability_level"]
    entry.refresh_from_db()
    assert entry.disability_level == ""


def test_opening_the_edit_form_is_a_sensitive_view(world, as_user):
    as_user(world.counsellor).get(url("ledger_edit", world.own))
    assert AccessLog.objects.filter(action=AccessAction.VIEW_SENSITIVE, actor=world.counsellor).count() == 1


def test_edit_or_leave_of_a_student_not_in_the_ledger_says_so(world, as_user):
    response = as_user(world.counsellor).get(url("ledger_leave", world.classmate), follow=True)
    assert "is not in the ledger" in response.content.decode()


# --- leaving ---------------------------------------------------------------------------------------------


def test_leaving_the_ledger_records_date_reason_and_who(world, as_user):
    entry = open_entry(world.own)
    response = as_user(world.leader).post(
        url("ledger_leave", world.own),
        {"left_on": "2024-03-01", "reason": "家庭经济状况好转，经复核退出", "version": entry.version},
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.left_on == dt.date(2024, 3, 1)
    assert entry.leave_reason == "家庭经济状况好转，经复核退出" and entry.left_by == world.leader


def test_leaving_without_a_reason_is_refused_and_nothing_written(world, as_user):
    entry = open_entry(world.own)
    response = as_user(world.leader).post(
        url("ledger_leave", world.own), {"left_on": "2024-03-01", "reason": "  ", "version": entry.version}
    )
    assert response.status_code == 200
    assert "Leaving the ledger needs a reason." in response.context["form"].errors["reason"]
    entry.refresh_from_db()
    assert entry.left_on is None and entry.version == 1


def test_leaving_with_a_stale_version_is_refused(world, as_user):
    entry = open_entry(world.own)
    update_ledger_entry(actor=system_user(), entry=entry, expected_version=None, hardship_level="general")
    response = as_user(world.leader).post(
        url("ledger_leave", world.own), {"left_on": "2024-03-01", "reason": "已就业", "version": 1}
    )
    assert "Someone else saved this record" in response.content.decode()
    entry.refresh_from_db()
    assert entry.left_on is None


def test_leaving_before_joining_is_refused(world, as_user):
    entry = open_entry(world.own)
    response = as_user(world.leader).post(
        url("ledger_leave", world.own), {"left_on": "2020-01-01", "reason": "已就业", "version": entry.version}
    )
    assert response.context["form"].errors["left_on"]


@pytest.mark.parametrize("name", ["ledger_join", "ledger_edit", "ledger_leave"])
@pytest.mark.parametrize("persona", ["helper", "principal"])
def test_roles_without_ledger_rights_get_403(world, as_user, name, persona):
    client = as_user(getattr(world, persona))
    assert client.get(url(name, world.own)).status_code == 403
    assert client.post(url(name, world.own), {"reason": "x", "left_on": "2024-03-01", "version": 1}).status_code == 403
    assert open_entry(world.own).left_on is None


# --- evidence --------------------------------------------------------------------------------------------


def _orphan_row(world) -> LedgerCategory:
    return open_entry(world.own).categories.get(category="orphan")


def test_upload_evidence_and_verification_date(world, as_user, media):
    row = _orphan_row(world)
    response = as_user(world.counsellor).post(
        url("evidence_upload", world.own, row.pk),
        {
            "evidence": SimpleUploadedFile("孤儿证.pdf", PDF, content_type="application/pdf"),
            "verified_on": "2023-09-10",
        },
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.evidence and row.verified_on == dt.date(2023, 9, 10)


def test_too_large_evidence_is_refused(world, as_user, media, settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    row = _orphan_row(world)
    big = PDF + b"0" * 2048
    response = as_user(world.counsellor).post(
        url("evidence_upload", world.own, row.pk), {"evidence": SimpleUploadedFile("证明.pdf", big)}
    )
    assert response.status_code == 200
    assert any("at most" in e for e in response.context["form"].errors["evidence"])
    row.refresh_from_db()
    assert not row.evidence
    assert not any(media.rglob("*.pdf"))


@pytest.mark.parametrize(
    ("name", "content"),
    [("证明.exe", b"MZ\x90\x00"), ("证明.pdf", b"<html>not a pdf</html>"), ("证明.png", PDF)],
)
def test_wrong_type_evidence_is_refused(world, as_user, media, name, content):
    row = _orphan_row(world)
    response = as_user(world.counsellor).post(
        url("evidence_upload", world.own, row.pk), {"evidence": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["evidence"]
    row.refresh_from_db()
    assert not row.evidence


def test_empty_evidence_form_asks_for_something(world, as_user, media):
    row = _orphan_row(world)
    response = as_user(world.counsellor).post(url("evidence_upload", world.own, row.pk), {})
    assert response.context["form"].non_field_errors()


def test_future_verification_date_is_refused(world, as_user, media):
    row = _orphan_row(world)
    response = as_user(world.counsellor).post(url("evidence_upload", world.own, row.pk), {"verified_on": "2999-01-01"})
    assert response.context["form"].errors["verified_on"]


def test_helper_cannot_upload_evidence(world, as_user, media):
    row = _orphan_row(world)
    response = as_user(world.helper).post(
        url("evidence_upload", world.own, row.pk), {"evidence": SimpleUploadedFile("孤儿证.pdf", PDF)}
    )
    assert response.status_code == 403
