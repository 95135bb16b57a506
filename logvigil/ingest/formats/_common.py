"""Helpers shared by the readers: decoding, limits, printable text, timestamps, severities.

Private to `logvigil.ingest.formats`. Functions that can fail on input return either a
value or a reason string (an operator-facing sentence), never raise.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any

from logvigil.core.events import MAX_LINE_BYTES, LogEvent, Rejected, Severity
from logvigil.core.memo import RepeatMemo
from logvigil.core.text import escape_controls
from logvigil.ingest.severity import HEAD_CHARS, infer_severity

#: Rejected.excerpt length, in characters.
EXCERPT_CHARS = 200
#: host and service names are cut to this many characters.
MAX_NAME_CHARS = 255
#: Extra JSON keys kept per event; the rest are dropped and counted in `_dropped_attributes`.
MAX_ATTRIBUTES = 64
#: Longer string attribute values are cut (and the event flagged `truncated`).
MAX_ATTRIBUTE_CHARS = 4096
#: Timestamps outside these years are rejected as absurd.
MIN_YEAR, MAX_YEAR = 1970, 2200
#: English month abbreviations, as C's `%b` writes them (syslog, ctime, access logs).
MONTHS = {
    name: i
    for i, name in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), start=1)
}

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_END = datetime(MAX_YEAR + 1, 1, 1, tzinfo=UTC)
_MAX_EPOCH_SECONDS = (_END - EPOCH).total_seconds()
MAX_EPOCH_MICROSECONDS = (_END - EPOCH) // timedelta(microseconds=1)

#: The attribute that keeps a syslog tag that was normalised to a program name.
TAG = "tag"
#: The attribute that holds a kernel line's uptime, in seconds since boot.
UPTIME = "uptime"

# Flags a reader may set in LogEvent.attributes.
INVALID_UTF8 = "_invalid_utf8"
UNKNOWN_SEVERITY = "_unknown_severity"
DROPPED_ATTRIBUTES = "_dropped_attributes"


@dataclass(slots=True)
class LastStamp:
    """The time of an input's last stamped raw line: a line without a stamp (a stack
    trace's frames, a message's second line) was written with the line before it."""

    ts: datetime | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """What every line of one input shares: where it came from and the defaults.

    `now` is aware UTC, read once per input (raw lines' timestamp, the
    reference for syslog's missing year). `naive_tz` is the zone of timestamps
    that carry none. `year`: the year an operator gave for syslog's missing year.
    """

    source: str
    host: str
    service: str
    now: datetime
    naive_tz: tzinfo
    year: GivenYear | None = None
    not_after: datetime | None = None
    #: Raise a line's severity by the level words of its message (ReadOptions.severities).
    severities: bool = True
    #: The time of the last raw line that had one, for the lines after it that have none.
    last_stamp: LastStamp = field(default_factory=LastStamp)
    #: Each host's last syslog event, which a syslogd's "last message repeated N times"
    #: (a line with no tag) repeats.
    previous: dict[str, LogEvent] = field(default_factory=dict)
    #: The severity `infer_severity` gave a message's head (and declared level) lately.
    levels: RepeatMemo[object, Severity] = field(default_factory=RepeatMemo)


@dataclass(slots=True)
class GivenYear:
    """The year of year-less stamps an operator gave (`--year`), carried along the lines
    of one input read in order: a month more than six months before the previous
    line's starts the next year (December, then January); one more than six months
    after it is a late line of the previous year (December just after January)."""

    year: int
    month: int = 0  # of the previous line; 0 before the first

    def of(self, month: int) -> int:
        """The year of a line of `month`, the one after the previous line read."""
        if self.month and month - self.month > 6:
            return self.year - 1
        if self.month - month > 6:
            self.year += 1
        self.month = month
        return self.year


# ---------------------------------------------------------------- text


def decode(raw: bytes) -> tuple[str, bool]:
    """Return (text, had_invalid_utf8); invalid sequences become U+FFFD."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), True


def cut_bytes(raw: bytes, limit: int = MAX_LINE_BYTES) -> tuple[bytes, bool]:
    """Return (at most `limit` bytes of `raw` ending on a UTF-8 boundary, was_cut)."""
    if len(raw) <= limit:
        return raw, False
    end = limit
    # Back off over at most 3 continuation bytes: a UTF-8 character is <= 4 bytes.
    while end > limit - 3 and (raw[end] & 0xC0) == 0x80:
        end -= 1
    return raw[:end], True


def fit(text: str, limit: int = MAX_LINE_BYTES) -> tuple[str, bool]:
    """Return (`text` cut to at most `limit` UTF-8 bytes on a character boundary, was_cut)."""
    if len(text) * 4 <= limit:
        return text, False
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text, False
    cut, _ = cut_bytes(data, limit)
    return cut.decode("utf-8", "ignore"), True


# ---------------------------------------------------------------- long lines

#: A line is read whole up to this many bytes, its newline included. A JSON object
#: can only be parsed whole, and real producers write big ones (a request body, a
#: stack trace with its locals): Filebeat's default `max_bytes` is 10 MiB, so 16 MiB
#: keeps every line such a shipper passes. A line is handled one at a time and
#: parsing one costs about five times its size (bytes, text, the parsed object, the
#: escaped message), so the bound keeps a hostile line below 100 MB of memory.
LINE_LIMIT = 16 * 1024 * 1024
#: Bytes kept of a line over the limit: enough for a message cut at MAX_LINE_BYTES
#: to be flagged `truncated` (raw, syslog), and for an excerpt.
LONG_LINE_HEAD = MAX_LINE_BYTES + 4


class LongLine(bytes):
    """The head of a line longer than the read limit, the rest skipped unread.

    The bytes are the line's first LONG_LINE_HEAD bytes; `size` is the whole line's
    length in bytes (its newline included), `limit` the limit it is over. `read_events`
    rejects it when it should be JSON (a JSON object is parsed whole or not at all);
    the other formats read its head, cut and flagged `truncated` as any long line.
    """

    size: int
    limit: int

    def __new__(cls, head: bytes, size: int, limit: int = LINE_LIMIT) -> LongLine:
        line = super().__new__(cls, head[:LONG_LINE_HEAD])
        line.size, line.limit = size, limit
        return line


def byte_size(n: int) -> str:
    """`n` bytes for a sentence: `16 MiB`, `64 KiB`, `1,000 bytes`."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n:,} bytes"


def long_line_reason(line: LongLine) -> str:
    """Why an over-long line that should be JSON is rejected, naming the limit."""
    return (
        f"line over the {byte_size(line.limit)} limit: {line.size:,} bytes; "
        "a JSON line is read whole or not at all"
    )


# ---------------------------------------------------------------- binary lines

# The bytes file(1) says never appear in text (`text_chars` in its encoding.c, class F):
# the C0 controls but BEL, BS, TAB, LF, FF, CR and ESC (ANSI colours), and DEL. NUL is
# not among them here: `read_events` removes it first (padding left by a crash).
NEVER_TEXT = bytes([*range(0x01, 0x07), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
#: A line is binary when NEVER_TEXT bytes are at least this share of it ...
BINARY_CONTROL_SHARE = 0.10
#: ... or, with the bytes that are not UTF-8, at least this share.
BINARY_JUNK_SHARE = 0.30
#: A line shorter than this right after a binary line is binary too unless it is
#: clean text (see `binary_reason`).
BLOB_PIECE_BYTES = 64
BINARY_REASON = "binary line, not text"


def binary_reason(line: bytes, after_binary: bool = False) -> str | None:
    """Why `line` (NUL bytes removed) is not text, or None when it is text.

    A line is binary when it holds bytes that file(1) says never appear in text
    (NEVER_TEXT) and those are a tenth of its bytes, or, with the bytes outside valid
    UTF-8 sequences, almost a third. Random bytes hold about 10% NEVER_TEXT bytes and
    45% bytes that are not UTF-8; text holds no NEVER_TEXT byte, or one stray among
    many (escaped when stored). Text in any encoding passes: UTF-8 (Chinese, emoji)
    is valid, and a Latin-1, Windows-1252, KOI8-R or GB2312 line is not UTF-8 but
    holds no control byte.

    Binary data read as lines is cut at its newline bytes (one in 256 of random
    bytes), which leaves pieces too short to judge alone. With `after_binary` (the
    line before was binary), a line shorter than BLOB_PIECE_BYTES is a piece of the
    same data unless it is clean text: valid UTF-8 without a NEVER_TEXT byte.
    """
    # Counted by deleting them: a third of the time of searching for one with a regex.
    controls = len(line) - len(line.translate(None, NEVER_TEXT))
    if not controls and (not after_binary or len(line) >= BLOB_PIECE_BYTES or line.isascii()):
        return None
    size = len(line)
    invalid = 0
    if not line.isascii():
        invalid = len(_NOT_UTF8.findall(line.decode("utf-8", "surrogateescape")))
    if controls and (
        controls >= size * BINARY_CONTROL_SHARE or controls + invalid >= size * BINARY_JUNK_SHARE
    ):
        return f"{BINARY_REASON}: {controls} control and {invalid} non-UTF-8 bytes of {size:,}"
    if after_binary and size < BLOB_PIECE_BYTES and (controls or invalid):
        return f"{BINARY_REASON}: a piece of the binary line before it"
    return None


def excerpt(raw: bytes) -> str:
    """Return the printable start of a raw line, at most EXCERPT_CHARS characters."""
    text = raw[: EXCERPT_CHARS * 4].decode("utf-8", "replace")[:EXCERPT_CHARS]
    return escape_controls(text)[:EXCERPT_CHARS]


def quote(value: Any, limit: int = 64) -> str:
    """Return `value` as a short, printable, single-quoted string for a reason sentence."""
    text = value if isinstance(value, str) else json_text(value)
    text = escape_controls(text)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"'{text}'"


#: `json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)` without
#: building an encoder for every value (half the cost: a honeypot's records carry arrays).
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def json_text(value: Any) -> str:
    """Return a JSON value as compact JSON text (how nested attributes are stored)."""
    try:
        return _COMPACT_JSON(value)
    except (ValueError, TypeError, RecursionError):
        return str(value)


def name(value: Any) -> str | None:
    """Return a host or service name from a JSON scalar, or None when there is none."""
    if type(value) is str:
        if (
            value.isprintable()
            and 0 < len(value) <= MAX_NAME_CHARS
            and not (value[0].isspace() or value[-1].isspace())
        ):
            return value  # the usual case, checked cheaply
        text = value.strip()
    elif isinstance(value, str):
        text = value.strip()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    else:
        return None
    if not text:
        return None
    return escape_controls(text)[:MAX_NAME_CHARS]


def attribute(value: Any) -> tuple[Any, bool]:
    """Return (value fit for LogEvent.attributes, was_cut): a printable string or a
    JSON scalar; objects and arrays become compact JSON text."""
    if value is None or isinstance(value, bool | int):
        return value, False
    if isinstance(value, float):
        return (value if math.isfinite(value) else str(value)), False
    if not isinstance(value, str):
        value = json_text(value)
    value = escape_controls(value)
    if len(value) > MAX_ATTRIBUTE_CHARS:
        return value[:MAX_ATTRIBUTE_CHARS], True
    return value, False


# ---------------------------------------------------------------- programs and kernel lines

# `prog(module)`: Linux-PAM's pam_unix before 0.99 opened syslog with the ident
# "<service>(pam_unix)", so its lines say `sshd(pam_unix)[123]:`; the program is sshd.
# Dovecot's own log file (log_path; mail_log_prefix "%s(%u)<%{pid}><%{session}>: ")
# puts `imap(bob)<1234><Kx8f>:` where a tag stands: the program is imap.
_IDENT_MODULE = re.compile(r"([^\s()/<>]+)\([^\s()]*\)(?:<[^\s<>]*>)*")


def program_name(tag: str) -> str:
    """Return the program a syslog tag (or journald SYSLOG_IDENTIFIER) names.

    `sshd(pam_unix)` -> `sshd` (old pam_unix's ident), `imap(bob)<1234><Kx8f>` ->
    `imap` (Dovecot's log prefix in its own file); an absolute path used as
    the ident by scripts and some daemons (`/etc/mysql/debian-start`,
    `/usr/sbin/cron`) -> its base name. Relative names such as `postfix/smtp`
    or `cyrus/master` are each program's own syslog name and stay as they are.
    """
    if tag.endswith((")", ">")):
        m = _IDENT_MODULE.fullmatch(tag)
        if m is not None:
            return m.group(1)
    elif tag.startswith("/"):
        base = tag.rstrip("/").rpartition("/")[2]
        if base:
            return base
    return tag


# printk's time stamp, "[%5lu.%06lu] " (CONFIG_PRINTK_TIME), optionally followed by
# the caller id "[T123] " / "[C1] " (CONFIG_PRINTK_CALLER).
_UPTIME = re.compile(r"\[\s*(\d{1,10}\.\d{1,9})\](?:\[\s*[TC]\d{1,10}\])? ?")


def split_uptime(message: str) -> tuple[float | None, str]:
    """Return (seconds since boot, text) of a kernel message that starts with
    printk's `[ 1234.567890] ` stamp; (None, message) when it has none.

    The stamp is a field, not part of the text: `[    4.25]` and `[12345.67]`
    would otherwise make one kernel message several templates (the masks see
    one token or two), and a rule anchored at the start (`Linux version`) would
    miss it. A message that is nothing but a stamp keeps it.
    """
    if not message.startswith("["):
        return None, message
    m = _UPTIME.match(message)
    if m is None or m.end() == len(message):
        return None, message
    return float(m.group(1)), message[m.end() :]


# ---------------------------------------------------------------- JSON

_DECODER = json.JSONDecoder(strict=False, parse_constant=str)
_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "a boolean", type(None): "null"}  # fmt: skip


def load_object(text: str) -> dict[str, Any] | str:
    """Return the JSON object in `text`, or the reason it is not one.

    Lenient where real producers are sloppy (raw control characters inside
    strings, NaN); NUL bytes were already removed by the line reader.
    """
    try:
        # raw_decode skips decode()'s two whitespace regex matches; same errors.
        if text[:1].isspace():
            text = text.lstrip()
        value, end = _DECODER.raw_decode(text)
        if end != len(text) and not text[end:].isspace():
            raise json.JSONDecodeError("Extra data", text, len(text) - len(text[end:].lstrip()))
    except json.JSONDecodeError as exc:
        return f"malformed JSON: {exc.msg} at column {exc.colno}"
    except RecursionError:
        return "malformed JSON: nested too deeply"
    except ValueError as exc:  # e.g. an integer with more than 4300 digits
        return f"malformed JSON: {escape_controls(str(exc).partition(':')[0])[:120]}"
    if not isinstance(value, dict):
        return f"JSON value is {_JSON_TYPES.get(type(value), 'not an object')}, not an object"
    return value


# ---------------------------------------------------------------- time


def out_of_range(value: Any, key: str) -> str:
    return (
        f"absurd timestamp {quote(value)} in field '{key}' (outside years {MIN_YEAR}..{MAX_YEAR})"
    )


def unparsable(value: Any, key: str) -> str:
    return f"unparsable timestamp {quote(value)} in field '{key}'"


def from_epoch(value: int | float, key: str) -> datetime | str:
    """Return the UTC time of an epoch number, guessing the unit from its size:
    seconds, milliseconds (>= 1e11), microseconds (>= 1e14), nanoseconds (>= 1e17)."""
    if isinstance(value, float) and not math.isfinite(value):
        return unparsable(value, key)
    size = abs(value)
    scale = 1 if size < 1e11 else 1_000 if size < 1e14 else 1_000_000 if size < 1e17 else 10**9
    seconds = value / scale
    if not 0 <= seconds < _MAX_EPOCH_SECONDS:
        return out_of_range(value, key)
    if isinstance(value, int):
        return EPOCH + timedelta(microseconds=value * 1_000_000 // scale)
    return EPOCH + timedelta(seconds=seconds)


def parse_timestamp(value: Any, key: str, naive_tz: tzinfo) -> datetime | str:
    """Return an aware UTC datetime from an ISO 8601 string or an epoch number
    (also as a string), or the reason it cannot be one."""
    if type(value) is str and value[4:5] == "-":  # the usual case: ISO 8601
        try:
            ts = datetime.fromisoformat(value)
        except ValueError:
            return unparsable(value, key)
        if ts.tzinfo is UTC:
            if MIN_YEAR <= ts.year <= MAX_YEAR:
                return ts
            return out_of_range(value, key)
        return to_utc(ts, value, key, naive_tz)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return unparsable(value, key)
    if not isinstance(value, str):
        return from_epoch(value, key)
    text = value.strip()
    if text[:1].isdigit() and text.replace(".", "", 1).isdigit() and text.isascii():
        return from_epoch(float(text) if "." in text else int(text), key)
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return unparsable(value, key)
    return to_utc(ts, value, key, naive_tz)


#: Attribute of an event whose local time fell in a daylight-saving change of its zone:
#: `dst_overlap` (an hour that happens twice: read as its first occurrence) or
#: `dst_gap` (an hour that never happens: read with the offset before the change,
#: i.e. shifted forward by the gap). Counted by the ingestor, shown by `stats`.
DST = "_dst"
#: Attribute of a raw event read before any line with a time stamp (a file whose lines
#: carry none in a shape LogVigil reads): it was placed at the time of reading, not at
#: the time it was written. Counted by the ingestor, shown by `stats`, `ingest` and
#: `backtest`.
UNTIMED = "_untimed"


def dst_case(local: datetime, tz: tzinfo) -> str | None:
    """`dst_gap`, `dst_overlap` or None for a naive `local` time read in `tz`."""
    if tz is UTC:
        return None
    first, second = local.replace(tzinfo=tz, fold=0), local.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return "dst_gap" if back != local else "dst_overlap"


@lru_cache(maxsize=4096)
def local_minute(
    year: int, month: int, day: int, hour: int, minute: int, tz: tzinfo
) -> tuple[datetime | None, str | None]:
    """The UTC instant of a minute of `tz`'s wall clock, or None when it is no valid time;
    and its daylight-saving case (`dst_case`). Cached: a log repeats its minutes, and the
    zone conversion is most of a stamp's reading. Exact, because zone transitions fall
    on minute boundaries."""
    try:
        local = datetime(year, month, day, hour, minute)
    except ValueError:
        return None, None
    ts = to_utc(local, "", "TIMESTAMP", tz)
    return (ts, dst_case(local, tz)) if isinstance(ts, datetime) else (None, None)


def fixed_offset(written: str) -> tzinfo | None:
    """The zone of a UTC offset as logs write it (`+01:00`, `+0100`, `-04`, `+00:00` is
    UTC); None for one of 24 hours or more, which no clock has."""
    digits = written[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    if offset >= timedelta(hours=24):
        return None
    return timezone(-offset if written[0] == "-" else offset)  # UTC itself for +00:00


def to_utc(ts: datetime, value: Any, key: str, naive_tz: tzinfo) -> datetime | str:
    """Return `ts` (naive = `naive_tz`) in UTC, or the reason it is absurd."""
    if not MIN_YEAR - 1 <= ts.year <= MAX_YEAR:
        return out_of_range(value, key)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=naive_tz)
    try:
        ts = ts.astimezone(UTC)
    except (OverflowError, ValueError):
        return out_of_range(value, key)
    if not MIN_YEAR <= ts.year <= MAX_YEAR:
        return out_of_range(value, key)
    return ts


# ---------------------------------------------------------------- severity

# pino / bunyan numeric levels.
_NUMERIC_LEVELS = {
    10: Severity.DEBUG,
    20: Severity.DEBUG,
    30: Severity.INFO,
    40: Severity.WARNING,
    50: Severity.ERROR,
    60: Severity.CRITICAL,
}


# Exact spellings seen in practice, looked up before the general parse.
_LEVEL_NAMES = {
    spelled: Severity.parse(word)
    for word in ("trace", "debug", "info", "notice", "warn", "warning", "err", "error",
                 "crit", "critical", "fatal", "alert", "emerg", "emergency")
    for spelled in (word, word.upper(), word.capitalize())
}  # fmt: skip


def declared_severity(value: Any) -> tuple[Severity | None, bool]:
    """Return (severity, is_unknown) for a declared level: a name (`warn`, `ERR`,
    `fatal`), a syslog priority 0..7, or a pino/bunyan number 10..60.
    None/"" are "not declared"; anything else unknown is (None, True)."""
    if type(value) is str and (known := _LEVEL_NAMES.get(value)) is not None:
        return known, False
    if value is None or value == "":
        return None, False
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit():
            value = int(text)
        else:
            try:
                return Severity.parse(text), False
            except ValueError:
                return None, True
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= 7:
            return Severity.from_syslog_priority(value), False
        severity = _NUMERIC_LEVELS.get(value)
        return severity, severity is None
    return None, True


# ---------------------------------------------------------------- results


def reject(ctx: Context, line_no: int, reason: str, raw: bytes) -> Rejected:
    return Rejected(ctx.source, line_no, reason, excerpt(raw))


def event(
    ctx: Context,
    *,
    ts: datetime,
    host: str,
    service: str,
    declared: Severity | None,
    message: str,
    attributes: dict[str, Any],
    truncated: bool = False,
) -> LogEvent:
    """Build the LogEvent: a kernel line's uptime stamp moved to the `uptime`
    attribute, the severity inferred from the raw message, then the message
    made printable and cut to MAX_LINE_BYTES. `attributes` is the line's own
    dict and may be extended."""
    if service == "kernel" and message[:1] == "[":
        uptime, message = split_uptime(message)
        if uptime is not None:
            attributes[UPTIME] = uptime
    if ctx.severities:
        # A function of the head and the declared level: asked once per repeated message.
        head = message[:HEAD_CHARS]
        key = head if declared is None else (head, declared)
        severity = ctx.levels.get(key)
        if severity is None:
            severity = infer_severity(declared, message)
            ctx.levels.put(key, severity)
    else:
        severity = Severity.INFO if declared is None else declared
    text = escape_controls(message)
    text, cut = fit(text)
    return LogEvent.read(
        ts, host, service, severity, text, ctx.source, attributes, truncated or cut
    )
