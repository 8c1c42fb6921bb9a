"""The work ledger through the API: logging (JSON or multipart with evidence), reading, editing an open month,
correcting a closed one, and refusing bad input with nothing written. The clock is frozen in every test."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bangfu.assistance.models import Activity, ActivityKind, Metric, StudentProgress
from bangfu.audit.models import AccessAction, AccessLog
from tests.api.work_helpers import PDF, PNG, D, client, log, on, post_form
from tests.conftest import TODAY, World

JOB = {"employer_name": "河北冀之力商贸有限公司", "position_title": "服装设计助理"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _meter(student, metric: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    row = StudentProgress.objects.get(student=student)
    return next(m for m in row.meters if m["metric"] == metric)


def test_a_helper_logs_a_talk_with_json_and_the_meter_moves(world: World) -> None:
    with on(TODAY):
        response = client(world.helper).post(
            f"/students/{world.own.public_id}/activities",
            {"kind": "talk", "occurred_on": "2024-03-14", "notes": "谈心：求职意向为石家庄本地服装企业，情绪稳定。"},
        )

    assert response.status_code == 201
    body = response.json()
    activity = Activity.objects.get()
    assert body["id"] == str(activity.public_id)
    assert body["student"]["name"] == "田斌臣"
    assert body["helper"] == {"id": str(world.helper.public_id), "name": "郑银乐"}
    assert (body["kind"], body["occurred_on"], body["stage"]) == ("talk", "2024-03-14", "job_search")
    assert (body["internal"], body["closed"], body["voided"], body["version"]) == (False, False, False, 1)
    assert body["notes"] == "谈心：求职意向为石家庄本地服装企业，情绪稳定。"
    assert (body["has_attachment"], body["attachment_name"], body["corrects"]) == (False, None, None)
    assert activity.history.get().history_user == world.helper
    assert _meter(world.own, Metric.TALK)["done"] == 1


def test_a_resume_revision_comes_as_a_multipart_form_with_the_resume(world: World, media) -> None:  # type: ignore[no-untyped-def]
    api = client(world.helper)
    resume = SimpleUploadedFile("田斌臣-简历-第二版.pdf", PDF, content_type="application/pdf")

    with on(TODAY):
        response = post_form(
            api,
            f"/students/{world.own.public_id}/activities",
            {"kind": "resume_revision", "occurred_on": "2024-03-12", "notes": "突出实习经历", "attachment": resume},
        )
        download = api.get(f"/activities/{response.json()['id']}/attachment")

    assert response.status_code == 201
    body = response.json()
    assert body["has_attachment"] is True
    assert body["attachment_name"].endswith(".pdf")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert AccessLog.objects.get(action=AccessAction.DOWNLOAD_EVIDENCE).actor == world.helper
    assert _meter(world.own, Metric.RESUME_REVISION)["done"] == 1


def test_a_job_recommendation_in_a_form_carries_its_fields(world: World) -> None:
    with on(TODAY):
        response = post_form(
            client(world.leader),
            f"/students/{world.own.public_id}/activities",
            {"kind": "job_recommendation", "occurred_on": "2024-03-13", "fits_student": "true", "response": "applied"}
            | JOB,
        )

    assert response.status_code == 201
    body = response.json()
    assert (body["employer_name"], body["position_title"]) == (JOB["employer_name"], JOB["position_title"])
    assert (body["fits_student"], body["response"], body["effective"]) == (True, "applied", True)
    assert body["helper"]["name"] == "郑书记"
    assert _meter(world.own, Metric.EFFECTIVE_RECOMMENDATION)["done"] == 1


BAD_INPUT = [
    pytest.param({"kind": "talk", "occurred_on": "2024-03-16"}, None, "occurred_on", id="future-date"),
    pytest.param({"kind": "talk", "occurred_on": "2021-08-31"}, None, "occurred_on", id="before-enrolment"),
    pytest.param({"kind": "event_together", "occurred_on": "2024-03-10"}, None, "event_name", id="event-unnamed"),
    pytest.param({"kind": "resume_revision", "occurred_on": "2024-03-10"}, None, "attachment", id="resume-missing"),
    pytest.param({"kind": "探望", "occurred_on": "2024-03-10"}, None, "kind", id="unknown-kind"),
    pytest.param({"kind": "talk", "occurred_on": "2024-03-10"}, ("简历.exe", b"MZ\x90\x00"), "attachment", id="exe"),
    pytest.param({"kind": "talk", "occurred_on": "2024-03-10"}, ("简历.pdf", PNG), "attachment", id="fake-pdf"),
    pytest.param({"kind": "talk", "occurred_on": "2024-03-10"}, ("大.pdf", PDF + b"0" * 2048), "attachment", id="big"),
]


@pytest.mark.parametrize(("data", "upload", "field"), BAD_INPUT)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_written(  # type: ignore[no-untyped-def]
    world: World, settings, media, data, upload, field
) -> None:
    settings.EVIDENCE_MAX_BYTES = 1024
    before = StudentProgress.objects.get(student=world.own)
    with on(TODAY):
        if upload is None:
            response = client(world.helper).post(f"/students/{world.own.public_id}/activities", data)
        else:
            file = SimpleUploadedFile(upload[0], upload[1])
            response = post_form(
                client(world.helper), f"/students/{world.own.public_id}/activities", data | {"attachment": file}
            )

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    assert response.json()["detail"]
    assert not Activity.objects.exists()
    assert StudentProgress.objects.get(student=world.own).meters == before.meters
    assert not any(p.is_file() for p in media.rglob("*"))


def test_the_too_large_message_names_the_limit(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EVIDENCE_MAX_BYTES = 1024
    big = SimpleUploadedFile("简历.pdf", PDF.ljust(2048, b"0"))

    with on(TODAY):
        response = post_form(
            client(world.helper),
            f"/students/{world.own.public_id}/activities",
            {"kind": "resume_revision", "occurred_on": "2024-03-10", "attachment": big},
        )

    assert response.json()["errors"]["attachment"] == ["The file is 2.0\xa0KB; evidence may be at most 1.0\xa0KB."]


def test_a_body_that_is_not_a_json_object_is_refused(world: World) -> None:
    api = client(world.helper)

    with on(TODAY):
        response = api.client.post(
            f"/api/v1/students/{world.own.public_id}/activities",
            "[1, 2]",
            content_type="application/json",
            headers=api.headers,
        )

    assert response.status_code == 400
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    ("persona", "sees_notes"),
    [
        ("helper", True),
        ("leader", True),
        ("office", True),
        ("principal", True),
        ("counsellor", False),
        ("student_user", False),
    ],
)
def test_internal_notes_only_for_those_who_log_help_or_lead(world: World, persona: str, sees_notes: bool) -> None:  # type: ignore[no-untyped-def]
    note = "心理辅导：近期焦虑，失眠；已联系心理中心预约。"
    with on(TODAY):
        activity = log(
            world.helper,
            world.own,
            ActivityKind.PSYCHOLOGICAL_GUIDANCE,
            D(2024, 3, 11),
            notes=note,
            attachment=SimpleUploadedFile("记录.pdf", PDF),
        )
        api = client(getattr(world, persona))
        listed = api.get(f"/students/{world.own.public_id}/activities").json()["items"][0]
        one = api.get(f"/activities/{activity.public_id}").json()
        download = api.get(f"/activities/{activity.public_id}/attachment")

    assert activity.internal is True  # psychological guidance is internal unless said otherwise
    for body in (listed, one):
        assert body["internal"] is True
        assert body["notes"] == (note if sees_notes else None)
        assert body["has_attachment"] is sees_notes
        assert (body["attachment_name"] is not None) is sees_notes
    assert download.status_code == (200 if sees_notes else 403)
    assert note not in str(listed) or sees_notes


def test_the_student_reads_their_own_ledger_but_not_internal_notes(world: World) -> None:
    with on(TODAY):
        log(world.helper, world.own, ActivityKind.TALK, D(2024, 3, 1), notes="聊了求职计划")
        log(world.helper, world.own, ActivityKind.TALK, D(2024, 3, 2), notes="家庭困难细节", internal=True)
        items = client(world.student_user).get(f"/students/{world.own.public_id}/activities").json()["items"]

    assert [(i["occurred_on"], i["notes"]) for i in items] == [("2024-03-02", None), ("2024-03-01", "聊了求职计划")]


def test_editing_in_an_open_month_with_the_version_read(world: World) -> None:
    activity = log(world.helper, world.own, ActivityKind.TALK, D(2024, 2, 20), today=D(2024, 2, 20))
    api = client(world.helper)

    with on(D(2024, 3, 10)):  # February closes after the 10th of March
        edited = api.patch(f"/activities/{activity.public_id}", {"notes": "补充：已约下周复谈", "version": 1})
        stale = api.patch(f"/activities/{activity.public_id}", {"notes": "旧页面的修改", "version": 1})

    assert edited.status_code == 200
    assert (edited.json()["notes"], edited.json()["version"], edited.json()["closed"]) == (
        "补充：已约下周复谈",
        2,
        False,
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale"
    activity.refresh_from_db()
    assert (activity.notes, activity.version) == ("补充：已约下周复谈", 2)


def test_editing_a_closed_month_is_422_closed_and_nothing_changes(world: World) -> None:
    activity = log(world.helper, world.own, ActivityKind.TALK, D(2024, 2, 20), notes="原记录", today=D(2024, 2, 20))
    api = client(world.helper)

    with on(D(2024, 3, 11)):
        read = api.get(f"/activities/{activity.public_id}")
        response = api.patch(f"/activities/{activity.public_id}", {"notes": "事后修改", "version": 1})
        moved_into = api.patch(
            f"/activities/{log(world.helper, world.own, 'talk', D(2024, 3, 5)).public_id}",
            {"occurred_on": "2024-02-28", "version": 1},
        )

    assert read.json()["closed"] is True
    assert response.status_code == 422
    assert response.json()["code"] == "closed"
    assert "correction" in response.json()["detail"]
    assert moved_into.status_code == 422
    assert moved_into.json()["code"] == "closed"
    activity.refresh_from_db()
    assert (activity.notes, activity.version) == ("原记录", 1)
    assert Activity.objects.filter(occurred_on=D(2024, 2, 28)).count() == 0


def test_a_bad_edit_is_refused_and_nothing_changes(world: World) -> None:
    activity = log(world.helper, world.own, ActivityKind.TALK, D(2024, 3, 5))

    with on(TODAY):
        future = client(world.helper).patch(
            f"/activities/{activity.public_id}", {"occurred_on": "2024-03-20", "version": 1}
        )
        null = client(world.helper).patch(f"/activities/{activity.public_id}", {"notes": None, "version": 1})

    assert future.status_code == 422
    assert list(future.json()["errors"]) == ["occurred_on"]
    assert null.status_code == 422
    activity.refresh_from_db()
    assert (activity.occurred_on, activity.version) == (D(2024, 3, 5), 1)


def test_a_correction_replaces_an_activity_of_a_closed_month(world: World) -> None:
    original = log(world.helper, world.own, ActivityKind.TALK, D(2024, 1, 20), notes="记错了日期", today=D(2024, 1, 20))
    api = client(world.helper)

    with on(TODAY):
        response = api.post(
            f"/activities/{original.public_id}/correct",
            {"kind": "talk", "occurred_on": "2024-01-21", "notes": "更正：谈话在1月21日", "version": 1},
        )
        again = api.post(
            f"/activities/{original.public_id}/correct", {"kind": "talk", "occurred_on": "2024-01-22", "version": 1}
        )
        listed = api.get(f"/students/{world.own.public_id}/activities").json()
        everything = api.get(f"/students/{world.own.public_id}/activities", include_corrected="true").json()
        old = api.get(f"/activities/{original.public_id}").json()

    assert response.status_code == 201
    body = response.json()
    assert (body["corrects"], body["occurred_on"], body["notes"]) == (
        str(original.public_id),
        "2024-01-21",
        "更正：谈话在1月21日",
    )
    assert again.status_code == 422
    assert [i["id"] for i in listed["items"]] == [body["id"]]
    assert {i["id"] for i in everything["items"]} == {body["id"], str(original.public_id)}
    assert (old["voided"], old["corrected_by"]) == (True, body["id"])
    assert _meter(world.own, Metric.TALK)["done"] == 1
    assert Activity.objects.count() == 2


def test_a_correction_from_a_stale_read_is_409_and_nothing_is_written(world: World) -> None:
    original = log(world.helper, world.own, ActivityKind.TALK, D(2024, 3, 1))
    api = client(world.helper)

    with on(TODAY):
        api.patch(f"/activities/{original.public_id}", {"notes": "先改了一次", "version": 1})
        response = api.post(
            f"/activities/{original.public_id}/correct", {"kind": "check_in", "occurred_on": "2024-03-01", "version": 1}
        )

    assert response.status_code == 409
    assert Activity.objects.count() == 1
    original.refresh_from_db()
    assert original.voided is False


def test_a_correction_keeps_the_resume_unless_told_otherwise(world: World) -> None:
    with on(TODAY):
        original = log(
            world.helper,
            world.own,
            ActivityKind.RESUME_REVISION,
            D(2024, 3, 4),
            attachment=SimpleUploadedFile("简历.pdf", PDF),
        )
        api = client(world.helper)
        dropped = api.post(
            f"/activities/{original.public_id}/correct",
            {"kind": "resume_revision", "occurred_on": "2024-03-05", "version": 1, "keep_attachment": False},
        )
        kept = api.post(
            f"/activities/{original.public_id}/correct",
            {"kind": "resume_revision", "occurred_on": "2024-03-05", "version": 1},
        )

    assert dropped.status_code == 422
    assert list(dropped.json()["errors"]) == ["attachment"]
    assert kept.status_code == 201
    correction = Activity.objects.get(public_id=kept.json()["id"])
    assert correction.attachment.read() == PDF
    assert correction.attachment.name != original.attachment.name


def test_the_list_filters_by_kind_stage_and_dates_and_pages(world: World) -> None:
    log(world.helper, world.own, ActivityKind.TALK, D(2023, 3, 8), today=TODAY)  # study stage
    log(world.helper, world.own, ActivityKind.TALK, D(2023, 10, 8), today=TODAY)
    log(
        world.helper, world.own, ActivityKind.EVENT_TOGETHER, D(2023, 11, 2), today=TODAY, event_name="石家庄秋季招聘会"
    )
    log(world.helper, world.own, ActivityKind.TALK, D(2024, 3, 1), today=TODAY)
    api = client(world.helper)
    path = f"/students/{world.own.public_id}/activities"

    def dates(**params: str) -> list[str]:
        return [i["occurred_on"] for i in api.get(path, **params).json()["items"]]

    with on(TODAY):
        assert dates() == ["2024-03-01", "2023-11-02", "2023-10-08", "2023-03-08"]
        assert dates(kind="talk") == ["2024-03-01", "2023-10-08", "2023-03-08"]
        assert dates(stage="study") == ["2023-03-08"]
        assert dates(since="2023-10-08", until="2023-11-30") == ["2023-11-02", "2023-10-08"]
        assert dates(page_size="2", page="2") == ["2023-10-08", "2023-03-08"]
        assert api.get(path, page_size="2").json()["count"] == 4
        assert api.get(path, kind="探望").status_code == 422


def test_listing_costs_the_same_queries_whatever_the_page_size(world: World) -> None:
    for day in range(1, 13):
        log(world.helper, world.own, ActivityKind.TALK, D(2024, 3, day), today=TODAY, internal=day % 2 == 0)
    first = Activity.objects.order_by("pk").first()
    with on(TODAY):
        client(world.helper).post(
            f"/activities/{first.public_id}/correct", {"kind": "check_in", "occurred_on": "2024-03-01", "version": 1}
        )
    api = client(world.leader)
    path = f"/students/{world.own.public_id}/activities"

    with on(TODAY):
        api.get(path)  # the token's first use is recorded once
        with CaptureQueriesContext(connection) as small:
            assert len(api.get(path, page_size="2", include_corrected="true").json()["items"]) == 2
        with CaptureQueriesContext(connection) as large:
            assert len(api.get(path, page_size="13", include_corrected="true").json()["items"]) == 13

    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


def test_the_openapi_document_offers_json_or_a_form_with_a_file() -> None:
    from bangfu.api.api import api

    schema = api.get_openapi_schema()
    create = schema["paths"]["/api/v1/students/{student_id}/activities"]["post"]["requestBody"]["content"]
    correct = schema["paths"]["/api/v1/activities/{activity_id}/correct"]["post"]["requestBody"]["content"]

    for content in (create, correct):
        assert set(content) == {"application/json", "multipart/form-data"}
        assert content["multipart/form-data"]["schema"]["properties"]["attachment"]["anyOf"][0]["format"] == "binary"
    assert create["application/json"]["schema"] == {"$ref": "#/components/schemas/ActivityIn"}
    assert "version" in schema["components"]["schemas"]["CorrectionIn"]["properties"]
    out = schema["components"]["schemas"]["ActivityOut"]["properties"]
    assert not {"pk", "student_id", "helper_id", "attachment"} & set(out)
