"""`Words`: one pass over a text answers as a substring search per word would."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logvigil.core.words import Words

FUZZ = settings(max_examples=300, deadline=None, database=None)

# Words that overlap, nest and share prefixes and suffixes, as the level words do
# (`err` in `error`, `crit` in `critical`) and redaction's (`sk-` in `disk-`).
WORDS = ("err", "error", "rr", "sk-", "disk", "-----begin", "k_live_", "traps:", "é")
# Characters outside the basic plane and a lone surrogate (JSON can carry one): positions
# count code points, as `str.find` does.
_texts = st.lists(
    st.sampled_from([*WORDS, "e", "r", "-", "k", " ", "x", "ü", "_", "\U0001d11e", "\ud800"]),
    max_size=30,
)


@FUZZ
@given(_texts.map("".join))
def test_any_in_answers_as_a_search_per_word(text: str) -> None:
    assert Words(WORDS).any_in(text) == any(word in text for word in WORDS)


@FUZZ
@given(_texts.map("".join))
def test_occurrences_are_every_start_of_every_word_with_its_tag(text: str) -> None:
    tagged = Words({word: len(word) for word in WORDS})
    expected = {
        (start, len(word))
        for word in WORDS
        for start in range(len(text))
        if text.startswith(word, start)
    }
    found = list(tagged.occurrences(text))
    assert len(found) == len(expected) and set(found) == expected
    assert all(tag is None for _, tag in Words(WORDS).occurrences(text))


def test_a_real_line_is_searched_whole() -> None:
    words = Words(("warn", "err"))
    line = "kernel: [UFW BLOCK] IN=ens3 OUT= SRC=152.44.42.69 DST=158.247.223.84 ... errno=5"
    assert words.any_in(line)
    assert list(words.occurrences(line)) == [(line.index("err"), None)]
    assert not words.any_in(line.replace("err", "ERR"))  # case counts: lower both sides


@pytest.mark.parametrize("words", [(), ("ok", "")])
def test_no_word_or_an_empty_one_is_refused(words: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        Words(words)
