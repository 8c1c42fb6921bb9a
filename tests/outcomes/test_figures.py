"""Placement figures on a small cohort whose every number is computed by hand below.

The cohort of 2024 (graduating 30 June) in the world's school, eight graduates, written as the year goes by:

| student | dept | ledger | what happens | on 31 Aug | on 31 Dec |
| --- | --- | --- | --- | --- | --- |
| 田斌臣 own | 1 | yes (2021) | 11 labour contract 10 May, verified 1 Jun | employed, verified | same |
| 刘洋 classmate | 1 | no | 80 further study 1 Jul | further study | same |
| 陈静 dept2_student | 2 | no | 70 seeking 15 Jul → 10 agreement 10 Sep | seeking | employed |
| 李强 | 1 | no | 71 preparing for further study 1 Aug | not seeking | same |
| 赵敏 | 2 | from 1 Oct | nothing recorded | unknown | unknown |
| 王芳 | 1 | yes | 10 agreement 15 Jun → unemployed at a follow-up 1 Oct (70) | employed | seeking |
| 孙悦 | 2 | no | 76 freelance 20 Aug, verified 5 Sep | employed (flexible), unverified | verified |
| 周婷 | 1 | no | 80 further study 15 Nov | unknown | further study |

Not in the cohort: a student who withdrew (placed, but not a graduate), one graduating in 2025, and the other
school's student (outside the scope).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bangfu.outcomes.queries import graduates_of, placement_figures, snapshot_dates
from bangfu.outcomes.services import attach_evidence, record_destination, record_follow_up, verify_destination
from bangfu.students.models import Student, StudentStatus
from bangfu.students.services import join_ledger
from tests.factories import make_student, system_user
from tests.students.pages import PDF, ledger_student

AUG, DEC = snapshot_dates(2024)


def d(month: int, day: int) -> dt.date:
    return dt.date(2024, month, day)


def _verified(actor, destination, kind: str, on: dt.date) -> None:  # type: ignore[no-untyped-def]
    destination = attach_evidence(
        actor=actor, destination=destination, evidence=SimpleUploadedFile("证明.pdf", PDF), kind=kind
    )
    verify_destination(actor=actor, destination=destination, today=on)


@pytest.fixture
def year(world, settings, tmp_path):  # type: ignore[no-untyped-def]
    """The cohort up to 31 August; `rest_of_year()` writes September to December."""
    settings.MEDIA_ROOT = tmp_path
    office = world.office
    li = make_student(world.class1, name="李强")
    zhao = make_student(world.class2, name="赵敏")
    wang = ledger_student(world.class1, name="王芳", helper=world.helper, categories=["subsistence_allowance"])
    sun = make_student(world.class2, name="孙悦")
    zhou = make_student(world.class1, name="周婷")
    quit_ = make_student(world.class1, name="吴昊", status=StudentStatus.WITHDRAWN)
    later = make_student(world.class1, name="郑爽", cohort=2022)

    def put(student, code, on, **fields):  # type: ignore[no-untyped-def]
        return record_destination(actor=office, student=student, code=code, today=on, **fields)

    own = put(world.own, "11", d(5, 10), employer_name="石家庄华信科技有限公司")
    _verified(office, own, "labour_contract", d(6, 1))
    put(wang, "10", d(6, 15), employer_name="河北钢铁集团有限公司")
    put(world.classmate, "80", d(7, 1), employer_name="河北科技大学")
    put(world.dept2_student, "70", d(7, 15))
    put(li, "71", d(8, 1))
    sun_d = put(sun, "76", d(8, 20), employer_name="自由撰稿")
    put(quit_, "11", d(6, 1), employer_name="退学后就业单位")
    put(later, "80", d(7, 1), employer_name="提前升学")
    record_destination(
        actor=world.outsider, student=world.other_school_student, code="11", today=d(6, 1), employer_name="外校单位"
    )

    def rest_of_year() -> None:
        _verified(office, sun_d, "freelance_proof", d(9, 5))
        put(world.dept2_student, "10", d(9, 10), employer_name="保定长城汽车股份有限公司")
        record_follow_up(actor=world.helper, student=wang, done_on=d(10, 1), status="unemployed", today=d(10, 1))
        join_ledger(
            actor=system_user(),
            student=zhao,
            joined_on=d(10, 1),
            reason="离校后认定：零就业家庭",
            categories=["zero_employment"],
            today=d(10, 1),
        )
        put(zhou, "80", d(11, 15), employer_name="河北师范大学")

    return rest_of_year


def cohort(world) -> object:  # type: ignore[no-untyped-def]
    return graduates_of(Student.objects.filter(school=world.school), 2024)


def numbers(figures) -> dict[str, object]:  # type: ignore[no-untyped-def]
    keys = ("graduates", "known", "employed", "flexible", "further_study", "placed", "not_seeking", "seeking")
    keys += ("unknown", "verified", "placement_rate", "knowledge_rate", "verified_share", "career_outcomes_rate")
    return {k: figures.as_dict()[k] for k in keys}


AUGUST = {
    "graduates": 8,
    "known": 6,
    "employed": 3,  # own, 王芳, 孙悦
    "flexible": 1,  # 孙悦
    "further_study": 1,  # classmate
    "placed": 4,
    "not_seeking": 1,  # 李强
    "seeking": 1,  # dept2_student
    "unknown": 2,  # 赵敏, 周婷
    "verified": 1,  # own (孙悦's evidence is verified only on 5 Sep)
    "placement_rate": 50.0,  # 4 / 8
    "knowledge_rate": 75.0,  # 6 / 8
    "verified_share": 25.0,  # 1 / 4
    "career_outcomes_rate": 80.0,  # 4 / (6 - 1)
}
DECEMBER = {
    "graduates": 8,
    "known": 7,
    "employed": 3,  # own, dept2_student, 孙悦 (王芳 lost her job)
    "flexible": 1,
    "further_study": 2,  # classmate, 周婷
    "placed": 5,
    "not_seeking": 1,
    "seeking": 1,  # 王芳
    "unknown": 1,  # 赵敏
    "verified": 2,  # own, 孙悦
    "placement_rate": 62.5,  # 5 / 8
    "knowledge_rate": 87.5,  # 7 / 8
    "verified_share": 40.0,  # 2 / 5
    "career_outcomes_rate": 83.3,  # 5 / (7 - 1)
}


def test_the_august_snapshot_by_hand(world, year) -> None:
    [figures] = placement_figures(students=cohort(world), as_of=AUG)
    assert numbers(figures) == AUGUST
    shares = figures.as_dict()
    assert (shares["employed_share"], shares["further_study_share"], shares["not_placed_share"]) == (37.5, 12.5, 50.0)


def test_a_snapshot_computed_later_equals_the_one_of_that_date(world, year) -> None:
    on_the_day = placement_figures(students=cohort(world), as_of=AUG, by="department")
    year()
    later = placement_figures(students=cohort(world), as_of=AUG, by="department")
    assert later == on_the_day
    assert numbers(placement_figures(students=cohort(world), as_of=AUG)[0]) == AUGUST


def test_the_december_snapshot_by_hand(world, year) -> None:
    year()
    assert numbers(placement_figures(students=cohort(world), as_of=DEC)[0]) == DECEMBER


def test_by_department(world, year) -> None:
    year()
    rows = {f.key: f for f in placement_figures(students=cohort(world), as_of=DEC, by="department")}
    dept1, dept2 = rows[world.dept1.pk], rows[world.dept2.pk]
    # dept1: own (11, verified), classmate (80), 李强 (71), 王芳 (70), 周婷 (80)
    assert (dept1.graduates, dept1.known, dept1.placed, dept1.verified, dept1.not_seeking) == (5, 5, 3, 1, 1)
    assert (dept1.placement_rate, dept1.knowledge_rate, dept1.verified_share, dept1.career_outcomes_rate) == (
        60.0,
        100.0,
        33.3,
        75.0,
    )
    # dept2: dept2_student (10), 赵敏 (unknown), 孙悦 (76, verified)
    assert (dept2.graduates, dept2.known, dept2.employed, dept2.flexible, dept2.verified) == (3, 2, 2, 1, 1)
    assert (dept2.placement_rate, dept2.knowledge_rate, dept2.verified_share, dept2.career_outcomes_rate) == (
        66.7,
        66.7,
        50.0,
        100.0,
    )


def test_ledger_students_against_the_others_as_of_each_date(world, year) -> None:
    year()
    aug = {f.key: (f.graduates, f.placed) for f in placement_figures(students=cohort(world), as_of=AUG, by="ledger")}
    # On 31 Aug the ledger holds own and 王芳, both placed; 赵敏 joins on 1 Oct.
    assert aug == {True: (2, 2), False: (6, 2)}
    dec = {f.key: f for f in placement_figures(students=cohort(world), as_of=DEC, by="ledger")}
    assert (dec[True].graduates, dec[True].placed, dec[True].placement_rate) == (3, 1, 33.3)
    assert (dec[False].graduates, dec[False].placed, dec[False].placement_rate) == (5, 4, 80.0)


def test_by_category_counts_a_student_in_each_of_their_categories(world, year) -> None:
    year()
    rows = {f.key: (f.graduates, f.placed) for f in placement_figures(students=cohort(world), as_of=DEC, by="category")}
    assert rows == {
        "orphan": (1, 1),  # own
        "poverty_alleviated": (1, 1),  # own
        "subsistence_allowance": (1, 0),  # 王芳
        "zero_employment": (1, 0),  # 赵敏
    }
    aug = {f.key for f in placement_figures(students=cohort(world), as_of=AUG, by="category")}
    assert "zero_employment" not in aug  # not in the ledger yet on 31 Aug


def test_figures_before_anything_was_recorded(world, year) -> None:
    [figures] = placement_figures(students=cohort(world), as_of=d(3, 15))
    assert (figures.graduates, figures.known, figures.placement_rate, figures.career_outcomes_rate) == (8, 0, 0.0, None)
    assert figures.verified_share is None


def test_an_empty_cohort_has_no_rates(world) -> None:
    [figures] = placement_figures(students=graduates_of(Student.objects.all(), 2030), as_of=DEC)
    assert figures.graduates == 0 and figures.placement_rate is None and figures.knowledge_rate is None


def test_the_figures_of_a_cohort_take_at_most_two_queries(world, year, django_assert_max_num_queries) -> None:
    year()
    students = cohort(world)
    with django_assert_max_num_queries(2):
        [total] = placement_figures(students=students, as_of=DEC)
        rows = placement_figures(students=students, as_of=DEC, by="department")
    assert total.placed == sum(r.placed for r in rows) == 5
