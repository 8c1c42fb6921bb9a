"""The tracks' services: default track types, joining (several tracks at once), milestones in order with their
dates, a final milestone closing the enrolment, leaving, the office's edits of milestones, and every refusal
with nothing written.

`world.own` (田斌臣, dept1) is helped by `world.helper`; today is 15 March 2024.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from bangfu.concurrency import StaleEdit
from bangfu.tracks.models import MilestoneRecord, Outcome, TrackEnrolment, TrackType
from bangfu.tracks.services import (
    DEFAULT_TRACKS,
    install_default_tracks,
    join_track,
    leave_track,
    next_milestones,
    record_milestone,
    save_track_type,
)
from tests.conftest import TODAY, World
from tests.factories import make_school, make_staff

D = dt.date


@pytest.fixture
def tracks(world: World) -> dict[str, TrackType]:
    return {t.code: t for t in install_default_tracks(actor=world.office, school=world.school)}


def _join(world: World, tracks: dict[str, TrackType], code: str = "public_exam", **kw: Any) -> TrackEnrolment:
    fields: dict[str, Any] = {"actor": world.helper, "student": world.own, "joined_on": D(2024, 1, 8), "today": TODAY}
    fields.update(kw)
    return join_track(track=tracks[code], **fields)


def _record(world: World, enrolment: TrackEnrolment, milestone: str, on: dt.date, **kw: Any) -> MilestoneRecord:
    enrolment.refresh_from_db()
    fields: dict[str, Any] = {"actor": world.helper, "today": TODAY, "expected_version": enrolment.version}
    fields.update(kw)
    return record_milestone(enrolment=enrolment, milestone=milestone, reached_on=on, **fields)


def _snapshot() -> tuple[int, int, list[tuple[Any, ...]]]:
    rows = list(TrackEnrolment.objects.values_list("pk", "version", "current_milestone", "outcome", "left_on"))
    return TrackEnrolment.objects.count(), MilestoneRecord.objects.count(), rows


# --- Default track types ----------------------------------------------------------------------------------------


def test_the_office_installs_the_six_default_tracks_once(world: World, tracks: dict[str, TrackType]) -> None:
    assert list(TrackType.objects.filter(school=world.school).values_list("code", flat=True)) == [
        "contract_escort",
        "public_exam",
        "grassroots",
        "further_study",
        "army",
        "entrepreneurship",
    ]
    exam = tracks["public_exam"]
    assert exam.name == "考公考编"
    assert [m["code"] for m in exam.milestones] == [
        "registered",
        "written_exam",
        "interview",
        "admitted",
        "not_admitted",
    ]
    assert exam.milestone("admitted") == {
        "code": "admitted",
        "label": "录用",
        "label_en": "Admitted",
        "final": True,
        "outcome": "success",
    }
    assert [p["label"] for p in tracks["grassroots"].programmes] == ["西部计划", "三支一扶", "特岗教师", "大学生村官"]
    assert [p["label"] for p in tracks["further_study"].programmes] == ["专升本", "考研"]
    assert "学费补偿" in tracks["army"].description
    assert tracks["army"].history.first().history_user == world.office
    # A second install adds nothing and leaves the school's own changes alone.
    save_track_type(
        actor=world.office, school=world.school, track_type=exam, expected_version=exam.version, name="公考护航"
    )
    assert install_default_tracks(actor=world.office, school=world.school) == []
    assert TrackType.objects.get(pk=exam.pk).name == "公考护航"
    assert TrackType.objects.filter(school=world.school).count() == len(DEFAULT_TRACKS)


@pytest.mark.parametrize("who", ["principal", "leader", "counsellor", "helper", "outsider"])
def test_only_the_schools_office_configures_tracks(world: World, who: str) -> None:
    with pytest.raises(PermissionDenied):
        install_default_tracks(actor=getattr(world, who), school=world.school)
    assert not TrackType.objects.exists()


def test_the_other_schools_office_cannot_change_this_schools_track(world: World, tracks: dict[str, TrackType]) -> None:
    exam = tracks["public_exam"]
    with pytest.raises(PermissionDenied):
        save_track_type(actor=world.outsider, school=world.school, track_type=exam, name="改名")
    with pytest.raises(PermissionDenied):
        save_track_type(actor=world.outsider, school=world.other_school, track_type=exam, name="改名")
    assert TrackType.objects.get(pk=exam.pk).name == "考公考编"


# --- Joining --------------------------------------------------------------------------------------------------------


def test_a_student_joins_several_tracks_at_once(world: World, tracks: dict[str, TrackType]) -> None:
    exam = _join(world, tracks, "public_exam")
    study = _join(world, tracks, "further_study", programme="upgrade", joined_on=D(2024, 2, 20))
    army = _join(world, tracks, "army", actor=world.counsellor, joined_on=TODAY)
    assert {e.track.code for e in TrackEnrolment.objects.filter(student=world.own).open()} == {
        "public_exam",
        "further_study",
        "army",
    }
    assert (study.programme, study.joined_on, study.joined_by) == ("upgrade", D(2024, 2, 20), world.helper)
    assert army.joined_by == world.counsellor
    # Progress on one track leaves the others where they are.
    _record(world, exam, "registered", D(2024, 1, 10))
    study.refresh_from_db()
    assert (study.current_milestone, study.version) == ("", 1)


def _refused(call: Any, message: str, field: str | None = None) -> ValidationError:
    before = _snapshot()
    with pytest.raises(ValidationError) as caught:
        call()
    error = caught.value
    if field is not None:
        assert message in error.message_dict[field], error.message_dict
    else:
        assert message in error.messages, error.messages
    assert _snapshot() == before
    return error


def test_joining_is_refused_with_its_reason_and_nothing_written(world: World, tracks: dict[str, TrackType]) -> None:
    _join(world, tracks, "public_exam")
    error = _refused(lambda: _join(world, tracks, "public_exam"), "田斌臣 is already on this track.")
    assert error.error_list[0].code == "already_joined"
    _refused(lambda: _join(world, tracks, "grassroots"), "Choose the programme the student joins through.", "programme")
    _refused(
        lambda: _join(world, tracks, "grassroots", programme="abroad"),
        "Choose the programme the student joins through.",
        "programme",
    )
    _refused(lambda: _join(world, tracks, "army", programme="western"), "This track has no programmes.", "programme")
    _refused(
        lambda: _join(world, tracks, "army", joined_on=D(2024, 3, 16)), "The date cannot be in the future.", "joined_on"
    )
    other = make_school(code="THIRD", name="石家庄职业技术学院", departments=1)["school"]
    foreign = install_default_tracks(
        actor=make_staff("office3", "employment_office", other, full_name="周主任"), school=other
    )[0]
    _refused(
        lambda: join_track(actor=world.helper, student=world.own, track=foreign, joined_on=TODAY, today=TODAY),
        "This track is run by another school.",
        "track",
    )
    army = tracks["army"]
    save_track_type(actor=world.office, school=world.school, track_type=army, expected_version=1, is_active=False)
    army.refresh_from_db()
    _refused(lambda: _join(world, tracks, "army"), "This track is not offered at present.", "track")


@pytest.mark.parametrize(
    ("who", "student"),
    [
        ("principal", "own"),  # sees the student, keeps no plans
        ("student_user", "own"),  # the student themself
        ("helper", "classmate"),  # a teacher who is not the classmate's helper
        ("other_leader", "own"),  # another department
        ("outsider", "own"),  # another school
        ("leader", "dept2_student"),
    ],
)
def test_joining_needs_the_right_to_keep_the_students_plan(
    world: World, tracks: dict[str, TrackType], who: str, student: str
) -> None:
    with pytest.raises(PermissionDenied):
        join_track(
            actor=getattr(world, who),
            student=getattr(world, student),
            track=tracks["public_exam"],
            joined_on=TODAY,
            today=TODAY,
        )
    assert not TrackEnrolment.objects.exists()


@pytest.mark.parametrize("who", ["helper", "counsellor", "leader", "office"])
def test_the_helper_the_counsellor_the_department_leader_and_the_office_may_join(
    world: World, tracks: dict[str, TrackType], who: str
) -> None:
    enrolment = _join(world, tracks, actor=getattr(world, who))
    assert enrolment.joined_by == getattr(world, who)


# --- Milestones -----------------------------------------------------------------------------------------------------


def test_milestones_in_order_and_a_final_one_closes_the_track(world: World, tracks: dict[str, TrackType]) -> None:
    enrolment = _join(world, tracks)
    assert [m["code"] for m in next_milestones(enrolment.track, "")] == ["registered"]
    _record(world, enrolment, "registered", D(2024, 1, 10), note="国考报名：河北省税务局一级行政执法员")
    _record(world, enrolment, "written_exam", D(2024, 1, 10))  # the same day as the previous one is fine
    _record(world, enrolment, "interview", D(2024, 3, 2))
    enrolment.refresh_from_db()
    assert [m["code"] for m in next_milestones(enrolment.track, enrolment.current_milestone)] == [
        "admitted",
        "not_admitted",
    ]
    assert (enrolment.current_milestone, enrolment.current_reached_on, enrolment.left_on) == (
        "interview",
        D(2024, 3, 2),
        None,
    )
    _record(world, enrolment, "admitted", D(2024, 3, 14))
    enrolment.refresh_from_db()
    assert (enrolment.outcome, enrolment.left_on, enrolment.current_milestone, enrolment.is_open) == (
        Outcome.SUCCESS,
        D(2024, 3, 14),
        "admitted",
        False,
    )
    assert list(enrolment.records.values_list("milestone", "reached_on", "recorded_by")) == [
        ("registered", D(2024, 1, 10), world.helper.pk),
        ("written_exam", D(2024, 1, 10), world.helper.pk),
        ("interview", D(2024, 3, 2), world.helper.pk),
        ("admitted", D(2024, 3, 14), world.helper.pk),
    ]
    assert enrolment.records.first().note == "国考报名：河北省税务局一级行政执法员"
    assert enrolment.history.first().history_user == world.helper
    error = _refused(
        lambda: _record(world, enrolment, "not_admitted", D(2024, 3, 15)),
        "This track is closed for the student: no more milestones.",
    )
    assert error.error_list[0].code == "closed"


def test_a_failure_closes_the_track_after_any_step(world: World, tracks: dict[str, TrackType]) -> None:
    enrolment = _join(world, tracks, "grassroots", programme="western")
    _record(world, enrolment, "applied", D(2024, 2, 1))
    assert [m["code"] for m in next_milestones(enrolment.track, "applied")] == ["selected", "not_selected"]
    _record(world, enrolment, "not_selected", D(2024, 3, 1), note="西部计划笔试未通过")
    enrolment.refresh_from_db()
    assert (enrolment.outcome, enrolment.left_on, enrolment.left_reason) == (Outcome.FAILURE, D(2024, 3, 1), "")


def test_a_contract_escort_has_no_failure_and_closes_only_when_signed(
    world: World, tracks: dict[str, TrackType]
) -> None:
    enrolment = _join(world, tracks, "contract_escort")
    for code, day in [("intention", 10), ("applications", 12), ("interviews", 20)]:
        _record(world, enrolment, code, D(2024, 1, day))
    assert [m["code"] for m in next_milestones(enrolment.track, "interviews")] == ["offer"]
    _record(world, enrolment, "offer", D(2024, 2, 26))
    _record(world, enrolment, "contract_signed", D(2024, 3, 5), note="石家庄华信科技有限公司 软件测试工程师")
    enrolment.refresh_from_db()
    assert (enrolment.outcome, enrolment.left_on) == (Outcome.SUCCESS, D(2024, 3, 5))


def test_no_skipping_and_no_success_before_the_last_step(world: World, tracks: dict[str, TrackType]) -> None:
    enrolment = _join(world, tracks)
    error = _refused(
        lambda: _record(world, enrolment, "written_exam", D(2024, 1, 10)),
        "Milestones are recorded in order, without skipping: next comes “Registered”.",
        "milestone",
    )
    assert error.error_dict["milestone"][0].code == "out_of_order"
    _record(world, enrolment, "registered", D(2024, 1, 10))
    _refused(
        lambda: _record(world, enrolment, "interview", D(2024, 2, 10)),
        "Milestones are recorded in order, without skipping: next comes “Written exam taken”, “Not admitted”.",
        "milestone",
    )
    _refused(
        lambda: _record(world, enrolment, "admitted", D(2024, 2, 10)),
        "Milestones are recorded in order, without skipping: next comes “Written exam taken”, “Not admitted”.",
        "milestone",
    )
    _refused(
        lambda: _record(world, enrolment, "registered", D(2024, 2, 10)),
        "Milestones are recorded in order, without skipping: next comes “Written exam taken”, “Not admitted”.",
        "milestone",
    )
    _refused(
        lambda: _record(world, enrolment, "enlisted", D(2024, 2, 10)), "This track has no such milestone.", "milestone"
    )


def test_milestone_dates_follow_each_other_and_are_not_in_the_future(
    world: World, tracks: dict[str, TrackType]
) -> None:
    enrolment = _join(world, tracks, joined_on=D(2024, 1, 8))
    _refused(
        lambda: _record(world, enrolment, "registered", D(2024, 1, 7)),
        "A milestone cannot be dated before the student joined the track (2024-01-08).",
        "reached_on",
    )
    _record(world, enrolment, "registered", D(2024, 1, 10))
    _refused(
        lambda: _record(world, enrolment, "written_exam", D(2024, 1, 9)),
        "A milestone cannot be dated before the previous one (2024-01-10).",
        "reached_on",
    )
    _refused(
        lambda: _record(world, enrolment, "written_exam", D(2024, 3, 16)),
        "The date cannot be in the future.",
        "reached_on",
    )


def test_a_stale_form_and_an_outsider_are_refused(world: World, tracks: dict[str, TrackType]) -> None:
    enrolment = _join(world, tracks)
    _record(world, enrolment, "registered", D(2024, 1, 10))
    before = _snapshot()
    with pytest.raises(StaleEdit):
        _record(world, enrolment, "written_exam", D(2024, 1, 20), expected_version=1)
    for who in ("principal", "student_user", "other_leader", "outsider"):
        with pytest.raises(PermissionDenied):
            _record(world, enrolment, "written_exam", D(2024, 1, 20), actor=getattr(world, who))
    assert _snapshot() == before


# --- Leaving --------------------------------------------------------------------------------------------------------


def test_leaving_a_track_with_a_reason_and_joining_again(world: World, tracks: dict[str, TrackType]) -> None:
    enrolment = _join(world, tracks, "army")
    _record(world, enrolment, "registered", D(2024, 1, 15))
    _refused(
        lambda: leave_track(
            actor=world.helper, enrolment=enrolment, left_on=TODAY, reason="  ", today=TODAY, expected_version=2
        ),
        "Say why the student leaves the track.",
        "reason",
    )
    _refused(
        lambda: leave_track(
            actor=world.helper, enrolment=enrolment, left_on=D(2024, 1, 14), reason="改考研", today=TODAY
        ),
        "The student cannot leave before 2024-01-15, the last date on this track.",
        "left_on",
    )
    with pytest.raises(PermissionDenied):
        leave_track(actor=world.principal, enrolment=enrolment, left_on=TODAY, reason="改考研", today=TODAY)
    left = leave_track(
        actor=world.helper,
        enrolment=enrolment,
        left_on=D(2024, 2, 1),
        reason="体检前决定改考研究生",
        today=TODAY,
        expected_version=2,
    )
    assert (left.left_on, left.left_reason, left.outcome, left.is_open) == (
        D(2024, 2, 1),
        "体检前决定改考研究生",
        "",
        False,
    )
    _refused(
        lambda: _record(world, left, "physical_exam", TODAY),
        "This track is closed for the student: no more milestones.",
    )
    _refused(
        lambda: leave_track(actor=world.helper, enrolment=left, left_on=TODAY, reason="再次", today=TODAY),
        "The student is no longer on this track.",
    )
    _refused(
        lambda: _join(world, tracks, "army", joined_on=D(2024, 1, 31)),
        "田斌臣 left this track on 2024-02-01; a new start cannot be earlier.",
        "joined_on",
    )
    again = _join(world, tracks, "army", joined_on=D(2024, 3, 1))
    assert TrackEnrolment.objects.filter(student=world.own, track__code="army").count() == 2
    assert (again.current_milestone, again.is_open) == ("", True)


# --- The office edits milestones ------------------------------------------------------------------------------------


def _milestones(*items: tuple[str, str | None]) -> list[dict[str, Any]]:
    return [
        {"code": code, "label": code.upper(), "label_en": "", "final": outcome is not None, "outcome": outcome}
        for code, outcome in items
    ]


@pytest.mark.parametrize(
    ("milestones", "message"),
    [
        (_milestones(("registered", None)), "A track needs at least one step and one final milestone."),
        (_milestones(("admitted", "success")), "A track needs at least one step and one final milestone."),
        (
            _milestones(("registered", None), ("admitted", "success"), ("interview", None)),
            "The final milestones come after every step.",
        ),
        (_milestones(("registered", None), ("registered", "success")), "The code “registered” appears twice."),
        (
            [{"code": "registered", "label": "报名"}, {"code": "done", "label": "完成", "final": True}],
            "The final milestone “done” needs an outcome.",
        ),
        (
            [{"code": "Reg istered", "label": "报名"}],
            "“Reg istered” is not a valid code: lower-case letters, digits and underscores, starting with a letter, "
            "at most 32.",
        ),
        ([{"code": "registered", "label": ""}], "Give “registered” a label (at most 100 characters)."),
        ("registered → admitted", "Give a list of items, each with a code and a label."),
    ],
)
def test_milestones_that_make_no_track_are_refused(world: World, milestones: Any, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        save_track_type(actor=world.office, school=world.school, code="civil", name="选调生", milestones=milestones)
    assert caught.value.message_dict["milestones"] == [message]
    assert not TrackType.objects.exists()


def test_reached_milestones_and_chosen_programmes_stay(world: World, tracks: dict[str, TrackType]) -> None:
    exam = tracks["public_exam"]
    enrolment = _join(world, tracks)
    _record(world, enrolment, "registered", D(2024, 1, 10))
    without = [m for m in exam.milestones if m["code"] != "registered"]
    with pytest.raises(ValidationError) as caught:
        save_track_type(
            actor=world.office, school=world.school, track_type=exam, expected_version=1, milestones=without
        )
    assert caught.value.message_dict["milestones"] == [
        "Students have reached these milestones, so they stay: registered."
    ]
    # Adding a step and renaming one is fine; existing enrolments go on from where they stand.
    more = [
        {**exam.milestones[0], "label_en": "Registered online"},
        {"code": "qualification", "label": "资格审查", "label_en": "Qualification check", "final": False},
        *exam.milestones[1:],
    ]
    saved = save_track_type(
        actor=world.office, school=world.school, track_type=exam, expected_version=1, milestones=more
    )
    assert saved.version == 2
    assert [m["code"] for m in next_milestones(saved, "registered")] == ["qualification", "not_admitted"]
    assert saved.milestone_label("registered", "en") == "Registered online"
    with pytest.raises(StaleEdit):
        save_track_type(actor=world.office, school=world.school, track_type=exam, expected_version=1, name="X")

    grassroots = tracks["grassroots"]
    _join(world, tracks, "grassroots", programme="village_official")
    with pytest.raises(ValidationError) as caught:
        save_track_type(
            actor=world.office,
            school=world.school,
            track_type=grassroots,
            expected_version=1,
            programmes=grassroots.programmes[:2],
        )
    assert caught.value.message_dict["programmes"] == [
        "Students joined through these programmes, so they stay: village_official."
    ]
    assert TrackType.objects.get(pk=grassroots.pk).programmes == grassroots.programmes


def test_a_reached_milestone_keeps_its_kind(world: World, tracks: dict[str, TrackType]) -> None:
    study = tracks["further_study"]
    enrolment = _join(world, tracks, "further_study", programme="postgraduate")
    _record(world, enrolment, "registered", D(2024, 1, 10))
    _record(world, enrolment, "exam", D(2024, 1, 20))
    _record(world, enrolment, "admitted", D(2024, 3, 10))
    changed = [{**m, "outcome": "failure"} if m["code"] == "admitted" else m for m in study.milestones]
    with pytest.raises(ValidationError) as caught:
        save_track_type(
            actor=world.office, school=world.school, track_type=study, expected_version=1, milestones=changed
        )
    assert caught.value.message_dict["milestones"] == [
        "Students have reached “admitted”, so whether it is final, and its outcome, stay as they are."
    ]
    assert TrackType.objects.get(pk=study.pk).milestones == study.milestones
