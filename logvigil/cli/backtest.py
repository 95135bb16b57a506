"""`logvigil backtest`: replay recorded logs through the daemon's code on a simulated clock."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from graph.inventory import Inventory
from graph.store import GraphError
from logvigil.app.backtest import replay
from logvigil.app.runtime import Runtime, read_inventory
from logvigil.app.settings import Settings
from logvigil.cli.incidents import incident_table
from logvigil.cli.kit import (
    EXIT_OK,
    EXIT_PARTIAL,
    ConfigOpt,
    DbOpt,
    FormatOpt,
    InputsArg,
    ServiceOpt,
    TimezoneOpt,
    YearOpt,
    check_format,
    err,
    fail,
    fail_config,
    long_job,
    opened,
    out,
    progress_bar,
    read_input,
    report_untimed,
    settings_or_exit,
)
from logvigil.core.yamlfile import ConfigError
from logvigil.store.database import StoreError

InventoryOpt = Annotated[
    Path | None,
    typer.Option("--inventory", "-i", help="inventory file (default: from the config)"),
]


def backtest(
    paths: InputsArg = None,
    logs: Annotated[
        list[str] | None,
        typer.Option("--logs", "-l", help="recorded logs, as the arguments (may be repeated)"),
    ] = None,
    fmt: FormatOpt = "auto",
    timezone: TimezoneOpt = None,
    year: YearOpt = None,
    service: ServiceOpt = None,
    inventory: InventoryOpt = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per incident")] = False,
) -> None:
    """Replay recorded logs through the daemon's code on a simulated clock.

    Several files, a directory or a quoted glob are read oldest first (rotated
    files: syslog.2.gz, syslog.1, syslog). Prints the incidents it would have
    opened. With --db everything is kept in that database for `logvigil
    incidents` and `investigate`.
    """
    check_format(fmt)
    if bool(paths) == bool(logs):
        fail(
            "give the recorded logs once: `backtest FILE...`, `backtest DIR`, "
            "`backtest 'GLOB'`, `backtest -` or `backtest --logs FILE`"
        )
    settings = settings_or_exit(config)
    inv = _inventory_or_exit(inventory, settings)
    with tempfile.TemporaryDirectory(prefix="logvigil-backtest-") as tmp:
        url = db or f"sqlite:///{Path(tmp) / 'backtest.db'}"
        try:
            runtime = Runtime(settings, db_url=url, inventory=inv)
        except (StoreError, GraphError) as exc:
            fail(str(exc))
        try:
            with (
                opened(paths or logs, fmt, timezone=timezone, year=year, service=service) as reader,
                progress_bar(reader) as progress,
            ):
                long_job()
                started = time.perf_counter()
                result = replay(runtime, read_input(reader, progress))
                seconds = time.perf_counter() - started
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
        out.print(incident_table(result.incidents, f"{len(result.incidents)} incident(s), {span}"))
    s = result.summary
    err.print(
        f"{s.lines:,} lines, {s.events:,} events, {s.dropped_total:,} dropped as noise, "
        f"{s.rejected_total:,} rejected, {result.ticks:,} ticks; replayed in {seconds:.2f} s "
        f"({s.lines / max(seconds, 1e-6):,.0f} lines/s)",
        highlight=False,
    )
    report_untimed(s, replayed=True)
    for finding in result.clock_findings:
        err.print(f"clock: {escape(finding.summary)}", highlight=False, soft_wrap=True)
    for host in result.newest_first:
        err.print(
            f"clock: the lines of {escape(host.host)} run newest first ({host.back:,} of "
            f"{host.steps:,} steps of their time go back: `journalctl -r`, or a web "
            "interface's export?); a replay reads a log oldest first: reverse the file "
            "(`tac FILE > FILE.oldest-first`) and replay that",
            highlight=False,
            soft_wrap=True,
        )
    if result.unset_clock_lines:
        err.print(
            f"clock: {result.unset_clock_lines:,} line(s) stamped before any clock was set "
            "(before 2000) were placed at their host's time",
            highlight=False,
        )
    for name, error in result.detector_errors.items():
        err.print(f"[yellow]detector {escape(name)} failed:[/] {escape(error)}", soft_wrap=True)
    raise typer.Exit(EXIT_PARTIAL if s.rejected_total else EXIT_OK)


def _inventory_or_exit(path: Path | None, settings: Settings) -> Inventory:
    try:
        return read_inventory(path or settings.graph.inventory)
    except ConfigError as exc:
        fail_config(exc)
