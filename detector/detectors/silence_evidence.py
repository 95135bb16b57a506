"""What a window's rows tell `silence`: per host and minute, which services wrote rhythm
evidence, and whether the host announced a stop (suspend, shutdown) or a wake-up.

Not rhythm evidence: an OOM-killer line (the kernel's "Out of memory: Killed process
123 (httpd)" is attributed to its victim at ingest; a victim is not a service with a
rhythm), likewise the kernel's report of a process killed by a fault ("httpd[123]:
segfault at ..."), and a life-cycle line (`lifecycle.phase_of`: boot, shutdown,
suspend, resume, journal replay: they come in bursts at moments that say nothing of a
rhythm). Every line counts for its host's own rhythm. Judged once per (service,
template text), so a tick's cost follows its distinct templates, not its lines.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from detector.detectors._common import to_minute
from detector.detectors.base import ServiceInfo, Window
from detector.detectors.lifecycle import Phase, phase_of
from detector.detectors.primitive import classify
from detector.waiting import Wait
from logvigil.store.source_health import SourceHealthRecord

SLEEP = frozenset({Phase.SUSPEND, Phase.SHUTDOWN})
WAKE = frozenset({Phase.RESUME, Phase.BOOT})
#: Cached (service, text) kinds before the cache is emptied (bounds memory).
_CACHE_LIMIT = 100_000


#: Primitives whose lines are attributed to the process they report killed
#: (`graph.attribution`): the kernel's, not the victim's own.
VICTIM_KINDS = frozenset({"oom_kill", "segfault"})


def names_a_victim(text: str) -> bool:
    """Whether template `text` is a line about a killed process, attributed to it: the
    OOM killer's or the kernel's report of a fault."""
    found = classify(text)
    return found is not None and found.name in VICTIM_KINDS


class LineKinds:
    """(life-cycle phase, counts as rhythm evidence) of a template of a service, cached."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], tuple[Phase | None, bool]] = {}

    def __call__(self, service: str, text: str | None) -> tuple[Phase | None, bool]:
        if text is None:  # a template the window does not name: a line all the same
            return None, True
        key = (service, text)
        hit = self._cache.get(key)
        if hit is None:
            phase = phase_of(service, text)
            hit = (phase, phase is None and not names_a_victim(text))
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = hit
        return hit


@dataclass(slots=True)
class HostMinute:
    """What one host logged in one minute."""

    lines: dict[str, int] = field(default_factory=dict)  # every line, per service
    evidence: dict[str, int] = field(default_factory=dict)  # rhythm evidence, per service
    sleep: bool = False  # a SUSPEND or SHUTDOWN line
    wake: bool = False  # a RESUME or BOOT line

    def last_service(self) -> str:
        """The service that wrote most of the minute (rhythm evidence first)."""
        pool = self.evidence or self.lines
        return max(pool, key=lambda s: (pool[s], s))


def activity(window: Window, kinds: LineKinds) -> dict[str, dict[int, HostMinute]]:
    """Per host, per epoch minute with a line: what was logged."""
    out: dict[str, dict[int, HostMinute]] = {}
    for row in window.rows:
        if row.count <= 0:
            continue
        m = to_minute(row.minute)
        minutes = out.setdefault(row.host, {})
        slot = minutes.get(m)
        if slot is None:
            slot = minutes[m] = HostMinute()
        svc = row.service
        slot.lines[svc] = slot.lines.get(svc, 0) + row.count
        phase, evidence = kinds(svc, window.templates.get(row.template_id))
        if evidence:
            slot.evidence[svc] = slot.evidence.get(svc, 0) + row.count
        elif phase in SLEEP:
            slot.sleep = True
        elif phase in WAKE:
            slot.wake = True
    return out


def heartbeat_late(info: ServiceInfo | None, host: str, grace: int) -> int | None:
    """Minutes a heartbeat may be late on `host` (its `every` in whole minutes, rounded
    up, plus `grace`), or None for a pair no heartbeat watches."""
    if info is None or info.heartbeat is None or host not in info.hosts:
        return None
    return max(1, math.ceil(info.heartbeat.total_seconds() / 60)) + grace


def waits(
    window: Window,
    kinds: LineKinds,
    min_silent: int,
    services: Mapping[str, ServiceInfo],
    grace: int,
) -> list[Wait]:
    """What the rows of `window` are lines of, for `detector.waiting`: the (service,
    host) pair whose rhythm evidence a row is, which can fall due `min_silent` minutes
    after its last line (a heartbeat's pair: when it is late, `heartbeat_late` + 1), and
    the host of any other row (a host's rhythm counts all its lines, and falls due
    `min_silent` after the last). The host of an evidence row is left out: its pair
    falls due first, or with it (a heartbeat's pair names its host too)."""
    texts = window.templates
    out: list[Wait] = []
    for row in window.rows:
        if row.count <= 0:
            continue
        m = to_minute(row.minute)
        if kinds(row.service, texts.get(row.template_id))[1]:
            late = heartbeat_late(services.get(row.service), row.host, grace)
            if late is None:
                out.append(((row.service, row.host), m, min_silent))
                continue
            out.append(((row.service, row.host), m, late + 1))
        out.append((row.host, m, min_silent))
    return out


def marks_life(window: Window, kinds: LineKinds) -> bool:
    """Whether a row of `window` is a life-cycle line (a host boots, stops, sleeps, wakes)."""
    texts = window.templates
    return any(kinds(r.service, texts.get(r.template_id))[0] is not None for r in window.rows)


def unreachable(record: SourceHealthRecord, host: str, now: datetime) -> bool:
    """Whether a fresh health record says `host` cannot be reached (any grace)."""
    if record.host is None or record.unreachable_since is None or record.stale(now):
        return False
    return record.host == host or record.host.split(".")[0] == host.split(".")[0]
