"""The suspected root of an incident: a deterministic ranking of its subjects.

Each subject of the incident (a service, or `host:NAME` for a host-level
finding) scores points; the investigation reuses the whole ranking as its
first list of hypotheses, so every candidate carries its score breakdown.

- a host-level finding (a silent or failing host): 100, because when a host
  goes, everything on it goes;
- the share of the other subjects that depend on it (graph upstream): up to
  40, because a dependency fails its dependants, not the reverse;
- a primitive (`oom_kill`, `disk_full`, ...): 30, a named cause beats a symptom;
- the earliness of its first anomaly: up to 20, linear over the incident's
  spread, because causes come first but clocks and detectors lag.

Dependency outweighs earliness on purpose: a dependant often logs its
connection errors a minute before the database's own complaint reaches a
detector. Ties go to the earliest anomaly, then to the name, so the same
findings always give the same root.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from detector.incidents.grouping import finding_hosts, finding_services
from detector.incidents.model import RootRef
from detector.incidents.storm import PRIMITIVE_KINDS as PRIMITIVE_KINDS  # re-exported
from detector.incidents.storm import is_primitive as is_primitive  # re-exported
from detector.incidents.topology import Topology
from logvigil.core.findings import Finding

W_HOST_LEVEL = 100.0
W_DEPENDANTS = 40.0
W_PRIMITIVE = 30.0
W_EARLIEST = 20.0


@dataclass(frozen=True, slots=True)
class RootCandidate:
    """One subject of the incident, scored. `breakdown` sums to `score`."""

    subject: str
    service: str | None
    host: str | None
    first_at: datetime
    score: float
    dependants: tuple[str, ...] = ()
    primitive: str | None = None
    host_level: bool = False
    breakdown: dict[str, float] = field(default_factory=dict)

    @property
    def ref(self) -> RootRef:
        return RootRef(self.service, self.host)

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "service": self.service,
            "host": self.host,
            "first_at": self.first_at.isoformat(),
            "score": round(self.score, 3),
            "dependants": list(self.dependants),
            "primitive": self.primitive,
            "host_level": self.host_level,
            "breakdown": {k: round(v, 3) for k, v in self.breakdown.items()},
        }


@dataclass(frozen=True, slots=True)
class RootRanking:
    """Candidates best first; `blast_radius` is the best one's, nearest services first."""

    candidates: tuple[RootCandidate, ...]
    blast_radius: tuple[str, ...] = ()

    @property
    def root(self) -> RootRef | None:
        return self.candidates[0].ref if self.candidates else None

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root.to_json() if self.root else None,
            "candidates": [c.to_json() for c in self.candidates],
            "blast_radius": list(self.blast_radius),
        }


def rank_roots(findings: Sequence[Finding], topology: Topology) -> RootRanking:
    """Rank the subjects of `findings`; an empty sequence gives an empty ranking."""
    by_subject: dict[str, list[Finding]] = {}
    for f in findings:
        by_subject.setdefault(f.subject, []).append(f)
    if not by_subject:
        return RootRanking(())
    first = {s: min(f.started_at for f in fs) for s, fs in by_subject.items()}
    t0, t1 = min(first.values()), max(first.values())
    spread = (t1 - t0).total_seconds()
    subjects = sorted(by_subject)
    services_of = {s: _services(by_subject[s], topology) for s in subjects}
    # What each subject needs, transitively: its services and everything upstream of them.
    needs: dict[str, set[str]] = {}
    for s in subjects:
        needed: set[str] = set()
        for svc in services_of[s]:
            needed.update(topology.upstream(svc))
        needs[s] = needed

    candidates = []
    for s in subjects:
        fs = by_subject[s]
        host_level = fs[0].service is None
        if host_level:
            host = fs[0].host
            hosted = services_of[s]
            dependants = tuple(
                o
                for o in subjects
                if o != s
                and (
                    host in _hosts(by_subject[o], topology)
                    or services_of[o] & hosted
                    or needs[o] & hosted
                )
            )
        else:
            host = _host_of(fs, topology)
            dependants = tuple(o for o in subjects if o != s and fs[0].service in needs[o])
        primitive = next((f.kind or f.detector for f in fs if is_primitive(f)), None)
        breakdown = {
            "host_level": W_HOST_LEVEL if host_level else 0.0,
            "dependants": (
                W_DEPENDANTS * len(dependants) / (len(subjects) - 1) if len(subjects) > 1 else 0.0
            ),
            "primitive": W_PRIMITIVE if primitive else 0.0,
            "earliest": (
                W_EARLIEST * (1 - (first[s] - t0).total_seconds() / spread)
                if spread
                else W_EARLIEST
            ),
        }
        candidates.append(
            RootCandidate(
                subject=s,
                service=fs[0].service,
                host=host,
                first_at=first[s],
                score=sum(breakdown.values()),
                dependants=dependants,
                primitive=primitive,
                host_level=host_level,
                breakdown=breakdown,
            )
        )
    candidates.sort(key=lambda c: (-round(c.score, 9), c.first_at, c.subject))
    return RootRanking(tuple(candidates), tuple(root_blast_radius(candidates[0], topology)))


def root_blast_radius(candidate: RootCandidate, topology: Topology) -> list[str]:
    """What the candidate takes down: a service's blast radius; for a host, its
    services and then their blast radius, nearest first, without repeats."""
    if candidate.service is not None:
        return topology.blast_radius(candidate.service)
    hosted = sorted(topology.services_on(candidate.host)) if candidate.host else []
    out = list(hosted)
    for svc in hosted:
        out.extend(s for s in topology.blast_radius(svc) if s not in out)
    return out


def _services(fs: list[Finding], topology: Topology) -> set[str]:
    out: set[str] = set()
    for f in fs:
        out |= finding_services(f, topology)
    return out


def _hosts(fs: list[Finding], topology: Topology) -> set[str]:
    out: set[str] = set()
    for f in fs:
        out |= finding_hosts(f, topology)
    return out


def _host_of(fs: list[Finding], topology: Topology) -> str | None:
    """The host of the earliest finding that names one, else the service's only host."""
    for f in sorted(fs, key=lambda f: (f.started_at, f.host or "")):
        if f.host is not None:
            return f.host
    hosts = topology.hosts_of(fs[0].service) if fs[0].service else set()
    return next(iter(hosts)) if len(hosts) == 1 else None
