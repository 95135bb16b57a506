"""Time helpers: one ISO 8601 writer, one reader, minutes and the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from logvigil.core.timeutil import (
    floor_minute,
    iso_z,
    iso_z_or_none,
    parse_iso,
    parse_iso_or_none,
    utc,
    wall_clock,
)

CEST = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("ts", "timespec", "text"),
    [
        (datetime(2026, 3, 4, 10, 0, tzinfo=UTC), "auto", "2026-03-04T10:00:00Z"),
        (datetime(2026, 3, 4, 10, 0, 0, 120000, tzinfo=UTC), "auto", "2026-03-04T10:00:00.120000Z"),
        (datetime(2026, 3, 4, 10, 0, 0, 120000, tzinfo=UTC), "seconds", "2026-03-04T10:00:00Z"),
        (
            datetime(2026, 3, 4, 10, 0, 0, 120000, tzinfo=UTC),
            "milliseconds",
            "2026-03-04T10:00:00.120Z",
        ),
        (datetime(2026, 3, 4, 10, 0, tzinfo=UTC), "microseconds", "2026-03-04T10:00:00.000000Z"),
        (datetime(2026, 3, 4, 12, 0, tzinfo=CEST), "auto", "2026-03-04T10:00:00Z"),
        (datetime(2026, 3, 4, 10, 0), "auto", "2026-03-04T10:00:00Z"),  # naive is UTC
    ],
)
def test_iso_z_writes_utc_with_a_z_at_the_asked_precision(ts, timespec, text) -> None:
    assert iso_z(ts, timespec) == text


def test_iso_z_or_none_passes_none_through() -> None:
    assert iso_z_or_none(None) is None
    assert iso_z_or_none(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-04T10:00:00Z",
        "2026-03-04T12:00:00+02:00",
        "2026-03-04T10:00:00",
        " 2026-03-04T10:00:00Z ",
    ],
)
def test_parse_iso_reads_z_offsets_and_naive_text_as_utc(text: str) -> None:
    assert parse_iso(text) == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_parse_iso_round_trips_iso_z() -> None:
    ts = datetime(2026, 3, 4, 10, 0, 0, 123456, tzinfo=UTC)
    assert parse_iso(iso_z(ts)) == ts


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00:00Z", "", "2026-03-04T25:00:00Z"])
def test_parse_iso_raises_value_error_and_the_lenient_reader_gives_none(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_iso(bad)
    assert parse_iso_or_none(bad) is None
    assert parse_iso_or_none(None) is None


def test_utc_converts_aware_times_and_takes_naive_ones_as_utc() -> None:
    assert utc(datetime(2026, 3, 4, 12, 0, tzinfo=CEST)) == datetime(2026, 3, 4, 10, tzinfo=UTC)
    assert utc(datetime(2026, 3, 4, 10, 0)).tzinfo is UTC


def test_floor_minute_drops_seconds_and_microseconds() -> None:
    ts = datetime(2026, 3, 4, 10, 7, 59, 999999, tzinfo=UTC)
    assert floor_minute(ts) == datetime(2026, 3, 4, 10, 7, tzinfo=UTC)


@freeze_time("2026-03-04 10:00:00")
def test_the_wall_clock_is_aware_utc() -> None:
    assert wall_clock() == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
