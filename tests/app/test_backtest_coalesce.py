"""A backtest evaluates ordinary lines in stretches: a tick comes where a detector needs
one (an error, a first sighting, a primitive, a boot or a stop, a silence held for its
host's verdict), where something falls due, and at the latest `Ticker.patience()` after
a waiting line. It fires what minute-by-minute ticks (the daemon's) fire, at the same
moments, and leaves the same detector state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from replay_support import at, detector_state
from replay_support import replay as replay_lines

from graph.inventory import load_inventory
from logvigil.app.backtest import BacktestResult, run_backtest
from logvigil.ingest.formats import input_options

T0 = datetime(2024, 3, 4, tzinfo=UTC)
D2 = T0 + timedelta(days=1)


# Real lines' shapes: Debian's kernel banner, nginx's error log line (through syslog),
# the kernel's OOM killer.
BANNER = (
    "[    0.000000] Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) "
    "(gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)"
)
UPSTREAM = (
    "2024/03/05 09:00:{s:02d} [error] 900#0: *{n} upstream timed out (110: Connection timed "
    "out) while reading response header from upstream"
)
OOM = (
    "[86412.123456] Out of memory: Killed process {pid} (mysqld) total-vm:1830948kB, "
    "anon-rss:421988kB, file-rss:0kB, shmem-rss:0kB, UID:106 pgtables:1292kB oom_score_adj:0"
)


def relay() -> list[bytes]:
    """Two hosts of a syslog relay, 40 hours. web-01: nginx and the app every minute; on
    the second day the app stops at 12:00 and nginx at 12:10, and nginx is back at 12:25,
    before the host's own silence is due (the app's silence waits for the host's verdict
    until then). web-02: nginx every minute, systemd hourly; an upstream failing (a burst
    of a first-seen error) at 09:00, OOM kills every minute from 11:00 to 11:24 (one
    finding per primitive cooldown, 10 minutes), then it stops at 13:00 and
    boots at 14:00 without a shutdown sequence."""
    out: list[str] = []
    t = T0
    while t < D2 + timedelta(hours=16):
        day2 = t - D2
        s = t + timedelta(seconds=7)
        if day2 < timedelta(hours=12):
            out.append(at(s, "web-01", "app[700]", f"GET /api/orders 200 in {t.minute + 3} ms"))
        if not timedelta(hours=12, minutes=10) <= day2 < timedelta(hours=12, minutes=25):
            out.append(at(s, "web-01", "nginx[800]", f"10.0.0.{t.minute % 50 + 2} GET / 200"))
        if day2 == timedelta(hours=14):
            out.append(at(t, "web-02", "kernel", BANNER))
        if not timedelta(hours=13) <= day2 < timedelta(hours=14):
            out.append(at(s, "web-02", "nginx[900]", f"10.0.1.{t.minute % 50 + 2} GET / 200"))
            if t.minute == 0:
                out.append(at(t, "web-02", "systemd[1]", f"Started Session {t.hour} of user root."))
        if day2 == timedelta(hours=9):
            for k in range(30):
                line = UPSTREAM.format(s=k, n=k + 5)
                out.append(at(t + timedelta(seconds=k), "web-02", "nginx[900]", line))
        if timedelta(hours=11) <= day2 < timedelta(hours=11, minutes=25):
            oom = OOM.format(pid=812 + t.minute)  # a storm: one page per cooldown
            out.append(at(t + timedelta(seconds=20), "web-02", "kernel", oom))
        t += timedelta(minutes=1)
    return [(line + "\n").encode() for line in out]


def replay(db: Path, every_minute: bool) -> tuple[BacktestResult, list[tuple[str, ...]]]:
    return replay_lines(relay(), db, every_minute, T0 + timedelta(days=3))


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> tuple[tuple[BacktestResult, list, Path], ...]:
    tmp = tmp_path_factory.mktemp("coalesce")
    a, b = tmp / "coalesced.db", tmp / "every.db"
    return (*replay(a, False), a), (*replay(b, True), b)


def test_ordinary_lines_wait_for_a_tick(both) -> None:
    (coalesced, _, _), (every, _, _) = both
    assert every.ticks > 2000  # a tick a minute
    assert coalesced.ticks < every.ticks / 10


def test_every_finding_comes_at_the_same_tick(both) -> None:
    (_, found, _), (_, expected, _) = both
    assert len(expected) > 5  # the storm's repeats too
    assert found == expected


def test_the_same_incidents_and_the_same_state(both) -> None:
    (coalesced, _, a), (every, _, b) = both
    found = [" / ".join(t["summary"] for t in i["triggers"]) for i in every.incidents]
    # What makes the comparison worth it: a spike and a first sighting, a primitive's
    # storm (its cooldowns), a silence held for its host's verdict, and a judged boot.
    text = "\n".join(found)
    for expected in (
        "first-seen ERROR template",
        "mysqld",
        "app on web-01 silent",
        "web-02 rebooted at",
    ):
        assert expected in text, found
    assert coalesced.incidents == every.incidents
    assert detector_state(a) == detector_state(b)


INVENTORY = """
hosts:
  web-01: {}
services:
  healthcheck:
    hosts: [web-01]
    expect: {every: 5m}
"""


def test_a_heartbeat_pages_at_the_same_tick(tmp_path) -> None:
    """A declared heartbeat (`expect: {every: 5m}`) makes lines wait less (its period and
    grace): a late heartbeat pages at the tick minute-by-minute ticks page it."""
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY)
    lines: list[str] = []
    for minute in range(6 * 60):
        t = T0 + timedelta(minutes=minute, seconds=11)
        lines.append(at(t, "web-01", "nginx[800]", f"10.0.0.{minute % 50 + 2} GET / 200"))
        # Late from 02:10; one line at 02:50 (its silence is due again 7 minutes later,
        # nothing else is due then); back from 04:10.
        if minute == 170 or (minute % 4 == 0 and not 130 <= minute < 250):
            lines.append(at(t, "web-01", "healthcheck[77]", "all 12 checks passed"))
    runs = []
    for every_minute in (False, True):
        found: list[tuple[str, ...]] = []
        result = run_backtest(
            [(line + "\n").encode() for line in lines],
            fmt="syslog",
            inventory=load_inventory(path),
            read_options=input_options("relay.log", default_time=T0 + timedelta(days=1)),
            on_tick=lambda tick, found=found: found.extend(
                (str(f.at), f.detector, f.summary) for f in tick.findings
            ),
            every_minute=every_minute,
        )
        runs.append((result, found))
    (coalesced, found), (every, expected) = runs
    pages = [f for f in expected if f[1] == "silence" and "healthcheck" in f[2]]
    assert len(pages) >= 2, expected  # late, and late again after its one line
    assert found == expected
    assert coalesced.incidents == every.incidents
    assert coalesced.ticks < every.ticks / 3
