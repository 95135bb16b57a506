"""Live log sources for the daemon: each yields raw lines and a resumable cursor.

`SOURCES` is the registry (config `type` -> class); a source is one module with its
config model and its class, plus one line here. `SourceSpec` is the `sources:` list
item of the config file, a union discriminated on `type` built from the registry.
The daemon polls each source, parses the lines in the source's format, and commits
the source's cursor in the same transaction as the events it covers
(`Ingestor.set_cursor` + `flush`), so a restart resumes where the store ends.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from logvigil.ingest.sources.base import LineSource, SourceBatch, SourceConfig
from logvigil.ingest.sources.file import FileTail
from logvigil.ingest.sources.journald import JournaldSource
from logvigil.ingest.sources.loki import LokiSource
from logvigil.ingest.sources.ssh_journald import SshJournaldSource
from logvigil.ingest.sources.stdin import StdinLines
from logvigil.ingest.sources.syslog_receiver import SyslogReceiver

#: Every source, by its config `type`, in the order config errors list them.
SOURCES: dict[str, type[LineSource]] = {
    "file": FileTail,
    "stdin": StdinLines,
    "journald": JournaldSource,
    "ssh_journald": SshJournaldSource,
    "syslog": SyslogReceiver,
    "loki": LokiSource,
}

#: One item of the config's `sources:` list: the section of any registered source.
SourceSpec = Annotated[
    Union[tuple(cls.config_model for cls in SOURCES.values())],  # type: ignore[valid-type]  # noqa: UP007
    Field(discriminator="type"),
]


def build_source(spec: SourceConfig, cursor: str | None) -> LineSource:
    """The source `spec` configures, resuming at `cursor` (its stored cursor, or None)."""
    return SOURCES[spec.type].from_config(spec, cursor)


__all__ = [
    "SOURCES",
    "LineSource",
    "SourceBatch",
    "SourceConfig",
    "SourceSpec",
    "build_source",
]
