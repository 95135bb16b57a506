"""Evidence queries: what the context bundle and the investigation tools read of the store.

SQLAlchemy Core over `events`, `minute_counts`, `service_templates` and
`templates`, the same on SQLite, PostgreSQL and MariaDB. Every query is
bounded whatever the log volume: a caller passes the row limit, and a line
query reads only a prefix of each message (`PREFIX_FACTOR` times the caller's
cut), so redaction downstream runs on a bounded text. Rows come back as typed
values with aware UTC datetimes; messages and template texts come back as
stored (the caller redacts and cuts them).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Row, Select, case, func, or_, select

from logvigil.core.events import Severity
from logvigil.core.timeutil import parse_iso
from logvigil.store.schema import Event, MinuteCount, ServiceTemplate, Template

#: Rows read by a line query before it chooses among them.
SCAN_ROWS = 2000
#: A line query reads this many times the caller's cut of each message.
PREFIX_FACTOR = 4
#: Services whose restart lines are reported as seen from systemd on a host.
INIT_SERVICES = ("systemd", "init")
#: Lines that mark a (re)start or stop, as systemd writes them (SQL LIKE patterns).
RESTART_LIKE = (
    "%Started %",
    "%Starting %",
    "%Stopped %",
    "%Stopping %",
    "%Deactivated successfully%",
    "%Scheduled restart job%",
    "%Main process exited%",
    "%Failed with result%",
)
#: The words of `RESTART_LIKE`, case-sensitive and whole: LIKE ignores case on SQLite and
#: MariaDB but not on PostgreSQL, so a caller that needs the same answer everywhere
#: confirms a LIKE match with this.
RESTART_WORDS = re.compile(
    r"\b(Started|Starting|Stopped|Stopping|Deactivated successfully|Scheduled restart job|"
    r"Main process exited|Failed with result)\b"
)
#: Lines that look like a deploy or a configuration change (SQL LIKE patterns).
DEPLOY_LIKE = (
    "%Reloading%",
    "%Reloaded %",
    "%Unpacking %",
    "%Setting up %",
    "%upgraded%",
    "%Installed %",
    "%Pulling %",
    "%Pulled %",
    "%Created container%",
    "%deploy%",
)

events_t = Event.__table__
counts_t = MinuteCount.__table__
service_templates_t = ServiceTemplate.__table__
templates_t = Template.__table__


@dataclass(frozen=True, slots=True)
class LogLine:
    """One stored event; `message` is the prefix the query read, not redacted."""

    id: int
    ts: datetime
    host: str
    service: str
    severity: Severity
    template_id: int
    message: str


@dataclass(frozen=True, slots=True)
class TemplateCount:
    """Lines of one template of one service before and during a split moment."""

    service: str
    template_id: int
    before: int
    during: int
    max_severity: Severity


@dataclass(frozen=True, slots=True)
class FirstSeen:
    """When a service first logged a template, and how often it has since."""

    service: str
    template_id: int
    first_seen: datetime
    count: int
    max_severity: Severity


@dataclass(frozen=True, slots=True)
class FirstOccurrence:
    """The first line of a template of a service on a host within a window, and the first
    one from the onset on (None when it logged none after the onset)."""

    service: str
    template_id: int
    host: str
    first: datetime
    first_from_onset: datetime | None


def _line_query(line_chars: int) -> Select:
    e = events_t.c
    message = func.substr(e.message, 1, PREFIX_FACTOR * line_chars).label("message")
    return select(e.id, e.ts, e.host, e.service, e.severity, e.template_id, message)


def _log_lines(rows: Iterable[Row]) -> list[LogLine]:
    return [
        LogLine(
            id=r.id,
            ts=parse_iso(r.ts),
            host=r.host,
            service=r.service,
            severity=Severity(r.severity),
            template_id=r.template_id,
            message=r.message or "",
        )
        for r in rows
    ]


def _subjects(services: Collection[str], hosts: Collection[str]) -> list[ColumnElement[bool]]:
    """Conditions for the lines of `services`, and of systemd / init on `hosts`."""
    e = events_t.c
    who: list[ColumnElement[bool]] = []
    if services:
        who.append(e.service.in_(services))
    if hosts:
        who.append(e.host.in_(hosts) & e.service.in_(INIT_SERVICES))
    return who


def template_texts(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """Template id -> its text as mined, for the ids that exist."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(
        select(templates_t.c.id, templates_t.c.template).where(templates_t.c.id.in_(wanted))
    )
    return {r.id: r.template for r in rows}


def template_counts(
    conn: Connection,
    services: Sequence[str],
    *,
    start: datetime,
    split: datetime,
    stop: datetime,
) -> list[TemplateCount]:
    """Per (service, template): lines of the minute buckets in [`start`, `stop`), counted
    `before` the bucket starting at `split` and `during` from it on."""
    if not services:
        return []
    c = counts_t.c
    before = func.sum(case((c.minute < split, c.count), else_=0))
    during = func.sum(case((c.minute >= split, c.count), else_=0))
    rows = conn.execute(
        select(c.service, c.template_id, before, during, func.max(c.severity))
        .where(c.service.in_(services), c.minute >= start, c.minute < stop)
        .group_by(c.service, c.template_id)
    ).all()
    return [
        TemplateCount(service, tid, int(b or 0), int(d or 0), Severity(sev))
        for service, tid, b, d, sev in rows
    ]


def first_seen_between(
    conn: Connection, services: Sequence[str], start: datetime, end: datetime, limit: int
) -> list[FirstSeen]:
    """Templates `services` logged for the first time in [`start`, `end`]: the `limit`
    most severe (then earliest), returned earliest first."""
    if not services:
        return []
    st = service_templates_t.c
    rows = conn.execute(
        select(st.service, st.template_id, st.first_seen, st.count, st.max_severity)
        .where(st.service.in_(services), st.first_seen >= start, st.first_seen <= end)
        .order_by(st.max_severity.desc(), st.first_seen, st.service, st.template_id)
        .limit(limit)
    ).all()
    seen = [
        FirstSeen(
            r.service,
            r.template_id,
            parse_iso(r.first_seen),
            int(r.count),
            Severity(r.max_severity),
        )
        for r in rows
    ]
    return sorted(seen, key=lambda f: (f.first_seen, f.service, f.template_id))


def first_seen_times(conn: Connection, services: Sequence[str]) -> dict[tuple[str, int], datetime]:
    """(service, template id) -> when the service first logged it, for every template of
    `services`."""
    if not services:
        return {}
    st = service_templates_t.c
    rows = conn.execute(
        select(st.service, st.template_id, st.first_seen).where(st.service.in_(services))
    )
    return {(r.service, r.template_id): parse_iso(r.first_seen) for r in rows}


def logging_services(conn: Connection, start: datetime, end: datetime) -> set[str]:
    """Services with counted lines in the minute buckets of [`start`, `end`]."""
    c = counts_t.c
    rows = conn.execute(select(c.service).where(c.minute >= start, c.minute <= end).distinct())
    return {r[0] for r in rows}


def notable_lines(
    conn: Connection,
    *,
    services: Collection[str],
    hosts: Collection[str],
    start: datetime,
    end: datetime,
    min_severity: Severity,
    template_ids: Collection[int],
    line_chars: int,
) -> list[LogLine]:
    """The first `SCAN_ROWS` lines in [`start`, `end`] of `services` or `hosts` that are
    `min_severity` or worse or of one of `template_ids`, in time order."""
    if not services and not hosts:
        return []
    e = events_t.c
    who = []
    if services:
        who.append(e.service.in_(services))
    if hosts:
        who.append(e.host.in_(hosts))
    notable = [e.severity >= int(min_severity)]
    if template_ids:
        notable.append(e.template_id.in_(sorted(template_ids)))
    rows = conn.execute(
        _line_query(line_chars)
        .where(e.ts >= start, e.ts <= end, or_(*who), or_(*notable))
        .order_by(e.ts, e.id)
        .limit(SCAN_ROWS)
    )
    return _log_lines(rows)


def lines_near(
    conn: Connection,
    moment: datetime,
    *,
    minutes: int,
    service: str | None,
    min_severity: Severity,
    limit: int,
    line_chars: int,
) -> list[LogLine]:
    """Lines within `minutes` of `moment` (of `service`, else of every service), each once:
    the first `SCAN_ROWS` of `min_severity` or worse, then the `limit` nearest at or after
    `moment`, then the `limit` nearest before it."""
    e = events_t.c
    lo, hi = moment - timedelta(minutes=minutes), moment + timedelta(minutes=minutes)
    where = [e.ts >= lo, e.ts <= hi]
    if service is not None:
        where.append(e.service == service)
    base = _line_query(line_chars).where(*where)
    severe = conn.execute(
        base.where(e.severity >= int(min_severity)).order_by(e.ts).limit(SCAN_ROWS)
    ).all()
    after = conn.execute(base.where(e.ts >= moment).order_by(e.ts).limit(limit)).all()
    before = conn.execute(base.where(e.ts < moment).order_by(e.ts.desc()).limit(limit)).all()
    seen: set[int] = set()
    rows = []
    for r in (*severe, *after, *before):
        if r.id not in seen:
            seen.add(r.id)
            rows.append(r)
    return _log_lines(rows)


def restart_lines(
    conn: Connection,
    *,
    services: Collection[str],
    hosts: Collection[str],
    start: datetime,
    end: datetime,
    patterns: Sequence[str],
    limit: int,
    line_chars: int,
) -> list[LogLine]:
    """The first `limit` lines in [`start`, `end`] of `services`, or of systemd / init
    (`INIT_SERVICES`) on `hosts`, that match one of the LIKE `patterns`, in time order."""
    who = _subjects(services, sorted(hosts))
    if not who:
        return []
    e = events_t.c
    rows = conn.execute(
        _line_query(line_chars)
        .where(
            e.ts >= start,
            e.ts <= end,
            or_(*who),
            or_(*(e.message.like(p) for p in patterns)),
        )
        .order_by(e.ts, e.id)
        .limit(limit)
    )
    return _log_lines(rows)


def first_occurrences(
    conn: Connection,
    services: Collection[str],
    template_ids: Collection[int],
    *,
    start: datetime,
    onset: datetime,
    end: datetime,
) -> list[FirstOccurrence]:
    """Per (service, template, host) of `services` x `template_ids` with lines in
    [`start`, `end`]: the first line, and the first one at or after `onset`."""
    if not services or not template_ids:
        return []
    e = events_t.c
    rows = conn.execute(
        select(
            e.service,
            e.template_id,
            e.host,
            func.min(e.ts),
            func.min(case((e.ts >= onset, e.ts))),
        )
        .where(
            e.service.in_(sorted(services)),
            e.template_id.in_(sorted(template_ids)),
            e.ts >= start,
            e.ts <= end,
        )
        .group_by(e.service, e.template_id, e.host)
    ).all()
    return [
        FirstOccurrence(
            service, tid, host, parse_iso(first), None if since is None else parse_iso(since)
        )
        for service, tid, host, first, since in rows
    ]
