"""Score the detectors against scenarios with known faults.

`score(expected, incidents, hours=...)` is pure: given the faults a scenario
holds and the incidents a backtest opened (its JSON shape, one dict per
incident), it says which faults were detected and how fast, which incidents
were false, how many incidents each fault caused and whether the suspected
root was right; `SuiteMetrics` adds scores up and says which requirements pass.
Running a suite is `evaluation.suite`; printing a score, `evaluation.rendering`.

Matching, precisely:

- An incident *covers* a fault when the fault's service is among its
  services (a host-only fault: the host among its hosts). It *touches* the
  fault when it covers it or holds one of the fault's `affected` services.
- An incident is *about* a fault when it touches it and has a trigger in the
  fault's window `[at, max(at, end) + MATCH_HORIZON]`.
- Detection time: the first trigger at or after `at` of an incident that
  covers the fault and is about it; detected in time when within
  `DETECT_WITHIN` (`SILENCE_DETECT_WITHIN` for silences).
- A false incident is about no fault; incidents per fault counts those about it.
- Root: the suspected root of the detecting incident names the expected
  `root` service (a host-only fault without root: names the host).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from logvigil.evaluation.scenario import ExpectedFault

#: A fault is detected in time within two ticks of its start.
DETECT_WITHIN = timedelta(minutes=2)
#: A silence can only be noticed once the learned cadence is overdue.
SILENCE_DETECT_WITHIN = timedelta(minutes=30)
#: After a fault ends, incidents touching it still belong to it for this long.
MATCH_HORIZON = timedelta(hours=1)
#: The share of faults whose investigation report must name the expected root (issue 5).
REPORT_ROOT_TARGET = 0.9


# --------------------------------------------------------------------------- incidents


@dataclass(frozen=True, slots=True)
class Trigger:
    detector: str
    service: str | None
    host: str | None
    at: datetime
    summary: str


@dataclass(frozen=True, slots=True)
class ScoredIncident:
    """The part of a backtest incident (JSON) that scoring reads."""

    id: str
    opened_at: datetime
    services: frozenset[str]
    hosts: frozenset[str]
    triggers: tuple[Trigger, ...]
    root_service: str | None
    root_host: str | None
    #: From the incident's investigation report, when the backtest attached one.
    has_report: bool = False
    report_root: str | None = None
    report_impact: frozenset[str] = frozenset()

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ScoredIncident:
        """Parse one incident; raises ValueError naming the missing or bad field."""
        try:
            triggers = tuple(
                Trigger(
                    str(t.get("detector", "")),
                    t.get("service"),
                    t.get("host"),
                    _time(t["at"]),
                    str(t.get("summary", "")),
                )
                for t in obj.get("triggers") or ()
            )
            opened = _time(obj["opened_at"])
            root = obj.get("suspected_root") or {}
            report = obj.get("report") or {}
            report_root = (report.get("root_cause") or {}).get("service")
            return cls(
                id=str(obj["id"]),
                opened_at=opened,
                services=frozenset(obj.get("services") or ()),
                hosts=frozenset(obj.get("hosts") or ()),
                triggers=triggers or (Trigger("", None, None, opened, ""),),
                root_service=root.get("service"),
                root_host=root.get("host"),
                has_report=bool(report),
                report_root=report_root,
                report_impact=frozenset(
                    i["service"] for i in report.get("impact") or () if i.get("service")
                ),
            )
        except KeyError as exc:
            raise ValueError(f"incident {obj.get('id', '?')}: missing field {exc}") from None

    def covers(self, f: ExpectedFault) -> bool:
        if f.service is not None:
            return f.service in self.services
        return f.host in self.hosts

    def touches(self, f: ExpectedFault) -> bool:
        return self.covers(f) or bool(self.services.intersection(f.affected))

    def triggers_in(self, start: datetime, end: datetime) -> list[Trigger]:
        return [t for t in self.triggers if start <= t.at <= end]


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        ts = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {value!r}") from None
    if ts.tzinfo is None:
        raise ValueError(f"a time without a time zone: {value!r}")
    return ts


# --------------------------------------------------------------------------- scoring


class Detection(StrEnum):
    IN_TIME = "in time"
    LATE = "late"
    MISSED = "missed"


def detect_within(f: ExpectedFault) -> timedelta:
    """The deadline for detecting `f`: two ticks, or 30 minutes for a silence."""
    return SILENCE_DETECT_WITHIN if f.kind.is_silence else DETECT_WITHIN


@dataclass(frozen=True, slots=True)
class FaultOutcome:
    """How one expected fault fared. `latency` is None when missed; `root_ok` is
    None when there is nothing to compare (missed, or the fault declares no root)."""

    fault: ExpectedFault
    detection: Detection
    latency: timedelta | None
    incidents: tuple[str, ...]
    detected_by: str | None = None
    suspected_root: str | None = None
    root_ok: bool | None = None
    #: The investigation report's root cause against the expected root (None: nothing to compare).
    report_root: str | None = None
    report_root_ok: bool | None = None
    #: Expected affected services the report lists in its impact, and how many were expected.
    impact_found: int = 0
    impact_expected: int = 0


@dataclass(frozen=True, slots=True)
class Requirement:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class SuiteMetrics:
    """The numbers over a set of faults and incidents (one scenario, or a whole suite)."""

    faults: int
    detected: int
    in_time: int
    false_incidents: int
    hours: float
    latencies: tuple[timedelta, ...]
    incidents_about_faults: int
    one_incident_faults: int
    roots_compared: int
    roots_correct: int
    reports_compared: int = 0
    reports_correct: int = 0
    impact_expected: int = 0
    impact_found: int = 0

    @property
    def recall(self) -> float | None:
        """Detected (at all) / faults; None without faults."""
        return self.detected / self.faults if self.faults else None

    @property
    def false_per_day(self) -> float:
        return self.false_incidents / (self.hours / 24) if self.hours > 0 else 0.0

    @property
    def ttd_p50(self) -> timedelta | None:
        return percentile(self.latencies, 50)

    @property
    def ttd_p95(self) -> timedelta | None:
        return percentile(self.latencies, 95)

    @property
    def incidents_per_fault(self) -> float | None:
        return self.incidents_about_faults / self.faults if self.faults else None

    @property
    def root_accuracy(self) -> float | None:
        return self.roots_correct / self.roots_compared if self.roots_compared else None

    @property
    def report_root_accuracy(self) -> float | None:
        """Share of faults whose investigation report names the expected root."""
        return self.reports_correct / self.reports_compared if self.reports_compared else None

    @property
    def impact_coverage(self) -> float | None:
        """Share of the expected affected services that the reports list in their impact."""
        return self.impact_found / self.impact_expected if self.impact_expected else None

    def requirements(self) -> list[Requirement]:
        """The pass/fail verdicts: every fault in time, no false incident, one incident each."""
        return [
            Requirement(
                "every fault detected in time",
                self.in_time == self.faults,
                f"{self.in_time}/{self.faults}",
            ),
            Requirement("no false incidents", self.false_incidents == 0, f"{self.false_incidents}"),
            Requirement(
                "one incident per fault",
                self.one_incident_faults == self.faults,
                f"{self.one_incident_faults}/{self.faults}",
            ),
            Requirement(
                f"reports name the right root in >= {REPORT_ROOT_TARGET:.0%}",
                self.reports_compared == 0
                or self.reports_correct >= REPORT_ROOT_TARGET * self.reports_compared,
                f"{self.reports_correct}/{self.reports_compared}",
            ),
        ]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.requirements())

    def __add__(self, other: SuiteMetrics) -> SuiteMetrics:
        return SuiteMetrics(
            self.faults + other.faults,
            self.detected + other.detected,
            self.in_time + other.in_time,
            self.false_incidents + other.false_incidents,
            self.hours + other.hours,
            self.latencies + other.latencies,
            self.incidents_about_faults + other.incidents_about_faults,
            self.one_incident_faults + other.one_incident_faults,
            self.roots_compared + other.roots_compared,
            self.roots_correct + other.roots_correct,
            self.reports_compared + other.reports_compared,
            self.reports_correct + other.reports_correct,
            self.impact_expected + other.impact_expected,
            self.impact_found + other.impact_found,
        )


EMPTY_METRICS = SuiteMetrics(0, 0, 0, 0, 0.0, (), 0, 0, 0, 0)


def percentile[T: (timedelta, float)](values: Sequence[T], p: float) -> T | None:
    """The nearest-rank `p`th percentile, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class ScenarioScore:
    outcomes: tuple[FaultOutcome, ...]
    false_incidents: tuple[str, ...]
    metrics: SuiteMetrics

    @property
    def passed(self) -> bool:
        return self.metrics.passed


def score(
    expected: Iterable[ExpectedFault],
    incidents: Iterable[Mapping[str, Any] | ScoredIncident],
    *,
    hours: float,
) -> ScenarioScore:
    """Score one scenario's incidents against its expected faults (see the module docstring).

    Raises ValueError for an incident that lacks `id`, `opened_at` or a trigger's `at`.
    """
    faults = list(expected)
    incs = [i if isinstance(i, ScoredIncident) else ScoredIncident.from_json(i) for i in incidents]
    about: dict[str, list[ScoredIncident]] = {}
    for f in faults:
        until = max(f.at, f.end or f.at) + MATCH_HORIZON
        about[f.id] = [i for i in incs if i.touches(f) and i.triggers_in(f.at, until)]
    claimed = {i.id for group in about.values() for i in group}
    false = tuple(i.id for i in incs if i.id not in claimed)

    outcomes: list[FaultOutcome] = []
    for f in faults:
        until = max(f.at, f.end or f.at) + MATCH_HORIZON
        first: tuple[datetime, ScoredIncident] | None = None
        for inc in about[f.id]:
            if not inc.covers(f):
                continue
            t = min(tr.at for tr in inc.triggers_in(f.at, until))
            if first is None or t < first[0]:
                first = (t, inc)
        ids = tuple(i.id for i in about[f.id])
        if first is None:
            outcomes.append(FaultOutcome(f, Detection.MISSED, None, ids))
            continue
        latency = first[0] - f.at
        inc = first[1]
        detection = Detection.IN_TIME if latency <= detect_within(f) else Detection.LATE
        if f.root is not None:
            root_ok: bool | None = inc.root_service == f.root
        elif f.service is None:
            root_ok = inc.root_service is None and inc.root_host == f.host
        else:
            root_ok = None
        shown = inc.root_service or (f"host {inc.root_host}" if inc.root_host else None)
        report_ok: bool | None = None
        if inc.has_report and f.root is not None:
            report_ok = inc.report_root == f.root
        expected_impact = set(f.affected)
        outcomes.append(
            FaultOutcome(
                f,
                detection,
                latency,
                ids,
                inc.id,
                shown,
                root_ok,
                inc.report_root,
                report_ok,
                len(expected_impact & inc.report_impact) if inc.has_report else 0,
                len(expected_impact) if inc.has_report else 0,
            )
        )

    metrics = SuiteMetrics(
        faults=len(faults),
        detected=sum(o.detection is not Detection.MISSED for o in outcomes),
        in_time=sum(o.detection is Detection.IN_TIME for o in outcomes),
        false_incidents=len(false),
        hours=hours,
        latencies=tuple(o.latency for o in outcomes if o.latency is not None),
        incidents_about_faults=sum(len(o.incidents) for o in outcomes),
        one_incident_faults=sum(len(o.incidents) == 1 for o in outcomes),
        roots_compared=sum(o.root_ok is not None for o in outcomes),
        roots_correct=sum(o.root_ok is True for o in outcomes),
        reports_compared=sum(o.report_root_ok is not None for o in outcomes),
        reports_correct=sum(o.report_root_ok is True for o in outcomes),
        impact_expected=sum(o.impact_expected for o in outcomes),
        impact_found=sum(o.impact_found for o in outcomes),
    )
    return ScenarioScore(tuple(outcomes), false, metrics)
