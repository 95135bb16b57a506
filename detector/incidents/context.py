"""`ContextBundle`: the typed context bundle of an incident, and its JSON form.

`bundle.build_bundle` makes one; `Incident.bundle` holds it; the
`incidents.bundle` column and `logvigil incidents show ID --json` hold its
JSON. `to_json()` writes the shape every stored row has (the key order
included), so `from_json(row).to_json() == row`; `from_json` reads any row
written since version 1 and takes a missing section as empty.

Times are written with `datetime.isoformat()` (`+00:00`), as they always have
been in this column; severities by their labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from logvigil.core.events import Severity
from logvigil.core.timeutil import parse_iso

BUNDLE_VERSION = 1

JSON = dict[str, Any]


def _severity(label: str) -> Severity:
    return Severity[label.upper()]


@dataclass(frozen=True, slots=True)
class BundleWindow:
    """From `start` (the onset minus the lead-in) over `onset` (the first anomaly) to `end`."""

    start: datetime
    onset: datetime
    end: datetime
    before_minutes: int
    during_minutes: float

    def to_json(self) -> JSON:
        return {
            "start": self.start.isoformat(),
            "onset": self.onset.isoformat(),
            "end": self.end.isoformat(),
            "before_minutes": self.before_minutes,
            "during_minutes": self.during_minutes,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> BundleWindow:
        return cls(
            parse_iso(obj["start"]),
            parse_iso(obj["onset"]),
            parse_iso(obj["end"]),
            obj.get("before_minutes", 0),
            obj.get("during_minutes", 0.0),
        )


@dataclass(frozen=True, slots=True)
class BundleFinding:
    """A finding as the bundle quotes it: summary redacted and cut, evidence bounded."""

    detector: str
    service: str | None
    host: str | None
    at: datetime
    started_at: datetime
    severity: Severity
    kind: str | None
    template_id: int | None
    summary: str
    evidence: dict[str, Any]

    def to_json(self) -> JSON:
        return {
            "detector": self.detector,
            "service": self.service,
            "host": self.host,
            "at": self.at.isoformat(),
            "started_at": self.started_at.isoformat(),
            "severity": self.severity.label,
            "kind": self.kind,
            "template_id": self.template_id,
            "summary": self.summary,
            "evidence": dict(self.evidence),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> BundleFinding:
        return cls(
            obj["detector"],
            obj.get("service"),
            obj.get("host"),
            parse_iso(obj["at"]),
            parse_iso(obj["started_at"]),
            _severity(obj["severity"]),
            obj.get("kind"),
            obj.get("template_id"),
            obj.get("summary", ""),
            dict(obj.get("evidence") or {}),
        )


@dataclass(frozen=True, slots=True)
class RankedCandidate:
    """A suspected root as the ranking scored it (`RootCandidate`, scores rounded)."""

    subject: str
    service: str | None
    host: str | None
    first_at: datetime
    score: float
    dependants: tuple[str, ...]
    primitive: str | None
    host_level: bool
    breakdown: dict[str, float]

    def to_json(self) -> JSON:
        return {
            "subject": self.subject,
            "service": self.service,
            "host": self.host,
            "first_at": self.first_at.isoformat(),
            "score": self.score,
            "dependants": list(self.dependants),
            "primitive": self.primitive,
            "host_level": self.host_level,
            "breakdown": dict(self.breakdown),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> RankedCandidate:
        return cls(
            obj["subject"],
            obj.get("service"),
            obj.get("host"),
            parse_iso(obj["first_at"]),
            obj.get("score", 0.0),
            tuple(obj.get("dependants") or ()),
            obj.get("primitive"),
            bool(obj.get("host_level", False)),
            dict(obj.get("breakdown") or {}),
        )


@dataclass(frozen=True, slots=True)
class RootSection:
    """The suspected-root ranking: the root (`service` / `host`, both None without one),
    the candidates best first, and the root's blast radius (None once the size bound
    dropped it)."""

    service: str | None = None
    host: str | None = None
    candidates: tuple[RankedCandidate, ...] = ()
    blast_radius: tuple[str, ...] | None = ()

    def to_json(self) -> JSON:
        root = None
        if self.service is not None or self.host is not None:
            root = {"service": self.service, "host": self.host}
        out: JSON = {"root": root, "candidates": [c.to_json() for c in self.candidates]}
        if self.blast_radius is not None:
            out["blast_radius"] = list(self.blast_radius)
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> RootSection:
        root = obj.get("root") or {}
        blast = obj.get("blast_radius")
        return cls(
            root.get("service"),
            root.get("host"),
            tuple(RankedCandidate.from_json(c) for c in obj.get("candidates") or ()),
            None if blast is None else tuple(blast),
        )


@dataclass(frozen=True, slots=True)
class TemplateActivity:
    """One of a service's busiest templates of the window, with its lines before and
    during the onset."""

    template_id: int
    template: str
    severity: Severity
    before: int
    during: int

    def to_json(self) -> JSON:
        return {
            "template_id": self.template_id,
            "template": self.template,
            "severity": self.severity.label,
            "before": self.before,
            "during": self.during,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> TemplateActivity:
        return cls(
            obj["template_id"],
            obj.get("template", ""),
            _severity(obj["severity"]),
            obj.get("before", 0),
            obj.get("during", 0),
        )


@dataclass(frozen=True, slots=True)
class FirstSeenTemplate:
    """A template one of the incident's services logged for the first time in the window."""

    service: str
    template_id: int
    template: str
    first_seen: datetime
    count: int
    severity: Severity

    def to_json(self) -> JSON:
        return {
            "service": self.service,
            "template_id": self.template_id,
            "template": self.template,
            "first_seen": self.first_seen.isoformat(),
            "count": self.count,
            "severity": self.severity.label,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> FirstSeenTemplate:
        return cls(
            obj["service"],
            obj["template_id"],
            obj.get("template", ""),
            parse_iso(obj["first_seen"]),
            obj.get("count", 0),
            _severity(obj["severity"]),
        )


@dataclass(frozen=True, slots=True)
class SampleLine:
    """A redacted, printable log line of the window."""

    ts: datetime
    host: str
    service: str
    severity: Severity
    template_id: int | None
    line: str

    def to_json(self) -> JSON:
        return {
            "ts": self.ts.isoformat(),
            "host": self.host,
            "service": self.service,
            "severity": self.severity.label,
            "template_id": self.template_id,
            "line": self.line,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> SampleLine:
        return cls(
            parse_iso(obj["ts"]),
            obj.get("host", ""),
            obj.get("service", ""),
            _severity(obj["severity"]),
            obj.get("template_id"),
            obj.get("line", ""),
        )


@dataclass(frozen=True, slots=True)
class RestartLine:
    """A systemd start / stop / restart line of a service or of its host."""

    ts: datetime
    host: str
    service: str
    line: str

    def to_json(self) -> JSON:
        return {
            "ts": self.ts.isoformat(),
            "host": self.host,
            "service": self.service,
            "line": self.line,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> RestartLine:
        return cls(
            parse_iso(obj["ts"]),
            obj.get("host", ""),
            obj.get("service", ""),
            obj.get("line", ""),
        )


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    """A service's place in the dependency graph (`Topology.neighbourhood`); only
    `service` and `declared` for a service the inventory does not declare."""

    service: str
    declared: bool
    type: str = ""
    hosts: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    upstream: tuple[str, ...] = ()
    blast_radius: tuple[str, ...] = ()
    co_hosted: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_json(self) -> JSON:
        if not self.declared:
            return {"service": self.service, "declared": False}
        return {
            "service": self.service,
            "declared": True,
            "type": self.type,
            "hosts": list(self.hosts),
            "depends_on": list(self.depends_on),
            "calls": list(self.calls),
            "upstream": list(self.upstream),
            "blast_radius": list(self.blast_radius),
            "co_hosted": {h: list(s) for h, s in self.co_hosted.items()},
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Neighbourhood:
        if not obj.get("declared"):
            return cls(obj.get("service", ""), False)
        return cls(
            obj.get("service", ""),
            True,
            obj.get("type", ""),
            tuple(obj.get("hosts") or ()),
            tuple(obj.get("depends_on") or ()),
            tuple(obj.get("calls") or ()),
            tuple(obj.get("upstream") or ()),
            tuple(obj.get("blast_radius") or ()),
            {h: tuple(s) for h, s in (obj.get("co_hosted") or {}).items()},
        )


@dataclass(frozen=True, slots=True)
class ContextBundle:
    """What the investigation reads about an incident, bounded in size (see `bundle.py`).

    `templates` and `neighbourhood` are keyed by service, in service order;
    `samples` are in time order; `trimmed` counts, per part, what the size
    bound cut (empty when nothing was).
    """

    incident_id: int
    title: str
    window: BundleWindow | None
    services: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    findings: tuple[BundleFinding, ...] = ()
    root: RootSection = field(default_factory=RootSection)
    templates: dict[str, tuple[TemplateActivity, ...]] = field(default_factory=dict)
    first_seen: tuple[FirstSeenTemplate, ...] = ()
    samples: tuple[SampleLine, ...] = ()
    neighbourhood: dict[str, Neighbourhood] = field(default_factory=dict)
    restarts: tuple[RestartLine, ...] = ()
    trimmed: dict[str, int] = field(default_factory=dict)
    version: int = BUNDLE_VERSION

    def to_json(self) -> JSON:
        """The JSON object stored in `incidents.bundle`."""
        return {
            "version": self.version,
            "incident": {"id": self.incident_id, "title": self.title},
            "window": None if self.window is None else self.window.to_json(),
            "services": list(self.services),
            "hosts": list(self.hosts),
            "findings": [f.to_json() for f in self.findings],
            "root": self.root.to_json(),
            "templates": {s: [t.to_json() for t in rows] for s, rows in self.templates.items()},
            "first_seen": [f.to_json() for f in self.first_seen],
            "samples": [s.to_json() for s in self.samples],
            "neighbourhood": {s: n.to_json() for s, n in self.neighbourhood.items()},
            "restarts": [r.to_json() for r in self.restarts],
            "trimmed": dict(self.trimmed),
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ContextBundle:
        """The bundle of a stored JSON object; a missing section is empty.

        Raises KeyError / ValueError for an object that is not a bundle.
        """
        incident = obj.get("incident") or {}
        window = obj.get("window")
        return cls(
            incident_id=incident.get("id", 0),
            title=incident.get("title", ""),
            window=BundleWindow.from_json(window) if window else None,
            services=tuple(obj.get("services") or ()),
            hosts=tuple(obj.get("hosts") or ()),
            findings=tuple(BundleFinding.from_json(f) for f in obj.get("findings") or ()),
            root=RootSection.from_json(obj.get("root") or {}),
            templates={
                s: tuple(TemplateActivity.from_json(t) for t in rows)
                for s, rows in (obj.get("templates") or {}).items()
            },
            first_seen=tuple(FirstSeenTemplate.from_json(f) for f in obj.get("first_seen") or ()),
            samples=tuple(SampleLine.from_json(s) for s in obj.get("samples") or ()),
            neighbourhood={
                s: Neighbourhood.from_json(n) for s, n in (obj.get("neighbourhood") or {}).items()
            },
            restarts=tuple(RestartLine.from_json(r) for r in obj.get("restarts") or ()),
            trimmed=dict(obj.get("trimmed") or {}),
            version=obj.get("version", BUNDLE_VERSION),
        )

    def template_text(self, template_id: int) -> str | None:
        """The text of a template the bundle quotes (first-seen over busiest), or None."""
        for f in self.first_seen:
            if f.template_id == template_id:
                return f.template
        for rows in self.templates.values():
            for t in rows:
                if t.template_id == template_id:
                    return t.template
        return None
