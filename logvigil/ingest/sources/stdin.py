"""Lines from standard input (`journalctl -o json -f | logvigil run`), read by a thread.

A queue bounded in lines and bytes gives backpressure: when the store falls
behind, the reader thread blocks and the pipe fills, instead of memory growing
without bound. Lines are read whole up to 16 MiB (`inputs.iter_lines`); a longer
one is passed on as its head (`LongLine`), which the readers reject or cut.
"""

from __future__ import annotations

import queue
import sys
import threading
from datetime import tzinfo
from typing import BinaryIO, ClassVar, Literal

from logvigil.ingest.formats import FormatName
from logvigil.ingest.inputs import ServiceName, ZoneName, iter_lines, machine_zone, time_zone
from logvigil.ingest.sources.base import BATCH_BYTES, LineQueue, SourceBatch, SourceConfig

#: Lines buffered between the reader thread and the ingest loop.
QUEUE_LINES = 20_000
_EOF = object()


class StdinSourceConfig(SourceConfig):
    """`type: stdin`: lines piped into `logvigil run`."""

    type: Literal["stdin"]
    format: FormatName = "jsonl"
    #: IANA zone of timestamps written without an offset (default: the machine's)
    timezone: ZoneName | None = None
    #: The program of lines that name none (an application's own log; default: unknown)
    service: ServiceName | None = None


class StdinLines:
    config_model: ClassVar[type[SourceConfig]] = StdinSourceConfig

    def __init__(
        self,
        fmt: str = "jsonl",
        *,
        stream: BinaryIO | None = None,
        name: str = "stdin",
        timezone: str | None = None,
        service: str | None = None,
    ) -> None:
        self.format = fmt
        self.name = name
        self.naive_tz: tzinfo = time_zone(timezone) if timezone else machine_zone()
        #: The program of lines that name none (None: `ReadOptions`' default).
        self.default_service = service
        self.error: str | None = None
        self._queue = LineQueue(QUEUE_LINES)
        self._stream = stream if stream is not None else sys.stdin.buffer
        self._done = False
        self._thread = threading.Thread(target=self._read, name="stdin-reader", daemon=True)
        self._thread.start()

    @classmethod
    def from_config(cls, spec: StdinSourceConfig, cursor: str | None = None) -> StdinLines:
        """Standard input has no cursor: what was piped before a restart is gone."""
        return cls(spec.format, name=spec.source_name, timezone=spec.timezone, service=spec.service)

    def reach(self) -> None:
        """A local source: nothing remote to reach."""
        return None

    def _read(self) -> None:
        try:
            for line in iter_lines(self._stream):
                self._queue.put(line)
        except (OSError, ValueError) as exc:
            self.error = f"stdin: {exc}"
        self._queue.put(_EOF)

    def poll(self, max_lines: int = 5000) -> SourceBatch:
        lines: list[bytes] = []
        size = 0
        try:
            while len(lines) < max_lines and size < BATCH_BYTES:
                item = self._queue.get(timeout=0.2 if not lines else 0)
                if item is _EOF:
                    self._done = True
                    break
                assert isinstance(item, bytes)
                lines.append(item)
                size += len(item)
        except queue.Empty:
            pass
        return SourceBatch(lines, None, finished=self._done)

    def close(self) -> None:
        self._done = True
