"""Build a fixture's rows once per test process, then write them back for each test that asks.

`make_world()` saves some 150 rows through the services (students, ledger entries, grants, their history and
progress rows) and costs as much as many a test's own work. The first test of a process that asks for the world
builds it; the rows it added to every table are kept, and each later test writes those same rows back into its
own transaction with a few bulk statements (COPY on PostgreSQL), then gets a fresh copy of the same Python
objects. The rows are exactly those the services wrote, primary keys included, so what a test sees is the same.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction

T = TypeVar("T")


def _tables() -> list[str]:
    return sorted(connection.introspection.table_names(include_views=False))


def _read(table: str) -> list[object]:
    """The rows of `table`, each as something that can be compared and written back exactly."""
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quoted} TO STDOUT") as copy_out:
                data = b"".join(bytes(block) for block in copy_out)
            return data.splitlines(keepends=True)
        cursor.execute(f"SELECT * FROM {quoted}")
        return [tuple(row) for row in cursor.fetchall()]


def _write(table: str, rows: list[object]) -> None:
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quoted} FROM STDIN") as copy_in:
                copy_in.write(b"".join(rows))  # type: ignore[arg-type]
            return
        marks = ", ".join(["%s"] * len(rows[0]))  # type: ignore[arg-type]
        cursor.executemany(f"INSERT INTO {quoted} VALUES ({marks})", rows)


@dataclass
class Snapshot(Generic[T]):
    """What `build()` added to the database, and a pristine copy of what it returned."""

    build: Callable[[], T]
    added: dict[str, list[object]] = field(default_factory=dict)
    value: T | None = None
    sequences: list[str] = field(default_factory=list)
    refused: bool = False  # the build changed rows that were there before it: build it every time

    def get(self) -> T:
        """The built value, in a database that holds its rows: built now if this is the first time, else written
        back. Call inside the test's transaction."""
        if self.refused:
            return self.build()
        if self.value is None:
            return self._take()
        for table, rows in self.added.items():
            _write(table, rows)
        if self.sequences:
            with connection.cursor() as cursor:
                for statement in self.sequences:
                    cursor.execute(statement)
        return copy.deepcopy(self.value)

    def _take(self) -> T:
        tables = _tables()
        before = {table: _read(table) for table in tables}
        value = self.build()
        added: dict[str, list[object]] = {}
        for table in tables:
            kept = set(before[table])
            after = _read(table)
            if not kept <= set(after):
                self.refused = True  # it changed or removed rows that were there: it cannot be replayed
                return value
            new = [row for row in after if row not in kept]
            if new:
                added[table] = new
        if any(before[table] for table in added):
            # Its rows may point at rows committed before it (e.g. by a test that commits), which a later flush
            # removes: take the snapshot from an empty start at a later test.
            return value
        self.added = added
        models = [m for m in apps.get_models(include_auto_created=True) if m._meta.db_table in added]
        self.sequences = connection.ops.sequence_reset_sql(no_style(), models)
        self.value = copy.deepcopy(value)
        return value


def replayable(build: Callable[[], T]) -> Callable[[], T]:
    """`build`, built once per process and replayed after (see the module's text); inside an atomic block."""
    snapshot: Snapshot[T] = Snapshot(build)

    def get() -> T:
        with transaction.atomic():
            return snapshot.get()

    return get


__all__ = ["Snapshot", "replayable"]
