"""Bulk writes that skip SQLAlchemy's per-row parameter processing.

Ingest writes tens of thousands of rows a second. SQLAlchemy's executemany
path converts every value of every row through its type system, which costs
more than the database itself. Here a statement is compiled once for the
connection's dialect and rows are handed to the driver's `executemany` as
tuples (or dicts, for named paramstyles), with values already in the form the
driver expects: naive-UTC datetimes (SQLite: the same text SQLAlchemy stores),
JSON as text, booleans as the backend wants them. The result is identical to
`conn.execute(stmt, rows)`: the store tests read every column back on every backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Connection, Table
from sqlalchemy.sql import Executable

from logvigil.store.schema import UTCDateTime

Converter = Callable[[Any], Any]


#: The datetimes converted within a `shared_datetimes()` block, and what they became.
_CONVERTED: ContextVar[dict[datetime, Any] | None] = ContextVar("_CONVERTED", default=None)


@contextmanager
def shared_datetimes() -> Iterator[None]:
    """Within the block (the statements of one transaction on one connection), a
    datetime written again is converted once: an ingest writes each event's time,
    and the same times again as its templates' first and last lines."""
    token = _CONVERTED.set({})
    try:
        yield
    finally:
        _CONVERTED.reset(token)


def _shared(convert: Converter) -> Converter:
    """`convert`, remembering its answers within a `shared_datetimes()` block. Only for
    UTC and naive datetimes: two times of one other zone compare by their wall clock,
    so the two readings of an hour that happens twice would be one key."""

    def converted(v: datetime | None) -> Any:
        memo = _CONVERTED.get()
        if memo is None or v is None or (v.tzinfo is not UTC and v.tzinfo is not None):
            return convert(v)
        value = memo.get(v, memo)
        if value is memo:
            value = memo[v] = convert(v)
        return value

    return converted


def _sqlite_text(v: datetime | None) -> str | None:
    """SQLAlchemy's text of a DATETIME on SQLite, of the time in UTC (its format, which
    `isoformat` with the offset cut off also gives, at two thirds of the cost)."""
    if v is None:
        return None
    if v.tzinfo is not None and v.tzinfo is not UTC:
        v = v.astimezone(UTC)
    return _SQLITE_FORMAT % (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)


_SQLITE_FORMAT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def _naive(v: datetime | None) -> datetime | None:
    if v is None or v.tzinfo is None:
        return v
    return v.astimezone(UTC).replace(tzinfo=None)


#: SQLAlchemy's SQLite DATETIME text (`2026-03-04 10:00:00.000000`), so reads parse it.
_sqlite_datetime = _shared(_sqlite_text)
#: A naive UTC datetime, what the drivers of PostgreSQL and MariaDB are given.
_naive_utc = _shared(_naive)


#: `json.dumps(v, ensure_ascii=False)` without building an encoder for every value.
_JSON_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
#: orjson for what it writes as `json` reads it back (dict keys that are not strings
#: become strings, as with `json`); what `json` would refuse (datetimes, dataclasses)
#: orjson must refuse too, rather than write its own form of it.
_ORJSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _json(v: Any) -> str | None:
    """JSON text of a column's value. orjson writes it ten times as fast as `json` (an
    event's attributes, a detector's state: every row of a large ingest has one); what
    orjson cannot write (an integer beyond 64 bits, a float subclass, a lone surrogate)
    is left to `json`, as before. A NaN or an infinity (no state holds one: detectors
    validate theirs as finite) becomes null, valid JSON on every backend, where `json`
    wrote `NaN`, which PostgreSQL and MariaDB refuse."""
    if v is None:
        return None
    try:
        return orjson.dumps(v, option=_ORJSON_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return _JSON_ENCODE(v)


def _as_int_bool(v: Any) -> int | None:
    return None if v is None else int(bool(v))


def _converter(column_type: Any, dialect: str) -> Converter | None:
    if isinstance(column_type, UTCDateTime):
        return _sqlite_datetime if dialect == "sqlite" else _naive_utc
    if isinstance(column_type, JSON):
        return _json
    # psycopg and sqlite3 bind Python's booleans as the backends want them (sqlite3 as
    # the integers 1 and 0, a bool being an int); MariaDB's drivers are given integers.
    if isinstance(column_type, Boolean) and dialect not in ("postgresql", "sqlite"):
        return _as_int_bool
    return None


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    names: list[str]
    columns: list[str]
    converted: list[tuple[int, Converter]]
    positional: bool


#: Compiled plans by (dialect, caller's key, bound columns); compiling costs more than
#: writing a small batch, and a tick writes several small batches every minute.
_PLANS: dict[tuple[Hashable, ...], _Plan] = {}


def _plan(conn: Connection, stmt: Executable, table: Table, keys: list[str]) -> _Plan:
    dialect = conn.dialect
    compiled = stmt.compile(dialect=dialect, column_keys=keys)
    names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
    # Bind names are column names, possibly suffixed by SQLAlchemy (`count_1`) when a
    # column appears twice; map each back to its column.
    columns = [compiled.binds[n].key for n in names]
    convs = [_converter(table.c[c].type, dialect.name) if c in table.c else None for c in columns]
    converted = [(i, conv) for i, conv in enumerate(convs) if conv is not None]
    return _Plan(str(compiled), names, columns, converted, bool(compiled.positional))


def executemany(
    conn: Connection,
    stmt: Executable,
    table: Table,
    rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
    *,
    cache_key: Hashable | None = None,
    columns: Sequence[str] | None = None,
) -> None:
    """Execute `stmt` (an INSERT or upsert on `table`) once per row, fast.

    Every row must carry every column the statement binds: under the column's
    name, or, with `columns`, as a tuple of values in the order of `columns`
    (less than half of a dict's memory, for batches of many rows). With `cache_key`
    (naming the statement's shape: it must change when the statement does)
    the compiled statement is reused across calls.
    """
    if not rows:
        return
    keys = list(rows[0]) if columns is None else list(columns)
    if cache_key is None:
        plan = _plan(conn, stmt, table, keys)
    else:
        full_key = (conn.dialect.name, cache_key, tuple(keys))
        plan = _PLANS.get(full_key)
        if plan is None:
            plan = _PLANS[full_key] = _plan(conn, stmt, table, keys)
    getter = itemgetter(*(plan.columns if columns is None else map(keys.index, plan.columns)))
    single = len(plan.columns) == 1
    converted, positional, names = plan.converted, plan.positional, plan.names
    params: list[Any] = []
    append = params.append
    for row in rows:
        values = getter(row)
        if single:
            values = (values,)
        if converted:
            values = list(values)
            for i, conv in converted:
                values[i] = conv(values[i])
        append(tuple(values) if positional else dict(zip(names, values, strict=True)))
    conn.exec_driver_sql(plan.sql, params)
