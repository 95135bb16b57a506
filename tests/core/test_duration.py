"""Durations as written in config and on the command line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from logvigil.core.duration import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30s", 30), ("5m", 300), ("2H", 7200), ("1h30m", 5400), (" 1 d ", 86400), ("1w", 604800)],
)
def test_durations_people_write(text: str, expected: int) -> None:
    assert parse_duration(text) == timedelta(seconds=expected)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("5", "needs a unit"),
        ("-5m", "must be positive"),
        ("0m", "must be positive"),
        ("soon", "expected a duration"),
        ("", "expected a duration"),
        ("5 minutes", "expected a duration"),
        ("5m!", "expected a duration"),
    ],
)
def test_what_is_not_a_duration_says_why(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_duration(text)


def test_a_bound_is_enforced_and_named() -> None:
    assert parse_duration("30d", at_most=timedelta(days=30)) == timedelta(days=30)
    with pytest.raises(ValueError, match="at most 30d"):
        parse_duration("31d", at_most=timedelta(days=30))
