"""Unstructured lines: the whole line is the message, after the time it starts with.

An application's own log file starts each line with a timestamp in one of a few
shapes (`stamps.leading_stamp`: Python's logging, log4j, nginx, Apache, PostgreSQL,
ISO 8601, klog, Redis; an access log's after the client, a logfmt line's `ts=`): that
is the line's time, and the rest of the line its message (a level the stamp holds,
klog's letter, Redis' mark, an access log's 5xx status, is the line's declared
level). A line without one (a stack trace's frames) has the time of the last stamped
line before it; before any, ReadOptions.default_time (the reader's start), marked
`_common.UNTIMED`: a file of such lines is placed at one moment.
A container runtime's CRI log line (`2026-03-04T10:00:00.123456789Z stderr F msg`,
kubelet's /var/log/pods) is the container's own line `msg`, with its stream as the
`stream` attribute (a piece of a line the runtime split is marked `partial`).
A stamp of an impossible date (`2026-02-30 10:00:00`) rejects its line. host and
service come from the Context (default_host; default_service), unless the line names
its program after the stamp (Unbound's `[seconds] unbound[pid:thread] `). Severity is
inferred from the message alone.
"""

from __future__ import annotations

from logvigil.core.events import LogEvent, Rejected
from logvigil.ingest.formats import _common as c
from logvigil.ingest.formats.stamps import (
    access_stamp,
    leading_stamp,
    logfmt_stamp,
    stamp_utc,
)


def parse(raw: bytes, line_no: int, ctx: c.Context) -> LogEvent | Rejected:
    """Return the line as an event (an all-blank line was already rejected)."""
    raw_cut, truncated = c.cut_bytes(raw)
    text, invalid_utf8 = c.decode(raw_cut)
    message = text.rstrip()
    if not message:  # e.g. only a form feed and U+3000
        return c.reject(ctx, line_no, "empty line", raw)
    attributes: dict = {c.INVALID_UTF8: True} if invalid_utf8 else {}
    last = ctx.last_stamp
    stamp = leading_stamp(message) or access_stamp(message) or logfmt_stamp(message)
    declared = None
    service = ctx.service
    if stamp is None:
        ts = last.ts
        if ts is None:  # no stamped line before it: the time of reading stands in
            ts = ctx.now
            attributes[c.UNTIMED] = True
    else:
        read = stamp_utc(stamp, ctx)
        if isinstance(read, str):
            return c.reject(ctx, line_no, read, raw)
        ts, case = read
        if case is not None:
            attributes[c.DST] = case
        last.ts = ts
        rest = message[stamp.end :].lstrip()
        if rest[:7] in _CRI_STREAMS and rest[7:8] in ("P", "F") and rest[8:9] in (" ", ""):
            rest = _cri_line(rest, attributes)
        if stamp.head:  # an access log's client, ident and user; a logfmt line's keys
            rest = f"{stamp.head} {rest}" if rest else stamp.head
        message = rest or message  # a line of a stamp alone
        declared = stamp.level  # klog's letter, Redis' mark, an access log's 5xx
        if stamp.pid is not None:
            attributes["pid"] = stamp.pid
        if stamp.program is not None:  # a line that names its program (Unbound's)
            service = stamp.program
    return c.event(
        ctx,
        ts=ts,
        host=ctx.host,
        service=service,
        declared=declared,
        message=message,
        attributes=attributes,
        truncated=truncated,
    )


# The CRI log format (containerd, CRI-O; what kubelet keeps in /var/log/pods and
# /var/log/containers): "<RFC 3339 time> <stream> <P|F> <the container's line>", a line
# over the runtime's buffer (16 KiB) split into partial "P" pieces ended by an "F" one.
_CRI_STREAMS = frozenset(("stdout ", "stderr "))


def _cri_line(rest: str, attributes: dict) -> str:
    """The container's own line of a CRI log line's `rest` (after its time); the stream
    goes to the `stream` attribute, and a partial piece is marked `partial`."""
    attributes["stream"] = rest[:6]
    if rest[7] == "P":
        attributes["partial"] = True
    return rest[9:]
