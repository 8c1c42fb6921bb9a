"""The school's departments, majors and classes (院系 / 专业 / 班级), one path per row.

A unit is found by its code when the row gives one, else by its name; a missing one is created through the
organisation service (a code made from the name when the row has none), and one whose name in the file
differs from the database (found by its code) is renamed, with history. A department, a major or a class
named on several rows is created once. The actor needs MANAGE_STAFF on the school.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bangfu.imports import normalise as norm
from bangfu.imports.headers import Field
from bangfu.imports.orgtree import code_for, unit_key
from bangfu.imports.targets import Row, Run, Target, register
from bangfu.organisation.models import OrgUnit, UnitKind
from bangfu.organisation.permissions import Perm
from bangfu.organisation.services import create_unit

FIELDS = (
    Field("department", gettext_lazy("Department"), "院系", "Department",
          ("学院", "系部", "系", "二级学院", "院系名称", "College"), required=True, example="信息工程学院"),
    Field("department_code", gettext_lazy("Department code"), "院系代码", "Department code",
          ("学院代码", "院系编号", "学院编号"), example="INFO"),
    Field("major", gettext_lazy("Major"), "专业", "Major", ("专业名称", "Major name"), example="软件技术"),
    Field("major_code", gettext_lazy("Major code"), "专业代码", "Major code", ("专业编号",), example="510203"),
    Field("class_unit", gettext_lazy("Class"), "班级", "Class", ("班级名称", "行政班", "Class name"),
          example="软件2401班"),
    Field("class_code", gettext_lazy("Class code"), "班级代码", "Class code", ("班级编号", "班号"), example="SE2401"),
)  # fmt: skip

_LEVELS = (
    (UnitKind.DEPARTMENT, "department", "department_code"),
    (UnitKind.MAJOR, "major", "major_code"),
    (UnitKind.CLASS, "class_unit", "class_code"),
)


@dataclass
class Step:
    kind: str
    name: str
    code: str  # as given; "" to make one from the name


@dataclass
class Record:
    row: int
    path: list[Step]


@dataclass
class Plan:
    records: list[Record] = field(default_factory=list)


class UnitsTarget(Target):
    name = "units"
    label = gettext_lazy("Departments, majors and classes")
    fields = FIELDS
    perm = Perm.MANAGE_STAFF

    def parse(self, run: Run, rows: list[Row]) -> list[Record]:
        records = []
        for row in rows:
            path: list[Step] = []
            errors: dict[str, str] = {}
            for kind, name_key, code_key in _LEVELS:
                name = norm.prose(row.cells.get(name_key))
                code = norm.code(row.cells.get(code_key))
                if not name and not code:
                    break
                if not name:
                    errors[name_key] = _("A unit name is required.")
                elif "/" in code or len(code) > 32:
                    errors[code_key] = _("A unit code is required and may not contain '/'.")
                elif len(name) > 100:
                    errors[name_key] = _("At most %(n)d characters.") % {"n": 100}
                path.append(Step(kind, name, code))
            if not path:
                errors["department"] = _("A unit name is required.")
            for key, message in errors.items():
                run.problem(row.number, key, message)
            if not errors:
                records.append(Record(row.number, path))
        return records

    def plan(self, run: Run, records: list[Record]) -> Plan:
        if not run.may(Perm.MANAGE_STAFF, run.school):
            for record in records:
                run.problem(record.row, "department", _("Only the employment office changes the school's units."))
            return Plan()
        units = list(OrgUnit.objects.filter(path__startswith=run.school.path))
        self._by_code = {(u.parent_id, u.code): u for u in units}
        self._by_name = {(u.parent_id, u.kind, unit_key(u.name, u.kind)): u for u in units}
        plan = Plan()
        for record in records:
            parent_id: int | None = run.school.pk
            created = renamed = False
            for step in record.path:
                found = self._find(parent_id, step)
                if found is None:
                    created = True
                    break
                if step.code and found.name != step.name:
                    renamed = True
                parent_id = found.pk
            if created:
                run.counts.created += 1
            elif renamed:
                run.counts.updated += 1
            else:
                run.counts.unchanged += 1
            plan.records.append(record)
        return plan

    def _find(self, parent_id: int | None, step: Step) -> OrgUnit | None:
        if parent_id is None:
            return None
        if step.code:
            return self._by_code.get((parent_id, step.code))
        return self._by_name.get((parent_id, step.kind, unit_key(step.name, step.kind)))

    def write(self, run: Run, plan: Plan) -> None:
        for index, record in enumerate(plan.records):
            if index % 500 == 0:
                run.tick("writing", index, len(plan.records))
            parent: OrgUnit = run.school
            for step in record.path:
                found = self._find(parent.pk, step)
                if found is None:
                    code = step.code or code_for(step.name, {c for (p, c) in self._by_code if p == parent.pk})
                    found = create_unit(kind=step.kind, code=code, name=step.name, parent=parent)
                    self._by_code[(parent.pk, found.code)] = found
                    self._by_name[(parent.pk, found.kind, unit_key(found.name, found.kind))] = found
                elif step.code and found.name != step.name:
                    found.name = step.name
                    found._history_user = run.actor  # type: ignore[attr-defined]
                    found._change_reason = run.change_reason  # type: ignore[attr-defined]
                    found.save(update_fields=["name"])
                parent = found


register(UnitsTarget)
