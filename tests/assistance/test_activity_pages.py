"""The full activity form, editing an open month, corrections of a closed month, attachments; nothing written on
bad input."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bangfu.assistance.models import Activity, ActivityKind, Metric, Response
from bangfu.assistance.models import StudentProgress as Progress
from bangfu.assistance.services import record_activity
from bangfu.audit.models import AccessLog
from tests.assistance.helpers import english
from tests.assistance.work_helpers import HTMX, PDF, frozen, helped_student, media, texts, url
from tests.conftest import TODAY, World

pytestmark = pytest.mark.usefixtures(frozen.__name__, english.__name__, media.__name__)

D = dt.date


def done(student, metric: str) -> int:  # type: ignore[no-untyped-def]
    return next(m["done"] for m in Progress.objects.get(student=student).meters if m["metric"] == metric)


def logged(world: World, kind: str, day: dt.date, **details) -> Activity:  # type: ignore[no-untyped-def]
    return record_activity(actor=world.helper, student=world.own, kind=kind, occurred_on=day, today=TODAY, **details)


# --- the form ------------------------------------------------------------------------------------------------


def test_the_form_shows_the_fields_of_the_chosen_kind(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.helper)
    page = client.get(url("activity_new", world.own)).content.decode()
    assert 'name="kind"' in page and 'name="occurred_on"' in page and 'value="2024-03-15"' in page
    assert 'name="employer_name"' not in page and 'name="event_name"' not in page
    page = client.get(url("activity_new", world.own), {"kind": "job_recommendation"}).content.decode()
    for name in ("employer_name", "position_title", "fits_student", "response"):
        assert f'name="{name}"' in page
    # htmx swaps only the fields, keeping what was typed.
    part = client.get(
        url("activity_new", world.own), {"kind": "event_together", "notes": "一起去招聘会"}, **HTMX
    ).content.decode()
    assert part.lstrip().startswith('<div id="activity-fields">')
    assert 'name="event_name"' in part and "一起去招聘会" in part and 'name="kind"' not in part


def test_picking_a_kind_without_javascript_reloads_the_form_and_saves_nothing(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.helper).post(
        url("activity_new", world.own), {"kind": "resume_revision", "occurred_on": "2024-03-10", "pick_kind": "1"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Revised résumé" in page and 'value="2024-03-10"' in page
    assert "This field is required" not in page
    assert not Activity.objects.exists()


def test_an_event_together_is_logged_with_its_event(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.helper).post(
        url("activity_new", world.own),
        {
            "kind": "event_together",
            "occurred_on": "2024-03-09",
            "event_name": "石家庄春季大型招聘会",
            "notes": "投了三份",
        },
    )
    assert response.status_code == 302 and response["Location"] == url("timeline", world.own)
    assert texts(response) == ["Recruitment event together on 2024-03-09 recorded for 田斌臣."]
    event = Activity.objects.get()
    assert (event.event_name, event.notes, event.internal) == ("石家庄春季大型招聘会", "投了三份", False)
    assert done(world.own, Metric.EVENT_TOGETHER) == 1


def test_an_effective_job_recommendation_counts(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    as_user(world.helper).post(
        url("activity_new", world.own),
        {
            "kind": "job_recommendation",
            "occurred_on": "2024-03-12",
            "employer_name": "河北冀之力商贸有限公司",
            "position_title": "服装设计助理",
            "fits_student": "on",
            "response": Response.APPLIED,
        },
    )
    rec = Activity.objects.get()
    assert rec.effective and (rec.employer_name, rec.position_title) == ("河北冀之力商贸有限公司", "服装设计助理")
    assert done(world.own, Metric.EFFECTIVE_RECOMMENDATION) == 1


def test_psychological_guidance_is_internal_by_default(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    page = as_user(world.helper).get(url("activity_new", world.own), {"kind": "psychological_guidance"})
    assert page.context["form"]["internal"].value() is True


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "talk", "occurred_on": "2024-03-16"}, "occurred_on", "The date cannot be in the future."),
        (
            {"kind": "talk", "occurred_on": "2021-08-31"},
            "occurred_on",
            "The date cannot be before the student's enrolment (2021-09-01).",
        ),
        (
            {"kind": "event_together", "occurred_on": "2024-03-01"},
            "event_name",
            "This kind of activity needs this field.",
        ),
        (
            {"kind": "job_recommendation", "occurred_on": "2024-03-01", "employer_name": "某公司"},
            "position_title",
            "This kind of activity needs this field.",
        ),
        ({"kind": "resume_revision", "occurred_on": "2024-03-01"}, "attachment", "Attach the revised résumé."),
    ],
)
def test_bad_input_shows_the_services_message_and_writes_nothing(world: World, as_user, data, field, message) -> None:  # type: ignore[no-untyped-def]
    response = as_user(world.helper).post(url("activity_new", world.own), data)
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert not Activity.objects.exists()


def test_a_resume_revision_keeps_the_file_and_who_downloads_it_is_logged(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.helper)
    client.post(
        url("activity_new", world.own),
        {"kind": "resume_revision", "occurred_on": "2024-03-11", "attachment": SimpleUploadedFile("简历v3.pdf", PDF)},
    )
    revision = Activity.objects.get()
    assert revision.attachment.name.endswith(".pdf")
    assert done(world.own, Metric.RESUME_REVISION) == 1
    response = client.get(url("activity_attachment", world.own, revision))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert AccessLog.objects.filter(actor=world.helper, student=world.own, action="download_evidence").count() == 1
    # Outside the scope the file does not exist.
    assert as_user(world.outsider).get(url("activity_attachment", world.own, revision)).status_code == 404


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("简历.pdf", PDF + b"0" * 2048), "evidence may be at most 1.0"),
        (SimpleUploadedFile("简历.docx", b"PK\x03\x04 word"), "Evidence must be a PDF, JPEG or PNG file."),
        (SimpleUploadedFile("简历.exe", b"MZ\x90\x00"), "Evidence must be a PDF, JPEG or PNG file."),
        (SimpleUploadedFile("简历.pdf", b"MZ\x90\x00 not a pdf"), "The file's content is not a real PDF file."),
    ],
)
def test_an_attachment_too_large_or_of_a_forbidden_type_is_refused(
    world: World, as_user, settings, media, upload, message
) -> None:  # type: ignore[no-untyped-def]
    settings.EVIDENCE_MAX_BYTES = 1024
    response = as_user(world.helper).post(
        url("activity_new", world.own), {"kind": "resume_revision", "occurred_on": "2024-03-11", "attachment": upload}
    )
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors["attachment"])
    assert not Activity.objects.exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


@pytest.mark.parametrize("page", ["activity_new"])
@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("helper", "classmate", 404),
        ("outsider", "own", 404),
        ("other_leader", "own", 404),
        ("counsellor", "own", 403),
        ("principal", "own", 403),
        ("student_user", "own", 403),
        ("leader", "own", 200),
        ("office", "own", 200),
    ],
)
def test_who_reaches_the_activity_form(world: World, as_user, page, who, target, status) -> None:  # type: ignore[no-untyped-def]
    client = as_user(getattr(world, who))
    student = getattr(world, target)
    assert client.get(url(page, student)).status_code == status
    response = client.post(url(page, student), {"kind": "talk", "occurred_on": "2024-03-15"})
    assert response.status_code == (302 if status == 200 else status)
    assert Activity.objects.count() == (1 if status == 200 else 0)


# --- editing and correcting ------------------------------------------------------------------------------------


def test_an_open_month_is_edited_with_its_version(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    talk = logged(world, ActivityKind.TALK, D(2024, 3, 4), notes="谈实习")
    client = as_user(world.helper)
    page = client.get(url("activity_edit", world.own, talk)).content.decode()
    assert "谈实习" in page and 'name="version" value="1"' in page and 'name="kind"' not in page
    response = client.post(
        url("activity_edit", world.own, talk), {"occurred_on": "2024-03-05", "notes": "谈实习与简历", "version": 1}
    )
    assert response.status_code == 302
    talk.refresh_from_db()
    assert (talk.occurred_on, talk.notes, talk.version) == (D(2024, 3, 5), "谈实习与简历", 2)
    # A second tab still holding version 1 is refused.
    response = client.post(
        url("activity_edit", world.own, talk), {"occurred_on": "2024-03-05", "notes": "旧", "version": 1}
    )
    assert "Someone else saved this record after you opened it." in response.content.decode()
    talk.refresh_from_db()
    assert talk.notes == "谈实习与简历"


def test_a_closed_month_cannot_be_edited_and_points_to_a_correction(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    talk = logged(world, ActivityKind.TALK, D(2024, 2, 20), notes="寒假谈话")  # February closed on 10 March
    client = as_user(world.helper)
    page = client.get(url("activity_edit", world.own, talk)).content.decode()
    assert "That month is closed: its activities can no longer be edited. Record a correction instead." in page
    assert url("activity_correct", world.own, talk) in page
    assert 'name="notes"' not in page
    response = client.post(
        url("activity_edit", world.own, talk), {"occurred_on": "2024-02-20", "notes": "改", "version": 1}
    )
    assert response.status_code == 200 and url("activity_correct", world.own, talk) in response.content.decode()
    talk.refresh_from_db()
    assert (talk.notes, talk.version) == ("寒假谈话", 1)


def test_moving_an_activity_into_a_closed_month_is_refused(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    talk = logged(world, ActivityKind.TALK, D(2024, 3, 4))
    response = as_user(world.helper).post(
        url("activity_edit", world.own, talk), {"occurred_on": "2024-02-28", "notes": "", "version": 1}
    )
    assert "That month is closed" in response.content.decode()
    talk.refresh_from_db()
    assert talk.occurred_on == D(2024, 3, 4)


def test_a_correction_is_prefilled_and_replaces_the_original(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    talk = logged(world, ActivityKind.TALK, D(2024, 2, 20), notes="寒假谈话")
    client = as_user(world.helper)
    form = client.get(url("activity_correct", world.own, talk)).context["form"]
    assert (form["kind"].value(), str(form["occurred_on"].value()), form["notes"].value()) == (
        "talk",
        "2024-02-20",
        "寒假谈话",
    )
    response = client.post(
        url("activity_correct", world.own, talk),
        {"kind": "check_in", "occurred_on": "2024-02-20", "notes": "其实是电话联系"},
    )
    assert response.status_code == 302
    talk.refresh_from_db()
    correction = Activity.objects.get(corrects=talk)
    assert talk.voided and (correction.kind, correction.notes) == ("check_in", "其实是电话联系")
    assert done(world.own, Metric.TALK) == 0
    # A voided record is neither edited nor corrected twice.
    assert client.get(url("activity_edit", world.own, talk)).status_code == 302
    response = client.post(url("activity_correct", world.own, talk), {"kind": "talk", "occurred_on": "2024-02-20"})
    assert response.status_code == 302 and "This activity has already been corrected." in texts(response)
    assert Activity.objects.count() == 2


def test_a_correction_keeps_the_originals_file_unless_a_new_one_is_given(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    revision = logged(
        world, ActivityKind.RESUME_REVISION, D(2024, 2, 5), attachment=SimpleUploadedFile("简历v1.pdf", PDF)
    )
    response = as_user(world.helper).post(
        url("activity_correct", world.own, revision),
        {"kind": "resume_revision", "occurred_on": "2024-02-06", "notes": "日期记错了"},
    )
    assert response.status_code == 302
    correction = Activity.objects.get(corrects=revision)
    assert correction.attachment and correction.attachment.name != revision.attachment.name
    with correction.attachment.open("rb") as f:
        assert f.read() == PDF
    assert done(world.own, Metric.RESUME_REVISION) == 1


def test_another_students_activity_is_not_found(world: World, as_user) -> None:  # type: ignore[no-untyped-def]
    other = helped_student(world.class1, world.helper, name="王芳")
    talk = logged(world, ActivityKind.TALK, D(2024, 3, 4))
    client = as_user(world.helper)
    assert client.get(url("activity_edit", other, talk)).status_code == 404
    assert client.get(url("activity_correct", other, talk)).status_code == 404
    # The counsellor sees the student but may not edit the helper's work.
    assert as_user(world.counsellor).get(url("activity_edit", world.own, talk)).status_code == 403
