"""`logvigil status`: the daemon's state, from the store and the local status file."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape

from logvigil.app.status import STATUS_FILE, gather, read_status_file
from logvigil.cli.kit import ConfigOpt, DbOpt, out, settings_or_exit, store_or_exit
from logvigil.core.timeutil import wall_clock


def status(
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """The daemon's state: last tick, leader, sources, learning, incidents, notifications.

    Shared state comes from the store; a source's current error and the loaded
    inventory come from the status file the local daemon writes in its data directory.
    """
    settings = settings_or_exit(config)
    engine = store_or_exit(settings, db)
    process = read_status_file(settings.data_dir / STATUS_FILE)
    data = gather(engine, settings, wall_clock(), process)
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


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def _source_line(name: str, src: dict[str, Any]) -> str:
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
