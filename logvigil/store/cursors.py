"""The sources' committed cursors: where each source resumes, and when it last committed.

The ingestor writes a source's cursor in the same transaction as the events read
before it (`logvigil.ingest.ingestor`); these are the read side, for the daemon
that starts its sources and for `logvigil status`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from logvigil.store.schema import IngestCursor


def read_cursors(conn: Connection) -> dict[str, str]:
    """Every stored cursor: source name -> the cursor it resumes at."""
    rows = conn.execute(select(IngestCursor.source, IngestCursor.cursor))
    return {source: cursor for source, cursor in rows}


def committed_at(conn: Connection) -> dict[str, datetime]:
    """Every source with a stored cursor: source name -> when its cursor was last committed."""
    rows = conn.execute(select(IngestCursor.source, IngestCursor.updated_at))
    return {source: updated for source, updated in rows}
