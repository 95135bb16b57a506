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
  input when nothing came before it, and marked (`clock_unset`). So is a line whose
  time is not its own (`unset`: a raw line before any stamped one, read at the time of
  reading): a banner, or the end of a stack trace at the top of a rotated file.

- A line more than `reorder` **ahead** of the timeline is a forward step, which
  cannot be told at once from a quiet stretch (the replay jumps over quiet time at no
  cost). It is one program's **skew** when the very next line of another program or
  host is back at the time before the step: a chrooted BIND `named` without
  `/etc/localtime` writes UTC among its host's local times, so its lines run hours
  ahead of its neighbours'. From then on that program's lines are moved back by the
  difference (rounded to the quarter hour when within two minutes of one, as every
  time zone's offset is), the timeline returns to where it was, and the caller moves
  the program's lines it still holds (`Placement.skew`). A step confirmed by another
  program's line at the new time is a real forward jump, or quiet time: nothing to do.

A time after the reference (`not_after`, the moment the input is read) is impossible
and is rejected by the caller.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from logvigil.core.events import Severity
from logvigil.core.findings import Finding

#: Lines this far behind the newest are reordered, not a clock jump.
REORDER = timedelta(minutes=5)
#: Earlier times are a clock that was never set (no system logged before this).
PLAUSIBLE = datetime(2000, 1, 1, tzinfo=UTC)
#: Every time zone's offset is a multiple of this.
_ZONE_STEP = timedelta(minutes=15)
_ZONE_SLACK = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class ClockJump:
    """A host's clock found behind the timeline by `by`, at `at` (timeline time)."""

    host: str
    at: datetime
    by: timedelta


@dataclass(frozen=True, slots=True)
class ClockSkew:
    """One program of a host found writing its times `by` ahead of its neighbours,
    at `at` (timeline time): its lines are moved back by `by`."""

    host: str
    writer: str  # the process: `service[pid]`, or the service when no pid is known
    service: str
    at: datetime
    by: timedelta


@dataclass(frozen=True, slots=True)
class Placement:
    ts: datetime
    #: Set for a line whose time was moved: the shift (placed minus written).
    shifted: timedelta | None = None
    unset: bool = False
    jump: ClockJump | None = None
    #: Set when this line showed another program's skew: the caller moves that
    #: program's lines it still holds by `-skew.by`.
    skew: ClockSkew | None = None


@dataclass(frozen=True, slots=True)
class _Step:
    """A forward step of the timeline by one program, not yet judged."""

    host: str
    writer: str
    service: str
    before: datetime  # the timeline's point before the step
    to: datetime  # the stepping line's time


def writer_of(service: str, pid: str = "") -> str:
    """The process that wrote a line, as a skew is kept: `service[pid]`, or `service`."""
    return f"{service}[{pid}]" if pid else service


@dataclass
class HostClocks:
    """Each host's offset from the timeline, each skewed program's, and the timeline's
    newest placed time."""

    reorder: timedelta = REORDER
    point: datetime | None = None
    offsets: dict[str, timedelta] = field(default_factory=dict)
    skews: dict[tuple[str, str], timedelta] = field(default_factory=dict)  # (host, writer)
    _step: _Step | None = None

    def place(
        self, host: str, ts: datetime, service: str = "", pid: str = "", *, unset: bool = False
    ) -> Placement:
        """The place of a line of `host` written by `service` (process `pid`) at `ts`.
        Unset clocks (`ts` before `PLAUSIBLE`, or `unset`: a time that is not the line's
        own) before any set time get `point` None: the caller holds them. A time zone
        belongs to a process: the daemon and its init script's "named startup
        succeeded" may disagree, so a skew is the process's, `service[pid]`."""
        if self.in_step(ts):
            return Placement(ts)
        if unset or ts < PLAUSIBLE:
            if self.point is None:
                return Placement(ts, unset=True)
            return Placement(self.point, shifted=self.point - ts, unset=True)
        written = ts
        writer = writer_of(service, pid)
        skew = self._judge_step(host, writer, ts)
        by = self.skews.get((host, writer))
        if by is not None:
            if self.point is not None and abs(ts - self.point) <= self.reorder:
                del self.skews[host, writer]  # in step again: its zone was fixed
            else:
                ts -= by
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
            if self.point is not None and placed - self.point > self.reorder:
                self._step = _Step(host, writer, service, self.point, placed)
            self.point = placed
        shifted = placed - written if placed != written else None
        return Placement(placed, shifted=shifted, jump=jump, skew=skew)

    def in_step(self, ts: datetime) -> bool:
        """Place the usual line: True when a line at `ts` is in step with a timeline that
        knows no trouble (no pending step, skew or offset), which it then advances; its
        place is `ts` (`place` would answer `Placement(ts)`). False: `place` it."""
        point = self.point
        if (
            self._step is None
            and not self.skews
            and not self.offsets
            and point is not None
            and point - self.reorder <= ts <= point + self.reorder
            and ts >= PLAUSIBLE
        ):
            if ts > point:
                self.point = ts
            return True
        return False

    def _judge_step(self, host: str, writer: str, ts: datetime) -> ClockSkew | None:
        """Judge the pending forward step on the next line of another program: back at
        the time before the step (the stepping program is skewed: its skew is
        recorded, the point returns) or not (a real step: forgotten)."""
        step = self._step
        if step is None or (host, writer) == (step.host, step.writer):
            return None
        self._step = None
        if (
            ts >= step.to - self.reorder  # in step with the new time: a real step
            or abs(ts - step.before) > self.reorder
            or (host, writer) in self.skews
        ):
            return None
        by = step.to - step.before
        zone = _ZONE_STEP * round(by / _ZONE_STEP)
        if abs(by - zone) <= _ZONE_SLACK:
            by = zone
        # A process already known skewed that still steps ahead (a pid used again by
        # the same daemon after a reboot, in another season) is further off.
        by += self.skews.get((step.host, step.writer), timedelta(0))
        self.skews[step.host, step.writer] = by
        self.point = step.before
        return ClockSkew(step.host, step.writer, step.service, step.before, by)

    def _behind(self) -> datetime:
        assert self.point is not None
        return self.point - self.reorder


#: A host whose lines step back in time this share of the steps that change the time,
#: over at least `_NEWEST_FIRST_STEPS` of them, is read newest first (`LineOrder`).
_NEWEST_FIRST_SHARE = 0.8
_NEWEST_FIRST_STEPS = 20


@dataclass(frozen=True, slots=True)
class NewestFirst:
    """A host whose lines run newest first: `back` of its `steps` time steps go back."""

    host: str
    back: int
    steps: int


@dataclass
class LineOrder:
    """Which way each host's lines run, as written (before any placing).

    A log is written oldest first: its time steps back only between processes that
    interleave (a line buffered a moment) or where the clock jumped, a few steps among
    many. `journalctl -r`, and the exports of web interfaces (Graylog, Kibana, Loki's
    Grafana panel) that list the newest line first, step back at nearly every line: a
    replay of such a file collapses onto one stretch of timeline, all its lines "moved
    onto the timeline". `newest_first` names the hosts whose lines do that, so that the
    user can be told to reverse the file.
    """

    _last: dict[str, datetime] = field(default_factory=dict)
    _back: dict[str, int] = field(default_factory=dict)
    _steps: dict[str, int] = field(default_factory=dict)

    def see(self, host: str, ts: datetime) -> None:
        last = self._last.get(host)
        self._last[host] = ts
        if last is None or last == ts:
            return
        self._steps[host] = self._steps.get(host, 0) + 1
        if ts < last:
            self._back[host] = self._back.get(host, 0) + 1

    def newest_first(self) -> list[NewestFirst]:
        return [
            NewestFirst(host, back, steps)
            for host, steps in sorted(self._steps.items())
            if (back := self._back.get(host, 0)) >= _NEWEST_FIRST_STEPS
            and back >= _NEWEST_FIRST_SHARE * steps
        ]


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

    def take(self, which: Callable[[T], bool]) -> list[T]:
        """Remove and return, in time order, the held items `which` selects."""
        taken: list[T] = []
        keys: list[tuple[datetime, int]] = []
        items: list[T] = []
        for key, item in zip(self._keys[self._head :], self._items[self._head :], strict=True):
            if which(item):
                taken.append(item)
            else:
                keys.append(key)
                items.append(item)
        if taken:
            self._keys, self._items, self._head = keys, items, 0
        return taken

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


#: Jumps of one host by about the same amount this close together are one finding.
_SAME_JUMP = timedelta(hours=1)


def clock_findings(jumps: Sequence[ClockJump], skews: Sequence[ClockSkew]) -> list[Finding]:
    """The replay's clock trouble as information findings (never a page): one per
    host's run of jumps by about the same amount (a host whose lines keep disagreeing
    by the same hours jumps many times in a row), one per program whose processes
    were found skewed by the same amount (each start of a chrooted daemon)."""
    runs: list[tuple[ClockJump, datetime, int]] = []  # (first jump, last at, count)
    for jump in jumps:
        for i in range(len(runs) - 1, -1, -1):
            first, last, n = runs[i]
            if (
                first.host == jump.host
                and abs(first.by - jump.by) <= REORDER
                and jump.at - last <= _SAME_JUMP
            ):
                runs[i] = (first, jump.at, n + 1)
                break
        else:
            runs.append((jump, jump.at, 1))
    same: dict[tuple[str, str, timedelta], list[ClockSkew]] = {}
    for skew in skews:
        same.setdefault((skew.host, skew.service, skew.by), []).append(skew)
    found = [_jump_finding(*run) for run in runs] + [_skew_finding(s) for s in same.values()]
    return sorted(found, key=lambda f: (f.started_at, f.subject))


def _hours(by: timedelta) -> str:
    h = by.total_seconds() / 3600
    return f"{h:.1f} h" if h >= 1 else f"{round(by.total_seconds() / 60)} min"


def _jump_finding(jump: ClockJump, last: datetime, count: int) -> Finding:
    summary = (
        f"{jump.host}'s clock jumped back {_hours(jump.by)} at {jump.at:%Y-%m-%d %H:%M} UTC; "
        "its later lines were moved onto the timeline"
    )
    if count > 1:
        summary += (
            f" ({count} times until {last:%H:%M}: its lines disagree by that much, a program "
            "writing another time zone or a clock stepped back and forth)"
        )
    return Finding(
        detector="clock",
        at=last,
        started_at=jump.at,
        service=None,
        host=jump.host,
        severity=Severity.INFO,
        summary=summary,
        kind="clock_jump",
        evidence={"by_s": round(jump.by.total_seconds()), "count": count},
    )


def _skew_finding(skews: Sequence[ClockSkew]) -> Finding:
    first, last = skews[0], skews[-1]
    name = first.service or "lines"
    summary = (
        f"{first.host}'s {name} wrote times {_hours(first.by)} ahead of the host's other "
        f"programs from {first.at:%Y-%m-%d %H:%M} UTC (a time zone of its own?); its lines "
        f"were moved back {_hours(first.by)}"
    )
    if len(skews) > 1:
        summary += f" ({len(skews)} processes, the last from {last.at:%Y-%m-%d %H:%M})"
    return Finding(
        detector="clock",
        at=last.at,
        started_at=first.at,
        service=first.service or None,
        host=first.host,
        severity=Severity.INFO,
        summary=summary,
        kind="clock_skew",
        evidence={"by_s": round(first.by.total_seconds()), "count": len(skews)},
    )
