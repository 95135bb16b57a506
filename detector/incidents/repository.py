"""Incidents in SQL: read and write `incidents` and `incident_findings` (SQLAlchemy Core).

Every function takes a `Connection` inside the caller's transaction. Status
changes are claims: `UPDATE ... WHERE id = ? AND status = ?`, and the caller
learns from the row count whether it won, so several workers (the tick, an
investigator, the CLI) can act on the same incident safely.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update

from detector.incidents.context import ContextBundle
from detector.incidents.model import Incident, IncidentStatus, RootRef
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.store.schema import IncidentFinding, IncidentRow

incidents_t = IncidentRow.__table__
findings_t = IncidentFinding.__table__


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _finding(row: Any) -> Finding:
    return Finding(
        detector=row.detector,
        at=row.at,
        started_at=row.started_at,
        service=row.service,
        host=row.host,
        severity=Severity(row.severity),
        summary=row.summary,
        template_id=row.template_id,
        kind=row.kind,
        evidence=row.evidence or {},
    )


def _incident(row: Any, findings: Sequence[Finding]) -> Incident:
    root = (
        RootRef(row.root_service, row.root_host)
        if row.root_service is not None or row.root_host is not None
        else None
    )
    return Incident(
        id=row.id,
        status=IncidentStatus(row.status),
        severity=Severity(row.severity),
        title=row.title,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        last_finding_at=row.last_finding_at,
        resolved_at=row.resolved_at,
        services=tuple(row.services or ()),
        hosts=tuple(row.hosts or ()),
        findings=tuple(findings),
        root=root,
        blast_radius=tuple(row.blast_radius or ()),
        bundle=None if row.bundle is None else ContextBundle.from_json(row.bundle),
    )


# The reads of every tick that has findings, built once (building a statement cost
# SQLAlchemy about as much as running it on a small store).
_FINDINGS_OF = (
    select(findings_t)
    .where(findings_t.c.incident_id.in_(bindparam("ids", expanding=True)))
    .order_by(findings_t.c.id)
)
_ACTIVE = (
    select(incidents_t)
    .where(incidents_t.c.status != IncidentStatus.RESOLVED.value)
    .order_by(incidents_t.c.opened_at, incidents_t.c.id)
)
_ONE = select(incidents_t).where(incidents_t.c.id == bindparam("id"))


def _with_findings(conn: Connection, rows: Sequence[Any]) -> list[Incident]:
    ids = [r.id for r in rows]
    by_incident: dict[int, list[Finding]] = {i: [] for i in ids}
    if ids:
        for fr in conn.execute(_FINDINGS_OF, {"ids": ids}):
            by_incident[fr.incident_id].append(_finding(fr))
    return [_incident(r, by_incident[r.id]) for r in rows]


def load_active(conn: Connection) -> list[Incident]:
    """Every unresolved incident with its findings, oldest first."""
    return _with_findings(conn, conn.execute(_ACTIVE).all())


def load(conn: Connection, incident_id: int) -> Incident | None:
    rows = conn.execute(_ONE, {"id": incident_id}).all()
    return _with_findings(conn, rows)[0] if rows else None


def list_incidents(
    conn: Connection, status: IncidentStatus | None = None, limit: int = 50
) -> list[Incident]:
    """The newest `limit` incidents (by `opened_at`), optionally of one status."""
    stmt = select(incidents_t)
    if status is not None:
        stmt = stmt.where(incidents_t.c.status == status.value)
    stmt = stmt.order_by(incidents_t.c.opened_at.desc(), incidents_t.c.id.desc()).limit(limit)
    return _with_findings(conn, conn.execute(stmt).all())


#: (cooldown key, resolved_at, last_finding_at, last finding of that key): what
#: `cooldowns_from` needs of one resolved incident.
CooldownRow = tuple[str, datetime | None, datetime, datetime | None]


def cooldown_rows(conn: Connection, cutoff: datetime) -> list[CooldownRow]:
    """The resolved incidents' keys that may still cool down at `cutoff` or later
    (resolved, or a finding of the key, at `cutoff` or later). Rows read for one cutoff
    answer correctly for any later one, until an incident resolves or a suppressed
    finding is attached."""
    i, f = incidents_t.c, findings_t.c
    rows = conn.execute(
        select(f.key, i.resolved_at, i.last_finding_at, func.max(f.at))
        .select_from(findings_t.join(incidents_t, f.incident_id == i.id))
        .where(
            i.status == IncidentStatus.RESOLVED.value,
            or_(i.resolved_at >= cutoff, f.at >= cutoff),
        )
        .group_by(f.key, i.id, i.resolved_at, i.last_finding_at)
    )
    return [tuple(row) for row in rows]


def cooldowns_from(
    rows: Iterable[CooldownRow],
    now: datetime,
    cooldown: timedelta,
    *,
    episode: timedelta | None = None,
) -> dict[str, datetime]:
    """Cooldown key -> end of its cooldown.

    A key cools down for `cooldown` after its incident resolved, and again after
    each recurrence that the cooldown suppressed (`attach_suppressed` records
    those on the resolved incident): a fault that keeps failing every hour is
    one page, not one page per hour.

    An incident that had been quiet for at least `episode` when it resolved (a
    storm resolved by its storm quiet period) sets no cooldown by resolving: its
    quiet period was already longer than any cooldown, and what fires after it
    is a new episode that must page.
    """
    if cooldown <= timedelta(0):
        return {}
    cutoff = now - cooldown
    out: dict[str, datetime] = {}
    for key, resolved, last_finding, last_seen in rows:
        if resolved is None:
            continue
        ended_episode = episode is not None and resolved - last_finding >= episode
        seen = [last_seen] if last_seen is not None else []
        if ended_episode:  # only a recurrence suppressed after it counts
            seen = [t for t in seen if t > resolved]
        else:
            seen.append(resolved)
        if not seen:
            continue
        last = max(seen)
        if last >= cutoff:  # inclusive, see grouping.plan_grouping
            out[key] = max(out.get(key, last + cooldown), last + cooldown)
    return out


def attach_suppressed(conn: Connection, finding: Finding) -> int | None:
    """Record a finding the cooldown suppressed on the resolved incident holding that
    cooldown (its most recent resolved incident with the same key); returns its id."""
    i, f = incidents_t.c, findings_t.c
    incident_id = conn.execute(
        select(i.id)
        .select_from(findings_t.join(incidents_t, f.incident_id == i.id))
        .where(f.key == finding.key, i.status == IncidentStatus.RESOLVED.value)
        .order_by(i.resolved_at.desc(), i.id.desc())
        .limit(1)
    ).scalar()
    if incident_id is not None:
        insert_findings(conn, incident_id, [finding])
    return incident_id


def incident_values(incident: Incident) -> dict[str, Any]:
    """The `incidents` columns of `incident` (without id and report)."""
    return {
        "status": incident.status.value,
        "severity": int(incident.severity),
        "title": incident.title,
        "opened_at": incident.opened_at,
        "updated_at": incident.updated_at,
        "last_finding_at": incident.last_finding_at,
        "resolved_at": incident.resolved_at,
        "services": list(incident.services),
        "hosts": list(incident.hosts),
        "root_service": incident.root.service if incident.root else None,
        "root_host": incident.root.host if incident.root else None,
        "blast_radius": list(incident.blast_radius),
        "bundle": None if incident.bundle is None else incident.bundle.to_json(),
    }


def insert_incident(conn: Connection, incident: Incident) -> int:
    """Write a new incident row (not its findings); returns its id."""
    result = conn.execute(insert(incidents_t).values(**incident_values(incident)))
    return int(result.inserted_primary_key[0])


def insert_findings(conn: Connection, incident_id: int, findings: Iterable[Finding]) -> None:
    rows = [
        {
            "incident_id": incident_id,
            "detector": f.detector,
            "key": f.key,
            "service": f.service,
            "host": f.host,
            "template_id": f.template_id,
            "kind": f.kind,
            "at": f.at,
            "started_at": f.started_at,
            "severity": int(f.severity),
            "summary": f.summary,
            "evidence": _json_safe(dict(f.evidence)),
        }
        for f in findings
    ]
    if rows:
        conn.execute(insert(findings_t), rows)


def as_stored(finding: Finding) -> Finding:
    """`finding` as `load` reads it back after `insert_findings` or
    `update_finding_evidence` wrote it (its evidence through JSON)."""
    return dataclasses.replace(finding, evidence=_json_safe(dict(finding.evidence)))


def update_finding_evidence(
    conn: Connection, incident_id: int, key: str, evidence: Mapping[str, Any]
) -> None:
    """Replace the evidence of the finding with cooldown key `key` in `incident_id` (the
    incident holds one finding per key while it is unresolved)."""
    conn.execute(
        update(findings_t)
        .where(findings_t.c.incident_id == incident_id, findings_t.c.key == key)
        .values(evidence=_json_safe(dict(evidence)))
    )


def update_unresolved(conn: Connection, incident_id: int, values: dict[str, Any]) -> bool:
    """Update columns of an incident that is still unresolved; False if it is not (any more)."""
    result = conn.execute(
        update(incidents_t)
        .where(
            incidents_t.c.id == incident_id,
            incidents_t.c.status != IncidentStatus.RESOLVED.value,
        )
        .values(**values)
    )
    return result.rowcount == 1


def claim_status(
    conn: Connection,
    incident_id: int,
    expected: IncidentStatus,
    wanted: IncidentStatus,
    now: datetime,
    *,
    quiet_since: datetime | None = None,
) -> bool:
    """Move an incident from `expected` to `wanted` if it is still `expected`.

    Returns True when this call made the change, False when the incident is
    in another status (someone else claimed it) or, with `quiet_since`, has
    had a finding after that moment. Raises IllegalTransition for a
    transition the lifecycle forbids.
    """
    expected.check_transition(wanted)
    values: dict[str, Any] = {"status": wanted.value, "updated_at": now}
    if wanted is IncidentStatus.RESOLVED:
        values["resolved_at"] = now
    conditions = [incidents_t.c.id == incident_id, incidents_t.c.status == expected.value]
    if quiet_since is not None:
        conditions.append(incidents_t.c.last_finding_at <= quiet_since)
    result = conn.execute(update(incidents_t).where(*conditions).values(**values))
    return result.rowcount == 1


def store_report(conn: Connection, incident_id: int, report: dict[str, Any]) -> bool:
    """Write `report` (a report's JSON) into the incident's `report` column, replacing any
    earlier one; False when there is no incident `incident_id`."""
    result = conn.execute(
        update(incidents_t).where(incidents_t.c.id == incident_id).values(report=report)
    )
    return result.rowcount == 1


def load_report_json(conn: Connection, incident_id: int) -> dict[str, Any] | None:
    """The report stored with incident `incident_id`, exactly as stored; None when it has
    none yet or there is no such incident (`load` tells which)."""
    return conn.execute(
        select(incidents_t.c.report).where(incidents_t.c.id == incident_id)
    ).scalar()
