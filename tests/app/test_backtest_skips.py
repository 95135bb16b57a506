"""A backtest ticks where there are lines and where something falls due, not on every
empty minute, and fires exactly what minute-by-minute ticks (the daemon's) fire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from logvigil.app.backtest import BacktestResult, run_backtest
from logvigil.app.runtime import empty_inventory
from logvigil.ingest.formats import input_options

T0 = datetime(2024, 3, 4, tzinfo=UTC)


def stamp(t: datetime) -> str:
    return t.strftime("%b %e %H:%M:%S")


def sparse_log() -> list[bytes]:
    """Three days of a quiet VPS: debian's cron every 10 minutes, an OOM kill that
    resolves inside a quiet stretch, then the host stops (a silence falling due between
    two lines), comes back without a shutdown sequence (an unclean reboot judged some
    minutes after the boot), and runs on."""
    out: list[str] = []
    t = T0
    stop, back = T0 + timedelta(days=2, hours=5), T0 + timedelta(days=2, hours=7)
    oom = T0 + timedelta(days=1, hours=13, minutes=3)
    while t < T0 + timedelta(days=3):
        if stop <= t < back:
            t += timedelta(minutes=10)
            continue
        if t == back:
            out.append(
                f"{stamp(t)} vps kernel: [    0.000000] Linux version 5.10.0-28-amd64 "
                "(debian-kernel@lists.debian.org) (gcc-10 (Debian 10.2.1-6) 10.2.1 20210110) "
                "#1 SMP Debian 5.10.209-2 (2024-01-31)"
            )
            out.append(f"{stamp(t)} vps systemd[1]: Started Journal Service.")
        out.append(
            f"{stamp(t + timedelta(seconds=1))} vps CRON[{4000 + len(out)}]: (root) CMD "
            "(command -v debian-sa1 > /dev/null && debian-sa1 1 1)"
        )
        if t.minute == 0:  # systemd writes, so it would have written a shutdown sequence
            out.append(f"{stamp(t)} vps systemd[1]: Started Session {t.hour + 1} of user root.")
        if t <= oom < t + timedelta(minutes=10):
            out.append(
                f"{stamp(oom)} vps kernel: [86412.123456] Out of memory: Killed process 812 "
                "(mysqld) total-vm:1830948kB, anon-rss:421988kB, file-rss:0kB, shmem-rss:0kB, "
                "UID:106 pgtables:1292kB oom_score_adj:0"
            )
        t += timedelta(minutes=10)
    return [(line + "\n").encode() for line in out]


def replay(every_minute: bool) -> BacktestResult:
    return run_backtest(
        sparse_log(),
        fmt="syslog",
        inventory=empty_inventory(),
        read_options=input_options("vps.log", default_time=T0 + timedelta(days=4)),
        every_minute=every_minute,
    )


@pytest.fixture(scope="module")
def both() -> tuple[BacktestResult, BacktestResult]:
    return replay(every_minute=False), replay(every_minute=True)


def test_quiet_minutes_are_jumped_over(both) -> None:
    skipping, every = both
    assert every.ticks > 4000  # three days of minutes
    assert skipping.ticks < every.ticks / 5


def test_the_same_incidents_open_and_resolve_at_the_same_moments(both) -> None:
    skipping, every = both
    found = [" / ".join(t["summary"] for t in i["triggers"]) for i in every.incidents]
    # What makes the comparison worth it: a resolution, a silence and a judged boot,
    # each falling due between two lines.
    assert len(found) == 3, found
    assert "mysqld" in found[0] and "stopped logging" in found[1]
    assert "rebooted" in found[2] and "without a clean shutdown" in found[2]
    assert all(i["resolved_at"] for i in every.incidents[:-1])
    assert skipping.incidents == every.incidents
