"""`logvigil ask "QUESTION"`: an answer from the store, with the ids behind every fact.

    logvigil ask "what happened on db-01 last night?"
    logvigil ask "how many errors did nginx log yesterday, by hour?" --timezone Europe/Berlin
    logvigil ask "why did the backup fail on March 3" --json

Deterministic (no model): incidents in the range with their roots, exact counts, the
error templates with the most lines, the templates first seen, the templates that match
the question's words. With --llm, a model's wording of that evidence, checked. Reads the
store, and keeps each answer it gives (`answers` table) for `--replay`.
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.markup import escape
from sqlalchemy.exc import DBAPIError

from logvigil.cli.kit import (
    ConfigOpt,
    DbOpt,
    err,
    existing_store_or_exit,
    fail,
    inventory_or_none,
    out,
    settings_or_exit,
    store_errors,
)
from logvigil.cli.llmopts import LlmContextOpt, LlmUrlOpt, chat_client_or_exit, with_llm
from logvigil.cli.search import SinceOpt, UntilOpt, range_or_exit
from logvigil.core.text import single_line, truncate
from logvigil.core.timeutil import wall_clock
from logvigil.ingest.inputs import machine_zone
from logvigil.search.answer import Answer, Synthesis
from logvigil.search.answers import AnswerNotFound, load_answer, save_answer
from logvigil.search.ask import answer_question
from logvigil.search.synthesis import synthesise
from logvigil.store.database import describe_db_error


def ask(
    question: Annotated[str | None, typer.Argument(help="your question, in your own words")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone", help="IANA zone of the question's times (default: this machine's)"
        ),
    ] = None,
    llm: Annotated[
        str,
        typer.Option(
            "--llm",
            help="none (default: the deterministic answer) or openai:MODEL / ollama:MODEL, "
            "which words the evidence in one checked call",
        ),
    ] = "none",
    llm_url: LlmUrlOpt = None,
    llm_context: LlmContextOpt = None,
    replay: Annotated[
        int | None,
        typer.Option("--replay", metavar="ID", help="show answer ID again, exactly as given"),
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
    phrase or --since/--until: the last 24 hours. With --llm, a model words that
    evidence in a few sentences, each citing ids that are checked. Every answer is
    kept: --replay ID shows it again.
    """
    settings = settings_or_exit(config)
    if replay is not None:
        if question is not None:
            fail("ask: give a question or --replay ID, not both")
        engine = existing_store_or_exit(settings, db)
        try:
            with store_errors(engine, "ask --replay"):
                stored = load_answer(engine, replay)
        except AnswerNotFound as exc:
            fail(f"ask --replay {replay}: {exc}")
        finally:
            engine.dispose()
        _show(stored.id, stored.answer, ZoneInfo(stored.zone), as_json)
        return
    if question is None or not question.strip():
        fail("ask: give a question")
    try:
        zone = ZoneInfo(timezone) if timezone else machine_zone()
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"--timezone {timezone!r}: not an IANA zone name (e.g. Europe/Berlin)")
    now = wall_clock()
    start, end = range_or_exit(since, until, now)
    llm_config = with_llm(settings, llm, llm_url, llm_context).llm
    client = chat_client_or_exit(llm_config)
    inventory = inventory_or_none(settings.graph.inventory, "answering without the graph")
    engine = existing_store_or_exit(settings, db)
    try:
        with store_errors(engine, "ask"):
            answer = answer_question(
                engine, question, now=now, zone=zone, since=start, until=end, inventory=inventory
            )
            if client is not None:
                answer.synthesis = synthesise(answer, client, llm_config)
            try:
                answer_id: int | None = save_answer(engine, answer, zone=str(zone), asked_at=now)
            except DBAPIError as exc:  # a read-only store still answers
                answer_id = None
                err.print(
                    "warning: the answer is not kept: "
                    + describe_db_error(exc, engine.url.render_as_string(hide_password=True)),
                    markup=False,
                    style="yellow",
                )
    finally:
        engine.dispose()
    _show(answer_id, answer, zone, as_json)


def _show(answer_id: int | None, a: Answer, zone: tzinfo, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps({"id": answer_id, **a.to_json()}))
    else:
        _print(a, zone)
        if answer_id is not None:
            out.print(f"[dim]answer {answer_id} (logvigil ask --replay {answer_id})[/]")


def _text(text: str, chars: int = 160) -> str:
    """Log text for the terminal: one line, no control characters, no rich markup."""
    return escape(truncate(single_line(text), chars))


def _print_synthesis(s: Synthesis) -> None:
    if not s.sentences:
        out.print(
            f"[yellow]{escape(s.model)}'s answer is not used ({escape(s.status)}); "
            "the evidence follows[/]"
        )
    else:
        mark = "every sentence cites evidence" if s.status == "checked" else s.status
        out.print(f"[bold]answer[/] ({escape(s.model)}, {escape(mark)})")
        for sentence in s.sentences:
            cites = escape(f"[{', '.join(sentence.cites)}]")
            out.print(f"  {_text(sentence.text, 300)} {cites}")
    for why in s.removed:
        out.print(f"  [dim]left out: {_text(why, 200)}[/]")


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
    if a.synthesis is not None:
        _print_synthesis(a.synthesis)
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
    for g in a.neighbours:
        needs = escape(", ".join(g.depends_on)) or "nothing declared"
        users = escape(", ".join(g.used_by)) or "nothing declared"
        out.print(f"[bold]{escape(g.service)}[/] depends on {needs}; used by {users}")
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
