"""Graduate destinations (毕业去向): one graduate per row, found by student number in the school.

A row records the graduate's destination as of the import's day, the way `outcomes.services.record_destination`
does, with its checks (`_check_destination`: no start before enrolment, a monthly salary, the employer or school
named for a placed destination): the destination in force until now is kept as history (`superseded_on`), and
being placed strikes the student off the unplaced list (`placed_since`, kept across job changes). The code may be
written as its number (10, “１０”, 10.0), its name in Chinese or English, the two together (“10 签就业协议形式就业”)
or a common local wording (协议就业, 专升本, 参军入伍…), and must be one the school uses on that day. An employer
known to the school (by its name) is linked and fills in the type, industry, place and partner status the row
leaves blank, as choosing it in the form does.

A row that repeats the destination in force (same code, and every filled cell equal to what is recorded) is
left unchanged, so importing the same file twice records nothing the second time; a blank cell is not compared.
The actor needs RECORD_OUTCOME on the student's class.
"""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bangfu import bulk
from bangfu.imports import normalise as norm
from bangfu.imports.headers import Field
from bangfu.imports.targets import Row, Run, Target, register
from bangfu.opportunities.creditcodes import name_key
from bangfu.opportunities.models import Employer, EmployerType, Industry
from bangfu.organisation.models import OrgUnit
from bangfu.organisation.permissions import Perm
from bangfu.outcomes.models import PLACED_GROUPS, Destination, DestinationCode
from bangfu.outcomes.services import _check_destination  # the same rules as a destination recorded in the app
from bangfu.students.models import Student

FIELDS = (
    Field("student_number", gettext_lazy("Student number"), "学号", "Student No.",
          ("学生学号", "Student number", "Student ID"), required=True, example="2021010101"),
    Field("student_name", gettext_lazy("Name"), "姓名", "Name", ("学生姓名", "毕业生姓名", "Student name"),
          example="王小明"),
    Field("code", gettext_lazy("Destination"), "毕业去向", "Destination",
          ("毕业去向代码", "去向代码", "毕业去向类别", "去向类别", "就业去向", "去向", "毕业去向类型",
           "Destination code", "Outcome"), required=True, example="10"),
    Field("employer_name", gettext_lazy("Employer or school"), "单位名称", "Employer",
          ("工作单位", "就业单位", "用人单位", "单位", "升学院校", "录取院校", "Employer name", "Employer or school"),
          example="石家庄华信科技有限公司"),
    Field("employer_type", gettext_lazy("Employer type"), "单位性质", "Employer type",
          ("单位类型", "单位性质类别"), example="民营企业"),
    Field("industry", gettext_lazy("Industry"), "单位行业", "Industry",
          ("行业", "所属行业", "行业类别", "单位所属行业"),
          example="信息传输、软件和信息技术服务业"),
    Field("position_title", gettext_lazy("Position"), "职位", "Position",
          ("岗位", "工作职位", "职位名称", "岗位名称", "Job title"), example="软件测试工程师"),
    Field("work_place", gettext_lazy("Place of work"), "工作地点", "Place of work",
          ("单位所在地", "就业地区", "工作地区", "就业地点"), example=""),
    Field("work_province", gettext_lazy("Province of work"), "工作省份", "Province of work",
          ("单位所在省", "就业省份", "工作所在省", "单位所在省份"), example="河北省"),
    Field("work_city", gettext_lazy("City of work"), "工作城市", "City of work",
          ("单位所在市", "就业城市", "工作所在市", "单位所在城市"), example="石家庄市"),
    Field("started_on", gettext_lazy("Start date"), "入职日期", "Start date",
          ("报到日期", "入职时间", "到岗日期", "开始日期", "就业日期", "Started on"), example="2024-07-01"),
    Field("salary", gettext_lazy("Starting salary (yuan a month)"), "月薪", "Salary",
          ("起薪", "月收入", "薪酬", "工资", "薪资", "月薪(元)", "Starting salary", "Monthly salary"), example=4500),
    Field("matches_major", gettext_lazy("Matches the major"), "专业对口", "Matches the major",
          ("是否对口", "专业是否对口", "专业相关", "是否专业对口"), example="是"),
    Field("note", gettext_lazy("Note"), "备注", "Note", ("说明", "Notes"), example=""),
)  # fmt: skip

# Local wordings of the national codes (DOMAIN.md §7), besides the codes and their names.
_CODE_WORDS = {
    "协议就业": "10",
    "签协议": "10",
    "就业协议": "10",
    "签约": "10",
    "劳动合同": "11",
    "签合同": "11",
    "合同就业": "11",
    "科研助理": "27",
    "管理助理": "27",
    "参军": "46",
    "入伍": "46",
    "参军入伍": "46",
    "应征入伍": "46",
    "义务兵": "46",
    "创业": "75",
    "自主创业": "75",
    "灵活就业": "77",
    "专升本": "80",
    "升本": "80",
    "考研": "80",
    "读研": "80",
    "境内升学": "80",
    "出国": "85",
    "出境": "85",
    "留学": "85",
    "出国出境": "85",
    "待业": "70",
    "未就业": "70",
    "求职中": "70",
    "拟升学": "71",
    "暂不就业": "72",
}
_EMPLOYER_TYPE_WORDS = {
    "国企": EmployerType.STATE_OWNED,
    "国有企业": EmployerType.STATE_OWNED,
    "央企": EmployerType.STATE_OWNED,
    "民企": EmployerType.PRIVATE,
    "民营企业": EmployerType.PRIVATE,
    "私营企业": EmployerType.PRIVATE,
    "私企": EmployerType.PRIVATE,
    "外企": EmployerType.FOREIGN,
    "外资企业": EmployerType.FOREIGN,
    "三资企业": EmployerType.FOREIGN,
    "合资企业": EmployerType.JOINT_VENTURE,
    "中外合资": EmployerType.JOINT_VENTURE,
    "事业单位": EmployerType.PUBLIC_INSTITUTION,
    "机关": EmployerType.GOVERNMENT,
    "党政机关": EmployerType.GOVERNMENT,
    "政府机关": EmployerType.GOVERNMENT,
    "部队": EmployerType.MILITARY,
    "军队": EmployerType.MILITARY,
    "集体企业": EmployerType.COLLECTIVE,
    "社会组织": EmployerType.SOCIAL_ORGANISATION,
    "社会团体": EmployerType.SOCIAL_ORGANISATION,
    "其他": EmployerType.OTHER,
    "其它": EmployerType.OTHER,
}
# The sections' names in the national classification (GB/T 4754-2017), as the ministry's forms write them.
_INDUSTRY_WORDS = {
    "农、林、牧、渔业": Industry.A,
    "采矿业": Industry.B,
    "制造业": Industry.C,
    "电力、热力、燃气及水生产和供应业": Industry.D,
    "建筑业": Industry.E,
    "批发和零售业": Industry.F,
    "交通运输、仓储和邮政业": Industry.G,
    "住宿和餐饮业": Industry.H,
    "信息传输、软件和信息技术服务业": Industry.I,
    "信息技术": Industry.I,
    "互联网": Industry.I,
    "金融业": Industry.J,
    "房地产业": Industry.K,
    "租赁和商务服务业": Industry.L,
    "科学研究和技术服务业": Industry.M,
    "水利、环境和公共设施管理业": Industry.N,
    "居民服务、修理和其他服务业": Industry.O,
    "教育": Industry.P,
    "卫生和社会工作": Industry.Q,
    "文化、体育和娱乐业": Industry.R,
    "公共管理、社会保障和社会组织": Industry.S,
    "国际组织": Industry.T,
}
_YES_NO_WORDS = {"对口": True, "相关": True, "不对口": False, "不相关": False}
_TEXT = ("employer_name", "position_title", "work_province", "work_city", "note")
_MAX: dict[str, int] = {f.attname: f.max_length for f in Destination._meta.concrete_fields if f.max_length is not None}
# A code or an industry letter followed by its name: “10 签就业协议形式就业”, “(10)…”, “I-信息传输…”.
_CODE_AND_NAME = re.compile(r"^[(（\[【]?(?P<code>\d{1,4})[)）\]】]?\s*[-—:：.、]?\s*(?P<name>.*)$")
_LETTER_AND_NAME = re.compile(r"^(?P<code>[A-Ta-t])\s*[-—:：.、\s]\s*(?P<name>\S.*)$")
_SALARY = re.compile(r"^(?P<amount>\d+(?:\.\d+)?)(?P<unit>万|千|k)?$")


@functools.cache
def _employer_types() -> dict[str, str]:
    return {**norm.labels(EmployerType), **{norm.key(w): str(t) for w, t in _EMPLOYER_TYPE_WORDS.items()}}


def _employer_type(value: Any) -> str:
    found = _employer_types().get(norm.key(value))
    if found is None:
        raise norm.Invalid(
            _("“%(value)s” is not an employer type: write 国有企业, 民营企业, 外资企业, 事业单位, 机关 or the like.")
            % {"value": norm.text(value)}
        )
    return found


@functools.cache
def _industries() -> dict[str, str]:
    return {**norm.labels(Industry), **{norm.key(w): str(i) for w, i in _INDUSTRY_WORDS.items()}}


def _industry(value: Any) -> str:
    lookup = _industries()
    found = lookup.get(norm.key(value))
    if found is not None:
        return found
    match = _LETTER_AND_NAME.match(norm.text(value))
    if match is not None:
        letter = match["code"].upper()
        if lookup.get(norm.key(match["name"])) == letter:
            return letter
    raise norm.Invalid(
        _("“%(value)s” is not an industry: write its letter (A to T) or its name in the national classification.")
        % {"value": norm.text(value)}
    )


def _salary(value: Any) -> int:
    """A monthly salary in yuan: 4500, “4,500元”, “4500元/月”, “4.5千”, “0.45万”, “4.5k”."""
    wrong = norm.Invalid(_("“%(value)s” is not a monthly salary in yuan, such as 4500.") % {"value": norm.text(value)})
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise wrong
        return round(value)
    raw = norm.key(value).replace(",", "").replace("，", "")
    for noise in ("元/月", "元每月", "/月", "每月", "元", "￥", "¥", "rmb"):
        raw = raw.replace(noise, "")
    match = _SALARY.match(raw)
    if match is None:
        raise wrong
    return round(float(match["amount"]) * {"万": 10_000, "千": 1000, "k": 1000}.get(match["unit"] or "", 1))


def _matches(value: Any) -> bool:
    found = _YES_NO_WORDS.get(norm.key(value))
    return found if found is not None else norm.yes_no(value)


class Codes:
    """The destination codes a school uses on a day, found by their number, their names or a local wording."""

    def __init__(self, school: OrgUnit, day: Any) -> None:
        national: dict[str, DestinationCode] = {}
        own: dict[str, DestinationCode] = {}
        # The latest version of each code; the school's own addition wins over the national list (`code_for`).
        for row in DestinationCode.objects.for_school(school.pk, day).order_by("valid_from"):
            (national if row.school_id is None else own)[row.code] = row
        by_code = {**national, **own}
        self.by_code = by_code
        self._by_word: dict[str, DestinationCode] = {}
        for word, code in _CODE_WORDS.items():
            if code in by_code:
                self._by_word[norm.key(word)] = by_code[code]
        for row in by_code.values():
            for word in (row.code, row.label, row.label_en):
                if word:
                    self._by_word[norm.key(word)] = row

    def find(self, value: Any) -> DestinationCode:
        raw = norm.text(value)
        found = self._by_word.get(norm.key(raw))
        if found is not None:
            return found
        match = _CODE_AND_NAME.match(raw)
        if match is not None and match["code"] in self.by_code:
            row = self.by_code[match["code"]]
            named = self._by_word.get(norm.key(match["name"]))
            if named is None or named.pk == row.pk:
                return row
            raise norm.Invalid(
                _("“%(value)s” is contradictory: code %(code)s is “%(label)s”.")
                % {"value": raw, "code": row.code, "label": row.label}
            )
        raise norm.Invalid(
            _("“%(value)s” is not a destination code of this school: write its number (such as 10) or its name.")
            % {"value": raw}
        )


@dataclass(slots=True)
class Record:
    row: int
    number: str
    name: str
    code: DestinationCode
    values: dict[str, Any]  # Destination attnames → the values the row gives (blank cells left out)


@dataclass
class Plan:
    superseded: list[dict[str, Any]] = field(default_factory=list)  # full state of the destinations replaced
    new: list[dict[str, Any]] = field(default_factory=list)


class DestinationsTarget(Target):
    name = "destinations"
    label = gettext_lazy("Graduate destinations")
    fields = FIELDS
    perm = Perm.RECORD_OUTCOME
    touches_progress = True  # a ledger student's progress row holds the group of their destination

    # --- parse: each row on its own ---------------------------------------------------------------------

    def parse(self, run: Run, rows: list[Row]) -> list[Record]:
        codes = Codes(run.school, run.today)
        cleaners = {
            "code": norm.Memo(codes.find),
            "employer_type": norm.Memo(_employer_type),
            "industry": norm.Memo(_industry),
            "started_on": norm.Memo(norm.date),
            "salary": norm.Memo(_salary),
            "matches_major": norm.Memo(_matches),
            "work_place": norm.Memo(norm.region),
        }
        records: list[Record] = []
        seen: dict[str, int] = {}
        for index, row in enumerate(rows):
            if index % 2000 == 0:
                run.tick("checking", index, len(rows))
            cells = row.cells
            errors: dict[str, str] = {}
            values: dict[str, Any] = {}
            number = norm.code(cells.get("student_number"))
            if not number:
                errors["student_number"] = _("A student number is required.")
            code: DestinationCode | None = None
            if norm.blank(cells.get("code")):
                errors["code"] = _("This field is required.")
            for key in ("code", "employer_type", "industry", "started_on", "salary", "matches_major", "work_place"):
                value = cells.get(key)
                if norm.blank(value):
                    continue
                try:
                    cleaned = cleaners[key](value)
                except norm.Invalid as e:
                    errors[key] = str(e)
                    continue
                if key == "code":
                    code = cleaned
                elif key == "work_place":
                    province, city, county = cleaned
                    if len(province) > _MAX["work_province"] or len(city or county) > _MAX["work_city"]:
                        errors[key] = _("At most %(n)d characters.") % {"n": _MAX["work_city"]}
                    values["work_province"], values["work_city"] = province, city or county
                else:
                    values[key] = cleaned
            for key in _TEXT:
                cleaned = norm.prose(cells.get(key))
                if not cleaned:
                    continue
                if len(cleaned) > _MAX.get(key, 10**9):
                    errors[key] = _("At most %(n)d characters.") % {"n": _MAX[key]}
                values[key] = cleaned  # a province or city column wins over the place of work
            values = {k: v for k, v in values.items() if v not in ("", None)}
            for key, message in errors.items():
                run.problem(row.number, key, message)
            if errors:
                continue
            first = seen.setdefault(number, row.number)
            if first != row.number:
                run.problem(
                    row.number,
                    "student_number",
                    _("Student number %(number)s is also on row %(row)d.") % {"number": number, "row": first},
                )
                continue
            assert code is not None
            records.append(Record(row.number, number, norm.name(cells.get("student_name")), code, values))
        run.tick("checking", len(rows), len(rows))
        return records

    # --- plan: against the database ---------------------------------------------------------------------

    def plan(self, run: Run, records: list[Record]) -> Plan:
        school = run.school
        plan = Plan()
        students = {
            s["student_number"]: s
            for s in Student.objects.filter(school=school).values(
                "id", "student_number", "name", "class_unit_id", "enrolled_on"
            )
        }
        classes = {u.pk: u for u in OrgUnit.objects.filter(path__startswith=school.path)}
        state_fields = [f.attname for f in Destination._meta.concrete_fields]
        current = {
            d["student_id"]: d
            for d in Destination.objects.filter(student__school=school, superseded_on__isnull=True).values(
                *state_fields, "code__code", "code__group"
            )
        }
        employers = {
            e.name_key: e
            for e in Employer.objects.filter(school=school).only(
                "id", "name", "name_key", "employer_type", "industry", "province", "city",
                "is_internship_base", "is_order_class_partner", "is_work_study_host",
            )
        }  # fmt: skip
        for index, record in enumerate(records):
            if index % 5000 == 0:
                run.tick("planning", index, len(records))
            student = students.get(record.number)
            if student is None:
                run.problem(
                    record.row,
                    "student_number",
                    _("There is no student %(number)s in this school.") % {"number": record.number},
                )
                continue
            if record.name and norm.key(record.name) != norm.key(student["name"]):
                run.problem(
                    record.row,
                    "student_name",
                    _("Student %(number)s is called %(name)s here.")
                    % {"number": record.number, "name": student["name"]},
                )
                continue
            if not run.may(Perm.RECORD_OUTCOME, classes[student["class_unit_id"]]):
                run.problem(
                    record.row,
                    "student_number",
                    _("You may not record the destination of student %(number)s.") % {"number": record.number},
                )
                continue
            previous = current.get(student["id"])
            if previous is not None and previous["recorded_on"] > run.today:
                run.problem(
                    record.row,
                    "code",
                    _("A later destination is already recorded (%(date)s).") % {"date": previous["recorded_on"]},
                )
                continue
            values = dict(record.values)
            employer = employers.get(name_key(values.get("employer_name", "")))
            if employer is not None:
                values["employer_id"] = employer.pk
                values.setdefault("employer_type", employer.employer_type)
                values.setdefault("industry", employer.industry)
                values["employer_is_partner"] = employer.is_partner
                values.setdefault("work_province", employer.province)
                values.setdefault("work_city", employer.city)
            destination = Destination(code=record.code, **values)
            try:
                _check_destination(destination, Student(enrolled_on=student["enrolled_on"]), record.code)
            except ValidationError as e:
                for key, messages in e.message_dict.items():
                    run.problem(record.row, key if key in _FIELD_KEYS else "", " ".join(messages))
                continue
            if previous is not None and _same(previous, record):
                run.counts.unchanged += 1
                continue
            placed_since = None
            if record.code.is_placed:
                # Still placed after a change of job: struck off the unplaced list on the first day, as in the app.
                was_placed = previous is not None and previous["code__group"] in PLACED_GROUPS
                placed_since = (previous["placed_since"] if previous and was_placed else None) or run.today
            plan.new.append(
                {
                    "public_id": bulk.random_uuid_hex(),
                    "student_id": student["id"],
                    "code_id": record.code.pk,
                    "employer_id": None,
                    "employer_name": "",
                    "employer_type": "",
                    "industry": "",
                    "position_title": "",
                    "work_province": "",
                    "work_city": "",
                    "started_on": None,
                    "salary": None,
                    "matches_major": None,
                    "employer_is_partner": False,
                    "note": "",
                    **values,
                    "recorded_on": run.today,
                    "recorded_by_id": run.actor.pk,
                    "superseded_on": None,
                    "placed_since": placed_since,
                    "evidence": "",
                    "evidence_kind": "",
                    "verified_on": None,
                    "verified_by_id": None,
                    "confirmation": "pending",
                    "confirmation_note": "",
                    "confirmed_on": None,
                    "version": 1,
                }
            )
            if previous is None:
                run.counts.created += 1
            else:
                state = {k: previous[k] for k in state_fields}
                plan.superseded.append({**state, "superseded_on": run.today, "version": previous["version"] + 1})
                run.counts.updated += 1
        return plan

    # --- write: in bulk, with history ------------------------------------------------------------------

    def write(self, run: Run, plan: Plan) -> None:
        total = len(plan.new)
        if not total:
            return
        run.tick("writing", 0, total)
        # The destination in force is closed before its successor is added (one current destination a student).
        bulk.update(Destination, plan.superseded, ["superseded_on", "version"])
        bulk.insert_history(
            Destination, plan.superseded, history_type="~", user_id=run.actor.pk, reason=run.change_reason, when=run.now
        )
        bulk.insert_with_ids(
            Destination,
            plan.new,
            key=lambda row: uuid.UUID(row["public_id"]),  # made as hex, read back as a UUID
            read_back=lambda: Destination.objects.filter(
                student__school=run.school,
                superseded_on__isnull=True,
                recorded_on=run.today,
                recorded_by=run.actor,
            ).values_list("public_id", "id"),
        )
        bulk.insert_history(
            Destination, plan.new, history_type="+", user_id=run.actor.pk, reason=run.change_reason, when=run.now
        )
        run.tick("writing", total, total)
        run.progress_students = {row["student_id"] for row in plan.new}


_FIELD_KEYS = frozenset(f.key for f in FIELDS)


def _same(previous: dict[str, Any], record: Record) -> bool:
    """Whether a row repeats the destination in force: the same code, and each filled cell as recorded."""
    if previous["code__code"] != record.code.code:
        return False
    return all(previous.get(attname) == value for attname, value in record.values.items())


register(DestinationsTarget)
