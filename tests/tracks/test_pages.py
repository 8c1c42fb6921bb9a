"""The track pages: a student's tracks (progress, join, record, leave, htmx), the per-track counts of a department
or school with the list behind each count, the office's track types; and who may see and do what."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from bangfu.tracks.models import MilestoneRecord, Outcome, TrackEnrolment, TrackType
from tests.conftest import World
from tests.factories import make_student
from tests.tracks.conftest import Scene, enrol, step

D = dt.date


def url(name: str, *args: object) -> str:
    return reverse(f"tracks:{name}", args=args)


def text(response: Any) -> str:
    """The page's visible text, whitespace collapsed (for exact phrases)."""
    body = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(body))


@pytest.fixture(autouse=True)
def clock(time_machine):  # type: ignore[no-untyped-def]
    time_machine.move_to(dt.datetime(2024, 3, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)


# --- A student's tracks -------------------------------------------------------------------------------------------


def test_the_helper_sees_progress_history_and_what_comes_next(
    world: World, tracks: dict[str, TrackType], as_user
) -> None:
    exam = step(enrol(world.own, tracks["public_exam"]), ("registered", D(2024, 1, 10)))
    MilestoneRecord.objects.filter(enrolment=exam).update(note="国考报名：河北省税务局")
    step(exam, ("written_exam", D(2024, 1, 20)))
    enrol(world.own, tracks["further_study"], programme="postgraduate")
    response = as_user(world.helper).get(url("student", world.own.public_id))
    assert response.status_code == 200
    page, body = text(response), response.content.decode()
    assert "Public-service exam preparation" in page
    assert "Further study · Postgraduate entrance exam" in page
    assert "Joined on 2024-01-08 (系统)" in page
    assert "✓ Registered · 2024-01-10" in page
    assert "✓ Written exam taken · 2024-01-20" in page
    assert '<progress class="w-100 mt-2" value="2" max="4"' in body
    assert "Written exam taken · 2024-01-20 · recorded by 系统" in page
    assert "国考报名：河北省税务局" in page
    # The record form offers what may come next: the interview, or the end without success.
    card = body[body.index(f'id="track-{exam.public_id}"') :]
    card = card[: card.index("</article>")]
    assert re.findall(r'<option value="([a-z_]+)"', card) == ["interview", "not_admitted"]
    # Joining: the tracks the student is not on yet.
    joinable = re.findall(r"/tracks/student/[0-9a-f-]+/join/([0-9a-f-]+)/", body)
    assert set(joinable) == {str(t.public_id) for c, t in tracks.items() if c not in ("public_exam", "further_study")}


def test_a_track_left_can_be_joined_again_whoever_else_is_on_it(
    world: World, tracks: dict[str, TrackType], as_user
) -> None:
    from bangfu.tracks.services import leave_track

    army = enrol(world.own, tracks["army"])
    leave_track(actor=world.helper, enrolment=army, left_on=D(2024, 2, 1), reason="改考研", today=D(2024, 3, 15))
    enrol(world.classmate, tracks["army"])
    enrol(world.own, tracks["public_exam"])
    body = as_user(world.helper).get(url("student", world.own.public_id)).content.decode()
    joinable = set(re.findall(r"/tracks/student/[0-9a-f-]+/join/([0-9a-f-]+)/", body))
    assert str(tracks["army"].public_id) in joinable
    assert str(tracks["public_exam"].public_id) not in joinable


def test_the_student_page_costs_the_same_queries_for_more_tracks(
    world: World, tracks: dict[str, TrackType], as_user, django_assert_max_num_queries
) -> None:
    client = as_user(world.helper)
    step(enrol(world.own, tracks["public_exam"]), ("registered", D(2024, 1, 10)))
    client.get(url("student", world.own.public_id))
    with django_assert_max_num_queries(20) as before:
        client.get(url("student", world.own.public_id))
    step(enrol(world.own, tracks["army"]), ("registered", D(2024, 1, 10)), ("physical_exam", D(2024, 2, 1)))
    step(enrol(world.own, tracks["grassroots"], programme="western"), ("applied", D(2024, 1, 10)))
    enrol(world.own, tracks["entrepreneurship"])
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = client.get(url("student", world.own.public_id))
    assert len(response.context["open_cards"]) == 4


def test_joining_through_the_page(world: World, tracks: dict[str, TrackType], as_user) -> None:
    client = as_user(world.helper)
    join_url = url("join", world.own.public_id, tracks["grassroots"].public_id)
    page = text(client.get(join_url))
    assert "Join the track Grassroots guidance" in page
    assert "Western China volunteer programme" in page
    response = client.post(join_url, {"joined_on": "2024-03-01", "programme": ""})
    assert response.status_code == 200
    assert "This field is required." in text(response)
    assert not TrackEnrolment.objects.exists()
    response = client.post(join_url, {"joined_on": "2024-03-16", "programme": "western"})
    assert "The date cannot be in the future." in text(response)
    assert not TrackEnrolment.objects.exists()
    response = client.post(join_url, {"joined_on": "2024-03-01", "programme": "western"}, follow=True)
    assert response.redirect_chain == [(url("student", world.own.public_id), 302)]
    assert "田斌臣 joined the track Grassroots guidance." in text(response)
    enrolment = TrackEnrolment.objects.get()
    assert (enrolment.track.code, enrolment.programme, enrolment.joined_on, enrolment.joined_by) == (
        "grassroots",
        "western",
        D(2024, 3, 1),
        world.helper,
    )
    response = client.post(join_url, {"joined_on": "2024-03-02", "programme": "western"})
    assert "田斌臣 is already on this track." in text(response)
    assert TrackEnrolment.objects.count() == 1


def test_recording_milestones_and_leaving_through_the_page(world: World, tracks: dict[str, TrackType], as_user) -> None:
    exam = enrol(world.own, tracks["public_exam"])
    client = as_user(world.helper)
    record = url("record", exam.public_id)
    response = client.post(record, {"milestone": "registered", "reached_on": "2024-01-10", "version": 1}, follow=True)
    assert "Recorded: Registered." in text(response)
    # Skipping is refused with its reason, on the page, and nothing is written.
    response = client.post(record, {"milestone": "interview", "reached_on": "2024-02-10", "version": 2})
    assert response.status_code == 200
    assert (
        "Milestones are recorded in order, without skipping: next comes “Written exam taken”, “Not admitted”."
        in text(response)
    )
    assert list(exam.records.values_list("milestone", flat=True)) == ["registered"]
    # A stale form (someone recorded meanwhile) is refused.
    response = client.post(record, {"milestone": "written_exam", "reached_on": "2024-02-10", "version": 1})
    assert "Someone else saved this record after you opened it." in text(response)
    # htmx: the card comes back alone, refreshed.
    response = client.post(
        record,
        {"milestone": "written_exam", "reached_on": "2024-02-10", "note": "行测 68 分", "version": 2},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and body.strip().startswith("<article")
    assert "Recorded: Written exam taken." in text(response)
    assert "行测 68 分" in text(response)
    exam.refresh_from_db()
    assert (exam.current_milestone, exam.version) == ("written_exam", 3)
    # Leaving needs a reason.
    leave = url("leave", exam.public_id)
    response = client.post(leave, {"left_on": "2024-03-01", "reason": "", "version": 3})
    assert "This field is required." in text(response)
    assert '<details class="mt-2" open>' in response.content.decode()
    response = client.post(
        leave, {"left_on": "2024-03-01", "reason": "已签约民营企业，放弃面试", "version": 3}, follow=True
    )
    assert "The student left the track Public-service exam preparation." in text(response)
    exam.refresh_from_db()
    assert (exam.left_on, exam.left_reason, exam.outcome) == (D(2024, 3, 1), "已签约民营企业，放弃面试", "")
    assert "Left on 2024-03-01: 已签约民营企业，放弃面试" in text(response)
    assert "Closed tracks" in text(response)


def test_a_final_milestone_closes_the_card(world: World, tracks: dict[str, TrackType], as_user) -> None:
    army = step(
        enrol(world.own, tracks["army"]),
        ("registered", D(2024, 1, 9)),
        ("physical_exam", D(2024, 2, 1)),
        ("political_review", D(2024, 2, 20)),
    )
    client = as_user(world.leader)
    client.post(url("record", army.public_id), {"milestone": "enlisted", "reached_on": "2024-03-12", "version": 4})
    army.refresh_from_db()
    assert (army.outcome, army.left_on) == (Outcome.SUCCESS, D(2024, 3, 12))
    response = client.get(url("student", world.own.public_id))
    page, body = text(response), response.content.decode()
    assert "Closed tracks" in page and "Succeeded" in page
    assert f'action="{url("record", army.public_id)}"' not in body
    assert 'value="4" max="4"' in body
    # A form still open in another tab is refused with its reason, shown on the closed card.
    response = client.post(
        url("record", army.public_id), {"milestone": "enlisted", "reached_on": "2024-03-12", "version": 5}
    )
    assert "This track is closed for the student: no more milestones." in text(response)
    assert army.records.count() == 4


@pytest.mark.parametrize("who", ["principal", "student_user"])
def test_those_who_only_look_get_no_forms_and_403_on_writes(
    world: World, tracks: dict[str, TrackType], as_user, who: str
) -> None:
    exam = step(enrol(world.own, tracks["public_exam"]), ("registered", D(2024, 1, 10)))
    client = as_user(getattr(world, who))
    response = client.get(url("student", world.own.public_id))
    assert response.status_code == 200
    page = text(response)
    assert "✓ Registered · 2024-01-10" in page
    assert "Record the milestone" not in page and "Join a track" not in page and "Leave the track" not in page
    join = url("join", world.own.public_id, tracks["army"].public_id)
    assert client.get(join).status_code == 403
    assert client.post(join, {"joined_on": "2024-03-01"}).status_code == 403
    data = {"milestone": "written_exam", "reached_on": "2024-02-10", "version": 2}
    assert client.post(url("record", exam.public_id), data).status_code == 403
    assert (
        client.post(url("leave", exam.public_id), {"left_on": "2024-03-01", "reason": "x", "version": 2}).status_code
        == 403
    )
    assert TrackEnrolment.objects.count() == 1 and MilestoneRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "student"),
    [("helper", "classmate"), ("other_leader", "own"), ("outsider", "own"), ("counsellor", "dept2_student")],
)
def test_out_of_scope_is_404(world: World, tracks: dict[str, TrackType], as_user, who: str, student: str) -> None:
    target = getattr(world, student)
    exam = enrol(target, tracks["public_exam"])
    client = as_user(getattr(world, who))
    assert client.get(url("student", target.public_id)).status_code == 404
    assert client.get(url("join", target.public_id, tracks["army"].public_id)).status_code == 404
    data = {"milestone": "registered", "reached_on": "2024-02-10", "version": 1}
    assert client.post(url("record", exam.public_id), data).status_code == 404
    assert (
        client.post(url("leave", exam.public_id), {"left_on": "2024-03-01", "reason": "x", "version": 1}).status_code
        == 404
    )
    assert not MilestoneRecord.objects.exists()


def test_a_track_of_another_school_cannot_be_joined(world: World, tracks: dict[str, TrackType], as_user) -> None:
    from bangfu.tracks.services import install_default_tracks

    theirs = install_default_tracks(actor=world.outsider, school=world.other_school)[0]
    response = as_user(world.helper).get(url("join", world.own.public_id, theirs.public_id))
    assert response.status_code == 404


# --- The department view ------------------------------------------------------------------------------------------


def _figure(response: Any, code: str) -> Any:
    return next(row for row in response.context["rows"] if row.track.code == code)


def test_the_department_leader_counts_the_departments_students(world: World, scene: Scene, as_user) -> None:
    client = as_user(world.leader)
    response = client.get(url("figures"))
    assert response.status_code == 200
    assert response.context["unit"] == world.dept1
    exam = _figure(response, "public_exam")
    assert (exam.open, exam.not_started, exam.succeeded, exam.failed, exam.left) == (2, 1, 0, 0, 0)
    assert [(m.code, m.count) for m in exam.at] == [("registered", 0), ("written_exam", 1), ("interview", 0)]
    army = _figure(response, "army")
    assert (army.open, army.succeeded) == (0, 1)
    assert [row.track.code for row in response.context["rows"]] == [
        "contract_escort",
        "public_exam",
        "grassroots",
        "further_study",
        "army",
        "entrepreneurship",
    ]
    page = text(response)
    assert "Tracks in 服装工程系" in page
    # Each figure opens the list of exactly those students.
    listing = client.get(exam.at[1].url)
    assert listing.status_code == 200
    assert [e.student for e, _label in listing.context["rows"]] == [world.own]
    assert "Written exam taken" in text(listing)
    listing = client.get(exam.urls["open"])
    names = [e.student.name for e, _label in listing.context["rows"]]
    assert sorted(names) == sorted(["田斌臣", "刘洋"])
    assert "陈静" not in text(listing) and "孙磊" not in text(listing)
    listing = client.get(army.urls["succeeded"])
    assert [(e.student, label) for e, label in listing.context["rows"]] == [(world.classmate, "Enlisted")]
    assert listing.context["page"].paginator.count == army.succeeded


def test_the_office_sees_the_school_and_each_department(world: World, scene: Scene, as_user) -> None:
    client = as_user(world.office)
    response = client.get(url("figures"))
    assert response.context["unit"] == world.school
    exam = _figure(response, "public_exam")
    assert (exam.open, exam.not_started) == (3, 1)
    assert [(m.code, m.count) for m in exam.at] == [("registered", 1), ("written_exam", 1), ("interview", 0)]
    response = client.get(url("figures"), {"unit": world.dept2.public_id})
    exam = _figure(response, "public_exam")
    assert (exam.open, [m.count for m in exam.at]) == (1, [1, 0, 0])
    assert "Track types" in text(response)
    response = client.get(url("figures"), {"unit": world.school.public_id, "cohort": 2020})
    assert _figure(response, "public_exam").open == 0


@pytest.mark.parametrize(("who", "status"), [("helper", 403), ("student_user", 403), ("outsider", 404)])
def test_the_counts_need_a_unit_wide_view(world: World, scene: Scene, as_user, who: str, status: int) -> None:
    client = as_user(getattr(world, who))
    response = client.get(url("figures"), {"unit": world.dept1.public_id})
    assert response.status_code == status
    response = client.get(url("students", scene.own_exam.track.public_id), {"unit": world.dept1.public_id})
    assert response.status_code == status


def test_another_departments_counts_do_not_exist_for_a_leader(world: World, scene: Scene, as_user) -> None:
    client = as_user(world.other_leader)
    assert client.get(url("figures"), {"unit": world.dept1.public_id}).status_code == 404
    assert client.get(url("figures"), {"unit": "not-a-uuid"}).status_code == 404
    track = scene.own_exam.track
    assert client.get(url("students", track.public_id), {"unit": world.dept1.public_id}).status_code == 404
    response = client.get(url("students", track.public_id), {"status": "open"})
    assert [e.student for e, _label in response.context["rows"]] == [world.dept2_student]
    assert client.get(url("students", track.public_id), {"milestone": "nonsense"}).status_code == 404
    # Another school's track does not exist for them.
    theirs = scene.other_school.track
    assert client.get(url("students", theirs.public_id)).status_code == 404


def test_the_counts_cost_the_same_queries_for_more_students(
    world: World, scene: Scene, tracks: dict[str, TrackType], as_user, django_assert_max_num_queries
) -> None:
    client = as_user(world.leader)
    client.get(url("figures"))  # warm the session
    with django_assert_max_num_queries(14) as before:
        client.get(url("figures"))
    for n in range(8):
        student = make_student(world.class1, name=f"王{n}号")
        step(enrol(student, tracks["further_study"], programme="upgrade"), ("registered", D(2024, 1, 20)))
        enrol(student, tracks["public_exam"])
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = client.get(url("figures"))
    assert _figure(response, "further_study").at[0].count == 8
    assert _figure(response, "public_exam").not_started == 9
    listing_url = _figure(response, "public_exam").urls["not_started"]
    client.get(listing_url)
    with django_assert_max_num_queries(15):  # 15th: the user's helped students (permissions.helped_ids)
        listing = client.get(listing_url)
    assert listing.context["page"].paginator.count == 9


# --- The office: track types ----------------------------------------------------------------------------------------


def _type_post(track: TrackType | None, milestones: list[tuple[str, str, str, str]], **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": track.code if track else "selected_graduate",
        "name": track.name if track else "选调生",
        "name_en": track.name_en if track else "Selected graduates for civil service",
        "description": "",
        "position": 7,
        "is_active": "on",
        "m-TOTAL_FORMS": len(milestones) + 1,
        "m-INITIAL_FORMS": 0,
        "m-MIN_NUM_FORMS": 0,
        "m-MAX_NUM_FORMS": 1000,
        "p-TOTAL_FORMS": 0,
        "p-INITIAL_FORMS": 0,
        "p-MIN_NUM_FORMS": 0,
        "p-MAX_NUM_FORMS": 1000,
    }
    if track is not None:
        data["version"] = track.version
    for i, (code, label, label_en, kind) in enumerate(milestones):
        data.update({f"m-{i}-code": code, f"m-{i}-label": label, f"m-{i}-label_en": label_en, f"m-{i}-kind": kind})
    data.update({f"m-{len(milestones)}-code": "", f"m-{len(milestones)}-kind": "step"})  # a blank row is left out
    data.update(fields)
    return data


SELECTED = [
    ("registered", "报名", "Registered", "step"),
    ("exam", "笔试面试", "Exams", "step"),
    ("selected", "录用", "Selected", "success"),
    ("not_selected", "未录用", "Not selected", "failure"),
]


def test_the_office_installs_lists_adds_and_edits_tracks(world: World, as_user) -> None:
    client = as_user(world.office)
    response = client.get(url("types"))
    assert "No tracks yet." in text(response)
    response = client.post(url("install_defaults"), {"school": world.school.public_id}, follow=True)
    assert "6 default tracks were added." in text(response)
    page = text(response)
    assert "Public-service exam preparation" in page
    assert "Registered → Written exam taken → Interview → Admitted / Not admitted" in page
    response = client.post(url("install_defaults"), {"school": world.school.public_id}, follow=True)
    assert "The school has every default track already." in text(response)

    response = client.post(url("type_new"), {**_type_post(None, SELECTED), "school": world.school.public_id})
    assert response.status_code == 302
    added = TrackType.objects.get(code="selected_graduate")
    assert [m["code"] for m in added.milestones] == ["registered", "exam", "selected", "not_selected"]
    assert added.milestone("selected") == {
        "code": "selected",
        "label": "录用",
        "label_en": "Selected",
        "final": True,
        "outcome": "success",
    }

    exam = TrackType.objects.get(school=world.school, code="public_exam")
    form = client.get(url("type_edit", exam.public_id))
    assert form.status_code == 200 and 'value="written_exam"' in form.content.decode()
    bad = [("admitted", "录用", "Admitted", "success"), ("registered", "报名", "Registered", "step")]
    response = client.post(url("type_edit", exam.public_id), _type_post(exam, bad))
    assert response.status_code == 200
    assert "The final milestones come after every step." in text(response)
    rows = [
        ("registered", "报名", "Registered", "step"),
        ("qualification", "资格审查", "Qualification check", "step"),
        ("written_exam", "笔试", "Written exam taken", "step"),
        ("interview", "面试", "Interview", "step"),
        ("admitted", "录用", "Admitted", "success"),
        ("not_admitted", "未录用", "Not admitted", "failure"),
    ]
    response = client.post(url("type_edit", exam.public_id), _type_post(exam, rows))
    assert response.status_code == 302
    exam.refresh_from_db()
    assert [m["code"] for m in exam.milestones] == [r[0] for r in rows]
    assert exam.version == 2
    # The form the office opened before that save is stale now.
    response = client.post(url("type_edit", exam.public_id), {**_type_post(exam, rows), "version": 1})
    assert "Someone else saved this record after you opened it." in text(response)


def test_only_the_office_configures_tracks(world: World, tracks: dict[str, TrackType], as_user) -> None:
    exam = tracks["public_exam"]
    for who in ("leader", "principal", "counsellor", "helper"):
        client = as_user(getattr(world, who))
        assert client.get(url("types")).status_code == 403
        assert client.post(url("install_defaults"), {"school": world.school.public_id}).status_code == 403
        assert client.get(url("type_edit", exam.public_id)).status_code == 403
        assert client.post(url("type_edit", exam.public_id), _type_post(exam, SELECTED)).status_code == 403
    client = as_user(world.outsider)
    assert client.get(url("type_edit", exam.public_id)).status_code == 404
    assert client.get(url("types"), {"school": world.school.public_id}).status_code == 404
    assert client.post(url("install_defaults"), {"school": world.school.public_id}).status_code == 404
    exam.refresh_from_db()
    assert (exam.version, exam.milestones[0]["code"]) == (1, "registered")
