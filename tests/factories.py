"""Factories with realistic Chinese data. Students are made through the same service the app uses."""

import datetime as dt
import functools
import random
import zlib

import factory
from django.contrib.auth.hashers import make_password
from faker import Faker

from bangfu.opportunities.models import Employer, Position
from bangfu.organisation.models import OrgUnit, Role, UnitKind, User
from bangfu.organisation.services import create_unit, grant_role
from bangfu.students import idnumbers
from bangfu.students.models import Student
from bangfu.students.services import create_student

fake = Faker("zh_CN")
PASSWORD = "bangfu-test-pw"


def make_id_number(*, born: dt.date | None = None, region: str = "130182", seq: int | None = None) -> str:
    born = born or dt.date(2003, 5, 17)
    seq = random.randint(100, 999) if seq is None else seq
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + idnumbers.check_digit(first17)


@functools.cache
def _hashed_password() -> str:
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.LazyFunction(fake.name)
    # Argon2 is slow on purpose: hash the shared test password once, not for every user.
    password = factory.LazyFunction(lambda: _hashed_password())


def system_user() -> User:
    user, _ = User.objects.get_or_create(username="system", defaults={"is_superuser": True, "full_name": "系统"})
    return user


def make_school(
    code: str = "HEBUST", name: str = "河北科技工程职业技术大学", departments: int = 2
) -> dict[str, OrgUnit]:
    """A school with departments D1..Dn, each with one major and one class: keys school, dept1, major1, class1…"""
    units: dict[str, OrgUnit] = {"school": create_unit(kind=UnitKind.SCHOOL, code=code, name=name, name_en=code)}
    dept_names = ["服装工程系", "机电工程系", "信息工程系", "经济管理系"]
    for i in range(1, departments + 1):
        dept = create_unit(kind=UnitKind.DEPARTMENT, code=f"D{i}", name=dept_names[(i - 1) % 4], parent=units["school"])
        major = create_unit(kind=UnitKind.MAJOR, code=f"M{i}", name=f"专业{i}", parent=dept)
        klass = create_unit(kind=UnitKind.CLASS, code=f"C{i}01", name=f"{major.name}2101班", parent=major)
        units.update({f"dept{i}": dept, f"major{i}": major, f"class{i}": klass})
    return units


def make_staff(username: str, role: str | None, unit: OrgUnit, **kw: object) -> User:
    user = UserFactory(username=username, unit=unit, **kw)
    if role:
        grant_role(user=user, role=role, unit=unit)
    return user


def make_student(class_unit: OrgUnit, *, user: User | None = None, **kw: object) -> Student:
    n = Student.objects.count() + 1
    defaults: dict[str, object] = {
        "student_number": f"2021{n:06d}",
        "name": fake.name(),
        "gender": random.choice("MF"),
        "cohort": 2021,
        "id_number": make_id_number(seq=n % 1000),
        "home_province": "河北省",
        "home_city": "石家庄市",
        "home_county": "辛集市",
    }
    defaults.update(kw)
    student = create_student(actor=system_user(), class_unit=class_unit, **defaults)  # type: ignore[arg-type]
    if user is not None:
        student.user = user
        student.save(update_fields=["user"])
    return student


def make_credit_code(seed: int) -> str:
    """A valid unified social credit code (checksum right), different for each seed."""
    from bangfu.opportunities.creditcodes import check_char

    first17 = f"91130100{seed:09d}"
    return first17 + check_char(first17)


def make_employer(school: OrgUnit, name: str = "石家庄华信科技有限公司", **kw: object) -> Employer:
    from bangfu.opportunities.services import create_employer

    fields: dict[str, object] = {
        "credit_code": make_credit_code(zlib.crc32(name.encode()) % 10**9),  # the same in every run
        "industry": "I",
        "employer_type": "private",
        "province": "河北省",
        "city": "石家庄市",
        "contact_name": "周经理",
        "contact_phone": "0311-86688888",
    }
    fields.update(kw)
    return create_employer(actor=system_user(), school=school, name=name, **fields)


def make_position(employer: Employer, title: str = "软件测试工程师", **kw: object) -> Position:
    from bangfu.opportunities.services import create_position

    fields: dict[str, object] = {"kind": "job", "salary_min": 4000, "salary_max": 6000, "openings": 3}
    fields.update(kw)
    return create_position(actor=system_user(), employer=employer, title=title, **fields)  # type: ignore[arg-type]


__all__ = [
    "PASSWORD",
    "Role",
    "UserFactory",
    "make_credit_code",
    "make_employer",
    "make_id_number",
    "make_position",
    "make_school",
    "make_staff",
    "make_student",
]
