"""Bulk inserts, updates and upserts with their history rows, at the speed a 100,000-row file needs (the
imports) or a rebuild of every progress row (`assistance.progress`).

`QuerySet.bulk_create` spends about 3 µs per field per object in Python and, on SQLite, sends at most 999
parameters per statement (35 rows of a student): measured here at ~4,000 students a second, ~1,500 with
`bulk_create_with_history`. These functions send one prepared statement per table through `executemany`
with the values converted once per column. History rows (django-simple-history) are what its bulk helpers
record: the historical model's fields, `history_type` "+" (created), "~" (changed) or "-" (deleted), the acting
user, the date and the change reason; `copy_history` copies them from the rows as stored with one
INSERT … SELECT per 900 rows, `insert_history` writes them from values in hand. Call them inside a transaction.
"""

from __future__ import annotations

import datetime as dt
import operator
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

BATCH = 5000
_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
)


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    """How a column's Python value becomes a database value; None when it goes as it is."""
    db = connections[DEFAULT_DB_ALIAS]  # the real connection, not the thread-local proxy (read per value)
    if isinstance(field, models.UUIDField):  # a str is the stored form already (`random_uuid_hex`)
        if db.features.has_native_uuid_field:
            return None
        return lambda v: v if v is None or v.__class__ is str else v.hex
    if isinstance(field, _PLAIN):
        return None
    # Dates and times repeat (one `now` per import, a few enrolment dates): convert each distinct value once.
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value is None:
            return None
        try:
            return seen[value]
        except KeyError:
            seen[value] = field.get_db_prep_save(value, db)
            return seen[value]
        except TypeError:  # unhashable (JSON)
            return field.get_db_prep_save(value, db)

    return convert


def _columns(model: type[models.Model], with_pk: bool = False) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if with_pk or not isinstance(f, models.AutoField)]


# A version 4 UUID is random but for its version (4, the high half of byte 6) and variant (binary 10, the top bits
# of byte 8).
_UUID_KEEP = bytes([0xFF] * 6 + [0x0F, 0xFF, 0x3F] + [0xFF] * 7)
_UUID_SET = bytes([0] * 6 + [0x40, 0, 0x80] + [0] * 7)


def random_uuid_hexes(n: int) -> list[str]:
    """`n` new random (version 4) UUIDs for rows written here, as 32 hex digits each: what SQLite stores, and what
    PostgreSQL takes for a uuid. The bits are set on all of them at once, as one number: 300,000 (an import's)
    in ~0.1 s, where `uuid.uuid4()` and its conversion take ~3 s."""
    if n <= 0:
        return []
    bits = int.from_bytes(os.urandom(16 * n)) & int.from_bytes(_UUID_KEEP * n) | int.from_bytes(_UUID_SET * n)
    digits = bits.to_bytes(16 * n).hex()
    return [digits[i : i + 32] for i in range(0, 32 * n, 32)]


def random_uuid_hex() -> str:
    return random_uuid_hexes(1)[0]


def _defaults(fields: list[models.Field]) -> tuple[dict[str, Any], dict[str, Callable[[], Any]]]:
    """Fixed defaults, and the callable ones (uuid4) that need a new value per row."""
    fixed: dict[str, Any] = {}
    per_row: dict[str, Callable[[], Any]] = {}
    for f in fields:
        if f.has_default() and callable(f.default):
            per_row[f.attname] = f.default
        else:
            fixed[f.attname] = f.get_default()
    return fixed, per_row


def _tuples(rows: Iterable[dict[str, Any]], fields: list[models.Field]) -> Iterator[tuple[Any, ...]]:
    names = [f.attname for f in fields]
    wanted = set(names)
    pick = operator.itemgetter(*names) if len(names) > 1 else (lambda r: (r[names[0]],))
    converters = [(i, c) for i, f in enumerate(fields) if (c := _converter(f)) is not None]
    fixed, per_row = _defaults(fields)
    for row in rows:
        if not wanted <= row.keys():
            row = {**fixed, **{n: make() for n, make in per_row.items() if n not in row}, **row}
        if not converters:
            yield pick(row)
            continue
        values = list(pick(row))
        for i, convert in converters:
            values[i] = convert(values[i])
        yield tuple(values)


def insert(model: type[models.Model], rows: Iterable[dict[str, Any]], with_pk: bool = False) -> int:
    """Insert rows given as {attname: value}; a missing column takes the field's default. Returns the count."""
    fields = _columns(model, with_pk)
    return _execute_batches(_insert_sql(model, fields), _tuples(rows, fields))


def _insert_sql(model: type[models.Model], fields: list[models.Field]) -> str:
    quote = connection.ops.quote_name
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )


def _execute_batches(sql: str, values: Iterable[tuple[Any, ...]]) -> int:
    count = 0
    with connection.cursor() as cursor:
        batch: list[tuple[Any, ...]] = []
        for row in values:
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def upsert(model: type[models.Model], rows: Iterable[dict[str, Any]], *, unique: str) -> int:
    """Insert rows given as {attname: value}, or where a row with the same `unique` column (an attname) exists,
    set its other columns (INSERT … ON CONFLICT DO UPDATE, on SQLite and PostgreSQL). Returns the count."""
    fields = _columns(model)
    quote = connection.ops.quote_name
    key = next(quote(str(f.column)) for f in fields if f.attname == unique)
    changed = ", ".join(f"{c} = EXCLUDED.{c}" for f in fields if (c := quote(str(f.column))) != key)
    sql = f"{_insert_sql(model, fields)} ON CONFLICT ({key}) DO UPDATE SET {changed}"
    return _execute_batches(sql, _tuples(rows, fields))


def insert_with_ids(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    *,
    key: Callable[[dict[str, Any]], Any],
    read_back: Callable[[], Iterable[tuple[Any, int]]],
) -> None:
    """Insert rows and give each its "id" (the history rows and the rows that point at them need it).

    On SQLite the ids are assigned before the insert: the import's transaction holds the database's write lock
    (BEGIN IMMEDIATE), so nobody else takes one meanwhile, and reading 100,000 ids back costs a second. Other
    databases hand them out from a sequence: the rows are read back as (key, id) pairs by `read_back`.
    """
    if not rows:
        return
    if connection.vendor == "sqlite":
        table, quote = model._meta.db_table, connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX({quote(str(model._meta.pk.column))}), 0) FROM {quote(table)}")
            highest = cursor.fetchone()[0]
            # AUTOINCREMENT never reuses the id of a deleted last row (its history may still name it).
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            found = cursor.fetchone()
        start = max(highest, found[0] if found else 0) + 1
        for offset, row in enumerate(rows):
            row["id"] = start + offset
        insert(model, rows, with_pk=True)
        return
    insert(model, rows)
    ids = dict(read_back())
    for row in rows:
        row["id"] = ids[key(row)]


def update(model: type[models.Model], rows: list[dict[str, Any]], columns: list[str]) -> int:
    """Set `columns` (attnames) on the rows given as {attname: value} including "id"."""
    if not rows:
        return 0
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_name[c] for c in columns]
    convert = [_converter(f) or (lambda v: v) for f in fields]
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {', '.join(f'{quote(str(f.column))} = %s' for f in fields)} "
        f"WHERE {quote(str(model._meta.pk.column))} = %s"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            cursor.executemany(
                sql, [(*(c(r[n]) for n, c in zip(columns, convert, strict=True)), r["id"]) for r in chunk]
            )
    return len(rows)


def delete(model: type[models.Model], ids: list[int]) -> int:
    quote = connection.ops.quote_name
    sql = f"DELETE FROM {quote(model._meta.db_table)} WHERE {quote(str(model._meta.pk.column))} = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(i,) for i in ids])
    return len(ids)


def copy_history(
    model: type[models.Model],
    ids: list[int],
    *,
    history_type: str,
    user_id: int | None,
    reason: str,
    when: dt.datetime,
) -> int:
    """History rows copied inside the database from the rows as they now stand (INSERT … SELECT): what
    django-simple-history records after a save, without carrying every value through Python twice. Consecutive
    ids (the new rows of an import on SQLite) are copied as one range; others 900 at a time (parameter limit)."""
    if not ids:
        return 0
    history_model = model.history.model  # type: ignore[attr-defined]
    quote = connection.ops.quote_name
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    own = {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id"}
    tracked = [f for f in history_model._meta.concrete_fields if f.attname not in own]
    extra = [history_model._meta.get_field(n) for n in ("history_date", "history_change_reason", "history_type")]
    columns = [quote(str(f.column)) for f in tracked] + [quote(str(f.column)) for f in extra]
    columns.append(quote(str(history_model._meta.get_field("history_user").column)))
    values = [extra[0].get_db_prep_save(when, connection), reason, history_type, user_id]
    selected = ", ".join(quote(str(by_attname[f.attname].column)) for f in tracked)
    pk = quote(str(model._meta.pk.column))
    with connection.cursor() as cursor:
        if ids == list(range(ids[0], ids[0] + len(ids))):  # new rows' ids are consecutive (SQLite): one range
            cursor.execute(
                f"INSERT INTO {quote(history_model._meta.db_table)} ({', '.join(columns)}) "
                f"SELECT {selected}, %s, %s, %s, %s FROM {quote(model._meta.db_table)} "
                f"WHERE {pk} BETWEEN %s AND %s ORDER BY {pk}",
                [*values, ids[0], ids[-1]],
            )
            return len(ids)
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            cursor.execute(
                f"INSERT INTO {quote(history_model._meta.db_table)} ({', '.join(columns)}) "
                f"SELECT {selected}, %s, %s, %s, %s FROM {quote(model._meta.db_table)} "
                f"WHERE {pk} IN ({', '.join(['%s'] * len(chunk))})",
                [*values, *chunk],
            )
    return len(ids)


def insert_history(
    model: type[models.Model],
    rows: Iterable[dict[str, Any]],
    *,
    history_type: str,
    user_id: int | None,
    reason: str,
    when: dt.datetime,
) -> int:
    """History rows for `model` (django-simple-history), one per row given as the record's state {attname: v}."""
    history_model = model.history.model  # type: ignore[attr-defined]
    extra = {
        "history_date": when,
        "history_change_reason": reason,
        "history_type": history_type,
        "history_user_id": user_id,
    }
    # The record's state carries every tracked field (and maybe some the history leaves out, which are ignored).
    return insert(history_model, ({**r, **extra} for r in rows))


@contextmanager
def large_cache() -> Iterator[None]:
    """On SQLite, a 128 MB page cache for the connection while an import writes: inserting into the indexes of
    several tables at random keys (UUIDs, hashes) thrashes the default 2 MB cache (measured: 40% slower).
    256 MB measured no faster on 100,000 rows (and 155 MiB more memory); `temp_store` cannot be set inside
    the import's transaction (where it measured no faster either)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size = -131072")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")
