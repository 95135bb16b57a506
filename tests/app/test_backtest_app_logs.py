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
    # Ordinary lines wait for a tick at most the longest window a tick reads (an hour,
    # `MAX_CATCHUP`), and less where a pair or host they are lines of may fall due.
    assert result.ticks >= (last - T0) // timedelta(minutes=60)
    (incident,) = result.incidents
    assert incident["triggers"][0]["detector"] == "primitive"
    assert "disk full" in incident["triggers"][0]["summary"]
    assert incident["opened_at"] == "2026-11-20T14:01:00Z"  # the minute after 14:00:00


def access(t: datetime, status: int, path: str = "/api/v1/orders") -> bytes:
    stamp = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'192.168.1.{t.second % 50 + 2} - - [{stamp}] "GET {path} HTTP/1.1" {status} 512 "-" "app/2.1"\n'.encode()


def test_a_burst_of_502s_in_an_nginx_access_log_is_an_error_spike_at_its_minute() -> None:
    # Two days of steady traffic (so the baseline has learnt), with a client's 404 now
    # and then; then the upstream dies and every request is answered 502.
    lines = [
        access(T0 + timedelta(seconds=s), 404 if s % 600 == 0 else 200, "/x")
        for s in range(0, 2 * 86400, 30)
    ]
    dead = T0 + timedelta(days=2)
    lines += [access(dead + timedelta(seconds=s), 502) for s in range(0, 600, 2)]
    result = run_backtest(
        lines,
        fmt="auto",
        inventory=empty_inventory(),
        read_options=input_options("access.log", default_time=READ_AT),
    )
    (incident,) = result.incidents
    (trigger,) = incident["triggers"]
    assert trigger["detector"] == "error_spike"
    assert dead.isoformat().replace("+00:00", "Z") <= trigger["at"]
    assert trigger["at"] <= (dead + timedelta(minutes=3)).isoformat().replace("+00:00", "Z")
