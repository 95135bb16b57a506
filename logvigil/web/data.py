"""What the web pages show, read from the store: typed values, no HTML. Read-only.

Every function takes an open connection (or engine) and bounded arguments; none
writes. Lists are capped (`LIST_LIMIT`) and series cover a bounded window, so a page
costs the same on a store of a million events as on the demo's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, func, select

from logvigil.core.events import Severity
from logvigil.store.schema import IncidentRow, MinuteCount, ServiceTemplate, Template

#: Rows a list page shows at most.
LIST_LIMIT = 200


@dataclass(frozen=True, slots=True)
class IncidentRowView:
    id: int
    status: str
    severity: str
    title: str
    opened_at: datetime
    resolved_at: datetime | None
    services: tuple[str, ...]
    hosts: tuple[str, ...]
    root: str | None


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    """The incidents list's filters (all optional; `status` is open, resolved or None)."""

    service: str | None = None
    host: str | None = None
    severity: Severity | None = None  # this or worse
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_incidents(conn: Connection, f: IncidentFilter) -> list[IncidentRowView]:
    """The newest incidents matching `f` (services and hosts are matched in Python: they
    are JSON lists, which the three backends query differently)."""
    stmt = select(
        IncidentRow.id,
        IncidentRow.status,
        IncidentRow.severity,
        IncidentRow.title,
        IncidentRow.opened_at,
        IncidentRow.resolved_at,
        IncidentRow.services,
        IncidentRow.hosts,
        IncidentRow.root_service,
        IncidentRow.root_host,
    ).order_by(IncidentRow.opened_at.desc(), IncidentRow.id.desc())
    if f.severity is not None:
        stmt = stmt.where(IncidentRow.severity >= int(f.severity))
    if f.status == "open":
        stmt = stmt.where(IncidentRow.resolved_at.is_(None))
    elif f.status == "resolved":
        stmt = stmt.where(IncidentRow.resolved_at.is_not(None))
    if f.since is not None:
        stmt = stmt.where(IncidentRow.opened_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(IncidentRow.opened_at < f.until)
    if f.service is None and f.host is None:
        stmt = stmt.limit(LIST_LIMIT)
    out: list[IncidentRowView] = []
    for row in conn.execute(stmt.execution_options(yield_per=500)):
        if f.service is not None and f.service not in (row.services or []):
            continue
        if f.host is not None and f.host not in (row.hosts or []):
            continue
        root = " on ".join(x for x in (row.root_service, row.root_host) if x) or None
        out.append(
            IncidentRowView(
                row.id,
                row.status,
                Severity(row.severity).label,
                row.title,
                row.opened_at,
                row.resolved_at,
                tuple(row.services or ()),
                tuple(row.hosts or ()),
                root,
            )
        )
        if len(out) >= LIST_LIMIT:
            break
    return out


@dataclass(frozen=True, slots=True)
class TemplateView:
    id: int
    template: str
    services: tuple[str, ...]
    first_seen: datetime
    count: int


def newest_templates(conn: Connection, limit: int = 50) -> list[TemplateView]:
    """The templates first seen most recently, with their services and total counts."""
    rows = conn.execute(
        select(ServiceTemplate.template_id, func.min(ServiceTemplate.first_seen).label("first"))
        .group_by(ServiceTemplate.template_id)
        .order_by(func.min(ServiceTemplate.first_seen).desc(), ServiceTemplate.template_id.desc())
        .limit(limit)
    ).all()
    ids = [r.template_id for r in rows]
    texts = dict(
        conn.execute(select(Template.id, Template.template).where(Template.id.in_(ids))).all()
    )
    owners: dict[int, list[str]] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    for svc, tid, n in conn.execute(
        select(ServiceTemplate.service, ServiceTemplate.template_id, ServiceTemplate.count).where(
            ServiceTemplate.template_id.in_(ids)
        )
    ):
        owners[tid].append(svc)
        counts[tid] += n
    return [
        TemplateView(
            r.template_id,
            texts.get(r.template_id, "?"),
            tuple(sorted(owners[r.template_id])),
            r.first,
            counts[r.template_id],
        )
        for r in rows
    ]


def template_daily(
    conn: Connection, template_ids: list[int], start: datetime, days: int
) -> dict[int, list[int]]:
    """Lines per day of each template over `days` days from `start` (a small chart each)."""
    out = {t: [0] * days for t in template_ids}
    if not template_ids:
        return out
    stmt = (
        select(MinuteCount.template_id, MinuteCount.minute, MinuteCount.count)
        .where(MinuteCount.template_id.in_(template_ids))
        .where(MinuteCount.minute >= start, MinuteCount.minute < start + timedelta(days=days))
    )
    for tid, minute, n in conn.execute(stmt):
        out[tid][(minute - start).days] += n
    return out


@dataclass
class Trend:
    """Errors and incidents per service per day: the "failure trends by service" view."""

    days: list[datetime]
    errors: dict[str, list[int]]
    incidents: dict[str, list[int]]


def trends(conn: Connection, start: datetime, days: int) -> Trend:
    """Per service, error lines and incidents opened per UTC day over `days` days."""
    day0 = start.replace(hour=0, minute=0, second=0, microsecond=0)
    end = day0 + timedelta(days=days)
    errors: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    day = func.date(MinuteCount.minute)
    stmt = (
        select(MinuteCount.service, day.label("day"), func.sum(MinuteCount.count))
        .where(MinuteCount.minute >= day0, MinuteCount.minute < end)
        .where(MinuteCount.severity >= int(Severity.ERROR))
        .group_by(MinuteCount.service, day)
    )
    for service, d, n in conn.execute(stmt):
        i = (_as_date(d) - day0.date()).days
        if 0 <= i < days:
            errors[service][i] += int(n or 0)
    incidents: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    for opened, services in conn.execute(
        select(IncidentRow.opened_at, IncidentRow.services).where(
            IncidentRow.opened_at >= day0, IncidentRow.opened_at < end
        )
    ):
        i = (opened - day0).days
        for s in services or []:
            incidents[s][i] += 1
    return Trend(
        [day0 + timedelta(days=i) for i in range(days)],
        dict(sorted(errors.items())),
        dict(sorted(incidents.items())),
    )


def _as_date(value: object) -> date:
    """`func.date(...)` comes back as a date (PostgreSQL, MariaDB) or ISO text (SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def last_seen(conn: Connection) -> dict[str, datetime]:
    """Each service's newest minute with lines."""
    return {
        s: m
        for s, m in conn.execute(
            select(MinuteCount.service, func.max(MinuteCount.minute)).group_by(MinuteCount.service)
        )
    }
