"""Per-minute lines and errors of a few services over a bounded window: what the
incident charts draw (the web page's SVG, the notification's PNG). Read-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from logvigil.core.events import Severity
from logvigil.store.schema import MinuteCount

#: Minutes of chart before an incident opens and after it resolves (or its last finding).
CHART_MARGIN = timedelta(minutes=30)
#: The longest chart, whatever the incident's span.
CHART_MAX = timedelta(hours=12)


@dataclass
class Series:
    """Lines and error lines per minute of one service, minute by minute (zeros included)."""

    service: str
    start: datetime
    lines: list[int] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)


def chart_window(opened: datetime, last: datetime) -> tuple[datetime, datetime]:
    """The minutes a chart of an incident covers: a margin either side, at most `CHART_MAX`."""
    start = (opened - CHART_MARGIN).replace(second=0, microsecond=0)
    end = min(last + CHART_MARGIN, start + CHART_MAX).replace(second=0, microsecond=0)
    return start, end + timedelta(minutes=1)


def service_series(
    conn: Connection, services: tuple[str, ...], start: datetime, end: datetime
) -> list[Series]:
    """Per-minute lines and errors of each of `services` over [start, end)."""
    minutes = int((end - start).total_seconds() // 60)
    series = {s: Series(s, start, [0] * minutes, [0] * minutes) for s in services}
    if not services or minutes <= 0:
        return list(series.values())
    stmt = (
        select(MinuteCount.service, MinuteCount.minute, MinuteCount.severity, MinuteCount.count)
        .where(MinuteCount.service.in_(services))
        .where(MinuteCount.minute >= start, MinuteCount.minute < end)
    )
    for service, minute, severity, n in conn.execute(stmt):
        i = int((minute - start).total_seconds() // 60)
        if 0 <= i < minutes:
            series[service].lines[i] += n
            if severity >= int(Severity.ERROR):
                series[service].errors[i] += n
    return [series[s] for s in services]
