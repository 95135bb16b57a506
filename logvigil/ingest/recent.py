"""What the ingestor counted since the detectors last looked, kept in memory.

A replay is the only writer of its store and evaluates its lines minute by minute
as it reads them, so the per-minute counts a tick needs are the ones the ingestor
has just made: reading them back from the store costs a flush and a query per
tick, which on a sparse log (one line in a minute, hours apart) is most of the
work. `RecentCounts` records each kept line's (minute, host, service, template,
severity) count and each (service, template) pair's first sighting as the
ingestor adds it; `take` hands over whole minutes once and forgets them, so it
holds only the minutes not yet evaluated. A daemon does not use it: other
processes write its store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from logvigil.store.schema import ServiceTemplate

#: (minute, host, service, template id, severity): the key of a per-minute count.
CountKey = tuple[datetime, str, str, int, int]


@dataclass(frozen=True, slots=True)
class Taken:
    """The counts of whole minutes `[start, end)` and the pairs first seen in them."""

    counts: list[tuple[CountKey, int]]
    first_seen: dict[tuple[str, int], datetime]


class RecentCounts:
    """Counts and first sightings not yet handed to a tick. Not thread-safe."""

    def __init__(self, known_pairs: Iterable[tuple[str, int]] = ()) -> None:
        """`known_pairs`: the (service, template) pairs already in the store, which are
        never first seen again."""
        self._counts: Counter[CountKey] = Counter()
        self._seen: set[tuple[str, int]] = set(known_pairs)
        self._first: dict[tuple[str, int], datetime] = {}
        #: The keys counted for the first time since `fresh` last handed them over.
        self._fresh: list[CountKey] = []

    @classmethod
    def of_store(cls, engine: Engine) -> RecentCounts:
        """Counts for a replay into `engine`, whose stored pairs are not new."""
        with engine.connect() as conn:
            known = conn.execute(select(ServiceTemplate.service, ServiceTemplate.template_id))
            return cls((service, tid) for service, tid in known)

    def add(self, key: CountKey, ts: datetime) -> None:
        """Count one line of `key`, written at `ts`."""
        counts = self._counts
        n = counts.get(key)
        if n is None:
            counts[key] = 1
            self._fresh.append(key)
        else:
            counts[key] = n + 1
        pair = (key[2], key[3])
        if pair not in self._seen:
            self._seen.add(pair)
            self._first[pair] = ts
        elif pair in self._first and ts < self._first[pair]:
            self._first[pair] = ts  # a line written earlier came later: the store keeps the min

    def take(self, start: datetime, end: datetime) -> Taken:
        """The counts of the minutes in `[start, end)`, in key order, and the pairs first
        seen in that span; everything before `end` is forgotten (a minute before
        `start` was skipped by the tick and is never evaluated, as in the store)."""
        counts = [(k, n) for k, n in self._counts.items() if k[0] < end]
        for k, _ in counts:
            del self._counts[k]
        counts = sorted((k, n) for k, n in counts if k[0] >= start)
        first = {p: t for p, t in self._first.items() if t < end}
        for p in first:
            del self._first[p]
        if self._fresh:
            self._fresh = [k for k in self._fresh if k[0] >= end]
        return Taken(counts, {p: t for p, t in first.items() if t >= start})

    def fresh(self) -> tuple[list[CountKey], dict[tuple[str, int], datetime]]:
        """The keys counted for the first time since the last call (or the last `take`
        of their minutes), and every first sighting not yet taken: what a replay asks
        the detectors about before it decides to tick (`Ticker.needs_tick`)."""
        keys, self._fresh = self._fresh, []
        return keys, dict(self._first)

    def __len__(self) -> int:
        """Count keys held (bounded by the minutes not yet evaluated)."""
        return len(self._counts)
