"""Detection commands: backtest, incidents, run, demo, eval."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from logvigil.app.settings import ConfigError, Settings
from logvigil.cli.common import (
    FormatOpt,
    _check_format,
    _events,
    _opened,
    _progress,
    app,
    out,
)
from logvigil.cli.kit import (
    EXIT_OK,
    EXIT_PARTIAL,
    ConfigOpt,
    DbOpt,
    err,
    fail,
    fail_config,
    settings_or_exit,
    store_or_exit,
)

# --------------------------------------------------------------------------- backtest


InventoryOpt = Annotated[
    Path | None,
    typer.Option("--inventory", "-i", help="inventory file (default: from the config)"),
]


def _inventory_or_exit(path: Path | None, settings: Settings):
    from logvigil.app.runtime import read_inventory

    try:
        return read_inventory(path or settings.graph.inventory)
    except ConfigError as exc:
        fail_config(exc)


def _incident_table(incidents: list[dict], title: str) -> Table:
    t = Table(title=title, title_justify="left")
    for col in (
        "id",
        "opened (UTC)",
        "resolved",
        "severity",
        "suspected root",
        "services",
        "trigger",
    ):
        t.add_column(col, overflow="fold")
    for inc in incidents:
        root = inc.get("suspected_root") or {}
        first = (inc.get("triggers") or [{}])[0]
        t.add_row(
            str(inc["id"]),
            str(inc["opened_at"]).replace("T", " ").removesuffix("Z"),
            str(inc.get("resolved_at") or "open").replace("T", " ").removesuffix("Z"),
            str(inc["severity"]),
            escape(f"{root.get('service') or '?'} on {root.get('host') or '?'}"),
            escape(", ".join(inc.get("services", []))),
            escape(str(first.get("summary", ""))),
        )
    return t


@app.command()
def backtest(
    path: Annotated[
        str | None, typer.Argument(help="recorded logs, or - for stdin (same as --logs)")
    ] = None,
    logs: Annotated[
        str | None, typer.Option("--logs", "-l", help="recorded logs, or - for stdin")
    ] = None,
    fmt: FormatOpt = "auto",
    inventory: InventoryOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per incident")] = False,
) -> None:
    """Replay recorded logs through the daemon's code on a simulated clock.

    Prints the incidents it would have opened. With --db everything is kept in
    that database for `logvigil incidents` and `investigate`.
    """
    from graph.store import GraphError
    from logvigil.app.backtest import replay
    from logvigil.app.runtime import Runtime
    from logvigil.store.database import StoreError

    _check_format(fmt)
    if (path is None) == (logs is None):
        fail("give the recorded logs once: `backtest FILE`, `backtest -` or `backtest --logs FILE`")
    logs = logs if logs is not None else path
    settings = settings_or_exit(config)
    inv = _inventory_or_exit(inventory, settings)
    with tempfile.TemporaryDirectory(prefix="logvigil-backtest-") as tmp:
        url = db or f"sqlite:///{Path(tmp) / 'backtest.db'}"
        try:
            runtime = Runtime(settings, db_url=url, inventory=inv)
        except (StoreError, GraphError) as exc:
            fail(str(exc))
        try:
            with _opened(logs) as inp, _progress(inp) as progress:
                result = replay(runtime, _events(inp, fmt, progress))
        finally:
            runtime.close()
    if as_json:
        for inc in result.incidents:
            sys.stdout.write(json.dumps(inc) + "\n")
    else:
        span = (
            f"{result.first_event:%Y-%m-%d %H:%M} to {result.last_event:%Y-%m-%d %H:%M} UTC"
            if result.first_event and result.last_event
            else "no events"
        )
        out.print(_incident_table(result.incidents, f"{len(result.incidents)} incident(s), {span}"))
    s = result.summary
    err.print(
        f"{s.lines:,} lines, {s.events:,} events, {s.dropped_total:,} dropped as noise, "
        f"{s.rejected_total:,} rejected, {result.ticks:,} ticks",
        highlight=False,
    )
    for name, error in result.detector_errors.items():
        err.print(f"[yellow]detector {escape(name)} failed:[/] {escape(error)}", soft_wrap=True)
    raise typer.Exit(EXIT_PARTIAL if s.rejected_total else EXIT_OK)


# --------------------------------------------------------------------------- incidents

incidents_app = typer.Typer(help="Incidents recorded in the store.", no_args_is_help=False)
app.add_typer(incidents_app, name="incidents")


def _manager(settings: Settings, db: str | None):
    from detector.incidents.manager import IncidentManager

    engine = store_or_exit(settings, db)
    return IncidentManager(engine, None, settings.detector.incidents)


@incidents_app.callback(invoke_without_command=True)
def incidents_default(ctx: typer.Context, db: DbOpt = None, config: ConfigOpt = None) -> None:
    """List incidents (the default), or `show ID`."""
    if ctx.invoked_subcommand is None:
        incidents_list(db=db, config=config, as_json=False, limit=50)


@incidents_app.command("list")
def incidents_list(
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """The most recent incidents, newest first."""
    settings = settings_or_exit(config)
    incidents = [i.to_json() for i in _manager(settings, db).list(limit=limit)]
    if as_json:
        for inc in incidents:
            sys.stdout.write(json.dumps(inc) + "\n")
        return
    out.print(_incident_table(incidents, f"{len(incidents)} incident(s)"))


@incidents_app.command("show")
def incidents_show(
    incident_id: Annotated[int, typer.Argument(help="incident id", min=1)],
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One incident: triggers, suspected root, blast radius and its context bundle."""
    settings = settings_or_exit(config)
    incident = _manager(settings, db).get(incident_id)
    if incident is None:
        fail(f"no incident {incident_id}")
    data = incident.to_json()
    if as_json:
        data["bundle"] = incident.bundle
        sys.stdout.write(json.dumps(data, default=str) + "\n")
        return
    root = data.get("suspected_root") or {}
    out.rule(f"[bold]incident {data['id']}: {escape(incident.title)}")
    out.print(
        f"status {incident.status}, severity {data['severity']}, opened {data['opened_at']}"
        f", resolved {data.get('resolved_at') or '-'}"
    )
    out.print(
        f"suspected root: {escape(str(root.get('service')))} on {escape(str(root.get('host')))}"
    )
    radius = ", ".join(
        str(r.get("service", r)) if isinstance(r, dict) else str(r) for r in data["blast_radius"]
    )
    out.print(f"blast radius: {escape(radius) or '-'}")
    t = Table(title="triggers", title_justify="left")
    for col in ("at", "detector", "service", "host", "summary"):
        t.add_column(col, overflow="fold")
    for trig in data["triggers"]:
        t.add_row(
            *(
                escape(str(trig.get(c) or "-"))
                for c in ("at", "detector", "service", "host", "summary")
            )
        )
    out.print(t)


# --------------------------------------------------------------------------- run

RoleOpt = Annotated[
    str,
    typer.Option(
        "--role",
        help="ingest (sources -> store), detect (ticks, notifications; one leader), or all",
    ),
]


def _metrics_config(settings: Settings, port: int | None):
    from logvigil.app.metrics import MetricsConfig

    config = getattr(settings, "metrics", None) or MetricsConfig()
    if port is not None:
        config = config.model_copy(update={"port": port})
    return config


@app.command()
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
    from graph.store import GraphError, open_store
    from logvigil.app.daemon import (
        STATUS_FILE,
        Daemon,
        Role,
        build_sources,
        install_signal_handlers,
    )
    from logvigil.app.leader import leader_for
    from logvigil.app.logs import setup_logging
    from logvigil.app.runtime import Runtime
    from logvigil.store.database import StoreError

    try:
        the_role = Role(role)
    except ValueError:
        fail(f"--role must be ingest, detect or all, got: {role}")
    if log_format not in ("auto", "json", "text"):
        fail(f"--log-format must be auto, json or text, got: {log_format}")
    setup_logging(None if log_format == "auto" else log_format == "json")
    settings = settings_or_exit(config)
    inv = _inventory_or_exit(None, settings)
    metrics = None
    metrics_config = _metrics_config(settings, metrics_port)
    if metrics_config.port is not None:
        from logvigil.app.metrics import Metrics

        metrics = Metrics()
        try:
            bound = metrics.serve(metrics_config)
        except OSError as exc:
            fail(f"cannot serve metrics on {metrics_config.bind}:{metrics_config.port}: {exc}")
        err.print(f"metrics on http://{metrics_config.bind}:{bound}/metrics", highlight=False)
    try:
        graph = open_store(settings.graph.url, settings.data_dir / "graph")
        runtime = Runtime(settings, inventory=inv, graph=graph, notify=True, shared_store=True)
    except (StoreError, GraphError) as exc:
        fail(str(exc))
    from notify.outbox import broken_channels

    with runtime.engine.connect() as conn:
        for channel, (reason, since) in broken_channels(conn).items():
            err.print(
                f"[yellow]warning:[/] notification channel {escape(channel)} is broken since "
                f"{since:%Y-%m-%d %H:%M} UTC: {escape(reason or '?')} "
                "(fix it, then `logvigil notify test`)",
                soft_wrap=True,
            )
    if graph.fallback_reason:
        err.print(f"[yellow]warning:[/] {escape(graph.fallback_reason)}", soft_wrap=True)
    from sqlalchemy import select

    from logvigil.store.schema import IngestCursor

    with runtime.engine.connect() as conn:
        cursors = dict(conn.execute(select(IngestCursor.source, IngestCursor.cursor)).all())
    try:
        sources = build_sources(settings, cursors) if the_role.ingests else []
    except (ValueError, OSError) as exc:
        runtime.close()
        fail(f"cannot start the sources: {exc}")
    daemon = Daemon(
        runtime,
        sources,
        role=the_role,
        leader=leader_for(runtime.engine),
        metrics=metrics,
        status_path=settings.data_dir / STATUS_FILE,
    )
    if the_role.ingests and not daemon.sources:
        err.print(
            "[yellow]warning:[/] no sources configured: detecting on what other processes "
            "ingest into this store (see docs/daemon.md)",
            soft_wrap=True,
        )
    restore_signals = install_signal_handlers(daemon.stop)
    try:
        daemon.run()
    finally:
        restore_signals()
        runtime.close()
        if metrics is not None:
            metrics.close()


# --------------------------------------------------------------------------- status


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


@app.command()
def status(
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """The daemon's state: last tick, leader, sources, learning, incidents, notifications.

    Shared state comes from the store; a source's current error and the loaded
    inventory come from the status file the local daemon writes in its data directory.
    """
    from datetime import UTC, datetime

    from logvigil.app.daemon import STATUS_FILE
    from logvigil.app.status import gather, read_status_file

    settings = settings_or_exit(config)
    engine = store_or_exit(settings, db)
    process = read_status_file(settings.data_dir / STATUS_FILE)
    data = gather(engine, settings, datetime.now(UTC), process)
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
        return
    last = data["last_tick"]
    out.print(
        "last tick: "
        + (
            f"{last['at']} ({last['duration_ms']} ms, {last['findings']} findings)"
            if last
            else "never"
        )
    )
    if last and last["errors"]:
        for name, error in last["errors"].items():
            out.print(f"  [yellow]detector {escape(name)} failing:[/] {escape(str(error))}")
    leader = data["leader"]
    out.print(
        "leader: "
        + (
            f"{escape(leader['identity'])} (last tick {_ago(leader['age_s'])} ago)"
            if leader
            else "none yet"
        )
    )
    daemon = data["daemon"]
    if daemon is None:
        out.print("local daemon: no status file in the data directory")
    else:
        state = "[green]running[/]" if daemon["running"] else "[red]not running[/]"
        out.print(
            f"local daemon: {state}, role {escape(str(daemon['role']))}, "
            f"{escape(str(daemon['identity']))}, since {escape(str(daemon['started_at']))}"
        )
    for name, src in sorted(data["sources"].items()):
        out.print(_source_line(name, src))
    learning = [s for s in data["learning"] if s["learning"]]
    out.print(f"services: {len(data['learning'])} seen, {len(learning)} still learning")
    for s in learning:
        out.print(
            f"  {escape(s['service'])}: {s['progress'] * 100:.0f}% learnt, "
            f"detecting from {s['learned_at']}"
        )
    out.print(f"open incidents: {data['open_incidents']}")
    for inc in data["incidents"]:
        out.print(f"  #{inc['id']} {escape(inc['title'])} (since {inc['opened_at']})")
    inv = data["inventory"]
    extra = f" ({inv['services']} services, {inv['hosts']} hosts)" if "services" in inv else ""
    out.print(f"inventory: {escape(inv['path'])}{extra}")
    for problem in inv.get("problems") or []:
        out.print(f"  [yellow]refused edit:[/] {escape(problem)}")
    for c in data["channels"]:
        state = f"[red]BROKEN: {escape(c['reason'] or '?')}[/]" if c["broken"] else "[green]ok[/]"
        out.print(
            f"channel {escape(c['channel'])}: {state}, {c['pending']} pending, "
            f"{c['unconfirmed']} unconfirmed, {c['failed']} failed"
        )


def _source_line(name: str, src: dict) -> str:
    line = f"source {escape(name)}"
    if src.get("process"):
        line += f" ({escape(str(src['kind']))}, read by {escape(str(src['process']))})"
    line += f": committed {_ago(src.get('lag_s'))} ago"
    if src.get("last_event_at"):
        line += f", last event {_ago(src.get('event_lag_s'))} ago"
    if src.get("process"):
        line += f", {src['lines']:,} lines"
        if not src["running"]:
            line += f", [red]its process last reported at {src['updated_at']}[/]"
    if src.get("unreachable_since"):
        line += f", [red]{escape(str(src['host']))} unreachable since {src['unreachable_since']}[/]"
    if src.get("error"):
        line += f", [red]error: {escape(str(src['error']))}[/]"
    return line


# --------------------------------------------------------------------------- install-service


@app.command("install-service")
def install_service(
    user: Annotated[str, typer.Option(help="the dedicated user the daemon runs as")] = "logvigil",
    prefix: Annotated[
        Path, typer.Option(help="the checkout with its uv environment (.venv)")
    ] = Path("/opt/logvigil"),
    config_dir: Annotated[
        Path, typer.Option("--config-dir", help="where logvigil.yaml and inventory.yaml live")
    ] = Path("/etc/logvigil"),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print what would be done; change nothing")
    ] = False,
) -> None:
    """Install the hardened systemd unit: user, state and config directories, unit, reload.

    Existing config files are kept. Enable it afterwards with
    `systemctl enable --now logvigil`. Needs root (except --dry-run).
    """
    import os

    from logvigil.app.service_install import InstallError, apply, plan

    try:
        steps = plan(user=user, prefix=prefix, config_dir=config_dir)
    except InstallError as exc:
        fail(str(exc))
    if dry_run:
        for step in steps:
            out.print(escape(step.describe()), highlight=False, soft_wrap=True)
            if step.content is not None:
                out.print(escape(step.content), highlight=False, soft_wrap=True)
        out.print("(dry run: nothing was changed)", highlight=False)
        return
    if os.geteuid() != 0:
        fail("install-service needs root: run it with sudo (or try --dry-run)")
    try:
        apply(steps)
    except InstallError as exc:
        fail(str(exc))
    for step in steps:
        out.print(f"done: {escape(step.describe())}", highlight=False, soft_wrap=True)
    out.print(
        "next: edit the config and inventory in "
        f"{escape(str(config_dir))}, then `systemctl enable --now logvigil`",
        highlight=False,
    )


# --------------------------------------------------------------------------- demo


@app.command()
def demo(
    days: Annotated[
        int, typer.Option(help="days of synthetic logs (the first is learning)", min=2, max=30)
    ] = 3,
    db: DbOpt = None,
) -> None:
    """Backtest a bundled synthetic homelab with injected faults; a verdict per fault.

    Runs on embedded defaults (SQLite, embedded FalkorDB, no language model,
    console output) in a temporary directory. With --db the incidents stay in
    that database for `logvigil incidents`.
    """
    from graph.store import GraphError
    from logvigil.evaluation.demo import render_demo, run_demo
    from logvigil.store.database import StoreError

    settings = Settings()
    err.print(f"generating and replaying {days} days of a synthetic homelab...", highlight=False)
    try:
        result = run_demo(days, db_url=db, settings=settings)
    except (StoreError, GraphError) as exc:
        fail(str(exc))
    render_demo(result, out)
    if db:
        out.print(
            f"[dim]incidents kept in {escape(db)}: uv run logvigil incidents --db {escape(db)}[/]"
        )


# --------------------------------------------------------------------------- eval

DEFAULT_SUITE = Path("tests/scenarios")


@app.command("eval")
def eval_(
    suite: Annotated[
        Path, typer.Option(help="folder of scenarios (each with scenario.yaml)")
    ] = DEFAULT_SUITE,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Replay every scenario of a suite and score detection against its expected faults.

    Prints recall, false incidents per day, time to detect (p50/p95), incidents
    per fault and root accuracy; exits 1 when a requirement fails.
    """
    from logvigil.evaluation.scoring import backtest_runner, evaluate_suite, render, to_json

    settings = settings_or_exit(config)
    try:
        report = evaluate_suite(suite, backtest_runner(settings=settings))
    except ConfigError as exc:
        fail_config(exc)
    if as_json:
        sys.stdout.write(json.dumps(to_json(report)) + "\n")
    else:
        render(report, out)
    raise typer.Exit(EXIT_OK if report.passed else EXIT_PARTIAL)
