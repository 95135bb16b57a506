"""A replay's windows from the ingestor's own counts equal the windows read from the
store, on each backend (what lets `backtest` skip a flush and a query per tick)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from detector.windows import RecentWindows, StoreWindows
from logvigil.core.events import LogEvent, Severity
from logvigil.ingest.ingestor import Ingestor
from logvigil.ingest.noise import NoiseConfig, NoiseFilter
from logvigil.ingest.recent import RecentCounts

T0 = datetime(2016, 11, 28, 6, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)

# Real lines (serverlog_auth.log, loghub Linux): sshd's failures vary in user and address,
# so their template generalises between windows; su and cron lines are new pairs.
LINES = [
    (0, 5, "sshd", Severity.INFO, "Invalid user admin from 185.14.30.12"),
    (0, 9, "sshd", Severity.INFO, "Invalid user admin from 185.14.30.12"),
    (
        0,
        40,
        "cron",
        Severity.INFO,
        "pam_unix(cron:session): session opened for user root by (uid=0)",
    ),
    (1, 2, "sshd", Severity.INFO, "Invalid user oracle from 61.177.172.13"),
    (1, 30, "sshd", Severity.ERROR, "error: Received disconnect from 61.177.172.13: 3: ..."),
    (3, 1, "su", Severity.NOTICE, "pam_unix(su:session): session opened for user news by (uid=0)"),
    (3, 59, "sshd", Severity.INFO, "Invalid user test from 5.188.10.180"),
    (7, 0, "cron", Severity.INFO, "pam_unix(cron:session): session closed for user root"),
]


def _event(minute: int, second: int, service: str, sev: Severity, msg: str) -> LogEvent:
    host = "web-01" if service != "cron" else "db-01"
    return LogEvent(T0 + minute * MIN + timedelta(seconds=second), host, service, sev, msg)


def _ingestor(engine: Engine) -> tuple[Ingestor, RecentCounts]:
    ingestor = Ingestor(engine, NoiseFilter.from_config(NoiseConfig()))
    ingestor.recent = RecentCounts.of_store(engine)
    return ingestor, ingestor.recent


def _same(a, b) -> None:
    assert (a.start, a.end) == (b.start, b.end)
    assert a.rows == b.rows
    assert a.templates == b.templates
    assert a.new_pairs == b.new_pairs
    assert a.sources == b.sources


def test_windows_from_the_ingestors_counts_equal_the_stores(engine: Engine) -> None:
    ingestor, recent = _ingestor(engine)
    memory = RecentWindows(recent, ingestor.miner.text_of, dict)
    store = StoreWindows(engine, dict)
    spans = [(T0, T0 + 2 * MIN), (T0 + 2 * MIN, T0 + 4 * MIN), (T0 + 4 * MIN, T0 + 8 * MIN)]
    fed = 0
    for start, end in spans:
        while fed < len(LINES) and T0 + LINES[fed][0] * MIN < end:
            ingestor.add(_event(*LINES[fed]))
            fed += 1
        ingestor.flush()
        _same(memory.read(start, end), store.read(start, end))
    assert len(recent) == 0  # every minute handed over once, then forgotten


def test_a_late_line_and_a_skipped_minute_are_never_evaluated_in_either(engine: Engine) -> None:
    ingestor, recent = _ingestor(engine)
    memory = RecentWindows(recent, ingestor.miner.text_of, dict)
    store = StoreWindows(engine, dict)
    for line in LINES[:3]:
        ingestor.add(_event(*line))
    ingestor.flush()
    _same(memory.read(T0, T0 + MIN), store.read(T0, T0 + MIN))
    # A line of an evaluated minute arrives late; minute 1 is skipped (a catch-up limit).
    ingestor.add(_event(0, 50, "sshd", Severity.INFO, "Invalid user pi from 1.2.3.4"))
    for line in LINES[3:6]:
        ingestor.add(_event(*line))
    ingestor.flush()
    _same(memory.read(T0 + 2 * MIN, T0 + 4 * MIN), store.read(T0 + 2 * MIN, T0 + 4 * MIN))


def test_pairs_already_stored_are_not_first_seen_again(engine: Engine) -> None:
    first, _ = _ingestor(engine)
    first.feed(_event(*line) for line in LINES[:3])
    first.close()
    again, recent = _ingestor(engine)  # a second replay into the same store
    again.add(_event(5, 0, "sshd", Severity.INFO, "Invalid user admin from 185.14.30.12"))
    taken = recent.take(T0 + 5 * MIN, T0 + 6 * MIN)
    assert taken.first_seen == {}
    assert [n for _, n in taken.counts] == [1]
