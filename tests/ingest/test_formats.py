"""Readers: every format's field mapping, auto-detection, and hostile input."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from logvigil.core.events import MAX_LINE_BYTES, LogEvent, Rejected, Severity
from logvigil.ingest.formats import FORMATS, ReadOptions, detect_format, read_events
from logvigil.ingest.formats.syslog import bsd_year

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
OPTIONS = ReadOptions(
    source="test.log", default_host="here", default_service="svc", default_time=NOW
)


def read(fmt: str, *lines: bytes | str, options: ReadOptions = OPTIONS) -> list[Any]:
    raw = [line.encode() if isinstance(line, str) else line for line in lines]
    return list(read_events(raw, fmt, options))


def one(fmt: str, line: bytes | str, options: ReadOptions = OPTIONS) -> Any:
    (item,) = read(fmt, line, options=options)
    return item


def event(fmt: str, line: bytes | str, options: ReadOptions = OPTIONS) -> LogEvent:
    item = one(fmt, line, options)
    assert isinstance(item, LogEvent), item
    return item


def rejected(fmt: str, line: bytes | str) -> Rejected:
    item = one(fmt, line)
    assert isinstance(item, Rejected), item
    return item


def jsonl(**fields: Any) -> str:
    return json.dumps({"ts": "2026-03-04T10:00:00Z", "message": "hello", **fields})


# ---------------------------------------------------------------- JSONL


def test_a_plain_event_maps_every_field_and_keeps_extra_keys() -> None:
    e = event(
        "jsonl",
        '{"ts": "2026-03-04T10:00:00Z", "host": "db-01", "service": "postgres", '
        '"severity": "error", "message": "could not write block", "pid": 812, '
        '"ctx": {"db": "app"}, "tags": ["a", "b"], "ok": true, "ratio": 0.5, "n": null}\n',
    )
    assert e == LogEvent(
        ts=datetime(2026, 3, 4, 10, 0, tzinfo=UTC),
        host="db-01",
        service="postgres",
        severity=Severity.ERROR,
        message="could not write block",
        source="test.log",
        attributes={
            "pid": 812,
            "ctx": '{"db":"app"}',
            "tags": '["a","b"]',
            "ok": True,
            "ratio": 0.5,
            "n": None,
        },
    )


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        ('{"timestamp": "2026-03-04T10:00:00Z", "msg": "x"}', "ts", datetime(2026, 3, 4, 10, tzinfo=UTC)),
        ('{"@timestamp": "2026-03-04T10:00:00.5+01:00", "msg": "x"}', "ts", datetime(2026, 3, 4, 9, 0, 0, 500000, tzinfo=UTC)),
        ('{"time": "2026-03-04 10:00:00", "msg": "x"}', "ts", datetime(2026, 3, 4, 10, tzinfo=UTC)),
        ('{"ts": 1772618400, "msg": "x"}', "ts", datetime(2026, 3, 4, 10, tzinfo=UTC)),
        ('{"ts": 1772618400.25, "msg": "x"}', "ts", datetime(2026, 3, 4, 10, 0, 0, 250000, tzinfo=UTC)),
        ('{"ts": 1772618400123, "msg": "x"}', "ts", datetime(2026, 3, 4, 10, 0, 0, 123000, tzinfo=UTC)),
        ('{"ts": 1772618400123456, "msg": "x"}', "ts", datetime(2026, 3, 4, 10, 0, 0, 123456, tzinfo=UTC)),
        ('{"ts": 1772618400123456789, "msg": "x"}', "ts", datetime(2026, 3, 4, 10, 0, 0, 123456, tzinfo=UTC)),
        ('{"ts": "1772618400", "msg": "x"}', "ts", datetime(2026, 3, 4, 10, tzinfo=UTC)),
        ('{"ts": "2026-03-04T10:00:00Z", "log": "docker line\\n", "stream": "stderr"}', "message", "docker line"),
        ('{"ts": 1772618400, "hostname": "web-2", "msg": "x"}', "host", "web-2"),
        ('{"ts": 1772618400, "app": "billing", "msg": "x"}', "service", "billing"),
        ('{"ts": 1772618400, "unit": "nginx.service", "msg": "x"}', "service", "nginx"),
        ('{"ts": 1772618400, "program": "cron", "msg": "x"}', "service", "cron"),
        ('{"ts": 1772618400, "level": "WARN", "msg": "x"}', "severity", Severity.WARNING),
        ('{"ts": 1772618400, "lvl": "crit", "msg": "x"}', "severity", Severity.CRITICAL),
        ('{"ts": 1772618400, "priority": 3, "msg": "x"}', "severity", Severity.ERROR),
        ('{"ts": 1772618400, "level": 50, "msg": "x"}', "severity", Severity.ERROR),
        ('{"ts": 1772618400, "level": "30", "msg": "x"}', "severity", Severity.INFO),
        ('{"ts": 1772618400, "msg": 42}', "message", "42"),
        ('{"ts": 1772618400, "msg": "x"}', "host", "here"),
        ('{"ts": 1772618400, "msg": "x"}', "service", "svc"),
        ('{"ts": 1772618400, "msg": "x", "host": {"name": "a"}}', "host", "here"),
    ],
)  # fmt: skip
def test_aliases_and_timestamp_forms_are_understood(line: str, field: str, expected: Any) -> None:
    assert getattr(event("jsonl", line), field) == expected


def test_the_first_alias_present_wins_and_the_others_stay_attributes() -> None:
    e = event("jsonl", jsonl(time="2026-01-01T00:00:00Z", msg="other"))
    assert e.ts == datetime(2026, 3, 4, 10, tzinfo=UTC)
    assert e.message == "hello"
    assert e.attributes == {"time": "2026-01-01T00:00:00Z", "msg": "other"}


def test_a_naive_timestamp_is_taken_in_the_configured_zone() -> None:
    options = ReadOptions(default_time=NOW, naive_tz=timezone(timedelta(hours=2)))
    e = event("jsonl", '{"ts": "2026-03-04T10:00:00", "msg": "x"}', options)
    assert e.ts == datetime(2026, 3, 4, 8, tzinfo=UTC)


def test_a_missing_severity_is_inferred_from_the_message() -> None:
    assert event("jsonl", jsonl(message="ERROR: disk full")).severity is Severity.ERROR
    assert event("jsonl", jsonl(message="all good")).severity is Severity.INFO


def test_a_declared_info_is_raised_by_an_error_token_in_the_message() -> None:
    e = event("jsonl", jsonl(severity="info", message="Traceback (most recent call last):"))
    assert e.severity is Severity.ERROR


def test_an_unknown_severity_keeps_the_event_infers_and_records_the_value() -> None:
    e = event("jsonl", jsonl(severity="loud", message="[WARN] slow query"))
    assert e.severity is Severity.WARNING
    assert e.attributes == {"_unknown_severity": "loud"}
    assert event("jsonl", jsonl(level=99)).attributes == {"_unknown_severity": "99"}
    assert event("jsonl", jsonl(level=["x"])).attributes == {"_unknown_severity": '["x"]'}


MISSING_TS = (
    "missing timestamp (none of 'ts', 'timestamp', '@timestamp', 'time', nor a field named "
    "for a time or date holding one)"
)
MISSING_MESSAGE = (
    "missing message (none of 'message', 'msg', 'log', 'event', 'short_message', "
    "'output', '@m', '@mt', and no other field)"
)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"ts": "2026-03-04T10:00:00Z" "message": "x"}', "malformed JSON: Expecting ',' delimiter at column 31"),
        ('{"ts": "2026-03-04T10:00:00Z", "message": "x"', "malformed JSON: Expecting ',' delimiter at column 46"),
        ("not json at all", "malformed JSON: Expecting value at column 1"),
        ('{"ts": 1} trailing', "malformed JSON: Extra data at column 11"),
        ('["ts", "message"]', "JSON value is an array, not an object"),
        ('"just a string"', "JSON value is a string, not an object"),
        ("42", "JSON value is a number, not an object"),
        ("null", "JSON value is null, not an object"),
        ('{"message": "x"}', MISSING_TS),
        ('{"ts": null, "message": "x"}', MISSING_TS),
        ('{"uptime": 86400, "response_time": 0.2, "message": "x"}', MISSING_TS),
        ('{"t": {"$date": "yesterday"}, "message": "x"}', MISSING_TS),
        ('{"instant": {"epochSecond": "x", "nanoOfSecond": 1}, "message": "x"}', MISSING_TS),
        ('{"date": "1999-12-31T23:59:59Z", "message": "x"}', MISSING_TS),
        ('{"ts": "yesterday", "message": "x"}', "unparsable timestamp 'yesterday' in field 'ts'"),
        ('{"time": "2026-13-45T99:00:00Z", "message": "x"}', "unparsable timestamp '2026-13-45T99:00:00Z' in field 'time'"),
        ('{"ts": true, "message": "x"}', "unparsable timestamp 'true' in field 'ts'"),
        ('{"ts": {"s": 1}, "message": "x"}', "unparsable timestamp '{\"s\":1}' in field 'ts'"),
        ('{"ts": NaN, "message": "x"}', "unparsable timestamp 'NaN' in field 'ts'"),
        ('{"ts": 1e999, "message": "x"}', "unparsable timestamp 'Infinity' in field 'ts'"),
        ('{"ts": "1850-01-01T00:00:00Z", "message": "x"}', "absurd timestamp '1850-01-01T00:00:00Z' in field 'ts' (outside years 1970..2200)"),
        ('{"ts": "2201-01-01T00:00:00Z", "message": "x"}', "absurd timestamp '2201-01-01T00:00:00Z' in field 'ts' (outside years 1970..2200)"),
        ('{"ts": "0001-01-01T00:00:00+01:00", "message": "x"}', "absurd timestamp '0001-01-01T00:00:00+01:00' in field 'ts' (outside years 1970..2200)"),
        ('{"ts": -5, "message": "x"}', "absurd timestamp '-5' in field 'ts' (outside years 1970..2200)"),
        ('{"ts": 99999999999999999999999, "message": "x"}', "absurd timestamp '99999999999999999999999' in field 'ts' (outside years 1970..2200)"),
        ('{"ts": "2026-03-04T10:00:00Z"}', MISSING_MESSAGE),
        ('{"ts": "2026-03-04T10:00:00Z", "message": null}', MISSING_MESSAGE),
        ('{"ts": "2026-03-04T10:00:00Z", "host": "db-01", "level": "error", "x": null}', MISSING_MESSAGE),
        ('{"ts": "2026-03-04T10:00:00Z", "message": "  \\n "}', "empty message in field 'message'"),
        ('{"ts": "2026-03-04T10:00:00Z", "msg": ""}', "empty message in field 'msg'"),
        ("[" * 100_000, "malformed JSON: nested too deeply"),
        ('{"ts": ' + "9" * 5000 + "}", "malformed JSON: Exceeds the limit (4300 digits) for integer string conversion"),
    ],
)  # fmt: skip
def test_hostile_jsonl_lines_are_rejected_with_a_clear_reason(line: str, reason: str) -> None:
    r = rejected("jsonl", line)
    assert r.reason == reason
    assert (r.source, r.line_no) == ("test.log", 1)
    assert len(r.excerpt) <= 200


def test_a_lone_surrogate_and_control_characters_in_json_strings_become_printable() -> None:
    e = event("jsonl", jsonl(message="a\ud800b\x1b[31mred\x07\tc\u202eevil", k="v\x00\n"))
    assert e.message == "a\\ud800b\\x1b[31mred\\x07\tc\\u202eevil"
    assert e.attributes == {"k": "v\\n"}
    e.message.encode("utf-8")  # storable


def test_raw_control_characters_inside_json_strings_are_tolerated() -> None:
    line = b'{"ts": 1772618400, "message": "tab\there\x01"}'
    assert event("jsonl", line).message == "tab\there\\x01"


def test_invalid_utf8_keeps_the_event_with_replacement_characters_and_a_flag() -> None:
    line = b'{"ts": 1772618400, "message": "caf\xe9 cr\xc3\xa8me \xff"}'
    e = event("jsonl", line)
    assert e.message == "caf\ufffd cr\u00e8me \ufffd"
    assert e.attributes == {"_invalid_utf8": True}


def test_a_huge_message_is_truncated_on_a_utf8_boundary() -> None:
    message = "é" * MAX_LINE_BYTES  # 2 bytes each
    e = event("jsonl", jsonl(message=message))
    assert e.truncated
    assert len(e.message.encode()) <= MAX_LINE_BYTES
    assert e.message == "é" * (MAX_LINE_BYTES // 2)


def test_too_many_and_too_long_attributes_are_capped_and_counted() -> None:
    fields = {f"k{i}": i for i in range(100)}
    e = event("jsonl", jsonl(**fields))
    assert len(e.attributes) == 65
    assert e.attributes["_dropped_attributes"] == 36
    e = event("jsonl", jsonl(blob="x" * 10_000))
    assert len(e.attributes["blob"]) == 4096
    assert e.truncated


# ---------------------------------------------------------------- journal


def journal(**fields: Any) -> str:
    entry = {
        "__CURSOR": "s=6f1c2d3e4f5a4b3c;i=1a2b;b=9a1f3b5c7d9e4f00;m=3f2e1d;t=5e3f2a1b0c9d8;x=1c2b3a4d",
        "__REALTIME_TIMESTAMP": "1772618400123456",
        "__MONOTONIC_TIMESTAMP": "4136269",
        "_BOOT_ID": "9a1f3b5c7d9e4f00a1b2c3d4e5f60718",
        "_TRANSPORT": "syslog",
        "PRIORITY": "6",
        "SYSLOG_FACILITY": "4",
        "SYSLOG_IDENTIFIER": "sshd",
        "_PID": "81234",
        "_UID": "0",
        "_COMM": "sshd",
        "_EXE": "/usr/sbin/sshd",
        "_CMDLINE": "sshd: deploy [priv]",
        "_SYSTEMD_CGROUP": "/system.slice/ssh.service",
        "_SYSTEMD_UNIT": "ssh.service",
        "_MACHINE_ID": "4c1f9e2d3b5a7c9e1f3d5b7a9c1e3f5d",
        "_HOSTNAME": "db-01",
        "SYSLOG_TIMESTAMP": "Mar  4 10:00:00 ",
        "MESSAGE": "Accepted publickey for deploy from 10.0.4.17 port 51234 ssh2",
        "_SOURCE_REALTIME_TIMESTAMP": "1772618400123400",
    }
    entry.update(fields)
    return json.dumps({k: v for k, v in entry.items() if v is not ...})


def test_a_journal_entry_maps_the_journald_fields() -> None:
    e = event("journal", journal())
    assert e == LogEvent(
        ts=datetime(2026, 3, 4, 10, 0, 0, 123456, tzinfo=UTC),
        host="db-01",
        service="sshd",
        severity=Severity.INFO,
        message="Accepted publickey for deploy from 10.0.4.17 port 51234 ssh2",
        source="test.log",
        attributes={
            "__CURSOR": "s=6f1c2d3e4f5a4b3c;i=1a2b;b=9a1f3b5c7d9e4f00;m=3f2e1d;t=5e3f2a1b0c9d8;x=1c2b3a4d",
            "_SYSTEMD_UNIT": "ssh.service",
            "SYSLOG_IDENTIFIER": "sshd",
            "SYSLOG_FACILITY": "4",
            "_PID": "81234",
            "_COMM": "sshd",
            "_TRANSPORT": "syslog",
            "_BOOT_ID": "9a1f3b5c7d9e4f00a1b2c3d4e5f60718",
        },
    )


@pytest.mark.parametrize(
    ("fields", "service"),
    [
        ({}, "sshd"),
        ({"SYSLOG_IDENTIFIER": ...}, "ssh"),
        ({"SYSLOG_IDENTIFIER": ..., "_SYSTEMD_UNIT": "getty@tty1.service"}, "getty@tty1"),
        ({"SYSLOG_IDENTIFIER": ..., "_SYSTEMD_UNIT": ...}, "sshd"),
        ({"SYSLOG_IDENTIFIER": ..., "_SYSTEMD_UNIT": ..., "_COMM": ...}, "svc"),
        ({"SYSLOG_IDENTIFIER": "4f2a9c1b7d3e", "CONTAINER_NAME": "nextcloud"}, "nextcloud"),
    ],
)
def test_the_journal_service_is_the_best_name_available(fields: dict, service: str) -> None:
    assert event("journal", journal(**fields)).service == service


@pytest.mark.parametrize(
    ("priority", "message", "severity"),
    [
        ("0", "x", Severity.EMERGENCY),
        ("3", "x", Severity.ERROR),
        ("4", "x", Severity.WARNING),
        ("7", "x", Severity.DEBUG),
        (3, "x", Severity.ERROR),
        ("6", "2026-03-04 10:00:00,123 ERROR app: boom", Severity.ERROR),
        ("6", "panic: assignment to entry in nil map", Severity.CRITICAL),
        ("3", "level=info msg=x", Severity.ERROR),
        (..., "x", Severity.INFO),
    ],
)
def test_priority_is_raised_by_level_tokens_because_containers_log_at_one_priority(
    priority: Any, message: str, severity: Severity
) -> None:
    assert event("journal", journal(PRIORITY=priority, MESSAGE=message)).severity is severity


def test_a_binary_message_sent_as_byte_values_is_decoded() -> None:
    e = event("journal", journal(MESSAGE=list(b"caf\xc3\xa9 \x1b[1mbold")))
    assert e.message == "café \\x1b[1mbold"
    assert "_invalid_utf8" not in e.attributes
    e = event("journal", journal(MESSAGE=list(b"bad \xff\xfe")))
    assert e.message == "bad \ufffd\ufffd"
    assert e.attributes["_invalid_utf8"] is True


def test_a_repeated_message_field_is_joined_and_newlines_are_escaped() -> None:
    assert event("journal", journal(MESSAGE=["one", "two"])).message == "one\\ntwo"
    assert event(
        "journal", journal(MESSAGE="Traceback (most recent call last):\n  File")
    ).message == ("Traceback (most recent call last):\\n  File")


def test_an_invalid_priority_is_recorded_and_the_severity_inferred() -> None:
    e = event("journal", journal(PRIORITY="9", MESSAGE="[ERROR] x"))
    assert e.severity is Severity.ERROR
    assert e.attributes["_unknown_severity"] == "9"
    assert (
        event("journal", journal(PRIORITY="warning")).attributes["_unknown_severity"] == "warning"
    )


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"MESSAGE": None}, "MESSAGE is null (journalctl -o json writes fields over 4096 bytes as null; export with --all)"),
        ({"MESSAGE": ...}, "missing message (no 'MESSAGE')"),
        ({"MESSAGE": ""}, "empty message in field 'MESSAGE'"),
        ({"MESSAGE": [300, 1]}, "MESSAGE is neither a string nor an array of byte values"),
        ({"MESSAGE": {"a": 1}}, "MESSAGE is neither a string nor an array of byte values"),
        ({"MESSAGE": [[[1]]]}, "MESSAGE is neither a string nor an array of byte values"),
        ({"__REALTIME_TIMESTAMP": ..., "_SOURCE_REALTIME_TIMESTAMP": ...}, "missing timestamp (no '__REALTIME_TIMESTAMP')"),
        ({"__REALTIME_TIMESTAMP": "soon"}, "unparsable timestamp 'soon' in field '__REALTIME_TIMESTAMP'"),
        ({"__REALTIME_TIMESTAMP": "-1"}, "unparsable timestamp '-1' in field '__REALTIME_TIMESTAMP'"),
        ({"__REALTIME_TIMESTAMP": "99999999999999999999"}, "absurd timestamp '99999999999999999999' in field '__REALTIME_TIMESTAMP' (outside years 1970..2200)"),
    ],
)  # fmt: skip
def test_hostile_journal_entries_are_rejected_with_a_clear_reason(
    fields: dict, reason: str
) -> None:
    assert rejected("journal", journal(**fields)).reason == reason


def test_the_source_realtime_timestamp_is_used_when_the_realtime_one_is_missing() -> None:
    e = event("journal", journal(__REALTIME_TIMESTAMP=...))
    assert e.ts == datetime(2026, 3, 4, 10, 0, 0, 123400, tzinfo=UTC)


# ---------------------------------------------------------------- syslog


def test_an_rfc3164_line_with_priority_maps_facility_pid_and_severity() -> None:
    e = event(
        "syslog",
        "<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick on /dev/pts/8",
    )
    assert e == LogEvent(
        ts=datetime(2025, 10, 11, 22, 14, 15, tzinfo=UTC),
        host="mymachine",
        service="su",
        severity=Severity.CRITICAL,
        message="'su root' failed for lonvick on /dev/pts/8",
        source="test.log",
        attributes={"pid": "123", "facility": "auth"},
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "Mar  4 10:00:00 db-01 kernel: [12345.678] Out of memory: Killed process 1234 (postgres)",
            (datetime(2026, 3, 4, 10, tzinfo=UTC), "db-01", "kernel", Severity.INFO, "Out of memory: Killed process 1234 (postgres)", {"uptime": 12345.678}),
        ),
        (
            "Mar 04 10:00:00 db-01 postfix/smtpd[2201]: warning: hostname does not resolve",
            (datetime(2026, 3, 4, 10, tzinfo=UTC), "db-01", "postfix/smtpd", Severity.WARNING, "warning: hostname does not resolve", {"pid": "2201"}),
        ),
        (
            "2026-03-04T10:00:00.123456+01:00 web-1 nginx[88]: 2026/03/04 10:00:00 [error] 88#88: *1 connect() failed",
            (datetime(2026, 3, 4, 9, 0, 0, 123456, tzinfo=UTC), "web-1", "nginx", Severity.ERROR, "2026/03/04 10:00:00 [error] 88#88: *1 connect() failed", {"pid": "88"}),
        ),
        (
            "<13>Mar  4 10:00:00 CRON[2231]: (root) CMD (run-parts /etc/cron.hourly)",
            (datetime(2026, 3, 4, 10, tzinfo=UTC), "here", "CRON", Severity.NOTICE, "(root) CMD (run-parts /etc/cron.hourly)", {"pid": "2231", "facility": "user"}),
        ),
        (
            "Mar  4 10:00:00 db-01 last message repeated 3 times",
            (datetime(2026, 3, 4, 10, tzinfo=UTC), "db-01", "svc", Severity.INFO, "last message repeated 3 times", {}),
        ),
        (
            "Mar  4 2026 10:00:00.250 fw-1 dhcpd: DHCPACK on 10.0.0.9",
            (datetime(2026, 3, 4, 10, 0, 0, 250000, tzinfo=UTC), "fw-1", "dhcpd", Severity.INFO, "DHCPACK on 10.0.0.9", {}),
        ),
        (
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
            '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][meta seq="1" note="a \\"q\\" \\] b"] '
            "\ufeffAn application event log entry...",
            (
                datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC), "mymachine.example.com", "evntslog", Severity.NOTICE,
                "An application event log entry...",
                {"msgid": "ID47", "exampleSDID@32473.iut": "3", "exampleSDID@32473.eventSource": "Application",
                 "exampleSDID@32473.eventID": "1011", "meta.seq": "1", "meta.note": 'a "q" ] b', "facility": "local4"},
            ),
        ),
        (
            "<34>1 2026-03-04T10:00:00-05:00 host app 4711 - - 'su root' failed",
            (datetime(2026, 3, 4, 15, tzinfo=UTC), "host", "app", Severity.CRITICAL, "'su root' failed", {"pid": "4711", "facility": "auth"}),
        ),
        (
            "<14>1 - - - - - - message with every field nil",
            (NOW, "here", "svc", Severity.INFO, "message with every field nil", {"facility": "user"}),
        ),
        (
            "<11>1 2026-03-04T10:00:00Z host app - - [broken sd without end and text",
            (datetime(2026, 3, 4, 10, tzinfo=UTC), "host", "app", Severity.ERROR, "[broken sd without end and text", {"_malformed_structured_data": True, "facility": "user"}),
        ),
    ],
)  # fmt: skip
def test_syslog_variants_are_parsed(line: str, expected: tuple) -> None:
    e = event("syslog", line)
    assert (e.ts, e.host, e.service, e.severity, e.message, dict(e.attributes)) == expected


@pytest.mark.parametrize(
    ("month", "day", "reference", "year"),
    [
        (12, 31, datetime(2026, 1, 2, tzinfo=UTC), 2025),  # December line read in January
        (1, 1, datetime(2025, 12, 31, 23, tzinfo=UTC), 2026),  # reference lags the new year
        (3, 4, datetime(2026, 3, 5, tzinfo=UTC), 2026),
        (4, 1, datetime(2026, 3, 5, tzinfo=UTC), 2026),  # a little in the future: clock skew
        (5, 1, datetime(2026, 3, 5, tzinfo=UTC), 2025),  # two months ahead: last year
        (2, 29, datetime(2028, 3, 1, tzinfo=UTC), 2028),
        (2, 29, datetime(2026, 3, 1, tzinfo=UTC), None),
    ],
)
def test_the_missing_rfc3164_year_comes_from_the_reference_time(
    month: int, day: int, reference: datetime, year: int | None
) -> None:
    assert bsd_year(month, day, reference) == year


def test_a_december_line_read_in_january_belongs_to_the_previous_year() -> None:
    options = ReadOptions(default_time=datetime(2026, 1, 2, tzinfo=UTC))
    assert event("syslog", "Dec 31 23:59:59 h cron: x", options).ts.year == 2025


def test_rfc3164_times_are_taken_in_the_configured_zone() -> None:
    options = ReadOptions(default_time=NOW, naive_tz=timezone(timedelta(hours=-5)))
    assert event("syslog", "Mar  4 10:00:00 h cron: x", options).ts == datetime(
        2026, 3, 4, 15, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("just some words", "not a syslog line (RFC 3164 or RFC 5424)"),
        ("<999>Mar  4 10:00:00 h cron: x", "syslog priority 999 out of range 0..191"),
        ("Feb 29 10:00:00 h cron: x", "invalid date 'Feb 29 10:00:00'"),
        ("Feb 30 2024 10:00:00 h cron: x", "invalid date 'Feb 30 2024 10:00:00'"),
        ("Mar  4 10:00:00 h cron:   ", "empty message"),
        ("<34>1 2026-99-04T10:00:00Z h app - - - x", "unparsable timestamp '2026-99-04T10:00:00Z' in field 'TIMESTAMP'"),
        ("<34>1 1969-12-31T23:00:00Z h app - - - x", "absurd timestamp '1969-12-31T23:00:00Z' in field 'TIMESTAMP' (outside years 1970..2200)"),
        ("2999-03-04T10:00:00Z h app: x", "absurd timestamp '2999-03-04T10:00:00Z' in field 'TIMESTAMP' (outside years 1970..2200)"),
    ],
)  # fmt: skip
def test_hostile_syslog_lines_are_rejected_with_a_clear_reason(line: str, reason: str) -> None:
    assert rejected("syslog", line).reason == reason


def test_an_ecs_logging_line_maps_its_dotted_keys() -> None:
    # ecs-logging-python's StdlibFormatter (the Elastic Common Schema, flat dotted keys)
    e = event(
        "jsonl",
        '{"@timestamp":"2026-03-04T10:00:00.123Z","log.level":"error","message":"payment '
        'declined","ecs.version":"1.6.0","log":{"logger":"checkout.pay"},'
        '"process":{"pid":812},"service.name":"checkout","host.name":"web-02"}',
    )
    assert (e.ts, e.severity, e.service, e.host, e.message) == (
        datetime(2026, 3, 4, 10, 0, 0, 123000, tzinfo=UTC),
        Severity.ERROR,
        "checkout",
        "web-02",
        "payment declined",
    )
    assert e.attributes["log"] == '{"logger":"checkout.pay"}'


def test_a_structlog_line_has_its_message_in_event() -> None:
    # structlog's JSONRenderer with add_log_level and TimeStamper(fmt="iso")
    e = event(
        "jsonl",
        '{"event": "user logged in", "user": "alice", "level": "warning", '
        '"timestamp": "2026-03-04T10:00:00.000000Z"}',
    )
    assert (e.message, e.severity, e.attributes) == (
        "user logged in",
        Severity.WARNING,
        {"user": "alice"},
    )
    # a `message` wins over an `event` that is some other field
    e = event("jsonl", '{"ts": "2026-03-04T10:00:00Z", "message": "m", "event": "login"}')
    assert (e.message, e.attributes) == ("m", {"event": "login"})


# ---------------------------------------------------------------- raw


def test_a_raw_line_takes_host_and_service_from_the_options_and_its_own_time() -> None:
    e = event("raw", "2026-03-04 10:00:00,123 WARNING cache: eviction storm\r\n")
    assert e == LogEvent(
        ts=datetime(2026, 3, 4, 10, 0, 0, 123000, tzinfo=UTC),
        host="here",
        service="svc",
        severity=Severity.WARNING,
        message="WARNING cache: eviction storm",
        source="test.log",
    )


def test_a_raw_line_without_a_time_of_its_own_takes_the_default_time() -> None:
    e = event("raw", "cache: eviction storm")
    assert (e.ts, e.message) == (NOW, "cache: eviction storm")


def test_an_overlong_raw_line_is_truncated_on_a_utf8_boundary() -> None:
    line = b"a" + "€".encode() * MAX_LINE_BYTES  # 3 bytes each, misaligned by one
    e = event("raw", line)
    assert e.truncated
    encoded = e.message.encode()
    assert MAX_LINE_BYTES - 3 < len(encoded) <= MAX_LINE_BYTES
    assert e.message == "a" + "€" * ((MAX_LINE_BYTES - 1) // 3)


def test_a_line_of_exactly_the_limit_is_not_truncated() -> None:
    assert not event("raw", b"x" * MAX_LINE_BYTES).truncated


def test_nul_bytes_are_removed_and_other_controls_escaped_keeping_tabs() -> None:
    e = event("raw", b"a\x00b\tc\x1b[0m\x7fd\xc2\x85e\xe2\x80\xa8f")
    assert e.message == "ab\tc\\x1b[0m\\x7fd\\x85e\\u2028f"
    assert e.message.replace("\t", "").isprintable()


def test_invalid_utf8_in_a_raw_line_is_replaced_and_flagged() -> None:
    e = event("raw", b"\xc0\xaf../etc/passwd \xed\xa0\x80")
    assert e.message.startswith("\ufffd\ufffd../etc/passwd")
    assert e.attributes == {"_invalid_utf8": True, "_untimed": True}  # no stamp either


# ---------------------------------------------------------------- read_events


@pytest.mark.parametrize("fmt", [*FORMATS, "auto"])
def test_empty_and_blank_lines_are_rejected_as_empty_lines_and_numbered(fmt: str) -> None:
    items = read(fmt, b"\n", b"   \t \r\n", b"\x00\x00\x00\n", b"")
    assert [(r.reason, r.line_no, r.source) for r in items] == [
        ("empty line", 1, "test.log"),
        ("empty line", 2, "test.log"),
        ("empty line", 3, "test.log"),
        ("empty line", 4, "test.log"),
    ]


def test_crlf_and_missing_final_newline_and_a_bom_are_handled() -> None:
    items = read("jsonl", b"\xef\xbb\xbf" + jsonl().encode() + b"\r\n", jsonl().encode())
    assert [type(i) for i in items] == [LogEvent, LogEvent]


def test_an_unknown_format_is_refused_at_once_naming_the_formats() -> None:
    with pytest.raises(
        ValueError, match="unknown format 'xml'; choose one of: auto, jsonl, journal, syslog, raw"
    ):
        read_events([], "xml")


def test_without_a_default_time_raw_lines_get_the_current_time_once() -> None:
    before = datetime.now(UTC)
    items = list(read_events([b"one", b"two"], "raw"))
    assert before <= items[0].ts <= datetime.now(UTC)
    assert items[0].ts == items[1].ts


def test_excerpts_are_printable_and_at_most_200_characters() -> None:
    r = rejected("jsonl", b"\x1b[2J\xff" + b"z" * 1000)
    assert r.excerpt.startswith("\\x1b[2J\ufffdzzz")
    assert len(r.excerpt) == 200
    assert r.describe() == "test.log:1: malformed JSON: Expecting value at column 1"


def _fuzz_lines(seed: int) -> Iterator[bytes]:
    rnd = random.Random(seed)
    seeds = [
        journal().encode(),
        jsonl(level="error", extra={"a": [1, 2]}).encode(),
        b'<165>1 2003-10-11T22:14:15.003Z h app 1 ID [a b="c"] msg',
        b"<34>Oct 11 22:14:15 mymachine su[123]: msg",
        b"2026-03-04T10:00:00+00:00 host prog[1]: msg",
    ]
    for _ in range(400):
        line = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 8)):
            op = rnd.random()
            pos = rnd.randrange(len(line) + 1)
            if op < 0.4:
                line[pos:pos] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 4)))
            elif op < 0.7:
                del line[pos : pos + rnd.randint(1, 10)]
            else:
                line[pos:pos] = rnd.choice(
                    [b'"', b"[", b"]", b"{", b"}", b"\\", b"-", b" ", b"\xff"]
                )
        yield bytes(line)


@pytest.mark.parametrize("fmt", [*FORMATS, "auto"])
def test_mutated_lines_never_raise_and_yield_exactly_one_item_each(fmt: str) -> None:
    lines = list(_fuzz_lines(seed=len(fmt)))
    items = list(read_events(lines, fmt, OPTIONS))
    assert len(items) == len(lines)
    for item in items:
        if isinstance(item, Rejected):
            assert "internal error" not in item.reason
        else:
            item.message.encode("utf-8")
            assert item.host and item.service
            assert "\n" not in item.message and "\x00" not in item.message


# ---------------------------------------------------------------- auto


JOURNAL = journal().encode()
JSONL = jsonl().encode()
RFC3164 = b"<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed"
RSYSLOG = b"2026-03-04T10:00:00.123456+00:00 db-01 postgres[1234]: FATAL:  terminating"
FILE_SYSLOG = b"Mar  4 10:00:00 db-01 systemd[1]: Started Daily apt download activities."
RFC5424 = b'<165>1 2003-10-11T22:14:15.003Z host app - ID47 [x@1 a="b"] msg'
APP_LOG = b"2026-03-04T10:00:00.123Z INFO main: starting worker pool"
GARBAGE = b"\x8b\x1f\x00\xff\xfe garbage"
PARTIAL = b'st": "db-01", "message": "cut in the middle"}'
BROKEN_JSON = b'{"ts": "2026-03-04T10:00:00Z", "message": "trunc'


@pytest.mark.parametrize(
    ("sample", "fmt"),
    [
        ([JOURNAL, JOURNAL], "journal"),
        ([JSONL, JSONL, JSONL], "jsonl"),
        ([RFC3164], "syslog"),
        ([RSYSLOG, RSYSLOG], "syslog"),
        ([FILE_SYSLOG], "syslog"),
        ([RFC5424], "syslog"),
        ([APP_LOG, APP_LOG], "raw"),
        ([b"hello world", b"second line"], "raw"),
        ([GARBAGE, JOURNAL], "journal"),
        ([PARTIAL, JSONL], "jsonl"),
        ([BROKEN_JSON, JSONL], "jsonl"),
        ([GARBAGE, FILE_SYSLOG, FILE_SYSLOG], "syslog"),
        ([b"", b"   ", JOURNAL], "journal"),
        ([b"[1, 2]", b"plain"], "raw"),
        ([JSONL] + [b"plain text"] * 9, "raw"),
        ([], "raw"),
        ([b"", b"\n"], "raw"),
    ],
)
def test_the_format_is_detected_from_the_first_lines(sample: list[bytes], fmt: str) -> None:
    assert detect_format(sample) == fmt


def test_auto_reads_a_journal_whose_first_line_is_cut_in_the_middle() -> None:
    items = read("auto", JOURNAL[40:], JOURNAL, JOURNAL)
    assert isinstance(items[0], Rejected)
    assert items[0].reason.startswith("malformed JSON")
    assert [i.service for i in items[1:]] == ["sshd", "sshd"]
    assert [i.line_no for i in items[:1]] == [1]


def test_auto_streams_an_endless_input_after_a_few_lines() -> None:
    consumed = 0

    def endless() -> Iterator[bytes]:
        nonlocal consumed
        for i in itertools.count():
            consumed += 1
            yield jsonl(message=f"line {i}").encode()

    first = list(itertools.islice(read_events(endless(), "auto", OPTIONS), 5))
    assert [e.message for e in first] == [f"line {i}" for i in range(5)]
    assert consumed <= 10


def test_a_bug_in_a_reader_becomes_a_counted_rejection_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(line: bytes, line_no: int, ctx: object) -> LogEvent:
        raise KeyError("oops")

    monkeypatch.setitem(FORMATS, "raw", broken)
    items = read("raw", "a", "b")
    assert [(r.line_no, r.reason) for r in items] == [
        (1, "internal error in raw reader: KeyError: 'oops'"),
        (2, "internal error in raw reader: KeyError: 'oops'"),
    ]


def test_an_overlong_syslog_line_keeps_its_header_and_is_truncated() -> None:
    e = event("syslog", b"<11>Mar  4 10:00:00 db-01 app[7]: " + b"x" * (2 * MAX_LINE_BYTES))
    assert (e.host, e.service, e.severity, e.truncated) == ("db-01", "app", Severity.ERROR, True)
    assert len(e.message.encode()) < MAX_LINE_BYTES


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
def test_cached_bsd_minutes_read_every_second_as_the_plain_conversion_does(zone: str) -> None:
    """RFC 3164 minutes are converted once and cached; across DST changes (Lord Howe's
    is 30 minutes), leap days and the turn of the year every second must read the
    same as converting that local time on its own."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    now = datetime(2026, 1, 10, 12, tzinfo=UTC)
    stamps = []
    for month, day in [(3, 29), (10, 25), (3, 8), (11, 1), (4, 5), (10, 4), (12, 31), (2, 29)]:
        for hour in (0, 1, 2, 3):
            for minute in (0, 29, 30, 59):
                for second in (0, 30, 59):
                    stamps.append(
                        f"{MONTH_NAMES[month]} {day:2d} {hour:02d}:{minute:02d}:{second:02d}"
                    )
    lines = [f"<13>{s} host app: x".encode() for s in stamps]
    options = ReadOptions(default_time=now, naive_tz=tz)
    for stamp, item in zip(stamps, read_events(lines, "syslog", options), strict=True):
        mon, day, clock = stamp.split()
        year = bsd_year(MONTHS_BY_NAME[mon], int(day), now.astimezone(tz))
        if year is None:  # 29 February: in no year near the reference
            assert isinstance(item, Rejected) and "invalid date" in item.reason, stamp
            continue
        h, m, s = (int(x) for x in clock.split(":"))
        expected = datetime(year, MONTHS_BY_NAME[mon], int(day), h, m, s, tzinfo=tz)
        assert isinstance(item, LogEvent), stamp
        assert item.ts == expected.astimezone(UTC), stamp


MONTH_NAMES = [
    None,
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
]
MONTHS_BY_NAME = {name: i for i, name in enumerate(MONTH_NAMES) if name}
