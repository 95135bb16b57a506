"""LogEvent.read, the readers' constructor, makes what LogEvent(...) makes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from logvigil.core.events import LogEvent, Severity


def test_read_sets_every_field_of_the_event() -> None:
    # A field added to LogEvent and not to `read` would be left unset.
    event = LogEvent.read(datetime(2026, 3, 4, tzinfo=UTC), "h", "s", Severity.ERROR, "m", "src",
                          {"pid": "1"}, True)  # fmt: skip
    for f in dataclasses.fields(LogEvent):
        assert getattr(event, f.name) is not None, f.name


@pytest.mark.parametrize(
    "ts",
    [
        datetime(2026, 3, 4, 10, 0, tzinfo=UTC),
        datetime(2026, 3, 4, 10, 0, tzinfo=timezone(timedelta(0))),  # UTC, another object
        datetime(2026, 3, 4, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")),
        datetime(2026, 3, 4, 5, 0, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2026, 3, 4, 10, 0),  # naive: taken as UTC, as LogEvent(...) does
    ],
)
def test_read_equals_the_dataclass_constructor(ts: datetime) -> None:
    args = (ts, "db-01", "postgres", Severity.WARNING, "slow query", "f.log", {"pid": "7"}, False)
    made, read = LogEvent(*args), LogEvent.read(*args)
    assert read == made
    assert read.ts.tzinfo is UTC or read.ts.utcoffset() == timedelta(0)
    assert read.ts == made.ts and read.ts.tzinfo is made.ts.tzinfo
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.message = "changed"  # type: ignore[misc]
