"""The source plug-in shape: a config model (`type: ...`) and a class that polls lines.

A source module defines both; `logvigil.ingest.sources.SOURCES` registers the class
under its config's `type`. The config names the cursor (`source_name`); the class is
built with `from_config(spec, cursor)` and resumes at that cursor.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Protocol, Self

from logvigil.core.configbase import Strict

#: Bytes of lines one poll returns at most (and the line that reaches it): lines are
#: read whole up to 16 MiB, so a count of lines alone does not bound a batch.
BATCH_BYTES = 32 * 1024 * 1024
#: Bytes of lines a reader thread queues for `poll()` at most (and one line more).
QUEUE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SourceBatch:
    """Complete lines read since the last poll, and the cursor just after them."""

    lines: list[bytes]
    cursor: str | None
    finished: bool = False  # the source will never yield more (stdin closed)


@dataclass(frozen=True, slots=True)
class RemoteReach:
    """Whether a source that pulls logs from another machine can reach it: `since` is
    when it stopped connecting (None: it connects), `grace` how long that may last
    before the `host_unreachable` detector reports it."""

    host: str
    since: datetime | None
    grace: timedelta


class SourceConfig(Strict):
    """Base of a source's config section; `type` discriminates the sources."""

    type: str
    name: str | None = None

    @property
    def source_name(self) -> str:
        """The name the cursor and the source's health are stored under: `name`, else
        one the source derives from its target (`file:/var/log/x`, `ssh_journald:db-01`)."""
        return self.name or self.type


class LineSource(Protocol):
    #: The config model of the section that builds this source.
    config_model: ClassVar[type[SourceConfig]]
    name: str
    format: str

    @classmethod
    def from_config(cls, spec: SourceConfig, cursor: str | None) -> Self:
        """The source `spec` describes, resuming at `cursor` (None: a first start)."""
        ...

    def poll(self, max_lines: int) -> SourceBatch:
        """Lines available now (possibly none); never blocks for long, never raises
        for a missing or unreadable file (it reports it in `error`)."""
        ...

    @property
    def error(self) -> str | None: ...

    def reach(self) -> RemoteReach | None:
        """Whether the remote machine the source reads can be reached; None for a
        source that reads this machine (a file, stdin, a local journal, a listener)."""
        ...

    def close(self) -> None: ...


class LineQueue:
    """The lines a reader thread hands to `poll()`: a FIFO bounded in lines and in bytes.

    `put` blocks while the queue is full (backpressure: the pipe fills and the writer
    waits), `get` while it is empty; both raise `queue.Full` / `queue.Empty` after
    `timeout` seconds, as `queue.Queue` does. A line larger than `max_bytes` still
    goes in when the queue is empty, so memory holds at most `max_bytes` and one line.
    Items that are not bytes (an end marker) count as no bytes.
    """

    def __init__(self, max_lines: int, max_bytes: int = QUEUE_BYTES) -> None:
        self.max_lines, self.max_bytes = max_lines, max_bytes
        self._items: deque[object] = deque()
        self._bytes = 0
        self._changed = threading.Condition()

    def put(self, item: object, timeout: float | None = None) -> None:
        size = len(item) if isinstance(item, bytes) else 0
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self._items and (
                len(self._items) >= self.max_lines or self._bytes + size > self.max_bytes
            ):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise queue.Full
                self._changed.wait(left)
            self._items.append(item)
            self._bytes += size
            self._changed.notify_all()

    def get(self, timeout: float | None = None) -> object:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while not self._items:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise queue.Empty
                self._changed.wait(left)
            item = self._items.popleft()
            if isinstance(item, bytes):
                self._bytes -= len(item)
            self._changed.notify_all()
            return item

    def get_nowait(self) -> object:
        return self.get(timeout=0)
