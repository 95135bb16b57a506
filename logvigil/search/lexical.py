"""Lexical template search: BM25 over template text, in an operator's words. Pure, no I/O.

A template is a document of two fields: its text (the mined template, placeholders
`<*>` and pure numbers dropped: they say nothing an operator would type) and the
names of the services and programs that log it (`nginx`, `postgres`). Both are
cut into lowercase words and stemmed (Snowball's English stemmer: `killed`,
`kills` and `killing` are one word), and scored with BM25 (k1 1.2, b 0.75); a
word found in the names counts `NAME_BOOST` times, since "postgres killed" names
the service first, and a typed word of `MIN_PREFIX` letters or more stands for
its daemon's name too ("ssh" for `sshd`: Unix names a daemon with a trailing d).

Operators do not write what programs write: "disk full" is logged as "No space
left on device", "brute force" as "Failed password ... invalid user". So a query
is expanded with `THESAURUS`, a short list of the words programs use for the
symptoms people name (the kernel, libc's `strerror`, OpenSSH, systemd, the
usual daemons); each entry the query holds counts as one word at
`EXPANSION_WEIGHT` (its best word in the template, as search engines blend
synonyms into one term). The
list is general sysadmin knowledge written before any query set was measured;
it is not tuned to one.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

K1 = 1.2
B = 0.75
#: How much more a word counts in the names (services, programs) than in the text.
NAME_BOOST = 2.0
#: Letters a typed word needs to stand for its daemon's name (`ssh` for `sshd`).
MIN_PREFIX = 3
#: How much a word added by the thesaurus counts against a word typed.
EXPANSION_WEIGHT = 0.5

_WORD = re.compile(r"[a-z][a-z0-9_]*[a-z0-9]|[a-z]")
#: Words that say nothing in a search (English function words; never log vocabulary).
STOPWORDS = frozenset(
    "a an and are as at be by did do does for from had has have how i in is it its me my "
    "no not of on or our that the their them then there these this those to was we were "
    "what when where which who why will with you your can t s".split()
)

#: An operator's words -> the words programs write for that symptom. Keys and values are
#: phrases; each is cut into words and stemmed like everything else.
THESAURUS: dict[str, tuple[str, ...]] = {
    "disk full": ("no space left on device", "enospc", "filesystem full", "quota exceeded"),
    "full": ("no space left", "enospc"),
    "disk": ("filesystem", "device", "space", "mount", "sda", "nvme", "ext4", "xfs"),
    "out of memory": ("oom", "oom-kill", "killed process", "memory cgroup"),
    "memory": ("oom", "oom-kill", "killed process"),
    "oom": ("out of memory", "killed process", "oom-kill"),
    "killed": ("oom", "oom-kill", "sigkill", "signal 9", "terminated"),
    "crash": ("segfault", "core dumped", "panic", "killed", "aborted", "main process exited"),
    "crashed": ("segfault", "core dumped", "panic", "killed", "main process exited"),
    "brute force": (
        "failed password",
        "invalid user",
        "authentication failure",
        "maximum authentication attempts",
    ),
    "login": ("session opened", "accepted password", "accepted publickey", "authentication"),
    "logins": ("session opened", "accepted password", "accepted publickey"),
    "ssh": ("sshd",),
    "password": ("authentication", "failed password"),
    "reboot": ("boot", "booting", "linux version", "shutdown", "power", "systemd"),
    "rebooted": ("boot", "booting", "linux version", "shutdown"),
    "restart": ("restarted", "starting", "started", "stopping", "scheduled restart"),
    "restarted": ("restart", "starting", "started", "stopping"),
    "down": ("refused", "unreachable", "timed out", "failed", "stopped", "inactive"),
    "unreachable": ("refused", "no route to host", "timed out", "unreachable"),
    "can't reach": ("connect", "refused", "unreachable", "timed out", "upstream"),
    "cannot reach": ("connect", "refused", "unreachable", "timed out", "upstream"),
    "reach": ("connect", "connection"),
    "slow": ("timeout", "timed out", "latency", "took", "slow"),
    "timeout": ("timed out", "time out"),
    "backend": ("upstream",),
    "database": ("postgres", "postgresql", "mysql", "mariadb", "sql", "db"),
    "db": ("database", "postgres", "postgresql", "mysql", "mariadb"),
    "web": ("nginx", "apache", "http", "upstream"),
    "permission": ("permission denied", "eacces", "not permitted"),
    "denied": ("permission denied", "refused", "forbidden"),
    "cert": ("certificate", "tls", "ssl", "expired"),
    "certificate": ("tls", "ssl", "x509", "expired"),
    "dns": ("resolve", "resolution", "name or service not known", "nxdomain", "servfail"),
    "network": ("link", "eth0", "nic", "carrier", "unreachable"),
    "scan": ("invalid user", "did not receive identification", "connection closed", "ufw block"),
    "scanner": ("invalid user", "did not receive identification", "connection closed"),
    "firewall": ("ufw", "iptables", "nftables", "block", "drop"),
    "cron": ("cmd", "crond", "anacron"),
    "job": ("cmd", "cron", "timer", "unit"),
    "jobs": ("cmd", "cron", "timer"),
    "failed": ("failure", "error", "failed"),
    "fail": ("failed", "failure", "error"),
    "error": ("failed", "failure", "fatal"),
    "errors": ("failed", "failure", "fatal", "error"),
    "hang": ("hung", "blocked for more than", "stuck", "not responding", "timed out"),
    "hangs": ("hung", "blocked for more than", "stuck", "not responding", "timed out"),
    "io": ("i/o error", "blk_update_request", "buffer i/o"),
    "corruption": ("corrupt", "checksum", "fsck", "journal"),
    "temperature": ("thermal", "temperature above threshold", "throttled"),
    "overheating": ("thermal", "temperature above threshold", "throttled"),
    "usb": ("usb", "new device", "disconnect"),
    "service": ("unit", "systemd"),
    # systemd names its units `x.service`, `x.timer`, ...: "unit" is rarely in the line.
    "unit": ("service", "timer", "socket", "mount"),
    "systemd": ("service", "unit"),
    "boot": ("startup", "booting", "linux version", "kernel command line"),
    "online": ("ready", "started", "listening", "accept connections", "up"),
    "back up": ("ready", "started", "listening", "accept connections", "resumed"),
    "logged in": ("session opened", "accepted password", "accepted publickey"),
    "key": ("publickey", "host key"),
    "username": ("user",),
    "usernames": ("user",),
    "made up": ("invalid", "unknown", "illegal"),
    "fake": ("invalid", "unknown", "illegal"),
    "bad gateway": ("upstream", "prematurely closed", "connect() failed", "no live upstreams"),
    "gateway": ("upstream",),
    "did run": ("finished", "completed", "succeeded", "saved", "done"),
    "run": ("finished", "completed", "succeeded", "saved", "done", "started"),
    "standby": ("suspend", "resume", "resumed", "sleep"),
    "sleep": ("suspend", "resume", "resumed"),
    "woke": ("resume", "resumed", "wake", "suspend exit"),
    "suspend": ("sleep", "resume", "resumed"),
    "how long": ("finished in", "took", "elapsed", "duration"),
}


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


#: Each word seen -> its stem, or "" for a stop word (a log's vocabulary is small).
_STEMS: dict[str, str] = dict.fromkeys(STOPWORDS, "")


def words(text: str) -> list[str]:
    """The stemmed search words of `text`: lowercase, placeholders, numbers and stop
    words dropped."""
    stems = _STEMS
    out = []
    for w in _WORD.findall(text.lower().replace("<*>", " ")):
        stem = stems.get(w)
        if stem is None:
            stem = stems[w] = str(_stemmer().stemWord(w))
        if stem:
            out.append(stem)
    return out


@dataclass(frozen=True, slots=True)
class Query:
    """A query as searched: the words typed, and the thesaurus' groups of words it adds."""

    typed: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...]


def expand(query: str) -> Query:
    """`query`'s stemmed words, and one group of words for each thesaurus entry whose
    phrase it holds (as stemmed words, in order), without the words typed."""
    typed = tuple(dict.fromkeys(words(query.replace("'", ""))))
    padded = f" {' '.join(typed)} "
    groups = []
    for key, said in _thesaurus():
        if f" {key} " in padded:
            group = tuple(w for w in dict.fromkeys(said) if w not in typed)
            if group:
                groups.append(group)
    return Query(typed, tuple(groups))


@lru_cache(maxsize=1)
def _thesaurus() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`THESAURUS` in stemmed words: (the phrase's words joined, the words it adds)."""
    return tuple(
        (" ".join(words(phrase.replace("'", ""))), tuple(w for s in said for w in words(s)))
        for phrase, said in THESAURUS.items()
    )


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
        self._docs: list[Counter[str]] = []
        self._postings: dict[str, dict[int, float]] = {}  # filled per word searched
        self._names: set[str] = set()
        name_words: dict[str, list[str]] = {}
        lengths: list[int] = []
        for doc in documents:
            self.ids.append(doc.id)
            text = words(doc.text)
            tf: Counter[str] = Counter(text)
            for name in doc.names:
                said = name_words.get(name)
                if said is None:
                    said = name_words[name] = words(re.sub(r"[-.@]", " ", name))
                    self._names.update(said)
                for w in said:
                    tf[w] = tf.get(w, 0) + NAME_BOOST  # not Counter's slow __missing__
            self._docs.append(tf)
            lengths.append(len(text) + 1)
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

    def _with_names(self, typed: tuple[str, ...]) -> tuple[str, ...]:
        """`typed` and the daemons a typed word names (`ssh` is `sshd`, `cron` is `crond`):
        people type a program's name without the `d` Unix gives its daemon."""
        out = dict.fromkeys(typed)
        for w in typed:
            if len(w) >= MIN_PREFIX and f"{w}d" in self._names:
                out[f"{w}d"] = None
        return tuple(out)

    def _scores(self, word: str) -> dict[int, float]:
        """BM25's score of `word` in each document that holds it."""
        postings = self._postings_of(word)
        if not postings:
            return {}
        n_docs = len(self.ids)
        idf = math.log(1 + (n_docs - len(postings) + 0.5) / (len(postings) + 0.5))
        avg, lengths = self._avg, self._lengths
        return {
            n: idf * f * (K1 + 1) / (f + K1 * (1 - B + B * lengths[n] / avg))
            for n, f in postings.items()
        }

    def search(self, query: str, *, allowed: set[int] | None = None) -> list[Scored]:
        """Every document that holds a word of `query` (of `allowed` ids, when given),
        best first; ties go to the lower id (the older template).

        Typed words add up (BM25). Each thesaurus group counts as one word, at
        `EXPANSION_WEIGHT`: its best-scoring word in the document, as a search engine
        blends synonyms into one term, so that an entry with many words cannot
        outweigh what was typed."""
        q = expand(query)
        scores: dict[int, float] = {}
        matched: dict[int, list[str]] = {}
        for w in self._with_names(q.typed):
            for n, score in self._scores(w).items():
                scores[n] = scores.get(n, 0.0) + score
                matched.setdefault(n, []).append(w)
        for group in q.groups:
            best: dict[int, float] = {}
            for w in group:
                for n, score in self._scores(w).items():
                    best[n] = max(best.get(n, 0.0), score)
            for n, score in best.items():
                scores[n] = scores.get(n, 0.0) + EXPANSION_WEIGHT * score
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], self.ids[kv[0]]))
        return [
            Scored(self.ids[n], round(s, 4), tuple(matched.get(n, ())))
            for n, s in ranked
            if allowed is None or self.ids[n] in allowed
        ]
