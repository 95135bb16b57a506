"""journalctl's text output: `-o short` (the default), `short-precise`, `short-iso`,
`short-iso-precise`, `short-full` and `short-unix`, with the marker lines journalctl
prints between entries.

    Nov 30 08:36:03 web-01 sshd[612]: Server listening on 0.0.0.0 port 22.
    Nov 30 08:36:03.123456 web-01 sshd[612]: ...                       (short-precise)
    2026-11-30T08:36:03+0100 web-01 sshd[612]: ...      (short-iso; newer: +01:00)
    Mon 2026-11-30 08:36:03 CET web-01 sshd[612]: ...                  (short-full)
    1796024163.123456 web-01 sshd[612]: ...                            (short-unix)
    -- Boot 6a5c7c1e0f4d4d8e9b1d1f0e2a3b4c5d --

An entry line is read as syslog reads an RFC 3164 line (`syslog.rfc3164_fields`: the
same year inference, zone, tag and program rules), so a `-o short` export gives the
same events read as `syslog` or as `journalctl`. journalctl writes `%b %d %H:%M:%S`
(logs-show.c, `output_timestamp_realtime`): no year, no zone, like RFC 3164. A
short-full stamp (`format_timestamp`: `%a %Y-%m-%d %H:%M:%S %Z`) names its zone by
abbreviation, which is only trusted when it is unambiguous (`_full_timestamp`). A
short-unix stamp is the entry's realtime clock in seconds since the epoch, UTC, with
its microseconds (`"%10" PRI_USEC ".%06" PRI_USEC`). `short-monotonic` (seconds since
boot) says no time of day and is not read.

Marker lines (journalctl.c): `-- Boot <id> --` (`-- Reboot --` in older versions,
systemd 239 of RHEL 8 for one) is printed before the first entry of a boot when the
boot ID changes; it becomes a `journalctl` event at the time of that entry, on the
host of the entry before it (`Session`), which `lifecycle.phase_of` reads as a boot.
`-- No entries --`, the first-line headers `-- Logs begin at ..., end at ... --`
(older) or `-- Journal begins at ..., ends at ... --` (newer; only with debug
logging in recent versions) and `-- cursor: ...` (`--show-cursor`) say nothing
about the logs and are skipped.

A multi-line message is printed with its next lines indented to the width of the
entry's `stamp host ident[pid]: ` prefix (`print_multiline`); they are joined to it,
so one entry is one event, as in the journal's JSON export. `Session` reads an input
in this context; `parse` reads one line alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from logvigil.core.events import MAX_LINE_BYTES, LogEvent, Rejected
from logvigil.ingest.formats import _common as c
from logvigil.ingest.formats import syslog

#: The service of a boot-marker event: the program that wrote the marker line.
SERVICE = "journalctl"
#: The attribute with the boot ID of a `-- Boot <id> --` marker (journald's field name).
BOOT_ID = "_BOOT_ID"
#: The flag set on a short-full entry whose zone abbreviation was not recognised.
UNKNOWN_ZONE = "_unknown_zone"

_BOOT = re.compile(r"-- Boot (?P<id>[0-9a-f]{32}) --")
_REBOOT = "-- Reboot --"
_NO_ENTRIES = "-- No entries --"
# journalctl.c: "-- Logs begin at %s, end at %s. --" (with --follow: "-- Logs begin at
# %s. --"; systemd 239), later "-- Journal begins at %s, ends at %s. --"; the stamps
# are format_timestamp()'s, in the reader's locale, so only the shape is checked.
_HEADER = re.compile(
    r"-- (?:Logs begin at \S.*?(?:, end at \S.*?)?|Journal begins at \S.*?(?:, ends at \S.*?)?)"
    r"\.? --"
)
_CURSOR = re.compile(r"-- cursor: \S+")
_MARKER_REASON = (
    "malformed journalctl marker line (expected '-- Boot <32 hex digits> --', "
    "'-- Reboot --', '-- No entries --', '-- Logs begin at ... --' or "
    "'-- Journal begins at ... --')"
)
# short-full: format_timestamp(), "%a %Y-%m-%d %H:%M:%S %Z"; %Z is an abbreviation
# ("CET", "UTC") or, for zones that have none in tzdata, an offset ("+03", "-0330").
FULL = re.compile(
    r"(?P<wday>Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?P<date>\d{4}-\d\d-\d\d) (?P<time>\d\d:\d\d:\d\d)"
    r" (?P<zone>[A-Za-z]{1,6}|[+-]\d\d(?:\d\d)?) (?P<rest>.*)",
    re.S,
)
# short-unix: logs-show.c, "%10" PRI_USEC ".%06" PRI_USEC (seconds padded to ten places).
UNIX = re.compile(r" *(?P<sec>\d{1,10})\.(?P<usec>\d{6}) (?P<rest>.*)", re.S)
_NOT_AN_ENTRY = (
    "no journalctl timestamp at the start (short 'Nov 30 08:36:03', short-precise, "
    "short-iso '2026-11-30T08:36:03+01:00', short-full 'Mon 2026-11-30 08:36:03 CET' "
    "or short-unix '1796024163.123456')"
)
_ORPHAN = (
    "indented line that continues no entry (a multi-line message whose first line is "
    "missing or was rejected, or indented differently from it)"
)
_UTC_NAMES = frozenset({"UTC", "GMT"})


def is_marker(line: bytes) -> bool:
    """Whether `line` (without its newline) is one of journalctl's marker lines."""
    if not line.startswith(b"-- "):
        return False
    text = line.decode("utf-8", "replace").rstrip()
    return _marker_kind(text) is not None


def _marker_kind(text: str) -> str | None:
    """The kind of marker line `text` is: "boot", "skip" (the others), or None."""
    if text == _REBOOT or _BOOT.fullmatch(text):
        return "boot"
    if text == _NO_ENTRIES or _HEADER.fullmatch(text) or _CURSOR.fullmatch(text):
        return "skip"
    return None


@dataclass(slots=True)
class Entry:
    """One entry line read, before the event is built: its continuation lines may follow.

    `indent` is the byte width of the line's `stamp host ident[pid]: ` prefix, which
    journalctl puts before each further line of the message.
    """

    ts: datetime
    host: str
    service: str
    message: str
    attributes: dict[str, Any]
    truncated: bool
    indent: int
    more: list[str] = field(default_factory=list)
    size: int = 0

    def add(self, line: str) -> None:
        """Append a further line of the message (kept up to MAX_LINE_BYTES in all)."""
        if self.size > MAX_LINE_BYTES:
            self.truncated = True
            return
        self.more.append(line)
        self.size += len(line) + 1

    def event(self, ctx: c.Context) -> LogEvent:
        message = self.message
        if self.more:
            while self.more and not self.more[-1]:
                self.more.pop()
            message = "\n".join([message, *self.more])
        return c.event(
            ctx,
            ts=self.ts,
            host=self.host,
            service=self.service,
            declared=None,
            message=message,
            attributes=self.attributes,
            truncated=self.truncated,
        )


def entry(raw: bytes, line_no: int, ctx: c.Context) -> Entry | Rejected:
    """Read one entry line (not a marker, not a continuation), or say why it is none."""
    raw_cut, truncated = c.cut_bytes(raw)
    text, invalid_utf8 = c.decode(raw_cut)
    attributes: dict[str, Any] = {}
    if (m := FULL.match(text)) is not None or (m := UNIX.match(text)) is not None:
        ts = _full_timestamp(m, ctx, attributes) if m.re is FULL else _unix_timestamp(m)
        if isinstance(ts, str):
            return c.reject(ctx, line_no, ts, raw)
        host, service, message, _ = syslog.host_and_tag(m.group("rest"), attributes)
    else:
        m = syslog.RFC3164.match(text)
        # journalctl writes neither a <PRI> nor a year nor a weekday.
        if m is None or m.group("pri") is not None or m.group("year") or m.group("wday"):
            return c.reject(ctx, line_no, _NOT_AN_ENTRY, raw)
        parsed = syslog.rfc3164_fields(m, ctx, attributes)
        if isinstance(parsed, str):
            return c.reject(ctx, line_no, parsed, raw)
        ts, host, service, message, _ = parsed
    indent = len(text[: len(text) - len(message)].encode("utf-8", "replace"))
    message = message.rstrip()
    if not message:
        return c.reject(ctx, line_no, "empty message", raw)
    message = syslog.unrepeat(message, attributes)
    if invalid_utf8:
        attributes[c.INVALID_UTF8] = True
    return Entry(
        ts=ts,
        host=c.name(host) or ctx.host,
        service=c.name(service) or ctx.service,
        message=message,
        attributes=attributes,
        truncated=truncated,
        indent=indent,
    )


def _unix_timestamp(m: re.Match[str]) -> datetime | str:
    """The UTC time of a short-unix stamp, or why it is out of range."""
    stamp = m.string[: m.end("usec")].strip()
    ts = datetime.fromtimestamp(int(m.group("sec")), UTC)
    return c.to_utc(ts.replace(microsecond=int(m.group("usec"))), stamp, "timestamp", UTC)


def _full_timestamp(m: re.Match[str], ctx: c.Context, attributes: dict[str, Any]) -> datetime | str:
    """The UTC time of a short-full stamp, or why it is invalid.

    The zone abbreviation is used when it says the offset for sure: UTC/GMT, a
    numeric one (`+03`), or the abbreviation `naive_tz` has at that local time
    (`CET`/`CEST` for Europe/Berlin; this also settles the hour repeated at the end
    of summer time). Any other abbreviation (`PST` read with naive_tz UTC) cannot be
    mapped to one zone (`IST` is India, Ireland or Israel): the time is taken in
    `naive_tz` and the event is flagged `_unknown_zone = "PST"`.
    """
    stamp = m.string[: m.end("zone")]
    try:
        local = datetime.fromisoformat(f"{m.group('date')}T{m.group('time')}")
    except ValueError:
        return f"invalid date {c.quote(stamp)} in field 'timestamp'"
    zone = m.group("zone")
    if zone in _UTC_NAMES:
        return c.to_utc(local.replace(tzinfo=UTC), stamp, "timestamp", ctx.naive_tz)
    if zone[0] in "+-":
        tz = c.fixed_offset(zone)
        if tz is None:
            return f"invalid zone offset {c.quote(zone)} in field 'timestamp'"
        return c.to_utc(local.replace(tzinfo=tz), stamp, "timestamp", ctx.naive_tz)
    for fold in (0, 1):
        candidate = local.replace(tzinfo=ctx.naive_tz, fold=fold)
        if candidate.tzname() == zone:
            return c.to_utc(candidate, stamp, "timestamp", ctx.naive_tz)
    attributes[UNKNOWN_ZONE] = zone
    return c.to_utc(local, stamp, "timestamp", ctx.naive_tz)


def parse(raw: bytes, line_no: int, ctx: c.Context) -> LogEvent | Rejected:
    """Return the event of one journalctl line read alone, or why it cannot be one.

    A line alone has no neighbours: a marker line is rejected (`read_events` reads
    markers and continuation lines in context, with `Session`)."""
    if raw.startswith(b"-- "):
        return c.reject(ctx, line_no, "journalctl marker line: no entry of its own", raw)
    if raw[:1] in (b" ", b"\t"):
        return c.reject(ctx, line_no, _ORPHAN, raw)
    found = entry(raw, line_no, ctx)
    return found if isinstance(found, Rejected) else found.event(ctx)


class Session:
    """Reads the lines of one input in order, the way journalctl printed them.

    `feed` takes each line (newline, NUL bytes and a first BOM already removed) and
    returns what it completes: an entry is held until the next line shows whether
    it continues (so each event comes one line late, and at `end`).

    A boot marker waits for the entry after it, the boot's first, whose time it takes.
    Its host is that of the entry before it (`last_host`: the host of the input's
    last event when it was read as syslog until then): in one machine's export both
    entries are that machine's (journalctl prints no markers with `--merge`), and the
    one before names it as the rest of its history does, where the boot's first
    lines may still say `localhost` (an initrd without the hostname, as in a Rocky
    Linux 9 journal). A marker first in the input takes the host of the entry after it.
    """

    def __init__(self, ctx: c.Context, last_host: str | None = None) -> None:
        self.ctx = ctx
        self._entry: Entry | None = None
        self._last_host = last_host
        #: (line_no, text, raw, host before it) of a boot marker waiting for its entry
        self._boot: tuple[int, str, bytes, str | None] | None = None

    def feed(self, line: bytes, line_no: int) -> list[LogEvent | Rejected]:
        pending = self._entry
        if pending is not None:
            if not line or line.isspace():  # a blank line of a multi-line message
                pending.add("")
                return []
            if line[:1] == b" " and line[: pending.indent] == b" " * pending.indent:
                text, invalid = c.decode(line[pending.indent :])
                pending.add(text.rstrip())
                if invalid:
                    pending.attributes[c.INVALID_UTF8] = True
                return []
        out = self._flush()
        ctx = self.ctx
        if not line or line.isspace():
            out.append(Rejected(ctx.source, line_no, "empty line"))
        elif line.startswith(b"-- "):
            out.extend(self._marker(line, line_no))
        elif line[:1] in (b" ", b"\t"):
            out.append(c.reject(ctx, line_no, _ORPHAN, line))
        else:
            found = entry(line, line_no, ctx)
            if isinstance(found, Rejected):
                out.append(found)
            else:
                if self._boot is not None:
                    out.append(self._boot_event(found))
                self._entry = found
                self._last_host = found.host
        return out

    def end(self) -> list[LogEvent | Rejected]:
        """What is still held at the end of the input."""
        out = self._flush()
        if self._boot is not None:
            line_no, _, raw, _ = self._boot
            self._boot = None
            reason = "journalctl boot marker with no entry after it to date it"
            out.append(c.reject(self.ctx, line_no, reason, raw))
        return out

    def _flush(self) -> list[LogEvent | Rejected]:
        pending, self._entry = self._entry, None
        return [] if pending is None else [pending.event(self.ctx)]

    def _marker(self, line: bytes, line_no: int) -> list[LogEvent | Rejected]:
        text, _ = c.decode(line)
        text = text.rstrip()
        kind = _marker_kind(text)
        if kind is None:
            return [c.reject(self.ctx, line_no, _MARKER_REASON, line)]
        if kind == "skip":
            return []
        out: list[LogEvent | Rejected] = []
        if self._boot is not None:  # journalctl prints one only before an entry
            earlier, _, raw, _ = self._boot
            reason = "journalctl boot marker followed by another with no entry between"
            out.append(c.reject(self.ctx, earlier, reason, raw))
        self._boot = (line_no, text, line, self._last_host)
        return out

    def _boot_event(self, first: Entry) -> LogEvent:
        assert self._boot is not None
        _, text, _, host = self._boot
        self._boot = None
        boot = _BOOT.fullmatch(text)
        return c.event(
            self.ctx,
            ts=first.ts,
            host=host or first.host,
            service=SERVICE,
            declared=None,
            message=text,
            attributes={BOOT_ID: boot.group("id")} if boot else {},
        )
