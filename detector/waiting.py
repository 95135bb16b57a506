"""Lines a replay has not evaluated yet, and the last moment they may wait for a tick.

A line that no detector needs at once (`Detector.needs_tick`) waits for the next
tick. How long depends on what it is a line of: the silence detector learns the
rhythm of each service on each host and of each host, and a service on a host can
fall due no sooner than `min_silent_minutes` after that service's own last line
there (a heartbeat's pair, its `every` + grace + 1), a host after its own. So the
lines may wait until the earliest of those moments over everything they are lines
of: a service that logs every few minutes keeps its moment moving, one that stopped
keeps it where its last line put it. `Detector.waits` names, for the rows of a
window, what each is a line of (a key), its minute and those minutes.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable
from datetime import UTC, datetime

#: (what a row is a line of, the row's epoch minute, the minutes after it before that
#: can fall due).
Wait = tuple[Hashable, int, int]


class WaitingLines:
    """The waits of the lines not yet evaluated: for each key the latest minute after
    which it may fall due (`deadline`, the earliest over the keys)."""

    __slots__ = ("_due", "_heap", "_seq")

    def __init__(self) -> None:
        self._due: dict[Hashable, int] = {}
        # (due, seq, key), one entry per key; a key's entry may be older (earlier) than
        # its due in `_due`, and is renewed when it comes to the top.
        self._heap: list[tuple[int, int, Hashable]] = []
        self._seq = 0

    def add(self, waits: Iterable[Wait]) -> None:
        due = self._due
        for key, minute, minutes in waits:
            at = minute + minutes
            known = due.get(key)
            if known is None:
                due[key] = at
                self._seq += 1
                heapq.heappush(self._heap, (at, self._seq, key))
            elif at > known:
                due[key] = at

    def deadline(self) -> datetime | None:
        """When the first key may fall due (the start of that epoch minute), or None
        without keys."""
        heap, due = self._heap, self._due
        while heap:
            at, _, key = heap[0]
            now = due[key]
            if now == at:
                return datetime.fromtimestamp(at * 60, tz=UTC)
            self._seq += 1
            heapq.heapreplace(heap, (now, self._seq, key))
        return None

    def clear(self) -> None:
        self._due.clear()
        self._heap.clear()

    def __len__(self) -> int:
        return len(self._due)
