"""`logvigil stats`: what the store holds."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from logvigil.cli.kit import (
    ConfigOpt,
    DbOpt,
    existing_store_or_exit,
    out,
    settings_or_exit,
    store_errors,
)
from logvigil.store.stats import collect_stats


def stats(
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """What the store holds: events, templates, counts, noise drops, rejections, services.

    Reads only: without a store, says so and exits 2 (nothing is created).
    """
    settings = settings_or_exit(config)
    engine = existing_store_or_exit(settings, db)
    with store_errors(engine, "stats"):
        s = collect_stats(engine)
    engine.dispose()
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
        ("local times in a daylight-saving change", s.time_adjusted),
        ("lines with no time of their own", s.untimed),
        ("redacted before they were stored", s.redacted),
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
