"""syslog lines: RFC 5424, RFC 3164 (BSD) with or without `<PRI>`, and the
RFC 3339-timestamp variant rsyslog writes to files.

    <165>1 2003-10-11T22:14:15.003Z mymachine evntslog 123 ID47 [ex@32473 iut="3"] msg
    <34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick on /dev/pts/8
    Mar  4 10:00:00 db-01 kernel: Out of memory: Killed process 1234 (postgres)
    2026-03-04T10:00:00.123456+00:00 db-01 postgres[1234]: FATAL:  the database ...

Severity is `PRI % 8` when there is a PRI (file lines have none: the message's
own level token decides, INFO otherwise). The facility name, the pid and the
RFC 5424 MSGID are attributes; each structured-data parameter is an attribute
named `<SD-ID>.<param>`. RFC 3164 has no year and no zone: see `years.bsd_year`; the
zone is ReadOptions.naive_tz (UTC by default).

The service is the program the tag names (`c.program_name`: `sshd(pam_unix)` ->
`sshd`, `/usr/sbin/cron` -> `cron`; the tag as written is the `tag` attribute).
rsyslog's `message repeated N times: [ msg]` is the event `msg` with the
attribute `repeated = N`, so it is the same template, severity and noise as
the line it repeats; so is the tagless `host last message repeated N times` of
sysklogd and the BSDs, and macOS's `--- last message repeated N time ---`, which
repeat the host's line before them.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from logvigil.core.events import LogEvent, Rejected, Severity
from logvigil.ingest.formats import _common as c
from logvigil.ingest.formats import cfdr
from logvigil.ingest.formats.years import bsd_year

FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
)  # fmt: skip
MONTHS = c.MONTHS
MALFORMED_SD = "_malformed_structured_data"

RFC5424 = re.compile(
    r"<(?P<pri>\d{1,3})>(?P<version>[1-9]\d{0,2}) (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+)"
    r" (?P<procid>\S+) (?P<msgid>\S+)(?: (?P<rest>.*))?",
    re.S,
)
RFC3164 = re.compile(
    r"(?:<(?P<pri>\d{1,3})>)?"
    r"(?:(?P<wday>(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?"
    r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(?P<day>\d{1,2})"
    r"(?: (?P<year>\d{4}))? (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)(?:\.(?P<frac>\d{1,9}))?"
    r"(?(wday) (?P<cyear>\d{4}))"
    r"|(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?))"
    r" +(?P<rest>.*)",
    re.S,
)
# busybox's syslogd (Alpine Linux, embedded systems) writes the facility and level
# between host and tag, "Mar  6 07:15:01 nas daemon.info dnsmasq[1234]: ..."
# (parse_fac_prio_20, syslog.h's names); OpenWrt's logread in place of the host, after a
# ctime stamp: "Thu Mar  6 07:15:01 2025 daemon.info dnsmasq[1234]: ...".
_LEVEL_WORDS = "emerg|panic|alert|crit|err|error|warn|warning|notice|info|debug"
FACILITY_LEVEL = re.compile(
    r"(?P<facility>kern|user|mail|daemon|auth|authpriv|syslog|lpr|news|uucp|cron|ftp"
    rf"|security|mark|local[0-7])\.(?P<level>{_LEVEL_WORDS})"
)
# Possessive: a tag's and a pid's characters exclude what must follow them (`[`, `:`,
# `]`), so giving some back could never match; not trying keeps a failing match short.
TAG = re.compile(r"(?P<tag>[^\s\[\]:]{1,128}+)(?:\[(?P<pid>[^\]\s]{0,32}+)\])?: ?")
# macOS's syslogd writes the sending process's name, which may hold blanks ("Google
# Chrome Helper[24345]: ...", "Microsoft Teams Helper (Renderer)[811]: ..."): such a tag
# is read only with its pid, as two to five capitalised words, an application's name.
_SPACED_TAG = re.compile(
    r"(?P<tag>[A-Z][^\s\[\]:]{0,63}+(?: [A-Z(][^\s\[\]:]{0,63}+){1,4}+)"
    r"\[(?P<pid>\d{1,10})\]: ?"
)
_SD_NAME = r'[^\s\]="]{1,64}'  # RFC 5424 SD-NAME: printable ASCII except = SP ] "
_SD_ELEMENT = re.compile(
    rf'\[(?P<id>{_SD_NAME})(?P<params>(?: +{_SD_NAME}="(?:[^"\\]|\\.)*")*) *\]', re.S
)
_SD_PARAM = re.compile(r' +([^\s\]="]+)="((?:[^"\\]|\\.)*)"', re.S)
_SD_UNESCAPE = re.compile(r'\\(["\\\]])')
# rsyslog's repeated-message reduction ($RepeatedMsgReduction, on in Debian's and
# Ubuntu's rsyslog.conf): "message repeated %d times: [%.800s]"; the inner message
# keeps the space that followed the tag's colon.
_REPEATED = re.compile(r"message repeated (\d{1,9}) times: \[ ?(.+)\]", re.S)
REPEATED = "repeated"
# sysklogd's and FreeBSD's syslogd (fprintlog): "last message repeated %d times" in place
# of a tag and a message, for the line before it from the same host (f_prevhost); macOS's
# syslogd: "--- last message repeated %d time%s ---".
_LAST_REPEATED = re.compile(r"(--- )?last message repeated (\d{1,9}) times?(?(1) ---)")
#: Hosts whose last line is kept for those, the most recent ones (a relay of many
#: hosts); a line can be 64 KiB, so this bounds their memory at 32 MiB.
_MAX_PREVIOUS_HOSTS = 512


def parse(raw: bytes, line_no: int, ctx: c.Context) -> LogEvent | Rejected:
    """Return the event on one syslog line, or why it cannot be one."""
    raw_cut, truncated = c.cut_bytes(raw)
    text, invalid_utf8 = c.decode(raw_cut)
    attributes: dict[str, Any] = {}
    written_pri = None
    if (m := RFC5424.match(text)) is not None:
        parsed = _rfc5424(m, ctx, attributes)
        written_pri = m.group("pri")
    elif (m := RFC3164.match(text)) is not None:
        parsed = rfc3164_fields(m, ctx, attributes)
        written_pri = m.group("pri")
    elif (received := cfdr.split(text)) is not None:
        parsed = _cfdr_fields(*received, attributes)
    else:
        return c.reject(ctx, line_no, "not a syslog line (RFC 3164 or RFC 5424)", raw)
    if isinstance(parsed, str):
        return c.reject(ctx, line_no, parsed, raw)
    ts, host, service, message, declared = parsed

    if written_pri is not None:
        pri = int(written_pri)
        if pri > 191:
            return c.reject(ctx, line_no, f"syslog priority {pri} out of range 0..191", raw)
        declared = Severity.from_syslog_priority(pri % 8)
        attributes["facility"] = FACILITIES[pri // 8]
    message = message.rstrip()
    if not message:
        return c.reject(ctx, line_no, "empty message", raw)
    host = c.name(host) or ctx.host
    if not service and (again := _repeat_of_previous(message, host, ts, ctx)) is not None:
        return again
    message = unrepeat(message, attributes)
    if invalid_utf8:
        attributes[c.INVALID_UTF8] = True
    event = c.event(
        ctx,
        ts=ts,
        host=host,
        service=c.name(service) or ctx.service,
        declared=declared,
        message=message,
        attributes=attributes,
        truncated=truncated,
    )
    previous = ctx.previous
    if previous.pop(host, None) is None and len(previous) >= _MAX_PREVIOUS_HOSTS:
        del previous[next(iter(previous))]  # the host heard from longest ago
    previous[host] = event
    return event


def _cfdr_fields(
    epoch: int, node: str, rest: str, attributes: dict[str, Any]
) -> tuple[datetime, str, str, str, Severity | None] | str:
    """(ts, host, program, message, level) of a line of the supercomputer logs
    (`cfdr`): the node's syslog line or Blue Gene/L event, at the second it was
    received; or why that second is no time."""
    ts = c.from_epoch(epoch, "received second")
    if isinstance(ts, str):
        return ts
    if (event := cfdr.bgl_event(rest)) is not None:
        program, level, message = event
        return ts, node, program, message, level
    if (m := RFC3164.match(rest)) is not None:
        _, program, message, level = host_and_tag(m.group("rest"), attributes)
        return ts, node, program, message, level
    return ts, node, "", rest, None


def _repeat_of_previous(message: str, host: str, ts: datetime, ctx: c.Context) -> LogEvent | None:
    """The host's previous event again, at `ts`, when `message` (of a line without a
    tag) is a syslogd's "last message repeated N times"; None otherwise, or when the
    input holds no earlier line of that host to repeat (the line is then read as it
    is)."""
    if "last message repeated" not in message:
        return None
    written = _LAST_REPEATED.fullmatch(message)
    previous = ctx.previous.get(host)
    if written is None or previous is None:
        return None
    return dataclasses.replace(
        previous, ts=ts, attributes={**previous.attributes, REPEATED: int(written.group(2))}
    )


def _rfc5424(
    m: re.Match[str], ctx: c.Context, attributes: dict[str, Any]
) -> tuple[datetime, str, str, str, None] | str:
    stamp = m.group("ts")
    if stamp == "-":  # RFC 5424 6.2.3: no time known; the receiver's time is used
        ts: datetime | str = ctx.now
    else:
        try:
            ts = c.to_utc(datetime.fromisoformat(stamp), stamp, "TIMESTAMP", ctx.naive_tz)
        except ValueError:
            ts = c.unparsable(stamp, "TIMESTAMP")
    if isinstance(ts, str):
        return ts
    host, app, procid, msgid = (
        "" if v == "-" else v for v in m.group("host", "app", "procid", "msgid")
    )
    app = _program(app, attributes)
    if procid:
        attributes["pid"] = c.escape_controls(procid)
    if msgid:
        attributes["msgid"] = c.escape_controls(msgid)
    rest = m.group("rest") or ""
    if rest.startswith("-"):
        message = rest[2:] if rest.startswith("- ") else rest[1:]
    elif rest.startswith("["):
        message = _structured_data(rest, attributes)
    else:
        message = rest
    return ts, host, app, message.removeprefix("\ufeff"), None


def _structured_data(rest: str, attributes: dict[str, Any]) -> str:
    """Put each SD-PARAM into `attributes`; return the MSG after the structured data.

    Malformed structured data is kept as the start of the message and flagged,
    so the line is not lost."""
    pos = 0
    found: dict[str, Any] = {}
    while pos < len(rest) and rest[pos] == "[":
        element = _SD_ELEMENT.match(rest, pos)
        if element is None:
            attributes[MALFORMED_SD] = True
            return rest
        sd_id = element.group("id")
        for param, value in _SD_PARAM.findall(element.group("params")):
            key = c.escape_controls(f"{sd_id}.{param}")
            found[key], _ = c.attribute(_SD_UNESCAPE.sub(r"\1", value))
        pos = element.end()
    attributes.update(list(found.items())[: c.MAX_ATTRIBUTES])
    return rest[pos + 1 :] if rest[pos : pos + 1] == " " else rest[pos:]


def rfc3164_fields(
    m: re.Match[str], ctx: c.Context, attributes: dict[str, Any]
) -> tuple[datetime, str, str, str, Severity | None] | str:
    """Return (ts, host, program, message, level) of an RFC3164 match, or why its time
    is invalid.

    host and program are "" when the line names none; the message is the end of
    the line as written (not stripped); the level is the one a busybox or OpenWrt line
    writes (`daemon.err`), else None. The facility, pid and tag go to `attributes`.
    """
    iso = m.group("iso")
    if iso is not None:
        try:
            ts = c.to_utc(datetime.fromisoformat(iso), iso, "TIMESTAMP", ctx.naive_tz)
        except ValueError:
            ts = c.unparsable(iso, "TIMESTAMP")
    else:
        ts = _bsd_timestamp(m, ctx, attributes)
    if isinstance(ts, str):
        return ts
    return (ts, *host_and_tag(m.group("rest"), attributes))


def host_and_tag(rest: str, attributes: dict[str, Any]) -> tuple[str, str, str, Severity | None]:
    """Return (host, program, message, level) of what follows an RFC 3164 timestamp:
    `host tag[pid]: msg`, or `tag[pid]: msg` as sent over /dev/log (host "");
    busybox's `host facility.level tag[pid]: msg` and OpenWrt logread's
    `facility.level tag[pid]: msg` give their level (the facility goes to
    `attributes`); macOS's `host Google Chrome Helper[24345]: msg` its spaced
    program name. A line without a tag has program "" and keeps the rest as its
    message."""
    host = ""
    level = None
    tag = TAG.match(rest)
    if tag is None:  # "host tag[pid]: msg"; no host when sent over /dev/log
        host, _, rest = rest.partition(" ")
        if "." in host and (written := FACILITY_LEVEL.fullmatch(host)) is not None:
            host, level = "", _facility_level(written, attributes)  # OpenWrt's logread
        tag = TAG.match(rest)
        if (
            tag is None
            and (written := FACILITY_LEVEL.match(rest)) is not None
            and rest[written.end() : written.end() + 1] == " "
        ):  # busybox's syslogd
            level = _facility_level(written, attributes)
            rest = rest[written.end() + 1 :]
            tag = TAG.match(rest)
        elif tag is None and host:
            tag = _SPACED_TAG.match(rest)
    service = ""
    if tag is not None:
        name, pid = tag.group("tag", "pid")
        service = _program(name, attributes)
        if pid:
            attributes["pid"] = c.escape_controls(pid)
        rest = rest[tag.end() :]
    return host, service, rest, level


def _facility_level(written: re.Match[str], attributes: dict[str, Any]) -> Severity:
    attributes["facility"] = written.group("facility")
    return Severity.parse(written.group("level"))


def unrepeat(message: str, attributes: dict[str, Any]) -> str:
    """Return the message rsyslog's `message repeated N times: [ msg]` repeats (N goes
    to the `repeated` attribute), or `message` itself."""
    if message.startswith("message repeated ") and (repeated := _REPEATED.fullmatch(message)):
        attributes[REPEATED] = int(repeated.group(1))
        return repeated.group(2).rstrip()
    return message


def _program(tag: str, attributes: dict[str, Any]) -> str:
    """The program named by `tag`; a normalised tag is kept as the `tag` attribute."""
    program = c.program_name(tag)
    if program != tag:
        attributes[c.TAG] = c.escape_controls(tag)
    return program


def _bsd_timestamp(m: re.Match[str], ctx: c.Context, attributes: dict[str, Any]) -> datetime | str:
    """The UTC time of an RFC 3164 stamp, or why it is none; a local time in a
    daylight-saving change is marked in `attributes` (`_common.DST`)."""
    mon, day, written_year, hour, mins, sec, frac = m.group(
        "mon", "day", "year", "h", "m", "s", "frac"
    )
    month = MONTHS[mon]
    written_year = written_year or m.group("cyear")
    year = int(written_year) if written_year else None
    if year is None and ctx.year is not None:  # --year: the operator's, run on in order
        year = ctx.year.of(month)
    second = int(sec)
    minute = None
    if second < 60:
        minute, case = _bsd_minute_utc(
            year, month, int(day), int(hour), int(mins), ctx.now, ctx.naive_tz
        )
        if case is not None:
            attributes[c.DST] = case
    if minute is None:
        ts = None
    elif frac is None:
        ts = minute + _SECONDS[second]
    else:
        ts = minute + timedelta(seconds=second, microseconds=int(frac[:6].ljust(6, "0")))
    if ts is None or ts.year > c.MAX_YEAR:
        return _bsd_timestamp_error(m, ctx, year)
    return ts


#: The seconds of a minute, made once: most stamps have no fraction.
_SECONDS = tuple(timedelta(seconds=s) for s in range(60))


@lru_cache(maxsize=4096)
def _bsd_minute_utc(
    year: int | None, month: int, day: int, hour: int, minute: int, now: datetime, tz: tzinfo
) -> tuple[datetime | None, str | None]:
    """The UTC instant of a local minute of an RFC 3164 stamp (the year inferred from
    `now` when absent), or None when it is no valid time (`_bsd_timestamp_error` says
    why); and its daylight-saving case (`_common.dst_case`).

    Cached: a live stream repeats its minutes, and the year inference and the
    zone conversion were most of a line's parsing cost. Exact, because zone
    transitions fall on minute boundaries.
    """
    if year is None:
        year = bsd_year(month, day, now.astimezone(tz))
        if year is None:
            return None, None
    return c.local_minute(year, month, day, hour, minute, tz)


def _bsd_timestamp_error(m: re.Match[str], ctx: c.Context, year: int | None) -> datetime | str:
    """The slow, uncached reading of an RFC 3164 stamp (`year`: its year when written
    or given): why it is invalid."""
    stamp = m.string[m.start("mon") : m.end("cyear") if m.group("cyear") else m.end("s")]
    month, day = MONTHS[m.group("mon")], int(m.group("day"))
    reference = ctx.now.astimezone(ctx.naive_tz)
    year = year if year is not None else bsd_year(month, day, reference)
    if year is None:
        return f"invalid date {c.quote(stamp)}"
    frac = (m.group("frac") or "0")[:6].ljust(6, "0")
    try:
        local = datetime(
            year, month, day, int(m.group("h")), int(m.group("m")), int(m.group("s")),
            int(frac),
        )  # fmt: skip
    except ValueError:
        return f"invalid date {c.quote(stamp)}"
    return c.to_utc(local, stamp, "TIMESTAMP", ctx.naive_tz)
