"""`logvigil status`: the daemon's state, from the store and the local status file."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape

from logvigil.app.status import STATUS_FILE, gather, read_status_file
from logvigil.cli.kit import (
    ConfigOpt,
    DbOpt,
    existing_store_or_exit,
    out,
    settings_or_exit,
    store_errors,
)
from logvigil.core.timeutil import parse_iso_or_none, wall_clock


def status(
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """The daemon's state: last tick, leader, sources, learning, incidents, notifications.

    Shared state comes from the store; a source's current error and the loaded
    inventory come from the status file the local daemon writes in its data directory.
    Reads only: without a store, says so and exits 2 (nothing is created).
    """
    settings = settings_or_exit(config)
    engine = existing_store_or_exit(settings, db)
    process = read_status_file(settings.data_dir / STATUS_FILE)
    with store_errors(engine, "status"):
        data = gather(engine, settings, wall_clock(), process)
    engine.dispose()
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
        return
    # The last tick is the newest evaluated window (the `ticks` table), and only that;
    # the leader's line is its heartbeat: it holds the lock, whether or not it ticked.
    last = data["last_tick"]
    if last:
        out.print(
            f"last tick: {last['at']} ({_when(last['at'], last['age_s'])}; "
            f"{last['duration_ms']} ms, {last['findings']} findings)"
        )
    else:
        out.print("last tick: none yet (no complete minute evaluated)")
    if last and last["errors"]:
        for name, error in last["errors"].items():
            out.print(f"  [yellow]detector {escape(name)} failing:[/] {escape(str(error))}")
    leader = data["leader"]
    out.print(
        "leader: "
        + (
            f"{escape(leader['identity'])} "
            f"(heartbeat {_when(leader['heartbeat_at'], leader['age_s'])})"
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
        seen = (
            f", first seen in the future: {_stamp(s['first_seen'])}"
            if s["first_seen_in_future"]
            else ""
        )
        out.print(
            f"  {escape(s['service'])}: {s['progress'] * 100:.0f}% learnt, "
            f"detecting from {s['learned_at']}{seen}"
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
            f"{c['unconfirmed']} unconfirmed, {c['failed']} failed, "
            f"last delivered {c['last_sent_at'] or 'never'}"
        )


def _ago(seconds: float) -> str:
    """A non-negative age, short: `42s`, `17m`, `5.2h`, `3.0d`."""
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _stamp(at: str | None) -> str:
    """`2199-01-01 00:00:00 UTC` of an ISO time (`-` when there is none)."""
    ts = parse_iso_or_none(at)
    return "-" if ts is None else f"{ts:%Y-%m-%d %H:%M:%S} UTC"


def _when(at: str | None, age_s: float | None) -> str:
    """`42s ago`; `in the future: 2199-01-01 00:00:00 UTC` for a time ahead of this
    machine's clock (a remote clock ahead, a line dated 2199), never a negative age."""
    if age_s is None:
        return "never"
    if age_s < -0.5:  # rounding: half a second of skew is "now"
        return f"in the future: {_stamp(at)}"
    return f"{_ago(max(age_s, 0.0))} ago"


def _source_line(name: str, src: dict[str, Any]) -> str:
    line = f"source {escape(name)}"
    if src.get("process"):
        line += f" ({escape(str(src['kind']))}, read by {escape(str(src['process']))})"
    line += f": committed {_when(src.get('committed_at'), src.get('lag_s'))}"
    if src.get("last_event_at"):
        line += f", last event {_when(src['last_event_at'], src.get('event_lag_s'))}"
    if src.get("process"):
        line += f", {src['lines']:,} lines"
        if not src["running"]:
            line += f", [red]its process last reported at {src['updated_at']}[/]"
    if src.get("unreachable_since"):
        line += f", [red]{escape(str(src['host']))} unreachable since {src['unreachable_since']}[/]"
    if src.get("error"):
        line += f", [red]error: {escape(str(src['error']))}[/]"
    return line
