"""Shared pieces of the `logvigil` command line: the app, input formats and reading.

Exit codes, the common options and the one way to fail live in `logvigil.cli.kit`:
0 success, 1 partial success (some input lines were rejected; they are reported
and counted), 2 usage, configuration or store error. User mistakes get one clear
message on stderr, never a traceback.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from logvigil.cli.kit import err, fail
from logvigil.core.events import LogEvent, Rejected
from logvigil.ingest.inputs import Input, InputError, iter_lines, open_input

FORMATS = ("auto", "jsonl", "journal", "syslog", "raw")

app = typer.Typer(
    name="logvigil",
    help="LogVigil: a self-hosted log watchdog that stays silent until a human is needed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)  # a long line stays one line in a pipe (grep)

FormatOpt = Annotated[
    str, typer.Option("--format", "-f", help="input format: " + ", ".join(FORMATS))
]
InputArg = Annotated[str, typer.Argument(help="log file to read, or - for standard input")]


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        fail(f"unknown --format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return fmt


@contextmanager
def _opened(path: str) -> Iterator[Input]:
    try:
        inp = open_input(path)
    except InputError as exc:
        fail(str(exc))
    try:
        yield inp
    finally:
        inp.close()


def _progress(inp: Input) -> Progress:
    """A progress bar on stderr; silent when stderr is not a terminal."""
    if inp.size:
        columns = [
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
        ]
    else:
        columns = [TextColumn("{task.description}"), MofNCompleteColumn(), TimeElapsedColumn()]
    return Progress(*columns, console=err, transient=True, disable=not err.is_terminal)


def _events(
    inp: Input, fmt: str, progress: Progress | None = None
) -> Iterator[LogEvent | Rejected]:
    """Read `inp` in `fmt`, advancing `progress` by bytes (files) or lines (pipes)."""
    from logvigil.ingest.formats import ReadOptions, read_events

    stem = Path(inp.name).stem if inp.name != "-" else "stdin"
    options = ReadOptions(
        source=inp.name, default_host=socket.gethostname(), default_service=stem or "unknown"
    )
    lines: Iterable[bytes] = iter_lines(inp.stream)
    if progress is not None:
        lines = _counted(lines, progress, inp)
    try:
        yield from read_events(lines, fmt, options)
    except ValueError as exc:  # unknown format: usage error
        fail(str(exc))


def _counted(lines: Iterable[bytes], progress: Progress, inp: Input) -> Iterator[bytes]:
    task = progress.add_task(f"reading {inp.name}", total=inp.size)
    pending = 0
    for n, line in enumerate(lines, start=1):
        pending += len(line) if inp.size else 1
        if n % 4096 == 0:
            progress.advance(task, pending)
            pending = 0
        yield line
    progress.advance(task, pending)
