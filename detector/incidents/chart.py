"""What an incident's chart shows: the per-minute lines and errors of the services it
involves, around it, with each finding marked. Drawn as SVG by the web pages and as
PNG for the notifications; both take this same value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from detector.incidents.model import Incident
from logvigil.store.series import Series, chart_window, service_series

#: Services charted at most: the incident's own first, then its blast radius.
MAX_SERVICES = 8


@dataclass(frozen=True, slots=True)
class Mark:
    """A moment to mark on a chart (a finding), with its label."""

    at: datetime
    label: str


@dataclass(frozen=True, slots=True)
class IncidentChart:
    series: list[Series]
    marks: list[Mark]


def incident_chart_data(conn: Connection, incident: Incident) -> IncidentChart:
    """The chart of `incident`: from `CHART_MARGIN` before it opened to as long after it
    resolved (or its last finding), at most `CHART_MAX`."""
    start, end = chart_window(incident.opened_at, incident.resolved_at or incident.last_finding_at)
    involved = tuple(dict.fromkeys((*incident.services, *incident.blast_radius)))[:MAX_SERVICES]
    marks = [Mark(f.started_at, f"{f.service or f.host}: {f.summary}") for f in incident.findings]
    return IncidentChart(service_series(conn, involved, start, end), marks)
