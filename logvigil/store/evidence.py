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
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Row,
    Select,
    bindparam,
    case,
    func,
    or_,
    select,
)

from logvigil.core.events import Severity
from logvigil.core.timeutil import parse_iso
from logvigil.store.schema import Event, MinuteCount, ServiceTemplate, Template, UTCDateTime

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


def first_per_template(
    rows: Iterable[LogLine], rank: Callable[[LogLine], Any], per_template: int, limit: int
) -> list[LogLine]:
    """The first `limit` of `rows` in `rank` order, at most `per_template` of one template
    (a few lines of each kind rather than many of the loudest)."""
    taken: dict[int, int] = {}
    chosen: list[LogLine] = []
    for r in sorted(rows, key=rank):
        if taken.get(r.template_id, 0) >= per_template:
            continue
        taken[r.template_id] = taken.get(r.template_id, 0) + 1
        chosen.append(r)
        if len(chosen) >= limit:
            break
    return chosen


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


# The queries are built once, with bound parameters for what a call varies (one query
# per combination of a function's optional conditions: `_notable_query`, `_sample_query`,
# `_restart_query`). Building a query on every call cost SQLAlchemy more than running
# it, and each incident's bundle and investigation run a dozen.


def _in(name: str) -> BindParameter:
    """A list bound at execution (`IN (...)` of as many values as the call gives)."""
    return bindparam(name, expanding=True)


def _time(name: str) -> BindParameter:
    """A time bound at execution, stored as the time columns store it."""
    return bindparam(name, type_=UTCDateTime())


def _line_query() -> Select:
    """The columns of a `LogLine`: the message cut to the bound `prefix` characters."""
    e = events_t.c
    message = func.substr(e.message, 1, bindparam("prefix")).label("message")
    return select(e.id, e.ts, e.host, e.service, e.severity, e.template_id, message)


#: Severity by stored value (`Severity(value)` per line costs more than the lookup).
_SEVERITIES = {int(s): s for s in Severity}


def _severity(value: int) -> Severity:
    found = _SEVERITIES.get(value)
    return found if found is not None else Severity(value)  # raises for an unknown value


def _log_lines(rows: Iterable[Row]) -> list[LogLine]:
    return [
        LogLine(
            id=id_,
            ts=parse_iso(ts),
            host=host,
            service=service,
            severity=_severity(severity),
            template_id=template_id,
            message=message or "",
        )
        for id_, ts, host, service, severity, template_id, message in rows
    ]


def _subjects(services: bool, hosts: bool) -> list[ColumnElement[bool]]:
    """Conditions for the lines of the bound `services`, and of systemd / init on the
    bound `hosts` (each when asked)."""
    e = events_t.c
    who: list[ColumnElement[bool]] = []
    if services:
        who.append(e.service.in_(_in("services")))
    if hosts:
        who.append(e.host.in_(_in("hosts")) & e.service.in_(INIT_SERVICES))
    return who


_TEMPLATE_TEXTS = select(templates_t.c.id, templates_t.c.template).where(
    templates_t.c.id.in_(_in("ids"))
)


def template_texts(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """Template id -> its text as mined, for the ids that exist."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(_TEMPLATE_TEXTS, {"ids": wanted})
    return {r.id: r.template for r in rows}


def _template_counts_query() -> Select:
    c = counts_t.c
    split = _time("split")
    before = func.sum(case((c.minute < split, c.count), else_=0))
    during = func.sum(case((c.minute >= split, c.count), else_=0))
    return (
        select(c.service, c.template_id, before, during, func.max(c.severity))
        .where(c.service.in_(_in("services")), c.minute >= _time("start"), c.minute < _time("stop"))
        .group_by(c.service, c.template_id)
    )


_TEMPLATE_COUNTS = _template_counts_query()


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
    rows = conn.execute(
        _TEMPLATE_COUNTS,
        {"services": list(services), "start": start, "split": split, "stop": stop},
    ).all()
    return [
        TemplateCount(service, tid, int(b or 0), int(d or 0), Severity(sev))
        for service, tid, b, d, sev in rows
    ]


_st = service_templates_t.c
_FIRST_SEEN_BETWEEN = (
    select(_st.service, _st.template_id, _st.first_seen, _st.count, _st.max_severity)
    .where(_st.service.in_(_in("services")), _st.first_seen >= _time("start"))
    .where(_st.first_seen <= _time("end"))
    .order_by(_st.max_severity.desc(), _st.first_seen, _st.service, _st.template_id)
    .limit(bindparam("limit"))
)
_FIRST_SEEN_TIMES = select(_st.service, _st.template_id, _st.first_seen).where(
    _st.service.in_(_in("services"))
)


def first_seen_between(
    conn: Connection, services: Sequence[str], start: datetime, end: datetime, limit: int
) -> list[FirstSeen]:
    """Templates `services` logged for the first time in [`start`, `end`]: the `limit`
    most severe (then earliest), returned earliest first."""
    if not services:
        return []
    rows = conn.execute(
        _FIRST_SEEN_BETWEEN,
        {"services": list(services), "start": start, "end": end, "limit": limit},
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
    rows = conn.execute(_FIRST_SEEN_TIMES, {"services": list(services)})
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
    params = _notable_params(services, hosts, start, end, line_chars, min_severity, template_ids)
    query = _notable_query(bool(services), bool(hosts), bool(template_ids))
    return _log_lines(conn.execute(query, params).all())


def _notable_params(
    services: Collection[str],
    hosts: Collection[str],
    start: datetime,
    end: datetime,
    line_chars: int,
    min_severity: Severity,
    template_ids: Collection[int],
) -> dict[str, object]:
    """What `_notable_query` binds (`sample_lines` binds more on top)."""
    params = _scan_params(services, hosts, start, end, line_chars, SCAN_ROWS)
    params["min_severity"] = int(min_severity)
    if template_ids:
        params["template_ids"] = sorted(template_ids)
    return params


def _scan_params(
    services: Collection[str],
    hosts: Collection[str],
    start: datetime,
    end: datetime,
    line_chars: int,
    limit: int,
) -> dict[str, object]:
    """The parameters every line query binds: the lists it was given (a query of that
    shape binds those only), the time range, the message's prefix and the row limit."""
    params: dict[str, object] = {
        "start": start,
        "end": end,
        "prefix": PREFIX_FACTOR * line_chars,
        "limit": limit,
    }
    if services:
        params["services"] = sorted(services)
    if hosts:
        params["hosts"] = sorted(hosts)
    return params


@cache
def _notable_query(services: bool, hosts: bool, template_ids: bool) -> Select:
    """`notable_lines`' query of one shape (which of its lists are given)."""
    e = events_t.c
    who = []
    if services:
        who.append(e.service.in_(_in("services")))
    if hosts:
        who.append(e.host.in_(_in("hosts")))
    notable = [e.severity >= bindparam("min_severity")]
    if template_ids:
        notable.append(e.template_id.in_(_in("template_ids")))
    return (
        _line_query()
        .where(e.ts >= _time("start"), e.ts <= _time("end"), or_(*who), or_(*notable))
        .order_by(e.ts, e.id)
        .limit(bindparam("limit"))
    )


def sample_lines(
    conn: Connection,
    *,
    services: Collection[str],
    hosts: Collection[str],
    start: datetime,
    end: datetime,
    min_severity: Severity,
    first_tpls: Collection[int],
    then_tpls: Collection[int],
    per_template: int,
    limit: int,
    line_chars: int,
) -> list[LogLine]:
    """Of the lines `notable_lines` reads (`template_ids` = `first_tpls` | `then_tpls`), the
    first `limit` in priority order: lines of `first_tpls`, then of `then_tpls`, then the
    rest; within each the most severe, then the earliest; at most `per_template` of one
    template.

    The choice is made in SQL: the bundle keeps a few dozen of up to `SCAN_ROWS` lines,
    and fetching and converting every scanned row cost more than the query itself.
    """
    if not services and not hosts:
        return []
    wanted = set(first_tpls) | set(then_tpls)
    params = _notable_params(services, hosts, start, end, line_chars, min_severity, wanted)
    params.update(
        first_tpls=sorted(first_tpls),
        then_tpls=sorted(then_tpls),
        per_template=per_template,
        keep=limit,
    )
    query = _sample_query(bool(services), bool(hosts), bool(wanted))
    return _log_lines(conn.execute(query, params).all())


@cache
def _sample_query(services: bool, hosts: bool, template_ids: bool) -> Select:
    """`sample_lines`' query of one shape: `notable_lines`' scan, each line's priority
    class, its rank among its template's lines, then the kept lines in priority order."""
    scan = _notable_query(services, hosts, template_ids).subquery("scan")
    klass = case(
        (scan.c.template_id.in_(_in("first_tpls")), 0),
        (scan.c.template_id.in_(_in("then_tpls")), 1),
        else_=2,
    )
    classed = select(scan, klass.label("klass")).subquery("classed")
    c = classed.c
    priority = (c.klass, c.severity.desc(), c.ts, c.id)
    nth = func.row_number().over(partition_by=c.template_id, order_by=priority)
    ranked = select(classed, nth.label("nth")).subquery("ranked")
    r = ranked.c
    return (
        select(r.id, r.ts, r.host, r.service, r.severity, r.template_id, r.message)
        .where(r.nth <= bindparam("per_template"))
        .order_by(r.klass, r.severity.desc(), r.ts, r.id)
        .limit(bindparam("keep"))
    )


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
    base = _line_query().where(*where)
    prefix = {"prefix": PREFIX_FACTOR * line_chars}
    severe = conn.execute(
        base.where(e.severity >= int(min_severity)).order_by(e.ts).limit(SCAN_ROWS), prefix
    ).all()
    after = conn.execute(base.where(e.ts >= moment).order_by(e.ts).limit(limit), prefix).all()
    before = conn.execute(
        base.where(e.ts < moment).order_by(e.ts.desc()).limit(limit), prefix
    ).all()
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
    if not services and not hosts:
        return []
    params = _scan_params(services, hosts, start, end, line_chars, limit)
    query = _restart_query(bool(services), bool(hosts), tuple(patterns))
    return _log_lines(conn.execute(query, params).all())


@cache
def _restart_query(services: bool, hosts: bool, patterns: tuple[str, ...]) -> Select:
    """`restart_lines`' query of one shape (which of its lists are given, which patterns)."""
    e = events_t.c
    return (
        _line_query()
        .where(
            e.ts >= _time("start"),
            e.ts <= _time("end"),
            or_(*_subjects(services, hosts)),
            or_(*(e.message.like(p) for p in patterns)),
        )
        .order_by(e.ts, e.id)
        .limit(bindparam("limit"))
    )


def _first_occurrences_query() -> Select:
    e = events_t.c
    return (
        select(
            e.service,
            e.template_id,
            e.host,
            func.min(e.ts),
            func.min(case((e.ts >= _time("onset"), e.ts))),
        )
        .where(
            e.service.in_(_in("services")),
            e.template_id.in_(_in("template_ids")),
            e.ts >= _time("start"),
            e.ts <= _time("end"),
        )
        .group_by(e.service, e.template_id, e.host)
    )


_FIRST_OCCURRENCES = _first_occurrences_query()


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
    params = {
        "services": sorted(services),
        "template_ids": sorted(template_ids),
        "start": start,
        "onset": onset,
        "end": end,
    }
    rows = conn.execute(_FIRST_OCCURRENCES, params).all()
    return [
        FirstOccurrence(
            service, tid, host, parse_iso(first), None if since is None else parse_iso(since)
        )
        for service, tid, host, first, since in rows
    ]
