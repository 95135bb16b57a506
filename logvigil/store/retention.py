"""Retention: raw events age out after days, per-minute counts after months, and a
source that no process has reported on for as long as events are kept is forgotten."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete

from logvigil.store.schema import Event, MinuteCount, Rejection, SourceHealth


@dataclass(frozen=True, slots=True)
class PurgeResult:
    events: int
    rejections: int
    count_rows: int
    sources: int = 0


def purge(engine: Engine, now: datetime, *, event_days: int, count_days: int) -> PurgeResult:
    """Delete events and rejection samples older than `event_days` before `now`,
    and per-minute counts older than `count_days`; the health rows of sources no
    process has reported on for `event_days` (removed from every config). Templates
    are never purged: they are the memory of what is normal."""
    event_cut = now - timedelta(days=event_days)
    count_cut = now - timedelta(days=count_days)
    with engine.begin() as conn:
        events = conn.execute(delete(Event).where(Event.ts < event_cut)).rowcount
        rejections = conn.execute(delete(Rejection).where(Rejection.at < event_cut)).rowcount
        counts = conn.execute(delete(MinuteCount).where(MinuteCount.minute < count_cut)).rowcount
        sources = conn.execute(
            delete(SourceHealth).where(SourceHealth.updated_at < event_cut)
        ).rowcount
    return PurgeResult(events=events, rejections=rejections, count_rows=counts, sources=sources)
