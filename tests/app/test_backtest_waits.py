"""How long a replay's waiting lines may wait: until the first (service, host) pair or host
they are lines of could fall due (`detector.waiting`), not a fixed time after the first
of them. A service that keeps logging keeps its moment moving; one that stopped keeps
it where its last line put it, and its silence pages at the tick minute-by-minute
ticks (the daemon's) page it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from replay_support import at, detector_state
from replay_support import replay as replay_lines

from detector.detectors.base import CountRow, ServiceInfo, Window
from detector.detectors.silence import SilenceConfig, SilenceDetector
from detector.waiting import WaitingLines
from logvigil.core.events import Severity

T0 = datetime(2024, 3, 4, tzinfo=UTC)
SPAN = 40 * 60  # minutes


def lines() -> list[bytes]:
    """web-01 for 40 hours: nginx every minute, the app every third minute until it
    stops for good at 10:00 on the second day (its host goes on logging)."""
    out = []
    for minute in range(SPAN):
        t = T0 + timedelta(minutes=minute, seconds=13)
        out.append(at(t, "web-01", "nginx[800]", f"10.0.0.{minute % 50 + 2} GET / 200"))
        if minute % 3 == 0 and minute < 34 * 60:
            out.append(at(t, "web-01", "app[700]", f"GET /api/orders 200 in {minute % 9} ms"))
    return [(line + "\n").encode() for line in out]


def replay(db: Path, every_minute: bool):
    result, found = replay_lines(lines(), db, every_minute, T0 + timedelta(days=3))
    return result, found, detector_state(db)


def test_a_stopped_service_pages_at_its_tick_while_its_host_keeps_logging(tmp_path) -> None:
    coalesced, found, state = replay(tmp_path / "coalesced.db", False)
    every, expected, expected_state = replay(tmp_path / "every.db", True)
    pages = [f for f in expected if f[2] == "silence"]
    assert len(pages) == 1 and "app on web-01" in pages[0][3], expected
    assert found == expected
    assert coalesced.incidents == every.incidents
    assert state == expected_state
    # Lines whose pairs keep logging wait until a pair's due as the last tick left it
    # (80 ticks), not silence's 20 minutes after the first of them (126 ticks).
    assert coalesced.ticks < SPAN / 24, coalesced.ticks


def test_the_waits_are_the_earliest_of_every_key() -> None:
    waiting = WaitingLines()
    assert waiting.deadline() is None
    waiting.add([("a", 100, 20), ("b", 105, 20)])
    assert waiting.deadline() == T0.fromtimestamp(120 * 60, UTC)
    waiting.add([("a", 130, 20)])  # a logs again: b is first now
    assert waiting.deadline() == T0.fromtimestamp(125 * 60, UTC)
    waiting.add([("b", 104, 20)])  # an earlier row of b moves nothing
    assert waiting.deadline() == T0.fromtimestamp(125 * 60, UTC)
    waiting.add([("b", 140, 20)])
    assert waiting.deadline() == T0.fromtimestamp(150 * 60, UTC)
    waiting.clear()
    assert waiting.deadline() is None and len(waiting) == 0


def _row(minute: int, service: str, tid: int) -> CountRow:
    return CountRow(T0 + timedelta(minutes=minute), "db-01", service, tid, Severity.INFO, 1)


def test_silence_waits_for_pairs_of_rhythm_evidence_and_for_hosts() -> None:
    # Real lines' templates: PostgreSQL's checkpoint, the kernel's OOM killer (the line
    # belongs to its victim, which it teaches no rhythm), systemd-logind's power-off.
    texts = {
        1: "LOG:  checkpoint complete: wrote <*> buffers (<*>%)",
        2: "Out of memory: Killed process <*> (postgres) total-vm:<*>, anon-rss:<*>",
        3: "System is powering down.",
    }
    window = Window(
        start=T0,
        end=T0 + timedelta(minutes=10),
        rows=(_row(1, "postgres", 1), _row(2, "postgres", 2), _row(3, "systemd-logind", 3)),
        templates=texts,
    )
    m = int(T0.timestamp() // 60)
    info = ServiceInfo("backup", hosts=("db-01",), heartbeat=timedelta(minutes=30))
    services = {"backup": info}
    detector = SilenceDetector(SilenceConfig(min_silent_minutes=20, heartbeat_grace_minutes=5))
    assert detector.waits(window, services) == [
        (("postgres", "db-01"), m + 1, 20),  # evidence: its pair
        ("db-01", m + 2, 20),  # the OOM kill: its host only
        ("db-01", m + 3, 20),  # a life-cycle line: its host only
    ]
    beat = Window(start=T0, end=T0 + timedelta(minutes=10), rows=(_row(4, "backup", 9),))
    assert detector.waits(beat, services) == [
        (("backup", "db-01"), m + 4, 30 + 5 + 1),  # late after every + grace, due then
        ("db-01", m + 4, 20),
    ]
