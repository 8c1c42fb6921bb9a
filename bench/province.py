"""Province scale on PostgreSQL: build a province with COPY, then time the scenarios of `bench/scenarios.py` on it.

    .venv/bin/python bench/province.py generate               # 20 schools, 1,000,000 students, 10,000,000 activities
    .venv/bin/python bench/province.py generate --scale 0.01  # a hundredth of it (development, CI smoke test)
    .venv/bin/python bench/province.py run                    # every scenario, median and p95 of 20 runs

The database is DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bangfu_province). `generate` drops and
re-creates it (only a database this script made: it marks it with a comment), migrates it, then loads it. Keys and
uploaded files live in var/bench-province/ (`--var-dir`). The description of the data set (sizes, today, the time
of each phase) is written last, as the database's comment, so an interrupted build has none and `run` refuses it.

One provincial authority (a unit of kind `province`) with 20 schools of equal size, each with the departments and
majors of the demo university, four cohorts of a three-year programme in classes of about 45. Staff with their role
grants: the province office, three employment-office staff and a leader per school, two leaders per department, a
counsellor per department and cohort (on its classes) and one helper (a teacher) per ~30 ledger students. A fifth
of the students are in the ledger (rural students three times as likely) with their categories, a helper (1% none
yet, 3% handed over) and a plan each; the activities of the work ledger are made by `generate.activity_rows`, the
university bench's own generator (stage by the school's policy on the day, effective recommendations, corrections,
lapsed helpers). Each job recommendation with a known position is also a `Recommendation` linked to its activity.
Graduates have destinations (some first "seeking work", replaced when a job came; most placed ones verified) and a
quarter of the final year signed early.

Every table is written with COPY (psycopg 3 `cursor.copy`), its columns taken from the model's `_meta` (a column
this script does not know gets the field's default, and a new required field without one stops it). Foreign keys,
unique constraints and secondary indexes of the loaded tables are dropped first and re-created afterwards from
their own definitions (`pg_get_constraintdef`, `pg_get_indexdef`): that is both faster and the check that the data
keeps every constraint. Then `VACUUM ANALYZE`, then the progress rows, written by the app's own
`rebuild_progress` (grouped queries per 5,000 students, the rules evaluated in Python, an upsert per batch), and a
sample of students is refreshed one by one with `refresh_progress`, which must give the same rows. History rows
are not written for the bulk rows. A fixed seed makes the data the same for the same `--today` and scale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from environment import REPO, setup_django
from generate import (
    ACTIVITY_FIELDS,
    CLASS_SIZE,
    COHORTS,
    DIRECTIONS,
    EMPLOYERS,
    POSITIONS,
    PROGRAM_YEARS,
    RESUME_FILE,
    RESUME_PDF,
    Corrections,
    Helped,
    activity_rows,
    allocate,
    uuid_hex,
    weighted,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bangfu_province"
DEFAULT_VAR_DIR = REPO / "var" / "bench-province"
MARK = "bangfu province bench"  # the database comment: what `generate` may drop, and where `run` reads the meta
SEED = 20261201
FULL = {"students": 1_000_000, "activities": 10_000_000}
LOGIN_PASSWORD = "bangfu-demo"
# Named logins the scenarios use (bench/scenarios.py): who they are is in the meta.
LOGINS = ("province", "principal", "office", "leader", "helper", "exporter")

PROVINCE = ("HE", "河北省教育厅", "Hebei Provincial Department of Education")
SCHOOLS = (
    ("YZKJ", "燕赵科技职业技术大学", "Yanzhao Vocational University of Science and Technology"),
    ("SJZZY", "石家庄职业技术学院", "Shijiazhuang Vocational Technology Institute"),
    ("HBGY", "河北工业职业技术大学", "Hebei Vocational University of Industry and Technology"),
    ("TSZY", "唐山职业技术学院", "Tangshan Vocational and Technical College"),
    ("BDZY", "保定职业技术学院", "Baoding Vocational and Technical College"),
    ("XTZY", "邢台职业技术学院", "Xingtai Polytechnic College"),
    ("HDZY", "邯郸职业技术学院", "Handan Polytechnic College"),
    ("CZZY", "沧州职业技术学院", "Cangzhou Technical College"),
    ("LFZY", "廊坊职业技术学院", "Langfang Polytechnic Institute"),
    ("HSZY", "衡水职业技术学院", "Hengshui Vocational and Technical College"),
    ("QHDZY", "秦皇岛职业技术学院", "Qinhuangdao Vocational and Technical College"),
    ("ZJKZY", "张家口职业技术学院", "Zhangjiakou Vocational and Technical College"),
    ("CDZY", "承德石油高等专科学校", "Chengde Petroleum College"),
    ("HBJT", "河北交通职业技术学院", "Hebei Jiaotong Vocational and Technical College"),
    ("HBHG", "河北化工医药职业技术学院", "Hebei Chemical and Pharmaceutical College"),
    ("HBJM", "河北软件职业技术学院", "Hebei Software Institute"),
    ("HBJZ", "河北建材职业技术学院", "Hebei Vocational College of Building Materials"),
    ("HBNY", "河北能源职业技术学院", "Hebei Energy College of Vocation and Technology"),
    ("HBLY", "河北旅游职业学院", "Hebei Tourism Vocational College"),
    ("HBJD", "河北机电职业技术学院", "Hebei Vocational College of Mechanical and Electrical Engineering"),
)
# A graduate's destination (code, weight); "70" is still seeking work. Ledger graduates are helped one by one.
DESTINATIONS = (("11", 38), ("10", 16), ("12", 7), ("76", 5), ("77", 4), ("46", 2), ("80", 11), ("70", 12), ("72", 5))
RECOMMENDATION_STATUS = {"": "recommended", "applied": "applied", "interviewed": "interviewed", "declined": "declined"}
DECLINE_REASONS = ("salary", "location", "family", "other_offer", "conditions", "not_interested")


# --- the database -------------------------------------------------------------------------------------------------


def _admin(url: str) -> Any:
    """A connection to the server's maintenance database, for creating and dropping the bench database."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    return psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True), conninfo_to_dict(url)["dbname"]


def database_comment(url: str) -> str | None:
    """The comment of the bench database, "" if it has none, None if it does not exist."""
    conn, name = _admin(url)
    with conn:
        row = conn.execute(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    return None if row is None else row[0]


def read_meta(url: str) -> dict[str, Any] | None:
    comment = database_comment(url)
    if not comment or not comment.startswith(MARK + " {"):
        return None
    meta = json.loads(comment.removeprefix(MARK + " "))
    meta["today"] = dt.date.fromisoformat(meta["today"])
    return meta


def recreate_database(url: str) -> None:
    from psycopg import sql

    comment = database_comment(url)
    conn, name = _admin(url)
    if comment is not None and not comment.startswith(MARK):
        raise SystemExit(f"Database {name} exists and was not made by bench/province.py: not dropping it.")
    with conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(MARK)))


def write_meta(url: str, meta: dict[str, Any]) -> None:
    from psycopg import sql

    data = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in meta.items()}
    conn, name = _admin(url)
    with conn:
        text = MARK + " " + json.dumps(data, ensure_ascii=False)
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(text)))


# --- COPY with the columns of the models ----------------------------------------------------------------------------


class Table:
    """A model's table for COPY: the fields the generator gives (in its rows' order), then every other concrete
    field with its default, so a field added to the model later is filled the way `Model()` would fill it."""

    def __init__(self, model: Any, given: Sequence[str], now: str) -> None:
        from django.db.models import JSONField

        meta = model._meta
        self.model = model
        self.name = meta.db_table
        fields = {f.name: f for f in meta.concrete_fields}
        fields.update({f.attname: f for f in meta.concrete_fields})
        given_fields = [fields[name] for name in given]
        rest = [f for f in meta.concrete_fields if f not in given_fields]
        tail: list[Any] = []
        for f in rest:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value: Any = now
            elif f.unique and not f.null and not f.primary_key:
                raise SystemExit(f"{meta.label}.{f.name} is unique: teach bench/province.py to fill it")
            elif not f.null and not f.has_default() and f.get_default() is None:
                raise SystemExit(f"{meta.label}.{f.name} is required: teach bench/province.py to fill it")
            else:
                value = f.get_default()
            tail.append(json.dumps(value) if isinstance(f, JSONField) else value)
        self.columns = [f.column for f in given_fields] + [f.column for f in rest]
        self.tail = tuple(tail)

    def copy(self, cursor: Any, rows: Iterable[Sequence[Any]]) -> int:
        """COPY the rows in; returns how many."""
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.name), sql.SQL(", ").join(map(sql.Identifier, self.columns))
        )
        tail, n = self.tail, 0
        with cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                write((*row, *tail))
                n += 1
        return n


class Ids:
    """The next primary key of each table: the generator numbers rows itself, so it can point at them."""

    def __init__(self, cursor: Any, models: Iterable[Any]) -> None:
        self.next: dict[Any, int] = {}
        for model in models:
            cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{model._meta.db_table}"')
            self.next[model] = cursor.fetchone()[0] + 1

    def take(self, model: Any, n: int = 1) -> int:
        first = self.next[model]
        self.next[model] = first + n
        return first


def bulk_tables() -> list[Any]:
    from bangfu.assistance.models import Activity, HelperAssignment, Plan
    from bangfu.opportunities.models import Employer, Position, Recommendation
    from bangfu.organisation.models import OrgUnit, RoleGrant, User
    from bangfu.outcomes.models import Destination
    from bangfu.students.models import LedgerCategory, LedgerEntry, Student

    return [
        OrgUnit,
        User,
        RoleGrant,
        Student,
        LedgerEntry,
        LedgerCategory,
        HelperAssignment,
        Plan,
        Activity,
        Employer,
        Position,
        Recommendation,
        Destination,
    ]


def drop_constraints(cursor: Any, models: list[Any]) -> list[tuple[str, str]]:
    """Drop the foreign keys, unique constraints and secondary indexes of these tables (not their primary keys);
    return (name, statement) to re-create each, indexes and unique constraints before foreign keys."""
    tables = [m._meta.db_table for m in models]
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
        FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('f', 'u')
        ORDER BY c.contype DESC, c.conname
        """,
        [tables],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT EXISTS (
            SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
        ORDER BY 1
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    for table, name, _definition, _kind in constraints:  # foreign keys first (contype 'u' > 'f', DESC)
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    statements = [(name, definition) for name, definition in indexes]
    for kind in ("u", "f"):
        statements += [
            (name, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            for table, name, definition, contype in constraints
            if contype == kind
        ]
    return statements


# --- the province -----------------------------------------------------------------------------------------------


@dataclass
class Group:
    """The students of one major and cohort of a school, in their classes (unit ids)."""

    dept_code: str
    dept_index: int
    major_index: int
    major_id: int
    department_id: int
    cohort: int
    size: int
    classes: list[int] = field(default_factory=list)


@dataclass
class School:
    index: int
    code: str
    name: str
    unit_id: int = 0
    departments: dict[str, int] = field(default_factory=dict)  # code → unit id
    groups: list[Group] = field(default_factory=list)
    office_ids: list[int] = field(default_factory=list)
    leader_ids: dict[str, int] = field(default_factory=dict)
    counsellor_ids: dict[tuple[str, int], int] = field(default_factory=dict)
    helper_ids: dict[str, list[int]] = field(default_factory=dict)
    positions: dict[tuple[str, str], int] = field(default_factory=dict)  # (employer, title) → position id
    versions: Any = None
    activity_target: int = 0


class Province:
    """The generator: numbers every row itself (`Ids`) and writes each table with COPY through `cursor`."""

    def __init__(self, args: argparse.Namespace, cursor: Any) -> None:
        from bangfu.outcomes.models import DestinationCode

        self.today: dt.date = args.today
        self.students_total = round(FULL["students"] * args.scale)
        self.activities_total = round(FULL["activities"] * args.scale)
        self.ledger_share = args.ledger_share
        self.per_helper = args.per_helper
        self.cursor = cursor
        self.now = dt.datetime.now(dt.UTC).isoformat(" ", "seconds")
        newest = self.today.year if self.today.month >= 9 else self.today.year - 1
        self.cohorts = list(range(newest - COHORTS + 1, newest + 1))
        self.schools = [School(i + 1, code, name) for i, (code, name, _en) in enumerate(SCHOOLS[: args.schools])]
        self.english_names = {code: en for code, _name, en in SCHOOLS}
        self.ids = Ids(cursor, bulk_tables())
        self.tables: dict[Any, Table] = {}
        self.counts: dict[str, int] = defaultdict(int)  # rows written, by model
        self.tally: dict[str, int] = defaultdict(int)  # ledger students, helped, unassigned
        self.logins: dict[str, int] = {}
        self.corrections = Corrections()
        self.codes = {c.code: c for c in DestinationCode.objects.filter(school__isnull=True, valid_until__isnull=True)}

    def table(self, model: Any, given: Sequence[str]) -> Table:
        if model not in self.tables:
            self.tables[model] = Table(model, given, self.now)
        return self.tables[model]

    def copy(self, model: Any, given: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        n = self.table(model, given).copy(self.cursor, rows)
        self.counts[model._meta.label] += n
        return n

    # --- units and staff -------------------------------------------------------------------------------------

    def organisation(self) -> None:
        """The province, its schools and their departments, majors and classes, in one COPY."""
        from bangfu.demo import data
        from bangfu.organisation.models import OrgUnit

        rows: list[tuple[Any, ...]] = []
        rng = random.Random(SEED)

        def unit(kind: str, code: str, name: str, name_en: str, parent: tuple[int, str] | None) -> tuple[int, str]:
            pk = self.ids.take(OrgUnit)
            path = f"{parent[1] if parent else '/'}{code}/"
            rows.append((pk, uuid_hex(rng), kind, code, name, name_en, parent[0] if parent else None, path))
            return pk, path

        province = unit("province", *PROVINCE, None)
        self.province_id = province[0]
        sizes = allocate(self.students_total, [1.0] * len(self.schools))
        specs = [(d, spec, m, major) for d, spec in enumerate(data.DEPARTMENTS) for m, major in enumerate(spec.majors)]
        for school, size in zip(self.schools, sizes, strict=True):
            s_rng = random.Random(SEED + school.index)
            s_unit = unit("school", school.code, school.name, self.english_names[school.code], province)
            school.unit_id = s_unit[0]
            weights = [
                spec.size * s_rng.uniform(0.8, 1.2) * (1 + 0.04 * i)
                for _d, spec, _m, _major in specs
                for i in range(len(self.cohorts))
            ]
            group_sizes = iter(allocate(size, weights))
            departments: dict[str, tuple[int, str]] = {}
            for d, spec, m, major_spec in specs:
                if spec.code not in departments:
                    departments[spec.code] = unit("department", spec.code, spec.name, spec.name_en, s_unit)
                    school.departments[spec.code] = departments[spec.code][0]
                dept = departments[spec.code]
                major = unit("major", major_spec.code, major_spec.name, major_spec.name_en, dept)
                for cohort in self.cohorts:
                    group = Group(spec.code, d + 1, m + 1, major[0], dept[0], cohort, next(group_sizes))
                    yy = cohort % 100
                    for k in range(1, max(1, round(group.size / CLASS_SIZE)) + 1):
                        code = f"{major_spec.code}{yy:02d}{k:02d}"
                        name = f"{major_spec.short}{yy:02d}{k:02d}班"
                        group.classes.append(
                            unit("class", code, name, f"{major_spec.name_en} {yy:02d}{k:02d}", major)[0]
                        )
                    school.groups.append(group)
        self.copy(OrgUnit, ["id", "public_id", "kind", "code", "name", "name_en", "parent", "path"], rows)

    def staff(self) -> None:
        """Staff with their role grants: the province office, and per school its offices, leaders, counsellors
        and helpers (one per `per_helper` expected ledger students of a department)."""
        from django.contrib.auth.hashers import make_password

        from bangfu.demo import data
        from bangfu.organisation.models import Role, RoleGrant, User

        rng = random.Random(SEED + 1000)
        surnames, surname_cum = weighted([(s, int(w)) for s, w in data.SURNAMES])
        login_password = make_password(LOGIN_PASSWORD)
        users: list[tuple[Any, ...]] = []
        grants: list[tuple[Any, ...]] = []
        numbers = itertools.count(10001)

        def person(unit_id: int, roles: list[tuple[str, int]], username: str = "") -> int:
            male = rng.random() < 0.5
            pool = data.STAFF_MALE if male else data.STAFF_FEMALE
            i = int(rng.random() * (len(pool) // 2))
            name = rng.choices(surnames, cum_weights=surname_cum)[0] + pool[2 * i : 2 * i + 2]
            number = next(numbers)
            login = username or f"js{number}"
            pk = self.ids.take(User)
            password = login_password if username else "!" + uuid_hex(rng)  # unusable, as set_unusable_password
            users.append(
                (pk, password, login, name, f"{login}@bench.example.edu.cn", f"JS{number}", unit_id, uuid_hex(rng))
            )
            for role, role_unit in roles:
                grants.append((self.ids.take(RoleGrant), pk, role, role_unit, self.now))
            if username:
                self.logins[username] = pk
            return pk

        province = self.province_id
        person(province, [(Role.EMPLOYMENT_OFFICE, province)], "province")
        person(province, [(Role.SCHOOL_LEADER, province)])
        featured = data.FEATURED_DEPARTMENT
        for school in self.schools:
            first = school.index == 1
            person(school.unit_id, [(Role.SCHOOL_LEADER, school.unit_id)], "principal" if first else "")
            for k in range(3):
                login = "office" if first and k == 0 else ""
                school.office_ids.append(person(school.unit_id, [(Role.EMPLOYMENT_OFFICE, school.unit_id)], login))
            ledger_by_dept: dict[str, float] = defaultdict(float)
            for g in school.groups:
                ledger_by_dept[g.dept_code] += g.size * self.ledger_share
            for code, dept_id in school.departments.items():
                login = "leader" if first and code == featured else ""
                school.leader_ids[code] = person(dept_id, [(Role.DEPARTMENT_LEADER, dept_id)], login)
                person(dept_id, [(Role.DEPARTMENT_LEADER, dept_id)])
                for cohort in self.cohorts:
                    classes = [
                        k for g in school.groups if g.dept_code == code and g.cohort == cohort for k in g.classes
                    ]
                    school.counsellor_ids[code, cohort] = person(dept_id, [(Role.COUNSELLOR, k) for k in classes])
                n = max(1, round(ledger_by_dept[code] / self.per_helper))
                school.helper_ids[code] = [
                    person(
                        dept_id, [(Role.TEACHER, dept_id)], "helper" if first and code == featured and i == 0 else ""
                    )
                    for i in range(n)
                ]
        # The work ledger of two schools is the export of 100,000 rows (at full scale).
        two = [(Role.EMPLOYMENT_OFFICE, s.unit_id) for s in self.schools[:2]]
        person(self.schools[0].unit_id, two, "exporter")
        self.copy(
            User,
            ["id", "password", "username", "full_name", "email", "staff_number", "unit", "public_id"],
            users,
        )
        self.copy(RoleGrant, ["id", "user", "role", "unit", "created_at"], grants)

    def employers(self) -> None:
        """Each school's employers and their positions: those the activities' job recommendations name."""
        from bangfu.opportunities.creditcodes import name_key
        from bangfu.opportunities.models import Employer, Position

        rng = random.Random(SEED + 2000)
        employers, positions = [], []
        titles = sorted({t for ts in POSITIONS.values() for t in ts} | {"储备干部"})
        for school in self.schools:
            office = school.office_ids[0]
            for name in EMPLOYERS:
                employer_id = self.ids.take(Employer)
                employers.append((employer_id, uuid_hex(rng), school.unit_id, name, name_key(name), office, "河北省"))
                for title in titles:
                    position_id = self.ids.take(Position)
                    positions.append((position_id, uuid_hex(rng), employer_id, title, office, "河北省"))
                    school.positions[name, title] = position_id
        self.copy(Employer, ["id", "public_id", "school", "name", "name_key", "created_by", "province"], employers)
        self.copy(Position, ["id", "public_id", "employer", "title", "created_by", "province"], positions)

    def policies(self) -> None:
        """Each school's policy, through the service (the article's standards, from the oldest cohort on)."""
        from bangfu.assistance.rules import DEFAULT_STANDARDS, versions_for_schools
        from bangfu.assistance.services import save_policy
        from bangfu.organisation.models import OrgUnit, User

        standards = [r.as_standard_fields() for r in DEFAULT_STANDARDS]
        for school in self.schools:
            save_policy(
                actor=User.objects.get(pk=school.office_ids[0]),
                school=OrgUnit.objects.get(pk=school.unit_id),
                valid_from=dt.date(self.cohorts[0], 8, 1),
                standards=standards,
                note="按省厅帮扶工作指导意见执行",
            )
        versions = versions_for_schools({s.unit_id for s in self.schools})
        for school in self.schools:
            school.versions = versions[school.unit_id]
        shares = allocate(self.activities_total, [sum(g.size for g in s.groups) for s in self.schools])
        for school, share in zip(self.schools, shares, strict=True):
            school.activity_target = share

    # --- one school's students and their help -------------------------------------------------------------------

    def school(self, school: School) -> None:
        rng = random.Random(SEED * 100 + school.index)
        students = self.students(school, rng)
        ledger = self.ledger(school, students, rng)
        helped = self.helpers_and_plans(school, ledger, rng)
        self.activities(school, helped, rng)
        self.destinations(school, students, rng)

    def students(self, school: School, rng: random.Random) -> list[tuple[Any, ...]]:
        """The school's students; returns (id, group, rural, graduation, ethnicity, county) for the later steps."""
        from bangfu.demo import data
        from bangfu.students import idnumbers
        from bangfu.students.models import Student

        surnames, surname_cum = weighted([(s, int(w)) for s, w in data.SURNAMES])
        cities = data.CITIES
        city_cum = list(itertools.accumulate(c.weight for c in cities))
        specs = {spec.code: spec for spec in data.DEPARTMENTS}
        seen_ids: set[str] = set()
        rows: list[tuple[Any, ...]] = []
        kept: list[tuple[Any, ...]] = []
        first_id = self.ids.take(Student, sum(g.size for g in school.groups))
        pk = itertools.count(first_id)
        for g in school.groups:
            spec = specs[g.dept_code]
            seq = 0
            graduation = dt.date(g.cohort + PROGRAM_YEARS, 6, 30)
            status = "graduated" if graduation < self.today else "enrolled"
            for klass, count in zip(g.classes, allocate(g.size, [1.0] * len(g.classes)), strict=True):
                for _ in range(count):
                    seq += 1
                    male = rng.random() < spec.male_share
                    city = rng.choices(cities, cum_weights=city_cum)[0]
                    county = rng.choice(city.counties)
                    rural = rng.random() < (0.2 if county.name.endswith("区") else 0.75)
                    if rng.random() < 0.2:
                        given = rng.choice(data.MALE_SINGLE if male else data.FEMALE_SINGLE)
                    else:
                        given = rng.choice(data.MALE_FIRST if male else data.FEMALE_FIRST) + rng.choice(
                            data.MALE_SECOND if male else data.FEMALE_SECOND
                        )
                    born = dt.date(g.cohort - 18, 9, 1) - dt.timedelta(days=rng.randint(1, 365 + 120))
                    parity = (1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8)
                    while True:
                        first17 = f"{county.code}{born:%Y%m%d}{rng.randint(0, 99):02d}{rng.choice(parity)}"
                        number = first17 + idnumbers.check_digit(first17)
                        if number not in seen_ids:
                            seen_ids.add(number)
                            break
                    place = city.province + ("" if city.name == city.province else city.name) + county.name
                    if rural:
                        address = f"{place}{rng.choice(data.TOWNS)}{rng.choice(data.VILLAGES)}{rng.randint(1, 260)}号"
                    else:
                        address = f"{place}{rng.choice(data.STREETS)}{rng.randint(1, 400)}号"
                    ethnicity = "汉族"
                    r = rng.random()
                    for name, share in county.minority or ():
                        if r < share:
                            ethnicity = name
                            break
                        r -= share
                    student_id = next(pk)
                    rows.append(
                        (
                            student_id,
                            uuid_hex(rng),
                            school.unit_id,
                            g.department_id,
                            g.major_id,
                            klass,
                            f"{g.cohort}{g.dept_index:02d}{g.major_index:02d}{seq:05d}",
                            rng.choices(surnames, cum_weights=surname_cum)[0] + given,
                            "M" if male else "F",
                            ethnicity,
                            idnumbers.encrypt(number),
                            idnumbers.keyed_hash(number),
                            idnumbers.mask(number),
                            born,
                            city.province,
                            city.name,
                            county.name,
                            address,
                            rng.choice(data.PHONE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}",
                            "vocational",
                            PROGRAM_YEARS,
                            g.cohort,
                            dt.date(g.cohort, 9, 1),
                            graduation,
                            status,
                        )
                    )
                    kept.append((student_id, g, rural, graduation, ethnicity, county.name))
        given_fields = [
            "id",
            "public_id",
            "school",
            "department",
            "major",
            "class_unit",
            "student_number",
            "name",
            "gender",
            "ethnicity",
            "id_number_cipher",
            "id_number_hash",
            "id_number_masked",
            "birth_date",
            "home_province",
            "home_city",
            "home_county",
            "address",
            "phone",
            "level",
            "program_years",
            "cohort",
            "enrolled_on",
            "expected_graduation",
            "status",
        ]
        self.copy(Student, given_fields, rows)
        return kept

    def ledger(self, school: School, students: list[tuple[Any, ...]], rng: random.Random) -> list[tuple[Any, ...]]:
        """A fifth of each group in the ledger (rural students three times as likely), with categories; a few
        left it at a later review. Returns (student row, entry id, joined_on) of the open entries."""
        from bangfu.demo import data
        from bangfu.students.models import LedgerCategory, LedgerEntry

        chances = {
            "poverty_alleviated": (0.42, 0.12),
            "subsistence_allowance": (0.22, 0.22),
            "rural": (0.7, 0.0),
            "student_loan": (0.45, 0.45),
            "zero_employment": (0.05, 0.05),
            "disabled_parent": (0.06, 0.06),
            "disabled": (0.015, 0.015),
            "orphan": (0.015, 0.015),
            "extreme_poverty": (0.012, 0.012),
            "school_identified": (0.3, 0.3),
        }
        by_group: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for s in students:
            by_group[id(s[1])].append(s)
        entries: list[tuple[Any, ...]] = []
        categories: list[tuple[Any, ...]] = []
        opened: list[tuple[Any, ...]] = []
        carry = 0.0
        today = self.today
        for g in school.groups:
            members = by_group.get(id(g), [])
            counsellor = school.counsellor_ids[g.dept_code, g.cohort]
            target = self.ledger_share * len(members) + carry
            count = int(target + 0.5)
            carry = target - count
            keyed = sorted(members, key=lambda s: rng.random() ** (1 / (3.0 if s[2] else 1.0)), reverse=True)
            chosen = keyed[:count]
            for s in chosen:
                cats = [c for c, (p_rural, p_town) in chances.items() if rng.random() < (p_rural if s[2] else p_town)]
                if s[4] != "汉族" and rng.random() < 0.6:
                    cats.append("ethnic_minority")
                cats = cats or ["school_identified"]
                review = g.cohort < self.cohorts[-1] and rng.random() < 0.15
                joined_on = min(dt.date(g.cohort + 1, 3, 10) if review else dt.date(g.cohort, 10, 20), today)
                main = next(c for c in data.SITUATION_ORDER if c in cats)
                if {"orphan", "extreme_poverty", "disabled"} & set(cats):
                    level = "special"
                elif {"poverty_alleviated", "subsistence_allowance", "zero_employment"} & set(cats):
                    level = "special" if rng.random() < 0.3 else "hardship"
                else:
                    level = "hardship" if rng.random() < 0.4 else "general"
                situation = rng.choice(data.FAMILY_SITUATIONS[main]).format(
                    disability="三",
                    household=rng.randint(4, 6),
                    siblings=rng.choice("二三"),
                    crop=rng.choice(data.CROPS),
                    county=s[5],
                )
                entry_id = self.ids.take(LedgerEntry)
                entries.append(
                    (
                        entry_id,
                        uuid_hex(rng),
                        s[0],
                        "review" if review else "survey",
                        level,
                        "3" if "disabled" in cats else "",
                        situation,
                        rng.random() < 0.92,
                        joined_on,
                        f"{'学期复核' if review else '入学普查'}：{data.CATEGORY_ZH[main]}",
                        counsellor,
                        None,
                        "",
                        None,
                        1,
                    )
                )
                for code in cats:
                    verified = min(joined_on + dt.timedelta(days=7), today) if rng.random() < 0.7 else None
                    categories.append((self.ids.take(LedgerCategory), entry_id, code, verified))
                opened.append((s, entry_id, joined_on))
            chosen_ids = {s[0] for s in chosen}
            left_on = dt.date(g.cohort + 1, 9, 20)
            for s in members:
                if s[0] not in chosen_ids and left_on <= today and rng.random() < 0.02:
                    entry_id = self.ids.take(LedgerEntry)
                    entries.append(
                        (
                            entry_id,
                            uuid_hex(rng),
                            s[0],
                            "survey",
                            "general",
                            "",
                            rng.choice(data.FAMILY_SITUATIONS["school_identified"]),
                            True,
                            dt.date(g.cohort, 10, 20),
                            "入学普查：学校认定家庭经济困难",
                            counsellor,
                            left_on,
                            rng.choice(data.LEAVE_REASONS),
                            counsellor,
                            2,
                        )
                    )
                    categories.append(
                        (
                            self.ids.take(LedgerCategory),
                            entry_id,
                            rng.choice(["school_identified", "student_loan"]),
                            None,
                        )
                    )
        self.copy(
            LedgerEntry,
            [
                "id",
                "public_id",
                "student",
                "source",
                "hardship_level",
                "disability_level",
                "family_situation",
                "intends_to_work",
                "joined_on",
                "join_reason",
                "joined_by",
                "left_on",
                "leave_reason",
                "left_by",
                "version",
            ],
            entries,
        )
        self.copy(LedgerCategory, ["id", "entry", "category", "verified_on"], categories)
        self.tally["ledger_students"] += len(opened)
        return opened

    def helpers_and_plans(self, school: School, opened: list[tuple[Any, ...]], rng: random.Random) -> list[Helped]:
        """A helper for each ledger student of a department (1% none yet, 3% handed over a year after enrolment)
        and a plan (一生一策) for each helped student; returns what the activity generator needs."""
        from bangfu.assistance.models import HelperAssignment, Plan
        from bangfu.assistance.rules import Timeline
        from bangfu.dates import add_months
        from bangfu.demo import data

        today = self.today
        by_dept: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for item in opened:
            by_dept[item[0][1].dept_code].append(item)
        assignments: list[tuple[Any, ...]] = []
        plans: list[tuple[Any, ...]] = []
        helped: list[Helped] = []
        directions, direction_cum = weighted(DIRECTIONS)
        dept_names = {spec.code: spec.name for spec in data.DEPARTMENTS}
        for code, items in by_dept.items():
            rng.shuffle(items)
            helpers = school.helper_ids[code]
            diligence = {h: rng.uniform(0.5, 1.5) for h in helpers}
            leader = school.leader_ids[code]
            for i, (s, _entry_id, joined_on) in enumerate(items):
                student_id, g, graduation = s[0], s[1], s[3]
                if rng.random() < 0.01:  # left without a helper for now: the "unassigned" signal
                    self.tally["unassigned"] += 1
                    continue
                helper = helpers[i % len(helpers)]
                start = min(joined_on + dt.timedelta(days=rng.randint(1, 10)), today)
                planned_end = dt.date(g.cohort + PROGRAM_YEARS, 8, 31)
                plan = Helped(student_id, code, Timeline(g.cohort, PROGRAM_YEARS, graduation), start, today, helper)
                handed = dt.date(g.cohort + 1, 9, 1)
                if len(helpers) > 1 and start < handed <= today and rng.random() < 0.03:
                    earlier = rng.choice([h for h in helpers if h != helper])
                    assignments.append(
                        (
                            self.ids.take(HelperAssignment),
                            uuid_hex(rng),
                            student_id,
                            earlier,
                            start,
                            planned_end,
                            handed,
                            "一对一帮扶责任人分配",
                            "",
                            "工作调整，移交给新的帮扶责任人",
                            leader,
                            2,
                        )
                    )
                    assignments.append(
                        (
                            self.ids.take(HelperAssignment),
                            uuid_hex(rng),
                            student_id,
                            helper,
                            handed,
                            planned_end,
                            None,
                            "工作交接",
                            rng.choice(data.HANDOVER_NOTES),
                            "",
                            leader,
                            1,
                        )
                    )
                    plan.earlier_helper_id, plan.handed_over_on = earlier, handed
                else:
                    assignments.append(
                        (
                            self.ids.take(HelperAssignment),
                            uuid_hex(rng),
                            student_id,
                            helper,
                            start,
                            planned_end,
                            None,
                            "一对一帮扶责任人分配",
                            "",
                            "",
                            leader,
                            1,
                        )
                    )
                # Help ends with the follow-up year; a few helpers lapsed two to five months ago.
                plan.end = min(today, add_months(graduation, 12))
                if rng.random() < 0.06:
                    plan.end = min(plan.end, today - dt.timedelta(days=rng.randint(61, 150)))
                span = (plan.end - plan.start).days + 1
                plan.weight = max(span, 0) * diligence[helper] * rng.lognormvariate(0, 0.3)
                helped.append(plan)
                plans.append(
                    (
                        self.ids.take(Plan),
                        uuid_hex(rng),
                        student_id,
                        rng.choices(directions, cum_weights=direction_cum)[0],
                        dept_names[code].removesuffix("学院") + "相关行业",
                        "、".join(rng.sample(["石家庄", "保定", "唐山", "北京", "天津", "廊坊", "邯郸"], 2)),
                        rng.random() < 0.4,
                        rng.randrange(3500, 6500, 500),
                        rng.choice(["吃苦耐劳，动手能力强", "学习认真，持有技能证书", "性格开朗，善于沟通"]),
                        rng.choice(["求职技巧指导", "简历和面试辅导", "经济资助和心理支持", "岗位信息"]),
                        helper,
                    )
                )
        self.copy(
            HelperAssignment,
            [
                "id",
                "public_id",
                "student",
                "helper",
                "started_on",
                "planned_end",
                "ended_on",
                "reason",
                "handover_note",
                "end_reason",
                "assigned_by",
                "version",
            ],
            assignments,
        )
        self.copy(
            Plan,
            [
                "id",
                "public_id",
                "student",
                "direction",
                "industries",
                "places",
                "near_home",
                "salary_expectation",
                "strengths",
                "needs",
                "updated_by",
            ],
            plans,
        )
        self.tally["helped"] += len(helped)
        return helped

    def activities(self, school: School, helped: list[Helped], rng: random.Random) -> None:
        """The school's work ledger by `generate.activity_rows`, streamed into COPY; each job recommendation
        naming a position of the school (once per student and position) becomes a `Recommendation` too."""
        from bangfu.assistance.models import Activity
        from bangfu.opportunities.models import Recommendation

        first_id = self.ids.next[Activity]
        rows = activity_rows(
            rng, helped, school.versions, school.activity_target, first_id=first_id, counter=self.corrections
        )
        recommendations: list[tuple[Any, ...]] = []
        seen: set[tuple[int, int]] = set()
        today = self.today
        last = [first_id - 1]
        kind_i, voided_i = ACTIVITY_FIELDS.index("kind"), ACTIVITY_FIELDS.index("voided")

        def stream() -> Iterator[tuple[Any, ...]]:
            for row in rows:
                last[0] = row[0]
                if row[kind_i] == "job_recommendation" and not row[voided_i]:
                    recommendation = self.recommendation(school, row, seen, rng, today)
                    if recommendation is not None:
                        recommendations.append(recommendation)
                yield row

        self.copy(Activity, ACTIVITY_FIELDS, stream())
        self.ids.next[Activity] = last[0] + 1
        for row in recommendations:
            row[0] = self.ids.take(Recommendation)
        self.copy(
            Recommendation,
            [
                "id",
                "public_id",
                "activity",
                "position",
                "student",
                "recommended_by",
                "recommended_on",
                "fits_student",
                "status",
                "acted_on",
                "offered_on",
                "decline_reason",
            ],
            recommendations,
        )

    def recommendation(
        self, school: School, row: tuple[Any, ...], seen: set[tuple[int, int]], rng: random.Random, today: dt.date
    ) -> list[Any] | None:
        (
            activity_id,
            _public,
            student_id,
            helper_id,
            _kind,
            day_text,
            _stage,
            _notes,
            _internal,
            _attachment,
            _event,
            employer,
            title,
            fits,
            response,
            *_rest,
        ) = row
        position = school.positions.get((employer, title))
        if position is None or (position, student_id) in seen:
            return None  # logged by hand before the position was on file, or the same position again
        seen.add((position, student_id))
        day = dt.date.fromisoformat(day_text)
        status = RECOMMENDATION_STATUS.get(response)
        if status is None:  # the employer answered
            status = rng.choice(("offer", "accepted", "accepted", "rejected"))
        elif status == "recommended" and (today - day).days > 60 and rng.random() < 0.4:
            status = "expired"
        acted = status not in ("recommended", "expired")
        offered = status in ("offer", "accepted")
        return [
            0,
            uuid_hex(rng),
            activity_id,
            position,
            student_id,
            helper_id,
            day,
            fits,
            status,
            min(day + dt.timedelta(days=rng.randint(1, 7)), today) if acted else None,
            min(day + dt.timedelta(days=rng.randint(14, 30)), today) if offered else None,
            rng.choice(DECLINE_REASONS) if status == "declined" else "",
        ]

    def destinations(self, school: School, students: list[tuple[Any, ...]], rng: random.Random) -> None:
        """Destinations of the graduates (4% never reported; a third of the placed first "seeking work", replaced
        when the job came) and of a quarter of the final year, signed early; two thirds of the placed verified."""
        from bangfu.outcomes.models import Destination

        codes = self.codes
        names, weights = zip(*DESTINATIONS, strict=True)
        today = self.today
        office = school.office_ids[0]
        rows: list[tuple[Any, ...]] = []

        def add(student_id: int, code: Any, recorded: dt.date, superseded: dt.date | None) -> None:
            placed = code.group != "not_placed" and superseded is None
            verified = placed and bool(code.evidence_kinds) and rng.random() < 0.65
            rows.append(
                (
                    self.ids.take(Destination),
                    uuid_hex(rng),
                    student_id,
                    code.pk,
                    rng.choice(EMPLOYERS) if code.group == "employed" else "",
                    recorded,
                    office,
                    superseded,
                    recorded if code.group != "not_placed" else None,
                    f"destinations/bench/{student_id}.pdf" if verified else "",
                    code.evidence_kinds[0] if verified else "",
                    min(today, recorded + dt.timedelta(days=10)) if verified else None,
                    office if verified else None,
                )
            )

        for student_id, _g, _rural, graduation, _ethnicity, _county in students:
            if graduation <= today:
                if rng.random() < 0.04:
                    continue  # never reported
                code = codes[rng.choices(names, weights)[0]]
                recorded = min(today, graduation + dt.timedelta(days=rng.randint(-150, 90)))
                if code.group != "not_placed" and recorded > graduation and rng.random() < 0.33:
                    seeking = min(recorded, graduation + dt.timedelta(days=rng.randint(0, 10)))
                    add(student_id, codes["70"], seeking, recorded)
                add(student_id, code, recorded, None)
            elif graduation <= today + dt.timedelta(days=366) and rng.random() < 0.25:
                code = codes[rng.choice(("10", "11", "80"))]
                add(student_id, code, today - dt.timedelta(days=rng.randint(0, 150)), None)
        self.copy(
            Destination,
            [
                "id",
                "public_id",
                "student",
                "code",
                "employer_name",
                "recorded_on",
                "recorded_by",
                "superseded_on",
                "placed_since",
                "evidence",
                "evidence_kind",
                "verified_on",
                "verified_by",
            ],
            rows,
        )


# --- generate -----------------------------------------------------------------------------------------------------


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


class Phases:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def done(self, name: str, started: tuple[float, float]) -> None:
        wall = time.perf_counter() - started[0]
        cpu = time.process_time() - started[1]
        self.timings[name] = round(self.timings.get(name, 0) + wall, 2)
        print(f"  {name:<38} {wall:8.1f} s  (CPU of this process {cpu:6.1f} s)", flush=True)


def check_progress(today: dt.date, sample: int) -> dict[str, Any]:
    """Refresh `sample` ledger students (spread over the province) one by one with the app's per-student
    `refresh_progress` and compare with the rows `rebuild_progress` wrote; nothing is kept."""
    from django.db import transaction

    from bangfu.assistance.models import StudentProgress
    from bangfu.assistance.progress import refresh_progress
    from bangfu.students.models import Student

    names = [f.attname for f in StudentProgress._meta.concrete_fields if f.name not in ("id", "student")]
    ids = list(StudentProgress.objects.order_by("student_id").values_list("student_id", flat=True))
    chosen = ids[:: max(1, len(ids) // max(sample, 1))][:sample]
    stored = {r["student_id"]: r for r in StudentProgress.objects.filter(student_id__in=chosen).values()}
    differ = []
    with transaction.atomic():
        for student in Student.objects.filter(pk__in=chosen):
            fresh = refresh_progress(student=student, today=today)
            assert fresh is not None
            row = stored[student.pk]
            if any(getattr(fresh, n) != row[n] for n in names):
                differ.append(student.pk)
        transaction.set_rollback(True)
    if differ:
        raise SystemExit(f"progress rows differ from refresh_progress for students {differ[:10]}")
    return {"students": len(chosen), "differing": 0}


def generate(args: argparse.Namespace) -> int:
    """Re-create and migrate the bench database, load the province, and write what was built as its comment."""
    built = read_meta(args.database_url) if args.reuse else None
    if built is not None and built["scale"] == args.scale and built["schools"] == args.schools:
        print(f"Reusing the province in {args.database_url} (scale {args.scale}, today {built['today']}).")
        return 0
    recreate_database(args.database_url)
    setup_django(args.var_dir, args.database_url)
    from django.core.management import call_command
    from django.utils import timezone

    args.today = args.today or timezone.localdate()
    print(
        f"Building a province in {args.database_url.rsplit('/', 1)[-1]}: scale {args.scale}, "
        f"{len(SCHOOLS[: args.schools])} schools, {round(FULL['students'] * args.scale):,} students, "
        f"{round(FULL['activities'] * args.scale):,} activities; today {args.today}",
        flush=True,
    )
    phases = Phases()
    started = time.perf_counter()
    t = clock()
    call_command("migrate", verbosity=0, skip_checks=True)
    phases.done("migrate", t)
    meta = load(args, phases)
    meta["generation_seconds"] = round(time.perf_counter() - started, 1)
    write_meta(args.database_url, meta)
    print(
        f"Done in {meta['generation_seconds']:,.1f} s: {meta['students']:,} students, {meta['ledger_students']:,} in "
        f"the ledger, {meta['activities']:,} activities, {meta['progress_rows']:,} progress rows; database "
        f"{meta['database_bytes'] / 2**30:,.2f} GiB.",
        flush=True,
    )
    return 0


def fill(args: argparse.Namespace, cursor: Any, phases: Phases) -> Province:
    """Every row of the province but the progress rows, a transaction per step (per school for the bulk)."""
    from django.db import transaction

    province = Province(args, cursor)
    with transaction.atomic():
        for name, step in (("organisation", province.organisation), ("staff", province.staff)):
            t = clock()
            step()
            phases.done(name, t)
    t = clock()
    province.policies()
    with transaction.atomic():
        province.employers()
    phases.done("policies, employers, positions", t)
    for school in province.schools:
        t = clock()
        with transaction.atomic():
            province.school(school)
        phases.done(f"school {school.index:2d} {school.code}", t)
    return province


def load(args: argparse.Namespace, phases: Phases | None = None) -> dict[str, Any]:
    """Load the province into the (migrated, empty) database Django is set up for; returns what was built."""
    from django.conf import settings
    from django.db import connection

    phases = phases or Phases()
    started = time.perf_counter()
    resume = Path(settings.MEDIA_ROOT) / RESUME_FILE
    resume.parent.mkdir(parents=True, exist_ok=True)
    resume.write_bytes(RESUME_PDF)

    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor, for COPY
        # A bulk load: no wait for the WAL on each commit, more memory to build the indexes.
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        t = clock()
        recreate = drop_constraints(cursor, bulk_tables())
        phases.done(f"drop {len(recreate)} indexes and constraints", t)
        try:
            province = fill(args, cursor, phases)
        except BaseException:
            for _name, statement in recreate:  # leave the schema whole for whoever uses the database next
                cursor.execute(statement)
            raise
        t = clock()
        for _name, statement in recreate:
            cursor.execute(statement)
        phases.done("re-create indexes and constraints", t)
        for model in bulk_tables():
            table = model._meta.db_table
            sequence = f"pg_get_serial_sequence('\"{table}\"', 'id')"
            cursor.execute(f'SELECT setval({sequence}, max(id)) FROM "{table}" HAVING max(id) > 0')
        t = clock()
        cursor.execute("VACUUM ANALYZE")
        phases.done("VACUUM ANALYZE", t)
        cursor.execute("RESET synchronous_commit")
        cursor.execute("RESET maintenance_work_mem")

    from bangfu.assistance.models import Activity, StudentProgress
    from bangfu.assistance.progress import rebuild_progress

    t = clock()
    written = rebuild_progress(today=args.today)
    phases.done("progress (rebuild_progress)", t)
    with connection.cursor() as cursor:
        cursor.execute(f'VACUUM ANALYZE "{StudentProgress._meta.db_table}"')
    t = clock()
    checked = check_progress(args.today, args.check_sample)
    phases.done(f"check {checked['students']} students (refresh_progress)", t)
    took = time.perf_counter() - started

    from django.db.models import Count

    from bangfu.students.models import Student

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        size = cursor.fetchone()[0]
    return {
        "today": args.today,
        "seed": SEED,
        "scale": args.scale,
        "schools": len(province.schools),
        "students": Student.objects.count(),
        "ledger_students": province.tally["ledger_students"],
        "helped": province.tally["helped"],
        "unassigned": province.tally["unassigned"],
        "activities": Activity.objects.count(),
        "corrections": province.corrections.n,
        "progress_rows": written,
        "progress_by_risk": {
            str(k): v for k, v in StudentProgress.objects.values_list("risk").annotate(n=Count("id")).order_by("risk")
        },
        "rows": dict(sorted(province.counts.items())),
        "logins": province.logins,
        "cohorts": province.cohorts,
        "progress_check": checked,
        "load_seconds": round(took, 1),
        "phases": phases.timings,
        "database_bytes": size,
    }


# --- run ----------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    meta = read_meta(args.database_url)
    if meta is None:
        print(f"No province data set in {args.database_url}: run `bench/province.py generate` first.", file=sys.stderr)
        return 2
    setup_django(args.var_dir, args.database_url)
    import scenarios

    return scenarios.run_and_report(args, meta, scale="province")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    gen = sub.add_parser("generate", help="drop, re-create and load the province database")
    gen.add_argument("--scale", type=float, default=1.0, help="share of the full province (1,000,000 students)")
    gen.add_argument("--schools", type=int, default=len(SCHOOLS), choices=range(1, len(SCHOOLS) + 1))
    gen.add_argument("--ledger-share", type=float, default=0.2, help="share of students in the ledger")
    gen.add_argument("--per-helper", type=int, default=30, help="ledger students per helper")
    gen.add_argument("--today", type=dt.date.fromisoformat, default=None, help="the data set's today (ISO date)")
    gen.add_argument("--check-sample", type=int, default=200, help="students checked with refresh_progress")
    gen.add_argument("--reuse", action="store_true", help="keep a complete province of the same scale if there is one")
    ran = sub.add_parser("run", help="time the scenarios on the province")
    import scenarios

    scenarios.add_arguments(ran, repeat=20, naive_repeat=3)
    for p in (gen, ran):
        p.add_argument("--database-url", default=url, help="the bench database (default: DATABASE_URL or %(default)s)")
        p.add_argument("--var-dir", type=Path, default=DEFAULT_VAR_DIR, help="keys and uploaded files")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.var_dir = args.var_dir.resolve()
    return generate(args) if args.command == "generate" else run(args)


if __name__ == "__main__":
    sys.exit(main())
