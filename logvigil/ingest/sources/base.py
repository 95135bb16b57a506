"""The source interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SourceBatch:
    """Complete lines read since the last poll, and the cursor just after them."""

    lines: list[bytes]
    cursor: str | None
    finished: bool = False  # the source will never yield more (stdin closed)


class LineSource(Protocol):
    name: str
    format: str

    def poll(self, max_lines: int) -> SourceBatch:
        """Lines available now (possibly none); never blocks for long, never raises
        for a missing or unreadable file (it reports it in `error`)."""
        ...

    @property
    def error(self) -> str | None: ...

    def close(self) -> None: ...
