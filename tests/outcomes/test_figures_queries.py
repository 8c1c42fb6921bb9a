"""Placement figures at cohort scale: one query per grouping, and the same numbers as a plain Python recount.

A few hundred graduates are bulk-inserted with a seeded mix of destinations: every code group, changes (a row
replaced by a later one), rows recorded after the date asked about, verified and unverified ones, ledger
entries that started or ended around the snapshot dates. The recount below reads every row into Python and
applies the definitions of DOMAIN.md §7 directly, so the two must agree on every figure of every group.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass

import pytest

from bangfu.organisation.models import OrgUnit, UnitKind
from bangfu.organisation.services import create_unit
from bangfu.outcomes.models import PLACED_GROUPS, Destination, DestinationCode
from bangfu.outcomes.queries import (
    GROUPINGS,
    Figures,
    figures_and_total,
    graduates_of,
    placement_figures,
    snapshot_dates,
)
from bangfu.students.models import LedgerCategory, LedgerEntry, Student, StudentStatus
from tests.factories import make_school, system_user

GRADUATES = 360
YEAR = 2024
GRADUATION = dt.date(YEAR, 6, 30)
AS_OF = (dt.date(YEAR, 3, 15), *snapshot_dates(YEAR), dt.date(YEAR + 1, 2, 1))
# Codes drawn for a graduate's (last) destination, with weights: mostly jobs, some study, a few not placed.
CODE_WEIGHTS = {
    "10": 20,
    "11": 25,
    "12": 8,
    "46": 2,
    "50": 2,
    "75": 1,
    "76": 4,
    "77": 4,
    "80": 14,
    "85": 1,
    "70": 10,
    "71": 5,
    "72": 4,
}
CATEGORIES = ("poverty_alleviated", "subsistence_allowance", "rural", "student_loan", "disabled", "orphan")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = "浩宇欣怡子轩梓涵俊杰雨萱博文思琪佳怡明轩诗雨晨阳"


@dataclass
class Cohort:
    school: OrgUnit
    departments: list[OrgUnit]
    majors: list[OrgUnit]


def _units() -> Cohort:
    u = make_school(departments=3)
    majors = [u["major1"], u["major2"], u["major3"]]
    extra = create_unit(kind=UnitKind.MAJOR, code="M1B", name="大数据技术", parent=u["dept1"])
    create_unit(kind=UnitKind.CLASS, code="C1B01", name="大数据2101班", parent=extra)
    majors.append(extra)
    return Cohort(u["school"], [u["dept1"], u["dept2"], u["dept3"]], majors)


def _build(rng: random.Random) -> Cohort:
    """Bulk-insert the cohort, some students of other years and some who withdrew, with ledger and destinations."""
    c = _units()
    actor = system_user()
    codes = {row.code: row for row in DestinationCode.objects.filter(school__isnull=True)}
    classes = {m.pk: m.children.get() for m in c.majors}
    students = []
    for n in range(GRADUATES + 40):
        major = rng.choice(c.majors)
        cohort = 2021 if n < GRADUATES else 2022  # the last forty graduate a year later
        status = StudentStatus.GRADUATED if n % 37 else StudentStatus.WITHDRAWN
        students.append(
            Student(
                school=c.school,
                department=major.parent,
                major=major,
                class_unit=classes[major.pk],
                student_number=f"{cohort}{n:06d}",
                name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                gender=rng.choice("MF"),
                cohort=cohort,
                enrolled_on=dt.date(cohort, 9, 1),
                expected_graduation=dt.date(cohort + 3, 6, 30),
                status=status,
            )
        )
    Student.objects.bulk_create(students)

    entries, categories = [], []
    # Ledger periods (joined, left): open ones, some that ended before or after the snapshots, one left and rejoined.
    periods = [
        [(dt.date(2021, 11, 1), None)],
        [(dt.date(2022, 3, 10), None)],
        [(dt.date(YEAR, 5, 1), None)],
        [(dt.date(2021, 11, 1), dt.date(2023, 9, 20))],
        [(dt.date(2021, 11, 1), dt.date(YEAR, 10, 1))],
        [(dt.date(2021, 11, 1), dt.date(2023, 9, 20)), (dt.date(YEAR, 5, 1), None)],
    ]
    for student in students:
        if rng.random() < 0.35:
            for joined, left in rng.choice(periods):
                entry = LedgerEntry(
                    student=student, joined_on=joined, left_on=left, join_reason="入学普查", joined_by=actor
                )
                entries.append(entry)
                for category in rng.sample(CATEGORIES, rng.randint(1, 3)):
                    categories.append(LedgerCategory(entry=entry, category=category))
    LedgerEntry.objects.bulk_create(entries)
    LedgerCategory.objects.bulk_create(categories)

    names, weights = list(CODE_WEIGHTS), list(CODE_WEIGHTS.values())
    destinations = []
    for student in students:
        if rng.random() < 0.1:
            continue  # outcome unknown
        # Up to three destinations in a row, each replacing the one before on the day the next was recorded.
        day = dt.date(2023, 10, 1) + dt.timedelta(days=rng.randint(0, 420))
        chain = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            chain.append((day, codes[rng.choices(names, weights)[0]]))
            day += dt.timedelta(days=rng.randint(0, 120))  # 0: replaced on the day it was recorded
        for i, (recorded, code) in enumerate(chain):
            superseded = chain[i + 1][0] if i + 1 < len(chain) else None
            verified = None
            if code.group in PLACED_GROUPS and rng.random() < 0.6:
                verified = recorded + dt.timedelta(days=rng.randint(0, 60))
                if superseded is not None and verified > superseded:
                    verified = None  # only the destination in force is verified
            destinations.append(
                Destination(
                    student=student,
                    code=code,
                    employer_name="石家庄华信科技有限公司" if code.group in PLACED_GROUPS else "",
                    recorded_on=recorded,
                    recorded_by=actor,
                    superseded_on=superseded,
                    verified_on=verified,
                    verified_by=actor if verified else None,
                )
            )
    Destination.objects.bulk_create(destinations)
    return c


def _recount(school: OrgUnit, as_of: dt.date, by: str | None) -> dict[object, Figures]:
    """The figures computed the plain way: every row into Python, the definitions applied one student at a time."""
    students = [
        s
        for s in Student.objects.filter(school=school)
        if s.expected_graduation.year == YEAR and s.status != StudentStatus.WITHDRAWN
    ]
    in_force: dict[int, Destination] = {}
    for d in Destination.objects.select_related("code"):
        if d.recorded_on <= as_of and (d.superseded_on is None or d.superseded_on > as_of):
            assert d.student_id not in in_force, "two destinations in force at once"
            in_force[d.student_id] = d
    entry_of: dict[int, LedgerEntry] = {}
    for e in LedgerEntry.objects.all():
        if e.joined_on <= as_of and (e.left_on is None or e.left_on > as_of):
            entry_of[e.student_id] = e
    categories: dict[int, set[str]] = defaultdict(set)
    for row in LedgerCategory.objects.all():
        categories[row.entry_id].add(row.category)

    def keys(s: Student) -> list[object]:
        if by is None:
            return [None]
        if by == "department":
            return [s.department_id]
        if by == "major":
            return [s.major_id]
        if by == "ledger":
            return [s.pk in entry_of]
        entry = entry_of.get(s.pk)
        return sorted(categories[entry.pk]) if entry else []

    counts: dict[object, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for s in students:
        d = in_force.get(s.pk)
        for key in keys(s):
            row = counts[key]
            row["graduates"] += 1
            if d is None:
                continue
            row["known"] += 1
            row["employed"] += d.code.group == "employed"
            row["flexible"] += d.code.group == "employed" and d.code.flexible
            row["further_study"] += d.code.group == "further_study"
            row["not_seeking"] += d.code.not_seeking
            row["verified"] += d.code.group in PLACED_GROUPS and d.verified_on is not None and d.verified_on <= as_of
    fields = ("graduates", "known", "employed", "flexible", "further_study", "not_seeking", "verified")
    return {key: Figures(key=key, **{f: row[f] for f in fields}) for key, row in counts.items()}


@pytest.fixture
def cohort(db: None) -> Cohort:
    return _build(random.Random(20240831))


@pytest.mark.parametrize("as_of", AS_OF, ids=[d.isoformat() for d in AS_OF])
@pytest.mark.parametrize("by", [None, *GROUPINGS])
def test_each_grouping_is_one_query_and_matches_a_python_recount(cohort, django_assert_num_queries, by, as_of):
    graduates = graduates_of(Student.objects.filter(school=cohort.school), YEAR)
    with django_assert_num_queries(1):
        rows = placement_figures(students=graduates, as_of=as_of, by=by)
    expected = _recount(cohort.school, as_of, by)
    assert {row.key: row for row in rows} == expected
    assert [row.key for row in rows] == sorted(expected, key=lambda k: (k is None, k))  # ordered by key


def test_the_data_exercises_every_case(cohort):
    """Guard against a generator that drifted into testing nothing: each kind of row the figures tell apart."""
    whole = {as_of: _recount(cohort.school, as_of, None)[None] for as_of in AS_OF}
    march, august, december, february = (whole[d] for d in AS_OF)
    assert august.graduates == GRADUATES - sum(1 for n in range(GRADUATES) if n % 37 == 0) > 300
    assert 0 < march.known < august.known < december.known <= february.known < august.graduates
    for figures in (august, december):
        assert figures.employed and figures.flexible and figures.further_study and figures.not_seeking
        assert figures.seeking and figures.unknown
        assert 0 < figures.verified < figures.placed
    replaced = Destination.objects.filter(superseded_on__isnull=False)
    assert (
        replaced.filter(superseded_on__gt=AS_OF[1]).exists() and replaced.filter(superseded_on__lte=AS_OF[1]).exists()
    )
    assert Destination.objects.filter(recorded_on__gt=AS_OF[2]).exists()  # recorded after the December snapshot
    ledger = _recount(cohort.school, AS_OF[1], "ledger")
    assert ledger[True].graduates and ledger[False].graduates
    by_category = _recount(cohort.school, AS_OF[1], "category")
    assert set(by_category) == set(CATEGORIES)
    assert sum(f.graduates for f in by_category.values()) > ledger[True].graduates  # several categories each


def test_rates_of_the_whole_cohort_follow_from_the_counts(cohort):
    graduates = graduates_of(Student.objects.filter(school=cohort.school), YEAR)
    (figures,) = placement_figures(students=graduates, as_of=AS_OF[1])
    expected = _recount(cohort.school, AS_OF[1], None)[None]
    assert figures.placement_rate == round(100 * (expected.employed + expected.further_study) / expected.graduates, 1)
    assert figures.knowledge_rate == round(100 * expected.known / expected.graduates, 1)
    assert figures.career_outcomes_rate == round(
        100 * (expected.employed + expected.further_study) / (expected.known - expected.not_seeking), 1
    )
    assert figures.verified_share == round(100 * expected.verified / (expected.employed + expected.further_study), 1)


@pytest.mark.parametrize("by", ["", *GROUPINGS])
def test_the_whole_cohort_beside_a_grouping_is_the_recount_and_costs_a_query_only_when_groups_overlap(
    cohort, django_assert_num_queries, by
):
    """The placement page shows the whole cohort above its grouped rows: for a grouping in which each graduate is
    one row (department, major, ledger) it is their sum, read in the same query; by category (a student may have
    several, or none) it is counted on its own."""
    graduates = graduates_of(Student.objects.filter(school=cohort.school), YEAR)
    with django_assert_num_queries(2 if by == "category" else 1):
        rows, total = figures_and_total(students=graduates, as_of=AS_OF[1], by=by)
    expected = _recount(cohort.school, AS_OF[1], None)[None]
    assert total == expected
    assert {row.key: row for row in rows} == (_recount(cohort.school, AS_OF[1], by) if by else {})
