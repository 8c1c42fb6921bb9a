"""Row counts and checksums of every table, and SHA-256 of uploaded files, computed the same way on both engines.

Rows are read through the ORM (so each column comes back as the same Python value on SQLite and PostgreSQL:
Decimal, aware datetime, UUID, parsed JSON), streamed in primary-key order in chunks, written in one canonical
text form and hashed. Nothing holds a whole table in memory.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.db import connections, models
from django.db.migrations.recorder import MigrationRecorder
from django.db.models.functions import Collate

CHUNK_ROWS = 2000
READ_BYTES = 1024 * 1024


def table_models() -> list[type[models.Model]]:
    """One model per database table Django manages (history tables and many-to-many tables included)."""
    seen: dict[str, type[models.Model]] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.db_table in seen:
            continue
        seen[meta.db_table] = model
    return [seen[t] for t in sorted(seen)]


def _canonical(value: Any) -> Any:
    """A JSON-safe form of a column value that does not depend on the engine it came from."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return f"{value // dt.timedelta(microseconds=1)}us"
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        # JSON columns: PostgreSQL's jsonb reorders keys, SQLite keeps them as written.
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _ordered_rows(model: type[models.Model], using: str, columns: list[str]) -> Iterator[tuple[Any, ...]]:
    meta = model._meta
    by_column = {f.column: f.attname for f in meta.concrete_fields}
    pk = meta.pk
    assert pk is not None
    order: Any = "pk"
    if isinstance(pk, models.CharField | models.TextField):
        # Text keys (sessions) in byte order, not in the server's collation.
        vendor = connections[using].vendor
        order = Collate(pk.attname, "C" if vendor == "postgresql" else "BINARY")
    queryset = model._base_manager.using(using).order_by(order).values_list(*(by_column[c] for c in columns))
    return queryset.iterator(chunk_size=CHUNK_ROWS)


def table_checksum(
    model: type[models.Model], using: str = "default", columns: list[str] | None = None
) -> dict[str, Any]:
    """{"rows": n, "sha256": hex} of the table's rows in primary-key order (all the model's columns by default)."""
    columns = [str(f.column) for f in model._meta.concrete_fields] if columns is None else columns
    digest = hashlib.sha256()
    rows = 0
    for row in _ordered_rows(model, using, columns):
        digest.update(json.dumps([_canonical(v) for v in row], ensure_ascii=False).encode())
        digest.update(b"\n")
        rows += 1
    return {"rows": rows, "sha256": digest.hexdigest()}


def table_columns(using: str = "default") -> dict[str, list[str]]:
    """For each model's table that exists in the database, the model's columns that it has (a database not yet
    migrated lacks new tables and columns)."""
    connection = connections[using]
    columns = {}
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        for model in table_models():
            table = model._meta.db_table
            if table in existing:
                present = {c.name for c in connection.introspection.get_table_description(cursor, table)}
                columns[table] = [str(f.column) for f in model._meta.concrete_fields if f.column in present]
    return columns


def database_checksums(
    using: str = "default", columns: dict[str, list[str]] | None = None
) -> dict[str, dict[str, Any]]:
    """{table: {"rows": n, "sha256": hex, "columns": [...]}} for every table of every installed app, or for the
    given tables and columns (a restore checks exactly the columns the backup had)."""
    columns = table_columns(using) if columns is None else columns
    models_by_table = {model._meta.db_table: model for model in table_models()}
    return {
        table: table_checksum(models_by_table[table], using, cols) | {"columns": cols}
        for table, cols in sorted(columns.items())
    }


def comparable_columns(tables: dict[str, dict[str, Any]]) -> tuple[dict[str, list[str]], list[str]]:
    """The columns a restore can check (those this version's models know), and what it cannot."""
    models_by_table = {model._meta.db_table: model for model in table_models()}
    columns, problems = {}, []
    for table, entry in sorted(tables.items()):
        model = models_by_table.get(table)
        known = {f.column for f in model._meta.concrete_fields} if model else set()
        unknown = [c for c in entry["columns"] if c not in known]
        if model is None or unknown:
            problems.append(f"{table}: cannot be compared, this version does not know {', '.join(unknown) or 'it'}")
        else:
            columns[table] = entry["columns"]
    return columns, problems


def applied_migrations(using: str = "default") -> dict[str, list[str]]:
    recorder = MigrationRecorder(connections[using])
    applied: dict[str, list[str]] = {}
    for app_label, name in sorted(recorder.applied_migrations()):
        applied.setdefault(app_label, []).append(name)
    return applied


def compare_tables(expected: dict[str, dict[str, Any]], actual: dict[str, dict[str, Any]]) -> list[str]:
    """Human-readable differences between two sets of table checksums (empty when they agree)."""
    problems = []
    for table in sorted(set(expected) | set(actual)):
        want, got = expected.get(table), actual.get(table)
        if want is None:
            problems.append(f"{table}: not in the backup")
        elif got is None:
            problems.append(f"{table}: missing from the database")
        elif want["rows"] != got["rows"]:
            problems.append(f"{table}: {got['rows']} rows, the backup had {want['rows']}")
        elif want["sha256"] != got["sha256"]:
            problems.append(f"{table}: same number of rows ({got['rows']}) but different contents")
    return problems


def sha256_stream(stream: IO[bytes]) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    while block := stream.read(READ_BYTES):
        digest.update(block)
        size += len(block)
    return size, digest.hexdigest()


def media_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(posix path relative to root, absolute path) of every regular file under root, in name order."""
    if not root.is_dir():
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        yield path.relative_to(root).as_posix(), path


def media_manifest(root: Path) -> list[dict[str, Any]]:
    listing = []
    for name, path in media_files(root):
        with path.open("rb") as f:
            size, digest = sha256_stream(f)
        listing.append({"path": name, "size": size, "sha256": digest})
    return listing


class HashingReader:
    """Wraps a file so that what is read through it (into a tar archive) is counted and hashed on the way."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        block = self.raw.read(n)
        self.digest.update(block)
        self.size += len(block)
        return block
