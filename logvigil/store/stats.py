"""Read-only summaries of the store for `logvigil stats`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from logvigil.core.events import Severity
from logvigil.core.jsonable import jsonable
from logvigil.core.redact import hide_url_password
from logvigil.store.database import current_revision
from logvigil.store.schema import Counter, Event, MinuteCount, Rejection, ServiceTemplate, Template


@dataclass(frozen=True, slots=True)
class ServiceVolume:
    service: str
    lines: int
    errors: int
    templates: int
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass
class StoreStats:
    database: str
    schema_revision: str | None
    events_stored: int
    templates: int
    count_rows: int
    lines_counted: int
    oldest_event: datetime | None
    newest_event: datetime | None
    dropped_by_rule: dict[str, int] = field(default_factory=dict)
    downgraded_by_rule: dict[str, int] = field(default_factory=dict)
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    #: Local times read by a daylight-saving rule (`dst_overlap`, `dst_gap`).
    time_adjusted: dict[str, int] = field(default_factory=dict)
    untimed: dict[str, int] = field(default_factory=dict)
    #: Lines whose secrets were redacted before they were stored.
    redacted: dict[str, int] = field(default_factory=dict)
    recent_rejections: list[dict[str, Any]] = field(default_factory=list)
    services: list[ServiceVolume] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return jsonable(asdict(self))


def collect_stats(engine: Engine, *, rejections: int = 10) -> StoreStats:
    """Counts of everything stored; one query per table, cheap on every backend."""
    with engine.connect() as conn:
        events, oldest, newest = conn.execute(
            select(func.count(), func.min(Event.ts), func.max(Event.ts))
        ).one()
        templates = conn.execute(select(func.count()).select_from(Template)).scalar_one()
        count_rows, lines = conn.execute(
            select(func.count(), func.coalesce(func.sum(MinuteCount.count), 0))
        ).one()
        counters: dict[str, dict[str, int]] = {}
        for name, key, n in conn.execute(
            select(Counter.name, Counter.key, Counter.count).order_by(Counter.count.desc())
        ):
            counters.setdefault(name, {})[key] = int(n)
        errors = func.sum(
            func.coalesce(
                MinuteCount.count
                * (MinuteCount.severity >= int(Severity.ERROR)).cast(MinuteCount.count.type),
                0,
            )
        )
        volume_rows = conn.execute(
            select(
                MinuteCount.service,
                func.sum(MinuteCount.count),
                errors,
                func.min(MinuteCount.minute),
                func.max(MinuteCount.minute),
            )
            .group_by(MinuteCount.service)
            .order_by(func.sum(MinuteCount.count).desc())
        ).all()
        per_service_templates = dict(
            conn.execute(
                select(ServiceTemplate.service, func.count()).group_by(ServiceTemplate.service)
            ).all()
        )
        recent = conn.execute(
            select(Rejection.source, Rejection.line_no, Rejection.reason, Rejection.excerpt)
            .order_by(Rejection.id.desc())
            .limit(rejections)
        ).all()
    return StoreStats(
        database=hide_url_password(engine.url.render_as_string(hide_password=False)),
        schema_revision=current_revision(engine),
        events_stored=int(events),
        templates=int(templates),
        count_rows=int(count_rows),
        lines_counted=int(lines),
        oldest_event=oldest,
        newest_event=newest,
        dropped_by_rule=counters.get("noise_dropped", {}),
        downgraded_by_rule=counters.get("noise_downgraded", {}),
        rejected_by_reason=counters.get("rejected", {}),
        skipped=counters.get("skipped", {}),
        time_adjusted=counters.get("time_adjusted", {}),
        untimed=counters.get("untimed", {}),
        redacted=counters.get("redacted", {}),
        recent_rejections=[
            {"source": r.source, "line": int(r.line_no), "reason": r.reason, "excerpt": r.excerpt}
            for r in recent
        ],
        services=[
            ServiceVolume(
                service=s,
                lines=int(n or 0),
                errors=int(e or 0),
                templates=int(per_service_templates.get(s, 0)),
                first_seen=first,
                last_seen=last,
            )
            for s, n, e, first, last in volume_rows
        ],
    )
