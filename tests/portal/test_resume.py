"""Résumé versions: the student uploads, the helper uploads a revision with comments (a résumé-revision activity
that counts toward the standard), both appear as versions; files are checked by content and downloaded only by the
student and the staff who see them."""

from __future__ import annotations

import datetime as dt
import html
import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bangfu.assistance.models import Activity, ActivityKind, Metric, StudentProgress
from bangfu.assistance.services import record_activity
from bangfu.portal.models import ResumeVersion
from bangfu.portal.services import upload_resume
from tests.assistance.work_helpers import frozen, texts
from tests.conftest import TODAY, World

pytestmark = pytest.mark.usefixtures(frozen.__name__, "media")

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def docx_bytes(parts: tuple[str, ...] = ("[Content_Types].xml", "word/document.xml")) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in parts:
            archive.writestr(part, "<xml/>")
    return buffer.getvalue()


def upload(name: str, content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def _meter(world: World) -> int:
    meters = StudentProgress.objects.get(student=world.own).meters
    return next(m["done"] for m in meters if m["metric"] == Metric.RESUME_REVISION)


def staff_url(world: World) -> str:
    return reverse("portal:staff_resume", args=[world.own.public_id])


# --- The student -------------------------------------------------------------------------------------------------


def test_i_upload_my_resume_and_download_it_again(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    me = as_user(world.student_user)

    response = me.post(reverse("portal:resume"), {"file": upload("田斌臣简历.pdf"), "comment": "第一版"})

    version = ResumeVersion.objects.get()
    assert response["Location"] == reverse("portal:resume")
    assert texts(response) == ["Your résumé was uploaded."]
    assert (version.student, version.uploaded_by, version.comment, version.activity) == (
        world.own,
        world.student_user,
        "第一版",
        None,
    )
    page = me.get(reverse("portal:resume")).content.decode()
    assert 'data-mine="yes"' in page and "Your version" in page and "第一版" in page
    download = me.get(reverse("portal:resume_file", args=[version.public_id]))
    assert b"".join(download.streaming_content) == PDF
    assert "田斌臣简历" in download["Content-Disposition"] or "filename*=" in download["Content-Disposition"]
    assert _meter(world) == 0  # the student's own upload is not help given


def test_a_word_document_is_accepted(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    me = as_user(world.student_user)

    me.post(reverse("portal:resume"), {"file": upload("简历.docx", docx_bytes())})

    assert ResumeVersion.objects.get().file.name.endswith(".docx")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("简历.exe", b"MZ\x90\x00", "A résumé must be a PDF or Word (.docx) file."),
        ("简历.txt", b"hello", "A résumé must be a PDF or Word (.docx) file."),
        ("简历.doc", b"\xd0\xcf\x11\xe0", "A résumé must be a PDF or Word (.docx) file."),
        ("简历.pdf", b"MZ\x90\x00 not a pdf", "The file's content is not a real PDF file."),
        ("简历.docx", PDF, "The file's content is not a real DOCX file."),
        ("简历.docx", docx_bytes(("readme.txt",)), "The file's content is not a real DOCX file."),
        ("简历.docx", b"PK\x03\x04 broken zip", "The file's content is not a real DOCX file."),
    ],
)
def test_a_forbidden_file_is_refused_with_a_message_and_nothing_is_written(  # type: ignore[no-untyped-def]
    world: World, as_user, media, name: str, content: bytes, message: str
) -> None:
    me = as_user(world.student_user)

    response = me.post(reverse("portal:resume"), {"file": upload(name, content)})

    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    assert not ResumeVersion.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*"))


def test_a_file_over_the_limit_is_refused(world: World, as_user, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EVIDENCE_MAX_BYTES = 20
    me = as_user(world.student_user)

    response = me.post(reverse("portal:resume"), {"file": upload("简历.pdf", PDF)})

    assert "a résumé may be at most 20\xa0bytes" in response.content.decode()
    assert not ResumeVersion.objects.exists()


def test_another_students_resume_does_not_exist_for_me(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    theirs = upload_resume(actor=world.leader, student=world.classmate, file=upload("刘洋简历.pdf"), today=TODAY,
                           comment="调整了格式")  # fmt: skip
    me = as_user(world.student_user)

    assert me.get(reverse("portal:resume_file", args=[theirs.public_id])).status_code == 404
    assert "调整了格式" not in me.get(reverse("portal:resume")).content.decode()


# --- The helper --------------------------------------------------------------------------------------------------


def test_the_helpers_revision_is_a_new_version_with_comments_and_counts_toward_the_standard(  # type: ignore[no-untyped-def]
    world: World, as_user
) -> None:
    mine = upload_resume(actor=world.student_user, student=world.own, file=upload("简历.pdf"), today=TODAY)
    helper = as_user(world.helper)
    page = helper.get(staff_url(world)).content.decode()
    assert 'id="revision-form"' in page and "The student's version" in page

    response = helper.post(
        staff_url(world),
        {"file": upload("简历-修改版.pdf"), "comment": "突出了服装设计大赛获奖经历", "revises": str(mine.public_id)},
    )

    assert response["Location"] == staff_url(world)
    revision = ResumeVersion.objects.exclude(pk=mine.pk).get()
    activity = Activity.objects.get(kind=ActivityKind.RESUME_REVISION)
    assert (revision.uploaded_by, revision.revises, revision.activity, revision.comment) == (
        world.helper,
        mine,
        activity,
        "突出了服装设计大赛获奖经历",
    )
    assert (activity.helper, activity.occurred_on, activity.notes, activity.internal) == (
        world.helper,
        TODAY,
        "突出了服装设计大赛获奖经历",
        False,
    )
    assert activity.attachment.name == revision.file.name  # one stored file
    assert _meter(world) == 1

    student = as_user(world.student_user).get(reverse("portal:resume")).content.decode()
    assert "Revised by 郑银乐" in student and "突出了服装设计大赛获奖经历" in student
    assert student.count('data-testid="resume-version"') == 2


def test_a_revision_must_be_a_pdf_as_the_work_ledger_keeps_it_as_evidence(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        upload_resume(
            actor=world.helper, student=world.own, file=upload("简历.docx", docx_bytes()), today=TODAY, comment="改措辞"
        )

    assert refused.value.message_dict == {
        "file": ["Upload the revised résumé as a PDF: the work ledger keeps it as evidence."]
    }
    assert not ResumeVersion.objects.exists() and not Activity.objects.filter(kind="resume_revision").exists()
    assert _meter(world) == 0


def test_a_revision_without_a_comment_is_refused_and_nothing_is_written(  # type: ignore[no-untyped-def]
    world: World, as_user
) -> None:
    response = as_user(world.helper).post(staff_url(world), {"file": upload("简历.pdf"), "comment": ""})

    assert "This field is required." in response.content.decode()
    with pytest.raises(ValidationError) as refused:
        upload_resume(actor=world.helper, student=world.own, file=upload("简历.pdf"), today=TODAY, comment=" ")
    assert refused.value.message_dict == {"comment": ["Say what you revised."]}
    assert not ResumeVersion.objects.exists() and not Activity.objects.filter(kind="resume_revision").exists()


def test_a_revision_of_another_students_version_is_refused(world: World) -> None:
    theirs = upload_resume(
        actor=world.leader, student=world.classmate, file=upload("刘洋.pdf"), today=TODAY, comment="改"
    )

    with pytest.raises(ValidationError) as refused:
        upload_resume(
            actor=world.helper, student=world.own, file=upload("简历.pdf"), today=TODAY, comment="改", revises=theirs
        )

    assert refused.value.message_dict == {"revises": ["Choose a version of this student's résumé."]}
    assert ResumeVersion.objects.count() == 1


def test_who_may_see_and_upload_on_the_helpers_page(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    version = upload_resume(actor=world.student_user, student=world.own, file=upload("简历.pdf"), today=TODAY)
    file_url = reverse("portal:resume_file", args=[version.public_id])
    answers = {}
    for persona in ("counsellor", "outsider", "other_leader", "student_user"):
        client = as_user(getattr(world, persona))
        answers[persona] = (
            client.get(staff_url(world)).status_code,
            client.post(staff_url(world), {"file": upload("x.pdf"), "comment": "改"}).status_code,
            client.get(file_url).status_code,
        )

    assert answers == {
        "counsellor": (200, 403, 200),  # sees the student, does not log help for them
        "outsider": (404, 404, 404),
        "other_leader": (404, 404, 404),
        "student_user": (302, 302, 200),  # their own page is the portal's
    }
    assert ResumeVersion.objects.count() == 1
    with pytest.raises(PermissionDenied):
        upload_resume(actor=world.counsellor, student=world.own, file=upload("x.pdf"), today=TODAY, comment="改")


def test_revisions_logged_on_the_timeline_appear_unless_internal_or_corrected(  # type: ignore[no-untyped-def]
    world: World, as_user
) -> None:
    def revision(notes: str, **kw: object) -> Activity:
        return record_activity(
            actor=world.helper,
            student=world.own,
            kind=ActivityKind.RESUME_REVISION,
            occurred_on=dt.date(2024, 3, 8),
            today=TODAY,
            notes=notes,
            attachment=upload("简历.pdf"),
            **kw,
        )

    shown = revision("修改了求职意向一栏")
    revision("学生自信心不足，需多鼓励", internal=True)
    corrected = revision("初稿意见")
    correction = revision("更正后的修改意见", corrects=corrected)

    page = as_user(world.student_user).get(reverse("portal:resume")).content.decode()

    assert page.count('data-testid="resume-version"') == 2
    assert "修改了求职意向一栏" in page and "更正后的修改意见" in page
    assert reverse("assistance:activity_attachment", args=[world.own.public_id, correction.public_id]) in page
    assert reverse("assistance:activity_attachment", args=[world.own.public_id, shown.public_id]) in page
    assert "学生自信心不足" not in page and "初稿意见" not in page


def test_the_resume_page_reads_a_bounded_number_of_queries(  # type: ignore[no-untyped-def]
    world: World, as_user, django_assert_max_num_queries
) -> None:
    for i in range(4):
        mine = upload_resume(actor=world.student_user, student=world.own, file=upload(f"简历{i}.pdf"), today=TODAY)
        upload_resume(actor=world.helper, student=world.own, file=upload("改.pdf"), today=TODAY, comment=f"第{i}次修改",
                      revises=mine)  # fmt: skip
    me = as_user(world.student_user)

    with django_assert_max_num_queries(10):
        page = me.get(reverse("portal:resume")).content.decode()
    assert page.count('data-testid="resume-version"') == 8
