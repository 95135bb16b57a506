"""Live log sources for the daemon: each yields raw lines and a resumable cursor.

A source is registered explicitly in `SOURCES` (config `type` -> class). The
daemon polls each source, parses the lines in the source's format, and commits
the source's cursor in the same transaction as the events it covers
(`Ingestor.set_cursor` + `flush`), so a restart resumes where the store ends.
"""

from __future__ import annotations

from logvigil.ingest.sources.base import LineSource, SourceBatch
from logvigil.ingest.sources.file import FileTail
from logvigil.ingest.sources.journald import JournaldSource
from logvigil.ingest.sources.loki import LokiSource
from logvigil.ingest.sources.ssh_journald import SshJournaldSource
from logvigil.ingest.sources.stdin import StdinLines
from logvigil.ingest.sources.syslog_receiver import SyslogReceiver

SOURCES: dict[str, type[LineSource]] = {
    "file": FileTail,
    "stdin": StdinLines,
    "journald": JournaldSource,
    "ssh_journald": SshJournaldSource,
    "syslog": SyslogReceiver,
    "loki": LokiSource,
}

__all__ = [
    "SOURCES",
    "FileTail",
    "JournaldSource",
    "LineSource",
    "LokiSource",
    "SourceBatch",
    "SshJournaldSource",
    "StdinLines",
    "SyslogReceiver",
]
