"""What every LogVigil command shares: exit codes, options, one way to fail, reading inputs.

`logvigil` (the command modules registered in `logvigil.cli`), its `notify` /
`silence` sub-apps (`logvigil.cli.notify`) and `investigate`
(`logvigil.cli.investigate`) all use these. The kit is a module of its own rather
than the package's `__init__`: importing the package mounts every command (and
`logvigil.cli.notify` is one of them), so the commands could not import from it.

Exit codes: 0 success, 1 partial success (some input lines were rejected; they are
reported and counted), 2 usage, configuration or store error. User mistakes get
one clear line per problem on stderr (`error: file:line: field: message`), never
a traceback. A command that only reads opens its store with `existing_store_or_exit`:
no database there is an error (exit 2), never a new empty one.

Standard output (`out`) is as wide as the terminal on a terminal; in a pipe or a file
it is as wide as its widest line, so a table prints every value whole ("2026-03-03
10:00:00", never "2026-03-0" over "3") and `grep`/`cut` see one row per line.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from graph.inventory import Inventory, load_inventory, name_problem
from logvigil.app.settings import Settings, load_settings
from logvigil.core.events import LogEvent, Rejected
from logvigil.core.yamlfile import ConfigError
from logvigil.ingest.formats import FORMAT_NAMES
from logvigil.ingest.formats._common import MAX_YEAR, MIN_YEAR
from logvigil.ingest.ingestor import IngestSummary
from logvigil.ingest.inputs import (
    InputError,
    InputReader,
    expand_inputs,
    machine_zone,
    time_zone,
)
from logvigil.store.database import StoreError, describe_db_error
from migrations.apply import open_engine

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2

#: The input formats a command reads (`--format`).
FORMATS = FORMAT_NAMES

#: The width of standard output in a pipe or a file: tables keep their natural width
#: (a rich table never grows past its content), every value whole.
PIPE_WIDTH = 1_000_000


class _Stdout(Console):
    """A console as wide as the terminal, or unbounded when stdout is not a terminal:
    rich would otherwise wrap tables at 80 columns (or at $COLUMNS, or the width of
    the terminal the pipe started from) and cut values in half. A `width` given
    explicitly is kept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fixed_width = kwargs.get("width") is not None

    @property
    def size(self) -> ConsoleDimensions:
        dims = super().size
        if not self._fixed_width and not self.is_terminal:
            return ConsoleDimensions(PIPE_WIDTH, dims.height)
        return dims

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


out = _Stdout(soft_wrap=True)  # a long line stays one line in a pipe (grep)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def stdout_console(**kwargs: Any) -> Console:
    """A console on standard output like `out` (unbounded in a pipe), with `kwargs`."""
    return _Stdout(soft_wrap=True, **kwargs)


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
InputsArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="log files, directories or quoted globs ('/var/log/syslog*'), read oldest "
        "first; .gz, .bz2 and .xz are decompressed; - for standard input",
        show_default=False,
    ),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        help="IANA zone (Europe/Berlin) of timestamps written without an offset "
        "(default: this machine's zone)",
    ),
]
YearOpt = Annotated[
    int | None,
    typer.Option(
        "--year",
        help="year of the first year-less stamp (syslog, klog) of each log; "
        "runs on at each December-to-January wrap",
    ),
]
ServiceOpt = Annotated[
    str | None,
    typer.Option(
        "--service",
        help="the program of lines that name none (an application's own log file, JSONL "
        "without `service`), as inventory.yaml names it (default: unknown)",
    ),
]


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
    """The store at `db`, else the configured one, migrated to head; created when it
    does not exist yet (the commands that write: ingest, prune, silence add, notify test)."""
    try:
        return open_engine(db or settings.database_url)
    except StoreError as exc:
        fail(str(exc))


def existing_store_or_exit(settings: Settings, db: str | None = None) -> Engine:
    """The store at `db`, else the configured one, for a command that reads: a store
    that is not there is `error: no database at PATH (run ...)` and exit 2, and
    nothing is created (neither the file nor its directory)."""
    try:
        return open_engine(db or settings.database_url, must_exist=True)
    except StoreError as exc:
        fail(str(exc))


@contextmanager
def store_errors(engine: Engine, doing: str | None = None) -> Iterator[None]:
    """Turn a database error inside the block into one located line and exit 2:
    `error: [DOING: ]database URL: cannot update incidents: REASON`, never the SQL
    statement, its parameters or a traceback."""
    try:
        yield
    except DBAPIError as exc:
        line = describe_db_error(exc, engine.url.render_as_string(hide_password=False))
        fail(f"{doing}: {line}" if doing else line)
    except StoreError as exc:
        fail(f"{doing}: {exc}" if doing else str(exc))


# --------------------------------------------------------------------------- reading inputs


#: The youngest generation's threshold for a long job (Python's default: 700).
LONG_JOB_GC_THRESHOLD = 10_000
#: Whether this process is the command's own (`logvigil.cli.main`), not another program
#: running a command in its process (a test's CliRunner): only then does `long_job` act.
_OWN_PROCESS: list[bool] = [False]


def own_process() -> None:
    """Say that this process runs one command and ends with it (`logvigil.cli.main`)."""
    _OWN_PROCESS[0] = True


def long_job() -> None:
    """Set the garbage collector for the job about to run (a replay, an ingest, the
    daemon): start-up's objects (hundreds of thousands: SQLAlchemy, pydantic, the crew)
    are frozen out of every later collection, and young objects are collected every
    10,000 allocations instead of 700. A replay's lines and rows are freed by their
    reference counts; the collector looking for cycles among them took 4 to 8% of a
    replay, with pauses of up to 140 ms (3.8 to 7.6% on the real logs, 2026-12-01).
    Only in a process that runs one job (`own_process`): frozen objects are never
    collected."""
    if not _OWN_PROCESS[0]:
        return
    gc.freeze()
    gc.set_threshold(LONG_JOB_GC_THRESHOLD, *gc.get_threshold()[1:])


def report_untimed(summary: IngestSummary, *, replayed: bool = False) -> None:
    """Say, on stderr, how many lines had no time stamp of a shape LogVigil reads: placed
    at the time of reading (a replay places those before a stamped line at its time),
    their minutes say nothing of their own."""
    n = summary.untimed
    if not n:
        return
    hint = (
        "(the shapes read: docs/formats.md; `--format` names the format when detection "
        "chose another)"
    )
    if n == summary.events:
        text = (
            f"none of the {n:,} lines has a time stamp of a shape LogVigil reads; placed "
            f"at the time of reading, they cannot be judged over time {hint}"
        )
    else:
        placed = (
            "at the time of the first stamped line"
            if replayed
            else "at the time of reading, not at the first stamped line's"
        )
        text = (
            f"{n:,} of the {summary.events:,} lines came before any line with a time stamp "
            f"of a shape LogVigil reads and were placed {placed} {hint}"
        )
    err.print(f"time: {text}", highlight=False, soft_wrap=True)


def check_format(fmt: str) -> str:
    """`fmt` when it is one of `FORMATS`; a usage error otherwise."""
    if fmt not in FORMATS:
        fail(f"unknown --format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return fmt


@contextmanager
def opened(
    paths: Sequence[str] | str | None,
    fmt: str = "auto",
    *,
    timezone: str | None = None,
    year: int | None = None,
    service: str | None = None,
    severities: bool = True,
) -> Iterator[InputReader]:
    """A reader of the inputs `paths` name (files, directories, quoted globs; `-`:
    standard input), oldest first, in `fmt`, with the lines' zone and year
    (`--timezone`, `--year`) and the program of lines that name none (`--service`);
    closed afterwards. A usage error when an input cannot be found or opened, or the
    zone, the year or the name is not one. `severities` False: the
    events keep their lines' declared severity (`ReadOptions.severities`)."""
    args = [paths] if isinstance(paths, str) else list(paths or ["-"])
    # Without --timezone, a file was written in the zone of the machine that reads it.
    overrides: dict[str, Any] = {"naive_tz": machine_zone()}
    if timezone is not None:
        try:
            overrides["naive_tz"] = time_zone(timezone)
        except ValueError as exc:
            fail(f"--timezone: {exc}")
    if year is not None:
        if not MIN_YEAR <= year <= MAX_YEAR:
            fail(f"--year {year}: give a year from {MIN_YEAR} to {MAX_YEAR}")
        overrides["year"] = year
    if service is not None:
        if (why := name_problem(service)) is not None:
            fail(f"--service {service!r}: {why}")
        overrides["default_service"] = service
    if not severities:
        overrides["severities"] = False
    try:
        reader = InputReader(expand_inputs(args), fmt, **overrides)
    except InputError as exc:
        fail(str(exc))
    except ValueError as exc:  # unknown format
        fail(str(exc))
    try:
        yield reader
    finally:
        reader.close()


#: What the progress bar says besides bytes: lines read, their rate, the log time reached.
_PROGRESS_TEXT = "{task.fields[lines]:,} lines {task.fields[rate]} {task.fields[reached]}"


def progress_bar(reader: InputReader) -> Progress:
    """A progress bar on stderr (bytes when the size is known, lines, lines/s and the log
    time reached); silent when stderr is not a terminal."""
    head = [TextColumn("{task.description}")]
    if reader.size:
        head += [BarColumn(), DownloadColumn()]
    columns = [*head, TextColumn(_PROGRESS_TEXT), TimeElapsedColumn()]
    return Progress(*columns, console=err, transient=True, disable=not err.is_terminal)


def read_input(
    reader: InputReader, progress: Progress | None = None
) -> Iterator[LogEvent | Rejected]:
    """The events of `reader`, advancing `progress` by bytes on disk (files; compressed
    bytes for compressed files) and by lines, with the log time the events reached."""
    if progress is None or progress.disable:
        yield from reader
        return
    task = progress.add_task(
        f"reading {reader.name}", total=reader.size or None, lines=0, rate="", reached=""
    )
    name = reader.name
    reached: datetime | None = None
    n = 0
    for n, item in enumerate(reader, start=1):
        if isinstance(item, LogEvent) and (reached is None or item.ts > reached):
            reached = item.ts
        if n % 4096 == 0:
            _advance(progress, task, reader, n, reached)
            if reader.name != name:
                name = reader.name
                progress.update(task, description=f"reading {name}")
        yield item
    _advance(progress, task, reader, n, reached)


def _advance(
    progress: Progress, task: TaskID, reader: InputReader, lines: int, reached: datetime | None
) -> None:
    elapsed = progress.tasks[task].elapsed or 0.0
    fields = {
        "lines": lines,
        "rate": f"({lines / elapsed:,.0f}/s)" if elapsed > 0 else "",
        "reached": f"log time {reached:%Y-%m-%d %H:%M}" if reached is not None else "",
    }
    if reader.size:
        progress.update(task, completed=reader.position(), **fields)
    else:
        progress.update(task, completed=lines, **fields)


def inventory_or_none(path: Path, without: str) -> Inventory | None:
    """The inventory at `path` for a command that can do without it, or None: when there is
    none, or when it cannot be read (its first problem is said on stderr, then `without`)."""
    if not path.exists():
        return None
    try:
        return load_inventory(path)
    except ConfigError as exc:
        first = exc.problems[0] if exc.problems else exc
        more = len(exc.problems) - 1
        err.print(
            f"warning: {first}{f' (and {more} more)' if more > 0 else ''}; {without}",
            markup=False,
            style="yellow",
        )
        return None
