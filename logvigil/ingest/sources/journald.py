"""journald through `journalctl -o json`, resumable at the `__CURSOR` of the last line returned.

`JournalProcess` runs a journalctl-like child process (locally, or over SSH in
`logvigil.ingest.sources.ssh_journald`), reads its standard output in a thread into
a queue bounded in lines and bytes (`base.LineQueue`), and hands complete lines to
`poll()`. The queue gives backpressure: when the store falls behind, the reader
blocks, the pipe fills and journalctl waits; memory does not grow. A line over the
16 MiB read limit is passed on as its head (`LongLine`), which the journal reader
rejects naming the limit.

Cursor semantics: `poll()` returns the `__CURSOR` of the last line it
returned, and the daemon commits it in the same flush as the events of those
lines. A child is only restarted once every line it wrote has been returned
(an incomplete last line of a killed child is dropped), from that cursor with
`--after-cursor`, so a restart neither repeats nor skips an entry.

What a first start (no stored cursor) reads: the entries of the last hour by
default (`since="-1h"`, any `journalctl --since` value); `since=None` reads only
entries written from now on (`--lines=0`). Reading the whole journal of a busy
machine on a first start could take hours, which is why it is not the default.
"""

from __future__ import annotations

import collections
import logging
import queue
import re
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, ClassVar, Literal

from pydantic import Field, model_validator

from logvigil.ingest.formats import LongLine
from logvigil.ingest.inputs import READ_LIMIT, SKIP_CHUNK
from logvigil.ingest.sources.base import BATCH_BYTES, LineQueue, SourceBatch, SourceConfig

log = logging.getLogger(__name__)

#: Lines buffered between a reader thread and the ingest loop (backpressure beyond).
QUEUE_LINES = 20_000
#: A failed child is restarted after 1, 2, 4, ... seconds, at most this many.
MAX_BACKOFF_S = 60.0
#: A single journal file cannot be followed (journalctl refuses `--follow` with
#: `--file`): it is read again from the cursor this often.
REREAD_FILE_S = 5.0
#: Lines of the child's standard error kept for `error`.
STDERR_LINES = 5

_EOF = object()
# The key cannot occur inside a JSON string (its quotes would be escaped), so the
# first match is the field. Older journalctl versions write `"__CURSOR" : "..."`.
_CURSOR_FIELD = re.compile(rb'"__CURSOR"\s*:\s*"([^"\\]+)"')
# s=<seqnum id>;i=<seqnum>;b=<boot id>;m=<monotonic>;t=<realtime>;x=<xor hash>
_CURSOR_SHAPE = re.compile(r"[a-z]=[0-9a-f]+(;[a-z]=[0-9a-f]+)*")


def line_cursor(line: bytes) -> str | None:
    """The `__CURSOR` of one `journalctl -o json` line, or None when it has none.

    A regular expression rather than `json.loads`: this runs on every line and the
    line is parsed once more by `logvigil.ingest.formats.journal` anyway."""
    m = _CURSOR_FIELD.search(line)
    return m.group(1).decode("ascii", "replace") if m else None


def valid_cursor(cursor: str | None) -> bool:
    """Whether `cursor` has the shape of a journald cursor; journalctl exits with
    "Failed to seek to cursor" on anything else, so a malformed one is ignored."""
    return bool(cursor) and _CURSOR_SHAPE.fullmatch(cursor or "") is not None


def position_args(cursor: str | None, since: str | None, *, follow: bool) -> list[str]:
    """Where journalctl starts: after `cursor`, else at `since`, else (following)
    at the end, or (reading a file once) at its start.

    `--lines=all` because `--follow` otherwise caps what comes before the end at
    the last 10 entries, even after `--after-cursor` (systemd 252)."""
    every = ["--lines=all"] if follow else []
    if valid_cursor(cursor):
        return [f"--after-cursor={cursor}", *every]
    if since:
        return [f"--since={since}", *every]
    return ["--lines=0"] if follow else []


class JournalProcess:
    """A source fed by a child process that writes `journalctl -o json` lines.

    Subclasses give `_argv(cursor)`. `poll()` never blocks and never raises: a
    child that cannot start or that exits is reported in `error` and restarted
    with exponential backoff (`backoff_s`, doubling, at most `max_backoff_s`),
    from the cursor of the last line returned. A child that is not following
    (`follow=False`) and exits 0 has simply reached the end: it is started again
    after `reread_s`, without an error.
    """

    format = "journal"

    def reach(self) -> None:
        """A local source: nothing remote to reach."""
        return None

    def __init__(
        self,
        name: str,
        cursor: str | None,
        *,
        follow: bool = True,
        queue_lines: int = QUEUE_LINES,
        backoff_s: float = 1.0,
        max_backoff_s: float = MAX_BACKOFF_S,
        reread_s: float = REREAD_FILE_S,
    ) -> None:
        self.name = name
        self.error: str | None = None
        self.follow = follow
        if cursor is not None and not valid_cursor(cursor):
            log.warning("source %s: ignoring malformed stored cursor %r", name, cursor)
            cursor = None
        self._cursor = cursor
        self._queue = LineQueue(queue_lines)
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._reread_s = reread_s
        self._failures = 0
        self._retry_at = 0.0  # time.monotonic() at which the next child may start
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._closed = False

    # ------------------------------------------------------------ to override

    def _argv(self, cursor: str | None) -> list[str]:
        raise NotImplementedError

    def _on_started(self) -> None:
        """A child was started."""
        self.error = None

    def _on_marker(self, line: bytes) -> bool:
        """Whether `line` is a control line of the transport (not a journal entry)."""
        return False

    def _on_exit(self, returncode: int, stderr: str) -> None:
        """A child ended after all its lines were returned; sets `error` when it failed."""
        if returncode == 0 and not self.follow:
            return
        self.error = f"{self._what()} exited with status {returncode}" + (
            f": {stderr}" if stderr else ""
        )

    def _what(self) -> str:
        return "journalctl"

    # ------------------------------------------------------------ public

    @property
    def cursor(self) -> str | None:
        """The `__CURSOR` of the last line returned by `poll()` (or the starting cursor)."""
        return self._cursor

    @property
    def pid(self) -> int | None:
        """The running child's process id (tests kill it), None between children."""
        return self._proc.pid if self._proc is not None else None

    def poll(self, max_lines: int = 5000) -> SourceBatch:
        if self._closed:
            return SourceBatch([], self._cursor, finished=True)
        if self._proc is None:
            if time.monotonic() < self._retry_at:
                return SourceBatch([], self._cursor)
            self._start()
        lines: list[bytes] = []
        size = 0
        while len(lines) < max_lines and size < BATCH_BYTES:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _EOF:
                self._reap()
                break
            assert isinstance(item, bytes)
            if self._on_marker(item):
                continue
            lines.append(item)
            size += len(item)
            cursor = line_cursor(item)
            if cursor is not None:
                self._cursor = cursor
        if lines:
            self._failures = 0
        return SourceBatch(lines, self._cursor)

    def close(self) -> None:
        """Stop the child and the reader threads. Lines not yet returned are dropped;
        they are read again by a source started from `cursor`."""
        self._closed = True
        self._stop.set()
        proc, self._proc = self._proc, None
        if proc is not None:
            _terminate(proc)
        for thread in self._threads:
            thread.join(timeout=2)
        self._threads = []

    # ------------------------------------------------------------ child process

    def _start(self) -> None:
        argv = self._argv(self._cursor)
        self._stderr.clear()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                # Its own session: Ctrl-C on the daemon's terminal must not kill the
                # child before the daemon has flushed what it read.
                start_new_session=True,
            )
        except OSError as exc:
            self.error = f"cannot run {argv[0]}: {exc.strerror or exc}"
            self._schedule_retry(failed=True)
            return
        assert proc.stdout is not None and proc.stderr is not None
        self._proc = proc
        self._threads = [
            threading.Thread(
                target=self._read_stdout, args=(proc.stdout,), name=f"{self.name}-out", daemon=True
            ),
            threading.Thread(
                target=self._read_stderr, args=(proc.stderr,), name=f"{self.name}-err", daemon=True
            ),
        ]
        for thread in self._threads:
            thread.start()
        self._on_started()

    def _read_stdout(self, stream: IO[bytes]) -> None:
        try:
            while not self._stop.is_set():
                line = stream.readline(READ_LIMIT)
                if not line:
                    break
                if not line.endswith(b"\n"):
                    if len(line) < READ_LIMIT:
                        break  # the child died mid-line: read again from the cursor
                    size = len(line)
                    while rest := stream.readline(SKIP_CHUNK):
                        size += len(rest)
                        if rest.endswith(b"\n"):
                            break
                    else:
                        break  # the child died mid-line: read again from the cursor
                    # An over-long line: its head is kept (and rejected), the rest skipped.
                    line = LongLine(line, size, READ_LIMIT)
                self._put(line)
        except (OSError, ValueError) as exc:
            self._stderr.append(f"reading its output failed: {exc}")
        finally:
            stream.close()
            self._put(_EOF)

    def _read_stderr(self, stream: IO[bytes]) -> None:
        try:
            for raw in stream:
                text = raw.decode("utf-8", "replace").strip()
                if text:
                    self._stderr.append(text[:500])
        except (OSError, ValueError):
            pass
        finally:
            stream.close()

    def _put(self, item: object) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def _reap(self) -> None:
        """The reader reached the end of the child's output: collect its status."""
        proc, self._proc = self._proc, None
        assert proc is not None
        try:
            returncode = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _terminate(proc)
            returncode = proc.returncode if proc.returncode is not None else -1
        for thread in self._threads:
            thread.join(timeout=2)
        self._threads = []
        stderr = "; ".join(self._stderr)
        self._on_exit(returncode, stderr)
        failed = not (returncode == 0 and not self.follow)
        if failed:
            log.warning("source %s: %s", self.name, self.error or f"exited {returncode}")
        self._schedule_retry(failed=failed)

    def _schedule_retry(self, *, failed: bool) -> None:
        if not failed:
            self._retry_at = time.monotonic() + self._reread_s
            return
        self._failures += 1
        delay = min(self._backoff_s * 2 ** (self._failures - 1), self._max_backoff_s)
        self._retry_at = time.monotonic() + delay


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class JournaldConfig(SourceConfig):
    """`type: journald`: this machine's journal (or a journal directory or file)."""

    type: Literal["journald"]
    name: str = Field(
        default="journald", description="the cursor is stored under this name: keep it stable"
    )
    units: list[str] = Field(default_factory=list, description="only these systemd units")
    since: str | None = Field(
        default="-1h",
        description="what a first start (no stored cursor) reads, as journalctl --since; "
        "null: only new entries",
    )
    directory: Path | None = Field(default=None, description="a journal directory to follow")
    file: Path | None = Field(default=None, description="one journal file, re-read every 5 s")
    journalctl: str = "journalctl"
    extra_args: list[str] = Field(default_factory=list, description="passed to journalctl")

    @model_validator(mode="after")
    def _one_journal(self) -> JournaldConfig:
        if self.directory is not None and self.file is not None:
            raise ValueError("give either directory or file, not both")
        return self


class JournaldSource(JournalProcess):
    """The local journal: `journalctl -o json --follow` from the stored cursor.

    `units` limits it to those systemd units (`--unit=`, OR-ed). `directory`
    reads a journal directory (a copied or remote-received journal) instead of the
    system journal, and is followed. `file` reads one journal file; journalctl
    cannot follow a single file, so it is read to its end and read again from
    the cursor every `reread_s` seconds. `extra_args` are passed to journalctl
    verbatim (after the options above).
    """

    config_model: ClassVar[type[SourceConfig]] = JournaldConfig

    def __init__(
        self,
        cursor: str | None = None,
        *,
        units: Sequence[str] = (),
        since: str | None = "-1h",
        name: str = "journald",
        journalctl: str = "journalctl",
        directory: Path | str | None = None,
        file: Path | str | None = None,
        extra_args: Sequence[str] = (),
        queue_lines: int = QUEUE_LINES,
        backoff_s: float = 1.0,
        max_backoff_s: float = MAX_BACKOFF_S,
        reread_s: float = REREAD_FILE_S,
    ) -> None:
        if directory is not None and file is not None:
            raise ValueError("give either directory or file, not both")
        super().__init__(
            name,
            cursor,
            follow=file is None,
            queue_lines=queue_lines,
            backoff_s=backoff_s,
            max_backoff_s=max_backoff_s,
            reread_s=reread_s,
        )
        self.units = tuple(units)
        self.since = since
        self.journalctl = journalctl
        self.directory = Path(directory) if directory is not None else None
        self.file = Path(file) if file is not None else None
        self.extra_args = tuple(extra_args)

    @classmethod
    def from_config(cls, spec: JournaldConfig, cursor: str | None) -> JournaldSource:
        return cls(
            cursor,
            units=spec.units,
            since=spec.since,
            name=spec.name,
            journalctl=spec.journalctl,
            directory=spec.directory,
            file=spec.file,
            extra_args=spec.extra_args,
        )

    def _argv(self, cursor: str | None) -> list[str]:
        argv = [self.journalctl, "--output=json", "--no-pager"]
        if self.follow:
            argv.append("--follow")
        if self.directory is not None:
            argv.append(f"--directory={self.directory}")
        if self.file is not None:
            argv.append(f"--file={self.file}")
        argv += [f"--unit={unit}" for unit in self.units]
        argv += position_args(cursor, self.since, follow=self.follow)
        return argv + list(self.extra_args)
