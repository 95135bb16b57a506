"""Fuzzing every reader: whatever the lines, no exception, no reader bug, every line
accounted for (one LogEvent or Rejected per line; for journalctl's text output, its
marker lines and the further lines of a multi-line message may yield nothing).

The lines mix arbitrary bytes with the shapes each format has (JSON objects with the
fields the readers look for, syslog and journalctl stamps, markers, indented lines),
so that the fuzzing reaches past the first check of each reader.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logvigil.core.events import LogEvent, Rejected
from logvigil.ingest.formats import FORMAT_NAMES, LongLine, ReadOptions, read_events
from logvigil.ingest.formats.journalctl import is_marker
from logvigil.ingest.inputs import iter_lines

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
OPTIONS = ReadOptions(source="fuzz", default_time=NOW, not_after=NOW + timedelta(days=1))
#: 200 examples a test keep the run to seconds; no example database in the tree.
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_words = st.text(max_size=40)
_json_keys = st.sampled_from(
    ["ts", "time", "@timestamp", "host", "service", "unit", "level", "severity", "msg",
     "message", "MESSAGE", "__REALTIME_TIMESTAMP", "__CURSOR", "PRIORITY", "_HOSTNAME",
     "SYSLOG_IDENTIFIER", "_SYSTEMD_UNIT", "_PID"]
) | _words  # fmt: skip
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _words
    | st.sampled_from(["2026-03-04T10:00:00Z", "1772618400", "2199-01-01T00:00:00", "err"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_words, inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
_json_lines = st.dictionaries(_json_keys, _json_values, max_size=8).map(
    lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass")
)
_stamps = st.sampled_from(
    ["Mar  4 10:00:00", "Feb 30 10:00:00", "Nov 30 08:36:03.123456", "2026-03-04T10:00:00+01:00",
     "Mon 2026-03-04 10:00:00 CET", "Tue 2026-03-04 10:00:00 +2500", "Jan  1 00:00:00 2025",
     "2026-03-04T10:00:00.123456Z", "Dec 31 23:59:59"]
)  # fmt: skip
_syslog_lines = st.builds(
    lambda pri, stamp, host, tag, msg: (f"{pri}{stamp} {host} {tag}: {msg}").encode(
        "utf-8", "surrogatepass"
    ),
    st.sampled_from(["", "<13>", "<999>", "<34>1 ", "<>"]),
    _stamps,
    st.sampled_from(["db-01", "localhost", "", "-"]) | _words,
    st.sampled_from(["sshd[612]", "kernel", "postgres[1]", "cron[x]", "a(b)[1]"]) | _words,
    _words,
)
_journalctl_lines = st.sampled_from(
    [b"-- Boot 6a5c7c1e0f4d4d8e9b1d1f0e2a3b4c5d --", b"-- Reboot --", b"-- No entries --",
     b"-- Logs begin at Mon 2026-03-02 10:00:00 CET, end at Mon 2026-03-04 10:00:00 CET. --",
     b"-- cursor: s=abc", b"-- Boot xyz --", b"", b"   ", b"\t"]
) | st.builds(lambda n, t: b" " * n + t.encode("utf-8", "surrogatepass"), st.integers(1, 40), _words)  # fmt: skip
_lines = st.lists(
    st.one_of(
        st.binary(max_size=200),
        _words.map(lambda t: t.encode("utf-8", "surrogatepass")),
        _json_lines,
        _syslog_lines,
        _journalctl_lines,
    ).map(lambda b: b.replace(b"\n", b" ")),  # a line holds no newline
    max_size=25,
)


def _heads(lines: list[bytes]) -> int:
    """Lines every reader must answer with one item: not blank, not indented (a
    further line of a journalctl message), not a journalctl marker."""
    n = 0
    for i, raw in enumerate(lines):
        line = raw.rstrip(b"\r\n").replace(b"\x00", b"")
        if i == 0:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if line.strip() and line[:1] not in (b" ", b"\t") and not is_marker(line):
            n += 1
    return n


def _check(fmt: str, lines: list[bytes]) -> None:
    items = list(read_events(lines, fmt, OPTIONS))
    assert all(type(i) in (LogEvent, Rejected) for i in items)
    bugs = [i.reason for i in items if type(i) is Rejected and i.reason.startswith("internal")]
    assert not bugs, bugs
    numbers = [i.line_no for i in items if type(i) is Rejected]
    assert len(numbers) == len(set(numbers)) and all(1 <= n <= len(lines) for n in numbers)
    if fmt in ("journalctl", "auto"):  # auto may read journalctl's output
        assert _heads(lines) <= len(items) <= len(lines)
    else:
        assert len(items) == len(lines)


@FUZZ
@given(_lines)
def test_jsonl_accounts_for_every_line(lines: list[bytes]) -> None:
    _check("jsonl", lines)


@FUZZ
@given(_lines)
def test_journal_accounts_for_every_line(lines: list[bytes]) -> None:
    _check("journal", lines)


@FUZZ
@given(_lines)
def test_syslog_accounts_for_every_line(lines: list[bytes]) -> None:
    _check("syslog", lines)


@FUZZ
@given(_lines)
def test_raw_accounts_for_every_line(lines: list[bytes]) -> None:
    _check("raw", lines)


@FUZZ
@given(_lines)
def test_journalctl_accounts_for_every_entry(lines: list[bytes]) -> None:
    _check("journalctl", lines)


@FUZZ
@given(_lines)
def test_auto_accounts_for_every_line(lines: list[bytes]) -> None:
    _check("auto", lines)


def test_every_format_is_fuzzed() -> None:
    fuzzed = {"jsonl", "journal", "syslog", "raw", "journalctl", "auto"}
    assert fuzzed == set(FORMAT_NAMES)


@FUZZ
@given(st.binary(max_size=3000), st.integers(min_value=2, max_value=300))
def test_the_line_reader_accounts_for_every_byte(data: bytes, limit: int) -> None:
    """Lines read whole up to `limit` bytes, longer ones as a head with their size:
    the sizes add up to the input, and no line held in memory exceeds the limit."""
    total = 0
    for line in iter_lines(io.BytesIO(data), limit):
        if type(line) is LongLine:
            assert line.size > limit and line.limit == limit
            total += line.size
        else:
            assert len(line) <= limit
            total += len(line)
    assert total == len(data)
