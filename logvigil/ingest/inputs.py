"""Log inputs given on the command line: files, directories, globs or `-` (stdin).

`expand_inputs` turns what a user typed into the files to read, oldest first:
the rotated files of one log in logrotate's order (`syslog.7.gz` ... `syslog.2.gz`,
`syslog.1`, `syslog`; dated names like `syslog-20261129.gz` by date), each log
after the other. `open_input` opens one of them, decompressing `.gz`, `.bz2` and
`.xz` on the fly (`.zst` needs a module LogVigil does not have: a clear error).
`InputReader` reads them as one stream of events: the files of one log share one
reader context (the host of lines that name none, the running year of `--year`),
a line is never split across files, and a file that turns out to be corrupt
yields one rejection naming it while everything read before is kept.
"""

from __future__ import annotations

import bz2
import glob
import gzip
import heapq
import lzma
import os
import re
import sys
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path, PurePath
from typing import Annotated, Any, BinaryIO, cast
from zoneinfo import ZoneInfo

from pydantic import AfterValidator

from graph.inventory import name_problem
from logvigil.core.events import LogEvent, Rejected
from logvigil.core.timeutil import EARLIEST, time_zone
from logvigil.ingest.formats import (
    FORMATS,
    LINE_LIMIT,
    LongLine,
    input_host,
    input_options,
    read_events,
)
from logvigil.ingest.formats._common import UNTIMED
from logvigil.ingest.formats.years import first_year, stamps

#: Bytes of one line read whole at most, its newline included (`formats.LINE_LIMIT`,
#: 16 MiB): far above the 64 KiB kept of a message so a JSON object with a long message or long
#: attributes still parses, and is then truncated. A longer line is a `LongLine`: its
#: head, the rest skipped unread.
READ_LIMIT = LINE_LIMIT
#: Bytes read at a time while skipping the rest of an over-long line.
SKIP_CHUNK = 1024 * 1024

#: What a compressed file's name ends with -> the name of its format.
COMPRESSION = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd"}
_MAGIC = set("*?[")

# logrotate's rotated names (logrotate(8)): `name.N` with `rotate N` (a higher N is
# older; `start` sets the first number, 1 by default), or with `dateext` `name-DATE`,
# DATE in its default `dateformat` `-%Y%m%d` (`-%Y%m%d%H` when rotated hourly); the
# compression extension (`compressext`, `.gz` by default) is appended after either.
_NUMBERED = re.compile(r"(?P<base>.+)\.(?P<n>\d{1,6})")
_DATED = re.compile(r"(?P<base>.+)-(?P<date>\d{8}(?:\d{2})?)")


class InputError(Exception):
    """An input cannot be found, opened or read; the message names it."""

    def __init__(self, name: str | Path, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = str(name)
        self.reason = reason


# --------------------------------------------------------------------------- zones


#: Where the machine's zone is configured (systemd's timedatectl, Debian, RHEL, Alpine).
LOCALTIME = Path("/etc/localtime")


def machine_zone() -> tzinfo:
    """The zone of the machine LogVigil runs on: `$TZ` when it names an IANA zone (as
    glibc reads it, a leading `:` allowed), else `/etc/localtime`, else UTC. The
    default for timestamps without an offset: a file or a live log of this machine
    was written in its zone."""
    name = os.environ.get("TZ", "").removeprefix(":")
    if name:
        try:
            return time_zone(name)
        except ValueError:
            pass  # a POSIX rule such as "EST5EDT,M3.2.0,M11.1.0": fall back to the file
    try:
        with LOCALTIME.open("rb") as f:
            return ZoneInfo.from_file(f, key="localtime")
    except (OSError, ValueError):
        return UTC


def _check_zone(name: str) -> str:
    time_zone(name)
    return name


#: A config value naming an IANA time zone, checked when the file is read.
ZoneName = Annotated[str, AfterValidator(_check_zone)]


def _check_service(name: str) -> str:
    if (why := name_problem(name)) is not None:
        raise ValueError(why)
    return name


#: A config value naming the program of lines that name none, as the inventory would.
ServiceName = Annotated[str, AfterValidator(_check_service)]


# --------------------------------------------------------------------------- names


def _split_compression(name: str) -> tuple[str, str | None]:
    """(`name` without its compression extension, the compression's name or None)."""
    for ext, kind in COMPRESSION.items():
        if name.endswith(ext) and len(name) > len(ext):
            return name[: -len(ext)], kind
    return name, None


def _rotation(name: str) -> tuple[str, tuple[int, int | str]]:
    """(the live file's name, a sort key: older first) of the file name `name`."""
    stem, _ = _split_compression(name)
    if m := _NUMBERED.fullmatch(stem):
        return m["base"], (0, -int(m["n"]))
    if m := _DATED.fullmatch(stem):
        return m["base"], (1, m["date"])
    return stem, (2, 0)


def live_name(path: str) -> str:
    """The path of the log `path` is a rotated or compressed copy of: `syslog.2.gz`,
    `syslog.1` and `syslog-20261129.gz` -> `syslog`, `app.jsonl.gz` -> `app.jsonl`."""
    if path == "-":
        return path
    p = PurePath(path)
    return str(p.with_name(_rotation(p.name)[0]))


def log_host(path: str) -> str:
    """The host of a line from `path` that names none: the live log's (`input_host`), so
    `syslog.2.gz` gives the same host as `syslog`."""
    return input_host(live_name(path))


# --------------------------------------------------------------------------- finding files


def expand_inputs(args: Sequence[str]) -> list[str]:
    """The files `args` name, in reading order. Raises InputError.

    An argument is a file, a directory (its files, not its subdirectories nor its
    hidden files), or a glob pattern expanded here (`'/var/log/syslog*'`), or `-`
    (standard input, alone). The files of one log (one directory, one live name)
    are read together, oldest first; logs come in the order they were first named
    (a directory's or a glob's in the order of their names). A file named twice
    is read once.
    """
    if not args:
        raise InputError("(no input)", "give a file, a directory, a glob or - for stdin")
    if "-" in args:
        if len(args) > 1:
            raise InputError("-", "standard input cannot be mixed with files: give - alone")
        return ["-"]
    logs: dict[tuple[str, str], list[str]] = {}
    seen: set[str] = set()
    for arg in args:
        for path in _files_of(arg):
            real = os.path.realpath(path)
            if real in seen:
                continue
            seen.add(real)
            p = PurePath(path)
            logs.setdefault((str(p.parent), _rotation(p.name)[0]), []).append(path)
    return [
        path
        for files in logs.values()
        for path in sorted(files, key=lambda f: (_rotation(PurePath(f).name)[1], f))
    ]


def _files_of(arg: str) -> list[str]:
    p = Path(arg)
    try:
        if p.is_dir():
            names = sorted(c.name for c in p.iterdir() if not c.name.startswith("."))
            files = [str(p / n) for n in names if (p / n).is_file()]
            if not files:
                raise InputError(arg, "no file in this directory")
        elif p.exists():
            files = [arg]
            if p.is_file():
                _check_readable(p)
        elif _MAGIC & set(arg):
            files = [f for f in sorted(glob.glob(arg)) if Path(f).is_file()]
            if not files:
                raise InputError(arg, "no file matches this pattern")
        else:
            raise InputError(arg, "no such file")
    except PermissionError:
        raise InputError(arg, "permission denied") from None
    except OSError as exc:
        raise InputError(arg, f"cannot open: {exc.strerror or exc}") from None
    for f in files:
        if _split_compression(f)[1] == "zstd":
            raise InputError(
                f,
                "zstd-compressed files cannot be read (Python 3.12 has no zstd module); "
                f"decompress it first, e.g. `zstdcat {f} | logvigil ... -`",
            )
    return sorted(files, key=lambda f: (_rotation(PurePath(f).name)[0], f))


def _check_readable(path: Path) -> None:
    """Open and close a regular file named explicitly, so it fails before any work."""
    with path.open("rb"):
        pass


def total_size(paths: Sequence[str]) -> int | None:
    """The bytes on disk of `paths` (compressed files: their compressed size), when
    known for every one (regular files; not stdin or a pipe)."""
    total = 0
    for path in paths:
        if path == "-":
            return None
        try:
            st = os.stat(path)
        except OSError:
            continue  # reported when it is opened
        if not Path(path).is_file():
            return None
        total += st.st_size
    return total


# --------------------------------------------------------------------------- one file


@dataclass
class Input:
    name: str
    stream: BinaryIO  # the lines' bytes (decompressed)
    size: int | None  # bytes on disk, when known (regular files)
    raw: BinaryIO | None = None  # the file under `stream` when it is decompressed
    compression: str | None = None  # "gzip", "bzip2", "xz"
    lines_read: int = field(default=0, init=False)

    def position(self) -> int | None:
        """Bytes of the file on disk read so far (compressed bytes for a compressed file)."""
        try:
            return (self.raw or self.stream).tell()
        except (OSError, ValueError):
            return None

    def lines(self, limit: int = READ_LIMIT) -> Iterator[bytes]:
        """`iter_lines` of the stream; a read or decompression error ends the lines with an
        InputError naming the file (the lines before it are kept)."""
        try:
            for line in iter_lines(self.stream, limit):
                self.lines_read += 1
                yield line
        except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
            reason = _read_error(self.compression, exc, self.lines_read)
            raise InputError(self.name, reason) from None

    def close(self) -> None:
        if self.stream is not sys.stdin.buffer:
            self.stream.close()
        if self.raw is not None:
            self.raw.close()


def _read_error(compression: str | None, exc: Exception, lines: int) -> str:
    """Why a file could not be read on, for an operator."""
    text = str(exc)
    if compression is None:
        what = f"read error: {getattr(exc, 'strerror', None) or text}"
    elif isinstance(exc, EOFError):
        what = f"the {compression} data ends early (a truncated file)"
    elif lines == 0 and (
        text.startswith("Not a gzipped file")
        or text == "Invalid data stream"
        or text == "Input format not supported by decoder"
    ):
        what = f"not a {compression} file"
    else:
        what = f"corrupt {compression} data ({text})"
    return what if lines == 0 else f"{what}; the rest of the file is not read"


def _decompressed(compression: str, raw: BinaryIO) -> BinaryIO:
    """The decompressed bytes of `raw` (closed by `Input.close`, with `raw`)."""
    if compression == "gzip":
        stream: Any = gzip.GzipFile(fileobj=raw, mode="rb")
    elif compression == "bzip2":
        stream = bz2.BZ2File(raw, "rb")
    else:
        stream = lzma.LZMAFile(raw, "rb")  # noqa: SIM115 - closed by Input.close
    return cast(BinaryIO, stream)


def open_input(path: str | Path) -> Input:
    """Open `path` for binary reading, decompressing `.gz`, `.bz2` and `.xz`; `-` is
    standard input. Raises InputError."""
    if str(path) == "-":
        return Input("-", sys.stdin.buffer, None)
    p = Path(path)
    _, compression = _split_compression(p.name)
    if compression == "zstd":
        raise InputError(p, "zstd-compressed files cannot be read; decompress it first")
    try:
        if p.is_dir():
            raise InputError(p, "is a directory, not a log file")
        raw = p.open("rb")
    except FileNotFoundError:
        raise InputError(p, "no such file") from None
    except PermissionError:
        raise InputError(p, "permission denied") from None
    except OSError as exc:
        raise InputError(p, f"cannot open: {exc.strerror}") from None
    try:
        size = os.fstat(raw.fileno()).st_size if p.is_file() else None
    except OSError:
        size = None
    if compression is None:
        return Input(str(p), raw, size)
    return Input(str(p), _decompressed(compression, raw), size, raw, compression)


def iter_lines(stream: BinaryIO, limit: int = READ_LIMIT) -> Iterator[bytes]:
    """Yield lines (with their newline) of at most `limit` bytes, newline included,
    one at a time: memory holds one line, however long the input's lines are.

    A longer line yields a `LongLine`: its head, and its size; the rest is read
    in chunks and discarded up to the next newline, so a file without newlines
    cannot exhaust memory.
    """
    readline = stream.readline
    while True:
        line = readline(limit)
        if not line:
            return
        if len(line) == limit and not line.endswith(b"\n"):
            size = len(line)
            while rest := readline(SKIP_CHUNK):  # skip the remainder of an over-long line
                size += len(rest)
                if rest.endswith(b"\n"):
                    break
            if size > limit:  # else a line of exactly `limit` bytes ends the input
                line = LongLine(line, size, limit)
        yield line


# --------------------------------------------------------------------------- several files

_BOM = b"\xef\xbb\xbf"
#: The formats whose stamps may lack the year (auto: may be one of them).
YEARLESS = frozenset({"auto", "syslog", "journalctl"})
#: A line of a file may be stamped this far after the file is read (a sender's zone,
#: a clock a little ahead) before it is rejected as a clock in the future.
FUTURE_SLACK = timedelta(days=1)


class InputReader:
    """The events of `paths` (`expand_inputs`' order), several logs merged in time.

    The consecutive files of one log (same directory and live name) are one stream
    of lines through one `read_events`: one format detection, the live file's host
    for lines without one, and `--year` running on across them. Several logs (one
    file per host, as a log server keeps them) are read side by side and merged by
    time, so that the hosts' lines meet on one timeline as they happened; a log's
    lines keep their own order (a line out of order stays where its log put it).
    Events carry the newest file of their log as source; a rejection names its own
    file and line. `name` and `line_no` say where the last item yielded comes from,
    `position()` how many bytes on disk were read. `overrides` are ReadOptions
    fields (`naive_tz`, `year`, `default_time`).
    """

    def __init__(self, paths: Sequence[str], fmt: str = "auto", **overrides: Any) -> None:
        if fmt != "auto" and fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}")
        self.paths = list(paths)
        self.fmt = fmt
        self.overrides = overrides
        self.size = total_size(self.paths)
        self.name = self.paths[0] if self.paths else ""
        self.line_no = 0
        self._done = 0  # bytes on disk of the files read to their end
        self._current: dict[int, Input] = {}  # the file being read, per log

    def position(self) -> int:
        """Bytes on disk read so far (compressed bytes for compressed files)."""
        return self._done + sum(inp.position() or 0 for inp in self._current.values())

    def __iter__(self) -> Iterator[LogEvent | Rejected]:
        logs: list[list[str]] = []
        for path in self.paths:
            if logs and _log_key(logs[-1][-1]) == _log_key(path):
                logs[-1].append(path)
            else:
                logs.append([path])
        streams = [self._log(i, files) for i, files in enumerate(logs)]
        merged = streams[0] if len(streams) == 1 else _by_time(streams)
        for item, name, line_no in merged:
            self.name, self.line_no = name, line_no
            yield item

    def _log(self, log: int, files: list[str]) -> Iterator[tuple[LogEvent | Rejected, str, int]]:
        newest = files[-1]
        overrides = dict(self.overrides)
        if overrides.get("year") is None and "-" not in files and self.fmt in YEARLESS:
            overrides["year"] = self._first_year(files)
        if "not_after" not in overrides:  # nothing in a file was written after it is read
            read_at = overrides.get("default_time") or datetime.now(UTC)
            overrides["not_after"] = read_at + FUTURE_SLACK
        options = input_options(newest, default_host=log_host(newest), **overrides)
        starts: list[tuple[int, str]] = []  # (lines before the file, its name)
        failures: deque[tuple[int, Rejected]] = deque()  # (lines before it, rejection)
        count = 0

        def lines() -> Iterator[bytes]:
            nonlocal count
            for path in files:
                starts.append((count, path))
                try:
                    inp = open_input(path)
                except InputError as exc:
                    failures.append((count, Rejected(path, 1, exc.reason)))
                    continue
                self._current[log] = inp
                try:
                    for n, line in enumerate(inp.lines(), start=1):
                        count += 1
                        if n == 1 and line.startswith(_BOM):
                            if type(line) is LongLine:
                                line = LongLine(line[3:], line.size - 3, line.limit)
                            else:
                                line = line[3:]
                        yield line
                except InputError as exc:
                    failures.append((count, Rejected(path, inp.lines_read + 1, exc.reason)))
                finally:
                    self._current.pop(log, None)  # close() may have emptied it
                    self._done += inp.size or 0
                    inp.close()

        index = 0  # into `starts`: the file of the current line
        for n, item in enumerate(read_events(lines(), self.fmt, options), start=1):
            # A rejection carries its line of the log's stream (journalctl's reader
            # yields fewer items than lines); an event is about the n-th line.
            i = item.line_no if isinstance(item, Rejected) and item.line_no > 0 else n
            while failures and failures[0][0] < i:
                yield _failed(failures.popleft()[1])
            while index + 1 < len(starts) and starts[index + 1][0] < i:
                index += 1
            before, name = starts[index]
            if isinstance(item, Rejected) and (item.source != name or item.line_no != i - before):
                item = replace(item, source=name, line_no=i - before)
            yield item, name, i - before
        while failures:
            yield _failed(failures.popleft()[1])

    def _first_year(self, files: list[str]) -> int | None:
        """The year of the first year-less stamp of one log's files (`years.first_year`):
        its newest line is not after the given reference time, else after the files'
        last modification. One pass over the files; what cannot be read is left to the
        reading pass, which reports it."""
        reference = self.overrides.get("default_time")
        if reference is None:
            try:
                mtime = max(os.stat(path).st_mtime for path in files)
            except OSError:
                return None
            reference = datetime.fromtimestamp(mtime, UTC)

        def lines() -> Iterator[bytes]:
            for path in files:
                try:
                    inp = open_input(path)
                except InputError:
                    continue
                try:
                    yield from inp.lines()
                except InputError:
                    pass
                finally:
                    inp.close()

        return first_year(stamps(lines()), reference)

    def close(self) -> None:
        """Close the files being read (a reader left before their end)."""
        for inp in self._current.values():
            inp.close()
        self._current.clear()


def _failed(rejected: Rejected) -> tuple[Rejected, str, int]:
    return rejected, rejected.source, rejected.line_no


type _Item = tuple[LogEvent | Rejected, str, int]


def _by_time(streams: Sequence[Iterator[_Item]]) -> Iterator[_Item]:
    """The items of `streams` merged by event time. Each stream's own order is kept:
    an item's key is the newest event time its stream has reached (a rejection, or a
    line behind its predecessors, goes out right after what came before it; so does a
    line with no time of its own, `UNTIMED`, whose time is that of the reading)."""
    heap: list[tuple[datetime, int, _Item]] = []
    reached: list[datetime] = [EARLIEST] * len(streams)

    def push(i: int) -> None:
        item = next(streams[i], None)
        if item is not None:
            event = item[0]
            if (
                isinstance(event, LogEvent)
                and event.ts > reached[i]
                and UNTIMED not in event.attributes
            ):
                reached[i] = event.ts
            heapq.heappush(heap, (reached[i], i, item))

    for i in range(len(streams)):
        push(i)
    while heap:
        _, i, item = heapq.heappop(heap)
        yield item
        push(i)


def _log_key(path: str) -> tuple[str, str]:
    p = PurePath(path)
    return str(p.parent), _rotation(p.name)[0]
