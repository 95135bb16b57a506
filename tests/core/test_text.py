"""Text from the logs made fit to store and show: one function per meaning."""

from __future__ import annotations

import pytest

from logvigil.core.text import (
    ZWSP,
    disarm_mentions,
    escape_controls,
    mentions_as_words,
    single_line,
    truncate,
)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("plain text", "plain text"),
        ("tab\tkept", "tab\tkept"),
        ("nul\x00gone", "nulgone"),
        ("two\nlines\r", "two\\nlines\\r"),
        ("bell\x07", "bell\\x07"),
        ("bidi \u202eoverride", "bidi \\u202eoverride"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
    ],
)
def test_escape_controls_keeps_what_the_line_said_in_printable_form(raw: str, stored: str) -> None:
    assert escape_controls(raw) == stored


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred\x1b[0m text", "red text"),
        ("a\nb\r\nc", "a b c"),
        ("a\x00b\x07c", "abc"),
    ],
)
def test_single_line_drops_ansi_and_controls_and_joins_lines(raw: str, shown: str) -> None:
    assert single_line(raw) == shown


def test_truncate_says_it_cut_and_never_exceeds_the_limit() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("0123456789abc", 10) == "012345678…"
    assert len(truncate("x" * 1000, 50)) == 50
    assert truncate("anything", 0) == ""


@pytest.mark.parametrize(
    "mention", ["@everyone", "@here", "@EVERYONE", "<@123>", "<@!123>", "<@&7>", "<#9>"]
)
def test_disarmed_mentions_still_read_the_same_but_cannot_ping(mention: str) -> None:
    shown = disarm_mentions(f"hi {mention} there")
    assert ZWSP in shown
    assert shown.replace(ZWSP, "") == f"hi {mention} there"


@pytest.mark.parametrize(
    ("mention", "words"),
    [
        ("@everyone", "(at)everyone"),
        ("@here", "(at)here"),
        ("<@123>", "(user 123)"),
        ("<@!123>", "(user 123)"),
        ("<@&7>", "(role 7)"),
        ("<#9>", "(channel 9)"),
    ],
)
def test_mentions_become_words_for_a_prompt_without_hidden_characters(
    mention: str, words: str
) -> None:
    out = mentions_as_words(f"ping {mention}")
    assert out == f"ping {words}"
    assert ZWSP not in out
