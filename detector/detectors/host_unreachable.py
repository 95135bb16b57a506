"""host_unreachable: a remote host whose logs cannot be read, for longer than its grace.

A source that pulls logs from another machine (`ssh_journald`) notes in its health
record since when it has not been able to connect and how long that may last
(`unreachable_grace_s`, from the source's `unreachable_after_s`). Every ingesting
process rewrites its sources' records in the store every few seconds, and the tick
hands the window every record (`Window.sources`); this detector fires for each
fresh record (its process still reports) whose host has been unreachable for longer
than its grace. A stale record belongs to a process that stopped: what it last
said is no longer known to be true.

The registry name `host_unreachable` names the config section; the findings keep
`detector="source"`, as they had when the daemon built them itself, so incidents,
reports and notifications read the same. Stateless: the records are the state.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from detector.detectors.base import ServiceInfo, State, Window
from logvigil.core.configbase import Strict
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.store.source_health import SourceHealthRecord

#: The `detector` of the findings (what incidents and reports show).
FINDING_DETECTOR = "source"
FINDING_KIND = "host_unreachable"


class HostUnreachableConfig(Strict):
    """Knobs of `host_unreachable`: each source sets its own grace (`unreachable_after_s`)."""

    enabled: bool = True


class HostUnreachable:
    """Fires once per tick for each host a running process cannot reach beyond its grace."""

    config_model: ClassVar[type[Strict]] = HostUnreachableConfig
    name: ClassVar[str] = "host_unreachable"
    state_version: ClassVar[int] = 1

    def __init__(self, config: HostUnreachableConfig | None = None) -> None:
        self.config = config if config is not None else HostUnreachableConfig()

    def evaluate(
        self, window: Window, state: State, now: datetime
    ) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
        """Return one finding per unreachable host of `window.sources` at `now`, and no state."""
        findings = [
            finding
            for record in window.sources
            if (finding := unreachable_finding(record, now)) is not None
        ]
        return findings, {}

    def needs_tick(self, window: Window, state: State) -> bool:
        """A record of an unreachable host is judged at every tick (its grace runs)."""
        return window.reports_unreachable()

    def patience(self, services: Mapping[str, ServiceInfo]) -> int | None:
        return None

    def next_due(self, state: State, after: datetime) -> datetime | None:
        """None: it acts on the health records of running sources, which only a live
        daemon has, and a live daemon ticks every minute."""
        return None


def unreachable_finding(record: SourceHealthRecord, now: datetime) -> Finding | None:
    """The `host_unreachable` finding of `record` at `now`, or None when its process no
    longer reports (stale), it has no remote host, the host is reachable, or the host
    is still within its grace."""
    since = record.unreachable_since
    if record.host is None or since is None or record.stale(now):
        return None
    if now - since <= timedelta(seconds=record.unreachable_grace_s or 0):
        return None
    reason = record.error or "no connection"
    return Finding(
        detector=FINDING_DETECTOR,
        at=now,
        started_at=since,
        service=None,
        host=record.host,
        severity=Severity.ERROR,
        summary=(
            f"{record.host} unreachable over SSH since {since:%Y-%m-%d %H:%M:%S} UTC; "
            f"its logs are not being read ({reason})"
        ),
        kind=FINDING_KIND,
        evidence={
            "source": record.source,
            "unreachable_since": since.isoformat(),
            "unreachable_seconds": int((now - since).total_seconds()),
            "error": reason,
        },
    )
