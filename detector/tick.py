"""One detector tick: read the window's statistics, run every detector, open incidents.

`Ticker.tick(now)` is the only thing the daemon's scheduler and `backtest`'s
simulated clock call. It reads whole minutes `[start, end)` of per-minute
counts (end = `now` floored to the minute, so a minute is evaluated once it is
complete) and the sources' health records (from the store, or in a replay from
the ingestor's own counts: `detector.windows`), hands each detector the window, its
persisted state and `now`, keeps
a detector that raises isolated and backed off, persists the state keys that
changed together with a `ticks` row, and passes the findings to the incident
manager. Its cost depends on the number of active (minute, host, service,
template) rows, never on raw log volume.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, select

from detector.detectors.base import MINUTE, Detector, ServiceInfo, State, StateDraft, Window
from detector.incidents.manager import IncidentChange, IncidentManager
from detector.waiting import Wait
from detector.windows import StoreWindows, WindowReader
from logvigil.core.findings import Finding
from logvigil.core.timeutil import floor_minute
from logvigil.store.bulk import executemany
from logvigil.store.schema import DetectorState, TickRow
from logvigil.store.upsert import upsert

log = logging.getLogger(__name__)

#: A daemon that was down longer than this does not replay the gap minute by minute.
MAX_CATCHUP = timedelta(minutes=60)
#: A failing detector is skipped for 1, 2, 4, ... ticks, at most this many.
MAX_BACKOFF_TICKS = 32


def state_changes(old: State, new: State, *, by_value: bool = True) -> tuple[list[str], list[str]]:
    """(the keys of `new` whose value is not the one of `old`, in `new`'s order; the keys
    of `old` that `new` lacks). A `StateDraft` names the keys that may differ, so only
    those are compared; any other mapping is compared key by key. Without `by_value` a
    value replaced by an equal one counts as changed (writing it again is harmless, and
    cheaper than comparing when the writes are batched)."""
    if isinstance(new, StateDraft):
        touched = new.touched
        gone = [key for key in touched if key in old and key not in new]
        if not by_value:
            differ = {key for key in touched if key in new and old.get(key) is not new[key]}
        else:
            differ = {key for key in touched if key in new and _differs(old.get(key), new[key])}
        if len(differ) < 2:
            return list(differ), gone
        return [key for key in new if key in differ], gone
    changed = [key for key, value in new.items() if _differs(old.get(key), value)]
    return changed, list(old.keys() - new.keys())


def _differs(prev: Any, value: Any) -> bool:
    """Whether a key's value changed: most are the very same object (left as they were)."""
    return prev is not value and prev != value


@dataclass
class _Backoff:
    failures: int = 0
    skip: int = 0
    last_error: str = ""


@dataclass
class _Pending:
    """State changes and tick rows not yet written (`Ticker.persist`)."""

    changed: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    removed: set[tuple[str, str]] = field(default_factory=set)
    ticks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TickResult:
    """What one tick did."""

    at: datetime
    window: Window | None
    findings: list[Finding] = field(default_factory=list)
    changes: list[IncidentChange] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    duration_ms: float = 0.0


class Ticker:
    """Runs detector ticks against one store. Not thread-safe: one tick at a time."""

    def __init__(
        self,
        engine: Engine,
        detectors: Sequence[Detector],
        *,
        incidents: IncidentManager | None = None,
        services: Callable[[], Mapping[str, ServiceInfo]] = dict,
    ) -> None:
        """`incidents` turns each tick's findings into incident changes (None: findings
        only); `services` returns the inventory's services (called every tick, so an
        inventory reload takes effect at the next one)."""
        self.engine = engine
        self.detectors = list(detectors)
        self.incidents = incidents
        self._state: dict[str, dict[str, dict[str, Any]]] = {}
        self._backoff: dict[str, _Backoff] = {d.name: _Backoff() for d in self.detectors}
        #: The detectors that say what their lines wait for (`waits`).
        self._waiters = [
            (d.name, ask) for d in self.detectors if (ask := getattr(d, "waits", None)) is not None
        ]
        self._last_end: datetime | None = None
        self._pending = _Pending()
        #: Where windows are read: the store, or a replay's own counts (`detector.windows`).
        self.windows: WindowReader = StoreWindows(engine, services)
        self._services = services
        #: The detectors' earliest due after the last evaluated minute (`next_due`), as
        #: computed since the last tick changed their state; None: not computed.
        self._detectors_due: tuple[datetime | None] | None = None
        #: Write state and tick rows only on `persist()` (a replay), not every tick.
        self.batched = False
        self._load()

    # ------------------------------------------------------------------ persistence

    def _load(self) -> None:
        versions = {d.name: d.state_version for d in self.detectors}
        self._state = {d.name: {} for d in self.detectors}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    DetectorState.detector,
                    DetectorState.key,
                    DetectorState.version,
                    DetectorState.state,
                )
            )
            for name, key, version, state in rows:
                if versions.get(name) == version and isinstance(state, dict):
                    self._state[name][key] = state
                elif name in versions:
                    log.info("discarding %s state %r of version %s", name, key, version)
            self._last_end = conn.execute(select(func.max(TickRow.window_end))).scalar()

    @property
    def last_window_end(self) -> datetime | None:
        return self._last_end

    def persist(self) -> None:
        """Write the detector state that changed and the ticks' rows since the last
        write, in one transaction. Every tick does, unless `batched` (a replay, which
        writes once per batch of ticks: nothing reads them in between)."""
        pending = self._pending
        if not (pending.changed or pending.removed or pending.ticks):
            return
        with self.engine.begin() as conn:
            for name, key in sorted(pending.removed):  # forgotten keys must not come back
                conn.execute(
                    delete(DetectorState).where(
                        DetectorState.detector == name, DetectorState.key == key
                    )
                )
            upsert(
                conn,
                DetectorState.__table__,
                list(pending.changed.values()),
                {"version": "replace", "state": "replace", "updated_at": "replace"},
            )
            executemany(
                conn, TickRow.__table__.insert(), TickRow.__table__, pending.ticks,
                cache_key="tick_row",
            )  # fmt: skip
        self._pending = _Pending()

    def next_due(self) -> datetime | None:
        """The earliest moment, after the last evaluated minute, at which a tick could
        change anything without a new line: a detector's due (`Detector.next_due`) or
        an incident's quiet period ending. None: nothing is due until lines come. What
        lets a backtest jump over quiet stretches while firing exactly what minute-by-
        minute ticks would have."""
        if self._last_end is None:
            return None
        after = self._last_end
        if self._detectors_due is None:  # the state changed since: ask again
            due = [
                d
                for det in self.detectors
                if (d := det.next_due(self._state[det.name], after)) is not None and d > after
            ]
            self._detectors_due = (min(due, default=None),)
        (first,) = self._detectors_due
        d = self.incidents.next_due() if self.incidents is not None else None
        if d is not None and d > after and (first is None or d < first):
            first = d
        return first

    def needs_tick(self, window: Window) -> bool:
        """Whether a tick over `window`'s lines (not yet evaluated) is needed at its end:
        a detector says so (`Detector.needs_tick`), cannot say (a plug-in without the
        method), or is failing. False: a replay may evaluate them with the next
        minutes' lines (`patience`), finding exactly what minute-by-minute ticks find."""
        for det in self.detectors:
            ask = getattr(det, "needs_tick", None)
            if ask is None or self._backoff[det.name].failures:
                return True
            try:
                if ask(window, self._state[det.name]):
                    return True
            except Exception:  # a detector's bug: evaluate at once, as without asking
                log.exception("detector %s could not tell whether it needs a tick", det.name)
                return True
        return False

    def patience(self, *, besides_waits: bool = False) -> timedelta:
        """How long lines that no detector needs at once may wait for a tick after the
        first of them: the least of the detectors' (`Detector.patience`; none without the
        method), at most the longest window a tick reads (`MAX_CATCHUP`). `besides_waits`:
        of the detectors that do not say what each line waits for (`waits`)."""
        services = self._services()
        least = MAX_CATCHUP
        telling = {name for name, _ in self._waiters} if besides_waits else set()
        for det in self.detectors:
            if det.name in telling:
                continue
            ask = getattr(det, "patience", None)
            minutes = ask(services) if ask is not None else 0
            if minutes is not None:
                least = min(least, timedelta(minutes=max(0, minutes)))
        return least

    def waits(self, window: Window) -> list[Wait] | None:
        """What the lines of `window` (not yet evaluated) are lines of, and how long after
        each key's last line it may fall due, for the detectors that say it
        (`Detector.waits`; keys prefixed by the detector's name): `detector.waiting`.
        None when one of them could not say: the lines wait `patience()` at most."""
        if not window.rows:
            return []
        services = self._services()
        out: list[Wait] = []
        for name, ask in self._waiters:
            try:
                out += [((name, key), m, w) for key, m, w in ask(window, services)]
            except Exception:  # a detector's bug: wait as without it
                log.exception("detector %s could not tell what its lines wait for", name)
                return None
        return out

    # ------------------------------------------------------------------ window

    def window_for(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The whole minutes a tick at `now` evaluates, or None when there are none."""
        end = floor_minute(now)
        start = self._last_end if self._last_end is not None else end - MINUTE
        start = max(start, end - MAX_CATCHUP)
        return (start, end) if start < end else None

    def prefetch(self, times: Sequence[datetime]) -> None:
        """Tell the window reader what the ticks at `times` (in order, none run yet)
        will read, so that it may read it at once (`WindowReader.prefetch`)."""
        if len(times) < 2:
            return
        first = self.window_for(times[0])
        end = floor_minute(times[-1])
        if first is not None and first[0] < end:
            self.windows.prefetch(first[0], end)

    def read_window(self, start: datetime, end: datetime) -> Window:
        """The window's counts, the text of their templates, the first sightings and
        the sources' health records."""
        return self.windows.read(start, end)

    # ------------------------------------------------------------------ tick

    def tick(self, now: datetime) -> TickResult:
        """Evaluate the minutes completed since the last tick. Never raises for a
        detector's bug (isolated, backed off, reported in `errors`)."""
        t0 = time.perf_counter()
        span = self.window_for(now)
        result = TickResult(at=now, window=None)
        if span is None:
            return result
        window = self.read_window(*span)
        result.window = window
        changed: list[dict[str, Any]] = []
        removed: list[tuple[str, str]] = []
        for det in self.detectors:
            bo = self._backoff[det.name]
            if bo.skip > 0:
                bo.skip -= 1
                result.skipped.append(det.name)
                continue
            old: State = self._state[det.name]
            try:
                found, new_state = det.evaluate(window, old, now)
            except Exception as exc:  # a detector bug must not stop detection
                bo.failures += 1
                bo.skip = min(2 ** (bo.failures - 1), MAX_BACKOFF_TICKS)
                bo.last_error = f"{type(exc).__name__}: {exc}"
                result.errors[det.name] = bo.last_error
                log.exception("detector %s failed; skipping it for %d ticks", det.name, bo.skip)
                continue
            bo.failures = 0
            result.findings.extend(found)
            # Batched (a replay): written once per batch, so equal values need no
            # comparison on every tick.
            keys, gone = state_changes(old, new_state, by_value=not self.batched)
            removed.extend((det.name, key) for key in gone)
            for key in keys:
                changed.append(
                    {
                        "detector": det.name,
                        "key": key[:255],
                        "version": det.state_version,
                        "state": new_state[key],
                        "updated_at": now,
                    }
                )
            # Kept as returned: a detector may know its own state again by identity
            # (`SilenceDetector`'s index of what falls due when).
            self._state[det.name] = new_state
        result.findings.sort(key=lambda f: (f.started_at, f.detector, f.subject))
        if self.incidents is not None:
            # Every tick, even without findings: incidents resolve after a quiet period.
            # Incidents are written before the detector state: a crash between the two
            # re-finds the same anomaly, which grouping and cooldowns absorb, rather than
            # losing it.
            result.changes = list(self.incidents.process(result.findings, now))
        result.duration_ms = (time.perf_counter() - t0) * 1000
        tick_row = {
            "at": now,
            "window_start": window.start,
            "window_end": window.end,
            "duration_ms": result.duration_ms,
            "findings": len(result.findings),
            "errors": result.errors or None,
        }
        pending = self._pending
        for name, key in removed:
            pending.changed.pop((name, key[:255]), None)
            pending.removed.add((name, key[:255]))
        for row in changed:
            pending.removed.discard((row["detector"], row["key"]))
            pending.changed[row["detector"], row["key"]] = row
        pending.ticks.append(tick_row)
        if not self.batched:
            self.persist()
        self._last_end = window.end
        self._detectors_due = None
        return result
