"""`RepeatMemo`: the answers of a pure function for the keys seen lately.

Logs repeat their messages word for word: three lines in four of an SSH server's
auth log, two in three of a kernel log or a honeypot's JSON log, half of a whole
machine's syslog, but one in twenty of a firewall's (each line names other ports)
and none of raw lines that start with their time stamp. What a line costs that is
a function of its text alone (its level words, its secrets) is paid once per
message where messages repeat. Where they do not, the memo measures it (fewer than
`MIN_SHARE` hits in a sample of asks) and stops looking for a while, so such a log
pays almost nothing for it. (The noise rules were measured too: a memo keyed on the
message, service and host cost more than the rules.)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

#: Keys remembered at most (then forgotten all at once: a log's repeated messages
#: come back within a few thousand lines).
SIZE = 4096
#: Longer messages are not kept (a few MB at most; long lines seldom repeat).
MAX_KEY_CHARS = 1024
#: Asks over which the share of hits is measured.
SAMPLE = 4096
#: Below this share of hits in a sample, the memo is not asked for `PAUSE` asks. A hit
#: saves a search of 1 to 3 us (level words, secrets), a miss costs about 0.2 us: the
#: memo pays from about one hit in ten; it stays from one in five.
MIN_SHARE = 0.2
PAUSE = 16 * SAMPLE


class RepeatMemo[K: Hashable, V]:
    """A bounded memo that gets out of the way where keys do not repeat. `get` answers
    None for a key it does not hold (values are never None)."""

    __slots__ = ("_asks", "_hits", "_known", "_paused", "size")

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._known: dict[K, V] = {}
        self._asks = 0
        self._hits = 0
        self._paused = 0  # asks left before the memo looks again

    @property
    def paused(self) -> bool:
        return self._paused > 0

    def get(self, key: K) -> V | None:
        if self._paused:
            self._paused -= 1
            return None
        value = self._known.get(key)
        if value is not None:
            self._hits += 1
        self._asks += 1
        if self._asks >= SAMPLE:
            if self._hits < MIN_SHARE * SAMPLE:
                self._paused = PAUSE
                self._known.clear()
            self._asks = self._hits = 0
        return value

    def put(self, key: K, value: V) -> None:
        """Remember `value` for `key` (unless paused)."""
        if self._paused:
            return
        known = self._known
        if len(known) >= self.size:
            known.clear()
        known[key] = value


def answered(memo: RepeatMemo[str, str], text: str, compute: Callable[[str], str]) -> str:
    """`compute(text)`, asked of `memo` first: once per text that repeats (a text longer
    than `MAX_KEY_CHARS` is computed every time: long lines seldom repeat)."""
    if len(text) > MAX_KEY_CHARS:
        return compute(text)
    value = memo.get(text)
    if value is None:
        value = compute(text)
        memo.put(text, value)
    return value


def remembered(seen: dict[str, bool], name: str, test: Callable[[str], object], limit: int) -> bool:
    """Whether `test(name)` holds (a match, a truth), remembered in `seen`: a log names
    few services, hosts and fields, over and over. `seen` is emptied when it holds
    `limit` names, so a stream of made-up names cannot grow it."""
    known = seen.get(name)
    if known is None:
        if len(seen) >= limit:
            seen.clear()
        known = seen[name] = bool(test(name))
    return known
