"""Hostile lines: a JSON line of megabytes, a line past the read limit, binary data.

A JSON line is read whole up to the read limit (16 MiB) and its long message and
attributes are cut and flagged, not rejected; a longer line is rejected naming the
limit, and never becomes a raw event stamped now; a line that is not text is counted
and skipped as `binary line, not text`, never a template; text in any encoding stays.
"""

from __future__ import annotations

import gzip
import io
import json
import queue
import random
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from logvigil.cli import app
from logvigil.core.events import MAX_LINE_BYTES, LogEvent, Rejected
from logvigil.ingest.formats import LINE_LIMIT, LongLine, ReadOptions, read_events
from logvigil.ingest.formats import auto as auto_format
from logvigil.ingest.formats._common import (
    BINARY_REASON,
    LONG_LINE_HEAD,
    MAX_ATTRIBUTE_CHARS,
    binary_reason,
)
from logvigil.ingest.inputs import InputReader, iter_lines
from logvigil.ingest.sources import FileTail, StdinLines
from logvigil.ingest.sources.base import LineQueue

MiB = 1024 * 1024
runner = CliRunner()


def pino_line(message: str, body: str) -> bytes:
    """A pino (Node.js) request log line with a big request body, as pino writes it."""
    record = {
        "level": 50,
        "time": 1772618400123,
        "pid": 4211,
        "hostname": "api-01",
        "req": {"method": "POST", "url": "/upload", "body": body},
        "msg": message,
    }
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"


def items_of(path: Path, fmt: str = "auto") -> list[LogEvent | Rejected]:
    return list(InputReader([str(path)], fmt))


# -- long JSON lines -----------------------------------------------------------------------------


def test_a_json_line_of_two_mebibytes_is_one_event_cut_and_flagged(tmp_path: Path) -> None:
    log = tmp_path / "api.jsonl"
    log.write_bytes(pino_line("upload failed: " + "é" * MiB, "x" * MiB))
    for fmt in ("jsonl", "auto"):
        [item] = items_of(log, fmt)
        assert isinstance(item, LogEvent), item
        assert item.host == "api-01" and item.ts.isoformat() == "2026-03-04T10:00:00.123000+00:00"
        assert item.message.startswith("upload failed: éé")
        assert len(item.message.encode()) <= MAX_LINE_BYTES
        assert len(item.attributes["req"]) == MAX_ATTRIBUTE_CHARS
        assert item.truncated


def test_a_line_is_read_whole_up_to_the_limit_and_past_it_only_its_head() -> None:
    big = b"{" + b"a" * (3 * MiB) + b"}\n"
    assert list(iter_lines(io.BytesIO(big), 4 * MiB)) == [big]
    exact = b"b" * 1000  # exactly the limit, ending the input without a newline
    assert list(iter_lines(io.BytesIO(exact), 1000)) == [exact]
    [long, after] = list(iter_lines(io.BytesIO(big + b"next\n"), MiB))
    assert type(long) is LongLine and len(long) == LONG_LINE_HEAD
    assert long.size == len(big) and long.limit == MiB
    assert after == b"next\n"  # the rest of the long line was skipped, not split off


def test_a_json_line_over_the_limit_is_rejected_naming_the_limit(tmp_path: Path) -> None:
    log = tmp_path / "api.jsonl"
    huge = pino_line("x", "y" * (LINE_LIMIT + 10))
    log.write_bytes(huge + pino_line("next request ok", "{}"))
    for fmt in ("jsonl", "auto"):
        [long, after] = items_of(log, fmt)
        assert isinstance(long, Rejected) and long.line_no == 1
        assert long.reason == (
            f"line over the 16 MiB limit: {len(huge):,} bytes; "
            "a JSON line is read whole or not at all"
        )
        assert isinstance(after, LogEvent) and after.message == "next request ok"


def test_auto_never_turns_a_lone_over_long_json_line_into_a_raw_event(tmp_path: Path) -> None:
    log = tmp_path / "only.jsonl"
    log.write_bytes(pino_line("x", "y" * (LINE_LIMIT + 10)))
    [item] = items_of(log, "auto")
    assert isinstance(item, Rejected) and "16 MiB limit" in item.reason
    result = runner.invoke(app, ["ingest", str(log), "--db", f"sqlite:///{tmp_path}/s.db"])
    assert result.exit_code == 1
    assert "only.jsonl:1: line over the 16 MiB limit" in result.output
    assert re.search(r"events stored +0\n", result.output)


def test_an_over_long_raw_line_is_its_head_cut_and_flagged(tmp_path: Path) -> None:
    log = tmp_path / "dump.log"
    log.write_bytes(b"core dump: " + b"A" * (LINE_LIMIT + 5) + b"\nafter\n")
    [long, after] = items_of(log, "raw")
    assert isinstance(long, LogEvent) and long.truncated
    assert long.message.startswith("core dump: AAA") and len(long.message) <= MAX_LINE_BYTES
    assert isinstance(after, LogEvent) and after.message == "after"


def test_the_format_sample_is_bounded_in_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auto_format, "MAX_SAMPLE_BYTES", 10_000)
    broken = [b"{" + b"z" * 3000 + b"\n"] * 50  # lines that do not vote
    fmt, pending = auto_format.sniff(iter(broken))
    assert fmt == "raw" and len(pending) == 4  # 4 x 3002 bytes reach 10,000


# -- sources of the daemon: the same limit, memory bounded ---------------------------------------


def test_the_file_source_skips_an_over_long_line_being_written_then_reads_on(
    tmp_path: Path,
) -> None:
    log = tmp_path / "app.jsonl"
    first = pino_line("x", "y" * (LINE_LIMIT + 10))
    log.write_bytes(b"before\n" + first[: LINE_LIMIT + 100])  # its newline not yet written
    tail = FileTail(log, "jsonl")
    batch = tail.poll()
    assert batch.lines == [b"before\n"]
    assert batch.cursor is not None and batch.cursor.endswith(":7")  # stays at its start
    with log.open("ab") as f:
        f.write(first[LINE_LIMIT + 100 :] + b"after\n")
    [long, after] = tail.poll().lines
    assert type(long) is LongLine and long.size == len(first)
    assert after == b"after\n"  # not a piece of the long line
    assert tail.cursor is not None and tail.cursor.endswith(f":{7 + len(first) + 6}")
    [item] = list(read_events([long], "jsonl", ReadOptions(source="app.jsonl")))
    assert isinstance(item, Rejected) and "16 MiB limit" in item.reason


def test_the_stdin_source_passes_an_over_long_line_as_its_head() -> None:
    data = b"a\n" + b"{" + b"q" * (LINE_LIMIT + 1) + b"}\nb\n"
    source = StdinLines("jsonl", stream=io.BytesIO(data))
    lines: list[bytes] = []
    while not (batch := source.poll()).finished:
        lines += batch.lines
    lines += batch.lines
    assert [type(x) is LongLine for x in lines] == [False, True, False]
    assert lines[0] == b"a\n" and lines[2] == b"b\n"


def test_the_line_queue_is_bounded_in_bytes_yet_lets_one_big_line_through() -> None:
    q = LineQueue(max_lines=100, max_bytes=1000)
    q.put(b"x" * 5000)  # alone: more than the bound, still accepted
    with pytest.raises(queue.Full):
        q.put(b"y", timeout=0.01)  # the queue holds more than its bound: wait
    assert q.get_nowait() == b"x" * 5000
    q.put(b"a" * 600)
    with pytest.raises(queue.Full):
        q.put(b"b" * 600, timeout=0.01)
    q.put(b"c" * 400)
    assert q.get() == b"a" * 600 and q.get() == b"c" * 400
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)


# -- binary lines ------------------------------------------------------------------------------


def test_a_mebibyte_of_random_bytes_is_counted_and_skipped_not_mined(tmp_path: Path) -> None:
    log = tmp_path / "random.bin"
    log.write_bytes(random.Random(13).randbytes(MiB))
    db = f"sqlite:///{tmp_path}/s.db"
    result = runner.invoke(app, ["ingest", str(log), "--db", db])
    assert result.exit_code == 1
    stats = json.loads(runner.invoke(app, ["stats", "--db", db, "--json"]).stdout)
    binary = stats["rejected_by_reason"][BINARY_REASON]
    assert binary > 4000  # of about 4,100 lines
    # What is left is a few short pieces that are plain ASCII: text to any reader.
    assert stats["events_stored"] < 40 and stats["templates"] < 40


def test_a_gzip_file_without_its_extension_is_binary_not_text(tmp_path: Path) -> None:
    text = "".join(
        f"Mar  4 10:00:{i % 60:02d} db-01 sshd[{i}]: Accepted key\n" for i in range(2000)
    )
    log = tmp_path / "auth.log"  # a rotated file renamed without `.gz`
    log.write_bytes(gzip.compress(text.encode()))
    items = items_of(log)
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert rejected and all(r.reason.startswith(BINARY_REASON) for r in rejected)
    assert sum(isinstance(i, LogEvent) for i in items) <= len(items) // 20


@pytest.mark.parametrize(
    "line",
    [
        "服务器启动完成，监听端口 8080".encode(),  # UTF-8 Chinese
        "🔥 deploy of api failed ❌, rolled back ✅".encode(),  # emoji
        # Latin-1 lines (invalid UTF-8), as Samba or an old Java app writes them
        'Mar  4 10:00:00 nas-01 smbd[812]: Datei "Übersicht Größe.xlsx" gelöscht'.encode("latin-1"),
        "Não é possível conectar ao servidor às 10h".encode("latin-1"),
        "Größe".encode("latin-1"),
        "It’s “done” — 3 files…".encode("cp1252"),  # Windows-1252 punctuation
        "Ошибка подключения к базе данных".encode("koi8-r"),
        "服务器启动完成".encode("gb2312"),
        b"\x1b[31mERROR\x1b[0m db down \x07",  # ANSI colours and a bell
        b"Invalid user admin from 203.0.113.9 port 22 \x01 (one stray control byte)",
    ],
)
def test_text_in_any_encoding_is_not_binary(line: bytes) -> None:
    assert binary_reason(line) is None
    [item] = list(read_events([line], "raw", ReadOptions(source="t")))
    assert isinstance(item, LogEvent)


def test_binary_lines_are_skipped_among_text_and_do_not_vote(tmp_path: Path) -> None:
    garbage = random.Random(5).randbytes(4000).replace(b"\n", b"\x02") + b"\n"
    good = b"".join(
        json.dumps({"ts": f"2026-03-04T10:00:0{i}Z", "host": "db-01", "msg": f"ok {i}"}).encode()
        + b"\n"
        for i in range(3)
    )
    log = tmp_path / "app.jsonl"
    log.write_bytes(garbage * 4 + good)  # four binary lines first: auto still reads JSONL
    items = items_of(log)
    assert [type(i) for i in items] == [Rejected] * 4 + [LogEvent] * 3
    assert items[0].reason.startswith(f"{BINARY_REASON}: ")
    assert [i.line_no for i in items[:4]] == [1, 2, 3, 4]
    assert [i.host for i in items[4:]] == ["db-01"] * 3


def test_a_short_piece_of_binary_data_is_binary_but_not_after_text() -> None:
    piece = b"k\xfbOO\xe4\x99"  # no control byte: alone, it could be Latin-1
    assert binary_reason(piece) is None
    assert binary_reason(piece, after_binary=True) == (
        f"{BINARY_REASON}: a piece of the binary line before it"
    )
    assert binary_reason(b"plain words", after_binary=True) is None
