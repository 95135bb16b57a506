"""`logvigil search`: the store's templates ranked for a query, with what each hit needs.

`search_templates(engine, query, ...)` reads every template and the services that
log it, ranks them lexically (`logvigil.search.lexical`), and, given the query's
vector, by cosine over the stored vectors too (`logvigil.search.vectors`), the two
rankings fused by their normalised scores (`logvigil.search.embed.combine`); keeps
those that match the filters (a service, a host, a time range: the template has
lines there), and for the best ones reads their lines over the range by service and host, and one
sample line (the newest in the range). Read-only; a handful of queries whatever
the store's size, each on an index except the per-host counts of the hits.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, func, select

from logvigil.core.events import Severity
from logvigil.core.jsonable import jsonable
from logvigil.search.embed import combine, cosine_top
from logvigil.search.lexical import Document, LexicalIndex, Scored
from logvigil.search.vectors import current
from logvigil.store.names import seen_hosts
from logvigil.store.schema import Event, MinuteCount, ServiceTemplate, Template

if TYPE_CHECKING:
    import numpy as np

#: Names offered by "did you mean".
SUGGESTIONS = 3
#: How deep each ranking goes into the fusion: its last scores 0 there, its first 1.
FUSED_DEPTH = 30


class UnknownName(ValueError):
    """A `--service` or `--host` the store has never seen; the message suggests names."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One template found: what it says, who logs it, when, how often in the range."""

    template_id: int
    template: str
    score: float
    severity: str
    services: list[str]
    hosts: list[str]
    first_seen: datetime
    last_seen: datetime
    lines: int  # in the range (every line counted, not only those kept as events)
    by_service: dict[str, int] = field(default_factory=dict)
    sample: str | None = None
    matched: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return jsonable(
            {
                "template_id": self.template_id,
                "template": self.template,
                "score": self.score,
                "severity": self.severity,
                "services": self.services,
                "hosts": self.hosts,
                "first_seen": self.first_seen,
                "last_seen": self.last_seen,
                "lines": self.lines,
                "by_service": self.by_service,
                "sample": self.sample,
                "matched": self.matched,
            }
        )


def _names_or_fail(known: set[str], name: str, what: str) -> None:
    if name in known:
        return
    close = difflib.get_close_matches(name, sorted(known), n=SUGGESTIONS, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownName(f"no {what} {name!r} in the store{hint}")


def _in_range(stmt: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        stmt = stmt.where(MinuteCount.minute >= since)
    if until is not None:
        stmt = stmt.where(MinuteCount.minute < until)
    return stmt


def _fused(
    conn: Connection,
    lexical: list[Scored],
    semantic: tuple[str, np.ndarray],
    allowed: set[int] | None,
    limit: int,
) -> list[Scored]:
    """The lexical ranking fused with the cosine ranking of `semantic`'s stored vectors;
    the lexical one alone while no template has a current vector of that model."""
    model, vector = semantic
    ids, matrix = current(conn, model)
    if not ids or matrix.shape[1] != vector.shape[-1]:
        return lexical[:limit]
    near = [
        (ids[row], cosine)
        for row, cosine in cosine_top(vector, matrix, len(ids))
        if allowed is None or ids[row] in allowed
    ][:FUSED_DEPTH]
    by_id = {s.id: s for s in lexical}
    fused = combine([(s.id, s.score) for s in lexical[:FUSED_DEPTH]], near)
    return [
        Scored(tid, round(score, 5), by_id[tid].matched if tid in by_id else ())
        for tid, score in fused[:limit]
    ]


_Indexed = tuple[dict[int, str], dict[int, list[str]], LexicalIndex]
#: The word index of the stores searched last, by URL, with the state it was built from.
_INDEXES: dict[str, tuple[tuple[Any, ...], _Indexed]] = {}
_INDEXES_KEPT = 4


def _index(conn: Connection, url: str) -> _Indexed:
    """The templates' texts, their services and the word index over them, rebuilt only when
    the templates changed since the last search of this store (a long-running process, the
    web pages, searches many times). The state is read in one aggregate: the number of
    templates, the newest id and their total length (a template that generalises changes
    its text, and so its length, under the same id), and the number of service pairs."""
    templates = conn.execute(
        select(
            func.count(Template.id),
            func.max(Template.id),
            func.sum(func.length(Template.template)),
        )
    ).one()
    pairs = conn.execute(select(func.count()).select_from(ServiceTemplate)).scalar_one()
    state = (*templates, pairs)
    kept = _INDEXES.get(url)
    if kept is not None and kept[0] == state:
        return kept[1]
    texts: dict[int, str] = dict(conn.execute(select(Template.id, Template.template)).all())
    names: dict[int, list[str]] = defaultdict(list)
    for svc, tid in conn.execute(select(ServiceTemplate.service, ServiceTemplate.template_id)):
        names[tid].append(svc)
    index = LexicalIndex(
        Document(tid, text, tuple(names.get(tid, ()))) for tid, text in texts.items()
    )
    if len(_INDEXES) >= _INDEXES_KEPT and url not in _INDEXES:
        _INDEXES.pop(next(iter(_INDEXES)))
    _INDEXES[url] = (state, (texts, names, index))
    return texts, names, index


def search_templates(
    engine: Engine,
    query: str,
    *,
    service: str | None = None,
    host: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 10,
    semantic: tuple[str, np.ndarray] | None = None,
) -> list[Hit]:
    """The `limit` best templates for `query` that match the filters, best first.

    With `semantic` (an embedding model's name and the query's vector from it), the
    templates' stored vectors of that model are ranked by cosine too, and both
    rankings are fused (`combine`: their best `FUSED_DEPTH` each, scores normalised, at
    equal weight).
    Raises `UnknownName` for a service or host the store has never seen (with the
    closest names), and sqlalchemy errors from the store.
    """
    with engine.connect() as conn:
        texts, names, index = _index(conn, engine.url.render_as_string(hide_password=False))
        allowed: set[int] | None = None
        if service is not None:
            _names_or_fail({s for ns in names.values() for s in ns}, service, "service")
            allowed = {tid for tid, ns in names.items() if service in ns}
        if host is not None:
            _names_or_fail(seen_hosts(conn), host, "host")
        if host is not None or since is not None or until is not None:
            stmt = select(MinuteCount.template_id).distinct()
            if host is not None:
                stmt = stmt.where(MinuteCount.host == host)
            seen = set(conn.execute(_in_range(stmt, since, until)).scalars())
            allowed = seen if allowed is None else allowed & seen
        lexical = index.search(query, allowed=allowed)
        found = lexical[:limit]
        if semantic is not None:
            found = _fused(conn, lexical, semantic, allowed, limit)
        if not found:
            return []
        ids = [f.id for f in found]
        templates = {
            row.id: row
            for row in conn.execute(
                select(
                    Template.id, Template.first_seen, Template.last_seen, Template.max_severity
                ).where(Template.id.in_(ids))
            )
        }
        stmt = select(
            MinuteCount.template_id,
            MinuteCount.service,
            MinuteCount.host,
            func.sum(MinuteCount.count),
        ).where(MinuteCount.template_id.in_(ids))
        if host is not None:
            stmt = stmt.where(MinuteCount.host == host)
        if service is not None:
            stmt = stmt.where(MinuteCount.service == service)
        stmt = _in_range(stmt, since, until).group_by(
            MinuteCount.template_id, MinuteCount.service, MinuteCount.host
        )
        by_service: dict[int, dict[str, int]] = defaultdict(dict)
        hosts_of: dict[int, set[str]] = defaultdict(set)
        for tid, svc, h, n in conn.execute(stmt):
            by_service[tid][svc] = by_service[tid].get(svc, 0) + int(n or 0)
            hosts_of[tid].add(h)
        hits = []
        for f in found:
            row = templates[f.id]
            sample = select(Event.message).where(Event.template_id == f.id)
            if service is not None:
                sample = sample.where(Event.service == service)
            if host is not None:
                sample = sample.where(Event.host == host)
            if since is not None:
                sample = sample.where(Event.ts >= since)
            if until is not None:
                sample = sample.where(Event.ts < until)
            line = conn.execute(sample.order_by(Event.ts.desc()).limit(1)).scalar()
            counts = dict(sorted(by_service[f.id].items(), key=lambda kv: (-kv[1], kv[0])))
            hits.append(
                Hit(
                    template_id=f.id,
                    template=texts[f.id],
                    score=f.score,
                    severity=Severity(row.max_severity).name.lower(),
                    services=sorted(names.get(f.id, ())),
                    hosts=sorted(hosts_of[f.id]),
                    first_seen=row.first_seen,
                    last_seen=row.last_seen,
                    lines=sum(counts.values()),
                    by_service=counts,
                    sample=line,
                    matched=list(f.matched),
                )
            )
    return hits
