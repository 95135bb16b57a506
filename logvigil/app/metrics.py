"""Prometheus metrics of the daemon, served on a loopback port.

Off unless `metrics.port` is set. Every metric lives in the `DaemonMetrics`
object's own registry (not the process-wide default), so tests and several
daemons in one process never clash. The exporter binds 127.0.0.1 by default:
the numbers name services and sources, which are nobody else's business;
scrape it through an SSH tunnel or a local Prometheus agent.

prometheus-client is imported when a `DaemonMetrics` is built, not with this module:
the config model below is part of every configuration load.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import Field

from detector.tick import TickResult
from logvigil.core.configbase import Strict
from logvigil.ingest.ingestor import IngestSummary
from notify.outbox import DrainResult, OutboxStatus

#: Tick durations: a tick over a few thousand rows takes milliseconds, a slow store seconds.
TICK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
#: Investigations: deterministic ones take milliseconds, a crew on a local model minutes.
INVESTIGATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600)


class MetricsConfig(Strict):
    """The `metrics:` section: `port: 9464` turns the exporter on."""

    port: Annotated[int, Field(ge=0, lt=65536)] | None = Field(
        default=None, description="port to serve /metrics on (0: any free port); off when unset"
    )
    bind: str = Field(default="127.0.0.1", description="address to listen on; keep it on loopback")


class DaemonMetrics:
    """The daemon's counters and histograms; `observe_*` take what the daemon already has."""

    def __init__(self) -> None:
        # Deferred: prometheus-client loads only in a daemon that serves metrics.
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.lines = Counter("logvigil_lines", "Lines read, per source.", ["source"], registry=r)
        self.dropped = Counter(
            "logvigil_dropped", "Events dropped by a noise rule, per rule.", ["rule"], registry=r
        )
        self.rejected = Counter(
            "logvigil_rejected", "Lines rejected as unparsable, per reason.", ["reason"], registry=r
        )
        self.tick_duration = Histogram(
            "logvigil_tick_duration_seconds",
            "Duration of a detector tick.",
            buckets=TICK_BUCKETS,
            registry=r,
        )
        self.findings = Counter(
            "logvigil_findings", "Findings, per detector.", ["detector"], registry=r
        )
        self.incidents = Counter(
            "logvigil_incidents",
            "Incident changes (opened, updated, resolved), per event.",
            ["event"],
            registry=r,
        )
        self.notification_failures = Counter(
            "logvigil_notification_failures",
            "Failed notification attempts, per channel.",
            ["channel"],
            registry=r,
        )
        self.investigation_duration = Histogram(
            "logvigil_investigation_duration_seconds",
            "Duration of an investigation.",
            buckets=INVESTIGATION_BUCKETS,
            registry=r,
        )
        self.leader = Gauge(
            "logvigil_leader", "1 while this process is the detector leader.", registry=r
        )
        self._seen_dropped: Tally[str] = Tally()
        self._seen_rejected: Tally[str] = Tally()
        self._server: Any = None
        #: Where the exporter serves, once `serve` started it.
        self.url: str | None = None

    # -- what the daemon reports ---------------------------------------------------------

    def observe_lines(self, source: str, n: int) -> None:
        self.lines.labels(source=source).inc(n)

    def observe_ingest(self, summary: IngestSummary) -> None:
        """Catch up with the ingestor's running totals of dropped and rejected lines."""
        _catch_up(self.dropped, "rule", summary.dropped, self._seen_dropped)
        _catch_up(self.rejected, "reason", summary.rejected, self._seen_rejected)

    def observe_tick(self, result: TickResult, seconds: float) -> None:
        self.tick_duration.observe(seconds)
        for finding in result.findings:
            self.findings.labels(detector=finding.detector).inc()
        for change in result.changes:
            self.incidents.labels(event=change.kind.value).inc()

    def observe_drain(self, result: DrainResult) -> None:
        for outcome in result.outcomes:
            if outcome.error is not None and outcome.status is not OutboxStatus.SENT:
                self.notification_failures.labels(channel=outcome.channel).inc()

    def observe_investigation(self, seconds: float) -> None:
        self.investigation_duration.observe(seconds)

    # -- the exporter --------------------------------------------------------------------

    def serve(self, config: MetricsConfig) -> int | None:
        """Start the HTTP exporter when `config.port` is set; returns the bound port.

        Raises OSError when the port cannot be bound.
        """
        if config.port is None:
            return None
        # Deferred with the registry's own import (see `__init__`).
        from prometheus_client import start_http_server

        server, _thread = start_http_server(config.port, addr=config.bind, registry=self.registry)
        self._server = server
        port = server.server_address[1]
        self.url = f"http://{config.bind}:{port}/metrics"
        return port

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _catch_up(counter: Any, label: str, totals: Tally[str], seen: Tally[str]) -> None:
    for key, total in _items(totals):
        delta = total - seen[key]
        if delta > 0:
            counter.labels(**{label: key}).inc(delta)
            seen[key] = total


def _items(totals: Tally[str]) -> Iterable[tuple[str, int]]:
    return list(totals.items())
