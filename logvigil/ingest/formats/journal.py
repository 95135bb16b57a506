"""journald export JSON, as written by `journalctl -o json` (one entry per line).

Mapping: ts = `__REALTIME_TIMESTAMP` (microseconds since the epoch, a string;
`_SOURCE_REALTIME_TIMESTAMP` if it is missing), host = `_HOSTNAME`, severity =
`PRIORITY` (syslog 0..7), message = `MESSAGE`, service = `CONTAINER_NAME`, else
`SYSLOG_IDENTIFIER` (as `c.program_name` reads a syslog tag: `sshd(pam_unix)` ->
`sshd`, `/usr/sbin/cron` -> `cron`), else `_SYSTEMD_UNIT` without `.service`, else
`_COMM`.
The fields in KEPT_FIELDS are kept as attributes (`__CURSOR` is what a
resumable source stores); the rest of the ~30 journal fields are dropped.

journald writes a binary MESSAGE as an array of byte values, a field that
occurs several times as an array of values, and (without `--all`) a field over
4096 bytes as null.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from logvigil.core.events import LogEvent, Rejected, Severity
from logvigil.ingest.formats import _common as c

KEPT_FIELDS = (
    "__CURSOR",
    "_SYSTEMD_UNIT",
    "_SYSTEMD_USER_UNIT",
    "SYSLOG_IDENTIFIER",
    "SYSLOG_FACILITY",
    "_PID",
    "_COMM",
    "_TRANSPORT",
    "_BOOT_ID",
    "CONTAINER_NAME",
)
TS_FIELDS = ("__REALTIME_TIMESTAMP", "_SOURCE_REALTIME_TIMESTAMP")

_MESSAGE_NULL = (
    "MESSAGE is null (journalctl -o json writes fields over 4096 bytes as null; export with --all)"
)


def field_text(value: Any) -> tuple[str | None, bool]:
    """Return (text, had_invalid_utf8) of a journal field value: a string, an array
    of byte values, or an array of those (a repeated field; joined by newlines).
    (None, False) when the value is none of these."""
    single = _single(value)
    if single[0] is not None or not isinstance(value, list) or not value:
        return single
    texts: list[str] = []
    invalid = False
    for item in value:
        text, bad = _single(item)
        if text is None:
            return None, False
        texts.append(text)
        invalid = invalid or bad
    return "\n".join(texts), invalid


def _single(value: Any) -> tuple[str | None, bool]:
    if isinstance(value, str):
        return value, False
    if (
        isinstance(value, list)
        and value
        and all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in value)
    ):
        return c.decode(bytes(value))
    return None, False


def parse(raw: bytes, line_no: int, ctx: c.Context) -> LogEvent | Rejected:
    """Return the event in one journal export line, or why it cannot be one."""
    text, invalid_utf8 = c.decode(raw)
    obj = c.load_object(text)
    if isinstance(obj, str):
        return c.reject(ctx, line_no, obj, raw)

    for key in TS_FIELDS:
        value = obj.get(key)
        if value is not None:
            break
    else:
        return c.reject(ctx, line_no, "missing timestamp (no '__REALTIME_TIMESTAMP')", raw)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return c.reject(ctx, line_no, c.unparsable(value, key), raw)
    # Always microseconds: no unit guessing as for JSONL.
    if not 0 <= value < c.MAX_EPOCH_MICROSECONDS:
        return c.reject(ctx, line_no, c.out_of_range(value, key), raw)
    ts = c.EPOCH + timedelta(microseconds=value)

    if "MESSAGE" not in obj:
        return c.reject(ctx, line_no, "missing message (no 'MESSAGE')", raw)
    if obj["MESSAGE"] is None:
        return c.reject(ctx, line_no, _MESSAGE_NULL, raw)
    message, bad_message = field_text(obj["MESSAGE"])
    if message is None:
        return c.reject(
            ctx, line_no, "MESSAGE is neither a string nor an array of byte values", raw
        )
    message = message.rstrip()
    if not message:
        return c.reject(ctx, line_no, "empty message in field 'MESSAGE'", raw)

    attributes: dict[str, Any] = {}
    for key in KEPT_FIELDS:
        value = obj.get(key)
        if type(value) is str and value.isprintable() and len(value) <= c.MAX_ATTRIBUTE_CHARS:
            attributes[key] = value  # the usual case, checked cheaply
        elif value is not None:
            found, _ = field_text(value)
            if found is None:
                found = c.json_text(value)
            attributes[key], _ = c.attribute(found)

    service = None
    for key in ("CONTAINER_NAME", "SYSLOG_IDENTIFIER", "_SYSTEMD_UNIT", "_COMM"):
        found = attributes.get(key)
        if found and (service := c.name(found)) is not None:
            if key == "_SYSTEMD_UNIT":
                service = service.removesuffix(".service")
            elif key == "SYSLOG_IDENTIFIER":
                service = c.program_name(service)
            break
    host = c.name(obj.get("_HOSTNAME")) or ctx.host

    declared: Severity | None = None
    priority = obj.get("PRIORITY")
    if priority is not None:
        declared, unknown = c.declared_severity(priority)
        if unknown or (declared is not None and not _is_syslog_priority(priority)):
            declared = None
            attributes[c.UNKNOWN_SEVERITY] = c.quote(priority)[1:-1]

    if invalid_utf8 or bad_message:
        attributes[c.INVALID_UTF8] = True
    return c.event(
        ctx,
        ts=ts,
        host=host,
        service=service or ctx.service,
        declared=declared,
        message=message,
        attributes=attributes,
    )


def _is_syslog_priority(value: Any) -> bool:
    if isinstance(value, str):
        value = value.strip()
        return len(value) == 1 and value in "01234567"
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 7
