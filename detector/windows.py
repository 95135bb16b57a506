"""Where a tick's window comes from: the store, or the replay's own counts.

`StoreWindows` reads the per-minute counts, template texts, first sightings and
source health from SQL: what the daemon does, since other processes write its
store. `RecentWindows` builds the same `Window` from what the replay's ingestor
has just counted (`logvigil.ingest.recent`), with no flush and no query per
tick; a replay is the only writer of its store, so the two give the same window
(tests/detector/test_windows.py compares them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine, bindparam, select, type_coerce
from sqlalchemy.types import NullType

from detector.detectors.base import CountRow, ServiceInfo, Window
from logvigil.core.events import Severity
from logvigil.ingest.recent import RecentCounts
from logvigil.store.schema import MinuteCount, ServiceTemplate, Template
from logvigil.store.source_health import SourceHealthRecord, read_source_health

_SEVERITIES = tuple(Severity)

Services = Callable[[], Mapping[str, ServiceInfo]]


class WindowReader(Protocol):
    def read(self, start: datetime, end: datetime) -> Window:
        """The window of whole minutes `[start, end)`."""
        ...

    def prefetch(self, start: datetime, end: datetime) -> None:
        """The next reads fall inside `[start, end)`, in order: read it at once if
        that is cheaper."""
        ...


class _RawTime:
    """Converts raw database timestamps (SQLite text, naive datetimes) to aware UTC,
    parsing each distinct value once."""

    def __init__(self) -> None:
        self.seen: dict[Any, datetime] = {}

    def __call__(self, raw: Any) -> datetime:
        hit = self.seen.get(raw)
        if hit is None:
            value = raw if isinstance(raw, datetime) else datetime.fromisoformat(raw)
            hit = self.seen[raw] = value.replace(tzinfo=UTC)
        return hit


_COUNTS = (
    select(
        type_coerce(MinuteCount.minute, NullType()),
        MinuteCount.host,
        MinuteCount.service,
        MinuteCount.template_id,
        MinuteCount.severity,
        MinuteCount.count,
        Template.template,
    )
    .join(Template, Template.id == MinuteCount.template_id)
    .where(
        MinuteCount.minute >= bindparam("start", type_=MinuteCount.minute.type),
        MinuteCount.minute < bindparam("end", type_=MinuteCount.minute.type),
    )
)
_FIRST_SEEN = select(
    ServiceTemplate.service,
    ServiceTemplate.template_id,
    type_coerce(ServiceTemplate.first_seen, NullType()),
).where(
    ServiceTemplate.first_seen >= bindparam("start", type_=ServiceTemplate.first_seen.type),
    ServiceTemplate.first_seen < bindparam("end", type_=ServiceTemplate.first_seen.type),
)


def _row_key(row: CountRow) -> tuple[datetime, str, str, int, int]:
    return (row.minute, row.host, row.service, row.template_id, row.severity)


class StoreWindows:
    """Windows read from the store: one joined query, raw timestamps parsed once per
    distinct minute (a window of 20,000 rows has only a handful of minutes), rows in
    key order (minute, host, service, template, severity)."""

    def __init__(self, engine: Engine, services: Services) -> None:
        self.engine = engine
        self.services = services
        self._prefetched: Window | None = None

    def prefetch(self, start: datetime, end: datetime) -> None:
        """One query for many ticks over stored minutes costs what one tick's costs.
        Valid until a read outside it."""
        self._prefetched = self._read(start, end)

    def read(self, start: datetime, end: datetime) -> Window:
        pre = self._prefetched
        if pre is not None and pre.start <= start and end <= pre.end:
            if end == pre.end:  # the last tick of the batch
                self._prefetched = None
            return pre.part(start, end)
        self._prefetched = None
        return self._read(start, end)

    def _read(self, start: datetime, end: datetime) -> Window:
        to_utc = _RawTime()
        templates: dict[int, str] = {}
        rows: list[CountRow] = []
        append = rows.append
        span = {"start": start, "end": end}
        with self.engine.connect() as conn:
            seen = to_utc.seen
            for minute, host, service, tid, sev, count, text in conn.execute(_COUNTS, span):
                ts = seen.get(minute) or to_utc(minute)
                append(CountRow(ts, host, service, tid, _SEVERITIES[sev], count))
                templates[tid] = text
            # In key order, whatever order the backend returns (MariaDB's is arbitrary
            # within a minute): the same window on every backend and in memory.
            rows.sort(key=_row_key)
            new_pairs = {
                (service, tid): to_utc(first)
                for service, tid, first in conn.execute(_FIRST_SEEN, span)
            }
            sources = tuple(read_source_health(conn))
        return Window(
            start=start,
            end=end,
            rows=tuple(rows),
            templates=templates,
            new_pairs=new_pairs,
            services=dict(self.services()),
            sources=sources,
        )


class RecentWindows:
    """Windows of what a replay's ingestor counted (`RecentCounts`), never read back.

    `text_of` gives a template's current text (the miner's); `sources` are the
    sources' health records, which nothing changes during a replay.
    """

    def __init__(
        self,
        recent: RecentCounts,
        text_of: Callable[[int], str],
        services: Services,
        sources: Sequence[SourceHealthRecord] = (),
    ) -> None:
        self.recent = recent
        self.text_of = text_of
        self.services = services
        self.sources = tuple(sources)

    def prefetch(self, start: datetime, end: datetime) -> None:
        """Nothing to do: the counts are in memory."""

    def read(self, start: datetime, end: datetime) -> Window:
        taken = self.recent.take(start, end)
        templates: dict[int, str] = {}
        rows = []
        for (minute, host, service, tid, sev), n in taken.counts:
            rows.append(CountRow(minute, host, service, tid, _SEVERITIES[sev], n))
            if tid not in templates:
                templates[tid] = self.text_of(tid)
        return Window(
            start=start,
            end=end,
            rows=tuple(rows),
            templates=templates,
            new_pairs=taken.first_seen,
            services=dict(self.services()),
            sources=self.sources,
        )

    def fresh(self, start: datetime, end: datetime) -> Window:
        """A window of the (minute, host, service, template, severity) keys counted for
        the first time since the last call, each with a count of 1, and every pending
        first sighting; nothing is taken. What `Ticker.needs_tick` asks about: a line
        seen again in a minute already asked about tells nothing new."""
        keys, first = self.recent.fresh()
        rows = [CountRow(m, host, svc, tid, _SEVERITIES[sev], 1) for m, host, svc, tid, sev in keys]
        return Window(
            start=start,
            end=end,
            rows=tuple(rows),
            templates=_Texts({r.template_id for r in rows}, self.text_of),
            new_pairs=first,
            services=dict(self.services()),
            sources=self.sources,
        )


class _Texts(Mapping[int, str]):
    """The texts of templates `tids`, each read from the miner when asked: most of
    `RecentWindows.fresh`'s questions are answered by severities and first sightings."""

    def __init__(self, tids: set[int], text_of: Callable[[int], str]) -> None:
        self._tids, self._text_of = tids, text_of

    def __getitem__(self, tid: int) -> str:
        if tid not in self._tids:
            raise KeyError(tid)
        return self._text_of(tid)

    def __iter__(self) -> Iterator[int]:
        return iter(self._tids)

    def __len__(self) -> int:
        return len(self._tids)
