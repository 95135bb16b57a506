"""`logvigil search TEXT`: the store's templates that match what an operator typed.

    logvigil search "disk full on the nas"
    logvigil search "postgres killed" --since 2026-03-03 --until 2026-03-04
    logvigil search "connection refused" --service gitea --host web-01 --json

Each hit: the template id and text, the services and hosts that log it, first and
last seen, its lines over the range (by service) and the newest sample line.
Times are ISO 8601 (`2026-03-04`, `2026-03-04T09:00`, `...Z` or `+01:00`; without an
offset, UTC) or a span back from now (`30m`, `6h`, `2d`). Reads only.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from logvigil.cli.kit import (
    ConfigOpt,
    DbOpt,
    err,
    existing_store_or_exit,
    fail,
    out,
    settings_or_exit,
    store_errors,
)
from logvigil.core.text import single_line, truncate
from logvigil.core.timeutil import parse_when as parse_when_text
from logvigil.core.timeutil import wall_clock
from logvigil.search.embed import Embedder, EmbeddingsConfig, EmbedError, embedding_text
from logvigil.search.templates import Hit, UnknownName, search_templates
from logvigil.search.vectors import backfill

if TYPE_CHECKING:
    import numpy as np


def parse_when(value: str, option: str, now: datetime) -> datetime:
    """`value` of `option` as an aware UTC time (`logvigil.core.timeutil.parse_when`); exits
    2 naming the option when it is neither ISO 8601 nor a span back from `now`."""
    try:
        return parse_when_text(value, now)
    except ValueError as exc:
        fail(f"{option} {value!r}: {exc}")


SinceOpt = Annotated[
    str | None, typer.Option("--since", help="from this time (ISO 8601, or 30m, 6h, 2d)")
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="before this time (ISO 8601, or 30m, 6h, 2d)")
]


def range_or_exit(
    since: str | None, until: str | None, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """`--since` and `--until` as UTC times; exits 2 naming the option that is wrong, or
    when the range is empty."""
    start = parse_when(since, "--since", now) if since else None
    end = parse_when(until, "--until", now) if until else None
    if start is not None and end is not None and start >= end:
        fail(f"--since {since!r} is not before --until {until!r}")
    return start, end


def search(
    text: Annotated[str, typer.Argument(help="what to look for, in your own words")],
    service: Annotated[str | None, typer.Option("--service", help="only this service")] = None,
    host: Annotated[str | None, typer.Option("--host", help="only this host")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    limit: Annotated[int, typer.Option("--limit", help="hits at most", min=1, max=1000)] = 10,
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Search the mined templates in an operator's words ("disk full on the nas").

    Lexical ranking (BM25 over template text, service names boosted, operator words
    mapped to what programs log); filters by service, host and time range. Reads
    only: without a store, says so and exits 2. An unknown service or host exits 2
    with the closest names.
    """
    if not text.strip():
        fail("search: give some words to look for")
    start, end = range_or_exit(since, until, wall_clock())
    settings = settings_or_exit(config)
    engine = existing_store_or_exit(settings, db)
    semantic = _query_vector(settings.embeddings, text)
    try:
        with store_errors(engine, "search"):
            hits = search_templates(
                engine,
                text,
                service=service,
                host=host,
                since=start,
                until=end,
                limit=limit,
                semantic=semantic,
            )
    except UnknownName as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    if as_json:
        payload = {
            "query": text,
            "ranking": "lexical+semantic" if semantic else "lexical",
            "service": service,
            "host": host,
            "since": start.isoformat() if start else None,
            "until": end.isoformat() if end else None,
            "hits": [h.to_json() for h in hits],
        }
        out.print_json(json.dumps(payload))
        return
    if not hits:
        out.print(f"no template matches {escape(single_line(text))!r}")
        return
    out.print(_table(hits))


def _query_vector(config: EmbeddingsConfig, text: str) -> tuple[str, np.ndarray] | None:
    """(model, the query's vector) when an embedding server is configured and answers;
    otherwise None, with a warning when it failed: the lexical ranking still answers."""
    if config.provider == "none":
        return None
    try:
        embedder = Embedder(config)
        return embedder.name, embedder.embed([embedding_text(text)])[0]
    except (ValueError, EmbedError) as exc:
        err.print(f"[yellow]warning:[/] semantic ranking off: {escape(str(exc))}")
        return None


def embed(
    limit: Annotated[
        int | None, typer.Option("--limit", help="templates at most (default: all)", min=1)
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Embed the templates that have no current vector (the daemon does it on its own).

    Needs an `embeddings:` section in the config; exits 2 without one, 1 when the
    server fails (the vectors of the batches before it are kept).
    """
    settings = settings_or_exit(config)
    if settings.embeddings.provider == "none":
        fail("embed: no embeddings server is configured (the `embeddings:` section)")
    try:
        embedder = Embedder(settings.embeddings)
    except ValueError as exc:
        fail(f"embeddings: {exc}")
    engine = existing_store_or_exit(settings, db)
    try:
        with store_errors(engine, "embed"):
            done = backfill(engine, embedder, wall_clock(), limit)
    except EmbedError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    out.print(f"{done:,} template(s) embedded with {escape(embedder.name)}")


def _cell(text: str | None, chars: int) -> str:
    """Log text for the terminal: one line, no control characters, no rich markup."""
    return escape(truncate(single_line(text or ""), chars)) if text else "-"


def _table(hits: list[Hit]) -> Table:
    t = Table(title="templates", title_justify="left")
    for col in ("id", "template", "services", "hosts", "first seen", "last seen", "lines"):
        t.add_column(col, justify="right" if col in ("id", "lines") else "left")
    for h in hits:
        template = _cell(h.template, 200) + (
            f"\n[dim]e.g. {_cell(h.sample, 200)}[/]" if h.sample else ""
        )
        t.add_row(
            str(h.template_id),
            template,
            escape(", ".join(h.services)),
            escape(", ".join(h.hosts)) or "-",
            f"{h.first_seen:%Y-%m-%d %H:%M}",
            f"{h.last_seen:%Y-%m-%d %H:%M}",
            f"{h.lines:,}",
        )
    return t
