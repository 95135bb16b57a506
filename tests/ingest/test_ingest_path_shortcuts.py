"""The shortcuts of the ingest path give what the plain code gave: the guarded severity
pattern, the possessive syslog tag, the seconds of RFC 3164 stamps, the minute an
event is counted in, the remembered glob answers of noise rules, the encoder of
stored attributes and the chunked output of `mine --jsonl` (issue 14)."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from logvigil.cli import app
from logvigil.cli import mine as mine_cli
from logvigil.core.events import LogEvent, Rejected, Severity
from logvigil.ingest import noise as noise_module
from logvigil.ingest import severity
from logvigil.ingest.formats import ReadOptions, read_events, syslog
from logvigil.ingest.ingestor import Ingestor
from logvigil.ingest.noise import NoiseAction, NoiseFilter, NoiseRuleConfig
from logvigil.store.bulk import _json
from logvigil.store.schema import MinuteCount

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def real_lines(limit: int = 10_000) -> list[str]:
    """Lines of the shared real and Loghub logs (none when they are absent)."""
    files = sorted(SHARED.glob("real_logs/*.log")) + sorted(SHARED.glob("loghub_2k/*/*.log"))
    lines: list[str] = []
    for path in files:
        with path.open(encoding="utf-8", errors="replace") as f:
            lines.extend(line.rstrip("\n") for _, line in zip(range(limit), f, strict=False))
    return lines


def fuzz(pieces: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 9))) for _ in range(n)]


def matches(pattern: re.Pattern[str], text: str) -> list[tuple]:
    return [(m.span(), m.lastgroup, m.groupdict()) for m in pattern.finditer(text)]


# Each alternative of the severity pattern, the characters around them, and the
# case-folding corners of `(?i)` (`ſ` folds to `s`).
SEVERITY_PIECES = [
    "ERROR", "error", "Error:", "[error]", "[core:warn]", "level=", "lvl=err", "LEVEL=crit",
    '"level":"warn"', '"severity": "ERROR"', '"level": 50', "E0304 10:00:00", "W, [2",
    "Traceback (most recent call last)", 'Exception in thread "', "Kernel panic - not syncing:",
    "[ 12.5] ", "php[12]: segfault at 0 ip", "traps: a[1] general protection fault ip:",
    "x.service: Failed with result 'exit-code'", "Unit a.service entered failed state",
    " ", "(", "|", "WARN", "info", ":", "\n", "\u017f", "ſeverity=crit", "log.level=alert",
    "-level=err", ".lvl=err", "x", "0 errors", "stderr", "K",
]  # fmt: skip


def test_the_guard_of_the_severity_pattern_never_changes_a_match() -> None:
    plain = re.compile(severity._ALTERNATIVES, re.VERBOSE)
    texts = fuzz(SEVERITY_PIECES, 30_000, seed=14) + [
        line[: severity.HEAD_CHARS] for line in real_lines()
    ]
    differ = [t for t in texts if matches(plain, t) != matches(severity._TOKEN_RE, t)]
    assert differ == []


# A syslog line read raw puts the program's brackets before a level word in prose;
# bracketed levels in any case and folding corners (`İ` folds to `i` in `(?i)`).
LATER_PIECES = [
    *SEVERITY_PIECES, "sshd[6382]: ", "error: Could not load", "]", "[", "[CRIT]", "[crİt]",
    "[ſevere]", "[xerror]", "warn]", "() [E]", "PHP Warning:", "=", '"', "ERR", "Err",
    "FATAL", "CRIT", "SEVERE", "PANIC", "ALERT", "EMERG", "NOTICE", "DEBUG", "TRACE", "INFO",
]  # fmt: skip


def test_a_head_searched_only_at_its_start_gives_every_match_the_pattern_gives() -> None:
    texts = fuzz(LATER_PIECES, 40_000, seed=12) + [
        line[: severity.HEAD_CHARS] for line in real_lines()
    ]
    tokens = [
        [(m.span(), m.lastgroup, m.groupdict()) for m in severity._level_tokens(t)] for t in texts
    ]
    assert tokens == [matches(severity._TOKEN_RE, t) for t in texts]
    skipped = [t for t in texts if len(t) > 1 and not severity._may_hold_later(t, 1)]
    assert len(skipped) > len(texts) // 20  # the shortcut is taken


TAG_PIECES = ["a", "sshd", "[", "]", ":", " ", "\t", "123", "\u00a0", "\x1c", "/usr/bin/x", "(pam)"]


def test_the_possessive_syslog_tag_matches_what_the_plain_one_matched() -> None:
    plain = re.compile(syslog.TAG.pattern.replace("}+", "}"))
    assert plain.pattern != syslog.TAG.pattern
    texts = [
        *fuzz(TAG_PIECES, 30_000, seed=3),
        "a" * 128 + ": x",
        "a" * 129 + ": x",
        "a[" + "1" * 32 + "]: x",
        "a[" + "1" * 33 + "]: x",
        "host " + "b" * 200 + "[1]: x",
    ]
    for line in real_lines():
        m = syslog.RFC3164.match(line)
        if m is not None:
            texts.append(m.group("rest"))
            texts.append(m.group("rest").partition(" ")[2])
    differ = [t for t in texts if matches(plain, t) != matches(syslog.TAG, t)]
    assert differ == []


def test_rfc3164_seconds_and_their_fractions_are_read_as_written() -> None:
    lines = [
        b"Mar  4 10:00:07 h a[1]: x",
        b"Mar  4 10:00:07.25 h a: x",
        b"Mar  4 10:00:07.1234567 h a: x",
        b"Mar 04 10:00:59.000001 h a: x",
        b"Mar  4 2025 10:00:00 h a: x",
        b"Mar  4 10:00:60 h a: x",
    ]
    options = ReadOptions(default_time=datetime(2026, 3, 5, tzinfo=UTC))
    items = list(read_events(lines, "syslog", options))
    day = datetime(2026, 3, 4, 10, tzinfo=UTC)
    assert [i.ts for i in items[:5] if isinstance(i, LogEvent)] == [
        day + timedelta(seconds=7),
        day + timedelta(seconds=7, microseconds=250_000),
        day + timedelta(seconds=7, microseconds=123_456),
        day + timedelta(seconds=59, microseconds=1),
        day.replace(year=2025),
    ]
    assert isinstance(items[5], Rejected) and items[5].reason == "invalid date 'Mar  4 10:00:60'"


def minute_rows(engine) -> list[tuple[datetime, str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(MinuteCount.minute, MinuteCount.host, MinuteCount.count).order_by(
                MinuteCount.minute, MinuteCount.host
            )
        )
        return [(minute, host, count) for minute, host, count in rows]


def test_events_back_and_forth_in_time_are_counted_in_their_own_minutes(engine) -> None:
    t = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    at = [59, 60, 30, 0, -1, 60.5, 119.999999, 120, 59.999999]
    events = [LogEvent(t + timedelta(seconds=s), "h", "app", Severity.INFO, "tick") for s in at]
    # The same instants in another zone object of offset zero, and in an offset zone.
    events.append(LogEvent(t.astimezone(ZoneInfo("UTC")), "h", "app", Severity.INFO, "tick"))
    events.append(
        LogEvent(t.astimezone(ZoneInfo("Europe/Berlin")), "h", "app", Severity.INFO, "tick")
    )
    ingestor = Ingestor(engine, NoiseFilter([]))
    ingestor.feed(events)
    ingestor.close()
    minute = timedelta(minutes=1)
    assert minute_rows(engine) == [
        (t - minute, "h", 1),
        (t, "h", 6),
        (t + minute, "h", 3),
        (t + 2 * minute, "h", 1),
    ]


def test_the_last_minute_of_the_calendar_is_counted_too(engine) -> None:
    last = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    events = [
        LogEvent(last + timedelta(seconds=s), host, "app", Severity.INFO, "tick")
        for s, host in [(1, "a"), (30, "a"), (59, "b")]
    ]
    ingestor = Ingestor(engine, NoiseFilter([]))
    ingestor.feed(events)
    ingestor.close()
    assert minute_rows(engine) == [(last, "a", 2), (last, "b", 1)]


def test_a_noise_rule_remembers_names_and_answers_as_its_globs(monkeypatch) -> None:
    monkeypatch.setattr(noise_module, "_NAMES_KEPT", 3)  # starts over often
    rule = NoiseRuleConfig(
        name="quiet", service="sshd*", host="web-?", action="downgrade", severity="debug"
    )
    noise = NoiseFilter([rule])
    rng = random.Random(5)
    services = ["sshd", "sshd-session", "xsshd", "cron", "SSHD"]
    hosts = ["web-1", "web-22", "db-1", "web-x", "WEB-1"]
    for _ in range(500):
        service, host = rng.choice(services), rng.choice(hosts)
        event = LogEvent(datetime(2026, 3, 4, tzinfo=UTC), host, service, Severity.ERROR, "m")
        decision = noise.apply(event)
        expected = service.startswith("sshd") and re.fullmatch(r"web-.", host) is not None
        assert (decision.action is NoiseAction.DOWNGRADE) is expected, (service, host)
    assert len(noise.rules[0]._services) <= 3 and len(noise.rules[0]._hosts) <= 3


@pytest.mark.parametrize(
    "value",
    [None, {}, {"pid": "6382"}, {"tag": "café ☕", "n": 3, "ok": True, "x": None}, [1, "é"]],
)
def test_stored_attributes_read_back_as_the_json_dumps_of_before(value) -> None:
    # The text is orjson's (compact); what any reader parses from it is unchanged.
    text = _json(value)
    if value is None:
        assert text is None
        return
    assert json.loads(text) == json.loads(json.dumps(value, ensure_ascii=False)) == value
    assert "\\u" not in text  # as ensure_ascii=False: UTF-8 text, not escapes


def mine_rows(monkeypatch, args: list[str], input: str | None = None):
    """The rows `mine --jsonl` prints, and how many rows each write carried."""
    writes: list[int] = []
    write = mine_cli._write

    def counted(rows: list[str]) -> None:
        if rows:
            writes.append(len(rows))
        write(rows)

    monkeypatch.setattr(mine_cli, "_write", counted)
    result = CliRunner().invoke(app, ["mine", *args, "--jsonl"], input=input)
    assert result.exit_code in (0, 1), result.output
    return [json.loads(line) for line in result.stdout.splitlines()], writes


def test_mine_writes_the_rows_of_files_in_chunks_in_order(tmp_path: Path, monkeypatch) -> None:
    lines = [
        json.dumps({"ts": "2026-03-04T10:00:00Z", "message": f"job {i} done"}) for i in range(600)
    ]
    lines[300] = "[1, 2]"  # a rejected line keeps its place
    log = tmp_path / "app.jsonl"
    log.write_text("\n".join(lines) + "\n")
    rows, writes = mine_rows(monkeypatch, [str(log), "--format", "jsonl"])
    assert [r["line"] for r in rows] == list(range(1, 601))
    assert "error" in rows[300] and all("template_id" in r for r in rows[:300] + rows[301:])
    assert writes == [256, 256, 88]


def test_mine_writes_each_row_of_standard_input_as_it_comes(monkeypatch) -> None:
    text = "".join(f"worker {i} started\n" for i in range(5))
    rows, writes = mine_rows(monkeypatch, ["-", "--format", "raw"], input=text)
    assert [r["line"] for r in rows] == [1, 2, 3, 4, 5]
    assert writes == [1, 1, 1, 1, 1]


# A real sshd line of serverlog_auth.log: no PRI, "error:" in its message.
SSHD_ERROR = (
    b"Mar  6 07:15:08 capstonealzheimer sshd[6382]: error: Could not load host key: "
    b"/etc/ssh/ssh_host_ed25519_key"
)


# A real line of Hadoop (loghub_2k), read as raw lines: its level is a word of it.
HADOOP_ERROR = (
    b"2015-10-18 18:04:11,034 ERROR [RMCommunicator Allocator] org.apache.hadoop.mapreduce."
    b"v2.app.rm.RMContainerAllocator: Container complete event for unknown container id "
    b"container_1445144423722_0020_01_000012"
)


@pytest.mark.parametrize(("fmt", "line"), [("syslog", SSHD_ERROR), ("raw", HADOOP_ERROR)])
def test_a_reader_told_not_to_look_for_level_words_keeps_the_declared_severity(
    fmt: str, line: bytes
) -> None:
    read_at = datetime(2016, 3, 7, tzinfo=UTC)  # raw lines' time
    (looked,) = read_events([line], fmt, ReadOptions(year=2016, default_time=read_at))
    (kept,) = read_events(
        [line], fmt, ReadOptions(year=2016, default_time=read_at, severities=False)
    )
    assert looked.severity == Severity.ERROR
    assert kept.severity == Severity.INFO  # nothing declared
    assert dataclasses.replace(kept, severity=looked.severity) == looked


def test_a_declared_severity_stays_without_level_words() -> None:
    # The PRI of a line received over the network: 11 is user.err.
    (declared,) = read_events([b"<11>" + SSHD_ERROR], "syslog", ReadOptions(severities=False))
    assert declared.severity == Severity.ERROR


def test_mine_finds_the_same_templates_with_or_without_severities(tmp_path, monkeypatch) -> None:
    log = tmp_path / "auth.log"
    log.write_bytes(SSHD_ERROR + b"\n" + SSHD_ERROR.replace(b"6382", b"6425") + b"\n")
    rows, _ = mine_rows(monkeypatch, [str(log), "--format", "syslog", "--year", "2016"])
    assert [r["template_id"] for r in rows] == [rows[0]["template_id"]] * 2
    table = CliRunner().invoke(app, ["mine", str(log), "--format", "syslog", "--year", "2016"])
    assert "error" in table.stdout  # the table still shows the worst severity
