"""`RepeatMemo`, and the answers asked through it staying those of the functions."""

from __future__ import annotations

import json
import re

from logvigil.core import memo
from logvigil.core.events import LogEvent, Severity
from logvigil.core.memo import RepeatMemo, remembered
from logvigil.ingest.formats import ReadOptions, read_events


def test_a_remembered_key_answers_and_an_unknown_one_does_not() -> None:
    m: RepeatMemo[str, int] = RepeatMemo()
    assert m.get("a") is None
    m.put("a", 1)
    assert m.get("a") == 1
    assert m.get("b") is None


def test_the_memo_never_holds_more_than_its_size() -> None:
    m: RepeatMemo[int, int] = RepeatMemo(size=8)
    for k in range(20):
        m.put(k, k)
        assert len(m._known) <= 8
    assert m.get(19) == 19


def test_keys_that_do_not_repeat_pause_the_memo_and_it_looks_again_later() -> None:
    m: RepeatMemo[int, int] = RepeatMemo()
    for k in range(memo.SAMPLE):  # every key new: no hit in a whole sample
        assert m.get(k) is None
        m.put(k, k)
    assert m.paused
    m.put(-1, 1)
    assert m.get(-1) is None  # paused: neither kept nor asked
    for _ in range(memo.PAUSE - 1):
        m.get(0)
    assert not m.paused
    m.put(-1, 1)
    assert m.get(-1) == 1


def test_keys_that_repeat_keep_the_memo_on() -> None:
    m: RepeatMemo[int, int] = RepeatMemo()
    for i in range(3 * memo.SAMPLE):
        k = i % 100  # a log's few messages, over and over
        if m.get(k) is None:
            m.put(k, k)
    assert not m.paused


def test_a_repeated_message_keeps_the_level_its_own_line_declares() -> None:
    # The severity memo is keyed on the message's head and the declared level: the
    # same words at another declared level are another answer.
    lines = [
        json.dumps({"ts": f"2026-03-04T10:00:0{i}Z", "level": level, "message": message})
        for i, (level, message) in enumerate(
            [
                ("info", "disk almost full"),
                ("error", "disk almost full"),
                ("info", "disk almost full"),
                ("info", "error: write failed"),
                ("info", "error: write failed"),
            ]
        )
    ]
    events = [
        e
        for e in read_events([line.encode() for line in lines], "jsonl", ReadOptions())
        if isinstance(e, LogEvent)
    ]
    assert [e.severity for e in events] == [
        Severity.INFO,
        Severity.ERROR,
        Severity.INFO,
        Severity.ERROR,  # raised by its level word, the first time and again
        Severity.ERROR,
    ]


def test_answered_computes_a_repeated_text_once_and_a_long_one_every_time() -> None:
    asked: list[str] = []

    def upper(text: str) -> str:
        asked.append(text)
        return text.upper()

    repeats = RepeatMemo[str, str]()
    long = "x" * (memo.MAX_KEY_CHARS + 1)
    for text in ["a b", "a b", long, "a b", long]:
        assert memo.answered(repeats, text, upper) == text.upper()
    assert asked == ["a b", long, long]


def test_remembered_asks_once_per_name_and_forgets_all_when_full() -> None:
    asked: list[str] = []

    def test(name: str) -> object:
        asked.append(name)
        return re.fullmatch(r"[a-z_]*password", name)  # a match or None, as `re` answers

    seen: dict[str, bool] = {}
    assert remembered(seen, "db_password", test, limit=2) is True
    assert remembered(seen, "user", test, limit=2) is False
    assert remembered(seen, "db_password", test, limit=2) is True
    assert asked == ["db_password", "user"]  # the repeat was not asked again
    assert remembered(seen, "host", test, limit=2) is False  # full: emptied first
    assert seen == {"host": False}
