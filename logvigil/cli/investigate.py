"""The `investigate` command: replay, or re-run, the investigation of an incident.

    investigate --incident 42                 # the stored report, exactly; no model call
    investigate --incident 42 --rerun         # again, with today's inventory and model; the diff
    investigate --incident 42 --llm none      # force the deterministic report (with --rerun)
    investigate --incident 42 --json          # the report as one JSON object

The report is Markdown; on a terminal it is rendered for it (`rich`), piped or
redirected it is printed as Markdown, byte for byte as stored.

An incident without a stored report is investigated on the spot. Errors go
to standard error with exit status 2, never as a traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from detector.incidents import repository as repo
from detector.incidents.manager import IncidentNotFound
from detector.incidents.topology import InventoryTopology
from investigate.model import Report
from investigate.service import diff_reports
from investigate.service import investigate as investigate_incident
from logvigil.app.runtime import read_inventory
from logvigil.app.settings import Settings
from logvigil.cli.kit import err, existing_store_or_exit, fail, fail_config, settings_or_exit
from logvigil.cli.llmopts import LlmContextOpt, LlmOpt, LlmUrlOpt, runner_or_exit, with_llm
from logvigil.core.timeutil import wall_clock
from logvigil.core.yamlfile import ConfigError
from logvigil.store.database import StoreError, describe_db_error
from notify.service import post_incident

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
out = Console(highlight=False, soft_wrap=True)
#: Controls other than tab and newline (ANSI escapes among them), kept off a terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _settings(
    config: Path | None, llm: str | None, url: str | None, context: int | None
) -> Settings:
    return with_llm(settings_or_exit(config), llm, url, context)


def _topology(settings: Settings) -> InventoryTopology:
    try:
        return InventoryTopology(read_inventory(settings.graph.inventory))
    except ConfigError as exc:
        fail_config(exc)


def _stored_report(engine: Engine, incident: int) -> dict[str, Any] | None:
    """The incident's report exactly as stored (for a byte-identical replay), None when it
    has none yet. Raises IncidentNotFound."""
    with engine.connect() as conn:
        stored = repo.load_report_json(conn, incident)
        if stored is None and repo.load(conn, incident) is None:
            raise IncidentNotFound(incident)
    return stored


def show_markdown(md: str) -> None:
    """The report as Markdown when standard output is a file or a pipe; rendered for the
    terminal (headings, lists, code; no backslash escapes) when it is one. Control
    characters (a log line's terminal escapes) never reach the terminal."""
    if not out.is_terminal:
        typer.echo(md, nl=not md.endswith("\n"))
        return
    out.print(Markdown(_CONTROL.sub("", md)), soft_wrap=False)


def _print(report_json: dict[str, Any], as_json: bool, changes: list[str] | None) -> None:
    if as_json:
        obj = dict(report_json)
        if changes is not None:
            obj["changes"] = changes
        typer.echo(json.dumps(obj, ensure_ascii=False))
        return
    show_markdown(report_json.get("report_md", ""))
    if changes is not None:
        out.print("Changes against the stored report:", markup=False)
        for line in changes or ["nothing changed"]:
            out.print(f"- {line}", markup=False)


@app.command()
def investigate(
    incident: Annotated[int, typer.Option("--incident", help="incident id", min=1)],
    db: Annotated[
        str | None, typer.Option("--db", help="database URL (default: from the config)")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="configuration file (logvigil.yaml)")
    ] = None,
    llm: LlmOpt = None,
    llm_url: LlmUrlOpt = None,
    llm_context: LlmContextOpt = None,
    rerun: Annotated[
        bool, typer.Option("--rerun", help="investigate again and show what changed")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    post: Annotated[
        bool,
        typer.Option("--post", help="post the report to the configured notification channels"),
    ] = False,
) -> None:
    """Replay the stored investigation of an incident, or re-run it with --rerun.

    With --post, the report is then delivered to every configured channel
    (silences and quiet hours do not apply to this explicit request); exits 0 once
    delivered, 1 with each channel's error if delivery failed for good.
    """
    settings = _settings(config, llm, llm_url, llm_context)
    engine = existing_store_or_exit(settings, db)  # an incident needs a store: never create one
    try:
        stored = _stored_report(engine, incident)
        if stored is not None and not rerun:
            _print(stored, as_json, None)
            if post:
                _post(engine, incident, settings)
            return
        if stored is None:
            err.print(f"incident {incident} has no stored report: investigating it now")
        report = investigate_incident(
            engine,
            _topology(settings),
            incident,
            incidents=settings.detector.incidents,
            crew_runner=runner_or_exit(settings),
            now=wall_clock(),
        )
        changes = (
            diff_reports(Report.from_json(stored), report) if stored is not None and rerun else None
        )
        _print(report.to_json(), as_json, changes)
        if post:
            _post(engine, incident, settings)
    except IncidentNotFound:
        fail(f"no incident {incident} in {engine.url.render_as_string(hide_password=True)}")
    except typer.Exit:
        raise
    except DBAPIError as exc:  # one located line: never the SQL, its parameters, the report
        url = engine.url.render_as_string(hide_password=False)
        fail(f"incident {incident}: {describe_db_error(exc, url)}")
    except StoreError as exc:
        fail(f"incident {incident}: {exc}")
    except Exception as exc:  # never a traceback: name the failure
        fail(f"incident {incident}: {type(exc).__name__}: {exc}")
    finally:
        engine.dispose()


def _post(engine: Engine, incident: int, settings: Settings) -> None:
    """Deliver the stored report now; exit 1 naming each channel that failed."""
    result = post_incident(engine, incident, settings.notify, wall_clock())
    if result.ok:
        names = ", ".join(c.channel for c in result.channels)
        err.print(f"posted incident {incident} to {escape(names)}")
        return
    if result.error:
        err.print(f"[bold red]error:[/] {escape(result.error)}")
    for c in result.channels:
        if not c.ok:
            err.print(f"[bold red]error:[/] {escape(c.channel)}: {escape(c.detail)}")
    raise typer.Exit(1)


def main() -> None:
    app()
