"""Fixtures of the track tests: the school's default tracks, and a small scene of students on them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from bangfu.students.models import Student
from bangfu.tracks.models import TrackEnrolment, TrackType
from bangfu.tracks.services import install_default_tracks, join_track, record_milestone
from tests.conftest import TODAY, World
from tests.factories import system_user

D = dt.date
JOINED = D(2024, 1, 8)


@pytest.fixture
def tracks(world: World) -> dict[str, TrackType]:
    return {t.code: t for t in install_default_tracks(actor=world.office, school=world.school)}


def step(enrolment: TrackEnrolment, *milestones: tuple[str, dt.date]) -> TrackEnrolment:
    for code, day in milestones:
        enrolment.refresh_from_db()
        record_milestone(actor=system_user(), enrolment=enrolment, milestone=code, reached_on=day, today=TODAY)
    enrolment.refresh_from_db()
    return enrolment


def enrol(student: Student, track: TrackType, joined_on: dt.date = JOINED, programme: str = "") -> TrackEnrolment:
    return join_track(
        actor=system_user(), student=student, track=track, joined_on=joined_on, programme=programme, today=TODAY
    )


@dataclass
class Scene:
    own_exam: TrackEnrolment  # 田斌臣 (dept1): public exam, at the written exam
    classmate_exam: TrackEnrolment  # 刘洋 (dept1): public exam, no milestone yet
    classmate_army: TrackEnrolment  # 刘洋 (dept1): enlisted
    dept2_exam: TrackEnrolment  # 陈静 (dept2): public exam, registered
    other_school: TrackEnrolment  # 孙磊 (the other school): public exam of that school


@pytest.fixture
def scene(world: World, tracks: dict[str, TrackType]) -> Scene:
    exam, army = tracks["public_exam"], tracks["army"]
    theirs = install_default_tracks(actor=world.outsider, school=world.other_school)[1]
    return Scene(
        own_exam=step(enrol(world.own, exam), ("registered", D(2024, 1, 10)), ("written_exam", D(2024, 1, 20))),
        classmate_exam=enrol(world.classmate, exam),
        classmate_army=step(
            enrol(world.classmate, army, D(2023, 9, 1)),
            ("registered", D(2023, 9, 5)),
            ("physical_exam", D(2023, 10, 9)),
            ("political_review", D(2023, 11, 2)),
            ("enlisted", D(2024, 3, 1)),
        ),
        dept2_exam=step(enrol(world.dept2_student, exam), ("registered", D(2024, 1, 12))),
        other_school=step(enrol(world.other_school_student, theirs), ("registered", D(2024, 1, 12))),
    )
