"""Readers: raw input lines (bytes) in, `LogEvent`s and `Rejected`s out.

`read_events` is the one entry point for the ingest pipeline, the CLI and
backtests. A reader is a function `(line, line_no, Context) -> LogEvent |
Rejected` for one non-empty line; FORMATS registers them by name. Readers never
raise on input: every line yields exactly one LogEvent or Rejected (an empty
line yields `Rejected(reason="empty line")`), so the caller can count lines and
rejections by reason. Before any reader sees it, a line that is not text is
rejected as `binary line, not text` (`_common.binary_reason`), and a line over the
read limit (a `LongLine`, only its head read) that should be JSON is rejected with
the limit in the reason. The one exception is journalctl's text output, read in
context by `journalctl.Session`: its marker lines that say nothing about the logs
(`-- No entries --`) yield nothing, and the further lines of a multi-line message
join their entry's event. docs/formats.md documents the formats and the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from itertools import chain
from pathlib import PurePath
from typing import Any, Literal

from logvigil.core.events import LogEvent, Rejected
from logvigil.core.timeutil import utc
from logvigil.ingest.formats import journal, journalctl, jsonl, raw, syslog
from logvigil.ingest.formats._common import (
    LINE_LIMIT,
    Context,
    GivenYear,
    LongLine,
    binary_reason,
    excerpt,
    long_line_reason,
)
from logvigil.ingest.formats.auto import detect_format, sniff

__all__ = [
    "FORMATS",
    "FORMAT_NAMES",
    "LINE_LIMIT",
    "Context",
    "FormatName",
    "LongLine",
    "ReadOptions",
    "Reader",
    "detect_format",
    "input_host",
    "input_options",
    "read_events",
]

Reader = Callable[[bytes, int, Context], LogEvent | Rejected]

FORMATS: dict[str, Reader] = {
    "jsonl": jsonl.parse,
    "journal": journal.parse,
    "syslog": syslog.parse,
    "raw": raw.parse,
    "journalctl": journalctl.parse,
}
#: What `fmt` accepts: "auto" plus the registered formats.
FORMAT_NAMES: tuple[str, ...] = ("auto", *FORMATS)
#: A format name in a config model or a CLI option: one of FORMAT_NAMES.
FormatName = Literal[FORMAT_NAMES]  # type: ignore[valid-type]
#: The formats whose every line is a JSON object.
JSON_FORMATS = frozenset({"jsonl", "journal"})

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class ReadOptions:
    """Defaults for what a line does not say.

    `source` names the input in LogEvent.source and Rejected.source (a path,
    "-"). `default_time` is the timestamp of raw lines and the reference for
    syslog's missing year; None means `datetime.now(UTC)`, read once when
    `read_events` is called. `naive_tz` is the zone of timestamps that carry
    none (RFC 3164, naive ISO 8601 in JSONL). `year`, when set, is the year of
    the first year-less (RFC 3164) stamp instead of inferring it; it runs on to
    the next year at each December-to-January wrap of the lines read in order.
    `not_after`, when set (a file read now: the time of reading and a day of slack),
    rejects a line stamped later: no line was written in the future of its reading
    (a clock far ahead, a line dated 2199), and the replay must not jump there.
    `severities` False leaves each event the severity its line declares (INFO when
    none) instead of raising it by the level words of its message: for a reader whose
    events' severity nobody reads (`mine --jsonl`), a sixth of a raw line's reading.
    """

    source: str = ""
    default_host: str = "localhost"
    default_service: str = "unknown"
    default_time: datetime | None = None
    naive_tz: tzinfo = UTC
    year: int | None = None
    not_after: datetime | None = None
    severities: bool = True


def input_host(name: str) -> str:
    """The host a line read from input `name` belongs to when it names none: the input's
    own name (`app` for `/var/log/app.jsonl`, `stdin` for `-`), never the machine
    LogVigil runs on, which is rarely the one that wrote a file someone hands it."""
    if name == "-":
        return "stdin"
    return PurePath(name).stem or "unknown"


def input_options(name: str, **overrides: Any) -> ReadOptions:
    """Options for reading input `name` (a path, or `-`): lines without a host are the
    input's (`input_host`), lines without a program are `unknown`. `overrides` set
    any other field (the zone, the time reference)."""
    values: dict[str, Any] = {"source": name, "default_host": input_host(name)}
    values.update(overrides)
    return ReadOptions(**values)


_DEFAULT_OPTIONS = ReadOptions()


def read_events(
    lines: Iterable[bytes], fmt: str = "auto", options: ReadOptions = _DEFAULT_OPTIONS
) -> Iterator[LogEvent | Rejected]:
    """Return an iterator of one LogEvent or Rejected per input line, in order (for
    journalctl's text output: per entry and boot marker, see `journalctl.Session`).

    `lines` are bytes lines as a binary file yields them (with or without
    `\\n` / `\\r\\n`). The input is streamed: "auto" buffers at most the first
    few lines to detect the format. Raises ValueError, at once, for an unknown
    `fmt`; never raises for the content of a line.
    """
    if fmt != "auto" and fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMAT_NAMES)}")
    now = utc(options.default_time) if options.default_time else datetime.now(UTC)
    ctx = Context(
        source=options.source,
        host=options.default_host,
        service=options.default_service,
        now=now,
        naive_tz=options.naive_tz,
        year=None if options.year is None else GivenYear(options.year),
        not_after=None if options.not_after is None else utc(options.not_after),
        severities=options.severities,
    )
    return _read(iter(lines), fmt, ctx)


def _read(lines: Iterator[bytes], fmt: str, ctx: Context) -> Iterator[LogEvent | Rejected]:
    stream: Iterator[bytes] = lines
    # journalctl's `-o short` lines are syslog lines to the sample, and syslog reads
    # them as journalctl does: the first marker line (`-- Boot ... --`) after the
    # sample switches an input detected as syslog to journalctl from there on.
    watch = False
    last_host: str | None = None  # of the last event, for a boot marker after a switch
    detected = fmt == "auto"
    if detected:
        fmt, pending = sniff(lines)
        stream = chain(pending, lines)
        watch = fmt == "syslog"
    reader = FORMATS[fmt]
    json_lines = fmt in JSON_FORMATS
    # journalctl's lines are read in context: markers and multi-line messages.
    session = journalctl.Session(ctx) if fmt == "journalctl" else None
    source = ctx.source
    line_no = 0
    after_binary = False  # the last non-empty line was binary
    for line in stream:
        line_no += 1
        long = line if type(line) is LongLine else None
        line = line.rstrip(b"\r\n")
        if line_no == 1 and line.startswith(_BOM):
            line = line[3:]
        if b"\x00" in line:  # padding left by a crash; never text
            line = line.replace(b"\x00", b"")
        # A line over the read limit is only its head: a JSON object cut there cannot
        # be parsed, and one detected as raw must not become a raw event stamped now.
        if long is not None and (json_lines or (detected and line.lstrip()[:1] == b"{")):
            yield Rejected(source, line_no, long_line_reason(long), excerpt(line))
            continue
        if line:
            why = binary_reason(line, after_binary)
            after_binary = why is not None
            if why is not None:
                yield Rejected(source, line_no, why, excerpt(line))
                continue
        if watch and line.startswith(b"-- ") and journalctl.is_marker(line):
            fmt, watch, session = "journalctl", False, journalctl.Session(ctx, last_host)
        if session is not None:
            try:
                items = session.feed(line, line_no)
            except Exception as exc:  # as for a reader's bug below
                items = [_internal_error(fmt, exc, source, line_no, line)]
            for it in items:
                yield _in_time(it, ctx, it.line_no if type(it) is Rejected else line_no, line)
            continue
        if not line or line.isspace():
            yield Rejected(source, line_no, "empty line")
            continue
        try:
            item = reader(line, line_no, ctx)
        except Exception as exc:  # a reader bug must not stop ingestion; it is counted
            item = _internal_error(fmt, exc, source, line_no, line)
        if watch and type(item) is LogEvent:
            last_host = item.host
        yield _in_time(item, ctx, line_no, line)
    if session is not None:
        try:
            items = session.end()
        except Exception as exc:
            items = [_internal_error(fmt, exc, source, line_no, b"")]
        for it in items:
            yield _in_time(it, ctx, line_no, b"")


def _in_time(
    item: LogEvent | Rejected, ctx: Context, line_no: int, line: bytes
) -> LogEvent | Rejected:
    """`item`, or its rejection when it is stamped after `ctx.not_after`."""
    if type(item) is not LogEvent or ctx.not_after is None or item.ts <= ctx.not_after:
        return item
    when = item.ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    limit = ctx.not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    reason = f"timestamp in the future: '{when}' is after the input was read ('{limit}')"
    return Rejected(ctx.source, line_no, reason, excerpt(line or item.message.encode()))


def _internal_error(fmt: str, exc: Exception, source: str, line_no: int, line: bytes) -> Rejected:
    reason = f"internal error in {fmt} reader: {type(exc).__name__}: {exc}"
    return Rejected(source, line_no, excerpt(reason.encode()), excerpt(line))
