"""`logvigil ask`, deterministic: a question answered from the store with exact numbers and
the ids behind them, no model.

The question is parsed (`logvigil.search.question`) against the store's hosts and
services; its range is its time phrase, `--since` / `--until`, or the last 24 hours.
The answer gathers, for what was asked (the hosts and services named, or everything):

- the incidents open at any moment of the range, with their root (the report's
  when one was written, else the detectors' suspected root);
- for a count ("how many errors did nginx log yesterday, by hour"), the exact
  total from the per-minute counts and, when asked, by local hour or day;
- the error templates with the most lines in the range, and the templates first
  seen in it;
- the templates that match the question's other words (`search`).

Every fact carries its id (incident `#12`, template `T41`) so it can be checked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, Engine, func, or_, select

from graph.inventory import Inventory
from investigate.model import Report
from logvigil.core.events import Severity
from logvigil.search.answer import (
    Answer,
    CountFact,
    IncidentFact,
    NeighbourFact,
    TemplateFact,
)
from logvigil.search.question import Question, parse_question
from logvigil.search.templates import search_templates
from logvigil.search.timephrase import TimeRange
from logvigil.store.names import seen_hosts, seen_services
from logvigil.store.schema import IncidentRow, MinuteCount, ServiceTemplate, Template

#: The range of a question without a time phrase.
DEFAULT_SPAN = timedelta(hours=24)
#: Templates listed per section.
TOP = 5


def _scoped(stmt: Any, q: Question, start: datetime, end: datetime) -> Any:
    stmt = stmt.where(MinuteCount.minute >= start, MinuteCount.minute < end)
    if q.services:
        stmt = stmt.where(MinuteCount.service.in_(q.services))
    if q.hosts:
        stmt = stmt.where(MinuteCount.host.in_(q.hosts))
    return stmt


def _severity(stmt: Any, what: str) -> Any:
    if what == "errors":
        return stmt.where(MinuteCount.severity >= int(Severity.ERROR))
    if what == "warnings":
        return stmt.where(MinuteCount.severity == int(Severity.WARNING))
    return stmt


def _bucket(minute: datetime, by: str, zone: tzinfo) -> datetime:
    local = minute.astimezone(zone)
    return (
        local.replace(minute=0, second=0, microsecond=0)
        if by == "hour"
        else local.replace(hour=0, minute=0, second=0, microsecond=0)
    )


def _incidents(conn: Connection, q: Question, start: datetime, end: datetime) -> list[IncidentFact]:
    """The incidents open at any moment of [start, end), for the names asked about. One query
    of the columns needed (never the context bundles); the report's JSON only when stored."""
    rows = conn.execute(
        select(
            IncidentRow.id,
            IncidentRow.title,
            IncidentRow.severity,
            IncidentRow.opened_at,
            IncidentRow.resolved_at,
            IncidentRow.root_service,
            IncidentRow.root_host,
            IncidentRow.services,
            IncidentRow.hosts,
            IncidentRow.report,
        )
        .where(IncidentRow.opened_at < end)
        .where(or_(IncidentRow.resolved_at.is_(None), IncidentRow.resolved_at >= start))
        .order_by(IncidentRow.opened_at, IncidentRow.id)
    )
    out = []
    for row in rows:
        services, hosts = tuple(row.services or ()), tuple(row.hosts or ())
        if q.hosts and not set(q.hosts) & set(hosts):
            continue
        if q.services and not set(q.services) & set(services):
            continue
        report = Report.from_json(row.report) if row.report is not None else None
        # The report's root when one was written, else the detectors' suspected root.
        if report is None:
            root = " on ".join(x for x in (row.root_service, row.root_host) if x)
        else:
            rc = report.root_cause
            root = "" if rc is None else " on ".join(x for x in (rc.service, rc.host) if x)
        out.append(
            IncidentFact(
                row.id,
                row.title,
                Severity(row.severity).label,
                row.opened_at,
                row.resolved_at,
                root or None,
                services,
                hosts,
                summary=report.root_cause.summary if report and report.root_cause else None,
                affected=tuple(
                    i.service for i in (report.impact if report else []) if i.status == "affected"
                ),
            )
        )
    return out


def neighbours(inventory: Inventory, services: Iterable[str]) -> list[NeighbourFact]:
    """Each of `services` the inventory declares, with its dependencies and dependents."""
    edges = inventory.impact_edges()
    return [
        NeighbourFact(
            s,
            tuple(sorted({e.target for e in edges if e.source == s})),
            tuple(sorted({e.source for e in edges if e.target == s})),
        )
        for s in dict.fromkeys(services)
        if s in inventory.services
    ]


def answer_question(
    engine: Engine,
    text: str,
    *,
    now: datetime,
    zone: tzinfo,
    since: datetime | None = None,
    until: datetime | None = None,
    inventory: Inventory | None = None,
) -> Answer:
    """The deterministic answer to `text` from the store (see the module's doc); with an
    `inventory`, the graph neighbours of the services asked about and of the roots."""
    with engine.connect() as conn:
        hosts, services = seen_hosts(conn), seen_services(conn)
    q = parse_question(text, now, zone, hosts=hosts, services=services)
    phrase_range: TimeRange | None = q.range
    start = since or (phrase_range.start if phrase_range else now - DEFAULT_SPAN)
    end = until or (phrase_range.end if phrase_range else now)
    count = None
    with engine.connect() as conn:
        if q.count is not None:
            stmt = _severity(
                _scoped(select(MinuteCount.minute, func.sum(MinuteCount.count)), q, start, end),
                q.count,
            ).group_by(MinuteCount.minute)
            buckets: dict[datetime, int] = defaultdict(int)
            total = 0
            for minute, n in conn.execute(stmt):
                total += int(n or 0)
                if q.by is not None:
                    buckets[_bucket(minute, q.by, zone)] += int(n or 0)
            count = CountFact(q.count, total, q.by, sorted(buckets.items()))
        errors = _severity(
            _scoped(
                select(MinuteCount.template_id, func.sum(MinuteCount.count).label("n")),
                q,
                start,
                end,
            ),
            "errors",
        ).group_by(MinuteCount.template_id)
        top = conn.execute(
            errors.order_by(func.sum(MinuteCount.count).desc(), MinuteCount.template_id).limit(TOP)
        ).all()
        new = select(
            ServiceTemplate.template_id,
            ServiceTemplate.service,
            ServiceTemplate.count,
            ServiceTemplate.first_seen,
        ).where(ServiceTemplate.first_seen >= start, ServiceTemplate.first_seen < end)
        if q.services:
            new = new.where(ServiceTemplate.service.in_(q.services))
        first = conn.execute(new.order_by(ServiceTemplate.first_seen)).all()
        if q.hosts:  # templates carry no host: keep those with lines there in the range
            there = set(
                conn.execute(
                    _scoped(select(MinuteCount.template_id).distinct(), q, start, end)
                ).scalars()
            )
            first = [st for st in first if st.template_id in there]
        first = first[:TOP]
        ids = {tid for tid, _ in top} | {st.template_id for st in first}
        texts = dict(
            conn.execute(select(Template.id, Template.template).where(Template.id.in_(ids))).all()
        )
        owners: dict[int, list[str]] = defaultdict(list)
        for svc, tid in conn.execute(
            select(ServiceTemplate.service, ServiceTemplate.template_id).where(
                ServiceTemplate.template_id.in_(ids)
            )
        ):
            owners[tid].append(svc)
    matches = (
        search_templates(
            engine,
            q.words,
            service=q.services[0] if len(q.services) == 1 else None,
            host=q.hosts[0] if len(q.hosts) == 1 else None,
            since=start,
            until=end,
            limit=TOP,
        )
        if q.words.strip() and q.count is None
        else []
    )
    with engine.connect() as conn:
        incidents = _incidents(conn, q, start, end)
    roots = [i.root.split(" on ")[0] for i in incidents if i.root]
    return Answer(
        question=q.text,
        start=start,
        end=end,
        phrase=phrase_range.phrase if phrase_range and since is None and until is None else None,
        hosts=q.hosts,
        services=q.services,
        unknown=q.unknown,
        incidents=incidents,
        count=count,
        top_errors=[
            TemplateFact(tid, texts.get(tid, "?"), tuple(sorted(owners[tid])), int(n))
            for tid, n in top
        ],
        first_seen=[
            TemplateFact(
                st.template_id,
                texts.get(st.template_id, "?"),
                (st.service,),
                st.count,
                st.first_seen,
            )
            for st in first
        ],
        matches=matches,
        neighbours=neighbours(inventory, (*q.services, *roots)) if inventory else [],
    )
