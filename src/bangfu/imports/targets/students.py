"""Students with their ledger categories, hardship level, family situation and helper (学生台账).

A row is matched to a student of the school by student number: a new number creates the student, a known one
updates what the row says differently (a blank cell never erases a value), and a row that says nothing new
changes nothing, so importing the same file twice writes nothing the second time. Categories put a student
in the ledger (or change the categories of their open entry); an empty category cell never takes a student
out of it. A helper is named for a student who has none; a student whose helper is someone else is handed
over in the app, where the hand-over carries its note.

Per row the actor needs, on the student's class: CREATE_STUDENT (new student) or EDIT_STUDENT (changes, and
on the new class for a move), MANAGE_LEDGER for the ledger columns, ASSIGN_HELPER for the helper.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bangfu import bulk
from bangfu.assistance.models import HelperAssignment
from bangfu.assistance.queries import helper_candidates
from bangfu.imports import normalise as norm
from bangfu.imports.headers import Field
from bangfu.imports.orgtree import NewUnit, Place, Tree, create_new_units
from bangfu.imports.people import Staff
from bangfu.imports.targets import Row, Run, Target, register
from bangfu.organisation.models import OrgUnit, UnitKind
from bangfu.organisation.permissions import Perm
from bangfu.students import idnumbers
from bangfu.students.models import (
    Category,
    DisabilityLevel,
    LedgerCategory,
    LedgerEntry,
    LedgerSource,
    Level,
    Student,
)
from bangfu.students.services import ledger_errors, profile_errors

FIELDS = (
    Field("student_number", gettext_lazy("Student number"), "学号", "Student No.",
          ("学生学号", "学籍号", "Student number", "Student ID", "Student no"), required=True, example="2024010101"),
    Field("name", gettext_lazy("Name"), "姓名", "Name", ("学生姓名", "Student name", "Full name"),
          required=True, example="王小明"),
    Field("gender", gettext_lazy("Gender"), "性别", "Gender", ("Sex",), required=True, example="男"),
    Field("id_number", gettext_lazy("ID number"), "身份证号", "ID number",
          ("身份证号码", "身份证", "公民身份号码", "证件号码", "身份证件号", "ID card number", "ID card", "ID no"),
          example="130182200305170012"),
    Field("department", gettext_lazy("Department"), "院系", "Department",
          ("学院", "系部", "系", "二级学院", "所在学院", "所在院系", "分院", "College")),
    Field("major", gettext_lazy("Major"), "专业", "Major", ("专业名称", "所学专业", "Major name", "Programme")),
    Field("class_unit", gettext_lazy("Class"), "班级", "Class", ("班级名称", "行政班", "所在班级", "Class name"),
          required=True),
    Field("cohort", gettext_lazy("Cohort"), "入学年份", "Cohort",
          ("年级", "入学年级", "入学年", "Grade", "Year of entry", "Enrolment year"), required=True, example=2024),
    Field("level", gettext_lazy("Level"), "层次", "Level", ("学历层次", "培养层次", "学历")),
    Field("ethnicity", gettext_lazy("Ethnicity"), "民族", "Ethnicity", (), example="汉族"),
    Field("birth_date", gettext_lazy("Birth date"), "出生日期", "Birth date", ("出生年月日", "生日", "Date of birth")),
    Field("enrolled_on", gettext_lazy("Enrolment date"), "入学日期", "Enrolment date", ("入学时间", "Enrolled on")),
    Field("phone", gettext_lazy("Phone"), "联系电话", "Phone",
          ("手机号", "手机号码", "电话", "联系方式", "手机", "Mobile", "Telephone", "Phone number"),
          example="13812345678"),
    Field("home_region", gettext_lazy("Home region"), "生源地", "Home region",
          ("家庭所在地", "生源所在地", "Place of origin"), example="河北省石家庄市辛集市"),
    Field("address", gettext_lazy("Home address"), "家庭住址", "Home address", ("家庭地址", "通讯地址", "Address")),
    Field("categories", gettext_lazy("Categories"), "困难类别", "Categories",
          ("困难类型", "困难群体类别", "困难群体类型", "帮扶类别", "类别", "Category", "Ledger categories"),
          example="脱贫家庭、残疾人子女"),
    Field("hardship_level", gettext_lazy("Hardship level"), "困难等级", "Hardship level",
          ("困难程度", "认定等级", "认定档次", "资助等级"), example="特别困难"),
    Field("disability_level", gettext_lazy("Disability level"), "残疾等级", "Disability level", ()),
    Field("family_situation", gettext_lazy("Family situation"), "家庭情况", "Family situation",
          ("家庭困难情况", "家庭基本情况", "家庭情况说明"), example="父母务农，家中三口人"),
    Field("joined_on", gettext_lazy("Joined the ledger on"), "纳入台账日期", "Joined the ledger on",
          ("认定日期", "纳入日期", "入库时间", "Joined on")),
    Field("helper", gettext_lazy("Helper"), "帮扶人", "Helper",
          ("帮扶责任人", "帮扶教师", "帮扶老师", "责任人", "包保人", "Helper name"), example="张老师"),
    Field("helper_since", gettext_lazy("Helper since"), "帮扶开始日期", "Helper since", ("帮扶开始时间", "结对日期")),
)  # fmt: skip

# Profile columns: field key → (model attname, normaliser); the home region fills three attnames.
_PROFILE: dict[str, tuple[str, Any]] = {
    "name": ("name", norm.name),
    "gender": ("gender", norm.gender),
    "cohort": ("cohort", norm.year),
    "level": ("level", norm.level),
    "ethnicity": ("ethnicity", norm.prose),
    "birth_date": ("birth_date", norm.date),
    "enrolled_on": ("enrolled_on", norm.date),
    "phone": ("phone", norm.phone),
    "address": ("address", norm.prose),
}
_MAX: dict[str, int] = {f.attname: f.max_length for f in Student._meta.concrete_fields if f.max_length is not None}
_DISABILITY = {"一级": "1", "二级": "2", "三级": "3", "四级": "4", "1级": "1", "2级": "2", "3级": "3", "4级": "4"}
# Columns with few distinct values, cleaned once per value (see `normalise.Memo`).
_REPEATING = {"gender", "cohort", "level", "ethnicity", "enrolled_on"}


@functools.cache
def _disability_lookup() -> dict[str, str]:
    return {**norm.labels(DisabilityLevel), **_DISABILITY}


def _disability(value: Any) -> str:
    found = _disability_lookup().get(norm.key(value))
    if found is None:
        raise norm.Invalid(
            _("“%(value)s” is not a disability level: write 一级 to 四级.") % {"value": norm.text(value)}
        )
    return found


@dataclass(slots=True)
class Record:
    row: int
    number: str
    profile: dict[str, Any]  # attname → value, only what the row gives
    place: Place | None = None
    id_number: str = ""
    id_hash: str = ""
    ledger: dict[str, Any] = field(default_factory=dict)  # field key → value, only what the row gives
    helper_id: int | None = None
    helper_name: str = ""
    helper_since: dt.date | None = None


@dataclass
class Parsed:
    tree: Tree
    records: list[Record]


@dataclass
class Plan:
    tree: Tree
    # New rows are kept as records and made into database rows batch by batch in `write` (bounded memory).
    new_students: list[Record] = field(default_factory=list)
    changed_students: list[tuple[Record, dict[str, Any], set[str]]] = field(default_factory=list)
    new_entries: list[Record] = field(default_factory=list)
    changed_entries: list[tuple[dict[str, Any], set[str]]] = field(default_factory=list)  # compared values
    added_categories: list[tuple[int, str]] = field(default_factory=list)  # (entry id, category)
    removed_categories: list[int] = field(default_factory=list)
    new_helpers: list[tuple[Record, dt.date]] = field(default_factory=list)  # the record, the start
    new_units: list[NewUnit] = field(default_factory=list)
    ledger_students: set[str] = field(default_factory=set)  # student numbers whose progress must be rebuilt
    existing_ids: dict[str, int] = field(default_factory=dict)  # student number → id, of the rows' known students


def _state_fields(model: type) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]  # type: ignore[attr-defined]


class StudentsTarget(Target):
    name = "students"
    label = gettext_lazy("Students and the ledger")
    fields = FIELDS
    perm = Perm.CREATE_STUDENT
    touches_progress = True

    # --- parse: each row on its own ---------------------------------------------------------------------

    def parse(self, run: Run, rows: list[Row]) -> Parsed:
        tree = Tree(run.school)
        mapped = set(rows[0].cells) if rows else set()
        staff = Staff(helper_candidates(run.actor, run.school)) if "helper" in mapped else None
        # Only the mapped columns are read; columns with few distinct values are cleaned once per value.
        self._profile = [
            (key, attname, norm.Memo(clean) if key in _REPEATING else clean)
            for key, (attname, clean) in _PROFILE.items()
            if key in mapped
        ]
        self._limits = [(a, k, _MAX[a]) for k, a, _c in self._profile if a in _MAX]
        self._region = norm.Memo(norm.region) if "home_region" in mapped else None
        ledger = (
            ("categories", norm.categories),
            ("hardship_level", norm.hardship_level),
            ("disability_level", _disability),
            ("family_situation", norm.prose),
            ("joined_on", norm.date),
        )
        self._ledger = [(key, norm.Memo(clean)) for key, clean in ledger if key in mapped]
        self._since = norm.Memo(norm.date) if "helper_since" in mapped else None
        self._tree, self._staff = tree, staff
        self._places: dict[tuple[Any, Any, Any], tuple[Place, dict[str, str]]] = {}
        self._helpers: dict[Any, tuple[int | None, str, str]] = {}
        seen_numbers: dict[str, int] = {}
        seen_ids: dict[str, int] = {}
        records: list[Record] = []
        total = len(rows)
        for index, row in enumerate(rows):
            if index % 2000 == 0:
                run.tick("checking", index, total)
            record, errors = self._parse_row(run, row)
            if errors:
                for key, message in errors.items():
                    run.problem(row.number, key, message)
                continue
            first = seen_numbers.setdefault(record.number, row.number)
            if first != row.number:
                run.problem(
                    row.number,
                    "student_number",
                    _("Student number %(number)s is also on row %(row)d.") % {"number": record.number, "row": first},
                )
                continue
            if record.id_hash:
                first = seen_ids.setdefault(record.id_hash, row.number)
                if first != row.number:
                    run.problem(row.number, "id_number", _("This ID number is also on row %(row)d.") % {"row": first})
                    continue
            records.append(record)
        run.tick("checking", total, total)
        return Parsed(tree=tree, records=records)

    def _parse_row(self, run: Run, row: Row) -> tuple[Record, dict[str, str]]:
        cells = row.cells
        blank = norm.blank
        number = norm.code(cells["student_number"])
        profile: dict[str, Any] = {}
        record = Record(row=row.number, number=number, profile=profile)
        errors: dict[str, str] = {}
        for key, attname, clean in self._profile:
            value = cells[key]
            if blank(value):
                continue
            try:
                profile[attname] = clean(value)
            except norm.Invalid as e:
                errors[key] = str(e)
        if self._region is not None and not blank(cells["home_region"]):
            parts = self._region(cells["home_region"])
            if any(len(p) > _MAX["home_province"] for p in parts):
                errors["home_region"] = _("At most %(n)d characters.") % {"n": _MAX["home_province"]}
            profile["home_province"], profile["home_city"], profile["home_county"] = parts
        cohort = profile.get("cohort")
        if cohort is not None and not 1980 <= cohort <= run.today.year + 1:
            errors["cohort"] = _("%(year)s is not a plausible cohort.") % {"year": cohort}
        for attname, key, limit in self._limits:
            value = profile.get(attname)
            if isinstance(value, str) and len(value) > limit:
                errors[key] = _("At most %(n)d characters.") % {"n": limit}
        if len(number) > _MAX["student_number"]:
            errors["student_number"] = _("At most %(n)d characters.") % {"n": _MAX["student_number"]}
        name = profile.get("name", "")
        if not number or not name:
            rule = profile_errors(student_number=number, name=name, enrolled_on=None, expected_graduation=None)
            errors.update({k: v for k, v in rule.items() if k not in errors})

        raw_id = cells.get("id_number")
        if not blank(raw_id):
            try:
                valid = idnumbers.validate(norm.id_number(raw_id), run.today)
            except norm.Invalid as e:
                errors["id_number"] = str(e)
            except ValidationError as e:
                errors["id_number"] = " ".join(e.messages)
            else:
                record.id_number = valid
                record.id_hash = idnumbers.keyed_hash(valid)

        place_key = (cells.get("department"), cells.get("major"), cells.get("class_unit"))
        if not blank(place_key[2]):
            found = self._places.get(place_key)
            if found is None:
                found = self._places[place_key] = self._tree.place(
                    department=place_key[0], major=place_key[1], klass=place_key[2], create=run.create_units
                )
            record.place = found[0]
            errors.update(found[1])
        elif "class_unit" in cells:
            errors["class_unit"] = _("A student belongs to a class.")

        if self._ledger:
            self._parse_ledger(cells, record, errors, run.today)

        if self._staff is not None and not blank(cells["helper"]):
            raw = cells["helper"]
            found_helper = self._helpers.get(raw)
            if found_helper is None:
                try:
                    user = self._staff.find(raw)
                    found_helper = (user.pk, str(user), "")
                except norm.Invalid as e:
                    found_helper = (None, "", str(e))
                self._helpers[raw] = found_helper
            record.helper_id, record.helper_name, message = found_helper
            if message:
                errors["helper"] = message
            if self._since is not None and not blank(cells["helper_since"]):
                try:
                    record.helper_since = self._since(cells["helper_since"])
                except norm.Invalid as e:
                    errors["helper_since"] = str(e)
        return record, errors

    def _parse_ledger(self, cells: dict[str, Any], record: Record, errors: dict[str, str], today: dt.date) -> None:
        ledger = record.ledger
        for key, clean in self._ledger:
            value = cells[key]
            if norm.blank(value):
                continue
            try:
                ledger[key] = clean(value)
            except norm.Invalid as e:
                errors[key] = str(e)
        if "categories" in ledger:
            rule = ledger_errors(
                joined_on=ledger.get("joined_on", today),
                disability_level=ledger.get("disability_level", ""),
                categories=ledger["categories"],
                today=today,
            )
            errors.update({k: v for k, v in rule.items() if k not in errors})

    # --- plan: against the database ---------------------------------------------------------------------

    def plan(self, run: Run, parsed: Parsed) -> Plan:
        records = parsed.records
        plan = Plan(tree=parsed.tree)
        school = run.school
        # Only what the rows are compared with; the full rows of the few that change are read in `write`.
        compared = {"id", "student_number", "class_unit_id", "id_number_hash", "birth_date", "version"}
        compared |= {"name", "enrolled_on", "expected_graduation"} | {a for _k, a, _c in self._profile}
        if self._region is not None:
            compared |= {"home_province", "home_city", "home_county"}
        existing = {s["student_number"]: s for s in Student.objects.filter(school=school).values(*compared)}
        hash_owner = {s["id_number_hash"]: n for n, s in existing.items() if s["id_number_hash"]}
        entries: dict[int, dict[str, Any]] = {
            e["student_id"]: dict(e)
            for e in LedgerEntry.objects.filter(student__school=school, left_on__isnull=True).values(
                "id", "student_id", "hardship_level", "disability_level", "family_situation", "joined_on", "version"
            )
        }
        categories: dict[int, dict[str, int]] = defaultdict(dict)  # entry id → category → row id
        for pk, entry_id, category in LedgerCategory.objects.filter(
            entry__student__school=school, entry__left_on__isnull=True
        ).values_list("id", "entry_id", "category"):
            categories[entry_id][category] = pk
        helpers = {
            student_id: (helper_id, full_name or username)
            for student_id, helper_id, full_name, username in HelperAssignment.objects.active()
            .filter(student__school=school)
            .values_list("student_id", "helper_id", "helper__full_name", "helper__username")
        }
        total = len(records)
        for index, record in enumerate(records):
            if index % 5000 == 0:
                run.tick("planning", index, total)
            self._plan_record(run, plan, record, existing, hash_owner, entries, categories, helpers)
        return plan

    def _plan_record(
        self,
        run: Run,
        plan: Plan,
        record: Record,
        existing: dict[str, dict[str, Any]],
        hash_owner: dict[str, str],
        entries: dict[int, dict[str, Any]],
        categories: dict[int, dict[str, int]],
        helpers: dict[int, tuple[int, str]],
    ) -> None:
        tree = plan.tree
        errors: dict[str, str] = {}
        current = existing.get(record.number)
        place = record.place
        target_dept = place.department if isinstance(place, NewUnit) else place
        if current is not None:
            state = dict(current)
            home = tree.units[current["class_unit_id"]]
            if not run.may(Perm.EDIT_STUDENT, home):
                errors["student_number"] = _("You may not edit student %(number)s (%(unit)s).") % {
                    "number": record.number,
                    "unit": home.name,
                }
            elif (
                (isinstance(place, OrgUnit) and place.pk != current["class_unit_id"]) or isinstance(place, NewUnit)
            ) and not run.may(Perm.EDIT_STUDENT, target_dept):  # type: ignore[arg-type]
                errors["class_unit"] = _("You may not move students into %(unit)s.") % {"unit": _unit_label(place)}
            ledger_unit: OrgUnit | None = home
        else:
            state = {}
            if place is not None and not run.may(Perm.CREATE_STUDENT, target_dept):  # type: ignore[arg-type]
                errors["class_unit"] = _("You may not add students to %(unit)s.") % {"unit": _unit_label(place)}
            if "gender" not in record.profile:
                errors["gender"] = _("A gender is required for a new student.")
            if "cohort" not in record.profile:
                errors["cohort"] = _("A cohort (enrolment year) is required for a new student.")
            ledger_unit = target_dept

        if record.id_hash:
            owner = hash_owner.get(record.id_hash)
            if owner is not None and owner != record.number:
                errors["id_number"] = _("Another student of this school already has this ID number.")
        if errors:
            self._report(run, record, errors)
            return

        changed: set[str] = set()
        if current is None:
            _level, _years, enrolled_on, graduation = _defaults(record)
            rule = profile_errors(
                student_number=record.number,
                name=record.profile.get("name", ""),
                enrolled_on=enrolled_on,
                expected_graduation=graduation,
            )
            if rule:
                self._report(
                    run, record, {("enrolled_on" if k == "expected_graduation" else k): v for k, v in rule.items()}
                )
                return
        else:
            for attname, value in record.profile.items():
                if state[attname] != value:
                    state[attname] = value
                    changed.add(attname)
            if isinstance(place, NewUnit) or (place is not None and place.pk != state["class_unit_id"]):
                changed.update(("class_unit_id", "major_id", "department_id"))
            if record.id_hash and record.id_hash != state["id_number_hash"]:
                changed.update(("id_number_cipher", "id_number_hash", "id_number_masked"))
            if record.id_number and state["birth_date"] is None and "birth_date" not in record.profile:
                state["birth_date"] = idnumbers.birth_date(record.id_number)
                changed.add("birth_date")
            if "enrolled_on" in changed or "expected_graduation" in changed:
                rule = profile_errors(
                    student_number=record.number,
                    name=state["name"],
                    enrolled_on=state["enrolled_on"],
                    expected_graduation=state["expected_graduation"],
                )
                if rule:
                    self._report(run, record, {"enrolled_on": rule.popitem()[1]})
                    return

        student_id = current["id"] if current is not None else None
        if student_id is not None:
            plan.existing_ids[record.number] = student_id
        entry = entries.get(student_id) if student_id is not None else None
        ledger_changes = self._plan_ledger(run, plan, record, entry, categories, ledger_unit, errors)
        helper_new = self._plan_helper(run, record, student_id, helpers, ledger_unit, entry, errors)
        if errors:
            self._report(run, record, errors)
            return

        if isinstance(place, NewUnit):
            plan.new_units.append(place)
        if current is None:
            plan.new_students.append(record)
            run.counts.created += 1
        elif changed or ledger_changes or helper_new:
            if changed:
                plan.changed_students.append((record, state, changed))
            run.counts.updated += 1
        else:
            run.counts.unchanged += 1
        if helper_new:
            plan.new_helpers.append((record, helper_new))
        in_ledger = entry is not None or bool(record.ledger.get("categories"))
        if in_ledger and (current is None or changed or ledger_changes or helper_new):
            plan.ledger_students.add(record.number)

    def _plan_ledger(
        self,
        run: Run,
        plan: Plan,
        record: Record,
        entry: dict[str, Any] | None,
        categories: dict[int, dict[str, int]],
        unit: OrgUnit | None,
        errors: dict[str, str],
    ) -> bool:
        ledger = record.ledger
        if not ledger:
            return False
        if unit is not None and not run.may(Perm.MANAGE_LEDGER, unit):
            errors[next(iter(ledger))] = _("You may not manage the ledger of %(unit)s.") % {"unit": unit.name}
            return False
        wanted = ledger.get("categories")
        if entry is None:
            if not wanted:
                errors[next(iter(ledger))] = _("Give the categories to put the student in the ledger.")
                return False
            plan.new_entries.append(record)
            return True
        have = categories.get(entry["id"], {})
        final = wanted if wanted else list(have)
        rule = ledger_errors(
            joined_on=entry["joined_on"],
            disability_level=ledger.get("disability_level", entry["disability_level"]),
            categories=final,
            today=run.today,
        )
        if "disability_level" in rule:
            errors["disability_level"] = rule["disability_level"]
            return False
        state = dict(entry)
        changed: set[str] = {
            k
            for k in ("hardship_level", "disability_level", "family_situation")
            if k in ledger and state[k] != ledger[k]
        }
        for k in changed:
            state[k] = ledger[k]
        added = [c for c in (wanted or []) if c not in have]
        removed = [row for c, row in have.items() if wanted and c not in wanted]
        if changed:
            plan.changed_entries.append((state, changed))
        plan.added_categories.extend((entry["id"], c) for c in added)
        plan.removed_categories.extend(removed)
        return bool(changed or added or removed)

    def _plan_helper(
        self,
        run: Run,
        record: Record,
        student_id: int | None,
        helpers: dict[int, tuple[int, str]],
        unit: OrgUnit | None,
        entry: dict[str, Any] | None,
        errors: dict[str, str],
    ) -> dt.date | None:
        """The start of a new assignment, or None when the row names no new helper."""
        if record.helper_id is None:
            return None
        if unit is not None and not run.may(Perm.ASSIGN_HELPER, unit):
            errors["helper"] = _("You may not assign helpers in %(unit)s.") % {"unit": unit.name}
            return None
        current = helpers.get(student_id) if student_id is not None else None
        if current is not None:
            if current[0] == record.helper_id:
                return None
            errors["helper"] = _(
                "%(name)s already has a helper, %(helper)s; hand the student over on the student's page."
            ) % {"name": record.profile.get("name", record.number), "helper": current[1]}
            return None
        start = record.helper_since or record.ledger.get("joined_on") or (entry or {}).get("joined_on") or run.today
        if start > run.today:
            errors["helper_since" if record.helper_since else "helper"] = _("The start date cannot be in the future.")
            return None
        return start

    def _report(self, run: Run, record: Record, errors: dict[str, str]) -> None:
        for key, message in errors.items():
            run.problem(record.row, key, message)

    # --- write ------------------------------------------------------------------------------------------

    def write(self, run: Run, plan: Plan) -> None:
        tree = plan.tree
        made = create_new_units(plan.new_units, tree) if plan.new_units else {}
        when, user_id, reason = run.now, run.actor.pk, run.change_reason
        copy = functools.partial(bulk.copy_history, user_id=user_id, reason=reason, when=when)

        def history(model: Any, rows: list[dict[str, Any]], history_type: str) -> None:
            copy(model, [row["id"] for row in rows], history_type=history_type)

        def place_ids(place: Place | None) -> dict[str, int]:
            unit = made[place] if isinstance(place, NewUnit) else place
            assert unit is not None
            major = tree.units[unit.parent_id]  # type: ignore[index]
            return {"class_unit_id": unit.pk, "major_id": major.pk, "department_id": major.parent_id}  # type: ignore[dict-item]

        total = len(plan.new_students) + len(plan.changed_students)
        run.tick("writing", 0, total)
        school = run.school
        ids = dict(plan.existing_ids)
        for batch in _batches(plan.new_students):
            ciphers = idnumbers.encrypt_many([record.id_number for record in batch])
            rows = [
                _new_student(run, record, place_ids(record.place), cipher, public_id)
                for record, cipher, public_id in zip(batch, ciphers, bulk.random_uuid_hexes(len(batch)), strict=True)
            ]
            bulk.insert_with_ids(
                Student,
                rows,
                key=lambda row: row["student_number"],
                read_back=functools.partial(_student_ids, school, rows),
            )
            history(Student, rows, history_type="+")
            ids.update((row["student_number"], row["id"]) for row in rows)
            run.tick("writing", len(ids) - len(plan.existing_ids), total)

        # Each changed student is updated in the columns that changed for them (rows grouped by those columns).
        groups: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
        for record, compared, changed in plan.changed_students:
            state = {"id": compared["id"], "version": compared["version"] + 1, "updated_at": when}
            state.update({k: compared[k] for k in changed if k in compared})
            if "class_unit_id" in changed:
                state.update(place_ids(record.place))
            if "id_number_hash" in changed:
                state["id_number_cipher"] = idnumbers.encrypt(record.id_number)
                state["id_number_hash"] = record.id_hash
                state["id_number_masked"] = idnumbers.mask(record.id_number)
            groups[frozenset(changed | {"version", "updated_at"})].append(state)
        for columns, rows in groups.items():
            bulk.update(Student, rows, sorted(columns))
        if plan.changed_students:
            history(Student, [{"id": c["id"]} for _r, c, _ch in plan.changed_students], history_type="~")
        run.tick("writing", total, total)

        self._write_ledger(run, plan, ids, history)
        for batch in _batches(plan.new_helpers):
            rows = [
                _new_assignment(run, ids[record.number], record.helper_id, start, public_id)
                for (record, start), public_id in zip(batch, bulk.random_uuid_hexes(len(batch)), strict=True)
            ]
            bulk.insert_with_ids(
                HelperAssignment,
                rows,
                key=lambda row: row["student_id"],
                read_back=functools.partial(_assignment_ids, rows),
            )
            history(HelperAssignment, rows, history_type="+")
        run.progress_students = {ids[n] for n in plan.ledger_students}

    def _write_ledger(self, run: Run, plan: Plan, ids: dict[str, int], history: Any) -> None:
        added = list(plan.added_categories)
        for batch in _batches(plan.new_entries):
            rows = [
                _new_entry(run, ids[record.number], record.ledger, public_id)
                for record, public_id in zip(batch, bulk.random_uuid_hexes(len(batch)), strict=True)
            ]
            bulk.insert_with_ids(
                LedgerEntry,
                rows,
                key=lambda row: row["student_id"],
                read_back=functools.partial(_entry_ids, rows),
            )
            history(LedgerEntry, rows, history_type="+")
            for record, row in zip(batch, rows, strict=True):
                added.extend((row["id"], c) for c in record.ledger["categories"])
        if plan.changed_entries:
            groups: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
            for compared, changed in plan.changed_entries:
                state = {"id": compared["id"], "version": compared["version"] + 1}
                state.update({k: compared[k] for k in changed})
                groups[frozenset(changed | {"version"})].append(state)
            for columns, rows in groups.items():
                bulk.update(LedgerEntry, rows, sorted(columns))
            history(LedgerEntry, [{"id": c["id"]} for c, _changed in plan.changed_entries], history_type="~")
        if plan.removed_categories:
            history(LedgerCategory, [{"id": i} for i in plan.removed_categories], history_type="-")
            bulk.delete(LedgerCategory, plan.removed_categories)
        for pairs in _batches(added):
            rows = [{"entry_id": e, "category": c, "evidence": "", "verified_on": None} for e, c in pairs]
            bulk.insert_with_ids(
                LedgerCategory,
                rows,
                key=lambda row: (row["entry_id"], row["category"]),
                read_back=functools.partial(_category_ids, rows),
            )
            history(LedgerCategory, rows, history_type="+")


def _unit_label(place: Place | None) -> str:
    if isinstance(place, NewUnit):
        return place.label()
    return place.name if place is not None else ""


# Where the database hands out ids from a sequence (not SQLite), the new rows' ids are read back by their key.


def _student_ids(school: OrgUnit, rows: list[dict[str, Any]]) -> Any:
    numbers = [r["student_number"] for r in rows]
    return Student.objects.filter(school=school, student_number__in=numbers).values_list("student_number", "id")


def _entry_ids(rows: list[dict[str, Any]]) -> Any:
    students = [r["student_id"] for r in rows]
    return LedgerEntry.objects.filter(student_id__in=students, left_on__isnull=True).values_list("student_id", "id")


def _category_ids(rows: list[dict[str, Any]]) -> Any:
    found = LedgerCategory.objects.filter(entry_id__in={r["entry_id"] for r in rows})
    return (((entry_id, category), pk) for pk, entry_id, category in found.values_list("id", "entry_id", "category"))


def _assignment_ids(rows: list[dict[str, Any]]) -> Any:
    students = [r["student_id"] for r in rows]
    return HelperAssignment.objects.active().filter(student_id__in=students).values_list("student_id", "id")


def _batches(items: list[Any]) -> Any:
    for start in range(0, len(items), bulk.BATCH):
        yield items[start : start + bulk.BATCH]


def _defaults(record: Record) -> tuple[str, int, dt.date, dt.date]:
    """Level, programme length, enrolment and graduation of a new student, as `create_student` sets them."""
    profile = record.profile
    level = profile.get("level", Level.VOCATIONAL)
    years = 4 if level == Level.BACHELOR else 3
    cohort = profile["cohort"]
    enrolled_on = profile.get("enrolled_on", dt.date(cohort, 9, 1))
    return level, years, enrolled_on, dt.date(cohort + years, 6, 30)


def _new_student(run: Run, record: Record, place: dict[str, int], cipher: str, public_id: str) -> dict[str, Any]:
    level, years, enrolled_on, graduation = _defaults(record)
    state: dict[str, Any] = {
        "public_id": public_id,
        "school_id": run.school.pk,
        "student_number": record.number,
        "name": "",
        "gender": "",
        "ethnicity": "汉族",
        "id_number_cipher": cipher,
        "id_number_hash": record.id_hash,
        "id_number_masked": idnumbers.mask(record.id_number),
        "birth_date": idnumbers.birth_date(record.id_number) if record.id_number else None,
        "home_province": "",
        "home_city": "",
        "home_county": "",
        "address": "",
        "phone": "",
        "level": level,
        "program_years": years,
        "enrolled_on": enrolled_on,
        "expected_graduation": graduation,
        "status": "enrolled",
        "user_id": None,
        "version": 1,
        "created_at": run.now,
        "updated_at": run.now,
        **place,
    }
    state.update(record.profile)
    return state


def _new_entry(run: Run, student_id: int, ledger: dict[str, Any], public_id: str) -> dict[str, Any]:
    return {
        "public_id": public_id,
        "student_id": student_id,
        "source": LedgerSource.IMPORT,
        "hardship_level": ledger.get("hardship_level", ""),
        "disability_level": ledger.get("disability_level", ""),
        "family_situation": ledger.get("family_situation", ""),
        "intends_to_work": True,
        "joined_on": ledger.get("joined_on", run.today),
        "join_reason": run.change_reason[:300],
        "joined_by_id": run.actor.pk,
        "left_on": None,
        "leave_reason": "",
        "left_by_id": None,
        "version": 1,
    }


def _new_assignment(run: Run, student_id: int, helper_id: int | None, start: dt.date, public_id: str) -> dict[str, Any]:
    return {
        "public_id": public_id,
        "student_id": student_id,
        "helper_id": helper_id,
        "is_primary": True,
        "started_on": start,
        "planned_end": None,
        "ended_on": None,
        "reason": run.change_reason[:300],
        "handover_note": "",
        "end_reason": "",
        "assigned_by_id": run.actor.pk,
        "version": 1,
    }


register(StudentsTarget)

__all__ = ["FIELDS", "Category", "StudentsTarget", "UnitKind"]
