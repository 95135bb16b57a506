"""The file and stdin sources: complete lines only, rotation, truncation, resumable cursors."""

from __future__ import annotations

import io
import os
from pathlib import Path

from logvigil.ingest.sources import FileTail, StdinLines
from logvigil.ingest.sources.file import parse_cursor


def test_a_file_is_read_line_by_line_and_an_incomplete_line_waits(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"one\ntwo\nthr")
    tail = FileTail(log, "raw")
    assert tail.poll().lines == [b"one\n", b"two\n"]
    with log.open("ab") as f:
        f.write(b"ee\n")
    assert tail.poll().lines == [b"three\n"]
    assert tail.poll().lines == []


def test_the_cursor_resumes_where_the_last_batch_ended(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"a\nb\n")
    first = FileTail(log)
    batch = first.poll()
    first.close()
    with log.open("ab") as f:
        f.write(b"c\n")
    second = FileTail(log, cursor=batch.cursor)
    assert second.poll().lines == [b"c\n"]
    assert parse_cursor(second.cursor) == (os.stat(log).st_ino, 6)


def test_a_truncated_file_is_read_again_from_the_start(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"old line 1\nold line 2\n")
    tail = FileTail(log)
    tail.poll()
    log.write_bytes(b"new\n")  # truncate and rewrite (copytruncate rotation)
    assert tail.poll().lines == []  # notices the truncation
    assert tail.poll().lines == [b"new\n"]


def test_a_rotated_file_is_drained_then_the_new_one_followed(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"1\n")
    tail = FileTail(log)
    assert tail.poll().lines == [b"1\n"]
    with log.open("ab") as f:
        f.write(b"2\n")
    log.rename(tmp_path / "app.log.1")
    log.write_bytes(b"3\n")
    assert tail.poll().lines == [b"2\n"]  # the rest of the old file first
    assert tail.poll().lines == []  # switches to the new inode
    assert tail.poll().lines == [b"3\n"]


def test_a_stale_or_malformed_cursor_starts_from_the_beginning(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"x\n")
    assert FileTail(log, cursor="garbage").poll().lines == [b"x\n"]
    assert FileTail(log, cursor="1:99999").poll().lines == [b"x\n"]


def test_a_missing_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    tail = FileTail(tmp_path / "absent.log")
    assert tail.poll().lines == []
    assert "absent.log" in (tail.error or "")
    (tmp_path / "absent.log").write_bytes(b"late\n")
    assert tail.poll().lines == [b"late\n"]
    assert tail.error is None


def test_stdin_lines_arrive_and_the_end_is_reported() -> None:
    src = StdinLines("jsonl", stream=io.BytesIO(b'{"a": 1}\n{"a": 2}\n'))
    got: list[bytes] = []
    finished = False
    for _ in range(50):
        batch = src.poll(10)
        got += batch.lines
        if batch.finished:
            finished = True
            break
    assert got == [b'{"a": 1}\n', b'{"a": 2}\n'] and finished
