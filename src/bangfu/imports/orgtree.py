"""Departments, majors and classes named in a file, found in a school's tree by name or code.

The whole subtree of the school is read once. A name matches whatever its spelling in the file (full-width,
spaces, case; a class may be written with or without its trailing 班). A class is looked for under the major
and department the row names, or school-wide when they are not given; a name that fits several units is
refused with a hint. Missing majors and classes under an existing department are planned as `NewUnit`s when
the import may create them, and created by `create_new_units` in the write transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _

from bangfu.imports.normalise import Invalid, key, text
from bangfu.organisation.models import OrgUnit, UnitKind
from bangfu.organisation.services import create_unit


@dataclass(frozen=True)
class NewUnit:
    """A major or class to be created under `parent` (an existing unit or another new one)."""

    kind: str
    name: str
    parent: OrgUnit | NewUnit

    @property
    def department(self) -> OrgUnit:
        parent = self.parent
        while isinstance(parent, NewUnit):
            parent = parent.parent
        return parent

    def label(self) -> str:
        return f"{self.parent.name} / {self.name}"


Place = OrgUnit | NewUnit


def unit_key(value: object, kind: str = "") -> str:
    found = key(value)
    if kind == UnitKind.CLASS and found.endswith("班") and len(found) > 1:
        found = found[:-1]
    return found


class Tree:
    def __init__(self, school: OrgUnit) -> None:
        self.school = school
        self.units = {u.pk: u for u in OrgUnit.objects.filter(path__startswith=school.path)}
        self._by_parent: dict[tuple[int, str, str], list[OrgUnit]] = defaultdict(list)
        self._by_kind: dict[tuple[str, str], list[OrgUnit]] = defaultdict(list)
        for unit in self.units.values():
            for word in {
                unit_key(unit.name, unit.kind),
                unit_key(unit.code, unit.kind),
                unit_key(unit.name_en, unit.kind),
            }:
                if not word:
                    continue
                self._by_kind[(unit.kind, word)].append(unit)
                if unit.parent_id is not None:
                    self._by_parent[(unit.parent_id, unit.kind, word)].append(unit)
        self._new: dict[tuple[str, str, str], NewUnit] = {}

    def _under(self, parent: OrgUnit | None, kind: str, raw: object) -> list[OrgUnit]:
        word = unit_key(raw, kind)
        if parent is None:
            return list(dict.fromkeys(self._by_kind.get((kind, word), [])))
        found = self._by_parent.get((parent.pk, kind, word), [])
        if found or kind != UnitKind.CLASS or parent.kind != UnitKind.DEPARTMENT:
            return list(dict.fromkeys(found))
        # A class under a department, with no major given: look through the department's majors.
        return [u for u in dict.fromkeys(self._by_kind.get((kind, word), [])) if parent.covers(u)]

    def department(self, raw: object) -> OrgUnit:
        found = self._under(self.school, UnitKind.DEPARTMENT, raw)
        if not found:
            raise Invalid(_("Unknown department “%(name)s”.") % {"name": text(raw)})
        return found[0]

    def place(self, *, department: object, major: object, klass: object, create: bool) -> tuple[Place, dict[str, str]]:
        """The class a row names, or a `NewUnit` for it; errors come back as {field: message}."""
        dept: OrgUnit | None = None
        if text(department):
            try:
                dept = self.department(department)
            except Invalid as e:
                return self.school, {"department": str(e)}
        parent: OrgUnit | NewUnit | None = dept
        if text(major):
            majors = self._under(dept, UnitKind.MAJOR, major)
            if len(majors) > 1:
                return self.school, {
                    "major": _("Several majors are called “%(name)s”: give the department too.") % {"name": text(major)}
                }
            if majors:
                parent = majors[0]
            elif create and dept is not None:
                parent = self._new_unit(UnitKind.MAJOR, text(major), dept)
            elif create:
                return self.school, {
                    "department": _("Major “%(name)s” does not exist; give its department to create it there.")
                    % {"name": text(major)}
                }
            else:
                where = _(" in %(unit)s") % {"unit": dept.name} if dept else ""
                return self.school, {
                    "major": _("Unknown major “%(name)s”%(where)s.") % {"name": text(major), "where": where}
                }
        if isinstance(parent, NewUnit):
            return self._new_unit(UnitKind.CLASS, text(klass), parent), {}
        classes = self._under(parent, UnitKind.CLASS, klass)
        if len(classes) == 1:
            return classes[0], {}
        if len(classes) > 1:
            return self.school, {
                "class_unit": _("Several classes are called “%(name)s”: give the major or the department too.")
                % {"name": text(klass)}
            }
        if create and parent is not None and parent.kind == UnitKind.MAJOR:
            return self._new_unit(UnitKind.CLASS, text(klass), parent), {}
        where = _(" in %(unit)s") % {"unit": parent.name} if parent is not None else ""
        if create:
            hint = _(" Give its major to create it there.")
        else:
            hint = _(" Missing majors and classes are created only when the import is asked to create them.")
        return self.school, {
            "class_unit": _("Unknown class “%(name)s”%(where)s.") % {"name": text(klass), "where": where} + hint
        }

    def _new_unit(self, kind: str, name: str, parent: OrgUnit | NewUnit) -> NewUnit:
        parent_key = f"{parent.pk}" if isinstance(parent, OrgUnit) else parent.label()
        new_key = (kind, parent_key, unit_key(name, kind))
        if new_key not in self._new:
            self._new[new_key] = NewUnit(kind=kind, name=name, parent=parent)
        return self._new[new_key]


def code_for(name: str, taken: set[str]) -> str:
    """A code for a unit created from a name: the name itself when it fits, else a short stable digest."""
    candidate = name.replace("/", "-")[:32]
    if candidate in taken:
        candidate = hashlib.sha1(name.encode()).hexdigest()[:8]
    return candidate


def create_new_units(places: list[NewUnit], tree: Tree) -> dict[NewUnit, OrgUnit]:
    """Create the planned majors and classes (majors first) through the organisation service."""
    wanted: set[NewUnit] = set()
    for new in places:
        while isinstance(new, NewUnit):
            wanted.add(new)
            new = new.parent  # type: ignore[assignment]
    made: dict[NewUnit, OrgUnit] = {}
    for new in sorted(wanted, key=lambda n: (n.kind != UnitKind.MAJOR, n.name)):
        parent = made[new.parent] if isinstance(new.parent, NewUnit) else new.parent
        taken = {u.code for u in tree.units.values() if u.parent_id == parent.pk}
        unit = create_unit(kind=new.kind, code=code_for(new.name, taken), name=new.name, parent=parent)
        tree.units[unit.pk] = unit
        made[new] = unit
    return made
