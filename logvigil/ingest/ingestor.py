"""Ingest: events -> noise rules -> template miner -> store, in batches.

`Ingestor.feed` takes what a reader yields (events and rejections), applies the
noise rules, mines a template id for each kept event and accumulates, per
batch, the raw events, per-minute counts and per-template statistics. `flush`
writes one batch in one transaction, together with the counters and the
source's cursor, so a crash loses at most the unflushed batch and never stores
half of one. Memory is bounded by the batch size, whatever the input size.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from logvigil.core.events import LogEvent, Rejected
from logvigil.core.memo import RepeatMemo, answered
from logvigil.core.redact import redact, redact_fields
from logvigil.core.timeutil import EARLIEST, floor_minute
from logvigil.ingest.formats._common import DST, UNTIMED
from logvigil.ingest.noise import KEEP, NoiseAction, NoiseFilter
from logvigil.ingest.recent import RecentCounts
from logvigil.ingest.templates import TemplateMiner
from logvigil.store.bulk import executemany, shared_datetimes
from logvigil.store.database import StoreError, describe_db_error
from logvigil.store.schema import (
    Counter as CounterRow,
)
from logvigil.store.schema import (
    Event,
    IngestCursor,
    MinuteCount,
    Rejection,
    ServiceTemplate,
    Template,
)
from logvigil.store.upsert import upsert

#: The counter key of lines with no time of their own (`stats` shows it).
UNTIMED_KEY = "no time stamp: placed at the time of reading"
#: Rows flushed per transaction: large enough to amortise commits, small enough for memory.
DEFAULT_BATCH_SIZE = 20000
#: Rows per transaction of a bulk load (`logvigil ingest`), which holds nothing else in
#: memory: a template's row is written once for more lines (1M lines from 10,000
#: templates: 164,000 template rows upserted instead of 271,000), for about 30 MB more.
BULK_BATCH_SIZE = 50_000
#: Rejected lines kept as samples per batch (all of them are counted).
REJECTION_SAMPLES_PER_BATCH = 100
#: A reason that is not an error: blank lines are skipped and counted apart.
EMPTY_LINE = "empty line"

_ONE_MINUTE = timedelta(minutes=1)

#: The columns of an event's row, in the order of `_Batch.events`' tuples.
EVENT_COLUMNS = (
    "ts", "host", "service", "severity", "template_id", "message", "source", "attributes",
    "truncated",
)  # fmt: skip

_QUOTED = re.compile(r"\s*'[^']*'|\s*\"[^\"]*\"")


def reason_category(reason: str) -> str:
    """The counter key of a rejection reason: its head, without quoted values.

    "unparsable timestamp 'xyz' in field ts" -> "unparsable timestamp in field ts";
    "malformed JSON: Expecting value" -> "malformed JSON".
    """
    head = reason.split(":", 1)[0]
    return _QUOTED.sub("", head).strip()[:200] or "rejected"


@dataclass
class IngestSummary:
    """What one ingest run did; also what `logvigil ingest` prints."""

    lines: int = 0
    events: int = 0
    skipped_empty: int = 0
    truncated: int = 0
    #: Lines whose secrets were redacted before they were mined and stored.
    redacted: int = 0
    new_templates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    downgraded: Counter[str] = field(default_factory=Counter)
    #: Local times read by a daylight-saving rule: `dst_overlap`, `dst_gap`.
    time_adjusted: Counter[str] = field(default_factory=Counter)
    #: Lines with no time of their own, placed at the time of reading (`UNTIMED`).
    untimed: int = 0
    rejection_samples: list[Rejected] = field(default_factory=list)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())


class _Batch:
    """Accumulated rows of one transaction."""

    def __init__(self) -> None:
        #: Rows of the events table, as tuples in the order of EVENT_COLUMNS.
        self.events: list[tuple] = []
        self.minutes: Counter[tuple] = Counter()
        self.template_text: dict[int, str] = {}
        # (service, template id) -> [first, last, count, max severity]; a template's own
        # are these summed over its services when written (`_template_stats`).
        self.service_templates: dict[tuple[str, int], list] = {}
        self.counters: Counter[tuple[str, str]] = Counter()
        self.rejections: list[Rejected] = []
        self.cursors: dict[str, str] = {}
        #: The sum of `counters`, kept as they grow: the length is asked after every line.
        self.counted = 0

    def count(self, name: str, key: str) -> None:
        self.counters[name, key] += 1
        self.counted += 1

    def __len__(self) -> int:
        return len(self.events) + len(self.rejections) + self.counted


def _touch(stats: dict, key, first: datetime, last: datetime, count: int, severity: int) -> None:
    """Fold `count` lines from `first` to `last`, the worst of `severity`, into the
    [first, last, count, max severity] of `key` (a line: its time twice and 1)."""
    s = stats.get(key)
    if s is None:
        stats[key] = [first, last, count, severity]
        return
    if first < s[0]:
        s[0] = first
    if last > s[1]:
        s[1] = last
    s[2] += count
    if severity > s[3]:
        s[3] = severity


class Ingestor:
    """Feeds events into the store. Not thread-safe: one per ingest loop."""

    def __init__(
        self,
        engine: Engine,
        noise: NoiseFilter,
        *,
        miner: TemplateMiner | None = None,
        attribute: Callable[[LogEvent], str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        store_events: bool = True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.noise = noise
        self.miner = miner if miner is not None else TemplateMiner(templates=load_templates(engine))
        self.attribute = attribute
        self.batch_size = batch_size
        self.store_events = store_events
        self.clock = clock
        self.summary = IngestSummary()
        #: Also counts kept lines here, for a replay's ticks (`logvigil.ingest.recent`).
        self.recent: RecentCounts | None = None
        self._batch = _Batch()
        # The minute of the last event and the next one's start: most events fall in
        # the minute of the one before.
        self._minute = self._next_minute = EARLIEST
        self._redacted: RepeatMemo[str, str] = RepeatMemo()

    def feed(self, items: Iterable[LogEvent | Rejected]) -> IngestSummary:
        """Ingest everything `items` yields, flushing every `batch_size` rows."""
        for item in items:
            self.add(item)
            self.maybe_flush()
        return self.summary

    def maybe_flush(self) -> None:
        """Flush when the batch is full."""
        if len(self._batch) >= self.batch_size:
            self.flush()

    def add(self, item: LogEvent | Rejected) -> None:
        summary, batch = self.summary, self._batch
        summary.lines += 1
        if isinstance(item, Rejected):
            if item.reason == EMPTY_LINE:
                summary.skipped_empty += 1
                batch.count("skipped", EMPTY_LINE)
                return
            category = reason_category(item.reason)
            summary.rejected[category] += 1
            batch.count("rejected", category)
            if len(summary.rejection_samples) < 20:
                summary.rejection_samples.append(item)
            if len(batch.rejections) < REJECTION_SAMPLES_PER_BATCH:
                batch.rejections.append(item)
            return

        event = item
        if self.attribute is not None:
            service = self.attribute(event)
            if service != event.service:
                event = replace(event, service=service)
        decision = self.noise.apply(event)
        severity = event.severity
        if decision is not KEEP:
            if decision.action is NoiseAction.DROP:
                summary.dropped[decision.rule] += 1
                batch.count("noise_dropped", decision.rule)
                return
            summary.downgraded[decision.rule] += 1
            batch.count("noise_downgraded", decision.rule)
            severity = decision.severity

        # A secret in a line is redacted before it is mined or stored: a template
        # masked around a token would keep its tail beyond any later redaction.
        # So are a record's other fields, stored as its attributes.
        message = event.message
        redacted = answered(self._redacted, message, redact)  # once per repeated message
        fields = redact_fields(event.attributes) if event.attributes else None
        if (redacted is not message and redacted != message) or fields is not None:
            event = replace(
                event, message=redacted, attributes=event.attributes if fields is None else fields
            )
            summary.redacted += 1
            batch.count("redacted", "secret in the line")
        match = self.miner.add(event.message)
        tid = match.template_id
        if match.created:
            summary.new_templates += 1
        ts, sev = event.ts, int(severity)
        batch.template_text[tid] = match.template
        _touch(batch.service_templates, (event.service, tid), ts, ts, 1, sev)
        if not self._minute <= ts < self._next_minute:
            self._minute = floor_minute(ts)
            try:
                self._next_minute = self._minute + _ONE_MINUTE
            except OverflowError:  # the last minute of year 9999: no next one to reuse
                self._next_minute = self._minute
        key = (self._minute, event.host, event.service, tid, sev)
        batch.minutes[key] += 1
        if self.recent is not None:
            self.recent.add(key, ts)
        if event.truncated:
            summary.truncated += 1
        attrs = event.attributes
        if attrs:
            dst = attrs.get(DST)
            if dst is not None:  # a local time in a daylight-saving change, read by the rule
                summary.time_adjusted[dst] += 1
                batch.count("time_adjusted", dst)
            if UNTIMED in attrs:
                summary.untimed += 1
                batch.count("untimed", UNTIMED_KEY)
        summary.events += 1
        if self.store_events:
            batch.events.append(
                (
                    ts,
                    event.host,
                    event.service,
                    sev,
                    tid,
                    event.message,
                    event.source,
                    dict(event.attributes) if event.attributes else None,
                    event.truncated,
                )
            )

    def set_cursor(self, source: str, cursor: str) -> None:
        """Record where `source` resumes; written with the next flush."""
        self._batch.cursors[source] = cursor

    def flush(self) -> None:
        """Write the accumulated batch in one transaction.

        Raises StoreError (readable, no password) when the database refuses;
        the batch is then kept so the caller may retry, and nothing of it is
        half-written.
        """
        batch = self._batch
        if not len(batch) and not batch.cursors and not batch.service_templates:
            return
        self.miner.take_dirty()
        now = self.clock()
        try:
            with self.engine.begin() as conn, shared_datetimes():
                _write(conn, batch, now)
        except DBAPIError as exc:
            raise StoreError(
                describe_db_error(exc, self.engine.url.render_as_string(hide_password=False))
            ) from None
        self._batch = _Batch()

    def close(self) -> IngestSummary:
        self.flush()
        return self.summary


def _template_stats(per_service: dict[tuple[str, int], list]) -> dict[int, list]:
    """Each template's [first, last, count, max severity] over its services' (one add
    per line instead of two: a template is mostly logged by one service)."""
    stats: dict[int, list] = {}
    for (_, tid), (first, last, count, severity) in per_service.items():
        _touch(stats, tid, first, last, count, severity)
    return stats


def _write(conn, batch: _Batch, now: datetime) -> None:
    upsert(
        conn,
        Template.__table__,
        [
            {
                "id": tid,
                "template": batch.template_text[tid],
                "first_seen": s[0],
                "last_seen": s[1],
                "count": s[2],
                "max_severity": s[3],
            }
            for tid, s in sorted(_template_stats(batch.service_templates).items())
        ],
        {
            "template": "replace",
            "first_seen": "min",
            "last_seen": "max",
            "count": "add",
            "max_severity": "max",
        },
    )
    upsert(
        conn,
        ServiceTemplate.__table__,
        [
            {
                "service": key[0],
                "template_id": key[1],
                "first_seen": s[0],
                "last_seen": s[1],
                "count": s[2],
                "max_severity": s[3],
            }
            for key, s in sorted(batch.service_templates.items())
        ],
        {"first_seen": "min", "last_seen": "max", "count": "add", "max_severity": "max"},
    )
    upsert(
        conn,
        MinuteCount.__table__,
        [
            {
                "minute": k[0],
                "host": k[1],
                "service": k[2],
                "template_id": k[3],
                "severity": k[4],
                "count": n,
            }
            for k, n in sorted(batch.minutes.items())
        ],
        {"count": "add"},
    )
    executemany(
        conn,
        Event.__table__.insert(),
        Event.__table__,
        batch.events,
        cache_key="events",
        columns=EVENT_COLUMNS,
    )
    if batch.rejections:
        conn.execute(
            Rejection.__table__.insert(),
            [
                {
                    "at": now,
                    "source": r.source[:255],
                    "line_no": r.line_no,
                    "reason": r.reason[:255],
                    "excerpt": r.excerpt[:200],
                }
                for r in batch.rejections
            ],
        )
    upsert(
        conn,
        CounterRow.__table__,
        [
            {"name": name, "key": key[:255], "count": n}
            for (name, key), n in sorted(batch.counters.items())
        ],
        {"count": "add"},
    )
    upsert(
        conn,
        IngestCursor.__table__,
        [{"source": s[:255], "cursor": c, "updated_at": now} for s, c in batch.cursors.items()],
        {"cursor": "replace", "updated_at": "replace"},
    )


def load_templates(engine: Engine) -> list[tuple[int, str]]:
    """Every persisted (id, template), to rebuild the miner after a restart."""
    with engine.connect() as conn:
        rows = conn.execute(select(Template.id, Template.template).order_by(Template.id))
        return [(r.id, r.template) for r in rows]
