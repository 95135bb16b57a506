"""The daemon's sources: polled in turn, a failing one backed off, each one's health known.

A poll parses the source's lines in its format and hands the events and the
source's cursor to the ingestor together, so they are committed in one flush: a
crash before the flush re-reads the batch, after it nothing is read twice. A
source that raises is retried after 1, 2, 4, ... seconds (at most
`MAX_SOURCE_BACKOFF_S`) while the others go on. What the pool knows of each source
(lines, current error, newest event, whether its remote host is reachable) becomes
the source's health record in the store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from logvigil.app.metrics import DaemonMetrics
from logvigil.core.events import LogEvent
from logvigil.ingest.formats import ReadOptions, read_events
from logvigil.ingest.formats._common import BINARY_REASON
from logvigil.ingest.ingestor import Ingestor
from logvigil.ingest.inputs import log_host
from logvigil.ingest.sources import SOURCES, LineSource, SourceConfig, build_source
from logvigil.store.source_health import SourceHealthRecord

log = logging.getLogger(__name__)

#: A source that fails is retried after 1, 2, 4, ... seconds, at most this many.
MAX_SOURCE_BACKOFF_S = 60
#: At most this many lines are taken from one source per poll.
POLL_LINES = 5000
#: An error is cut to this many characters for the status and the store.
ERROR_CHARS = 500
#: source class -> its config `type`, for the store's source health
SOURCE_KINDS: dict[type, str] = {cls: kind for kind, cls in SOURCES.items()}


def build_sources(specs: Sequence[SourceConfig], cursors: dict[str, str]) -> list[LineSource]:
    """The sources of `specs`, each resuming at its stored cursor (stored under the
    source's name). Raises ValueError or OSError when a source cannot start."""
    return [build_source(spec, cursors.get(spec.source_name)) for spec in specs]


def backoff_s(failures: int) -> int:
    """Seconds before a source that failed `failures` times in a row is polled again."""
    return min(2 ** (failures - 1), MAX_SOURCE_BACKOFF_S)


#: A batch at least this long whose lines are mostly binary is worth telling.
BINARY_BATCH_MIN = 20


def mostly_binary(binary: int, lines: int) -> str | None:
    """The warning a batch of `lines` with `binary` binary lines deserves, if any: a
    source reading the wrong file (a database, a compressed log read raw, /dev/urandom)
    rejects nearly everything it reads, which `stats` counts but nobody reads."""
    if lines < BINARY_BATCH_MIN or binary * 2 <= lines:
        return None
    return (
        f"mostly binary: {binary:,} of its last {lines:,} lines are not text "
        "(the wrong file, or a compressed file read as text?)"
    )


@dataclass
class SourceState:
    """What the daemon knows of one source since it started."""

    lines: int = 0
    failures: int = 0  # consecutive failed polls
    retry_at: float = 0.0  # `time.monotonic()` before which it is not polled
    error: str | None = None  # why the last poll raised (None after a poll that did not)
    #: Set while the source's last batch was mostly binary (the wrong file or format).
    warning: str | None = None
    last_lines_at: datetime | None = None
    last_event_at: datetime | None = None

    def failed(self, exc: Exception, at: float) -> int:
        """Count a failed poll at monotonic time `at`; returns the seconds until the retry."""
        self.failures += 1
        delay = backoff_s(self.failures)
        self.retry_at = at + delay
        self.error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
        return delay


def default_host(source_name: str) -> str:
    """The host of a line that names none: the source's configured name, or for an
    unnamed file source (`file:/var/log/app.jsonl`) the file's name (`app`), like
    `backtest` and `ingest` do (a rotated copy's the live file's: `syslog.1` -> `syslog`);
    never the machine the daemon runs on."""
    kind, _, target = source_name.partition(":")
    return log_host(target) if kind == "file" and target else source_name


class SourcePool:
    """The sources of one process and their states.

    `active` are the sources still polled (a finished one leaves it); `all` every
    source the pool started with. `clock` stamps when lines arrived; `metrics` is
    told what was read when given.
    """

    def __init__(
        self,
        sources: Sequence[LineSource],
        *,
        clock: Callable[[], datetime],
        metrics: DaemonMetrics | None = None,
    ) -> None:
        self.all: list[LineSource] = list(sources)
        self.active: list[LineSource] = list(sources)
        self.states: dict[str, SourceState] = {src.name: SourceState() for src in sources}
        self.clock = clock
        self.metrics = metrics

    @property
    def exhausted(self) -> bool:
        """Whether every source finished (never for a pool that had none)."""
        return bool(self.all) and not self.active

    def poll_all(self, ingestor: Ingestor) -> bool:
        """Poll every active source once; returns whether any yielded lines."""
        busy = False
        for source in list(self.active):
            busy |= self.poll(source, ingestor)
        return busy

    def poll(self, source: LineSource, ingestor: Ingestor) -> bool:
        """Hand what `source` has now to `ingestor`; returns whether it yielded lines.

        Never raises for the source's failure: it is logged, kept in the source's
        state and backed off.
        """
        now = time.monotonic()
        state = self.states.setdefault(source.name, SourceState())
        if state.retry_at > now:
            return False
        try:
            batch = source.poll(POLL_LINES)
        except Exception as exc:
            delay = state.failed(exc, now)
            log.error(
                "source %s failed (%s); retrying in %ss",
                source.name,
                exc,
                delay,
                extra={"source": source.name},
            )
            return False
        state.failures = 0
        state.error = None
        if batch.lines:
            # The batch's events and its cursor go into the same flush: added first, the
            # cursor set, and only then may the ingestor flush.
            latest: datetime | None = None
            # A line that names no host is the source's (its configured name), never
            # the machine the daemon runs on.
            # Timestamps without an offset are in the source's `timezone` (file and stdin
            # sources; the machine's zone when not set).
            options = ReadOptions(
                source=source.name,
                default_host=default_host(source.name),
                naive_tz=getattr(source, "naive_tz", UTC),
                # An application's own file names its program in the config (`service:`).
                default_service=getattr(source, "default_service", None) or "unknown",
            )
            binary = 0
            for item in read_events(batch.lines, source.format, options):
                ingestor.add(item)
                if isinstance(item, LogEvent):
                    if latest is None or item.ts > latest:
                        latest = item.ts
                elif item.reason.startswith(BINARY_REASON):
                    binary += 1
            state.warning = mostly_binary(binary, len(batch.lines))
            if batch.cursor is not None:
                ingestor.set_cursor(source.name, batch.cursor)
            ingestor.maybe_flush()
            state.lines += len(batch.lines)
            state.last_lines_at = self.clock()
            if latest is not None:
                state.last_event_at = latest
            if self.metrics is not None:
                self.metrics.observe_lines(source.name, len(batch.lines))
                self.metrics.observe_ingest(ingestor.summary)
        if batch.finished:
            self.active.remove(source)
            log.info("source %s finished", source.name)
        return bool(batch.lines)

    def health(self, process: str, now: datetime) -> list[SourceHealthRecord]:
        """The health record of every source of the pool, as `process` at `now` reports it."""
        return [self._record(source, process, now) for source in self.all]

    def _record(self, source: LineSource, process: str, now: datetime) -> SourceHealthRecord:
        state = self.states.get(source.name) or SourceState()
        remote = source.reach()
        # A poll that raised says why; otherwise the source's own current error (a file
        # that cannot be read, an ssh that cannot connect) is the one to show.
        error = state.error if state.error is not None else source.error
        if error is None:
            error = state.warning
        return SourceHealthRecord(
            source=source.name,
            process=process,
            kind=SOURCE_KINDS.get(type(source), type(source).__name__),
            updated_at=now,
            host=remote.host if remote is not None else None,
            lines=state.lines,
            failures=state.failures,
            error=error,
            last_lines_at=state.last_lines_at,
            last_event_at=state.last_event_at,
            unreachable_since=remote.since if remote is not None else None,
            unreachable_grace_s=int(remote.grace.total_seconds()) if remote is not None else None,
        )

    def close(self) -> None:
        """Close every source (journalctl and ssh children must not outlive the daemon)."""
        for source in self.all:
            source.close()
