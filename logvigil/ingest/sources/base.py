"""The source plug-in shape: a config model (`type: ...`) and a class that polls lines.

A source module defines both; `logvigil.ingest.sources.SOURCES` registers the class
under its config's `type`. The config names the cursor (`source_name`); the class is
built with `from_config(spec, cursor)` and resumes at that cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Protocol, Self

from logvigil.core.configbase import Strict


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
