"""Helpers of the silence tests (no tests here): minutes as ints, rows per minute, windows
with the state stored as JSON between them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from detector.detectors.base import CountRow, ServiceInfo, Window
from detector.detectors.silence import SilenceConfig, SilenceDetector
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.store.source_health import SourceHealthRecord

#: Monday 2026-03-02 00:00 UTC: minute 0 of every test.
T0 = datetime(2026, 3, 2, tzinfo=UTC)
DAY = 24 * 60
HOUR = 60

#: Template texts by id, as the miner leaves them (real wording, variables masked).
TEMPLATES: dict[int, str] = {
    1: "request served in <*> ms",
    2: "PM: Syncing filesystems ... done.",  # kernel, elemoine_kern.log
    3: "PM: Finishing wakeup.",  # kernel, elemoine_kern.log
    4: "Out of Memory: Killed process <*> (httpd).",  # kernel, loghub_Linux_full.log
    5: "Reached target Shutdown.",  # systemd
    6: "Linux version <*> (<*>) (gcc version <*>) #1 SMP <*>",  # kernel boot banner
    7: "Started Daily apt upgrade and clean activities.",
    8: "PM: Preparing system for mem sleep",  # kernel, elemoine_kern.log
    9: "ACPI: Low-level resume complete",  # kernel, elemoine_kern.log
}

Rows = Callable[[int], Iterable[CountRow]]


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def minute_of(ts: datetime) -> int:
    return int((ts - T0) / timedelta(minutes=1))


def row(
    minute: int, service: str, *, host: str = "db-01", template: int = 1, count: int = 3
) -> CountRow:
    return CountRow(at(minute), host, service, template, Severity.INFO, count)


def every(
    period: int,
    service: str,
    *,
    host: str = "db-01",
    template: int = 1,
    when: Callable[[int], bool] = lambda m: True,
) -> Rows:
    """`service` logs at every `period`-th minute for which `when(minute)` holds."""
    return lambda m: (
        [row(m, service, host=host, template=template)] if m % period == 0 and when(m) else []
    )


def both(*sources: Rows) -> Rows:
    return lambda m: [r for s in sources for r in s(m)]


def hour_of(m: int) -> float:
    """The hour of day of minute `m`, with minutes as a fraction (07:30 -> 7.5)."""
    return (m % DAY) / 60


def detector(**config: Any) -> SilenceDetector:
    return SilenceDetector(SilenceConfig(**config))


class Run:
    """Runs `silence` window after window, the state through JSON as the tick stores it
    (`keep_objects`: the very objects the detector returned, as the tick keeps them in
    memory between ticks)."""

    def __init__(
        self,
        det: SilenceDetector | None = None,
        *,
        services: Mapping[str, ServiceInfo] | None = None,
        sources: tuple[SourceHealthRecord, ...] = (),
        state: dict[str, Any] | None = None,
        keep_objects: bool = False,
    ) -> None:
        self.det = det if det is not None else detector()
        self.keep_objects = keep_objects
        self.services = dict(services or {})
        self.sources = sources
        self.state: dict[str, Any] = state or {}
        self.findings: list[Finding] = []

    def window(self, start: int, stop: int, rows: Rows) -> list[Finding]:
        """One window of minutes [start, stop)."""
        w = Window(
            at(start),
            at(stop),
            tuple(r for m in range(start, stop) for r in rows(m)),
            dict(TEMPLATES),
            {},
            dict(self.services),
            self.sources,
        )
        given = json.dumps(self.state, sort_keys=True) if self.keep_objects else None
        found, new_state = self.det.evaluate(w, self.state, w.end)
        if given is not None:  # a tick never changes the state it is given (it shares it)
            assert json.dumps(self.state, sort_keys=True) == given
        self.state = new_state if self.keep_objects else json.loads(json.dumps(new_state))
        self.findings.extend(found)
        return found

    def learn(self, start: int, stop: int, rows: Rows, step: int = HOUR) -> list[Finding]:
        """Windows of `step` minutes (a catch-up tick's): fast, same learning."""
        out: list[Finding] = []
        for m in range(start, stop, step):
            out += self.window(m, min(m + step, stop), rows)
        return out

    def watch(self, start: int, stop: int, rows: Rows) -> list[Finding]:
        """One window per minute, as the daemon ticks."""
        out: list[Finding] = []
        for m in range(start, stop):
            out += self.window(m, m + 1, rows)
        return out
