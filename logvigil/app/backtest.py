"""Backtest: replay recorded logs through exactly the daemon's code, on the log's clock.

Events are ingested in input order; whenever an event's time crosses the next
tick boundary (every `detector.tick_seconds` of log time), the ticker runs with
`now` = that boundary, as the daemon's scheduler would have at that moment, on
the window the ingestor has just counted (the replay is its store's only writer:
`Runtime.as_sole_writer`). Nothing here reads the wall clock. Ticking stops after
the last event's minute, so the end of a recording is not mistaken for every
service going silent.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from detector.detectors.base import Window
from detector.tick import TickResult
from detector.waiting import WaitingLines
from detector.windows import RecentWindows
from graph.inventory import Inventory
from investigate.service import load_report
from logvigil.app.runtime import Runtime, read_inventory
from logvigil.app.settings import Settings
from logvigil.core.events import LogEvent, Rejected
from logvigil.core.findings import Finding
from logvigil.core.timeutil import floor_minute
from logvigil.ingest.clock import (
    REORDER,
    ClockJump,
    ClockSkew,
    HostClocks,
    LineOrder,
    NewestFirst,
    ReorderBuffer,
    clock_findings,
    writer_of,
)
from logvigil.ingest.formats import ReadOptions, input_options, read_events
from logvigil.ingest.formats._common import UNTIMED
from logvigil.ingest.ingestor import IngestSummary
from logvigil.ingest.inputs import FUTURE_SLACK

#: Ticks run together (15 minutes of log time).
TICKS_PER_FLUSH = 15
#: Ticks between writes of the detector state and the tick rows (4 hours of log time):
#: nothing reads them during a replay, and a state key that changes every tick is
#: written once per batch. Each write is a transaction: every 15 ticks it cost 7% of
#: a replay of plemma_syslog.log (2026-12-01).
TICKS_PER_PERSIST = 240


@dataclass
class BacktestResult:
    """What a replay found. `incidents` are the incidents' JSON (see Incident.to_json)."""

    summary: IngestSummary
    ticks: int = 0
    first_event: datetime | None = None
    last_event: datetime | None = None
    incidents: list[dict[str, Any]] = field(default_factory=list)
    detector_errors: dict[str, str] = field(default_factory=dict)
    #: Every host the events came from (what "per host-day" counts).
    hosts: set[str] = field(default_factory=set)
    #: Backward jumps of a host's clock, whose lines were moved onto the timeline.
    clock_jumps: list[ClockJump] = field(default_factory=list)
    #: Programs found writing their times ahead of their host's, moved back.
    clock_skews: list[ClockSkew] = field(default_factory=list)
    #: Lines stamped before any clock was set (1970), placed and marked.
    unset_clock_lines: int = 0
    #: Hosts whose lines run newest first (`journalctl -r`, a web interface's export).
    newest_first: list[NewestFirst] = field(default_factory=list)

    @property
    def clock_findings(self) -> list[Finding]:
        """The clock trouble met, as information findings (they never page)."""
        return clock_findings(self.clock_jumps, self.clock_skews)

    @property
    def hours(self) -> float:
        if self.first_event is None or self.last_event is None:
            return 0.0
        return (self.last_event - self.first_event).total_seconds() / 3600


def replay(
    runtime: Runtime,
    items: Iterable[LogEvent | Rejected],
    *,
    on_tick: Callable[[TickResult], None] | None = None,
    every_minute: bool = False,
) -> BacktestResult:
    """Feed `items` into `runtime`, ticking on the events' own clock.

    Ticks run where lines need them and where something falls due (`Ticker.next_due`:
    a silence, a pending judgement, an incident's quiet period ending), not on every
    empty minute between, so a sparse log costs its lines, not its span. Lines that no
    detector needs at once (`Ticker.needs_tick`: no error, no first sighting, no
    primitive, no boot or stop) wait for the next tick, at most `Ticker.patience()`
    (the least time in which a line can make a silence due), so a dense log costs a
    tick per stretch of ordinary lines, not per minute. `every_minute` ticks every
    minute instead, as a daemon does (for comparison: both fire the same findings at
    the same moments).
    """
    step = timedelta(seconds=runtime.settings.detector.tick_seconds)
    ingestor = runtime.ingestor
    ticker = runtime.ticker
    ticker.batched = True  # state and tick rows are written once per batch
    if not every_minute:
        # Windows from what the ingestor counts and incidents in memory: no flush and
        # no query per tick.
        runtime.as_sole_writer()
    result = BacktestResult(summary=ingestor.summary)
    next_tick: datetime | None = None
    due: list[datetime] = []
    persisted = 0
    # Coalescing ticks: the first line that no tick has evaluated yet; what the waiting
    # lines are lines of, which may fall due some minutes after their own last line
    # (`Ticker.waits`); and how long the first may wait for the detectors that do not
    # say (their patience), or for all when one could not say (`waits_known`).
    waiting: datetime | None = None
    lines_wait = WaitingLines()
    unread: list[Window] = []  # fresh windows not yet in `lines_wait`
    waits_known = True
    patience, patience_rest = ticker.patience(), ticker.patience(besides_waits=True)
    windows = ticker.windows if isinstance(ticker.windows, RecentWindows) else None

    def run_due() -> None:
        nonlocal persisted, waiting, waits_known
        if due:
            waiting = None  # every line counted so far lies before the first of them
            lines_wait.clear()
            unread.clear()
            waits_known = True
        if every_minute:
            # One flush for several ticks: a tick at `now` reads only what lies before
            # `now`, so events of later minutes already in the store change nothing.
            ingestor.flush()
            ticker.prefetch(due)
        for now in due:
            res = runtime.tick(now)
            result.ticks += 1
            result.detector_errors.update(res.errors)
            if on_tick is not None:
                on_tick(res)
        due.clear()
        if result.ticks - persisted >= TICKS_PER_PERSIST:
            ticker.persist()
            persisted = result.ticks

    def next_due() -> datetime | None:
        """When the next tick must come without new lines: a detector's or an incident's
        due, or the last moment lines waiting for a tick may wait."""
        nonlocal waits_known
        d = ticker.next_due()
        if waiting is None:
            return d
        first = floor_minute(waiting)
        if not waits_known or (d is not None and d <= first + patience):
            # No line's wait ends before the least patience: d comes first.
            last = first + patience
            return last if d is None else min(d, last)
        for window in unread:  # read only where they may come first
            if (waits := ticker.waits(window)) is None:
                waits_known = False
                return next_due()
            lines_wait.add(waits)
        unread.clear()
        last = first + patience_rest
        if (key_due := lines_wait.deadline()) is not None:
            last = min(last, key_due)
        return last if d is None else min(d, last)

    def line_tick(at: datetime) -> None:
        """The tick at `at` after minutes with lines: run, or left to a later one."""
        if windows is not None and ticker.last_window_end is not None:
            fresh = windows.fresh(ticker.last_window_end, floor_minute(at))
            if not ticker.needs_tick(fresh):
                if fresh.rows:
                    unread.append(fresh)
                if (d := next_due()) is None or at < d:
                    return  # evaluated by the next tick, with the lines after them
        due.append(at)
        if windows is not None:
            run_due()  # at once: whether the next may wait depends on the state after it

    def quiet_until(start: datetime, limit: datetime) -> None:
        """Tick the moments of `[start, limit)` (on the tick grid) where something falls
        due; no line lies in the windows of those ticks but lines waiting before them."""
        run_due()
        at = start
        while (d := next_due()) is not None:
            if d > at:  # the first tick at or after d
                at += step * -((at - d) // step)
            if at >= limit:
                return
            due.append(at)
            run_due()
            at += step

    def feed(item: LogEvent) -> None:
        nonlocal next_tick, waiting
        ts = item.ts
        if next_tick is None:
            next_tick = floor_minute(ts) + step
            result.first_event = ts
        if ts >= next_tick:
            line_tick(next_tick)  # evaluates the lines before it, or leaves them waiting
            next_tick += step
            if ts >= next_tick and not every_minute:
                limit = next_tick + step * ((ts - next_tick) // step + 1)
                quiet_until(next_tick, limit)
                next_tick = limit
        while ts >= next_tick:
            due.append(next_tick)
            next_tick += step
        if len(due) >= TICKS_PER_FLUSH:
            run_due()
        if result.last_event is None or ts > result.last_event:
            result.last_event = ts
        result.hosts.add(item.host)
        if waiting is None:
            waiting = ts
        ingestor.add(item)
        ingestor.maybe_flush()

    # Lines are placed on the timeline (clock jumps, unset clocks: `HostClocks`) and
    # held `REORDER` behind the newest, so that lines a little out of order are
    # evaluated in their own minute.
    clocks = HostClocks()
    held: ReorderBuffer[LogEvent] = ReorderBuffer()
    unplaced: list[LogEvent] = []  # unset clocks before any set time

    def place(item: LogEvent) -> None:
        """Hold `item` where the timeline puts it (a line in trouble: a jump, a skew, an
        unset clock, or any line while unset ones wait for a set time)."""
        untimed = UNTIMED in item.attributes  # read before any stamped line of its input
        placed = clocks.place(
            item.host, item.ts, item.service, item.attributes.get("pid", ""), unset=untimed
        )
        if placed.jump is not None:
            result.clock_jumps.append(placed.jump)
        if (skew := placed.skew) is not None:
            result.clock_skews.append(skew)
            for ahead in held.take(lambda e: _writes_as(e, skew)):
                held.push(ahead.ts - skew.by, _moved(ahead, -skew.by))
        if placed.unset:
            if not untimed:
                result.unset_clock_lines += 1
            if clocks.point is None:
                unplaced.append(item)
                return
        for early in unplaced:  # placed at the first set time of the input, in order
            held.push(placed.ts, _moved(early, placed.ts - early.ts, True))
        unplaced.clear()
        if placed.shifted is not None:
            item = _moved(item, placed.shifted, placed.unset)
        held.push(item.ts, item)

    order = LineOrder()
    for item in items:
        if not isinstance(item, LogEvent):
            ingestor.add(item)
            continue
        order.see(item.host, item.ts)
        if not unplaced and clocks.in_step(item.ts):  # the usual line: placed as written
            held.push(item.ts, item)
        else:
            place(item)
        if clocks.point is not None:
            for ready in held.release(clocks.point - REORDER):
                feed(ready)
    for item in unplaced:  # no set time at all: their own timeline
        held.push(item.ts, item)
    for ready in held.release():
        feed(ready)
    result.newest_first = order.newest_first()

    if next_tick is not None and result.last_event is not None:
        # Evaluate the minute of the last event too, and no further.
        end = floor_minute(result.last_event) + timedelta(minutes=1)
        while next_tick <= end:
            due.append(next_tick)
            next_tick += step
    run_due()
    ticker.persist()
    ingestor.flush()
    incidents = sorted(runtime.incidents.list(limit=None), key=lambda i: i.id)
    result.incidents = [_with_report(runtime, i.to_json()) for i in incidents]
    return result


def _writes_as(event: LogEvent, skew: ClockSkew) -> bool:
    writer = writer_of(event.service, event.attributes.get("pid", ""))
    return (event.host, writer) == (skew.host, skew.writer)


def _moved(event: LogEvent, shift: timedelta, unset: bool = False) -> LogEvent:
    """`event` placed `shift` later on the timeline, marked with what was done (a line
    whose time was not its own, `UNTIMED`, keeps only that mark: its shift from the
    time of reading says nothing)."""
    if UNTIMED in event.attributes:
        return dataclasses.replace(event, ts=event.ts + shift)
    marks = {"clock_shift_s": round(shift.total_seconds())}
    if "clock_shift_s" in event.attributes:  # moved before: the shifts add up
        marks["clock_shift_s"] += event.attributes["clock_shift_s"]
    if unset:
        marks["clock_unset"] = True
    return dataclasses.replace(event, ts=event.ts + shift, attributes={**event.attributes, **marks})


def _with_report(runtime: Runtime, incident: dict[str, Any]) -> dict[str, Any]:
    """The incident's JSON plus the gist of its stored investigation report, if any."""
    report = load_report(runtime.engine, int(incident["id"]))
    if report is not None:
        rc = report.root_cause
        incident["report"] = {
            "root_cause": None
            if rc is None
            else {"service": rc.service, "host": rc.host, "confidence": rc.confidence},
            "no_root_cause": report.no_root_cause,
            "impact": [{"service": i.service, "status": i.status} for i in report.impact],
            "model": report.model,
        }
        if report.model != "none":  # what the model cost and did (timings vary by run)
            incident["report"] |= {
                "degraded": report.degraded,
                "tokens": dict(report.tokens),
                "duration_s": report.duration_s,
                "model_calls": [
                    {k: v for k, v in dataclasses.asdict(c).items() if k != "answer"}
                    for c in report.model_calls
                ],
            }
    return incident


def run_backtest(
    lines: Iterable[bytes],
    *,
    fmt: str = "auto",
    settings: Settings | None = None,
    inventory_path: Path | str | None = None,
    inventory: Inventory | None = None,
    db_url: str | None = None,
    source: str = "backtest",
    read_options: ReadOptions | None = None,
    on_tick: Callable[[TickResult], None] | None = None,
    every_minute: bool = False,
) -> BacktestResult:
    """Replay raw log lines (bytes) through a fresh runtime; returns what it found.

    With `db_url` everything stays in that database (for `incidents` and
    `investigate`); without it a temporary SQLite file is used and removed.
    `read_options` says what the lines do not (their zone, the year they were
    written in); by default they are `input_options(source)`: a line without a host
    belongs to the input (`source`), never to the machine running the replay.
    """
    settings = settings or Settings()
    if inventory is None:
        path = Path(inventory_path) if inventory_path else settings.graph.inventory
        inventory = read_inventory(path)
    with tempfile.TemporaryDirectory(prefix="logvigil-backtest-") as tmp:
        url = db_url or f"sqlite:///{Path(tmp) / 'backtest.db'}"
        runtime = Runtime(settings, db_url=url, inventory=inventory)
        try:
            # Lines read now were written before now (a line dated 2199 is rejected).
            options = read_options or input_options(
                source, not_after=datetime.now(UTC) + FUTURE_SLACK
            )
            items = read_events(lines, fmt, options)
            return replay(runtime, items, on_tick=on_tick, every_minute=every_minute)
        finally:
            runtime.close()
