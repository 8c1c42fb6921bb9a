"""The tracks API: track types, a student's enrolments (join, record the next milestone, leave), the counts per
track of a unit; the same rules and scoping as the pages."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bangfu.tracks.models import MilestoneRecord, TrackEnrolment, TrackType
from bangfu.tracks.services import install_default_tracks
from tests.conftest import World

D = dt.date


@pytest.fixture(autouse=True)
def clock(time_machine):  # type: ignore[no-untyped-def]
    time_machine.move_to(dt.datetime(2024, 3, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)


@pytest.fixture
def tracks(world: World) -> dict[str, TrackType]:
    return {t.code: t for t in install_default_tracks(actor=world.office, school=world.school)}


def test_track_types_of_the_callers_school(world: World, tracks: dict[str, TrackType], api) -> None:
    install_default_tracks(actor=world.outsider, school=world.other_school)
    response = api(world.helper).get("/tracks/types")
    assert response.status_code == 200
    body = response.json()
    assert [t["code"] for t in body] == [
        "contract_escort",
        "public_exam",
        "grassroots",
        "further_study",
        "army",
        "entrepreneurship",
    ]
    exam = body[1]
    assert (exam["id"], exam["name"], exam["name_en"], exam["school"]["code"]) == (
        str(tracks["public_exam"].public_id),
        "考公考编",
        "Public-service exam preparation",
        "HEBUST",
    )
    assert exam["milestones"][3] == {
        "code": "admitted",
        "label": "录用",
        "label_en": "Admitted",
        "final": True,
        "outcome": "success",
    }
    assert [p["code"] for p in body[2]["programmes"]] == [
        "western",
        "three_supports",
        "special_post_teacher",
        "village_official",
    ]
    assert len(api(world.outsider).get("/tracks/types").json()) == 6  # the other school's own six
    assert api(world.outsider).get("/tracks/types", school=str(world.school.public_id)).json() == []
    assert api(world.student_user).get("/tracks/types").json() == []
    assert api(None).get("/tracks/types").status_code == 401


def test_join_record_and_leave(world: World, tracks: dict[str, TrackType], api) -> None:
    client = api(world.helper)
    path = f"/students/{world.own.public_id}/tracks"
    response = client.post(path, {"track": str(tracks["public_exam"].public_id), "joined_on": "2024-01-08"})
    assert response.status_code == 201, response.json()
    joined = response.json()
    assert (joined["status"], joined["current_milestone"], joined["next_milestones"], joined["version"]) == (
        "open",
        "",
        ["registered"],
        1,
    )
    assert joined["student"]["name"] == "田斌臣"
    enrolment = f"/tracks/enrolments/{joined['id']}"
    response = client.post(
        f"{enrolment}/milestones",
        {"milestone": "registered", "reached_on": "2024-01-10", "note": "国考报名", "version": 1},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["current_milestone"], body["current_reached_on"], body["next_milestones"], body["version"]) == (
        "registered",
        "2024-01-10",
        ["written_exam", "not_admitted"],
        2,
    )
    assert body["records"] == [
        {
            "milestone": "registered",
            "label": "Registered",
            "reached_on": "2024-01-10",
            "note": "国考报名",
            "recorded_by": {"id": str(world.helper.public_id), "name": "郑银乐"},
        }
    ]
    # Skipping: 422 with the reason on the field, nothing written.
    response = client.post(
        f"{enrolment}/milestones", {"milestone": "interview", "reached_on": "2024-02-01", "version": 2}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "milestone": [
            "Milestones are recorded in order, without skipping: next comes “Written exam taken”, “Not admitted”."
        ]
    }
    # A stale version: 409.
    response = client.post(
        f"{enrolment}/milestones", {"milestone": "written_exam", "reached_on": "2024-02-01", "version": 1}
    )
    assert (response.status_code, response.json()["code"]) == (409, "stale")
    assert MilestoneRecord.objects.count() == 1
    # A second track at the same time; the programme is required where the track has programmes.
    response = client.post(path, {"track": str(tracks["further_study"].public_id), "joined_on": "2024-02-01"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"programme": ["Choose the programme the student joins through."]}
    response = client.post(
        path, {"track": str(tracks["further_study"].public_id), "joined_on": "2024-02-01", "programme": "upgrade"}
    )
    assert response.status_code == 201
    listed = client.get(path).json()
    assert sorted(e["track"]["code"] for e in listed) == ["further_study", "public_exam"]
    # Leaving.
    response = client.post(f"{enrolment}/leave", {"left_on": "2024-03-01", "reason": "已签约，放弃笔试", "version": 2})
    assert response.status_code == 200
    left = response.json()
    assert (left["status"], left["left_on"], left["left_reason"], left["next_milestones"]) == (
        "left",
        "2024-03-01",
        "已签约，放弃笔试",
        [],
    )
    response = client.post(
        f"{enrolment}/milestones", {"milestone": "written_exam", "reached_on": "2024-03-02", "version": 3}
    )
    assert (response.status_code, response.json()["code"]) == (422, "closed")


def test_a_final_milestone_closes_the_enrolment(world: World, tracks: dict[str, TrackType], api) -> None:
    client = api(world.counsellor)
    joined = client.post(
        f"/students/{world.own.public_id}/tracks",
        {"track": str(tracks["grassroots"].public_id), "joined_on": "2024-01-08", "programme": "three_supports"},
    ).json()
    enrolment = f"/tracks/enrolments/{joined['id']}/milestones"
    client.post(enrolment, {"milestone": "applied", "reached_on": "2024-01-09", "version": 1})
    response = client.post(enrolment, {"milestone": "selected", "reached_on": "2024-03-01", "version": 2})
    assert response.json()["next_milestones"] == ["serving", "not_selected"]
    response = client.post(enrolment, {"milestone": "serving", "reached_on": "2024-03-14", "version": 3})
    body = response.json()
    assert (body["status"], body["left_on"], body["programme"], body["next_milestones"]) == (
        "succeeded",
        "2024-03-14",
        "three_supports",
        [],
    )


def test_unknown_tracks_and_bad_bodies_are_422(world: World, tracks: dict[str, TrackType], api) -> None:
    theirs = install_default_tracks(actor=world.outsider, school=world.other_school)[0]
    client = api(world.helper)
    path = f"/students/{world.own.public_id}/tracks"
    response = client.post(path, {"track": str(theirs.public_id), "joined_on": "2024-01-08"})
    assert (response.status_code, response.json()["errors"]) == (
        422,
        {"track": ["The student's school has no such track."]},
    )
    response = client.post(path, {"track": str(tracks["army"].public_id), "joined_on": "2024-03-16"})
    assert response.json()["errors"] == {"joined_on": ["The date cannot be in the future."]}
    assert client.post(path, {"track": "army", "joined_on": "2024-01-08"}).status_code == 422
    assert not TrackEnrolment.objects.exists()


@pytest.mark.parametrize(
    ("who", "student", "status"),
    [
        ("principal", "own", 403),
        ("student_user", "own", 403),
        ("helper", "classmate", 404),
        ("other_leader", "own", 404),
        ("outsider", "own", 404),
    ],
)
def test_who_may_join_and_record(
    world: World, tracks: dict[str, TrackType], api, who: str, student: str, status: int
) -> None:
    target = getattr(world, student)
    helper = api(world.office)
    joined = helper.post(
        f"/students/{target.public_id}/tracks",
        {"track": str(tracks["public_exam"].public_id), "joined_on": "2024-01-08"},
    ).json()
    client = api(getattr(world, who))
    response = client.post(
        f"/students/{target.public_id}/tracks", {"track": str(tracks["army"].public_id), "joined_on": "2024-01-08"}
    )
    assert response.status_code == status
    enrolment = f"/tracks/enrolments/{joined['id']}"
    data = {"milestone": "registered", "reached_on": "2024-01-10", "version": 1}
    assert client.post(f"{enrolment}/milestones", data).status_code == status
    assert (
        client.post(f"{enrolment}/leave", {"left_on": "2024-01-10", "reason": "x", "version": 1}).status_code == status
    )
    listed = client.get(f"/students/{target.public_id}/tracks")
    assert listed.status_code == (200 if status == 403 else 404)
    assert TrackEnrolment.objects.count() == 1 and not MilestoneRecord.objects.exists()


def test_counts_per_track_of_a_unit(world: World, tracks: dict[str, TrackType], api) -> None:
    office = api(world.office)
    for student in (world.own, world.classmate, world.dept2_student):
        office.post(
            f"/students/{student.public_id}/tracks",
            {"track": str(tracks["public_exam"].public_id), "joined_on": "2024-01-08"},
        )
    own = TrackEnrolment.objects.get(student=world.own)
    office.post(
        f"/tracks/enrolments/{own.public_id}/milestones",
        {"milestone": "registered", "reached_on": "2024-01-10", "version": 1},
    )
    body = api(world.leader).get("/tracks/counts").json()
    assert (body["unit"]["code"], body["cohort"]) == ("D1", None)
    exam = next(t for t in body["tracks"] if t["track"]["code"] == "public_exam")
    assert exam == {
        "track": {
            "id": str(tracks["public_exam"].public_id),
            "code": "public_exam",
            "name": "考公考编",
            "name_en": "Public-service exam preparation",
        },
        "open": 2,
        "not_started": 1,
        "at": [
            {"milestone": "registered", "label": "Registered", "count": 1},
            {"milestone": "written_exam", "label": "Written exam taken", "count": 0},
            {"milestone": "interview", "label": "Interview", "count": 0},
        ],
        "succeeded": 0,
        "failed": 0,
        "left": 0,
    }
    school = api(world.office).get("/tracks/counts").json()
    assert next(t for t in school["tracks"] if t["track"]["code"] == "public_exam")["open"] == 3
    dept2 = api(world.office).get("/tracks/counts", unit=str(world.dept2.public_id)).json()
    assert next(t for t in dept2["tracks"] if t["track"]["code"] == "public_exam")["open"] == 1
    assert api(world.other_leader).get("/tracks/counts", unit=str(world.dept1.public_id)).status_code == 404
    assert api(world.helper).get("/tracks/counts").status_code == 403
    assert api(world.student_user).get("/tracks/counts").status_code == 403
