"""Build the demo university: a school, its departments, staff, about 3,000 students, a ledger and helpers.

Units and staff go through the organisation services. Students, ledger entries, categories and helper
assignments are bulk-inserted for speed (the demo loads on every first `make run`), so this module keeps
their invariants itself: encrypted, hashed and masked ID numbers with valid check digits; school, department,
major and class set from the class; one open ledger entry and one active primary helper per student; dates
never after today. Their history rows are written in bulk too, dated when the action would have happened.
A fixed random seed makes the demo the same on every machine.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from bangfu.assistance.models import Activity, ActivityKind, HelperAssignment, Stage
from bangfu.assistance.progress import rebuild_progress
from bangfu.assistance.rules import DEFAULT_RULES, Timeline, is_effective, stage_on
from bangfu.dates import add_months, months_between
from bangfu.demo import data
from bangfu.organisation.models import OrgUnit, Role, UnitKind, User
from bangfu.organisation.services import create_staff, create_unit, grant_role
from bangfu.students import idnumbers
from bangfu.students.models import (
    Category,
    DisabilityLevel,
    Gender,
    HardshipLevel,
    LedgerCategory,
    LedgerEntry,
    LedgerSource,
    Level,
    Student,
    StudentStatus,
)

SEED = 20211101
LEDGER_SHARE = 0.2
PROGRAM_YEARS = 3
COHORTS = 4
STAFF_PER_DEPARTMENT = {"leaders": 2, "teachers": 14}  # plus one counsellor per cohort
BATCH = 500


@dataclass
class Login:
    username: str
    role: str
    description: str | Promise


@dataclass
class DemoSummary:
    created: bool
    school: OrgUnit
    students: int = 0
    ledger: int = 0
    staff: int = 0
    activities: int = 0
    employers: int = 0
    recommendations: int = 0
    destinations: int = 0
    logins: list[Login] = field(default_factory=list)


LOGINS = (
    Login("principal", "school_leader", _("School leader: sees every department of the demo school.")),
    Login("office", "employment_office", _("Employment office: the whole school, including the audit pages.")),
    Login("leader", "department_leader", _("Department leader of the School of Information Engineering.")),
    Login("helper", "counsellor", _("Counsellor of final-year classes and helper of about 25 ledger students.")),
    Login("student", "student", _("A student in the ledger, helped by the helper login.")),
)


def demo_school() -> OrgUnit | None:
    return OrgUnit.objects.filter(kind=UnitKind.SCHOOL, parent=None, code=data.SCHOOL_CODE).first()


def current_cohort(today: dt.date) -> int:
    """The enrolment year of the academic year `today` falls in (it starts in September)."""
    return today.year if today.month >= 9 else today.year - 1


def _aware(day: dt.date, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 30)))


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder), so the parts add up exactly."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    parts = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


class _People:
    """Names, home regions, ID numbers and phones drawn from one seeded random generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.surnames = [s for s, _w in data.SURNAMES]
        self.surname_cum = list(itertools.accumulate(w for _s, w in data.SURNAMES))
        self.cities = data.CITIES
        self.city_cum = list(itertools.accumulate(c.weight for c in data.CITIES))
        self.id_numbers: set[str] = set()
        self.staff_names: set[str] = set()

    def student_name(self, gender: str) -> str:
        rng = self.rng
        surname = rng.choices(self.surnames, cum_weights=self.surname_cum)[0]
        male = gender == Gender.MALE
        if rng.random() < 0.2:
            return surname + rng.choice(data.MALE_SINGLE if male else data.FEMALE_SINGLE)
        first = rng.choice(data.MALE_FIRST if male else data.FEMALE_FIRST)
        second = rng.choice(data.MALE_SECOND if male else data.FEMALE_SECOND)
        while second == first:
            second = rng.choice(data.MALE_SECOND if male else data.FEMALE_SECOND)
        return surname + first + second

    def staff_name(self) -> str:
        """A distinct name for a member of staff (born around 1970–1990)."""
        rng = self.rng
        while True:
            surname = rng.choices(self.surnames, cum_weights=self.surname_cum)[0]
            male = rng.random() < 0.5
            pool = data.STAFF_MALE if male else data.STAFF_FEMALE
            if rng.random() < 0.3:
                given = rng.choice(data.STAFF_SINGLE_MALE if male else data.STAFF_SINGLE_FEMALE)
            else:
                i = rng.randrange(len(pool) // 2)
                given = pool[2 * i : 2 * i + 2]
            name = surname + given
            if name not in self.staff_names:
                self.staff_names.add(name)
                return name

    def home(self) -> tuple[data.City, data.County]:
        city = self.rng.choices(self.cities, cum_weights=self.city_cum)[0]
        return city, self.rng.choice(city.counties)

    def ethnicity(self, county: data.County) -> str:
        r = self.rng.random()
        for name, share in county.minority or data.BACKGROUND_MINORITIES:
            if r < share:
                return name
            r -= share
        return "汉族"

    def birth_date(self, cohort: int) -> dt.date:
        # Most start at 18; some a year older (a repeated year of senior school).
        days = self.rng.randint(1, 365) + (365 if self.rng.random() < 0.15 else 0)
        return dt.date(cohort - 18, 9, 1) - dt.timedelta(days=days)

    def id_number(self, region: str, born: dt.date, gender: str) -> str:
        # The 17th digit is odd for men and even for women.
        parity = (1, 3, 5, 7, 9) if gender == Gender.MALE else (0, 2, 4, 6, 8)
        while True:
            first17 = f"{region}{born:%Y%m%d}{self.rng.randint(0, 99):02d}{self.rng.choice(parity)}"
            number = first17 + idnumbers.check_digit(first17)
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def phone(self) -> str:
        return self.rng.choice(data.PHONE_PREFIXES) + f"{self.rng.randint(0, 99_999_999):08d}"

    def address(self, city: data.City, county: data.County, rural: bool) -> str:
        rng = self.rng
        place = city.province + ("" if city.name == city.province else city.name) + county.name
        if rural:
            return f"{place}{rng.choice(data.TOWNS)}{rng.choice(data.VILLAGES)}{rng.randint(1, 260)}号"
        room = f"{rng.randint(1, 6)}单元{rng.randint(1, 18)}0{rng.randint(1, 4)}"
        return f"{place}{rng.choice(data.STREETS)}{rng.randint(1, 400)}号{room}"


@dataclass
class _Staff:
    school_leaders: list[User] = field(default_factory=list)
    office: list[User] = field(default_factory=list)
    leaders: dict[str, list[User]] = field(default_factory=dict)  # by department code
    counsellors: dict[tuple[str, int], User] = field(default_factory=dict)  # by (department code, cohort)
    teachers: dict[str, list[User]] = field(default_factory=dict)

    def all(self) -> list[User]:
        users = self.school_leaders + self.office + list(self.counsellors.values())
        for code in self.leaders:
            users += self.leaders[code] + self.teachers[code]
        return users


class _Builder:
    def __init__(self, *, students: int, today: dt.date, seed: int) -> None:
        self.total = students
        self.today = today
        self.rng = random.Random(seed)
        self.people = _People(self.rng)
        newest = current_cohort(today)
        self.cohorts = list(range(newest - COHORTS + 1, newest + 1))
        self.final_year = newest - PROGRAM_YEARS + 1
        self.staff_count = 0
        self.staff_numbers = (f"{n:04d}" for n in itertools.count(1001))

    # --- organisation ---------------------------------------------------------------------------------------

    def units(self) -> None:
        self.school = create_unit(
            kind=UnitKind.SCHOOL, code=data.SCHOOL_CODE, name=data.SCHOOL_NAME, name_en=data.SCHOOL_NAME_EN
        )
        self.departments: dict[str, OrgUnit] = {}
        # Every class, in student-number order: (department spec, major index, cohort, class unit)
        self.classes: list[tuple[data.DepartmentSpec, int, int, OrgUnit]] = []
        for spec in data.DEPARTMENTS:
            dept = create_unit(
                kind=UnitKind.DEPARTMENT, code=spec.code, name=spec.name, name_en=spec.name_en, parent=self.school
            )
            self.departments[spec.code] = dept
            for m, major_spec in enumerate(spec.majors):
                major = create_unit(
                    kind=UnitKind.MAJOR,
                    code=major_spec.code,
                    name=major_spec.name,
                    name_en=major_spec.name_en,
                    parent=dept,
                )
                for cohort in self.cohorts:
                    yy = cohort % 100
                    klass = create_unit(
                        kind=UnitKind.CLASS,
                        code=f"{major_spec.code}{yy:02d}01",
                        name=f"{major_spec.short}{yy:02d}01班",
                        name_en=f"{major_spec.name_en} {yy:02d}01",
                        parent=major,
                    )
                    self.classes.append((spec, m, cohort, klass))

    def _staff(self, unit: OrgUnit, roles: list[tuple[str, OrgUnit]], username: str = "") -> User:
        number = next(self.staff_numbers)
        self.staff_count += 1
        return create_staff(
            username=username or f"js{number}",
            full_name=self.people.staff_name(),
            unit=unit,
            email=f"{username or 'js' + number}@yzvu.example.edu.cn",
            staff_number=f"JS{number}",
            roles=roles,
        )

    def staff(self) -> None:
        s = _Staff()
        school = self.school
        s.school_leaders.append(self._staff(school, [(Role.SCHOOL_LEADER, school)], "principal"))
        s.school_leaders += [self._staff(school, [(Role.SCHOOL_LEADER, school)]) for _ in range(3)]
        s.office.append(self._staff(school, [(Role.EMPLOYMENT_OFFICE, school)], "office"))
        s.office += [self._staff(school, [(Role.EMPLOYMENT_OFFICE, school)]) for _ in range(4)]
        for spec in data.DEPARTMENTS:
            dept = self.departments[spec.code]
            featured = spec.code == data.FEATURED_DEPARTMENT
            s.leaders[spec.code] = [
                self._staff(dept, [(Role.DEPARTMENT_LEADER, dept)], "leader" if featured and i == 0 else "")
                for i in range(STAFF_PER_DEPARTMENT["leaders"])
            ]
            for cohort in self.cohorts:
                # A counsellor (辅导员) looks after one cohort of a department and is granted on its classes.
                classes = [k for d, _m, c, k in self.classes if d is spec and c == cohort]
                name = "helper" if featured and cohort == self.final_year else ""
                s.counsellors[spec.code, cohort] = self._staff(dept, [(Role.COUNSELLOR, k) for k in classes], name)
            s.teachers[spec.code] = [
                self._staff(dept, [(Role.TEACHER, dept)]) for _ in range(STAFF_PER_DEPARTMENT["teachers"])
            ]
        users = s.all()
        for user in users:
            user.phone = self.people.phone()
        User.objects.bulk_update(users, ["phone"], batch_size=BATCH)
        self.s = s

    # --- students -------------------------------------------------------------------------------------------

    def students(self) -> None:
        rng, people = self.rng, self.people
        newest = self.cohorts[-1]
        # Classes are of similar size; intake grows a little every year.
        weights = [
            d.size * rng.uniform(0.85, 1.15) * (1 + 0.04 * (c - self.cohorts[0])) for d, _m, c, _k in self.classes
        ]
        sizes = _allocate(self.total, weights)
        importer = self.s.office[0]
        self.rural: dict[int, bool] = {}  # by position in self.all_students
        self.by_class: list[list[Student]] = []
        self.all_students: list[Student] = []
        for (spec, m, cohort, klass), size in zip(self.classes, sizes, strict=True):
            major = klass.parent
            d = data.DEPARTMENTS.index(spec) + 1
            members = []
            for seq in range(1, size + 1):
                gender = Gender.MALE if rng.random() < spec.male_share else Gender.FEMALE
                city, county = people.home()
                district = county.name.endswith("区")
                rural = rng.random() < (0.2 if district else 0.75)
                born = people.birth_date(cohort)
                number = people.id_number(county.code, born, gender)
                student = Student(
                    school=self.school,
                    department=self.departments[spec.code],
                    major=major,
                    class_unit=klass,
                    student_number=f"{cohort}{d:02d}{m + 1:02d}{seq:03d}",
                    name=people.student_name(gender),
                    gender=gender,
                    ethnicity=people.ethnicity(county),
                    id_number_cipher=idnumbers.encrypt(number),
                    id_number_hash=idnumbers.keyed_hash(number),
                    id_number_masked=idnumbers.mask(number),
                    birth_date=born,
                    home_province=city.province,
                    home_city=city.name,
                    home_county=county.name,
                    address=people.address(city, county, rural),
                    phone=people.phone(),
                    level=Level.VOCATIONAL,
                    program_years=PROGRAM_YEARS,
                    cohort=cohort,
                    enrolled_on=dt.date(cohort, 9, 1),
                    expected_graduation=dt.date(cohort + PROGRAM_YEARS, 6, 30),
                    status=StudentStatus.ENROLLED if cohort > newest - PROGRAM_YEARS else StudentStatus.GRADUATED,
                )
                # The office loads each intake from the admissions list in the first week.
                student._history_user = importer  # type: ignore[attr-defined]
                student._history_date = _aware(dt.date(cohort, 9, 3))  # type: ignore[attr-defined]
                self.rural[id(student)] = rural
                members.append(student)
            self.by_class.append(members)
            self.all_students += members
        bulk_create_with_history(self.all_students, Student, batch_size=BATCH)

    # --- ledger and helpers ---------------------------------------------------------------------------------

    def _categories(self, student: Student) -> list[str]:
        rng = self.rng
        rural = self.rural[id(student)]
        chances = {
            Category.POVERTY_ALLEVIATED: 0.42 if rural else 0.12,
            Category.SUBSISTENCE_ALLOWANCE: 0.22,
            Category.RURAL: 0.7 if rural else 0.0,
            Category.STUDENT_LOAN: 0.45,
            Category.ZERO_EMPLOYMENT: 0.05,
            Category.DISABLED_PARENT: 0.06,
            Category.DISABLED: 0.015,
            Category.ORPHAN: 0.015,
            Category.EXTREME_POVERTY: 0.012,
            Category.ETHNIC_MINORITY: 0.6 if student.ethnicity != "汉族" else 0.0,
            Category.SCHOOL_IDENTIFIED: 0.3,
        }
        chosen = [str(c) for c, p in chances.items() if rng.random() < p]
        return chosen or [Category.SCHOOL_IDENTIFIED.value]

    def _hardship(self, categories: list[str]) -> str:
        r = self.rng.random()
        if {"orphan", "extreme_poverty", "disabled"} & set(categories):
            return HardshipLevel.SPECIAL
        if {"poverty_alleviated", "subsistence_allowance", "zero_employment"} & set(categories):
            return HardshipLevel.SPECIAL if r < 0.3 else HardshipLevel.HARDSHIP
        return HardshipLevel.HARDSHIP if r < 0.4 else HardshipLevel.GENERAL

    def _situation(self, student: Student, categories: list[str], disability: str) -> str:
        key = next(c for c in data.SITUATION_ORDER if c in categories)
        return self.rng.choice(data.FAMILY_SITUATIONS[key]).format(
            disability=disability or "三",
            household=self.rng.randint(4, 6),
            siblings=self.rng.choice("二三"),
            crop=self.rng.choice(data.CROPS),
            county=student.home_county,
        )

    def _pick_ledger(self, members: list[Student], count: int) -> list[Student]:
        # Weighted sampling without replacement: students from rural homes are three times as likely.
        keyed = sorted(
            members, key=lambda s: self.rng.random() ** (1 / (3.0 if self.rural[id(s)] else 1.0)), reverse=True
        )
        return keyed[:count]

    def ledger(self) -> None:
        rng, today = self.rng, self.today
        s = self.s
        helper_login = s.counsellors[data.FEATURED_DEPARTMENT, self.final_year]
        entries: list[LedgerEntry] = []
        closed: list[LedgerEntry] = []
        categories: list[LedgerCategory] = []
        self.assignments: list[HelperAssignment] = []
        carry = 0.0
        pools: dict[str, list[Student]] = defaultdict(list)  # ledger students to share out, by department
        helper_students: list[Student] = []
        for (spec, _m, cohort, _klass), members in zip(self.classes, self.by_class, strict=True):
            counsellor = s.counsellors[spec.code, cohort]
            target = LEDGER_SHARE * len(members) + carry
            count = int(target + 0.5)
            carry = target - count
            if counsellor == helper_login and members:
                count = max(count, 1)  # the `helper` and `student` logins need someone here
            chosen = self._pick_ledger(members, count)
            chosen_ids = {id(c) for c in chosen}
            for student in chosen:
                entry, cats = self._entry(student, counsellor, cohort)
                entries.append(entry)
                categories += cats
                if counsellor == helper_login:
                    helper_students.append(student)
                else:
                    pools[spec.code].append(student)
            # A few students were in the ledger once and left it at a later review.
            for student in members:
                if id(student) not in chosen_ids and cohort < self.cohorts[-1] and rng.random() < 0.02:
                    left_on = dt.date(cohort + 1, 9, 20)
                    if left_on <= today:
                        entry, cats = self._entry(student, counsellor, cohort, left_on=left_on)
                        closed.append(entry)
                        categories += cats
        bulk_create_with_history(entries + closed, LedgerEntry, batch_size=BATCH)
        self._close(closed)
        bulk_create_with_history(categories, LedgerCategory, batch_size=BATCH)

        entry_of = {e.student_id: e for e in entries}
        self.ledger_count = len(entries)
        for student in helper_students:
            self._assign(student, helper_login, entry_of[student.pk])
        for code, students in pools.items():
            helpers = [*s.leaders[code], *s.teachers[code]]
            helpers += [u for (c, _y), u in s.counsellors.items() if c == code and u != helper_login]
            rng.shuffle(students)
            for student, helper in zip(students, itertools.cycle(helpers), strict=False):
                entry = entry_of[student.pk]
                if student.cohort < self.cohorts[-1] and rng.random() < 0.03:
                    self._hand_over(student, entry, helper, helpers)
                else:
                    self._assign(student, helper, entry)
        bulk_create_with_history(self.assignments, HelperAssignment, batch_size=BATCH)
        self.helper_students = helper_students

    def _entry(
        self, student: Student, counsellor: User, cohort: int, left_on: dt.date | None = None
    ) -> tuple[LedgerEntry, list[LedgerCategory]]:
        rng, today = self.rng, self.today
        cats = self._categories(student) if left_on is None else [rng.choice(["school_identified", "student_loan"])]
        disability = rng.choice([DisabilityLevel.GRADE_3, DisabilityLevel.GRADE_4]) if "disabled" in cats else ""
        review = cohort < self.cohorts[-1] and rng.random() < 0.15 and left_on is None
        # Most join after the enrolment survey; some at the spring review of their first year.
        joined_on = min(dt.date(cohort + 1, 3, 10) if review else dt.date(cohort, 10, 20), today)
        main = next(c for c in data.SITUATION_ORDER if c in cats)
        entry = LedgerEntry(
            student=student,
            source=LedgerSource.REVIEW if review else LedgerSource.SURVEY,
            hardship_level=self._hardship(cats),
            disability_level=disability,
            family_situation=self._situation(student, cats, {"3": "三", "4": "四"}.get(disability, "")),
            intends_to_work=rng.random() < 0.92,
            joined_on=joined_on,
            join_reason=f"{'学期复核' if review else '入学普查'}：{data.CATEGORY_ZH[main]}",
            joined_by=counsellor,
        )
        entry._history_user = counsellor  # type: ignore[attr-defined]
        entry._history_date = _aware(joined_on)  # type: ignore[attr-defined]
        if left_on is not None:
            # Inserted already closed; `_close` rewrites its history as a joining followed by a leaving.
            entry.left_on, entry.left_by, entry.version = left_on, counsellor, 2
            entry.leave_reason = rng.choice(data.LEAVE_REASONS)
        rows = []
        for code in cats:
            verified = rng.random() < 0.7
            row = LedgerCategory(
                entry=entry,
                category=code,
                verified_on=min(joined_on + dt.timedelta(days=7), today) if verified else None,
            )
            row._history_user = counsellor  # type: ignore[attr-defined]
            row._history_date = _aware(joined_on, 10)  # type: ignore[attr-defined]
            rows.append(row)
        return entry, rows

    def _close(self, closed: list[LedgerEntry]) -> None:
        """Give entries that were left the history the services would have written: joined, then left."""
        history = LedgerEntry.history.model  # type: ignore[attr-defined]
        history.objects.filter(id__in=[e.pk for e in closed]).update(
            left_on=None, leave_reason="", left_by=None, version=1
        )
        for entry in closed:
            entry._history_date = _aware(entry.left_on)  # type: ignore[attr-defined,arg-type]
        LedgerEntry.history.bulk_history_create(closed, update=True)  # type: ignore[attr-defined]

    def _assign(self, student: Student, helper: User, entry: LedgerEntry) -> None:
        start = min(entry.joined_on + dt.timedelta(days=self.rng.randint(1, 10)), self.today)
        assignment = HelperAssignment(
            student=student,
            helper=helper,
            started_on=start,
            planned_end=dt.date(student.cohort + PROGRAM_YEARS, 8, 31),
            reason="一对一帮扶责任人分配",
            assigned_by=self.s.leaders[student.department.code][0],
        )
        assignment._history_user = assignment.assigned_by  # type: ignore[attr-defined]
        assignment._history_date = _aware(start, 15)  # type: ignore[attr-defined]
        self.assignments.append(assignment)

    def _hand_over(self, student: Student, entry: LedgerEntry, helper: User, helpers: list[User]) -> None:
        """An earlier helper who handed the student over a year after enrolment, with a note."""
        earlier = self.rng.choice([h for h in helpers if h != helper])
        self._assign(student, earlier, entry)
        first = self.assignments[-1]
        handed = dt.date(student.cohort + 1, 9, 1)
        first.ended_on = handed
        first.end_reason = f"工作调整，移交给{helper.full_name}"
        leader = first.assigned_by
        self.assignments.append(
            HelperAssignment(
                student=student,
                helper=helper,
                started_on=handed,
                planned_end=first.planned_end,
                reason="工作交接",
                handover_note=self.rng.choice(data.HANDOVER_NOTES),
                assigned_by=leader,
            )
        )
        self.assignments[-1]._history_user = leader  # type: ignore[attr-defined]
        self.assignments[-1]._history_date = _aware(handed)  # type: ignore[attr-defined]

    # --- the work ledger -------------------------------------------------------------------------------------

    def activities(self) -> None:
        """Help logged month by month since each assignment began, more or less diligently."""
        resume = default_storage.save("activities/demo/简历-示例.pdf", ContentFile(data.SAMPLE_PDF))
        rows: list[Activity] = []
        active = HelperAssignment.objects.active().filter(student__school=self.school).select_related("student")
        for assignment in active.order_by("pk"):
            student = assignment.student
            timeline = Timeline(student.cohort, student.program_years, student.expected_graduation)
            diligence = self.rng.choice([0.35, 0.7, 0.9, 1.0])
            for month in months_between(max(assignment.started_on, student.enrolled_on), self.today):
                day = min(month + dt.timedelta(days=self.rng.randint(0, 27)), self.today)
                stage = stage_on(timeline, day, DEFAULT_RULES)
                for kind in self._kinds_for(stage, month, student.expected_graduation, diligence):
                    rows.append(self._activity(student, assignment.helper, kind, day, stage, resume))
        Activity.objects.bulk_create(rows, batch_size=BATCH)
        self.activity_count = len(rows)

    def opportunities(self) -> None:
        """Employers, positions, recommendations, destinations and follow-ups (`bangfu.demo.opportunities`)."""
        from bangfu.demo.opportunities import load

        self.opportunity_summary = load(self)

    def school_settings(self) -> None:
        """The school's subsidy types with this year's budgets, its promotion tracks and its case types: the
        defaults, so the office can demonstrate each workflow at once."""
        from bangfu.showcase.services import install_default_types as install_case_types
        from bangfu.subsidies.services import install_default_types as install_subsidy_types
        from bangfu.subsidies.services import set_budget
        from bangfu.tracks.services import install_default_tracks

        office = self.s.office[0]
        for subsidy_type in install_subsidy_types(actor=office, school=self.school):
            set_budget(actor=office, subsidy_type=subsidy_type, year=self.today.year, amount=subsidy_type.amount * 60)
        install_default_tracks(actor=office, school=self.school)
        install_case_types(actor=office, school=self.school)

    def progress(self) -> None:
        rebuild_progress(today=self.today, students=Student.objects.filter(school=self.school))

    def _kinds_for(self, stage: str, month: dt.date, graduation: dt.date, diligence: float) -> list[str]:
        chance = self.rng.random
        if stage in (Stage.ENROLMENT, Stage.STUDY):
            kinds = [ActivityKind.CHECK_IN] if chance() < diligence else []
            if chance() < 0.15:
                kinds.append(self.rng.choice([ActivityKind.TALK, ActivityKind.CAREER_GUIDANCE]))
            if stage == Stage.ENROLMENT and chance() < 0.3 * diligence:
                kinds.append(ActivityKind.WORK_STUDY_RECOMMENDATION)
            return kinds
        if stage == Stage.JOB_SEARCH:
            job_search = [
                ActivityKind.TALK,
                ActivityKind.RESUME_REVISION,
                ActivityKind.EVENT_TOGETHER,
                ActivityKind.JOB_RECOMMENDATION,
            ]
            return [k for k in job_search if chance() < 0.4 * diligence]
        if stage == Stage.AFTER_LEAVING:
            due = {add_months(graduation, m).replace(day=1) for m in (1, 3, 6, 12)}
            return [ActivityKind.FOLLOW_UP] if month in due and chance() < diligence else []
        return []

    def _activity(self, student: Student, helper: User, kind: str, day: dt.date, stage: str, resume: str) -> Activity:
        activity = Activity(student=student, helper=helper, created_by=helper, kind=kind, occurred_on=day, stage=stage)
        activity.notes = self.rng.choice(data.ACTIVITY_NOTES.get(kind, data.ACTIVITY_NOTES["other"]))
        if kind == ActivityKind.RESUME_REVISION:
            activity.attachment = resume
        elif kind == ActivityKind.EVENT_TOGETHER:
            activity.event_name = self.rng.choice(data.RECRUITMENT_EVENTS)
        elif kind == ActivityKind.JOB_RECOMMENDATION:
            activity.employer_name, activity.position_title = self.rng.choice(data.EMPLOYERS)
            activity.fits_student = self.rng.random() < 0.8
            activity.response = self.rng.choice(["", "applied", "applied", "interviewed", "declined"])
            activity.effective = is_effective(
                kind=kind, fits_student=activity.fits_student, response=activity.response, rules=DEFAULT_RULES
            )
        return activity

    # --- logins ---------------------------------------------------------------------------------------------

    def student_login(self) -> None:
        student = min(self.helper_students, key=lambda st: st.student_number)
        user = create_staff(
            username="student",
            full_name=student.name,
            unit=student.class_unit,
            email="student@yzvu.example.edu.cn",
        )
        user.phone = student.phone
        user.save(update_fields=["phone"])
        grant_role(user=user, role=Role.STUDENT, unit=student.class_unit)
        Student.objects.filter(pk=student.pk).update(user=user)


def build_demo(*, students: int = 3000, today: dt.date | None = None, seed: int = SEED) -> DemoSummary:
    """Load the demo university unless it is there already; running it twice changes nothing."""
    existing = demo_school()
    if existing is not None:
        return DemoSummary(created=False, school=existing, logins=list(LOGINS))
    builder = _Builder(students=students, today=today or timezone.localdate(), seed=seed)
    with transaction.atomic():
        builder.units()
        builder.staff()
        builder.students()
        builder.ledger()
        builder.activities()
        builder.opportunities()
        builder.school_settings()
        builder.progress()
        builder.student_login()
        # Argon2 is slow on purpose, so only the named logins get a password, and they share one hash
        # (the password is public anyway). Everyone else's stays unusable.
        User.objects.filter(username__in=[login.username for login in LOGINS]).update(
            password=make_password(data.PASSWORD)
        )
    return DemoSummary(
        created=True,
        school=builder.school,
        students=len(builder.all_students),
        ledger=builder.ledger_count,
        staff=builder.staff_count,
        activities=builder.activity_count,
        employers=builder.opportunity_summary.employers,
        recommendations=builder.opportunity_summary.recommendations,
        destinations=builder.opportunity_summary.destinations,
        logins=list(LOGINS),
    )
