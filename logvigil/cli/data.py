"""Commands over the store: check-config, mine, ingest, stats, prune."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from logvigil.app.settings import Settings
from logvigil.cli.common import (
    FormatOpt,
    InputArg,
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
    settings_or_exit,
    store_or_exit,
)
from logvigil.core.events import LogEvent, Rejected, Severity
from logvigil.core.redact import hide_url_password

# --------------------------------------------------------------------------- check-config


@app.command("check-config")
def check_config(
    path: Annotated[
        Path | None,
        typer.Argument(help="config file (default: $LOGVIGIL_CONFIG or ./logvigil.yaml)"),
    ] = None,
) -> None:
    """Validate a configuration file; exit 0 when valid, 2 with every error otherwise."""
    settings = settings_or_exit(path)

    out.print(f"[green]ok[/]: {escape(str(path or 'configuration'))} is valid")
    out.print(f"  database:  {escape(hide_url_password(settings.database_url))}")
    out.print(f"  data dir:  {escape(str(settings.data_dir))}")
    out.print(f"  inventory: {escape(str(settings.graph.inventory))}")
    out.print(
        f"  sources:   {len(settings.sources)}, noise rules: {len(settings.detector.noise.rules)}"
        f" (+ built-in: {'yes' if settings.detector.noise.defaults else 'no'})"
    )
    out.print(f"  llm:       {settings.llm.provider}")


# --------------------------------------------------------------------------- mine


@app.command()
def mine(
    path: InputArg = "-",
    fmt: FormatOpt = "auto",
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="one JSON object per input line, in input order")
    ] = False,
    top: Annotated[int, typer.Option(help="templates shown in the table", min=1)] = 50,
) -> None:
    """Mine log templates from a file and show them, like a log-pattern view.

    Stores nothing. With --jsonl, prints {"line", "template_id", "template"} per
    line as it streams (the template as known at that line: ids are stable, the
    text may generalise later); rejected lines print {"line", "error"}.
    """
    from logvigil.ingest.templates import TemplateMiner

    _check_format(fmt)
    miner = TemplateMiner()
    counts: dict[int, int] = {}
    worst: dict[int, Severity] = {}
    rejected = lines = 0
    write = sys.stdout.write
    with _opened(path) as inp, _progress(inp) as progress:
        events = _events(inp, fmt, None if jsonl else progress)
        for lines, item in enumerate(events, start=1):
            if isinstance(item, Rejected):
                if item.reason != "empty line":
                    rejected += 1
                    if jsonl:
                        write(json.dumps({"line": item.line_no, "error": item.reason}) + "\n")
                    else:
                        err.print(
                            f"[yellow]rejected[/] {escape(item.describe())}",
                            highlight=False,
                            soft_wrap=True,
                        )
                continue
            m = miner.add(item.message)
            counts[m.template_id] = counts.get(m.template_id, 0) + 1
            if item.severity > worst.get(m.template_id, Severity.DEBUG):
                worst[m.template_id] = item.severity
            if jsonl:
                line_no = item.attributes.get("_line", lines) if item.attributes else lines
                write(
                    json.dumps(
                        {"line": line_no, "template_id": m.template_id, "template": m.template}
                    )
                    + "\n"
                )
    if not jsonl:
        texts = dict(miner.templates())
        table = Table(title=f"{len(texts)} templates from {sum(counts.values())} lines")
        table.add_column("id", justify="right")
        table.add_column("count", justify="right")
        table.add_column("share", justify="right")
        table.add_column("severity")
        table.add_column("template", overflow="fold")
        total = max(1, sum(counts.values()))
        for tid, n in sorted(counts.items(), key=lambda kv: -kv[1])[:top]:
            sev = worst.get(tid, Severity.INFO)
            style = "red" if sev >= Severity.ERROR else "yellow" if sev == Severity.WARNING else ""
            table.add_row(
                str(tid),
                str(n),
                f"{100 * n / total:.1f}%",
                sev.label,
                escape(texts[tid]),
                style=style,
            )
        out.print(table)
        if rejected:
            err.print(f"{rejected} line(s) rejected")
    raise typer.Exit(EXIT_PARTIAL if rejected else EXIT_OK)


# --------------------------------------------------------------------------- ingest


def _summary_table(summary) -> Table:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("lines read", f"{summary.lines:,}")
    table.add_row("events stored", f"{summary.events:,}")
    table.add_row("new templates", f"{summary.new_templates:,}")
    table.add_row("rejected", f"{summary.rejected_total:,}")
    for reason, n in summary.rejected.most_common():
        table.add_row(f"  {escape(reason)}", f"{n:,}")
    table.add_row("dropped by noise rules", f"{summary.dropped_total:,}")
    for rule, n in summary.dropped.most_common():
        table.add_row(f"  {escape(rule)}", f"{n:,}")
    if summary.downgraded:
        table.add_row("downgraded by noise rules", f"{sum(summary.downgraded.values()):,}")
        for rule, n in summary.downgraded.most_common():
            table.add_row(f"  {escape(rule)}", f"{n:,}")
    table.add_row("empty lines skipped", f"{summary.skipped_empty:,}")
    table.add_row("truncated (> 64 KiB)", f"{summary.truncated:,}")
    return table


def run_ingest(settings: Settings, engine, items: Iterable[LogEvent | Rejected]):
    """Feed `items` into the store of `engine`; returns the IngestSummary. Raises StoreError."""
    from logvigil.ingest.ingestor import Ingestor
    from logvigil.ingest.noise import NoiseFilter

    ingestor = Ingestor(engine, NoiseFilter.from_config(settings.detector.noise))
    ingestor.feed(items)
    return ingestor.close()


@app.command()
def ingest(
    path: InputArg = "-",
    fmt: FormatOpt = "auto",
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Store events, templates and per-minute counts from a log file or stdin."""
    from logvigil.store.database import StoreError

    _check_format(fmt)
    settings = settings_or_exit(config)
    engine = store_or_exit(settings, db)
    with _opened(path) as inp, _progress(inp) as progress:
        try:
            summary = run_ingest(settings, engine, _events(inp, fmt, progress))
        except StoreError as exc:
            fail(f"{exc} (batches written before this error are kept)")
    err.print(_summary_table(summary))
    for r in summary.rejection_samples[:5]:
        err.print(f"[yellow]rejected[/] {escape(r.describe())}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_PARTIAL if summary.rejected_total else EXIT_OK)


# --------------------------------------------------------------------------- stats


@app.command()
def stats(
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """What the store holds: events, templates, counts, noise drops, rejections, services."""
    from logvigil.store.stats import collect_stats

    settings = settings_or_exit(config)
    engine = store_or_exit(settings, db)
    s = collect_stats(engine)
    if as_json:
        out.print_json(json.dumps(s.to_json()))
        return
    head = Table(show_header=False, box=None)
    head.add_column(style="bold")
    head.add_column()
    head.add_row("database", escape(s.database))
    head.add_row("schema", str(s.schema_revision))
    head.add_row("events stored", f"{s.events_stored:,}")
    head.add_row("templates", f"{s.templates:,}")
    head.add_row("count rows", f"{s.count_rows:,} ({s.lines_counted:,} lines)")
    if s.oldest_event:
        head.add_row(
            "events from",
            f"{s.oldest_event:%Y-%m-%d %H:%M:%S} to {s.newest_event:%Y-%m-%d %H:%M:%S} UTC",
        )
    out.print(head)
    for title, data in (
        ("dropped by noise rule", s.dropped_by_rule),
        ("downgraded by noise rule", s.downgraded_by_rule),
        ("rejected lines by reason", s.rejected_by_reason),
        ("skipped", s.skipped),
    ):
        if data:
            t = Table(title=title, title_justify="left")
            t.add_column("rule / reason")
            t.add_column("lines", justify="right")
            for k, n in data.items():
                t.add_row(escape(k), f"{n:,}")
            out.print(t)
    if s.services:
        t = Table(title="per-service volume", title_justify="left")
        for col in ("service", "lines", "errors", "templates", "last seen (UTC)"):
            t.add_column(col, justify="left" if col == "service" else "right")
        for v in s.services:
            t.add_row(
                escape(v.service),
                f"{v.lines:,}",
                f"{v.errors:,}",
                f"{v.templates:,}",
                f"{v.last_seen:%Y-%m-%d %H:%M}" if v.last_seen else "-",
                style="red" if v.errors else "",
            )
        out.print(t)


# --------------------------------------------------------------------------- prune


@app.command()
def prune(db: DbOpt = None, config: ConfigOpt = None) -> None:
    """Apply retention: drop raw events and per-minute counts older than configured.

    The daemon does this on its own; this command is for stores fed by `ingest`.
    """
    from datetime import UTC, datetime

    from logvigil.store.retention import purge

    settings = settings_or_exit(config)
    engine = store_or_exit(settings, db)
    r = purge(
        engine,
        datetime.now(UTC),
        event_days=settings.database.event_retention_days,
        count_days=settings.database.count_retention_days,
    )
    out.print(
        f"purged {r.events:,} events (> {settings.database.event_retention_days} days), "
        f"{r.rejections:,} rejection samples and {r.count_rows:,} count rows "
        f"(> {settings.database.count_retention_days} days)"
        + (f"; forgot {r.sources:,} sources no process reported on" if r.sources else "")
    )
