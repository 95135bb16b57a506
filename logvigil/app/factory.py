"""Builds a ready `logvigil run` daemon from the settings and the command's options.

The one place that wires the daemon's parts: the inventory, the metrics exporter,
the graph and the runtime over the store, the sources resuming at their stored
cursors, the leadership lock that fits the store, and the status file in the data
directory. Whatever it opened is closed again when a later step fails.
"""

from __future__ import annotations

from graph.store import open_store
from logvigil.app.daemon import Daemon, Role
from logvigil.app.leader import leader_for
from logvigil.app.metrics import DaemonMetrics, MetricsConfig
from logvigil.app.runtime import Runtime, read_inventory
from logvigil.app.settings import Settings
from logvigil.app.sources import build_sources
from logvigil.app.status import STATUS_FILE
from logvigil.store.cursors import read_cursors


class StartError(Exception):
    """The daemon cannot start as configured; the message says why."""


def metrics_config(settings: Settings, port: int | None = None) -> MetricsConfig:
    """The `metrics:` section, with `port` (the `--metrics-port` option) overriding its port."""
    if port is None:
        return settings.metrics
    return settings.metrics.model_copy(update={"port": port})


def serve_metrics(config: MetricsConfig) -> DaemonMetrics | None:
    """The daemon's metrics, served as `config` says; None when no port is configured.

    Raises StartError when the port cannot be bound.
    """
    if config.port is None:
        return None
    metrics = DaemonMetrics()
    try:
        metrics.serve(config)
    except OSError as exc:
        raise StartError(f"cannot serve metrics on {config.bind}:{config.port}: {exc}") from None
    return metrics


def build_daemon(
    settings: Settings, *, role: Role = Role.ALL, metrics_port: int | None = None
) -> Daemon:
    """A daemon of `role` for `settings`, ready to `run` (and to `close` afterwards).

    `metrics_port` overrides `metrics.port`. Raises ConfigError for an invalid
    inventory, StoreError or GraphError when the store or the graph cannot be
    opened, StartError when the metrics port or a source cannot be started.
    """
    inventory = read_inventory(settings.graph.inventory)
    metrics = serve_metrics(metrics_config(settings, metrics_port))
    try:
        graph = open_store(settings.graph.url, settings.data_dir / "graph")
        try:
            runtime = Runtime(
                settings, inventory=inventory, graph=graph, notify=True, shared_store=True
            )
        except BaseException:
            graph.close()
            raise
    except BaseException:
        if metrics is not None:
            metrics.close()
        raise
    try:
        with runtime.engine.connect() as conn:
            cursors = read_cursors(conn)
        sources = build_sources(settings.sources, cursors) if role.ingests else []
    except (ValueError, OSError) as exc:
        _close(runtime, metrics)
        raise StartError(f"cannot start the sources: {exc}") from None
    except BaseException:
        _close(runtime, metrics)
        raise
    return Daemon(
        runtime,
        sources,
        role=role,
        leader=leader_for(runtime.engine),
        metrics=metrics,
        status_path=settings.data_dir / STATUS_FILE,
    )


def _close(runtime: Runtime, metrics: DaemonMetrics | None) -> None:
    runtime.close()
    if metrics is not None:
        metrics.close()
