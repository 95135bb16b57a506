"""Unstructured lines: the whole line is the message.

ts, host and service come from the Context (ReadOptions.default_time, e.g. the
reader's start or the file's mtime; default_host; default_service, e.g. the
file's stem). Severity is inferred from the message alone.
"""

from __future__ import annotations

from logvigil.core.events import LogEvent, Rejected
from logvigil.ingest.formats import _common as c


def parse(raw: bytes, line_no: int, ctx: c.Context) -> LogEvent | Rejected:
    """Return the line as an event (an all-blank line was already rejected)."""
    raw_cut, truncated = c.cut_bytes(raw)
    text, invalid_utf8 = c.decode(raw_cut)
    message = text.rstrip()
    if not message:  # e.g. only a form feed and U+3000
        return c.reject(ctx, line_no, "empty line", raw)
    return c.event(
        ctx,
        ts=ctx.now,
        host=ctx.host,
        service=ctx.service,
        declared=None,
        message=message,
        attributes={c.INVALID_UTF8: True} if invalid_utf8 else {},
        truncated=truncated,
    )
