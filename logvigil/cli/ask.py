"""`logvigil ask "QUESTION"`: an answer from the store, with the ids behind every fact.

    logvigil ask "what happened on db-01 last night?"
    logvigil ask "how many errors did nginx log yesterday, by hour?" --timezone Europe/Berlin
    logvigil ask "why did the backup fail on March 3" --json

Deterministic (no model): incidents in the range with their roots, exact counts, the
error templates with the most lines, the templates first seen, the templates that match
the question's words. Reads only.
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.markup import escape

from logvigil.cli.kit import (
    ConfigOpt,
    DbOpt,
    existing_store_or_exit,
    fail,
    out,
    settings_or_exit,
    store_errors,
)
from logvigil.cli.search import SinceOpt, UntilOpt, range_or_exit
from logvigil.core.text import single_line, truncate
from logvigil.core.timeutil import wall_clock
from logvigil.ingest.inputs import machine_zone
from logvigil.search.ask import Answer, answer_question


def ask(
    question: Annotated[str, typer.Argument(help="your question, in your own words")],
    since: SinceOpt = None,
    until: UntilOpt = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone", help="IANA zone of the question's times (default: this machine's)"
        ),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Ask the store a question ("what happened on db-01 last night?").

    Reads its time phrase ("last night", "since 09:00", "on March 4", "between 02:00
    and 04:00") in --timezone, the hosts and services it names (a misspelt one gets
    "did you mean"), and answers with the incidents of the range and their roots,
    exact counts ("how many errors ... by hour"), the busiest error templates, the
    templates first seen, and the templates that match its words. Without a time
    phrase or --since/--until: the last 24 hours.
    """
    if not question.strip():
        fail("ask: give a question")
    try:
        zone = ZoneInfo(timezone) if timezone else machine_zone()
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"--timezone {timezone!r}: not an IANA zone name (e.g. Europe/Berlin)")
    now = wall_clock()
    start, end = range_or_exit(since, until, now)
    settings = settings_or_exit(config)
    engine = existing_store_or_exit(settings, db)
    try:
        with store_errors(engine, "ask"):
            answer = answer_question(engine, question, now=now, zone=zone, since=start, until=end)
    finally:
        engine.dispose()
    if as_json:
        out.print_json(json.dumps(answer.to_json()))
        return
    _print(answer, zone)


def _text(text: str, chars: int = 160) -> str:
    """Log text for the terminal: one line, no control characters, no rich markup."""
    return escape(truncate(single_line(text), chars))


def _print(a: Answer, zone: tzinfo) -> None:
    def at(t: datetime | None) -> str:
        return t.astimezone(zone).strftime("%Y-%m-%d %H:%M") if t is not None else "-"

    said = f' ("{escape(a.phrase)}")' if a.phrase else ""
    scope = ", ".join(escape(x) for x in (*a.hosts, *a.services)) or "every host and service"
    out.print(f"[bold]{at(a.start)} to {at(a.end)}[/] {escape(str(zone))}{said}, {scope}")
    for u in a.unknown:
        out.print(
            f"[yellow]{_text(u.word, 60)} is no host or service here; did you mean "
            f"{', '.join(escape(c) for c in u.closest)}?[/]"
        )
    out.print(f"[bold]incidents[/]: {len(a.incidents)}")
    for i in a.incidents:
        root = f"root: {escape(i.root)}" if i.root else "no root found"
        out.print(
            f"  #{i.id} {escape(f'[{i.severity}]')} {_text(i.title, 120)}, opened {at(i.opened_at)}"
            f", resolved {at(i.resolved_at)}; {root}"
        )
    if a.count is not None:
        c = a.count
        out.print(f"[bold]{c.what}[/]: {c.total:,}")
        for start, n in c.buckets:
            out.print(f"  {start:%Y-%m-%d %H:%M}  {n:,}")
    if a.top_errors:
        out.print("[bold]error templates with the most lines[/]")
        for t in a.top_errors:
            who = escape(", ".join(t.services))
            out.print(f"  T{t.id} ({t.lines:,} lines, {who}): {_text(t.template)}")
    if a.first_seen:
        out.print("[bold]templates first seen[/]")
        for t in a.first_seen:
            who = escape(", ".join(t.services))
            out.print(f"  T{t.id} ({who}, {at(t.first_seen)}): {_text(t.template)}")
    if a.matches:
        out.print("[bold]templates that match the question[/]")
        for h in a.matches:
            who = escape(", ".join(h.services))
            out.print(f"  T{h.template_id} ({h.lines:,} lines, {who}): {_text(h.template)}")
