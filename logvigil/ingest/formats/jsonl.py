"""Plain events, one JSON object per line (the LogVigil interchange format).

    {"ts": "2026-03-04T10:00:00Z", "host": "db-01", "service": "postgres",
     "severity": "error", "message": "..."}

Each field has aliases, tried in order; the first one present is used and the
others stay attributes. `ts` is ISO 8601 (naive = ReadOptions.naive_tz, UTC by
default) or an epoch number in s/ms/us/ns. Every other key is kept as an
attribute (objects and arrays as compact JSON text). docs/formats.md has the
table.

A record with no message key is a record of fields (Suricata's eve.json, Zeek's JSON
logs, osquery's results): its message is its other fields as `key=value`, in the
order the producer wrote them (`_fields_text`), so that each kind of record mines to
its own template and a report can quote it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from logvigil.core.events import MAX_LINE_BYTES, LogEvent, Rejected, Severity
from logvigil.ingest.formats import _common as c

TS_KEYS = ("ts", "timestamp", "@timestamp", "time")
#: Without any of TS_KEYS, a field whose name says time or date is the time
#: (`_named_time`): log4j2's JsonLayout `timeMillis` (and its `instant` object),
#: Serilog's compact `@t`, MongoDB's `t` ({"$date": ...}), Fluent Bit's `date`,
#: Kubernetes audit's `requestReceivedTimestamp`, CloudTrail's `eventTime`,
#: OpenCanary's `utc_time`, nginx's `time_iso8601`.
_TIME_NAME = re.compile(r"time|date|^@?t$|^instant$", re.IGNORECASE)
#: Such a field is a time only when it is one since 2000: a `response_time` of 0.2 s
#: or an `uptime` of 86400 s is a duration (1970 read as an epoch).
_NAMED_TIME_SINCE = datetime(2000, 1, 1, tzinfo=UTC)
# The dotted keys are the Elastic Common Schema's, as its logging libraries (ecs-logging
# for Java, .NET, Python, Go, Node) write them: flat, at the top of the object.
HOST_KEYS = ("host", "hostname", "host.name")
SERVICE_KEYS = ("service", "app", "application", "program", "unit", "service.name")
# Serilog's compact JSON (CLEF) `@l`.
SEVERITY_KEYS = ("severity", "level", "lvl", "loglevel", "log_level", "priority", "log.level", "@l")
# structlog's JSON names the message `event`; GELF (Graylog's format) `short_message`,
# Falco `output`, Serilog's compact JSON `@m` (rendered) or `@mt` (its template).
MESSAGE_KEYS = ("message", "msg", "log", "event", "short_message", "output", "@m", "@mt")
#: The error a structured logger writes beside its message: zap's `zap.Error`, logrus'
#: `WithError`, zerolog's `Err` (`error`), slog's and go-kit's `err` by convention, ECS'
#: `error.message`; pino's and bunyan's serialised `err` object holds it in `message`.
ERROR_KEYS = ("error", "err", "error.message")
#: MongoDB's severities in its structured log (4.4 and later), key `s`: a field `s`
#: holding anything else is no severity.
_MONGODB_SEVERITY = {
    "F": Severity.CRITICAL,
    "E": Severity.ERROR,
    "W": Severity.WARNING,
    "I": Severity.INFO,
} | {f"D{n}": Severity.DEBUG for n in range(1, 6)}

#: Nextcloud's and ownCloud's nextcloud.log (lib/private/Log/LogDetails.php: `reqId`,
#: `level`, `time`, `app`, `message`, ...): its `level` is ILogger's DEBUG 0, INFO 1,
#: WARN 2, ERROR 3, FATAL 4, not syslog's 0 (emergency) to 7 (debug).
_NEXTCLOUD_LEVELS = (
    Severity.DEBUG,
    Severity.INFO,
    Severity.WARNING,
    Severity.ERROR,
    Severity.CRITICAL,
)

_MISSING_TS = (
    "missing timestamp (none of "
    + ", ".join(f"'{k}'" for k in TS_KEYS)
    + ", nor a field named for a time or date holding one)"
)
_MISSING_MESSAGE = (
    "missing message (none of "
    + ", ".join(f"'{k}'" for k in MESSAGE_KEYS)
    + ", and no other field)"
)
#: Characters that make a value of a record without message quoted in its `key=value`.
_QUOTED = frozenset(' "=\\')


def _first(obj: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    if obj.get(keys[0]) is not None:  # the canonical name: no loop
        return keys[0]
    for key in keys[1:]:
        if key in obj and obj[key] is not None:
            return key
    return None


def parse(raw: bytes, line_no: int, ctx: c.Context) -> LogEvent | Rejected:
    """Return the event on one JSONL line, or why it cannot be one."""
    text, invalid_utf8 = c.decode(raw)
    obj = c.load_object(text)
    if isinstance(obj, str):
        return c.reject(ctx, line_no, obj, raw)

    ts_key = "ts" if obj.get("ts") is not None else _first(obj, TS_KEYS)
    if ts_key is not None:
        ts = c.parse_timestamp(obj.pop(ts_key), ts_key, ctx.naive_tz)
        if isinstance(ts, str):
            return c.reject(ctx, line_no, ts, raw)
    elif (named := _named_time(obj, ctx)) is not None:
        ts_key, ts = named
        del obj[ts_key]
    else:
        return c.reject(ctx, line_no, _MISSING_TS, raw)

    msg_key = "message" if obj.get("message") is not None else _first(obj, MESSAGE_KEYS)
    message = ""
    if msg_key is not None:
        value = obj.pop(msg_key)
        message = (value if isinstance(value, str) else c.json_text(value)).rstrip()
        if not message:
            return c.reject(ctx, line_no, f"empty message in field '{msg_key}'", raw)

        if (cause := _cause(obj)) is not None and cause not in message:
            message = f"{message}: {cause}"

    host = ctx.host
    key = _first(obj, HOST_KEYS)
    if key is not None and (found := c.name(obj[key])) is not None:
        host = found
        del obj[key]

    service = ctx.service
    key = _first(obj, SERVICE_KEYS)
    if key is not None and (found := c.name(obj[key])) is not None:
        service = found.removesuffix(".service") if key == "unit" else found
        del obj[key]

    declared = None
    unknown = None
    key = _first(obj, SEVERITY_KEYS)
    if key is None and type(obj.get("s")) is str and obj["s"] in _MONGODB_SEVERITY:
        declared = _MONGODB_SEVERITY[obj.pop("s")]
    elif key == "level" and "reqId" in obj and type(obj["level"]) is int and 0 <= obj["level"] <= 4:
        declared = _NEXTCLOUD_LEVELS[obj.pop("level")]  # Nextcloud's own scale
    elif key is not None:
        level = obj.pop(key)
        declared, is_unknown = c.declared_severity(level)
        if is_unknown:
            unknown = c.quote(level)[1:-1]

    if msg_key is None:
        message = _fields_text(obj)
        if not message:
            return c.reject(ctx, line_no, _MISSING_MESSAGE, raw)

    attributes: dict[str, Any] = {}
    truncated = False
    if obj:
        for index, (k, v) in enumerate(obj.items()):
            if index == c.MAX_ATTRIBUTES:
                attributes[c.DROPPED_ATTRIBUTES] = len(obj) - c.MAX_ATTRIBUTES
                break
            if type(v) is str and v.isprintable() and len(v) <= c.MAX_ATTRIBUTE_CHARS:
                pass  # the usual case, checked cheaply
            else:
                v, cut = c.attribute(v)
                truncated = truncated or cut
            ok = k.isprintable() and len(k) <= c.MAX_NAME_CHARS
            attributes[k if ok else c.escape_controls(k)[: c.MAX_NAME_CHARS]] = v
    if invalid_utf8:
        attributes[c.INVALID_UTF8] = True
    if unknown is not None:
        attributes[c.UNKNOWN_SEVERITY] = unknown

    return c.event(
        ctx,
        ts=ts,
        host=host,
        service=service,
        declared=declared,
        message=message,
        attributes=attributes,
        truncated=truncated,
    )


def _cause(obj: dict[str, Any]) -> str | None:
    """The error a record carries beside its message (`ERROR_KEYS`; a string, or an
    error object's `message`): its first line, which the message is then told with as
    Go wraps an error, `failed to flush: write /x: no space left on device`, so that
    its template and the primitives see why (a full disk, a refused connection), as
    they do in a text line. A one-line string leaves `obj`; a stack trace after the
    first line (Node's `err.stack`, a Python traceback) stays an attribute, out of the
    template, as does an error object. None without one."""
    for key in ERROR_KEYS:
        value = obj.get(key)
        if type(value) is str:
            first, newline, _ = value.strip().partition("\n")
            if first:
                if not newline:
                    del obj[key]
                return first.rstrip()
        elif type(value) is dict and type(inner := value.get("message")) is str:
            return _first_line(inner)
    attr = obj.get("attr")
    return _mongodb_cause(attr) if type(attr) is dict else None


def _mongodb_cause(attr: dict[str, Any]) -> str | None:
    """The error in MongoDB's `attr` (4.4 and later: the values of a structured log
    line's message): a Status as MongoDB renders it, `{"code": 6, "codeName":
    "HostUnreachable", "errmsg": "Connection refused"}`, told as its `toString()` does
    (`HostUnreachable: Connection refused`); a string; or, beside an errno (WiredTiger's
    `"error": 28`), WiredTiger's own `message` (`... pwrite: failed to write 4096
    bytes at offset 0: No space left on device`). `attr` keeps them all."""
    error = attr.get("error")
    if type(error) is dict:
        text, code = error.get("errmsg"), error.get("codeName")
        if type(text) is not str:
            return None
        text = f"{code}: {text}" if type(code) is str and code else text
    elif type(error) is str:
        text = error
    elif type(error) is int and type(attr.get("message")) is str:
        text = attr["message"]
    else:
        return None
    return _first_line(text)


def _first_line(text: str) -> str | None:
    """The first line of an error's text, without the blanks around it; None if empty."""
    return text.strip().partition("\n")[0].rstrip() or None


def _fields_text(obj: dict[str, Any]) -> str:
    """The message of a record without one: its fields as `key=value` in the producer's
    order (logfmt's shape), a string quoted as JSON when it holds a blank, a quote, `=`
    or a backslash, any other value as compact JSON; null fields left out. Stops once
    past the longest message kept (`c.event` cuts the rest)."""
    parts: list[str] = []
    size = 0
    for key, value in obj.items():
        if value is None:
            continue
        if type(value) is str and value and _QUOTED.isdisjoint(value):
            text = value
        else:
            text = c.json_text(value)
        parts.append(f"{key}={text}")
        size += len(key) + len(text) + 2
        if size > MAX_LINE_BYTES:
            break
    return " ".join(parts)


def _named_time(obj: dict[str, Any], ctx: c.Context) -> tuple[str, datetime] | None:
    """(key, time) of the first field named for a time or date that holds one since
    2000, a name saying UTC first (OpenCanary writes `local_time` before `utc_time`),
    else in the record's order; None if there is none."""
    names = [key for key in obj if _TIME_NAME.search(key)]
    names.sort(key=lambda key: "utc" not in key.lower())
    for key in names:
        value = obj[key]
        if type(value) is dict:
            if "$date" in value:  # MongoDB's extended JSON
                value = value["$date"]
            elif type(second := value.get("epochSecond")) is int:  # log4j2's Instant
                nano = value.get("nanoOfSecond")
                value = second + nano / 1e9 if type(nano) is int else second
        ts = c.parse_timestamp(value, key, ctx.naive_tz)
        if not isinstance(ts, str) and ts >= _NAMED_TIME_SINCE:
            return key, ts
    return None
