"""Every source's health, in the store: written by the process that reads the source.

Each daemon that ingests rewrites its sources' rows every few seconds (lines
read, the current error, the newest event, whether an SSH host is reachable).
Any process can then answer for the whole fleet: `logvigil status` on one
machine shows the sources of every machine, and the detector leader turns a
host that another process cannot reach over SSH into a finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select

from logvigil.store.schema import SourceHealth
from logvigil.store.upsert import upsert

#: A row not rewritten for this long belongs to a process that is not running.
STALE_AFTER = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class SourceHealthRecord:
    source: str
    process: str  # `host:pid` of the process reading it
    kind: str  # the config `type`: file, journald, ssh_journald, ...
    updated_at: datetime
    host: str | None = None  # the remote host, for sources that pull from one
    lines: int = 0  # read by this process since it started
    failures: int = 0  # consecutive failed polls
    error: str | None = None
    last_lines_at: datetime | None = None
    last_event_at: datetime | None = None
    unreachable_since: datetime | None = None
    unreachable_grace_s: int | None = None

    def stale(self, now: datetime) -> bool:
        return now - self.updated_at > STALE_AFTER


_COLUMNS = tuple(SourceHealthRecord.__dataclass_fields__)


def record_source_health(engine: Engine, records: Sequence[SourceHealthRecord]) -> None:
    """Replace the rows of `records`' sources (one transaction)."""
    if not records:
        return
    rows = [asdict(r) for r in records]
    with engine.begin() as conn:
        upsert(
            conn,
            SourceHealth.__table__,  # type: ignore[arg-type]
            rows,
            {c: "replace" for c in _COLUMNS if c != "source"},
        )


def read_source_health(conn: Connection) -> list[SourceHealthRecord]:
    """Every recorded source, by name."""
    table = SourceHealth.__table__
    rows = conn.execute(select(*(table.c[c] for c in _COLUMNS)).order_by(table.c.source))
    return [SourceHealthRecord(**row._mapping) for row in rows]
