"""Where a line belongs on the replay's timeline when its host's clock misbehaves (pure).

Real machines' clocks jump. A machine that keeps its real-time clock in local time
boots eight hours "back"; NTP then steps it forward again; a Raspberry Pi without a
real-time clock logs 1970 until NTP syncs. A replay that only moves forward would
store the lines after a backward jump in minutes it has already evaluated, and no
detector would ever see them. `HostClocks.place` gives each line its place:

- A line at most `reorder` behind the newest placed line is in order (lines of
  several hosts, or of one host's daemons, interleave a little): its own time.
  The replay holds that much back before it evaluates a minute (`ReorderBuffer`).
- A line further behind starts a **backward clock jump** on its host: from it on the
  host's lines are shifted by the jump, so they continue at the timeline's current
  point ("db-01's clock jumped back 8 h at 03:12"), until a line of the host is
  back in step (its own time is no longer behind): the clock was set right again.
- A line stamped before `PLAUSIBLE` (1 January 2000) is a clock that was never set:
  it is placed at its host's current point in time, or at the first set time of the
  input when nothing came before it, and marked (`clock_unset`).

A forward jump cannot be told from a quiet stretch and needs no handling: the replay
jumps over quiet time at no cost. A time after the reference (`not_after`, the moment
the input is read) is impossible and is rejected by the caller.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

#: Lines this far behind the newest are reordered, not a clock jump.
REORDER = timedelta(minutes=5)
#: Earlier times are a clock that was never set (no system logged before this).
PLAUSIBLE = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ClockJump:
    """A host's clock found behind the timeline by `by`, at `at` (timeline time)."""

    host: str
    at: datetime
    by: timedelta


@dataclass(frozen=True, slots=True)
class Placement:
    ts: datetime
    #: Set for a line whose time was moved: the shift (placed minus written).
    shifted: timedelta | None = None
    unset: bool = False
    jump: ClockJump | None = None


@dataclass
class HostClocks:
    """Each host's offset from the timeline, and the timeline's newest placed time."""

    reorder: timedelta = REORDER
    point: datetime | None = None
    offsets: dict[str, timedelta] = field(default_factory=dict)

    def place(self, host: str, ts: datetime) -> Placement:
        """The place of a line of `host` written at `ts`. Unset clocks (`ts` before
        `PLAUSIBLE`) before any set time get `point` None: the caller holds them."""
        if ts < PLAUSIBLE:
            if self.point is None:
                return Placement(ts, unset=True)
            return Placement(self.point, shifted=self.point - ts, unset=True)
        off = self.offsets.get(host)
        if off is not None and ts >= self._behind():
            del self.offsets[host]  # back in step: the clock was set right
            off = None
        placed = ts + off if off is not None else ts
        jump = None
        if self.point is not None and placed < self._behind():
            by = self.point - placed
            self.offsets[host] = (off or timedelta(0)) + by
            jump = ClockJump(host, self.point, by)
            placed = self.point
        if self.point is None or placed > self.point:
            self.point = placed
        shifted = placed - ts if placed != ts else None
        return Placement(placed, shifted=shifted, jump=jump)

    def _behind(self) -> datetime:
        assert self.point is not None
        return self.point - self.reorder


class ReorderBuffer[T]:
    """Items held in time order until released: appending in order costs nothing more
    than a list append (the usual case), a late item is inserted in its place."""

    def __init__(self) -> None:
        self._keys: list[tuple[datetime, int]] = []
        self._items: list[T] = []
        self._head = 0
        self._seq = 0

    def __len__(self) -> int:
        return len(self._items) - self._head

    def push(self, ts: datetime, item: T) -> None:
        key = (ts, self._seq)
        self._seq += 1
        keys = self._keys
        if len(keys) == self._head or key >= keys[-1]:
            keys.append(key)
            self._items.append(item)
        else:
            i = bisect_right(keys, key, lo=self._head)
            keys.insert(i, key)
            self._items.insert(i, item)

    def release(self, until: datetime | None = None) -> Iterator[T]:
        """Yield, in time order, the items at or before `until` (None: every item)."""
        keys, items = self._keys, self._items
        while self._head < len(items) and (until is None or keys[self._head][0] <= until):
            item = items[self._head]
            self._head += 1
            yield item
        if self._head > 4096 and self._head * 2 > len(items):
            del keys[: self._head], items[: self._head]
            self._head = 0
