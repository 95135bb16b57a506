"""The detector plug-in shape: a frozen config, persisted state, and a pure `evaluate`.

A tick reads the per-minute counts of its window from the store into a
`Window`, hands each detector the window, its persisted state and `now`, and
gets back findings and the new state. Detectors never read the wall clock,
the database or the network: everything they know is in these arguments, which
is what makes `backtest` replay exactly what the daemon would have done.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple, Protocol

from logvigil.core.configbase import Strict
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.store.source_health import SourceHealthRecord

#: A detector's state: key (a service, a host, "" for global) -> a JSON-able dict.
State = Mapping[str, Mapping[str, Any]]

MINUTE = timedelta(minutes=1)


class CountRow(NamedTuple):
    """Lines of one template in one minute, for one (host, service, severity). A named
    tuple: a window holds one per active key, and a replay builds them every tick."""

    minute: datetime
    host: str
    service: str
    template_id: int
    severity: Severity
    count: int


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """What the inventory says of a service (empty when there is no inventory).

    `heartbeat`: the inventory's `expect: {every: ...}`, the longest the service may
    go without a line on each of its `hosts` (None: its rhythm is learnt instead).
    """

    name: str
    hosts: tuple[str, ...] = ()
    quiet: bool = False
    heartbeat: timedelta | None = None


@dataclass(frozen=True)
class Window:
    """The statistics of whole minutes `[start, end)`, read once per tick.

    `rows`: every per-minute count in the window. `templates`: the text of every
    template in `rows`. `new_pairs`: (service, template id) pairs whose first
    sighting in that service falls inside the window, with that first time.
    `services`: the inventory's services (may be empty). `sources`: the health every
    ingesting process last recorded for its sources (stale ones included: whether a
    record still counts at `now` is the detector's to decide). Nothing here grows with
    raw log volume: it is bounded by active (minute, host, service, template) and by
    the configured sources.
    """

    start: datetime
    end: datetime
    rows: tuple[CountRow, ...] = ()
    templates: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    new_pairs: Mapping[tuple[str, int], datetime] = field(
        default_factory=lambda: MappingProxyType({})
    )
    services: Mapping[str, ServiceInfo] = field(default_factory=lambda: MappingProxyType({}))
    sources: tuple[SourceHealthRecord, ...] = ()

    def part(self, start: datetime, end: datetime) -> Window:
        """The window of the minutes `[start, end)` inside this one (rows are in minute
        order): what a tick over them would have read."""
        keys = [r.minute for r in self.rows]
        rows = self.rows[bisect_left(keys, start) : bisect_left(keys, end)]
        return Window(
            start=start,
            end=end,
            rows=rows,
            templates={r.template_id: self.templates[r.template_id] for r in rows},
            new_pairs={k: t for k, t in self.new_pairs.items() if start <= t < end},
            services=self.services,
            sources=self.sources,
        )

    def reports_unreachable(self) -> bool:
        """Whether a source's health record says a host cannot be reached."""
        return any(r.host is not None and r.unreachable_since is not None for r in self.sources)

    def minutes(self) -> list[datetime]:
        """Every minute of the window, in order (also those without any line)."""
        out, m = [], self.start
        while m < self.end:
            out.append(m)
            m += MINUTE
        return out


class StateDraft(dict[str, dict[str, Any]]):
    """A detector's new state, begun as a copy of the old one (`StateDraft(state)`), that
    remembers the keys assigned, deleted or popped since (`touched`).

    The tick then compares only those keys with the old state instead of every key: a
    state holds a key per service or host learnt, while a tick changes a few.
    Values are replaced, never changed in place (they are shared with the old state), so
    a key not touched holds the old value. The other ways of changing a dict are refused.
    """

    __slots__ = ("touched",)

    def __init__(self, state: State) -> None:
        super().__init__(state)
        self.touched: set[str] = set()

    def __setitem__(self, key: str, value: dict[str, Any]) -> None:
        self.touched.add(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.touched.add(key)
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        self.touched.add(key)
        return super().pop(key, *default)

    def _untracked(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a StateDraft changes by item assignment, del and pop only")

    update = setdefault = popitem = clear = __ior__ = _untracked  # type: ignore[assignment]


class Detector(Protocol):
    """A detector: built from its frozen config; `evaluate` is pure.

    `evaluate` returns the findings of this window and the *whole* new state
    (the tick persists only the keys whose value changed; a `StateDraft` tells it
    which keys may have). It must not raise for any window; a bug that does is
    isolated and backed off by the tick.
    """

    #: The model of its `detector.<name>:` config section (with an `enabled` field).
    config_model: ClassVar[type[Strict]]
    name: ClassVar[str]
    #: Bumped when the state's shape changes: state of another version is discarded.
    state_version: ClassVar[int]
    config: Strict

    def __init__(self, config: Any) -> None: ...

    def evaluate(
        self, window: Window, state: State, now: datetime
    ) -> tuple[list[Finding], dict[str, dict[str, Any]]]: ...

    def next_due(self, state: State, after: datetime) -> datetime | None:
        """The earliest window end later than `after` at which a tick, given `state`
        and no new line, could change what this detector finds now or later (a silence
        falling due, a pending judgement, a state to forget); None when only new lines
        can. A backtest ticks only at these moments and where there are lines, so it
        must never be late; an early answer only costs a tick."""
        ...

    def needs_tick(self, window: Window, state: State) -> bool:
        """Whether the lines of `window` (minutes not yet evaluated, each row's count
        not its total) need a tick at its end: a tick could find something in them,
        or what they change depends on when they are evaluated. False lets a backtest
        evaluate them together with the next minutes' lines (a window of several
        minutes, folded minute by minute), at most `patience` minutes later, which
        finds exactly what minute-by-minute ticks find. When unsure: True."""
        ...

    def patience(self, services: Mapping[str, ServiceInfo]) -> int | None:
        """How many minutes after a line its evaluation may wait when `needs_tick` let
        it: the least time in which a line can make a tick due (`next_due`) that would
        find something. None: no limit of this detector's. A detector may also say, per
        row, what its lines wait for: `waits(window, services)` returns, for each
        row, (a key: what the row is a line of, its epoch minute, the minutes after the
        key's last line before it can fall due), and replaces `patience` in a replay
        (`detector.waiting`; the silence detector's pairs and hosts)."""
        ...


class ActsOnLines:
    """For a detector that finds nothing, and forgets nothing that matters, without new
    lines (a spike, a first-seen template, a primitive): no tick is due between lines."""

    def next_due(self, state: State, after: datetime) -> datetime | None:
        return None

    def patience(self, services: Mapping[str, ServiceInfo]) -> int | None:
        return None
