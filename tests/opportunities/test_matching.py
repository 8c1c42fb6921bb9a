"""Matching: a deterministic score with its reasons, on hand-built values; then `suggest_positions` and
`suggest_students` on a small world (what they leave out, and in which order they rank)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from bangfu.assistance.services import save_plan
from bangfu.opportunities.matching import CLOSING_SOON_DAYS, Match, Offer, Profile, Reason, match, rank_key
from bangfu.opportunities.queries import suggest_positions, suggest_students
from bangfu.opportunities.services import recommend
from bangfu.outcomes.services import record_destination
from bangfu.students.services import join_ledger
from tests.conftest import TODAY, World
from tests.factories import make_employer, make_position, make_student, system_user

D = dt.date
MAJOR, OTHER_MAJOR = 11, 12
# A student of 服装设计 from 石家庄 who wants to work near home to look after their grandparents.
NEAR_HOME = Profile(
    major_id=MAJOR, major_name="服装设计与工艺", home_province="河北省", home_city="石家庄市", near_home=True
)
ANYWHERE = Profile(major_id=MAJOR, major_name="服装设计与工艺", home_province="河北省", home_city="石家庄市")


def codes(m: Match) -> list[str]:
    return [r.code for r in m.reasons]


def ranked(profile: Profile, offers: dict[str, Offer]) -> list[tuple[str, int]]:
    """Offer names best first, as `suggest_positions` ranks them (score, then deadline, then name)."""
    scored = [(name, offer, match(profile, offer, TODAY)) for name, offer in offers.items()]
    scored.sort(key=lambda t: rank_key(t[2], t[1].deadline, t[0]))
    return [(name, m.score) for name, _, m in scored]


# --- Pure matching ----------------------------------------------------------------------------------------------


def test_the_home_city_comes_first_for_a_student_who_wants_to_be_near_home() -> None:
    offers = {
        "北京": Offer(province="北京市", city="北京市"),
        "保定": Offer(province="河北省", city="保定市"),
        "石家庄": Offer(province="河北省", city="石家庄市"),
    }

    assert ranked(NEAR_HOME, offers) == [("石家庄", 15 + 30), ("保定", 15 + 20), ("北京", 15)]
    home = match(NEAR_HOME, offers["石家庄"], TODAY)
    assert codes(home) == ["any_major", "home_city"]
    assert home.reasons[1] == Reason("home_city", 30, {"city": "石家庄市"})
    assert match(NEAR_HOME, offers["保定"], TODAY).reasons[1] == Reason("home_province", 20, {"province": "河北省"})


def test_home_counts_only_for_those_who_want_to_be_near_home() -> None:
    offers = {
        "北京": Offer(province="北京市", city="北京市", deadline=D(2024, 5, 1)),
        "石家庄": Offer(province="河北省", city="石家庄市", deadline=D(2024, 6, 1)),
    }

    # Equal scores: the earlier deadline first.
    assert ranked(ANYWHERE, offers) == [("北京", 15), ("石家庄", 15)]


def test_the_major_wanted_ranks_above_any_major_above_another_major() -> None:
    offers = {
        "另一专业": Offer(major_ids=frozenset({OTHER_MAJOR})),
        "任何专业": Offer(),
        "本专业": Offer(major_ids=frozenset({MAJOR, OTHER_MAJOR})),
    }

    assert ranked(ANYWHERE, offers) == [("本专业", 40), ("任何专业", 15), ("另一专业", 0)]
    mine = match(ANYWHERE, offers["本专业"], TODAY)
    assert mine.reasons == (Reason("major", 40, {"major": "服装设计与工艺"}),)
    assert (mine.fits, match(ANYWHERE, offers["另一专业"], TODAY).fits) == (True, False)


def test_a_place_the_plan_names_counts_unless_home_already_did() -> None:
    plan = Profile(major_id=MAJOR, places="保定、天津 石家庄", home_city="石家庄市", home_province="河北省")
    near_home = Profile(**{**plan.__dict__, "near_home": True})

    baoding = match(plan, Offer(major_ids=frozenset({OTHER_MAJOR}), province="河北省", city="保定市"), TODAY)
    tianjin = match(plan, Offer(major_ids=frozenset({OTHER_MAJOR}), province="天津市"), TODAY)
    shijiazhuang = match(near_home, Offer(major_ids=frozenset({OTHER_MAJOR}), city="石家庄市"), TODAY)

    assert baoding.reasons == (Reason("place", 25, {"place": "保定市"}),)
    assert tianjin.reasons == (Reason("place", 25, {"place": "天津市"}),)
    assert shijiazhuang.reasons == (Reason("home_city", 30, {"city": "石家庄市"}),)
    # A place named in the plan is a stated intention: the position fits even without the major.
    assert baoding.fits


def test_an_industry_the_plan_names_counts() -> None:
    plan = Profile(major_id=MAJOR, industries="software; finance")

    it = match(plan, Offer(major_ids=frozenset({OTHER_MAJOR}), industry="I"), TODAY)
    bank = match(plan, Offer(major_ids=frozenset({OTHER_MAJOR}), industry="J"), TODAY)
    factory = match(plan, Offer(major_ids=frozenset({OTHER_MAJOR}), industry="C"), TODAY)
    unknown = match(plan, Offer(major_ids=frozenset({OTHER_MAJOR})), TODAY)

    assert it.reasons == (Reason("industry", 15, {"industry": "Information transmission, software and IT services"}),)
    assert bank.reasons == (Reason("industry", 15, {"industry": "Finance"}),)
    assert (factory.reasons, unknown.reasons) == ((), ())


@pytest.mark.parametrize(
    ("direction", "employer_type", "expected"),
    [
        ("public_exam", "government", "Government agency"),
        ("public_exam", "public_institution", "Public institution"),
        ("grassroots", "social_organisation", "Social organisation"),
        ("army", "military", "Armed forces"),
        ("public_exam", "private", None),
        ("job", "government", None),
    ],
)
def test_the_kind_of_employer_a_direction_aims_at(direction: str, employer_type: str, expected: str | None) -> None:
    m = match(
        Profile(major_id=MAJOR, direction=direction),
        Offer(major_ids=frozenset({OTHER_MAJOR}), employer_type=employer_type),
        TODAY,
    )

    assert m.reasons == ((Reason("employer_kind", 10, {"kind": expected}),) if expected else ())
    # The kind of employer alone is not a fit with the major or the stated intention.
    assert not m.fits


@pytest.mark.parametrize(
    ("expectation", "salary_max", "reason"),
    [
        (5000, 6000, Reason("salary", 10, {"salary": 6000})),
        (5000, 5000, Reason("salary", 10, {"salary": 5000})),
        (5000, 4500, Reason("salary_below", -10, {"salary": 4500})),
        (5000, None, None),
        (None, 6000, None),
    ],
)
def test_salary_against_what_the_student_expects(expectation: int | None, salary_max: int | None, reason) -> None:  # type: ignore[no-untyped-def]
    m = match(
        Profile(major_id=MAJOR, salary_expectation=expectation),
        Offer(major_ids=frozenset({OTHER_MAJOR}), salary_max=salary_max),
        TODAY,
    )

    assert m.reasons == ((reason,) if reason else ())
    assert m.score == (reason.points if reason else 0)


@pytest.mark.parametrize(
    ("days", "soon"),
    [(0, True), (CLOSING_SOON_DAYS, True), (CLOSING_SOON_DAYS + 1, False), (-1, False)],
)
def test_closing_soon(days: int, soon: bool) -> None:
    deadline = TODAY + dt.timedelta(days=days)

    m = match(ANYWHERE, Offer(major_ids=frozenset({OTHER_MAJOR}), deadline=deadline), TODAY)

    assert m.reasons == ((Reason("closing_soon", 5, {"deadline": deadline.isoformat()}),) if soon else ())


def test_every_reason_adds_up_in_a_fixed_order() -> None:
    profile = Profile(
        major_id=MAJOR,
        major_name="软件技术",
        home_province="河北省",
        home_city="石家庄市",
        direction="public_exam",
        industries="software",
        near_home=True,
        salary_expectation=4000,
    )
    offer = Offer(
        major_ids=frozenset({MAJOR}),
        province="河北省",
        city="石家庄市",
        industry="I",
        employer_type="public_institution",
        employer_is_partner=True,
        salary_max=4500,
        deadline=D(2024, 3, 20),
    )

    m = match(profile, offer, TODAY)

    assert codes(m) == ["major", "home_city", "industry", "employer_kind", "salary", "partner", "closing_soon"]
    assert m.score == 40 + 30 + 15 + 10 + 10 + 5 + 5
    assert m.as_json()[0] == {"code": "major", "points": 40, "params": {"major": "软件技术"}}
    assert [r.text() for r in m.reasons] == [
        "Wants your major (软件技术)",
        "In your home city, 石家庄市",
        "In an industry your plan names: Information transmission, software and IT services",
        "The kind of employer your direction aims at: Public institution",
        "Pays up to 4500 yuan, at least what you expect",
        "A partner employer of the school",
        "Closes soon: 2024-03-20",
    ]


def test_ties_break_on_the_earlier_deadline_then_none_last_then_the_name() -> None:
    offers = {
        "丙": Offer(deadline=None),
        "乙": Offer(deadline=D(2024, 6, 1)),
        "甲": Offer(deadline=D(2024, 6, 1)),
        "丁": Offer(deadline=D(2024, 5, 1)),
        "戊": Offer(major_ids=frozenset({MAJOR}), deadline=None),
    }
    names = list(offers)

    first = ranked(ANYWHERE, offers)
    random.Random(7).shuffle(names)
    again = ranked(ANYWHERE, {n: offers[n] for n in names})

    assert [name for name, _ in first] == ["戊", "丁", "乙", "甲", "丙"]
    assert again == first


# --- Suggestions on a small world -------------------------------------------------------------------------------


def test_positions_suggested_to_a_student_leave_out_what_they_cannot_take(world: World) -> None:
    save_plan(
        actor=world.helper, student=world.own, expected_version=None, today=TODAY, direction="job", near_home=True
    )
    home = make_employer(world.school, "石家庄华信科技有限公司")
    beijing = make_employer(world.school, "北京云图科技有限公司", province="北京市", city="北京市")
    far = make_employer(world.other_school, "石家庄远航物流有限公司")
    make_position(home, "软件测试工程师", deadline=D(2024, 5, 31))
    make_position(home, "测试助理", deadline=D(2024, 4, 30))
    make_position(beijing, "运维工程师")
    make_position(home, "已招满", status="filled")
    make_position(home, "已截止", deadline=D(2024, 3, 14))
    make_position(far, "外校岗位")
    make_position(home, "测试实习生", kind="internship")
    recommend(actor=world.helper, student=world.own, position=make_position(beijing, "已推荐"), today=TODAY)

    jobs = suggest_positions(world.own, TODAY)
    internships = suggest_positions(world.own, TODAY, kinds=("internship",))
    first = suggest_positions(world.own, TODAY, limit=1)

    # Both home-city jobs score 45 (any major + home city): the earlier deadline first.
    assert [(p.title, m.score) for p, m in jobs] == [("测试助理", 45), ("软件测试工程师", 45), ("运维工程师", 15)]
    assert [p.title for p, _ in internships] == ["测试实习生"]
    assert [p.title for p, _ in first] == ["测试助理"]


def test_students_suggested_for_a_position_are_unplaced_ledger_graduates_in_reach(world: World) -> None:
    actor = system_user()
    employer = make_employer(world.school, "石家庄华信科技有限公司")
    position = make_position(employer, "服装设计助理")
    position.majors.set([world.own.major])
    other = make_position(employer, "质检员")

    def in_ledger(student):  # type: ignore[no-untyped-def]
        join_ledger(
            actor=actor,
            student=student,
            joined_on=D(2022, 9, 1),
            reason="入学普查：低保家庭",
            categories=["subsistence_allowance"],
            today=TODAY,
        )
        return student

    in_ledger(make_student(world.class1, name="王芳"))
    in_ledger(make_student(world.class2, name="李强"))
    in_ledger(world.other_school_student)
    placed = in_ledger(make_student(world.class1, name="张伟"))
    record_destination(actor=actor, student=placed, code="10", today=TODAY, employer_name="河北冀之力商贸有限公司")
    in_ledger(make_student(world.class1, name="赵明", cohort=2023))  # graduates in 2026
    already = in_ledger(make_student(world.class1, name="孙丽"))
    recommend(actor=actor, student=already, position=position, today=TODAY)
    # `classmate` is not in the ledger.

    by_office = suggest_students(world.office, position, TODAY)
    by_leader = suggest_students(world.leader, position, TODAY)
    by_helper = suggest_students(world.helper, position, TODAY)
    other_position = suggest_students(world.office, other, TODAY)

    # The major's students first (40), then dept2's (0); equal scores by student number.
    assert [(s.name, m.score) for s, m in by_office] == [("田斌臣", 40), ("王芳", 40), ("李强", 0)]
    assert [s.name for s, _ in by_leader] == ["田斌臣", "王芳"]
    assert [s.name for s, _ in by_helper] == ["田斌臣"]
    assert [s.name for s, _ in other_position] == ["田斌臣", "王芳", "李强", "孙丽"]
