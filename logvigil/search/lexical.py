"""Lexical template search: BM25 over template text, in an operator's words. Pure, no I/O.

A template is a document of two fields: its text (the mined template, placeholders
`<*>` and pure numbers dropped: they say nothing an operator would type) and the
names of the services and programs that log it (`nginx`, `postgres`). Both are
cut into lowercase words and stemmed (Snowball's English stemmer: `killed`,
`kills` and `killing` are one word), and scored with BM25 (k1 1.2, b 0.75).

- Identifiers: programs write `Sabre\\DAV\\Exception\\NotFound`, `oom_reaper`,
  `GetUserByName`, `sda2`, `php-fpm8`. A token is also cut at its case changes,
  underscores and digits, so "not found", "oom reaper" or "sda" find it; a part
  counts `PART_WEIGHT` (a word inside an identifier says less than one written
  alone: `boot` in `BOOT_IMAGE=<*>`).
- Names: a word in the names counts `NAME_BOOST` times, since "postgres killed"
  names the service first, and a typed word of `MIN_PREFIX` letters or more
  stands for its daemon's name too ("ssh" for `sshd`: Unix names a daemon with a
  trailing d), counted once wherever it is found. A typed word ending in s that
  no template holds is looked up without it (Snowball leaves `cpus`, `vms` whole).
- Operator words: people do not type what programs write. "disk full" is logged
  as "No space left on device", "brute force" as "Failed password ... invalid
  user", "502" as nginx's "upstream prematurely closed". `SENSES` maps what
  people say for a thing to the phrases programs write for it (the kernel,
  libc's `strerror` and errno names, OpenSSH, PAM, systemd, PostgreSQL, nginx,
  the usual daemons). A phrase said matches the query's words in order (a stop
  word it lacks is skipped, "restarted the server" holds "restart server"; one
  it holds must be there, "not found", "log in"); one inside a longer phrase
  that matched does not count ("disk" in "disk full"). Each adds one group at
  `EXPANSION_WEIGHT`: its best written phrase in the template, whose words add
  up times the share of them there ("key exchange" found whole beats the "key"
  of "host key"), as search engines blend synonyms into one term.
- Ideas: the typed words of a phrase said are one idea and count as their mean
  times the share found ("ran out of room" is not the `OUT` of `OUT=<*>`); any
  other typed word is one. A template scores times the share of the query's
  ideas it holds (typed, or through their group) to the power `COORDINATION`, so
  one rare word cannot outweigh a template that holds the rest of the query.

The vocabulary (`STOPWORDS`, `SENSES`) is in `logvigil.search.senses`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from logvigil.search.senses import STOPWORDS, THESAURUS

K1 = 1.2
B = 0.75
#: How much more a word counts in the names (services, programs) than in the text.
NAME_BOOST = 2.0
#: Letters a typed word needs to stand for its daemon's name (`ssh` for `sshd`).
MIN_PREFIX = 3
#: How much a part of a compound counts (`found` in `NotFound`, `boot` in `BOOT_IMAGE`):
#: a word inside an identifier says less than a word written alone.
PART_WEIGHT = 0.5
#: A template that holds fewer of the query's ideas scores less: times the share it
#: holds to this power (Lucene's "coord"), so one rare word cannot outweigh the rest.
COORDINATION = 0.5
#: How much a word added by the thesaurus counts against a word typed.
EXPANSION_WEIGHT = 0.5

#: A word: letters, digits and underscores from a letter on; `I/O` is one ("io").
_WORD = re.compile(r"[Ii]/[Oo]\b|[A-Za-z][A-Za-z0-9_]*[A-Za-z0-9]|[A-Za-z]")
#: A query's tokens: words as in a template, and numbers (for the thesaurus' `502`).
_QUERY_TOKEN = re.compile(r"[Ii]/[Oo]\b|[A-Za-z][A-Za-z0-9_]*[A-Za-z0-9]|[A-Za-z]|[0-9]+")


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


#: Each token seen (as written) -> its stems: as a whole word (none for a stop word) and
#: its parts when it is a compound (a log's vocabulary is small, so this stays small and
#: makes cutting a template into words a dict lookup).
_STEMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
#: The parts of a compound token: an upper-case run (`SQL`, `DAV`), a word with at most its
#: first letter upper-case, digits.
_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def _stems(token: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The stems of one token as written: the whole word, and when it is a compound
    (`NotFound`, `oom_reaper`, `GetUserByName`, `sda2`, `php8`), its parts, so that
    "not found", "oom" or "sda" find it. Parts of one letter and numbers say nothing."""
    stems = _STEMS.get(token)
    if stems is not None:
        return stems
    stem = _stem
    lower = token.lower().replace("/", "")  # `I/O`
    whole = () if lower in STOPWORDS or len(lower) == 1 else (stem(lower),)
    parts: tuple[str, ...] = ()
    pieces = [p.lower() for piece in token.split("_") for p in _PART.findall(piece)]
    if len(pieces) > 1:
        parts = tuple(
            dict.fromkeys(
                stem(p) for p in pieces if len(p) > 1 and not p.isdigit() and p not in STOPWORDS
            )
        )
        parts = tuple(p for p in parts if p not in whole)
    stems = _STEMS[token] = (whole, parts)
    return stems


def words(text: str) -> list[str]:
    """The stemmed search words of `text`: lowercase, placeholders, numbers and stop
    words dropped, compounds also cut into their parts."""
    out: list[str] = []
    for token in _WORD.findall(text.replace("<*>", " ")):
        whole, parts = _STEMS.get(token) or _stems(token)
        out.extend(whole)
        out.extend(parts)
    return out


def _weighted(text: str) -> tuple[dict[str, float], int]:
    """A template's words and how often each is there, and its length in words as
    written (a compound is one)."""
    tf: dict[str, float] = {}
    length = 0
    stems = _STEMS
    for token in _WORD.findall(text.replace("<*>", " ")):
        whole, parts = stems.get(token) or _stems(token)
        for w in whole:
            tf[w] = tf.get(w, 0.0) + 1.0
            length += 1
        for w in parts:
            tf[w] = tf.get(w, 0.0) + PART_WEIGHT
    return tf, length


@dataclass(frozen=True, slots=True)
class Query:
    """A query as searched."""

    #: The words typed: stemmed, stop words left out.
    typed: tuple[str, ...]
    #: The ideas typed: the words of a phrase the thesaurus knows ("ran out of room"), or
    #: one word.
    units: tuple[tuple[str, ...], ...]
    #: For each thesaurus phrase said, the phrases programs write for it, as words (the
    #: words typed left out).
    groups: tuple[tuple[tuple[str, ...], ...], ...]
    #: For each group, the units it stands for (a negative number: an idea typed as a
    #: number, `502`).
    covers: tuple[tuple[int, ...], ...]


def expand(query: str) -> Query:
    """`query`'s stemmed words, and one group of phrases for each thesaurus phrase it
    holds that no longer phrase it holds covers, without the words typed.

    A phrase matches the query's words in order; a stop word of the query that the
    phrase does not hold is skipped ("restarted the server" holds "restart server"),
    one that it holds must be there ("log in" is not "log", "not found" not "found")."""
    said = _said(query, _thesaurus_numbers())
    typed = tuple(dict.fromkeys(w for w in said if w not in STOPWORDS and not w.isdigit()))
    spans: list[tuple[int, int, tuple[str, ...]]] = []
    seen: set[tuple[str, ...]] = set()
    by_first = _thesaurus()
    for i, w in enumerate(said):
        for key, written in by_first.get(w, ()):
            end = 0 if key in seen else _match(key, said, i)
            if end:
                seen.add(key)
                spans.append((i, end, written))
    spans = [
        (start, end, written)
        for start, end, written in spans
        if not any(s <= start and end <= e and e - s > end - start for s, e, _ in spans)
    ]  # "disk full" holds "disk" and "full": the phrase says it
    units: dict[tuple[str, ...], None] = {}
    placed: set[str] = set()
    for start, end, _ in sorted(spans, key=lambda s: s[0] - s[1]):
        unit = tuple(w for w in dict.fromkeys(said[start:end]) if w in typed and w not in placed)
        if len(unit) > 1:
            units[unit] = None
            placed.update(unit)
    units.update(((w,), None) for w in typed if w not in placed)
    unit_of = {w: n for n, unit in enumerate(units) for w in unit}
    groups: dict[tuple[tuple[str, ...], ...], set[int]] = {}
    for start, end, written in spans:
        group = tuple(
            dict.fromkeys(
                p for p in (tuple(w for w in ph if w not in typed) for ph in _written(written)) if p
            )
        )
        if group:
            said_units = {unit_of[w] for w in said[start:end] if w in unit_of}
            groups.setdefault(group, set()).update(said_units or {-1 - len(groups)})
    return Query(
        typed, tuple(units), tuple(groups), tuple(tuple(sorted(c)) for c in groups.values())
    )


def _match(key: tuple[str, ...], said: list[str], start: int) -> int:
    """Where `key` ends if it begins at `said[start]` (stop words it lacks skipped), or 0."""
    if said[start] != key[0]:
        return 0
    i, j = start + 1, 1
    while j < len(key):
        if i == len(said):
            return 0
        if said[i] == key[j]:
            j += 1
        elif said[i] not in STOPWORDS:
            return 0
        i += 1
    return i


def _said(text: str, numbers: frozenset[str] | None = None) -> list[str]:
    """The words of a query or a thesaurus phrase in order: stemmed, stop words kept as
    they are (phrases need them), numbers kept when in `numbers` (all when None): people
    type a status code (`502`), programs write it as a number we do not index."""
    out: list[str] = []
    for token in _QUERY_TOKEN.findall(text.replace("'", "")):
        lower = token.lower()
        if token.isdigit():
            if numbers is None or token in numbers:
                out.append(token)
        elif lower in STOPWORDS:
            out.append(lower)
        else:
            out.extend(words(token))
    return out


@lru_cache(maxsize=1)
def _thesaurus() -> dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]:
    """`THESAURUS` by the first word of its phrases: (the phrase's words, the phrases it
    adds as written), phrases that stem alike ("crash", "crashed") merged into one. The
    phrases added are cut into words once a query holds the phrase (`_written`)."""
    merged: dict[tuple[str, ...], tuple[str, ...]] = {}
    for phrase, written in THESAURUS.items():
        key = tuple(_said(phrase))
        if key:
            merged[key] = tuple(dict.fromkeys(merged.get(key, ()) + written))
    out: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    for key, written in merged.items():
        out.setdefault(key[0], []).append((key, written))
    return out


@lru_cache(maxsize=1024)
def _written(phrases: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Phrases programs write, as words."""
    return tuple(dict.fromkeys(p for p in (tuple(words(s)) for s in phrases) if p))


@lru_cache(maxsize=1)
def _thesaurus_numbers() -> frozenset[str]:
    return frozenset(p for p in THESAURUS if p.isdigit())


@dataclass(frozen=True, slots=True)
class Document:
    """One template to search: its id, its text and the names that log it."""

    id: int
    text: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scored:
    id: int
    score: float
    matched: tuple[str, ...]  # the query's words it contains


class LexicalIndex:
    """BM25 over `documents` (text, and names counted `NAME_BOOST` times)."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.ids: list[int] = []
        #: Each document's words and their weights (a name's words count `NAME_BOOST`).
        self._docs: list[dict[str, float]] = []
        self._postings: dict[str, dict[int, float]] = {}  # filled per word searched
        self._scored: dict[str, dict[int, float]] = {}  # BM25 per word searched
        self._typed: dict[str, dict[int, float]] = {}  # the same per word typed (`_word`)
        self._names: set[str] = set()
        name_words: dict[str, list[str]] = {}
        lengths: list[int] = []
        for doc in documents:
            self.ids.append(doc.id)
            tf, length = _weighted(doc.text)
            for name in doc.names:
                said = name_words.get(name)
                if said is None:
                    said = name_words[name] = words(re.sub(r"[-.@]", " ", name))
                    self._names.update(said)
                for w in said:
                    tf[w] = tf.get(w, 0.0) + NAME_BOOST
            self._docs.append(tf)
            lengths.append(length + 1)
        self._lengths = lengths
        self._avg = sum(lengths) / len(lengths) if lengths else 1.0

    def _postings_of(self, word: str) -> dict[int, float]:
        """The documents that hold `word`, with its weight in each (computed once)."""
        found = self._postings.get(word)
        if found is None:
            found = self._postings[word] = {
                n: tf[word] for n, tf in enumerate(self._docs) if word in tf
            }
        return found

    def __len__(self) -> int:
        return len(self.ids)

    def _word(self, word: str) -> dict[int, float]:
        """BM25's score of a typed `word` in each document that holds it, counted once
        whether it is found as written or as its daemon's name (`ssh` is `sshd`, `cron`
        is `crond`: people type a program's name without the `d` Unix gives its daemon)."""
        found = self._typed.get(word)
        if found is not None:
            return found
        found = self._scores(word)
        if not found and len(word) >= MIN_PREFIX and word.endswith("s"):
            found = self._scores(word[:-1])  # Snowball leaves `cpus`, `vms`, `dbs` whole
        if len(word) >= MIN_PREFIX and f"{word}d" in self._names:
            found = dict(found)
            for n, score in self._scores(f"{word}d").items():
                found[n] = max(found.get(n, 0.0), score)
        self._typed[word] = found
        return found

    def _phrase(
        self, phrase: tuple[str, ...], score: Callable[[str], dict[int, float]]
    ) -> dict[int, float]:
        """The score of `phrase` in each document that holds a word of it: its words'
        scores added, times the share of its words there (a phrase found whole is worth
        more than one of its words)."""
        if len(phrase) == 1:
            return score(phrase[0])
        total: dict[int, float] = {}
        count: dict[int, int] = {}
        for w in phrase:
            for n, s in score(w).items():
                total[n] = total.get(n, 0.0) + s
                count[n] = count.get(n, 0) + 1
        return {n: s * count[n] / len(phrase) for n, s in total.items()}

    def _scores(self, word: str) -> dict[int, float]:
        """BM25's score of `word` in each document that holds it."""
        found = self._scored.get(word)
        if found is not None:
            return found
        postings = self._postings_of(word)
        if not postings:
            found = {}
        else:
            n_docs = len(self.ids)
            idf = math.log(1 + (n_docs - len(postings) + 0.5) / (len(postings) + 0.5))
            avg, lengths = self._avg, self._lengths
            found = {
                n: idf * f * (K1 + 1) / (f + K1 * (1 - B + B * lengths[n] / avg))
                for n, f in postings.items()
            }
        self._scored[word] = found
        return found

    def search(self, query: str, *, allowed: set[int] | None = None) -> list[Scored]:
        """Every document that holds a word of `query` (of `allowed` ids, when given),
        best first; ties go to the lower id (the older template).

        Typed words add up (BM25), each counted once whether found as written or as
        its daemon's name; the words of a phrase said count as one idea, their mean
        times the share of them found. Each thesaurus group counts as one word, at
        `EXPANSION_WEIGHT`: its best-scoring phrase in the document (a phrase's words
        added up, times the share of them there), as a search engine blends synonyms
        into one term, so that an entry with many phrases cannot outweigh what was
        typed. The sum is multiplied by the share of the query's ideas the document
        holds, typed or through their groups, to the power `COORDINATION`."""
        q = expand(query)
        scores: dict[int, float] = {}
        matched: dict[int, list[str]] = {}
        concepts: dict[int, set[int]] = {}
        n_concepts = len(q.units) + len({c for cover in q.covers for c in cover if c < 0})
        for u, unit in enumerate(q.units):
            for w in unit:
                for n in self._word(w):
                    matched.setdefault(n, []).append(w)
            for n, score in self._phrase(unit, self._word).items():
                scores[n] = scores.get(n, 0.0) + score / len(unit)
                concepts.setdefault(n, set()).add(u)
        for group, cover in zip(q.groups, q.covers, strict=True):
            best: dict[int, float] = {}
            for phrase in group:
                for n, score in self._phrase(phrase, self._scores).items():
                    best[n] = max(best.get(n, 0.0), score)
            for n, score in best.items():
                scores[n] = scores.get(n, 0.0) + EXPANSION_WEIGHT * score
                concepts.setdefault(n, set()).update(cover)
        if n_concepts > 1:
            for n in scores:
                scores[n] *= (len(concepts[n]) / n_concepts) ** COORDINATION
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], self.ids[kv[0]]))
        return [
            Scored(self.ids[n], round(s, 4), tuple(matched.get(n, ())))
            for n, s in ranked
            if allowed is None or self.ids[n] in allowed
        ]
