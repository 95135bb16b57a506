"""Time phrases of an operator's question, read in their time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from logvigil.search.timephrase import find_range

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 5, 10, 30, tzinfo=UTC)  # 11:30 in Berlin, a Thursday


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("question", "start", "end", "phrase"),
    [
        (
            "what happened on db-01 last night?",
            "2026-03-04T17:00",
            "2026-03-05T07:00",
            "last night",
        ),
        ("errors yesterday", "2026-03-03T23:00", "2026-03-04T23:00", "yesterday"),
        ("anything since 09:00", "2026-03-05T08:00", "2026-03-05T10:30", "since 09:00"),
        ("since 9am", "2026-03-05T08:00", "2026-03-05T10:30", "since 9am"),
        ("since 11:45", "2026-03-04T10:45", "2026-03-05T10:30", "since 11:45"),  # yesterday's
        (
            "between 02:00 and 04:00",
            "2026-03-05T01:00",
            "2026-03-05T03:00",
            "between 02:00 and 04:00",
        ),
        ("from 11pm to 1am", "2026-03-04T22:00", "2026-03-05T00:00", "from 11pm to 1am"),
        ("reboots on March 4", "2026-03-03T23:00", "2026-03-04T23:00", "on march 4"),
        ("on 4 march", "2026-03-03T23:00", "2026-03-04T23:00", "on 4 march"),
        ("on March 6", "2025-03-05T23:00", "2025-03-06T23:00", "on march 6"),  # last year's
        ("on 2026-03-01", "2026-02-28T23:00", "2026-03-01T23:00", "on 2026-03-01"),
        ("on monday", "2026-03-01T23:00", "2026-03-02T23:00", "on monday"),
        ("in the last 2 hours", "2026-03-05T08:30", "2026-03-05T10:30", "in the last 2 hours"),
        ("past hour", "2026-03-05T09:30", "2026-03-05T10:30", "past hour"),
        ("this morning", "2026-03-05T05:00", "2026-03-05T10:30", "this morning"),
        ("since yesterday", "2026-03-03T23:00", "2026-03-05T10:30", "since yesterday"),
        ("this week", "2026-03-01T23:00", "2026-03-05T10:30", "this week"),
    ],
)
def test_a_phrase_is_the_range_it_means_locally(
    question: str, start: str, end: str, phrase: str
) -> None:
    r = find_range(question, NOW, BERLIN)
    assert r is not None
    assert (r.start, r.end, r.phrase) == (utc(start), utc(end), phrase)


def test_a_day_across_a_daylight_saving_change_is_23_hours() -> None:
    now = datetime(2026, 3, 30, 12, tzinfo=UTC)
    r = find_range("yesterday", now, BERLIN)  # Sunday 29 March: clocks go forward
    assert r is not None and (r.end - r.start).total_seconds() == 23 * 3600


@pytest.mark.parametrize(
    "question",
    ["how many errors did nginx log", "on February 30", "between 25:00 and 26:00", "", "on db-01"],
)
def test_no_phrase_or_an_impossible_one_is_no_range(question: str) -> None:
    assert find_range(question, NOW, BERLIN) is None


def test_the_first_phrase_wins() -> None:
    r = find_range("last night, or maybe yesterday", NOW, BERLIN)
    assert r is not None and r.phrase == "last night"
