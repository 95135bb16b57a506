"""Portable "insert or accumulate" statements for SQLite, PostgreSQL and MariaDB.

Ingest adds counts to rows that may already exist. Each backend spells the
upsert differently; this module hides that behind one function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import Connection, Table, func
from sqlalchemy.dialects import mysql, postgresql, sqlite

from logvigil.store.bulk import executemany

#: Built statements by (dialect, shape, columns): building one costs more than a small batch.
_BUILT: dict[tuple[Any, ...], Any] = {}

#: How an existing column combines with the incoming value.
Merge = Literal["add", "max", "min", "replace", "keep"]


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    merge: Mapping[str, Merge],
) -> None:
    """Insert `rows`; on a primary-key conflict combine columns as `merge` says.

    Columns not named in `merge` keep their stored value.
    """
    if not rows:
        return
    shape = ("upsert", table.name, tuple(sorted(merge.items())))
    plan_key = (conn.dialect.name, shape, tuple(rows[0]))
    if plan_key in _BUILT:
        executemany(conn, _BUILT[plan_key], table, rows, cache_key=shape)
        return
    name = conn.dialect.name
    if name == "sqlite":
        stmt = sqlite.insert(table)
        new = stmt.excluded
        greatest, least = func.max, func.min  # two-argument max/min are scalar in SQLite
    elif name == "postgresql":
        stmt = postgresql.insert(table)
        new = stmt.excluded
        greatest, least = func.greatest, func.least
    elif name in ("mysql", "mariadb"):
        stmt = mysql.insert(table)
        new = stmt.inserted
        greatest, least = func.greatest, func.least
    else:  # pragma: no cover - create_store_engine refuses other backends
        raise ValueError(f"unsupported database dialect {name!r}")

    sets: dict[str, Any] = {}
    for col, how in merge.items():
        old = table.c[col]
        if how == "add":
            sets[col] = old + new[col]
        elif how == "max":
            sets[col] = greatest(old, new[col])
        elif how == "min":
            sets[col] = least(old, new[col])
        elif how == "replace":
            sets[col] = new[col]
    if name in ("mysql", "mariadb"):
        stmt = stmt.on_duplicate_key_update(**sets) if sets else stmt.prefix_with("IGNORE")
    else:
        pk = [c.name for c in table.primary_key.columns]
        stmt = (
            stmt.on_conflict_do_update(index_elements=pk, set_=sets)
            if sets
            else stmt.on_conflict_do_nothing(index_elements=pk)
        )
    _BUILT[plan_key] = stmt
    executemany(conn, stmt, table, rows, cache_key=shape)
