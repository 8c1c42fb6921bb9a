"""The dashboards (issue 7 §1): who opens which board, exact figures on a small school, every figure equal to the
rows of the list it links to, scoping, bounded queries, both languages.

The scene, on Friday 20 September 2024 (`BOARD_DAY`), in the world's school:

| student | dept | ledger | graduates | destination (recorded on) | helper |
| --- | --- | --- | --- | --- | --- |
| 田斌臣 own | 1 | yes | 2024 | 11 labour contract (10 May), verified 1 Jun | 郑银乐 |
| 王芳 | 1 | yes | 2024 | 10 agreement, by accepting 郑银乐's recommendation (15 Jun) | 郑银乐 |
| 李强 | 1 | yes | 2024 | 70 seeking work (1 Jul) | 赵辅导员 |
| 周杰 | 1 | yes | 2024 | none | none |
| 吴昊 | 1 | yes, withdrew | 2024 | — (not a graduate) | — |
| 刘洋 classmate | 1 | no | 2024 | 80 further study (1 Jul) | — |
| 陈晨 | 2 | yes | 2024 | 80 further study (10 Jul) | 周老师 |
| 赵敏 | 1 | yes | 2023 | 10 agreement (10 Feb 2023) | — |
| 钱多 | 1 | yes | 2023 | 11 labour contract (1 Oct 2023) | — |
| 郑爽 | 2 | from Jan 2024 | 2023 | none | — |
| 孙悦 | 2 | yes | 2022 | 80 further study (1 Jul 2022) | — |

So the 2024 ledger graduates are 5, 3 placed (2 in dept1, 1 in dept2), 2 unplaced (李强, 周杰, both dept1). On the
same day of 2023 the 2023 cohort had 2 ledger graduates (郑爽 joined later), 1 placed; on that day of 2022 the
2022 cohort had 1, placed. 郑银乐 recommended two positions: to 田斌臣 (declined) and to 王芳 (accepted).
Subsidies: 田斌臣's job-search subsidy is paid (2024 budget 15,000), 王芳's waits for the department leader.
Tracks: 田斌臣 is on the public-exam track, 刘洋 enlisted (succeeded).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bangfu.assistance.progress import rebuild_progress
from bangfu.opportunities.models import RecommendationStatus
from bangfu.opportunities.services import change_recommendation, recommend
from bangfu.organisation.models import Role, User
from bangfu.outcomes.services import attach_evidence, record_destination, verify_destination
from bangfu.students.models import Student, StudentStatus
from bangfu.students.queries import apply_student_filters
from bangfu.students.services import join_ledger
from bangfu.subsidies.models import SubsidyType
from bangfu.subsidies.services import install_default_types, set_budget, submit_application
from bangfu.tracks.services import install_default_tracks, join_track, record_milestone
from tests.conftest import TODAY, World, _replayed_world, make_world
from tests.factories import make_employer, make_position, make_staff, make_student, system_user
from tests.snapshot import replayable
from tests.students.pages import PDF, ledger_student
from tests.subsidies.test_services import apply, paid

SHANGHAI = ZoneInfo("Asia/Shanghai")
BOARD_DAY = dt.date(2024, 9, 20)
NOW = dt.datetime(2024, 9, 20, 10, tzinfo=SHANGHAI)
FIGURE = re.compile(r'<a href="([^"]+)" class="bf-figure[^"]*" data-figure="([\w-]+)">(\d+)</a>')
D = dt.date

AsUser = Callable[[User], Client]
SCHOOL = reverse("reports:school")
DEPARTMENT = reverse("reports:department")
HELPER = reverse("reports:helper")
INDEX = reverse("reports:dashboard")


@dataclass
class Scene:
    wang: Student
    li: Student
    zhou: Student
    chen: Student
    zhao: Student
    qian: Student
    late: Student
    sun: Student


def _ledger(world: World, class_unit, name: str, *, joined_on: D, cohort: int = 2021, **kw) -> Student:  # type: ignore[no-untyped-def]
    student = make_student(class_unit, name=name, cohort=cohort, **kw)
    join_ledger(
        actor=system_user(),
        student=student,
        joined_on=joined_on,
        reason="入学普查：低保家庭",
        categories=kw.pop("categories", None) or ["subsistence_allowance"],
        today=BOARD_DAY,
    )
    return student


def _put(world: World, student: Student, code: str, on: D, **fields) -> None:  # type: ignore[no-untyped-def]
    record_destination(actor=world.office, student=student, code=code, today=on, **fields)


@pytest.fixture(scope="session")
def scene_media() -> Iterator[Path]:
    """The scene's evidence files, kept for every test of the process that replays its rows, removed at the end."""
    with tempfile.TemporaryDirectory(prefix="bangfu-scene-media-") as folder:
        yield Path(folder)


def _world_and_scene() -> tuple[World, Scene]:
    world = make_world()
    return world, make_scene(world)


# The scene costs more than most tests here: built once per process with its world, then written back.
_replayed_world_and_scene = replayable(_world_and_scene)


@pytest.fixture
def world_and_scene(db: None, settings, scene_media: Path) -> tuple[World, Scene]:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = scene_media
    return _replayed_world_and_scene()


@pytest.fixture
def world(request: pytest.FixtureRequest, db: None) -> World:
    """The world of tests/conftest.py; for a test with the scene, the world the scene was built in."""
    if "scene" in request.fixturenames:
        world_and_scene: tuple[World, Scene] = request.getfixturevalue("world_and_scene")
        return world_and_scene[0]
    return _replayed_world()


@pytest.fixture
def scene(world: World, world_and_scene: tuple[World, Scene]) -> Scene:
    return world_and_scene[1]


def make_scene(world: World) -> Scene:
    """The scene of the module docstring (evidence is written under MEDIA_ROOT: point it at a temporary folder)."""
    office, helper = world.office, world.helper
    dept2_teacher = make_staff("dept2teacher", Role.TEACHER, world.dept2, full_name="周老师")
    wang = ledger_student(world.class1, name="王芳", helper=helper)
    li = ledger_student(world.class1, name="李强", helper=world.counsellor, categories=["zero_employment"])
    zhou = ledger_student(world.class1, name="周杰", categories=["disabled"])
    ledger_student(world.class1, name="吴昊", status=StudentStatus.WITHDRAWN)
    chen = ledger_student(world.class2, name="陈晨", helper=dept2_teacher)
    zhao = _ledger(world, world.class1, "赵敏", cohort=2020, joined_on=D(2021, 10, 1))
    qian = _ledger(world, world.class1, "钱多", cohort=2020, joined_on=D(2021, 10, 1))
    late = _ledger(world, world.class2, "郑爽", cohort=2020, joined_on=D(2024, 1, 5))
    sun = _ledger(world, world.class2, "孙悦", cohort=2019, joined_on=D(2020, 10, 1))

    own = record_destination(
        actor=office, student=world.own, code="11", today=D(2024, 5, 10), employer_name="石家庄华信科技有限公司"
    )
    own = attach_evidence(
        actor=office, destination=own, evidence=SimpleUploadedFile("劳动合同.pdf", PDF), kind="labour_contract"
    )
    verify_destination(actor=office, destination=own, today=D(2024, 6, 1))
    _put(world, li, "70", D(2024, 7, 1))
    _put(world, world.classmate, "80", D(2024, 7, 1), employer_name="河北科技大学")
    _put(world, chen, "80", D(2024, 7, 10), employer_name="河北师范大学")
    _put(world, zhao, "10", D(2023, 2, 10), employer_name="河北钢铁集团有限公司")
    _put(world, qian, "11", D(2023, 10, 1), employer_name="唐山宏达物流有限公司")
    _put(world, sun, "80", D(2022, 7, 1), employer_name="燕山大学")
    record_destination(
        actor=world.outsider, student=world.other_school_student, code="11", today=D(2024, 6, 1), employer_name="外校"
    )

    # 郑银乐's recommendations: declined by 田斌臣, accepted by 王芳 (which records her destination).
    employer = make_employer(world.school)
    first, second = make_position(employer, title="软件测试工程师"), make_position(employer, title="运维工程师")
    declined = recommend(actor=helper, student=world.own, position=first, today=D(2024, 4, 1))
    declined = change_recommendation(
        actor=helper,
        recommendation=declined,
        to_status=RecommendationStatus.DECLINED,
        on=D(2024, 4, 8),
        today=D(2024, 4, 8),
        reason="location",
    )
    accepted = recommend(actor=helper, student=wang, position=second, today=D(2024, 5, 1))
    for status, on in (("applied", D(2024, 5, 6)), ("offer", D(2024, 6, 1)), ("accepted", D(2024, 6, 15))):
        accepted = change_recommendation(actor=helper, recommendation=accepted, to_status=status, on=on, today=on)

    # Subsidies: one paid in March, one waiting for the department leader.
    types = {t.code: t for t in install_default_types(actor=office, school=world.school)}
    job_search: SubsidyType = types["job_search"]
    set_budget(actor=office, subsidy_type=job_search, year=2024, amount=Decimal("15000"))
    paid(world, job_search)
    waiting = apply(world, job_search, student=wang)
    submit_application(actor=helper, application=waiting, today=TODAY)

    # Tracks: 田斌臣 on the public exam; 刘洋 enlisted.
    tracks = {t.code: t for t in install_default_tracks(actor=office, school=world.school)}
    join_track(
        actor=system_user(), student=world.own, track=tracks["public_exam"], joined_on=D(2024, 1, 8), today=TODAY
    )
    army = join_track(
        actor=system_user(), student=world.classmate, track=tracks["army"], joined_on=D(2023, 9, 1), today=TODAY
    )
    for code, day in (
        ("registered", D(2023, 9, 5)),
        ("physical_exam", D(2023, 10, 9)),
        ("political_review", D(2023, 11, 2)),
        ("enlisted", D(2024, 3, 1)),
    ):
        army.refresh_from_db()
        record_milestone(actor=system_user(), enrolment=army, milestone=code, reached_on=day, today=TODAY)

    rebuild_progress(today=BOARD_DAY)
    return Scene(wang=wang, li=li, zhou=zhou, chen=chen, zhao=zhao, qian=qian, late=late, sun=sun)


@pytest.fixture
def on_board_day(time_machine):  # type: ignore[no-untyped-def]
    time_machine.move_to(NOW, tick=False)


def figures(page: str) -> list[tuple[str, str, int]]:
    return [(html.unescape(href), name, int(value)) for href, name, value in FIGURE.findall(page)]


def named(page: str, name: str) -> list[int]:
    return [value for _href, n, value in figures(page) if n == name]


def rows_behind(client: Client, href: str) -> int:
    """How many rows the list behind a figure holds (students, applications or enrolments)."""
    response = client.get(href)
    assert response.status_code == 200, href
    return response.context["page"].paginator.count


def assert_every_figure_is_its_list(client: Client, page: str) -> int:
    found = figures(page)
    assert found
    for href, name, value in found:
        assert rows_behind(client, href) == value, (name, href)
    return len(found)


# --- who opens which board -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("principal", SCHOOL),
        ("office", SCHOOL),
        ("leader", DEPARTMENT),
        ("helper", HELPER),
        ("counsellor", HELPER),
    ],
)
def test_the_dashboard_link_opens_each_roles_board(world: World, as_user: AsUser, who: str, target: str) -> None:
    response = as_user(getattr(world, who)).get(INDEX)
    assert response.status_code == 302 and response["Location"] == target


def test_students_have_no_dashboard_and_visitors_log_in(world: World, as_user: AsUser, client: Client) -> None:
    assert client.get(INDEX).status_code == 302 and "/accounts/login/" in client.get(INDEX)["Location"]
    student = as_user(world.student_user)
    for url in (INDEX, SCHOOL, DEPARTMENT, HELPER):
        assert student.get(url).status_code == 403


@pytest.mark.parametrize("who", ["leader", "helper", "counsellor"])
def test_only_school_wide_roles_open_the_school_board(world: World, as_user: AsUser, who: str) -> None:
    assert as_user(getattr(world, who)).get(SCHOOL).status_code == 403


@pytest.mark.parametrize("who", ["helper", "counsellor"])
def test_staff_who_lead_nothing_have_no_department_board(world: World, as_user: AsUser, who: str) -> None:
    assert as_user(getattr(world, who)).get(DEPARTMENT).status_code == 403


def test_a_department_leader_sees_only_their_department(
    world: World, as_user: AsUser, scene: Scene, on_board_day: None
) -> None:
    client = as_user(world.leader)
    assert client.get(DEPARTMENT, {"department": world.dept2.public_id}).status_code == 404
    assert client.get(DEPARTMENT, {"department": "not-a-uuid"}).status_code == 404
    page = client.get(DEPARTMENT).content.decode()
    assert "服装工程系" in page and "陈晨" not in page and "机电工程系" not in page
    assert as_user(world.outsider).get(DEPARTMENT, {"department": world.dept1.public_id}).status_code == 404


def test_the_school_board_drills_into_a_department(
    world: World, as_user: AsUser, scene: Scene, on_board_day: None
) -> None:
    client = as_user(world.principal)
    school = client.get(SCHOOL).content.decode()
    drill = f"{DEPARTMENT}?department={world.dept2.public_id}&amp;year=2024"
    assert drill in school
    page = client.get(html.unescape(drill)).content.decode()
    assert "机电工程系" in page and "Cleared to zero" in page


# --- exact figures ------------------------------------------------------------------------------------------------


def test_the_school_board_compares_the_same_day_of_earlier_years(
    world: World, as_user: AsUser, scene: Scene, on_board_day: None
) -> None:
    response = as_user(world.principal).get(SCHOOL)
    board = response.context["board"]
    rows = [(r.year, r.as_of, r.graduates.value, r.placed.value, r.unplaced.value, r.rate) for r in board.years]
    assert rows == [
        (2024, None, 5, 3, 2, 60.0),
        (2023, D(2023, 9, 20), 2, 1, 1, 50.0),  # 钱多 was placed in October; 郑爽 joined the ledger in 2024
        (2022, D(2022, 9, 20), 1, 1, 0, 100.0),
    ]
    page = response.content.decode()
    assert named(page, "unplaced") == [2] and named(page, "placed") == [3] and named(page, "graduates") == [5, 5]
    assert [(r.label, r.graduates.value, r.placed.value, r.rate) for r in board.departments] == [
        ("机电工程系", 1, 1, 100.0),
        ("服装工程系", 4, 2, 50.0),
    ]


def test_the_school_board_shows_compliance_subsidies_and_tracks(
    world: World, as_user: AsUser, scene: Scene, on_board_day: None
) -> None:
    board = as_user(world.office).get(SCHOOL).context["board"]
    # Every ledger student, whatever their year: 7 in dept1 (吴昊, who withdrew, is still in the ledger), 3 in dept2.
    assert [(r.label, r.ledger) for r in board.compliance] == [("服装工程系", 7), ("机电工程系", 3)]
    assert board.compliance_total.ledger == 10
    [(school, subsidies)] = board.subsidies
    assert school == world.school
    job_search = next(r for r in subsidies if r.paid_count.value)
    assert (job_search.budget, job_search.paid, job_search.paid_count.value, job_search.used) == (
        Decimal("15000.00"),
        Decimal("1500.00"),
        1,
        10.0,
    )
    [(school, tracks)] = board.tracks
    by_name = {r.name: (r.enrolled.value, r.succeeded.value) for r in tracks}
    assert by_name["Public-service exam preparation"] == (1, 0) and by_name["Enlisting in the army"] == (0, 1)


def test_the_school_board_charts(world: World, as_user: AsUser, scene: Scene, on_board_day: None) -> None:
    charts = {c.key: c for c in as_user(world.principal).get(SCHOOL).context["board"].charts}
    assert {b.label: b.figure.value for b in charts["groups"].bars} == {
        "Employed": 2,
        "Further study": 1,
        "Not placed": 1,
        "No destination recorded": 1,
    }
    trend = {b.label: b.figure.value for b in charts["trend"].bars}
    assert list(trend)[:: len(trend) - 1] == ["2023-09", "2024-09"]
    assert (trend["2024-05"], trend["2024-06"], trend["2024-07"], sum(trend.values())) == (1, 1, 1, 3)
    categories = {b.label: (b.figure.value, b.extra.value) for b in charts["categories"].bars}  # type: ignore[union-attr]
    assert categories["Minimum-living-allowance household"] == (2, 2)  # 王芳, 陈晨
    assert categories["Household lifted out of poverty (formerly registered poor)"] == (1, 1)
    assert categories["Household with no employed member"] == (1, 0)
    assert [(b.label, b.figure.value, b.extra.value) for b in charts["departments"].bars] == [  # type: ignore[union-attr]
        ("机电工程系", 1, 1),
        ("服装工程系", 4, 2),
    ]


def test_the_zero_board_lists_the_unplaced_by_name(
    world: World, as_user: AsUser, scene: Scene, on_board_day: None
) -> None:
    response = as_user(world.leader).get(DEPARTMENT)
    board, rows = response.context["board"], response.context["rows"]
    assert (board.now.graduates.value, board.now.placed.value, board.now.unplaced.value) == (4, 2, 2)
    assert {r.student.name: r.helper for r in rows} == {"李强": "赵辅导员", "周杰": None}
    page = response.content.decode()
    assert 'id="unplaced-count"' in page and named(page, "unplaced") == [2]
    assert "No helper" in page and "no contact recorded" in page
    # After graduation the follow-up standards apply and nobody has had one yet: both helpers are wholly behind.
    assert [(r.name, r.ledger.value, r.behind.value, r.compliance) for r in board.helpers_behind] == [
        ("郑银乐", 2, 2, 0),
        ("赵辅导员", 1, 1, 0),
    ]
    assert board.approvals.value == 1
    assert {b.label: b.figure.value for b in board.charts[1].bars} == {
        "Employed": 2,
        "Further study": 0,
        "Not placed": 1,
        "No destination recorded": 1,
    }


def test_the_zero_board_says_days_since_the_last_contact_and_the_meters(
    world: World, as_user, scene, on_board_day
) -> None:  # type: ignore[no-untyped-def]
    from bangfu.assistance.services import record_activity

    record_activity(actor=world.counsellor, student=scene.li, kind="talk", occurred_on=D(2024, 9, 10), today=BOARD_DAY)
    rows = as_user(world.leader).get(DEPARTMENT).context["rows"]
    li = next(r for r in rows if r.student == scene.li)
    assert li.days_since_contact == 10
    assert li.total > 0 and li.met <= li.total and li.meters
    page = as_user(world.leader).get(DEPARTMENT).content.decode()
    assert "10 days since the last contact" in page


def test_the_helper_board(world: World, as_user: AsUser, scene: Scene, on_board_day: None) -> None:
    response = as_user(world.helper).get(HELPER)
    board = response.context["board"]
    assert {k: f.value for k, f in board.figures.items()} == {
        "students": 2,
        "ledger": 2,
        "meeting": 0,
        "overdue": 2,
        "at_risk": 2,
    }
    assert [c["student"].name for c in board.cards] == ["田斌臣", "王芳"]
    assert all(c["meters"] for c in board.cards)
    conversion = {r.stage: (r.recommendations, r.students.value) for r in board.conversion}
    assert conversion == {
        "recommended": (2, 2),
        "acted": (1, 1),  # 王芳 applied; 田斌臣 declined without applying
        "offered": (1, 1),
        "accepted": (1, 1),
        "declined": (1, 1),
        "effective": (1, 1),  # fits and acted on
    }
    assert board.acceptance_rate == 50.0


# --- every figure is the number of rows of its list --------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("principal", SCHOOL),
        ("office", SCHOOL),
        ("leader", DEPARTMENT),
        ("other_leader", DEPARTMENT),
        ("helper", HELPER),
        ("counsellor", HELPER),
        ("leader", HELPER),
    ],
)
def test_every_figure_equals_the_rows_of_the_list_it_links_to(
    world: World, as_user, scene, on_board_day, who, url
) -> None:  # type: ignore[no-untyped-def]
    client = as_user(getattr(world, who))
    page = client.get(url).content.decode()
    assert assert_every_figure_is_its_list(client, page) >= 5


def test_every_figure_of_a_drilled_department_and_an_earlier_year(
    world: World, as_user: AsUser, scene: Scene, on_board_day: None
) -> None:
    client = as_user(world.office)
    for params in ({"department": world.dept1.public_id}, {"department": world.dept2.public_id, "year": 2023}):
        page = client.get(DEPARTMENT, params).content.decode()
        assert_every_figure_is_its_list(client, page)
    page = client.get(SCHOOL, {"year": 2023}).content.decode()
    assert_every_figure_is_its_list(client, page)


def test_the_earlier_years_link_to_the_list_as_of_that_day(
    world: World, as_user: AsUser, scene: Scene, on_board_day: None
) -> None:
    client = as_user(world.principal)
    board = client.get(SCHOOL).context["board"]
    query = parse_qs(urlsplit(board.years[1].unplaced.url).query)
    assert query == {"graduating": ["2023"], "in_ledger": ["yes"], "as_of": ["2023-09-20"], "placed": ["no"]}
    response = client.get(board.years[1].unplaced.url)
    assert [s.name for s in response.context["page"]] == ["钱多"]
    assert "As of: 2023-09-20" in response.content.decode()


def _listed(client: Client, **params: object) -> set[str]:
    response = client.get(reverse("students:list"), params)
    return {s.name for s in response.context["page"].paginator.object_list}


def test_the_student_list_filters_behind_the_figures(world: World, as_user: AsUser, scene: Scene) -> None:
    client = as_user(world.office)
    cohort = {"graduating": 2024, "in_ledger": "yes"}
    assert _listed(client, **cohort) == {"周杰", "李强", "王芳", "田斌臣", "陈晨"}  # not 吴昊, who withdrew
    assert _listed(client, **cohort, placed="yes", verified="yes") == {"田斌臣"}
    assert _listed(client, **cohort, verified="no") == {"王芳", "陈晨"}
    assert _listed(client, **cohort, destination_group="none") == {"周杰"}
    assert _listed(client, **cohort, destination_group="not_placed") == {"李强"}
    assert _listed(client, **cohort, placed_from="2024-06-01", placed_until="2024-06-30") == {"王芳"}
    assert _listed(client, graduating=2023, in_ledger="yes") == {"郑爽", "赵敏", "钱多"}
    assert _listed(client, graduating=2023, in_ledger="yes", as_of="2023-09-20", placed="yes") == {"赵敏"}
    assert _listed(client, recommended_by=world.helper.public_id, recommendation="declined") == {"田斌臣"}
    # A value that cannot be one leaves the filter out with an error (as every filter of the list does)…
    assert client.get(reverse("students:list"), {"placed": "maybe"}).context["form"].errors
    # …and the query function itself answers nothing for it, never everything.
    students = Student.objects.visible_to(world.office)
    assert not apply_student_filters(students, destination_group="lost").exists()
    assert not apply_student_filters(students, graduating="soon").exists()
    assert not apply_student_filters(students, as_of="yesterday").exists()
    assert not apply_student_filters(students, recommendation="hired").exists()


# --- scoping ------------------------------------------------------------------------------------------------------


def test_the_helper_board_counts_only_their_students(
    world: World, as_user: AsUser, scene: Scene, on_board_day: None
) -> None:
    board = as_user(world.counsellor).get(HELPER).context["board"]
    assert board.figures["students"].value == 1  # 李强
    assert [c["student"].name for c in board.cards] == ["李强"]
    assert all(r.recommendations == 0 for r in board.conversion)


def test_the_other_school_sees_none_of_this_one(
    world: World, as_user: AsUser, scene: Scene, on_board_day: None
) -> None:
    board = as_user(world.outsider).get(SCHOOL).context["board"]
    assert [r.year for r in board.years] == [2024, 2023, 2022]
    assert [r.graduates.value for r in board.years] == [0, 0, 0]
    assert [s for s, _rows in board.subsidies] == [world.other_school]


# --- queries and languages -----------------------------------------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_students(
    world: World, as_user: AsUser, scene: Scene, on_board_day: None
) -> None:
    few = {
        url: _queries(as_user(user), url)
        for url, user in ((SCHOOL, world.principal), (DEPARTMENT, world.leader), (HELPER, world.helper))
    }
    for i in range(12):
        student = ledger_student(world.class1, name=f"新生{i}", helper=world.helper, categories=["rural"])
        if i % 2:
            _put(world, student, "10", D(2024, 8, 1), employer_name="河北钢铁集团有限公司")
    rebuild_progress(today=BOARD_DAY)
    many = {
        url: _queries(as_user(user), url)
        for url, user in ((SCHOOL, world.principal), (DEPARTMENT, world.leader), (HELPER, world.helper))
    }
    assert few == many, (few, many)
    assert many[SCHOOL] <= 30 and many[DEPARTMENT] <= 22 and many[HELPER] <= 16


@pytest.mark.parametrize("url", [SCHOOL, DEPARTMENT, HELPER])
def test_both_languages_render(world: World, as_user: AsUser, scene: Scene, on_board_day: None, url: str) -> None:
    user = {SCHOOL: world.principal, DEPARTMENT: world.leader, HELPER: world.helper}[url]
    client = as_user(user)
    for language, marker in (("en", 'lang="en"'), ("zh-hans", 'lang="zh-CN"')):
        client.cookies["django_language"] = language
        page = client.get(url).content.decode()
        assert marker in page
        assert ("echarts-6.1.0.min.js" in page and "bangfu/charts.js" in page) == (url != HELPER)
        assert "<script>" not in page  # the chart data sits in json_script blocks: no inline code


def test_charts_carry_their_data_and_links_in_json_blocks(
    world: World, as_user: AsUser, scene: Scene, on_board_day: None
) -> None:
    page = as_user(world.principal).get(SCHOOL).content.decode()
    for key in ("trend", "groups", "categories", "departments"):
        assert f'<script id="chart-{key}-data" type="application/json">' in page
        assert f'data-chart="chart-{key}-data"' in page
