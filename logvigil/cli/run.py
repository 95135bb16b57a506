"""`logvigil run`: parse the options, build the daemon, run it until SIGTERM or Ctrl-C."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy import Engine

from graph.store import GraphError
from logvigil.app.daemon import Role
from logvigil.app.factory import StartError, build_daemon
from logvigil.app.logs import setup_logging
from logvigil.app.settings import Settings
from logvigil.app.signals import install_signal_handlers
from logvigil.app.webconfig import split_listen
from logvigil.cli.kit import (
    ConfigOpt,
    err,
    fail,
    fail_config,
    inventory_or_none,
    long_job,
    settings_or_exit,
)
from logvigil.core.yamlfile import ConfigError
from logvigil.store.database import StoreError
from logvigil.web.app import create_app
from logvigil.web.serve import serve_in_thread
from notify.outbox import broken_channels

RoleOpt = Annotated[
    str,
    typer.Option(
        "--role",
        help="ingest (sources -> store), detect (ticks, notifications; one leader), or all",
    ),
]


def run(
    config: ConfigOpt = None,
    role: RoleOpt = "all",
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            help="serve Prometheus metrics on this loopback port (overrides metrics.port)",
            min=0,
            max=65535,
        ),
    ] = None,
    log_format: Annotated[
        str, typer.Option("--log-format", help="auto (JSON unless a terminal), json or text")
    ] = "auto",
) -> None:
    """Run the daemon: ingest the configured sources, tick the detectors every minute.

    With several processes on one PostgreSQL or MariaDB store, run `--role ingest`
    near the logs and `--role detect` (one or more: one leads, the others take
    over when it dies). Stops cleanly on SIGTERM or Ctrl-C after finishing the
    tick in progress.
    """
    try:
        the_role = Role(role)
    except ValueError:
        fail(f"--role must be ingest, detect or all, got: {role}")
    if log_format not in ("auto", "json", "text"):
        fail(f"--log-format must be auto, json or text, got: {log_format}")
    setup_logging(None if log_format == "auto" else log_format == "json")
    settings = settings_or_exit(config)
    try:
        daemon = build_daemon(settings, role=the_role, metrics_port=metrics_port)
    except ConfigError as exc:
        fail_config(exc)
    except (StoreError, GraphError, StartError) as exc:
        fail(str(exc))
    runtime = daemon.runtime
    if daemon.metrics is not None:
        err.print(f"metrics on {daemon.metrics.url}", highlight=False)

    with runtime.engine.connect() as conn:
        for channel, (reason, since) in broken_channels(conn).items():
            err.print(
                f"[yellow]warning:[/] notification channel {escape(channel)} is broken since "
                f"{since:%Y-%m-%d %H:%M} UTC: {escape(reason or '?')} "
                "(fix it, then `logvigil notify test`)",
                soft_wrap=True,
            )
    if runtime.graph.fallback_reason:
        err.print(f"[yellow]warning:[/] {escape(runtime.graph.fallback_reason)}", soft_wrap=True)
    if the_role.ingests and not daemon.sources.active:
        err.print(
            "[yellow]warning:[/] no sources configured: detecting on what other processes "
            "ingest into this store (see docs/daemon.md)",
            soft_wrap=True,
        )
    stop_web = _start_web(settings, runtime.engine)
    restore_signals = install_signal_handlers(daemon.stop)
    long_job()
    try:
        daemon.run()
    finally:
        restore_signals()
        stop_web()
        daemon.close()


def _start_web(settings: Settings, engine: Engine) -> Callable[[], None]:
    """The pages beside the daemon when `web.listen` is set (checked with the config:
    loopback, or a token); returns what stops them."""
    if settings.web.listen is None:
        return lambda: None
    host, port = split_listen(settings.web.listen)
    token = settings.web.token.get_secret_value() if settings.web.token else None
    inventory = inventory_or_none(settings.graph.inventory, "no graph on the pages")
    try:
        app = create_app(engine, settings, inventory=inventory, token=token)
        stop = serve_in_thread(app, host, port)
    except OSError as exc:
        fail(f"web.listen: {exc}")
    err.print(f"pages on http://{host}:{port}/", highlight=False)
    return stop
