"""`logvigil ingest`: store events, templates and per-minute counts from files or stdin."""

from __future__ import annotations

from collections.abc import Iterable

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine

from logvigil.app.settings import Settings
from logvigil.cli.kit import (
    EXIT_OK,
    EXIT_PARTIAL,
    ConfigOpt,
    DbOpt,
    FormatOpt,
    InputsArg,
    ServiceOpt,
    TimezoneOpt,
    YearOpt,
    check_format,
    err,
    fail,
    long_job,
    opened,
    progress_bar,
    read_input,
    report_untimed,
    settings_or_exit,
    store_or_exit,
)
from logvigil.core.events import LogEvent, Rejected
from logvigil.ingest.ingestor import BULK_BATCH_SIZE, Ingestor, IngestSummary
from logvigil.ingest.noise import NoiseFilter
from logvigil.store.database import StoreError


def ingest(
    paths: InputsArg = None,
    fmt: FormatOpt = "auto",
    timezone: TimezoneOpt = None,
    year: YearOpt = None,
    service: ServiceOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Store events, templates and per-minute counts from log files or stdin.

    Several files, a directory or a quoted glob are read oldest first (rotated files:
    syslog.2.gz, syslog.1, syslog); .gz, .bz2 and .xz are decompressed.
    """
    check_format(fmt)
    settings = settings_or_exit(config)
    engine = store_or_exit(settings, db)
    with (
        opened(paths, fmt, timezone=timezone, year=year, service=service) as reader,
        progress_bar(reader) as progress,
    ):
        long_job()
        try:
            summary = run_ingest(settings, engine, read_input(reader, progress))
        except StoreError as exc:
            fail(f"{exc} (batches written before this error are kept)")
    err.print(summary_table(summary))
    report_untimed(summary)
    for r in summary.rejection_samples[:5]:
        err.print(f"[yellow]rejected[/] {escape(r.describe())}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_PARTIAL if summary.rejected_total else EXIT_OK)


def run_ingest(
    settings: Settings, engine: Engine, items: Iterable[LogEvent | Rejected]
) -> IngestSummary:
    """Feed `items` into the store of `engine`; returns the IngestSummary. Raises StoreError."""
    noise = NoiseFilter.from_config(settings.detector.noise)
    ingestor = Ingestor(engine, noise, batch_size=BULK_BATCH_SIZE)
    ingestor.feed(items)
    return ingestor.close()


def summary_table(summary: IngestSummary) -> Table:
    """What an ingest read, stored, rejected and dropped, as a two-column table."""
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
    if summary.redacted:
        table.add_row("secrets redacted before storing", f"{summary.redacted:,}")
    if summary.untimed:
        table.add_row("no time stamp (placed at reading)", f"{summary.untimed:,}")
    return table
