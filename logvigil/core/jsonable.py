"""JSON-able copies of typed values: aware datetimes become ISO 8601 with `Z`."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def iso(ts: datetime) -> str:
    """`2026-03-04T10:00:00Z` for an aware UTC datetime."""
    return ts.isoformat().replace("+00:00", "Z")


def jsonable(value: Any) -> Any:
    """`value` with datetimes as ISO text and tuples as lists, recursively."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
