"""`logvigil mine`: the log templates of log files, like a log-pattern view; stores nothing."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from logvigil.cli.kit import (
    EXIT_OK,
    EXIT_PARTIAL,
    FormatOpt,
    InputsArg,
    ServiceOpt,
    TimezoneOpt,
    YearOpt,
    check_format,
    err,
    long_job,
    opened,
    out,
    progress_bar,
    read_input,
)
from logvigil.core.events import Rejected, Severity
from logvigil.core.memo import RepeatMemo, answered
from logvigil.core.redact import redact
from logvigil.ingest.inputs import InputReader
from logvigil.ingest.templates import TemplateMiner

#: --jsonl rows written at a time (about 40 KB) when the input is files.
ROWS_PER_WRITE = 256


def mine(
    paths: InputsArg = None,
    fmt: FormatOpt = "auto",
    timezone: TimezoneOpt = None,
    year: YearOpt = None,
    service: ServiceOpt = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="one JSON object per input line, in input order")
    ] = False,
    top: Annotated[int, typer.Option(help="templates shown in the table", min=1)] = 50,
) -> None:
    """Mine log templates from log files and show them, like a log-pattern view.

    Stores nothing. With --jsonl, prints {"line", "template_id", "template"} per
    line as it streams (the template as known at that line: ids are stable, the
    text may generalise later); rejected lines print {"line", "error"}. With
    several files each object also names its "file" ("line" counts in that file).
    """
    check_format(fmt)
    miner = TemplateMiner()
    counts: dict[int, int] = {}
    worst: dict[int, Severity] = {}
    rejected = 0
    encoded: dict[int, tuple[str, str]] = {}  # template id -> (text, its JSON)
    rows: list[str] = []  # --jsonl rows not written yet
    redacted: RepeatMemo[str, str] = RepeatMemo()
    with (
        # --jsonl shows no severity: the level words of each message are not looked for.
        opened(
            paths, fmt, timezone=timezone, year=year, service=service, severities=not jsonl
        ) as reader,
        progress_bar(reader) as progress,
    ):
        several = len(reader.paths) > 1
        # Rows are written a chunk at a time: with an unbuffered stdout (PYTHONUNBUFFERED,
        # which container images set) a write per row is a system call per line. Standard
        # input may be a live stream: its rows go out as they come.
        chunk = 1 if reader.paths == ["-"] else ROWS_PER_WRITE
        events = read_input(reader, None if jsonl else progress)
        long_job()
        try:
            for item in events:
                if isinstance(item, Rejected):
                    if item.reason != "empty line":
                        rejected += 1
                        if jsonl:
                            row = _where(reader) if several else {"line": item.line_no}
                            rows.append(json.dumps({**row, "error": item.reason}) + "\n")
                        else:
                            err.print(
                                f"[yellow]rejected[/] {escape(item.describe())}",
                                highlight=False,
                                soft_wrap=True,
                            )
                else:
                    # As ingest mines: secrets never shown, looked for once per message.
                    m = miner.add(answered(redacted, item.message, redact))
                    counts[m.template_id] = counts.get(m.template_id, 0) + 1
                    if item.severity > worst.get(m.template_id, Severity.DEBUG):
                        worst[m.template_id] = item.severity
                    if not jsonl:
                        continue
                    # A template's JSON is encoded once per text it takes, not per line.
                    text = encoded.get(m.template_id)
                    if text is None or text[0] is not m.template:
                        text = encoded[m.template_id] = (m.template, json.dumps(m.template))
                    if several:
                        head = json.dumps(_where(reader))[:-1] + ", "
                    else:
                        head = f'{{"line": {reader.line_no}, '
                    rows.append(f'{head}"template_id": {m.template_id}, "template": {text[1]}}}\n')
                if len(rows) >= chunk:
                    _write(rows)
        finally:
            _write(rows)
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


def _where(reader: InputReader) -> dict[str, str | int]:
    """The file and line of the item `reader` yielded last."""
    return {"file": reader.name, "line": reader.line_no}


def _write(rows: list[str]) -> None:
    """Write `rows` to stdout in one call and empty the list."""
    if rows:
        text = "".join(rows)
        rows.clear()
        sys.stdout.write(text)
