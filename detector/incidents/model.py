"""The typed values of the incident layer: status, severity, `Incident`, its config.

Severity: an incident reuses `logvigil.core.events.Severity` (aliased `IncidentSeverity`)
rather than a second scale, so a finding's severity and its incident's compare
directly and the column holds the same integers as `minute_counts.severity`.
An incident is as severe as its worst finding, and at least CRITICAL once
`critical_services` or more distinct subjects show anomalies (a cascade that
spread is worse than any one of its errors); see `summary.incident_severity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from detector.incidents.context import ContextBundle
from detector.incidents.storm import DEFAULT_HOST_WIDE_KINDS
from logvigil.core.configbase import Strict
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.core.timeutil import iso_z

#: An incident's severity is a log severity (WARNING .. EMERGENCY in practice).
IncidentSeverity = Severity


class IllegalTransition(ValueError):
    """A status change the lifecycle does not allow (`resolved -> open`, ...)."""

    def __init__(self, current: IncidentStatus, wanted: IncidentStatus) -> None:
        self.current = current
        self.wanted = wanted
        allowed = ", ".join(sorted(_TRANSITIONS[current])) or "none (terminal)"
        super().__init__(
            f"an incident cannot go from {current.value} to {wanted.value}; "
            f"allowed from {current.value}: {allowed}"
        )


class IncidentStatus(StrEnum):
    """The lifecycle `open -> investigating -> reported -> resolved`.

    `investigating -> open` hands an incident back when an investigation is
    abandoned (the investigator crashed or gave up) so another one may claim
    it. Any unresolved incident may be resolved (by the quiet period or by
    hand). `resolved` is terminal: the same trouble later opens a new incident,
    subject to the cooldown.
    """

    OPEN = "open"
    INVESTIGATING = "investigating"
    REPORTED = "reported"
    RESOLVED = "resolved"

    @property
    def active(self) -> bool:
        """True until resolved: an active incident still accepts findings."""
        return self is not IncidentStatus.RESOLVED

    def can_become(self, wanted: IncidentStatus) -> bool:
        return wanted.value in _TRANSITIONS[self]

    def check_transition(self, wanted: IncidentStatus) -> IncidentStatus:
        """Return `wanted` when `self -> wanted` is legal; raise IllegalTransition otherwise."""
        if not self.can_become(wanted):
            raise IllegalTransition(self, wanted)
        return wanted


_TRANSITIONS: dict[IncidentStatus, frozenset[str]] = {
    IncidentStatus.OPEN: frozenset({"investigating", "resolved"}),
    IncidentStatus.INVESTIGATING: frozenset({"open", "reported", "resolved"}),
    IncidentStatus.REPORTED: frozenset({"resolved"}),
    IncidentStatus.RESOLVED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class RootRef:
    """Where an incident started: a service (and the host it failed on), or a whole host.

    `service` is None when a host is the root (it went silent); `host` is None
    when the root service's host is not known (no host on its findings and
    none or several in the inventory).
    """

    service: str | None
    host: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"service": self.service, "host": self.host}

    def __str__(self) -> str:
        if self.service is None:
            return f"host {self.host}"
        return f"{self.service} on {self.host}" if self.host else self.service


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident as stored: a cascade of findings, its lifecycle and its analysis.

    `id` is 0 only for an incident not yet written. `findings` are in the
    order they joined (one per cooldown key: a repeat only moves
    `last_finding_at`). `services` and `hosts` are sorted. `blast_radius` lists
    the services the root impacts, nearest first. `bundle` is the bounded
    context bundle (`context.ContextBundle`, built by `bundle.py`), None until built.
    """

    id: int
    status: IncidentStatus
    severity: IncidentSeverity
    title: str
    opened_at: datetime
    updated_at: datetime
    last_finding_at: datetime
    resolved_at: datetime | None
    services: tuple[str, ...]
    hosts: tuple[str, ...]
    findings: tuple[Finding, ...]
    root: RootRef | None = None
    blast_radius: tuple[str, ...] = ()
    bundle: ContextBundle | None = None

    @property
    def keys(self) -> frozenset[str]:
        """The cooldown keys of its findings."""
        return frozenset(f.key for f in self.findings)

    @property
    def subjects(self) -> tuple[str, ...]:
        """Services and `host:NAME` subjects of its findings, sorted."""
        return tuple(sorted({f.subject for f in self.findings}))

    def to_json(self) -> dict[str, Any]:
        """The backtest shape: one JSON object per incident, stable key order."""
        return {
            "id": self.id,
            "opened_at": iso_z(self.opened_at),
            "resolved_at": iso_z(self.resolved_at) if self.resolved_at else None,
            "severity": self.severity.label,
            "services": list(self.services),
            "hosts": list(self.hosts),
            "triggers": [
                {
                    "detector": f.detector,
                    "service": f.service,
                    "host": f.host,
                    "at": iso_z(f.at),
                    "summary": f.summary,
                }
                for f in self.findings
            ],
            "suspected_root": self.root.to_json() if self.root else None,
            "blast_radius": list(self.blast_radius),
        }


#: Upper bounds of the `detector.incidents` settings (docs/configuration.md): far above
#: any real use, low enough that no date or size computed from them can overflow.
WEEK_MINUTES = 7 * 24 * 60
MAX_COUNT = 10_000


class BundleConfig(Strict):
    """Limits of the context bundle stored with each incident (`detector.incidents.bundle`)."""

    lead_in_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = Field(
        default=30, description="how far before the first finding the bundle's window starts"
    )
    max_templates_per_service: Annotated[int, Field(ge=1, le=1000)] = 10
    max_first_seen: Annotated[int, Field(ge=1, le=1000)] = 20
    max_sample_lines: Annotated[int, Field(ge=1, le=MAX_COUNT)] = 40
    max_samples_per_template: Annotated[int, Field(ge=1, le=100)] = 3
    max_restarts: Annotated[int, Field(ge=1, le=1000)] = 20
    max_line_chars: Annotated[int, Field(ge=40, le=65_536)] = Field(
        default=300, description="each sample line is cut to this many characters"
    )
    max_bytes: Annotated[int, Field(ge=4096, le=16 * 1024 * 1024)] = Field(
        default=16 * 1024, description="upper bound of the bundle's JSON encoding, in bytes"
    )
    redact_emails: bool = Field(default=False, description="replace e-mail addresses by <email>")


class IncidentConfig(Strict):
    """How findings become incidents (`detector.incidents` in the config file)."""

    grouping_window_minutes: Annotated[int, Field(ge=1, le=WEEK_MINUTES)] = Field(
        default=30,
        description="a finding joins an incident whose last finding is at most this old",
    )
    graph_depth: Annotated[int, Field(ge=1, le=20)] = Field(
        default=3, description="how many dependency hops still connect two services"
    )
    cooldown_minutes: Annotated[int, Field(ge=0, le=WEEK_MINUTES)] = Field(
        default=60,
        description="a resolved incident's findings cannot open a new incident for this long",
    )
    resolve_after_quiet_minutes: Annotated[int, Field(ge=1, le=WEEK_MINUTES)] = Field(
        default=30, description="an incident without new findings for this long resolves"
    )
    storm_quiet_minutes: Annotated[int, Field(ge=1, le=4 * WEEK_MINUTES)] = Field(
        default=360,
        description=(
            "an incident in a storm (one primitive firing on two ticks or more) resolves "
            "only after this long without findings; a later firing is a new episode"
        ),
    )
    storm_host_kinds: tuple[Annotated[str, Field(min_length=1)], ...] = Field(
        default=DEFAULT_HOST_WIDE_KINDS,
        description=(
            "primitive kinds about the whole host (memory, disks, kernel): their storm "
            "gathers every victim service of the host"
        ),
    )
    critical_services: Annotated[int, Field(ge=2, le=MAX_COUNT)] = Field(
        default=3, description="an incident with anomalies on this many subjects is critical"
    )
    bundle: BundleConfig = Field(default_factory=BundleConfig)

    @model_validator(mode="after")
    def _storms_outlast_incidents(self) -> IncidentConfig:
        if self.storm_quiet_minutes < self.resolve_after_quiet_minutes:
            raise ValueError(
                "storm_quiet_minutes must be at least resolve_after_quiet_minutes "
                f"({self.resolve_after_quiet_minutes}), got: {self.storm_quiet_minutes}"
            )
        return self
