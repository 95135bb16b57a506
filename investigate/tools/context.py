"""What every evidence tool asks about: one incident, its window, the store and the graph.

Windows come from the incident, never from the wall clock: the bundle's
window (`start` = onset - lead-in, `onset` = first anomaly, `end`), or, for an
incident without a bundle, the same derived from its findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from detector.incidents.model import Incident
from detector.incidents.topology import Topology
from graph.inventory import Inventory
from logvigil.core.redact import clean_line
from logvigil.core.timeutil import floor_minute, iso_z
from logvigil.core.yamlfile import suggest
from logvigil.store import evidence

#: Characters of one log line or template in an output.
MAX_LINE_CHARS = 240
#: Lead-in before the onset when the incident has no bundle.
DEFAULT_LEAD_IN = timedelta(minutes=30)


class DeclaredTopology(Topology, Protocol):
    """A topology that also shows the inventory it answers from (`GraphTopology` and
    `InventoryTopology` both do): the tools walk its edges and read its units."""

    @property
    def inventory(self) -> Inventory: ...


class ToolError(Exception):
    """A tool's refusal with a message for the model (unknown service, time out of range)."""


def line(text: str | None, n: int = MAX_LINE_CHARS) -> str:
    """A log line or template as a tool shows it: redacted, printable, at most `n` chars."""
    return clean_line(text or "", n)


def template_lines(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """Template id -> its text as a tool shows it."""
    return {tid: line(text) for tid, text in evidence.template_texts(conn, ids).items()}


@dataclass(frozen=True, slots=True)
class IncidentWindow:
    """The incident's window: `start` (onset minus lead-in) .. `onset` .. `end`."""

    start: datetime
    onset: datetime
    end: datetime

    @property
    def onset_minute(self) -> datetime:
        """The start of the minute bucket holding the onset (counts are per minute)."""
        return floor_minute(self.onset)

    @property
    def before_minutes(self) -> float:
        return max(1.0, (self.onset_minute - self.start).total_seconds() / 60)

    @property
    def during_minutes(self) -> float:
        return max(1.0, (self.end - self.onset_minute).total_seconds() / 60 + 1)

    def to_json(self) -> dict[str, str]:
        return {"start": iso_z(self.start), "onset": iso_z(self.onset), "end": iso_z(self.end)}

    @classmethod
    def of(cls, incident: Incident) -> IncidentWindow:
        """From the bundle when it has a window, else from the findings (never the clock)."""
        window = incident.bundle.window if incident.bundle is not None else None
        if window is not None:
            return cls(window.start, window.onset, window.end)
        if incident.findings:
            onset = min(f.started_at for f in incident.findings)
            end = max(max(f.at for f in incident.findings), incident.last_finding_at)
        else:
            onset, end = incident.opened_at, incident.last_finding_at
        return cls(onset - DEFAULT_LEAD_IN, onset, max(end, onset))


class ToolContext:
    """One incident, its store and the dependency graph, as every tool sees them."""

    def __init__(self, engine: Engine, topology: DeclaredTopology, incident: Incident) -> None:
        self.engine = engine
        self.topology = topology
        self.incident = incident
        self.window = IncidentWindow.of(incident)
        self._logged: set[str] | None = None
        self._finding_services = {f.service for f in incident.findings if f.service}
        #: Answers kept while `remembering` (see there); None outside it.
        self.remembered: dict[str, Any] | None = None

    @contextmanager
    def remembering(self) -> Iterator[None]:
        """Within the block, a tool may answer a question it already read the store for
        from memory (`counts.template_stats`): the deterministic analysis asks the
        timeline's counts again, one service at a time. Outside it, as for a model's
        calls spread over minutes, every call reads the store."""
        if self.remembered is not None:  # an enclosing block keeps it
            yield
            return
        self.remembered = {}
        try:
            yield
        finally:
            self.remembered = None

    @property
    def declared(self) -> set[str]:
        """Services of the inventory."""
        return set(self.topology.inventory.services)

    def known_services(self) -> set[str]:
        """Declared services, the incident's, and every service that logged in the window."""
        if self._logged is None:
            with self.engine.connect() as conn:
                self._logged = evidence.logging_services(conn, self.window.start, self.window.end)
        return self.declared | set(self.incident.services) | self._bundled() | self._logged

    def check(self, service: str, *, graph: bool = False) -> None:
        """Raise ToolError for a name that is neither declared nor seen (with a "did you mean");
        with `graph`, also for one that logs but has no place in the graph."""
        known = self.declared if graph else self.known_services()
        if service in known:
            return
        if graph and service in self.known_services():
            raise ToolError(
                f"service {service!r} logs but is not declared in the inventory, "
                "so it has no place in the dependency graph"
            )
        pool = known | (self.known_services() if graph else set())
        raise ToolError(f"unknown service {service!r}{suggest(service, pool)}")

    def incident_services(self) -> list[str]:
        """The services of the incident (with the bundle's when there is one), sorted."""
        return sorted(self._bundled() | set(self.incident.services) | self._finding_services)

    def anomalous(self, service: str) -> bool:
        """True when `service` has a finding in this incident."""
        return service in self._finding_services

    def _bundled(self) -> set[str]:
        return set(self.incident.bundle.services) if self.incident.bundle is not None else set()
