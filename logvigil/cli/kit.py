"""What every LogVigil command shares: exit codes, options, one way to fail, reading inputs.

`logvigil` (the command modules registered in `logvigil.cli`), its `notify` /
`silence` sub-apps (`logvigil.cli.notify`) and `investigate`
(`logvigil.cli.investigate`) all use these. The kit is a module of its own rather
than the package's `__init__`: importing the package mounts every command (and
`logvigil.cli.notify` is one of them), so the commands could not import from it.

Exit codes: 0 success, 1 partial success (some input lines were rejected; they are
reported and counted), 2 usage, configuration or store error. User mistakes get
one clear line per problem on stderr (`error: file:line: field: message`), never
a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from sqlalchemy import Engine

from logvigil.app.settings import Settings, load_settings
from logvigil.core.events import LogEvent, Rejected
from logvigil.core.yamlfile import ConfigError
from logvigil.ingest.formats import input_options, read_events
from logvigil.ingest.inputs import Input, InputError, iter_lines, open_input
from logvigil.store.database import StoreError
from migrations.apply import open_engine

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2

#: The input formats a command reads (`--format`).
FORMATS = ("auto", "jsonl", "journal", "syslog", "raw")

out = Console(soft_wrap=True)  # a long line stays one line in a pipe (grep)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="config file (default: $LOGVIGIL_CONFIG or ./logvigil.yaml)"
    ),
]
DbOpt = Annotated[
    str | None, typer.Option("--db", help="database URL (default: from the config, else SQLite)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]
FormatOpt = Annotated[
    str, typer.Option("--format", "-f", help="input format: " + ", ".join(FORMATS))
]
InputArg = Annotated[str, typer.Argument(help="log file to read, or - for standard input")]


# --------------------------------------------------------------------------- failing


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print `error: MESSAGE` on stderr and exit with `code` (2, a usage error, by default)."""
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def fail_config(exc: ConfigError) -> NoReturn:
    """Print every problem of an invalid file (file:line: field: message) and exit 2."""
    for problem in exc.problems:
        err.print(f"[bold red]error:[/] {escape(str(problem))}")
    raise typer.Exit(EXIT_USAGE) from None


def settings_or_exit(config: Path | None) -> Settings:
    """The settings from `config` (or $LOGVIGIL_CONFIG, ./logvigil.yaml, the defaults)."""
    try:
        return load_settings(config)
    except ConfigError as exc:
        fail_config(exc)


def store_or_exit(settings: Settings, db: str | None = None) -> Engine:
    """The store at `db`, else the configured one, migrated to head."""
    try:
        return open_engine(db or settings.database_url)
    except StoreError as exc:
        fail(str(exc))


# --------------------------------------------------------------------------- reading inputs


def check_format(fmt: str) -> str:
    """`fmt` when it is one of `FORMATS`; a usage error otherwise."""
    if fmt not in FORMATS:
        fail(f"unknown --format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return fmt


@contextmanager
def opened(path: str) -> Iterator[Input]:
    """The input at `path` (`-`: standard input), closed afterwards; a usage error when
    it cannot be opened."""
    try:
        inp = open_input(path)
    except InputError as exc:
        fail(str(exc))
    try:
        yield inp
    finally:
        inp.close()


def progress_bar(inp: Input) -> Progress:
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


def read_input(
    inp: Input, fmt: str, progress: Progress | None = None
) -> Iterator[LogEvent | Rejected]:
    """Read `inp` in `fmt`, advancing `progress` by bytes (files) or lines (pipes)."""
    options = input_options(inp.name)
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
