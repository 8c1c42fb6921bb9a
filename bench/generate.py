"""Build a university-sized data set on SQLite for the benchmarks (default: 30,000 students, 1,000,000 activities).

    .venv/bin/python bench/generate.py            # build var/bench/ unless it is there already
    .venv/bin/python bench/generate.py --fresh    # throw it away and build it again

One school with the departments and majors of the demo university, four cohorts of a three-year programme,
about a fifth of the students in the ledger, one helper (a teacher) per ~40 ledger students, and the work
ledger of those students: activities spread from the day their helper took them on to today, of the kinds a
helper records in each stage, with corrections, effective and declined recommendations, lapsed helpers,
hand-overs and a few unassigned students, so progress shows every risk signal. The progress rows are then
written by the app's own `rebuild_progress`.

Units, staff and the school's policy go through the services. The bulk goes in fast: students, ledger entries,
helpers and plans with `bulk_create`, activities with `executemany`, all in one transaction with bulk-load
PRAGMAs. Inserting directly means this module keeps the invariants the services would keep: school,
department and major taken from the class; ID numbers valid, encrypted, hashed and masked; one open ledger
entry and one active primary helper per student; every activity dated between the helper's start and today,
its stage given by `rules.stage_on` under the policy in force on its date, `effective` by `rules.is_effective`,
a correction pointing at the voided record it replaces. History rows are not written for the bulk rows (the
benchmarks do not read them). A fixed seed makes the data set the same on every machine for the same `--today`.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from environment import DB_NAME, DEFAULT_VAR_DIR, migrate, read_meta, remove_data_set, setup_django, write_meta

SEED = 20260901
CLASS_SIZE = 45
COHORTS = 4
PROGRAM_YEARS = 3
BATCH = 2000  # rows per bulk_create / executemany call
LOGIN_PASSWORD = "bangfu-demo"  # the named logins, for looking around with runserver; the bench uses force_login

# Kinds a helper records in each stage, with weights (of a hundred) drawn from the article's practice.
KINDS_BY_STAGE: dict[str, tuple[tuple[str, int], ...]] = {
    "enrolment": (
        ("talk", 25),
        ("check_in", 33),
        ("work_study_recommendation", 10),
        ("psychological_guidance", 8),
        ("subsidy_help", 14),
        ("career_guidance", 5),
        ("other", 5),
    ),
    "study": (
        ("check_in", 42),
        ("talk", 15),
        ("career_guidance", 8),
        ("skills_guidance", 10),
        ("psychological_guidance", 5),
        ("subsidy_help", 8),
        ("work_study_recommendation", 5),
        ("order_class_recommendation", 2),
        ("internship_arranged", 3),
        ("other", 2),
    ),
    "job_search": (
        ("talk", 15),
        ("check_in", 18),
        ("resume_revision", 12),
        ("event_together", 12),
        ("job_recommendation", 22),
        ("career_guidance", 8),
        ("skills_guidance", 4),
        ("internship_arranged", 4),
        ("psychological_guidance", 2),
        ("other", 3),
    ),
    "after_leaving": (
        ("follow_up", 60),
        ("job_recommendation", 20),
        ("talk", 10),
        ("career_guidance", 5),
        ("other", 5),
    ),
}
NOTES: dict[str, tuple[str, ...]] = {
    "talk": (
        "谈心谈话，了解近期学习和生活情况，情绪稳定。",
        "与学生深入交流就业意向，鼓励其积极参加招聘活动。",
        "谈心谈话，学生表示家中农忙，已协调好请假和补课。",
    ),
    "check_in": (
        "电话联系，了解本月学习和生活情况。",
        "微信沟通，学生近况良好，按时上课。",
        "当面交流，询问勤工助学岗位的工作情况。",
    ),
    "resume_revision": ("协助修改简历，突出实习经历和技能证书。", "简历第二稿，调整求职意向和项目经历。"),
    "event_together": ("陪同参加招聘会，投递简历三份。", "一起参加专场招聘会，现场面试两家单位。"),
    "job_recommendation": ("推荐专业对口岗位，已发送岗位信息。", "推荐离家较近的岗位，学生表示愿意投递。"),
    "work_study_recommendation": ("推荐图书馆勤工助学岗位。", "推荐学院办公室助理岗位。"),
    "order_class_recommendation": ("推荐报名校企合作订单班。",),
    "internship_arranged": ("联系合作企业，安排跟岗实习。",),
    "career_guidance": ("职业生涯规划指导，明确求职方向。", "讲解专升本和就业两条路径的利弊。"),
    "skills_guidance": ("指导备考职业技能等级证书。", "辅导计算机等级考试。"),
    "psychological_guidance": ("学生近期压力较大，进行心理疏导，建议到心理健康中心咨询。",),
    "subsidy_help": ("协助申请国家助学金，准备证明材料。", "协助办理生源地助学贷款续贷。"),
    "follow_up": ("毕业后电话回访，了解工作适应情况。", "回访用人单位，学生试用期表现良好。"),
    "other": ("协助办理困难补助手续。", "帮助联系返乡路费补贴。"),
}
EVENTS = (
    "{year}年{season}校园双选会",
    "石家庄市人社局民营企业招聘月专场",
    "河北省高校毕业生网络招聘会",
    "装备制造行业专场招聘会",
    "信息技术企业专场招聘会",
    "京津冀现代服务业联合招聘会",
)
EMPLOYERS = (
    "河北燕赵精工机械有限公司",
    "石家庄云联软件有限公司",
    "唐山宏达物流有限公司",
    "廊坊新航电商科技有限公司",
    "邢台恒信会计师事务所",
    "沧州北方建工集团有限公司",
    "衡水安康药业有限公司",
    "秦皇岛海港汽车服务有限公司",
    "张家口绿能新能源科技有限公司",
    "承德山水服饰有限公司",
)
POSITIONS = {
    "JD": ("机电设备维修员", "数控车工", "工业机器人运维员"),
    "XX": ("软件测试工程师", "网络运维工程师", "数据标注员"),
    "QC": ("汽车售后技师", "新能源汽车检测员"),
    "JG": ("出纳", "电商运营专员", "仓储主管助理"),
    "JZ": ("施工员", "造价员"),
    "FZ": ("服装设计助理", "新媒体美工"),
    "HG": ("药品生产操作员", "质检员"),
}
RESPONSES = (("", 20), ("applied", 40), ("interviewed", 20), ("employer_answered", 13), ("declined", 7))
DIRECTIONS = (
    ("job", 70),
    ("further_study", 12),
    ("public_exam", 5),
    ("army", 4),
    ("grassroots", 4),
    ("entrepreneurship", 5),
)
RESUME_FILE = "activities/bench/resume-sample.pdf"
# A one-page PDF, so that every résumé revision carries an attachment that opens.
RESUME_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def weighted(pairs: Sequence[tuple[str, int]]) -> tuple[list[str], list[int]]:
    return [p for p, _w in pairs], list(itertools.accumulate(w for _p, w in pairs))


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder), so that the parts add up exactly."""
    whole = sum(weights) or 1.0
    raw = [total * w / whole for w in weights]
    parts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)[: total - sum(parts)]:
        parts[i] += 1
    return parts


def uuid_hex(rng: random.Random) -> str:
    """A version-4 UUID as Django stores it on SQLite (32 hex digits), drawn from the seeded generator."""
    n = rng.getrandbits(128)
    n = (n & ~(0xF000 << 64)) | (0x4000 << 64)
    n = (n & ~(0xC000 << 48)) | (0x8000 << 48)
    return f"{n:032x}"


@dataclass
class Group:
    """The students of one major and cohort, in their classes."""

    dept_code: str
    dept_index: int
    major_index: int
    cohort: int
    size: int
    classes: list[Any] = field(default_factory=list)


@dataclass
class Helped:
    """What the activity loader needs to know about one helped student."""

    student_id: int
    dept_code: str
    timeline: Any
    start: dt.date
    end: dt.date
    helper_id: int
    earlier_helper_id: int | None = None
    handed_over_on: dt.date | None = None
    weight: float = 1.0


# The activity fields `activity_rows` fills, in the order of its rows.
ACTIVITY_FIELDS = (
    "id",
    "public_id",
    "student",
    "helper",
    "kind",
    "occurred_on",
    "stage",
    "notes",
    "internal",
    "attachment",
    "event_name",
    "employer_name",
    "position_title",
    "fits_student",
    "response",
    "effective",
    "corrects",
    "voided",
    "created_by",
    "created_at",
    "version",
)


@dataclass
class Corrections:
    n: int = 0


def activity_rows(
    rng: random.Random,
    helped: Sequence[Helped],
    versions: Any,
    target: int,
    *,
    first_id: int = 1,
    counter: Corrections | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Every activity of `helped` as a row of database values (the columns of `ACTIVITY_FIELDS`), student by
    student, each student's in date order, numbered from `first_id`; `target` shared by the plans' weights.

    This loop runs millions of times, hence the plain `random()` arithmetic instead of `choices`/`randrange`.
    """
    from bangfu.assistance.rules import is_effective, stage_on

    random_ = rng.random
    counter = counter if counter is not None else Corrections()
    counts = allocate(target, [p.weight for p in helped])
    kinds = {stage: weighted(pairs) for stage, pairs in KINDS_BY_STAGE.items()}
    responses, response_cum = weighted(RESPONSES)

    def pick(names: list[str], cum: list[int]) -> str:
        return names[bisect.bisect_right(cum, random_() * cum[-1])]

    stage_cache: dict[tuple[Any, dt.date], str] = {}
    rules_cache: dict[dt.date, Any] = {}
    one_day = dt.timedelta(days=1)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ", "seconds")
    next_id = itertools.count(first_id)
    for plan, count in zip(helped, counts, strict=True):
        span = (plan.end - plan.start).days + 1
        if count == 0 or span <= 0:
            continue
        days = []
        for _ in range(count):
            day = plan.start + int(random_() * span) * one_day
            weekday = day.weekday()
            if weekday >= 5 and random_() < 0.8:  # most help happens on working days
                friday = day - (weekday - 4) * one_day
                day = friday if friday >= plan.start else day
            days.append(day)
        days.sort()
        for day in days:
            rules = rules_cache.get(day)
            if rules is None:
                rules = rules_cache[day] = versions.on(day)
            stage = stage_cache.get((plan.timeline, day))
            if stage is None:
                stage = stage_cache[plan.timeline, day] = str(stage_on(plan.timeline, day, rules))
            kind = pick(*kinds.get(stage, kinds["after_leaving"]))
            event = employer = position = response = attachment = ""
            fits = effective = False
            if kind == "event_together":
                event = EVENTS[int(random_() * len(EVENTS))].format(
                    year=day.year, season="春季" if day.month < 7 else "秋季"
                )
            elif kind == "job_recommendation":
                employer = EMPLOYERS[int(random_() * len(EMPLOYERS))]
                positions = POSITIONS.get(plan.dept_code, ("储备干部",))
                position = positions[int(random_() * len(positions))]
                fits = random_() < 0.75
                response = pick(responses, response_cum)
                effective = is_effective(kind=kind, fits_student=fits, response=response, rules=rules)
            elif kind == "resume_revision":
                attachment = RESUME_FILE
            helper = plan.helper_id
            if plan.handed_over_on is not None and day < plan.handed_over_on:
                helper = plan.earlier_helper_id
            # Logged between 08:00 and 21:00 Beijing time, i.e. 00:00-13:00 UTC the same day.
            minute = int(random_() * 780)
            day_text = day.isoformat()
            notes = NOTES[kind]
            row = [
                next(next_id),
                uuid_hex(rng),
                plan.student_id,
                helper,
                kind,
                day_text,
                stage,
                notes[int(random_() * len(notes))],
                kind == "psychological_guidance",
                attachment,
                event,
                employer,
                position,
                fits,
                response,
                effective,
                None,
                False,
                helper,
                min(f"{day_text} {minute // 60:02d}:{minute % 60:02d}:00", now),
                1,
            ]
            if random_() < 0.002:
                # Recorded wrongly, corrected a few days later: the original is voided, the correction counts.
                counter.n += 1
                row[17] = True
                yield tuple(row)
                fixed = list(row)
                fixed[0], fixed[1], fixed[16], fixed[17] = next(next_id), uuid_hex(rng), row[0], False
                fixed[7] = "更正：" + row[7]
                fixed[19] = min(f"{day + rng.randint(1, 5) * one_day} {minute // 60:02d}:{minute % 60:02d}:00", now)
                yield tuple(fixed)
            else:
                yield tuple(row)


class Generator:
    def __init__(self, *, students: int, activities: int, ledger_share: float, per_helper: int, today: dt.date):
        self.total = students
        self.activity_target = activities
        self.ledger_share = ledger_share
        self.per_helper = per_helper
        self.today = today
        self.rng = random.Random(SEED)
        newest = today.year if today.month >= 9 else today.year - 1
        self.cohorts = list(range(newest - COHORTS + 1, newest + 1))
        self.timings: list[tuple[str, float]] = []

    def phase(self, name: str, started: tuple[float, float]) -> None:
        wall = time.perf_counter() - started[0]
        cpu = time.process_time() - started[1]
        self.timings.append((name, wall))
        print(f"  {name:<30} {wall:7.1f} s  (CPU {cpu:5.1f} s)", flush=True)

    # --- organisation, staff, policy -------------------------------------------------------------------------

    def organisation(self) -> None:
        from bangfu.demo import data
        from bangfu.organisation.models import UnitKind
        from bangfu.organisation.services import create_unit

        rng = self.rng
        self.school = create_unit(
            kind=UnitKind.SCHOOL, code="BENCH", name=data.SCHOOL_NAME, name_en=data.SCHOOL_NAME_EN
        )
        specs = [(d, spec, m, major) for d, spec in enumerate(data.DEPARTMENTS) for m, major in enumerate(spec.majors)]
        weights = [
            spec.size * rng.uniform(0.8, 1.2) * (1 + 0.04 * i) for _d, spec, _m, _major in specs for i in self.cohorts
        ]
        sizes = iter(allocate(self.total, weights))
        self.departments: dict[str, Any] = {}
        self.groups: list[Group] = []
        for d, spec, m, major_spec in specs:
            if spec.code not in self.departments:
                self.departments[spec.code] = create_unit(
                    kind=UnitKind.DEPARTMENT, code=spec.code, name=spec.name, name_en=spec.name_en, parent=self.school
                )
            dept = self.departments[spec.code]
            major = create_unit(
                kind=UnitKind.MAJOR, code=major_spec.code, name=major_spec.name, name_en=major_spec.name_en, parent=dept
            )
            for cohort in self.cohorts:
                group = Group(spec.code, d + 1, m + 1, cohort, next(sizes))
                yy = cohort % 100
                for k in range(1, max(1, round(group.size / CLASS_SIZE)) + 1):
                    group.classes.append(
                        create_unit(
                            kind=UnitKind.CLASS,
                            code=f"{major_spec.code}{yy:02d}{k:02d}",
                            name=f"{major_spec.short}{yy:02d}{k:02d}班",
                            name_en=f"{major_spec.name_en} {yy:02d}{k:02d}",
                            parent=major,
                        )
                    )
                self.groups.append(group)

    def staff(self) -> None:
        from django.contrib.auth.hashers import make_password

        from bangfu.demo import data
        from bangfu.organisation.models import Role, User
        from bangfu.organisation.services import create_staff

        rng = self.rng
        surnames, surname_cum = weighted([(s, int(w)) for s, w in data.SURNAMES])
        used: set[str] = set()
        numbers = itertools.count(1001)

        def person(unit: Any, roles: list[tuple[str, Any]], username: str = "") -> User:
            for _attempt in range(20):  # distinct names while the pool lasts (a few thousand)
                male = rng.random() < 0.5
                pool = data.STAFF_MALE if male else data.STAFF_FEMALE
                i = rng.randrange(len(pool) // 2)
                name = rng.choices(surnames, cum_weights=surname_cum)[0] + pool[2 * i : 2 * i + 2]
                if name not in used:
                    break
            used.add(name)
            number = next(numbers)
            return create_staff(
                username=username or f"js{number}",
                full_name=name,
                unit=unit,
                email=f"{username or f'js{number}'}@bench.example.edu.cn",
                staff_number=f"JS{number}",
                roles=roles,
            )

        school = self.school
        self.principal = person(school, [(Role.SCHOOL_LEADER, school)], "principal")
        self.office = person(school, [(Role.EMPLOYMENT_OFFICE, school)], "office")
        for _ in range(2):
            person(school, [(Role.EMPLOYMENT_OFFICE, school)])
        ledger_by_dept: dict[str, float] = defaultdict(float)
        for g in self.groups:
            ledger_by_dept[g.dept_code] += g.size * self.ledger_share
        self.leaders: dict[str, Any] = {}
        self.counsellors: dict[tuple[str, int], Any] = {}
        self.helpers: dict[str, list[Any]] = {}
        for code, dept in self.departments.items():
            featured = code == data.FEATURED_DEPARTMENT
            self.leaders[code] = person(dept, [(Role.DEPARTMENT_LEADER, dept)], "leader" if featured else "")
            person(dept, [(Role.DEPARTMENT_LEADER, dept)])
            for cohort in self.cohorts:
                classes = [k for g in self.groups if g.dept_code == code and g.cohort == cohort for k in g.classes]
                self.counsellors[code, cohort] = person(dept, [(Role.COUNSELLOR, k) for k in classes])
            n = max(1, round(ledger_by_dept[code] / self.per_helper))
            self.helpers[code] = [
                person(dept, [(Role.TEACHER, dept)], "helper" if featured and i == 0 else "") for i in range(n)
            ]
        User.objects.filter(username__in=["principal", "office", "leader", "helper"]).update(
            password=make_password(LOGIN_PASSWORD)
        )
        self.staff_count = User.objects.count()

    def policy(self) -> None:
        from bangfu.assistance.rules import DEFAULT_STANDARDS, versions_for_schools
        from bangfu.assistance.services import save_policy

        standards = [r.as_standard_fields() for r in DEFAULT_STANDARDS]
        save_policy(
            actor=self.office,
            school=self.school,
            valid_from=dt.date(self.cohorts[0], 8, 1),
            standards=standards,
            note="按学校帮扶工作实施办法执行",
        )
        self.versions = versions_for_schools({self.school.pk})[self.school.pk]

    # --- students, ledger, helpers, plans --------------------------------------------------------------------

    def students(self) -> None:
        from bangfu.demo import data
        from bangfu.students import idnumbers
        from bangfu.students.models import Gender, Level, Student, StudentStatus

        rng = self.rng
        surnames, surname_cum = weighted([(s, int(w)) for s, w in data.SURNAMES])
        cities = data.CITIES
        city_cum = list(itertools.accumulate(c.weight for c in cities))
        specs = {spec.code: spec for spec in data.DEPARTMENTS}
        seen_ids: set[str] = set()
        self.rural: dict[int, bool] = {}
        rows: list[Student] = []
        self.group_members: list[list[Student]] = []
        for g in self.groups:
            spec = specs[g.dept_code]
            members = []
            per_class = allocate(g.size, [1.0] * len(g.classes))
            seq = 0
            for klass, count in zip(g.classes, per_class, strict=True):
                major = klass.parent
                for _ in range(count):
                    seq += 1
                    gender = Gender.MALE if rng.random() < spec.male_share else Gender.FEMALE
                    male = gender == Gender.MALE
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
                    minority = county.minority or ()
                    r = rng.random()
                    ethnicity = "汉族"
                    for name, share in minority:
                        if r < share:
                            ethnicity = name
                            break
                        r -= share
                    graduation = dt.date(g.cohort + PROGRAM_YEARS, 6, 30)
                    student = Student(
                        school=self.school,
                        department=self.departments[g.dept_code],
                        major=major,
                        class_unit=klass,
                        student_number=f"{g.cohort}{g.dept_index:02d}{g.major_index:02d}{seq:04d}",
                        name=rng.choices(surnames, cum_weights=surname_cum)[0] + given,
                        gender=gender,
                        ethnicity=ethnicity,
                        id_number_cipher=idnumbers.encrypt(number),
                        id_number_hash=idnumbers.keyed_hash(number),
                        id_number_masked=idnumbers.mask(number),
                        birth_date=born,
                        home_province=city.province,
                        home_city=city.name,
                        home_county=county.name,
                        address=address,
                        phone=rng.choice(data.PHONE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}",
                        level=Level.VOCATIONAL,
                        program_years=PROGRAM_YEARS,
                        cohort=g.cohort,
                        enrolled_on=dt.date(g.cohort, 9, 1),
                        expected_graduation=graduation,
                        status=StudentStatus.GRADUATED if graduation < self.today else StudentStatus.ENROLLED,
                    )
                    members.append(student)
                    self.rural[id(student)] = rural
            self.group_members.append(members)
            rows += members
        Student.objects.bulk_create(rows, batch_size=BATCH)

    def ledger(self) -> None:
        from bangfu.demo import data
        from bangfu.students.models import HardshipLevel, LedgerCategory, LedgerEntry, LedgerSource

        rng, today = self.rng, self.today
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
        entries: list[LedgerEntry] = []
        cats_of: list[list[str]] = []
        self.ledger_students: list[tuple[Any, LedgerEntry]] = []
        carry = 0.0
        for g, members in zip(self.groups, self.group_members, strict=True):
            counsellor = self.counsellors[g.dept_code, g.cohort]
            target = self.ledger_share * len(members) + carry
            count = int(target + 0.5)
            carry = target - count
            keyed = sorted(
                members, key=lambda s: rng.random() ** (1 / (3.0 if self.rural[id(s)] else 1.0)), reverse=True
            )
            chosen = keyed[:count]
            for student in chosen:
                rural = self.rural[id(student)]
                cats = [c for c, (p_rural, p_town) in chances.items() if rng.random() < (p_rural if rural else p_town)]
                if student.ethnicity != "汉族" and rng.random() < 0.6:
                    cats.append("ethnic_minority")
                cats = cats or ["school_identified"]
                review = g.cohort < self.cohorts[-1] and rng.random() < 0.15
                joined_on = min(dt.date(g.cohort + 1, 3, 10) if review else dt.date(g.cohort, 10, 20), today)
                main = next(c for c in data.SITUATION_ORDER if c in cats)
                if {"orphan", "extreme_poverty", "disabled"} & set(cats):
                    level = HardshipLevel.SPECIAL
                elif {"poverty_alleviated", "subsistence_allowance", "zero_employment"} & set(cats):
                    level = HardshipLevel.SPECIAL if rng.random() < 0.3 else HardshipLevel.HARDSHIP
                else:
                    level = HardshipLevel.HARDSHIP if rng.random() < 0.4 else HardshipLevel.GENERAL
                situation = rng.choice(data.FAMILY_SITUATIONS[main]).format(
                    disability="三",
                    household=rng.randint(4, 6),
                    siblings=rng.choice("二三"),
                    crop=rng.choice(data.CROPS),
                    county=student.home_county,
                )
                entry = LedgerEntry(
                    student=student,
                    source=LedgerSource.REVIEW if review else LedgerSource.SURVEY,
                    hardship_level=level,
                    disability_level="3" if "disabled" in cats else "",
                    family_situation=situation,
                    intends_to_work=rng.random() < 0.92,
                    joined_on=joined_on,
                    join_reason=f"{'学期复核' if review else '入学普查'}：{data.CATEGORY_ZH[main]}",
                    joined_by=counsellor,
                )
                entries.append(entry)
                cats_of.append(cats)
                self.ledger_students.append((student, entry))
            # A few were in the ledger once and left it at a later review: a closed entry, no open one.
            chosen_ids = {id(s) for s in chosen}
            for student in members:
                left_on = dt.date(g.cohort + 1, 9, 20)
                if id(student) not in chosen_ids and left_on <= today and rng.random() < 0.02:
                    entries.append(
                        LedgerEntry(
                            student=student,
                            source=LedgerSource.SURVEY,
                            hardship_level=HardshipLevel.GENERAL,
                            family_situation=rng.choice(data.FAMILY_SITUATIONS["school_identified"]),
                            joined_on=dt.date(g.cohort, 10, 20),
                            join_reason="入学普查：学校认定家庭经济困难",
                            joined_by=counsellor,
                            left_on=left_on,
                            leave_reason=rng.choice(data.LEAVE_REASONS),
                            left_by=counsellor,
                            version=2,
                        )
                    )
                    cats_of.append([rng.choice(["school_identified", "student_loan"])])
        LedgerEntry.objects.bulk_create(entries, batch_size=BATCH)
        categories = [
            LedgerCategory(
                entry=entry,
                category=code,
                verified_on=min(entry.joined_on + dt.timedelta(days=7), today) if rng.random() < 0.7 else None,
            )
            for entry, cats in zip(entries, cats_of, strict=True)
            for code in cats
        ]
        LedgerCategory.objects.bulk_create(categories, batch_size=BATCH)
        self.ledger_count = len(self.ledger_students)
        self.closed_count = len(entries) - self.ledger_count

    def helpers_and_plans(self) -> None:
        from bangfu.assistance.models import Direction, HelperAssignment
        from bangfu.assistance.models import Plan as PlanRow
        from bangfu.assistance.rules import Timeline
        from bangfu.dates import add_months
        from bangfu.demo import data

        rng, today = self.rng, self.today
        by_dept: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
        for student, entry in self.ledger_students:
            by_dept[student.department.code].append((student, entry))
        assignments: list[HelperAssignment] = []
        plans: list[PlanRow] = []
        self.helped: list[Helped] = []
        self.unassigned = 0
        directions, direction_cum = weighted(DIRECTIONS)
        for code, pairs in by_dept.items():
            rng.shuffle(pairs)
            helpers = self.helpers[code]
            # Some helpers log more than others: the spread shows up in the leaders' compliance figures.
            diligence = {h.pk: rng.uniform(0.5, 1.5) for h in helpers}
            leader = self.leaders[code]
            for i, (student, entry) in enumerate(pairs):
                if rng.random() < 0.01:  # left without a helper for now: the "unassigned" signal
                    self.unassigned += 1
                    continue
                helper = helpers[i % len(helpers)]
                start = min(entry.joined_on + dt.timedelta(days=rng.randint(1, 10)), today)
                planned_end = dt.date(student.cohort + PROGRAM_YEARS, 8, 31)
                timeline = Timeline(student.cohort, student.program_years, student.expected_graduation)
                plan = Helped(student.pk, code, timeline, start, today, helper.pk)
                handed = dt.date(student.cohort + 1, 9, 1)
                if len(helpers) > 1 and handed > start and handed <= today and rng.random() < 0.03:
                    earlier = rng.choice([h for h in helpers if h is not helper])
                    assignments.append(
                        HelperAssignment(
                            student=student,
                            helper=earlier,
                            started_on=start,
                            planned_end=planned_end,
                            ended_on=handed,
                            reason="一对一帮扶责任人分配",
                            end_reason=f"工作调整，移交给{helper.full_name}",
                            assigned_by=leader,
                            version=2,
                        )
                    )
                    assignments.append(
                        HelperAssignment(
                            student=student,
                            helper=helper,
                            started_on=handed,
                            planned_end=planned_end,
                            reason="工作交接",
                            handover_note=rng.choice(data.HANDOVER_NOTES),
                            assigned_by=leader,
                        )
                    )
                    plan.earlier_helper_id, plan.handed_over_on = earlier.pk, handed
                else:
                    assignments.append(
                        HelperAssignment(
                            student=student,
                            helper=helper,
                            started_on=start,
                            planned_end=planned_end,
                            reason="一对一帮扶责任人分配",
                            assigned_by=leader,
                        )
                    )
                # Help ends with the follow-up year; a few helpers lapsed two to five months ago.
                plan.end = min(today, add_months(student.expected_graduation, 12))
                if rng.random() < 0.06:
                    plan.end = min(plan.end, today - dt.timedelta(days=rng.randint(61, 150)))
                span = (plan.end - plan.start).days + 1
                plan.weight = max(span, 0) * diligence[helper.pk] * rng.lognormvariate(0, 0.3)
                self.helped.append(plan)
                direction = rng.choices(directions, cum_weights=direction_cum)[0]
                plans.append(
                    PlanRow(
                        student=student,
                        direction=Direction(direction),
                        industries=student.department.name.removesuffix("学院") + "相关行业",
                        places="、".join(rng.sample(["石家庄", "保定", "唐山", "北京", "天津", "廊坊", "邯郸"], 2)),
                        near_home=rng.random() < 0.4,
                        salary_expectation=rng.randrange(3500, 6500, 500),
                        strengths=rng.choice(["吃苦耐劳，动手能力强", "学习认真，持有技能证书", "性格开朗，善于沟通"]),
                        needs=rng.choice(["求职技巧指导", "简历和面试辅导", "经济资助和心理支持", "岗位信息"]),
                        updated_by=helper,
                    )
                )
        HelperAssignment.objects.bulk_create(assignments, batch_size=BATCH)
        PlanRow.objects.bulk_create(plans, batch_size=BATCH)

    # --- the work ledger -------------------------------------------------------------------------------------

    def activity_columns(self) -> list[str]:
        from bangfu.assistance.models import Activity

        names = ACTIVITY_FIELDS
        fields = {f.name: f for f in Activity._meta.concrete_fields}
        missing = [n for n, f in fields.items() if n not in names and not f.null]
        if missing:
            raise SystemExit(f"Activity has new required fields {missing}: teach bench/generate.py to fill them")
        return [fields[n].column for n in names]

    def activity_rows(self) -> Iterator[tuple[Any, ...]]:
        """Every activity as a row of database values (see `activity_rows`); counts the corrections made."""
        counter = Corrections()
        yield from activity_rows(self.rng, self.helped, self.versions, self.activity_target, counter=counter)
        self.corrections = counter.n

    def activities(self) -> None:
        from django.conf import settings
        from django.db import connection

        from bangfu.assistance.models import Activity

        resume = Path(settings.MEDIA_ROOT) / RESUME_FILE
        resume.parent.mkdir(parents=True, exist_ok=True)
        resume.write_bytes(RESUME_PDF)
        table = Activity._meta.db_table
        columns = self.activity_columns()
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({marks})"
        rows = self.activity_rows()
        with connection.cursor() as cursor:
            # Loading first and indexing after is faster than keeping six indexes up to date row by row; the
            # indexes are re-created from the very statements the migrations wrote.
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [table])
            indexes = [(name, ddl) for name, ddl in cursor.fetchall() if ddl]
            for name, _ddl in indexes:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            raw = cursor.cursor  # the sqlite3 cursor: executemany without Django's per-row conversions
            while True:
                chunk = list(itertools.islice(rows, 50_000))
                if not chunk:
                    break
                raw.executemany(sql, chunk)
            for _name, ddl in indexes:
                cursor.execute(ddl)


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def build(args: argparse.Namespace, var_dir: Path) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    today = args.today or timezone.localdate()
    gen = Generator(
        students=args.students,
        activities=args.activities,
        ledger_share=args.ledger_share,
        per_helper=args.per_helper,
        today=today,
    )
    started = time.perf_counter()
    t = clock()
    migrate()
    gen.phase("migrate", t)
    with connection.cursor() as cursor:
        # Bulk load: no fsync, rollback journal in memory (a crash leaves no bench.json, so the set is rebuilt).
        for pragma in ("synchronous=OFF", "journal_mode=MEMORY", "cache_size=-262144", "temp_store=MEMORY"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.execute("PRAGMA journal_mode")
        if cursor.fetchone()[0] != "memory":
            print("note: SQLite kept its journal mode; loading will be slower")
    with transaction.atomic():
        for name, step in (
            ("organisation", gen.organisation),
            ("staff", gen.staff),
            ("policy", gen.policy),
            ("students", gen.students),
            ("ledger", gen.ledger),
            ("helpers and plans", gen.helpers_and_plans),
            ("activities", gen.activities),
        ):
            t = clock()
            step()
            gen.phase(name, t)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        t = clock()
        cursor.execute("PRAGMA foreign_key_check")
        broken = cursor.fetchall()
        if broken:
            raise SystemExit(f"foreign keys broken: {broken[:5]}")
        gen.phase("foreign key check", t)

    from bangfu.assistance.models import Activity, StudentProgress
    from bangfu.assistance.progress import rebuild_progress

    t = clock()
    written = rebuild_progress(today=today)
    gen.phase("progress (rebuild_progress)", t)
    if args.analyze:
        t = clock()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        gen.phase("ANALYZE", t)
    took = time.perf_counter() - started

    from django.db.models import Count

    from bangfu.students.models import Student

    risk = dict(StudentProgress.objects.values_list("risk").annotate(n=Count("id")).order_by("risk"))
    helper = next(h for helpers in gen.helpers.values() for h in helpers if h.username == "helper")
    return {
        "today": today,
        "seed": SEED,
        "students": Student.objects.count(),
        "ledger_students": gen.ledger_count,
        "left_ledger": gen.closed_count,
        "unassigned": gen.unassigned,
        "helpers": sum(len(h) for h in gen.helpers.values()),
        "staff": gen.staff_count,
        "activities": Activity.objects.count(),
        "corrections": gen.corrections,
        "progress_rows": written,
        "progress_by_risk": {str(k): v for k, v in sorted(risk.items())},
        "departments": len(gen.departments),
        "classes": sum(len(g.classes) for g in gen.groups),
        "cohorts": gen.cohorts,
        "logins": {"helper": "helper", "leader": "leader", "office": "office", "principal": "principal"},
        "featured_helper_caseload": sum(1 for p in gen.helped if p.helper_id == helper.pk),
        "analyzed": bool(args.analyze),
        "generation_seconds": round(took, 1),
        "phases": {name: round(s, 2) for name, s in gen.timings},
        "database_bytes": sum(
            (var_dir / n).stat().st_size for n in (DB_NAME, DB_NAME + "-wal") if (var_dir / n).exists()
        ),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--var-dir", type=Path, default=DEFAULT_VAR_DIR, help="where the data set lives")
    parser.add_argument("--fresh", action="store_true", help="rebuild even if a data set exists")
    parser.add_argument("--students", type=int, default=30_000)
    parser.add_argument("--activities", type=int, default=1_000_000, help="activities, shared among ledger students")
    parser.add_argument("--ledger-share", type=float, default=0.2, help="share of students in the ledger")
    parser.add_argument("--per-helper", type=int, default=40, help="ledger students per helper")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="the data set's today (ISO date)")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE after loading (the app does not)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    var_dir = args.var_dir.resolve()
    if args.fresh:
        remove_data_set(var_dir)
    meta = read_meta(var_dir)
    if meta is not None:
        print(
            f"Reusing the data set in {var_dir} ({meta['students']:,} students, {meta['activities']:,} activities, "
            f"today {meta['today']}); --fresh rebuilds it."
        )
        return 0
    remove_data_set(var_dir)  # whatever an interrupted run left behind
    setup_django(var_dir)
    print(f"Building the bench data set in {var_dir}: {args.students:,} students, {args.activities:,} activities")
    meta = build(args, var_dir)
    write_meta(var_dir, meta)
    print(
        f"Done in {meta['generation_seconds']:.1f} s: {meta['students']:,} students, "
        f"{meta['ledger_students']:,} in the ledger, {meta['helpers']} helpers, {meta['activities']:,} activities, "
        f"{meta['progress_rows']:,} progress rows; database {meta['database_bytes'] / 2**20:,.0f} MiB."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
