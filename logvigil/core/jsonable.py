"""JSON-able copies of typed values: aware datetimes become ISO 8601 with `Z`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from logvigil.core.timeutil import iso_z


def jsonable(value: Any) -> Any:
    """`value` with datetimes as ISO text and tuples as lists, recursively."""
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
