"""An application's own log replays on its own clock: PostgreSQL's log, read as raw
lines with the `%m` stamp Debian's `log_line_prefix = '%m [%p] '` writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from logvigil.app.backtest import run_backtest
from logvigil.app.runtime import empty_inventory
from logvigil.ingest.formats import input_options

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
READ_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
# PostgreSQL's report of a full disk (src/backend/storage/smgr/md.c) and its hint.
FULL = 'ERROR:  could not extend file "base/16384/2619": No space left on device'
HINT = "HINT:  Check free disk space."


def stamped(t: datetime, pid: int, message: str) -> bytes:
    return f"{t:%Y-%m-%d %H:%M:%S}.{t.microsecond // 1000:03d} UTC [{pid}] {message}\n".encode()


def test_a_disk_full_in_a_postgresql_log_pages_at_the_minute_it_was_written() -> None:
    normal = [
        stamped(T0 + timedelta(seconds=s), 800 + s % 50, "LOG:  checkpoint starting: time")
        for s in range(0, 6 * 3600, 20)
    ]
    full_at = T0 + timedelta(hours=6)
    burst = []
    for k in range(10):
        t = full_at + timedelta(seconds=2 * k)
        burst += [stamped(t, 900 + k, FULL), stamped(t, 900 + k, HINT)]
    after = [
        stamped(full_at + timedelta(minutes=2, seconds=s), 800, "LOG:  checkpoint starting: time")
        for s in range(0, 1800, 20)
    ]
    result = run_backtest(
        normal + burst + after,
        fmt="auto",
        inventory=empty_inventory(),
        read_options=input_options("postgresql-16-main.log", default_time=READ_AT),
    )
    # The replay spans the log's six and a half hours, not one minute of reading.
    last = full_at + timedelta(minutes=2, seconds=1780)
    assert (result.first_event, result.last_event) == (T0, last)
    assert result.ticks > 300
    (incident,) = result.incidents
    assert incident["triggers"][0]["detector"] == "primitive"
    assert "disk full" in incident["triggers"][0]["summary"]
    assert incident["opened_at"] == "2026-11-20T14:01:00Z"  # the minute after 14:00:00
