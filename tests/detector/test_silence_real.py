"""silence on real lines: what counts as rhythm evidence and as a suspend, and whole real
logs replayed (read, mined and counted per minute as the ingestor does, without a store).

Lines are quoted from ../shared/data/real_logs; the replays skip when the files are absent.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from detector.detectors.base import CountRow, Window
from detector.detectors.lifecycle import Phase
from detector.detectors.silence import SilenceDetector
from detector.detectors.silence_evidence import names_a_victim
from logvigil.core.events import LogEvent, Severity
from logvigil.core.findings import Finding
from logvigil.core.timeutil import floor_minute
from logvigil.evaluation.labels import FORMATS, load_labels
from logvigil.ingest.formats import input_options, read_events
from logvigil.ingest.templates import TemplateMiner

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real_logs"
MIN = timedelta(minutes=1)


# -- what a line is -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # loghub_Linux_full.log, 11-15 04:30:29 (kernel 2.6.5 wording)
        "Out of Memory: Killed process 28473 (httpd).",
        # the kernel's current wording (mm/oom_kill.c)
        "Out of memory: Killed process 2811 (postgres) total-vm:8123456kB, anon-rss:7900000kB",
        # the old "Kill process" wording
        "Out of memory: Kill process 1234 (mysqld) score 912 or sacrifice child",
        # the kernel's report of a fault (arch/x86/mm/fault.c, traps.c), attributed to
        # the process that crashed as an OOM kill is to its victim
        "httpd[28473]: segfault at 0 ip 00007f3a2b1c4d5e sp 00007ffd1c2b3a40 error 4 in "
        "libc.so.6[7f3a2b000000+195000]",
        "traps: httpd[811] general protection fault ip:55d0 sp:7ffc error:0 in httpd[55d0+2a000]",
    ],
)
def test_lines_about_a_killed_process_are_not_rhythm_evidence(text: str) -> None:
    assert names_a_victim(text)
    assert SilenceDetector().line_kind("httpd", text) == (None, False)


@pytest.mark.parametrize(
    "text",
    [
        # loghub_Linux_full.log, 11-21 12:41:10: memory pressure, nobody killed
        "httpd: page allocation failure. order:0, mode:0xd2",
        "oom_score_adj for pid 812 set to -1000",
    ],
)
def test_memory_lines_that_kill_nobody_are_rhythm_evidence(text: str) -> None:
    assert not names_a_victim(text)
    assert SilenceDetector().line_kind("kernel", text) == (None, True)


@pytest.mark.parametrize(
    ("service", "text", "phase"),
    [
        # elemoine_kern.log, 01-03 22:41:57 then 01-04 08:25:20
        ("kernel", "[39489.243719] PM: Syncing filesystems ... done.", Phase.SUSPEND),
        ("kernel", "[39489.250420] PM: Preparing system for mem sleep", Phase.SUSPEND),
        ("kernel", "[39490.603701] ACPI: Low-level resume complete", Phase.RESUME),
        ("kernel", "[39495.512001] PM: Finishing wakeup.", Phase.RESUME),
        ("systemd", "Reached target Shutdown.", Phase.SHUTDOWN),
    ],
)
def test_life_cycle_lines_mark_the_host_and_teach_no_pair(
    service: str, text: str, phase: Phase
) -> None:
    assert SilenceDetector().line_kind(service, text) == (phase, False)


def test_a_suspend_wording_from_another_program_is_evidence_not_a_suspend() -> None:
    """Only the kernel's PM core writes "PM: Syncing filesystems": a script echoing it
    does not put the host to sleep."""
    assert SilenceDetector().line_kind("backup.sh", "PM: Syncing filesystems ... done.") == (
        None,
        True,
    )


# -- whole real logs ------------------------------------------------------------------


def minute_windows(log: str, *, until: datetime | None = None) -> Iterator[Window]:
    """One window per minute of `log` (its labels give the zone and year), from its first
    line to its last (or `until`), with the miner's templates."""
    labels = load_labels(REAL / f"{log}.labels.yaml")
    options = input_options(
        str(REAL / log), naive_tz=labels.zone, default_time=labels.last + timedelta(days=1)
    )
    miner = TemplateMiner()
    counts: Counter[tuple[datetime, str, str, int]] = Counter()
    with (REAL / log).open("rb") as stream:
        for event in read_events(stream, FORMATS[labels.format], options):
            if not isinstance(event, LogEvent):
                continue
            if until is not None and event.ts >= until:
                if event.ts >= until + timedelta(hours=1):
                    break  # syslog lines are in order but for a few stragglers
                continue
            tid = miner.add(event.message).template_id
            counts[floor_minute(event.ts), event.host, event.service, tid] += 1
    templates = dict(miner.templates())
    by_minute: dict[datetime, list[CountRow]] = {}
    for (m, host, service, tid), n in counts.items():
        by_minute.setdefault(m, []).append(CountRow(m, host, service, tid, Severity.INFO, n))
    m, last = min(by_minute), max(by_minute)
    while m <= last:
        yield Window(m, m + MIN, tuple(by_minute.get(m, ())), templates)
        m += MIN


def replay(windows: Iterator[Window]) -> tuple[list[Finding], dict]:
    det, state, found = SilenceDetector(), {}, []
    for w in windows:
        f, new_state = det.evaluate(w, state, w.end)
        state = json.loads(json.dumps(new_state))
        found += f
    return found, state


needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data/real_logs absent")


@needs_real
@pytest.mark.slow
def test_a_workstation_kernel_log_with_nightly_suspends_pages_nothing() -> None:
    """elemoine_kern.log: 4.7 days of a workstation's kernel, bursty, suspended every
    night ("PM: Syncing filesystems ... done." 22:41, resumed 08:25), rebooted three
    times: no silence is a fault (the old Poisson cadence paged four)."""
    found, state = replay(minute_windows("elemoine_kern.log"))
    assert found == []
    assert state["host:elemoine"]["k"] == "sleep"  # the last night's suspend was seen


@needs_real
@pytest.mark.slow
def test_a_real_steady_source_that_stops_is_paged() -> None:
    """plemma_syslog.log: the VPS's kernel logs UFW blocks every minute; cut the file
    after 05-25 12:00 on every program but cron, and the kernel is reported silent."""
    labels = load_labels(REAL / "plemma_syslog.log.labels.yaml")
    cut = labels.utc("05-25 12:00:00")
    kept = []
    for w in minute_windows("plemma_syslog.log", until=cut + timedelta(hours=3)):
        if w.start >= cut:
            w = Window(w.start, w.end, tuple(r for r in w.rows if r.service == "CRON"), w.templates)
        kept.append(w)
    found, _ = replay(iter(kept))
    kernel = [f for f in found if f.service == "kernel"]
    assert len(kernel) == 1 and kernel[0].kind == "silent_service"
    assert timedelta(0) < kernel[0].at - cut <= timedelta(minutes=30)
