"""What can be imported: a small registry, one module per target.

A target reads rows in three steps, so that the write transaction is short and sees the database as it is:

- `parse(run, rows)`: each row on its own, in memory, with look-up tables read once (units, staff): values
  normalised and checked with the same rules as the forms and services. Outside any transaction.
- `plan(run, parsed)`: against the database, in a few set-based queries: duplicates, existing records,
  scope; says what would be created, updated or left unchanged. Inside the write transaction at commit.
- `write(run, plan)`: bulk writes with their history rows.

Problems are reported per sheet row and field; the pipeline names the column as the file's header does.
Adding a target is a module that subclasses `Target` and calls `register`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.utils import timezone
from django.utils.functional import Promise, cached_property
from django.utils.translation import gettext as _

from bangfu.imports.headers import Field
from bangfu.organisation.models import OrgUnit, User
from bangfu.organisation.permissions import Perm, has_unit_perm, units_with


class Cancelled(Exception):
    """The user asked to stop; raised between batches so the transaction rolls back."""


@dataclass
class Problem:
    row: int  # as the spreadsheet numbers it; 0 for the file as a whole
    field: str  # the field's key ("" for the row as a whole)
    message: str


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it
    cells: dict[str, Any]  # field key → the cell's value as read


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class Run:
    """One pass over a file's rows: who imports, where, when, and the problems found on the way."""

    actor: User
    school: OrgUnit
    today: dt.date
    source: str  # the file's name, for the reason recorded with every change
    create_units: bool = False
    tick: Callable[[str, int, int], None] = lambda phase, done, total: None
    problems: list[Problem] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)
    counts: Counts = field(default_factory=Counts)
    now: dt.datetime = field(default_factory=timezone.now)
    # Rows the write touched that a ledger student's progress depends on (filled by `write`).
    progress_students: set[int] = field(default_factory=set)
    _scope: dict[tuple[Perm, int], bool] = field(default_factory=dict)

    def problem(self, row: int, field_key: str, message: str) -> None:
        self.problems.append(Problem(row, field_key, message))
        self.bad_rows.add(row)

    def may(self, perm: Perm, unit: OrgUnit) -> bool:
        """`has_unit_perm`, remembered per unit for the run (a file holds thousands of rows per class)."""
        cache_key = (perm, unit.id)
        try:
            return self._scope[cache_key]
        except KeyError:
            allowed = self._scope[cache_key] = has_unit_perm(self.actor, perm, unit)
            return allowed

    def holds_anywhere(self, perm: Perm) -> bool:
        """Whether the actor holds `perm` on some unit of the school (or on the school itself)."""
        if self.actor.is_superuser:
            return True
        return any(u.covers(self.school) or self.school.covers(u) for u in units_with(self.actor, perm))

    @cached_property
    def change_reason(self) -> str:
        return _("Imported from %(file)s") % {"file": self.source}


class Target:
    """A kind of spreadsheet the pipeline can import. Subclasses fill in the class attributes and steps."""

    name: ClassVar[str]
    label: ClassVar[Promise]
    fields: ClassVar[Sequence[Field]]
    # The actor needs this permission somewhere in the school to start an import; each row is checked too.
    perm: ClassVar[Perm]
    # Whether a commit must rebuild progress rows for `run.progress_students` afterwards.
    touches_progress: ClassVar[bool] = False

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)

    def parse(self, run: Run, rows: list[Row]) -> Any:
        raise NotImplementedError

    def plan(self, run: Run, parsed: Any) -> Any:
        raise NotImplementedError

    def write(self, run: Run, plan: Any) -> None:
        raise NotImplementedError


_REGISTRY: dict[str, type[Target]] = {}


def register(target: type[Target]) -> type[Target]:
    _REGISTRY[target.name] = target
    return target


def get_target(name: str) -> Target:
    """A fresh instance: a target keeps what it learns during one run (look-up tables, cleaned values)."""
    _load()
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise LookupError(f"unknown import target: {name!r}") from None


def all_targets() -> list[Target]:
    _load()
    return [target() for target in _REGISTRY.values()]


def _load() -> None:
    # Importing a target module registers it.
    from bangfu.imports.targets import activities, destinations, staff, students, units  # noqa: F401
