"""Time: aware UTC datetimes, ISO 8601 text with `Z`, whole minutes, and the wall clock.

Detection never reads the wall clock (`now` is passed down); `wall_clock` is what the
daemon, the CLI and the live sources read it with, so there is one place to read.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: How much of the time `iso_z` writes: "auto" is whole seconds when the time has no
#: fraction and microseconds otherwise (`datetime.isoformat`'s own rule).
TimeSpec = Literal["auto", "seconds", "milliseconds", "microseconds"]

#: Before every aware time: a start for "the newest time seen so far".
EARLIEST = datetime.min.replace(tzinfo=UTC)


def utc(ts: datetime) -> datetime:
    """Return `ts` as an aware UTC datetime; a naive value is taken to be UTC."""
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


def iso_z(ts: datetime, timespec: TimeSpec = "auto") -> str:
    """`2026-03-04T10:00:00Z` (UTC; a naive `ts` is taken to be UTC)."""
    return utc(ts).isoformat(timespec=timespec).replace("+00:00", "Z")


def iso_z_or_none(ts: datetime | None, timespec: TimeSpec = "auto") -> str | None:
    """`iso_z(ts)`, or None for None."""
    return None if ts is None else iso_z(ts, timespec)


def parse_iso(value: str | datetime) -> datetime:
    """An ISO 8601 time (`Z` or an offset; naive means UTC) as an aware UTC datetime.

    Raises ValueError for text that is not an ISO 8601 time.
    """
    if isinstance(value, datetime):
        return utc(value)
    return utc(datetime.fromisoformat(str(value).strip().replace("Z", "+00:00")))


def parse_iso_or_none(value: Any) -> datetime | None:
    """`parse_iso(value)`, or None when `value` is empty or not an ISO 8601 time."""
    if not value:
        return None
    try:
        return parse_iso(value)
    except (TypeError, ValueError):
        return None


def floor_minute(ts: datetime) -> datetime:
    """The start of the minute holding `ts`."""
    return ts.replace(second=0, microsecond=0)


def wall_clock() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


_SPAN = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(value: str, now: datetime) -> datetime:
    """`value` as an aware UTC time: ISO 8601 (naive is UTC) or a span back from `now`
    (`30m`, `6h`, `2d`, `1w`). Raises ValueError saying what is expected."""
    text = value.strip()
    span = _SPAN.match(text.lower())
    if span:
        return now - timedelta(**{_UNITS[span.group(2)]: int(span.group(1))})
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            "expected an ISO 8601 time (2026-03-04, 2026-03-04T09:00, ...Z) or a span back "
            "from now (30m, 6h, 2d, 1w)"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (`Europe/Berlin`, `UTC`). Raises ValueError naming it
    (also for a name that is a folder of the zone database, `America/Argentina`)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name!r}: give an IANA name such as Europe/Berlin, "
            "America/New_York or UTC"
        ) from None
