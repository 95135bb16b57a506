"""Which of many fixed words a text holds, in one pass over it.

A quick test that asks whether a line holds any of twenty words (redaction's, before
its patterns; the level words' precheck, before its pattern) costs twenty substring
searches when written as `word in text`: about 160 ns each on a 230-character firewall
line. `Words` puts them in one Aho-Corasick automaton (pyahocorasick, in C) and walks
the text once, with the same answers (docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import ahocorasick


class Words[T]:
    """A fixed set of non-empty words, each with a tag (None when given as a plain
    iterable), searched for in texts. Case-sensitive: give lower-case words and
    lower-cased texts for a search without case."""

    __slots__ = ("_automaton", "words")

    def __init__(self, words: Mapping[str, T] | Iterable[str]) -> None:
        tagged: dict[str, T | None] = (
            dict(words) if isinstance(words, Mapping) else dict.fromkeys(words)
        )
        if not tagged or not all(tagged):
            raise ValueError("Words needs one or more non-empty words")
        self.words: tuple[str, ...] = tuple(tagged)
        automaton = ahocorasick.Automaton()
        for word, tag in tagged.items():
            automaton.add_word(word, (len(word) - 1, tag))
        automaton.make_automaton()
        self._automaton = automaton

    def any_in(self, text: str) -> bool:
        """True when `text` holds at least one of the words (`any(w in text ...)`)."""
        for _ in self._automaton.iter(text):
            return True
        return False

    def occurrences(self, text: str) -> Iterator[tuple[int, T | None]]:
        """(start, tag) of every occurrence of every word in `text` (overlapping ones
        too), in the order their ends come."""
        for end, (last, tag) in self._automaton.iter(text):
            yield end - last, tag
