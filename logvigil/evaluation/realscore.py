"""Score a backtest of a real log file against its hand-made labels (pure).

The rules (docs/evaluation.md), for each labelled event with its window
`[start - LEAD, end + TRAIL]`:

- an incident is *about* the event when it opened inside the window, or when one
  of its triggers (a finding joining it) falls inside it: a problem may open an
  incident or be part of one;
- a must-page event is *found* when an incident about it opened, or was joined,
  within `DETECT_WITHIN` of the event's start; the time to detect is from the
  start to that moment (0 when the incident opened before the start, inside LEAD);
- every incident about no must-page and no may-page event is a *false page*;
  false pages are counted per host-day (the file's hosts times its days);
- incidents per event counts the incidents about each must-page event: a storm
  paged once per killed process is a fault of its own;
- a found must-page event is *named* right when an incident about it that paged
  within `DETECT_WITHIN` is about the event's host and its root (the report's root
  cause when there is a report, else the suspected root) is one of the event's
  `services`, or the host itself for a problem of the whole machine (`HOST_KINDS`:
  an unclean reboot, a crash). Two problems a second apart (a crash, and a unit
  that fails at the next boot) are two pages: each event is named by its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from logvigil.core.timeutil import parse_iso
from logvigil.evaluation.labels import LabelEvent, LabelFile

#: An incident may open this long before an event's first line (clocks, minute buckets).
LEAD = timedelta(minutes=2)
#: ... and this long after its last line and still be about it.
TRAIL = timedelta(minutes=15)
#: A must-page event must page within this long of its start.
DETECT_WITHIN = timedelta(minutes=10)
#: Requirements over a whole set of files (issue 11).
MAX_FALSE_PER_HOST_DAY = 0.1
MAX_INCIDENTS_PER_EVENT = 3
#: Label kinds about a whole machine: an incident rooted at the host names them right.
HOST_KINDS = frozenset({"unclean_reboot", "crash", "host_silent", "host_down"})


@dataclass(frozen=True, slots=True)
class PagedIncident:
    """The part of a backtest incident (its JSON) that scoring reads."""

    id: int
    opened_at: datetime
    title: str
    times: tuple[datetime, ...]  # opened_at and every trigger's time
    hosts: tuple[str, ...]
    services: tuple[str, ...]
    root: str | None
    #: The investigation report's root cause service, when a report was written.
    report_root: str | None = None

    @property
    def named(self) -> str | None:
        """What the incident names as the culprit: the report's root, else the suspected one."""
        return self.report_root or self.root

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> PagedIncident:
        opened = parse_iso(obj["opened_at"])
        triggers = obj.get("triggers") or []
        root = obj.get("suspected_root") or {}
        first = triggers[0].get("summary", "") if triggers else ""
        report = obj.get("report") or {}
        return cls(
            id=int(obj["id"]),
            opened_at=opened,
            title=str(first),
            times=(opened, *(parse_iso(t["at"]) for t in triggers if t.get("at"))),
            hosts=tuple(obj.get("hosts") or ()),
            services=tuple(obj.get("services") or ()),
            root=root.get("service") or (f"host:{root['host']}" if root.get("host") else None),
            report_root=(report.get("root_cause") or {}).get("service"),
        )

    def names(self, event: LabelEvent) -> bool:
        """Whether this incident names `event`'s host and the service or subsystem at fault."""
        culprit = self.named
        if culprit == f"host:{event.host}":
            return event.kind in HOST_KINDS
        return event.host in self.hosts and culprit in event.services


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """What became of one labelled event."""

    event: LabelEvent
    must: bool
    start: datetime
    incidents: tuple[int, ...]  # ids of the incidents about it
    detected_after: timedelta | None  # None: not paged within DETECT_WITHIN
    #: Whether the incident that found it names the right host and culprit (None: not found).
    named: bool | None = None

    @property
    def found(self) -> bool:
        return self.detected_after is not None


@dataclass(frozen=True, slots=True)
class FileScore:
    """One file's score."""

    file: str
    days: float
    hosts: int
    lines: int
    incidents: int
    events: tuple[EventOutcome, ...]
    false_pages: tuple[PagedIncident, ...]

    @property
    def must(self) -> list[EventOutcome]:
        return [e for e in self.events if e.must]

    @property
    def found(self) -> int:
        return sum(e.found for e in self.must)

    @property
    def named(self) -> int:
        return sum(bool(e.named) for e in self.must)

    @property
    def host_days(self) -> float:
        return max(1, self.hosts) * self.days

    @property
    def false_per_host_day(self) -> float:
        return len(self.false_pages) / self.host_days

    @property
    def max_incidents_per_event(self) -> int:
        return max((len(e.incidents) for e in self.must), default=0)


def _about(incident: PagedIncident, lo: datetime, hi: datetime) -> datetime | None:
    """The first moment `incident` is about the window `[lo, hi]` (it opened or was joined
    inside it), or None."""
    inside = [t for t in incident.times if lo <= t <= hi]
    return min(inside) if inside else None


def score_file(
    labels: LabelFile,
    incidents: Sequence[Mapping[str, Any]],
    *,
    hosts: int,
    lines: int,
) -> FileScore:
    """Score the incidents a backtest of `labels.file` opened (their JSON shape)."""
    paged = [PagedIncident.from_json(i) for i in incidents]
    outcomes: list[EventOutcome] = []
    explained: set[int] = set()
    for must, events in ((True, labels.must_page), (False, labels.may_page)):
        for event in events:
            start, end = labels.utc(event.start), labels.utc(event.end)
            lo, hi = start - LEAD, max(start, end) + TRAIL
            about: list[tuple[datetime, int, PagedIncident]] = []
            for inc in paged:
                moment = _about(inc, lo, hi)
                if moment is not None:
                    about.append((moment, inc.id, inc))
                    explained.add(inc.id)
            in_time = [a for a in about if a[0] - start <= DETECT_WITHIN]
            detected, named = None, None
            if in_time:
                first = min(in_time, key=lambda a: (a[0], a[1]))
                detected = max(first[0] - start, timedelta(0))
                named = any(inc.names(event) for _, _, inc in in_time)
            ids = tuple(sorted(i for _, i, _ in about))
            outcomes.append(EventOutcome(event, must, start, ids, detected, named))
    return FileScore(
        file=labels.file,
        days=labels.days,
        hosts=hosts,
        lines=lines,
        incidents=len(paged),
        events=tuple(outcomes),
        false_pages=tuple(i for i in paged if i.id not in explained),
    )


@dataclass(frozen=True, slots=True)
class RealSummary:
    """Scores of several files together, and whether the requirements hold."""

    files: tuple[FileScore, ...]

    @property
    def must(self) -> int:
        return sum(len(f.must) for f in self.files)

    @property
    def found(self) -> int:
        return sum(f.found for f in self.files)

    @property
    def named(self) -> int:
        return sum(f.named for f in self.files)

    @property
    def false_pages(self) -> int:
        return sum(len(f.false_pages) for f in self.files)

    @property
    def host_days(self) -> float:
        return sum(f.host_days for f in self.files)

    @property
    def false_per_host_day(self) -> float:
        return self.false_pages / self.host_days if self.host_days else 0.0

    @property
    def max_incidents_per_event(self) -> int:
        return max((f.max_incidents_per_event for f in self.files), default=0)

    @property
    def requirements(self) -> list[tuple[str, bool]]:
        """(requirement, met) for each requirement of the real-log evaluation."""
        return [
            (f"every must-page event paged within {DETECT_WITHIN.seconds // 60} min",
             self.found == self.must),
            ("every must-page incident names the right host and culprit",
             self.named == self.must),
            (f"at most {MAX_FALSE_PER_HOST_DAY} false pages per host-day",
             self.false_per_host_day <= MAX_FALSE_PER_HOST_DAY),
            (f"no must-page event in more than {MAX_INCIDENTS_PER_EVENT} incidents",
             self.max_incidents_per_event <= MAX_INCIDENTS_PER_EVENT),
        ]  # fmt: skip

    @property
    def passed(self) -> bool:
        return all(ok for _, ok in self.requirements)
