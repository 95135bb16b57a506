"""`logvigil incidents`: the incidents recorded in the store, as a list or one by one.

Reads only: without a store, says so and exits 2 (nothing is created). Tables print
every value whole in a pipe (see `logvigil.cli.kit.out`); `--json` is the machine format.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from detector.incidents.manager import IncidentManager
from logvigil.app.settings import Settings
from logvigil.cli.kit import (
    ConfigOpt,
    DbOpt,
    existing_store_or_exit,
    fail,
    out,
    settings_or_exit,
    store_errors,
)

app = typer.Typer(help="Incidents recorded in the store.", no_args_is_help=False)


def incident_table(incidents: list[dict[str, Any]], title: str) -> Table:
    """One row per incident (their JSON, see Incident.to_json), for a terminal."""
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


def _manager(settings: Settings, db: str | None) -> IncidentManager:
    engine = existing_store_or_exit(settings, db)
    return IncidentManager(engine, None, settings.detector.incidents)


@app.callback(invoke_without_command=True)
def incidents_default(ctx: typer.Context, db: DbOpt = None, config: ConfigOpt = None) -> None:
    """List incidents (the default), or `show ID`."""
    if ctx.invoked_subcommand is None:
        incidents_list(db=db, config=config, as_json=False, limit=50)


@app.command("list")
def incidents_list(
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """The most recent incidents, newest first."""
    settings = settings_or_exit(config)
    manager = _manager(settings, db)
    with store_errors(manager.engine, "incidents"):
        incidents = [i.to_json() for i in manager.list(limit=limit)]
    if as_json:
        for inc in incidents:
            sys.stdout.write(json.dumps(inc) + "\n")
        return
    out.print(incident_table(incidents, f"{len(incidents)} incident(s)"))


@app.command("show")
def incidents_show(
    incident_id: Annotated[int, typer.Argument(help="incident id", min=1)],
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One incident: triggers, suspected root, blast radius and its context bundle."""
    settings = settings_or_exit(config)
    manager = _manager(settings, db)
    with store_errors(manager.engine, f"incident {incident_id}"):
        incident = manager.get(incident_id)
    if incident is None:
        fail(f"no incident {incident_id}")
    data = incident.to_json()
    if as_json:
        data["bundle"] = None if incident.bundle is None else incident.bundle.to_json()
        sys.stdout.write(json.dumps(data, default=str) + "\n")
        return
    root = data.get("suspected_root") or {}
    heading = f"[bold]incident {data['id']}: {escape(incident.title)}"
    if out.is_terminal:
        out.rule(heading)
    else:  # a rule is as wide as the console, unbounded in a pipe
        out.print(heading)
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
